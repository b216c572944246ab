"""Request and response schemas (pydantic), kept apart from the storage models in `api/models.py`."""
