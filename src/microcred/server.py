"""The one ASGI application `microcred serve` runs: the REST API and the web pages."""

from __future__ import annotations

import threading

from fastapi import FastAPI

from microcred import bootstrap
from microcred.api.app import create_app as create_api
from microcred.config import Settings
from microcred.web.app import install


def create_app(platform: bootstrap.Platform) -> FastAPI:
    app = create_api(platform)
    install(app, platform)
    return app


def app_factory() -> FastAPI:
    platform = bootstrap.build_platform(Settings())
    # the taxonomy's indexes take a second or two to build: build them before the first typeahead asks
    threading.Thread(target=platform.taxonomy.warm, name="taxonomy-warm", daemon=True).start()
    return create_app(platform)
