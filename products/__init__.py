"""The fund universe: data model, loaders and validation, analytics, research."""
