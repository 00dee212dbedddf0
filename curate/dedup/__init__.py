"""The corpus steps: duplicates and domain caps, decided over the whole corpus."""
