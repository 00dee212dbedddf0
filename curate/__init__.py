"""Corpus curation for Korean, Japanese and other languages: stages over Arrow tables."""

__version__ = "0.1.0"
