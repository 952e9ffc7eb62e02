"""`microcred serve`: the ASGI application built from settings."""

from __future__ import annotations

from fastapi import FastAPI

from microcred import bootstrap
from microcred.api.app import create_app
from microcred.config import Settings


def app_factory() -> FastAPI:
    return create_app(bootstrap.build_platform(Settings()))
