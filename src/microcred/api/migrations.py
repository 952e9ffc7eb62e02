"""REST API for migrating an issuer from an Open Badges 2.0 platform (organisation admins)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from microcred import bootstrap
from microcred.api.auth import Auth, issuer_in_scope, require
from microcred.api.ob3 import read_body

MAX_EXPORT = 11 * 1024 * 1024


def install(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.post("/api/v1/issuers/{slug}/migrations", tags=["migration"])
    async def migrate(slug: str, request: Request, who: Auth, dry_run: bool = True) -> dict[str, Any]:
        """Re-issue a Badgr export (JSON), OB 2.0 BadgeClasses and Assertions, or a CSV of awards as OB 3.0
        credentials citing the originals. `dry_run` (the default) reports and changes nothing."""
        require(who, "issuer_admin")
        await run_in_threadpool(issuer_in_scope, platform, who, slug)
        data = await read_body(request, MAX_EXPORT)
        report = await run_in_threadpool(
            lambda: platform.migration.migrate(slug, data, dry_run=dry_run, actor=who.email)
        )
        return report.to_json()
