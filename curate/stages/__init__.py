"""The batch stages: each turns a table of documents into a table of documents."""
