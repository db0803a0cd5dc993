"""The HTTP API under /v1 (FastAPI): thin over the services, scoped to the caller's BU."""
