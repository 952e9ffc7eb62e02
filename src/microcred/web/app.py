"""Mounts the pages, the static files and the HTML error pages onto the application."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.staticfiles import StaticFiles

from microcred import bootstrap
from microcred.web import (
    accounts,
    catalogue,
    connections,
    console,
    console_interop,
    designer,
    learner_skills,
    pathways,
    public,
    talent,
    wallet,
)
from microcred.web.core import Web, middleware


def install(app: FastAPI, platform: bootstrap.Platform) -> Web:
    web = Web(platform)
    app.state.web = web
    app.state.html_error = web.error_page
    app.add_middleware(BaseHTTPMiddleware, dispatch=middleware(web))
    static = resources.files("microcred.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (
        accounts,
        public,
        catalogue,
        wallet,
        designer,
        console,
        pathways,
        talent,
        learner_skills,
        connections,
        console_interop,
    ):
        module.install(app, web)
    return web
