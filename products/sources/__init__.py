"""Readers for source data layouts (the shared raw files, bank shelf tables)."""
