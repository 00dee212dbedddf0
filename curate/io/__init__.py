"""Reading inputs and writing outputs: files, archives, schema."""
