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


WEBHOOK_ROUND_SECONDS = 5.0


def app_factory() -> FastAPI:
    platform = bootstrap.build_platform(Settings())
    # the taxonomy's indexes take a second or two to build: build them before the first typeahead asks
    threading.Thread(target=platform.taxonomy.warm, name="taxonomy-warm", daemon=True).start()
    if platform.settings.webhook_dispatch:
        threading.Thread(target=_send_webhooks, args=(platform,), name="webhooks", daemon=True).start()
    return create_app(platform)


def _send_webhooks(platform: bootstrap.Platform) -> None:
    """The background sender: a round every few seconds; a round that fails is logged and the next one
    tries again (every process may run this: scans and sends are safe to run side by side)."""
    import logging

    log = logging.getLogger("microcred.webhooks")
    while True:
        try:
            platform.webhooks.run_once()
        except Exception:  # a database hiccup must not end the sender for the life of the server
            log.exception("webhook round failed; trying again in %s s", WEBHOOK_ROUND_SECONDS)
        threading.Event().wait(WEBHOOK_ROUND_SECONDS)
