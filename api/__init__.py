"""The FastAPI service: routers, schemas, auth, persistence, settings."""
