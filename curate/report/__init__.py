"""What a curated folder holds: statistics, the report, inspect and compare."""
