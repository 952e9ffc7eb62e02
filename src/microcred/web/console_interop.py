"""Console pages for talking to other systems (organisation admins): webhook subscriptions with their
deliveries, attempts, test pings and replays; and migrating an issuer from an Open Badges 2.0
platform (a dry run first, then the run, from one upload)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from microcred.errors import InputError, MicrocredError
from microcred.services.interop.webhooks import EVENTS
from microcred.services.issuing import NotFound
from microcred.services.web_accounts import SessionUser
from microcred.web.console import _save, scope
from microcred.web.core import Web, field

ADMINS = ("issuer_admin",)
UPLOAD = re.compile(r"^[0-9a-f-]{36}$")


def install(app: FastAPI, web: Web) -> None:
    _install_webhooks(app, web)
    _install_migration(app, web)


def _install_webhooks(app: FastAPI, web: Web) -> None:
    platform = web.platform
    hooks = platform.webhooks

    def admin(request: Request) -> SessionUser:
        return web.require(request, *ADMINS)

    def list_page(request: Request, user: SessionUser, status: int = 200, **extra: Any) -> Response:
        organisations = _organisations(platform) if user.role == "platform_admin" else []
        return web.render(request, "console_webhooks.html", status, title="Webhooks",
                          subscriptions=hooks.subscriptions(scope(user)), events=EVENTS,
                          organisations=organisations, **extra)  # fmt: skip

    @app.get("/console/webhooks", include_in_schema=False)
    def webhooks_page(request: Request) -> Response:
        return list_page(request, admin(request))

    @app.post("/console/webhooks", include_in_schema=False)
    async def subscribe(request: Request) -> Response:
        user = admin(request)
        form = await web.form(request)
        chosen = [e for e in form.getlist("events") if isinstance(e, str)]
        organisation = user.organisation_id
        if user.role == "platform_admin":
            found = next((o for o in _organisations(platform) if o.slug == field(form, "organisation")), None)
            organisation = found.id if found else None
        try:
            if organisation is None:
                raise InputError("choose the organisation the webhook is for")
            if not chosen:
                raise InputError("choose at least one event")
            new = await run_in_threadpool(hooks.subscribe, organisation, field(form, "url"), chosen,
                                          field(form, "description") or None, user.email)  # fmt: skip
        except MicrocredError as exc:
            return list_page(request, user, 422, error=exc.message, url=field(form, "url"))
        return list_page(request, user, created=new)

    @app.get("/console/webhooks/{subscription_id}", include_in_schema=False)
    def subscription_page(request: Request, subscription_id: str, state: str = "", page: int = 1) -> Response:
        user = admin(request)
        row = hooks.subscription(subscription_id, scope(user))
        deliveries, total = hooks.deliveries(subscription_id, scope(user), state=state or None, page=max(1, page))
        return web.render(request, "console_webhook.html", title="Webhook", subscription=row,
                          events=json.loads(row.events), deliveries=deliveries, total=total, state=state,
                          page=max(1, page))  # fmt: skip

    @app.get("/console/webhooks/deliveries/{delivery_id}", include_in_schema=False)
    def delivery_page(request: Request, delivery_id: str) -> Response:
        user = admin(request)
        row, attempts = hooks.delivery(delivery_id, scope(user))
        return web.render(request, "console_webhook_delivery.html", title="Webhook delivery", delivery=row,
                          attempts=attempts, body=json.dumps(json.loads(row.body), indent=2))  # fmt: skip

    @app.post("/console/webhooks/deliveries/{delivery_id}/replay", include_in_schema=False)
    async def replay(request: Request, delivery_id: str) -> Response:
        user = admin(request)
        await web.form(request)
        try:
            attempt = await run_in_threadpool(hooks.replay, delivery_id, scope(user), user.email)
        except InputError as exc:
            return web.redirect(f"/console/webhooks/deliveries/{delivery_id}", exc.message)
        return web.redirect(f"/console/webhooks/deliveries/{delivery_id}", _said(attempt))

    @app.post("/console/webhooks/{subscription_id}/{action}", include_in_schema=False)
    async def act(request: Request, subscription_id: str, action: str) -> Response:
        user = admin(request)
        await web.form(request)
        back = f"/console/webhooks/{subscription_id}"
        if action == "test":
            attempt = await run_in_threadpool(hooks.ping, subscription_id, scope(user), user.email)
            return web.redirect(back, f"Test event sent: {_said(attempt)}")
        if action in ("enable", "disable"):
            hooks.update(subscription_id, scope(user), user.email, enabled=action == "enable")
            return web.redirect(back, "Sending resumed." if action == "enable" else "Sending paused.")
        if action == "rotate":
            secret = hooks.rotate_secret(subscription_id, scope(user), user.email)
            row = hooks.subscription(subscription_id, scope(user))
            return list_page(request, user, rotated=(row, secret))
        if action == "delete":
            hooks.delete(subscription_id, scope(user), user.email)
            return web.redirect("/console/webhooks", "The webhook and its delivery log were deleted.")
        raise NotFound(f"no action {action!r}")


def _said(attempt: Any) -> str:
    return f"the receiver answered HTTP {attempt.status}." if attempt.status else f"not delivered: {attempt.error}"


def _organisations(platform: Any) -> list[Any]:
    with platform.runtime.db.read() as repo:
        return repo.organisations()  # type: ignore[no-any-return]


def _forget_old_uploads(folder: Any, hours: int = 24) -> None:
    """Exports checked but never migrated do not stay on disk for ever."""
    import time

    for path in folder.glob("migration-*.upload") if folder.exists() else []:
        if path.stat().st_mtime < time.time() - hours * 3600:
            path.unlink(missing_ok=True)


def _install_migration(app: FastAPI, web: Web) -> None:
    platform = web.platform
    folder = platform.settings.data_dir / "uploads"

    def issuers_for(user: SessionUser) -> list[Any]:
        return [i for i in platform.issuers.list() if user.principal.may_see(i.organisation_id)]

    def page(request: Request, user: SessionUser, status: int = 200, **extra: Any) -> Response:
        return web.render(request, "console_migrate.html", status, title="Migrate from Open Badges 2.0",
                          issuers=issuers_for(user), **extra)  # fmt: skip

    def run(user: SessionUser, slug: str, upload: str, dry_run: bool) -> Any:
        if slug not in {i.slug for i in issuers_for(user)}:
            raise NotFound(f"no issuer {slug!r}")
        path = folder / f"migration-{upload}.upload"
        if not UPLOAD.match(upload) or not path.exists():
            raise InputError("that upload is gone (uploads are kept for one migration); choose the file again")
        report = platform.migration.migrate(slug, path.read_bytes(), dry_run=dry_run, actor=user.email)
        if not dry_run:
            path.unlink(missing_ok=True)
        return report

    @app.get("/console/migrate", include_in_schema=False)
    def migrate_page(request: Request) -> Response:
        return page(request, web.require(request, *ADMINS))

    @app.post("/console/migrate", include_in_schema=False)
    async def check(request: Request) -> Response:
        user = web.require(request, *ADMINS)
        form = await web.form(request)
        chosen, slug = form.get("file"), field(form, "issuer")
        if chosen is None or isinstance(chosen, str) or not chosen.filename:
            return page(request, user, 422, error="Choose the export file (Badgr JSON or CSV).")
        _forget_old_uploads(folder)
        upload = str(uuid.uuid4())
        await _save(chosen, folder / f"migration-{upload}.upload")
        try:
            report = await run_in_threadpool(run, user, slug, upload, True)
        except MicrocredError as exc:
            (folder / f"migration-{upload}.upload").unlink(missing_ok=True)
            return page(request, user, 422, error=exc.message)
        return page(request, user, report=report.to_json(), upload=upload, issuer=slug, name=chosen.filename)

    @app.post("/console/migrate/{upload}", include_in_schema=False)
    async def migrate(request: Request, upload: str) -> Response:
        user = web.require(request, *ADMINS)
        form = await web.form(request)
        try:
            report = await run_in_threadpool(run, user, field(form, "issuer"), upload, False)
        except MicrocredError as exc:
            return page(request, user, 422, error=exc.message)
        return page(request, user, report=report.to_json(), issuer=field(form, "issuer"), done=True)
