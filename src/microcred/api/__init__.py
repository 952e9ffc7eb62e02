"""The HTTP edge (FastAPI)."""
