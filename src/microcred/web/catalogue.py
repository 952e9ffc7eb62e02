"""Each published microcredential's public page: what its credentials' achievement id names.

`/microcredentials/{id}` (the current version) and `/microcredentials/{id}/v{n}` (the id inside every
credential of version n) answer people with a page and machines with the Achievement as JSON-LD."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI, Request
from fastapi.responses import Response

from microcred.services.issuing import NotFound
from microcred.web.core import Web
from microcred.web.public import LD_JSON, wants_html

VERSION = re.compile(r"v([1-9][0-9]{0,5})")


def install(app: FastAPI, web: Web) -> None:
    platform = web.platform

    def page(request: Request, mc_id: str, version: int | None) -> Response:
        if not wants_html(request):
            document = platform.awards.achievement_document(mc_id, version)
            return Response(json.dumps(document, ensure_ascii=False), media_type=LD_JSON,
                            headers={"Cache-Control": "public, max-age=300", "Vary": "Accept"})  # fmt: skip
        entry, issuer, current = platform.catalog.published(mc_id, version)
        offer = platform.learning.catalogue().get(mc_id)
        prerequisites = [
            (ref, platform.catalog.get(ref).definition.name) for ref in entry.definition.prerequisite_microcredentials
        ]
        response = web.render(
            request, "microcredential.html", title=entry.definition.name, entry=entry, d=entry.definition,
            issuer=issuer, current=current, offer=offer.offer if offer else None, prerequisites=prerequisites,
        )  # fmt: skip
        response.headers["Vary"] = "Accept"
        return response

    @app.get("/microcredentials/{mc_id}", include_in_schema=False)
    def current(request: Request, mc_id: str) -> Response:
        return page(request, mc_id, None)

    @app.get("/microcredentials/{mc_id}/{version_ref}", include_in_schema=False)
    def versioned(request: Request, mc_id: str, version_ref: str) -> Response:
        found = VERSION.fullmatch(version_ref)
        if found is None:
            raise NotFound(f"no page {version_ref!r} of microcredential {mc_id!r}")
        return page(request, mc_id, int(found.group(1)))
