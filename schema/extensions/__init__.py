"""Schema extensions, one per file."""
