"""The issuer console: dashboard, awards (search, revoke, suspend), bulk awards with live progress,
issuer profile and keys, API tokens, staff invitations and the audit log."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from microcred.errors import ForbiddenError, InputError, MicrocredError
from microcred.services.accounts import ROLES
from microcred.services.audit_views import AREAS, audit_line
from microcred.services.issuing import NotFound
from microcred.services.web_accounts import STAFF_ROLES, SessionUser
from microcred.storage.web_queries import AwardFilter
from microcred.web.core import Web, field

PAGE = 50
AUDIT_PAGE = 50
STATUSES = ("active", "revoked", "suspended", "expired", "claimed", "unclaimed")


def scope(user: SessionUser) -> int | None:
    return None if user.role == "platform_admin" else user.organisation_id


def weekly(dates: list[Any], now: Any, weeks: int = 12) -> list[tuple[str, int]]:
    start = now - timedelta(weeks=weeks)
    counts = Counter(min(weeks - 1, int((d - start).days // 7)) for d in dates if d >= start)
    return [((start + timedelta(weeks=i)).strftime("%d %b"), counts.get(i, 0)) for i in range(weeks)]


def chart_svg(series: list[tuple[str, int]]) -> dict[str, Any]:
    """Bars for an inline SVG chart (drawn by the template; a table carries the same numbers)."""
    top = max([n for _, n in series] + [1])
    width = 560 / len(series)
    bars = [
        {
            "x": round(i * width + 6, 1),
            "w": round(width - 12, 1),
            "h": round(150 * n / top, 1),
            "y": round(170 - 150 * n / top, 1),
            "label": label,
            "n": n,
        }
        for i, (label, n) in enumerate(series)
    ]
    return {"bars": bars, "top": top}


def top_skills(rows: list[tuple[str, int]], limit: int = 8) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for definition, n in rows:
        for skill in json.loads(definition).get("skills", []):
            counts[skill["label"]] += n
    return counts.most_common(limit)


def install(app: FastAPI, web: Web) -> None:
    _dashboard(app, web)
    _awards(app, web)
    _bulk(app, web)
    _settings(app, web)


def _dashboard(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/console", include_in_schema=False)
    def dashboard(request: Request) -> Response:
        user = web.staff(request)
        org = scope(user)
        now = platform.runtime.clock.now()
        with platform.runtime.db.read() as repo:
            totals = repo.award_totals(org)
            series = weekly(repo.award_dates(org, now - timedelta(weeks=12)), now)
            skills = top_skills(repo.awards_per_version(org))
            catalogue = repo.catalogue(org)
        return web.render(
            request, "console_dashboard.html", title="Dashboard", totals=totals, series=series, chart=chart_svg(series),
            skills=skills, microcredentials=len(catalogue),
        )  # fmt: skip


def _awards(app: FastAPI, web: Web) -> None:
    platform = web.platform

    def award_in_scope(user: SessionUser, award_id: str) -> tuple[Any, str, Any]:
        with platform.runtime.db.read() as repo:
            found = repo.award_with_microcredential(award_id)
            issuer = repo.issuer(found[0].issuer_id) if found else None
            token = repo.claim_token_for(award_id) if found else None
        if found is None or issuer is None or not user.principal.may_see(issuer.organisation_id):
            raise NotFound(f"no award {award_id!r}")
        return found[0], found[1], (issuer, token)

    @app.get("/console/awards", include_in_schema=False)
    def awards(request: Request, q: str = "", microcredential: str = "", status: str = "", page: int = 1) -> Response:
        user = web.staff(request)
        page = max(1, min(page, 100_000))
        where = AwardFilter(
            scope(user),
            q[:200] or None,
            microcredential or None,
            status if status in STATUSES else None,
            platform.runtime.clock.now(),
        )
        with platform.runtime.db.read() as repo:
            total, rows = repo.search_awards(where, limit=PAGE, offset=(page - 1) * PAGE)
            names = {mc.id: json.loads(d)["name"] for mc, _i, d, _n in repo.catalogue(scope(user))}
        return web.render(
            request, "console_awards.html", title="Awards", rows=rows, names=names, total=total, page=page,
            pages=max(1, -(-total // PAGE)), q=q, microcredential=microcredential, status_filter=status, statuses=STATUSES,
            now=platform.runtime.clock.now(),
        )  # fmt: skip

    @app.get("/console/awards/{award_id}", include_in_schema=False)
    def award(request: Request, award_id: str) -> Response:
        user = web.staff(request)
        row, mc_id, (issuer, token) = award_in_scope(user, award_id)
        name = platform.catalog.get(mc_id).definition.name
        return web.render(
            request,
            "console_award_detail.html",
            title="Award",
            award=row,
            mc_id=mc_id,
            mc_name=name,
            issuer=issuer,
            claim=token,
            url=platform.awards.credential_url(row.id),
            now=platform.runtime.clock.now(),
            suspendable=platform.awards.suspendable(row.id),
        )

    @app.post("/console/awards/{award_id}/{action}", include_in_schema=False)
    async def change(request: Request, award_id: str, action: str) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        row, mc_id, (issuer, _token) = award_in_scope(user, award_id)
        reason = form.get("reason")
        reason = reason.strip()[:1000] if isinstance(reason, str) and reason.strip() else None
        back = f"/console/awards/{award_id}"
        if action == "resend":
            if row.revoked_at is not None or row.claimed_at is not None:
                return web.redirect(back, "There is nothing to claim: the credential is revoked or already claimed.")
            name = platform.catalog.get(mc_id).definition.name
            platform.web_accounts.notify_award(
                row.id, row.recipient_email, name, issuer.name, platform.runtime.base_url
            )
            return web.redirect(back, f"A new link was sent to {row.recipient_email}.")
        if action not in ("revoke", "suspend", "unsuspend"):
            raise NotFound(f"no action {action!r}")
        if action in ("revoke", "suspend") and not reason:
            return web.redirect(back, "Give a reason: the learner and the audit log will see it.")
        if action == "revoke" and form.get("confirm") != "yes":
            return web.redirect(back, "Nothing was revoked: tick the box to confirm that revoking is final.")
        try:
            getattr(platform.awards, action)(award_id, reason, actor=user.email)
        except MicrocredError as exc:
            return web.redirect(back, exc.message)
        done = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "reinstated"}[action]
        return web.redirect(back, f"The credential is {done}; verifiers see it within a minute.")


def _bulk(app: FastAPI, web: Web) -> None:
    platform = web.platform

    def job_json(user: SessionUser, job_id: str) -> dict[str, Any]:
        with platform.runtime.db.read() as repo:
            job = repo.bulk_job(job_id)
            if job is None or not user.principal.may_see(job.organisation_id):
                raise NotFound(f"no bulk job {job_id!r}")
            errors = [{"line": e.line, "reason": e.reason, "row": e.row} for e in repo.bulk_errors(job_id, limit=200)]
            return {
                "id": job.id, "state": job.state, "total": job.total, "processed": job.processed, "issued": job.issued,
                "skipped": job.skipped, "failed": job.failed, "message": job.message, "errors": errors,
            }  # fmt: skip

    @app.get("/console/bulk", include_in_schema=False)
    def bulk_page(request: Request) -> Response:
        user = web.staff(request)
        with platform.runtime.db.read() as repo:
            items = repo.catalogue(scope(user))
        options = [(mc.id, json.loads(d)["name"]) for mc, _i, d, _n in items]
        return web.render(request, "console_bulk.html", title="Bulk award", options=options)

    @app.post("/console/bulk", include_in_schema=False)
    async def bulk_start(request: Request) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        upload = form.get("file")
        microcredential = form.get("microcredential")
        microcredential = microcredential if isinstance(microcredential, str) and microcredential else None
        if upload is None or isinstance(upload, str) or not upload.filename:
            return web.redirect("/console/bulk", "Choose a CSV file to upload.")
        if microcredential is not None:
            with platform.runtime.db.read() as repo:
                allowed = {mc.id for mc, _i, _d, _n in repo.catalogue(scope(user))}
            if microcredential not in allowed:
                raise NotFound(f"no microcredential {microcredential!r}")
        target = (
            platform.settings.data_dir
            / "uploads"
            / f"{uuid.uuid4()}{'.jsonl' if upload.filename.endswith('.jsonl') else '.csv'}"
        )
        await _save(upload, target)
        job_id = platform.bulk.start(
            target, microcredential=microcredential, actor=user.email, organisation_id=user.organisation_id,
            on_issued=lambda pending: platform.web_accounts.notify_pending(pending, platform.runtime.base_url),
        )  # fmt: skip
        return web.redirect(f"/console/bulk/{job_id}")

    @app.get("/console/bulk/{job_id}", include_in_schema=False)
    def bulk_job(request: Request, job_id: str) -> Response:
        user = web.staff(request)
        return web.render(request, "console_bulk_job.html", title="Bulk award progress", job=job_json(user, job_id))

    @app.get("/console/bulk/{job_id}/progress.json", include_in_schema=False)
    def bulk_progress(request: Request, job_id: str) -> Response:
        return JSONResponse(job_json(web.staff(request), job_id), headers={"Cache-Control": "no-store"})

    @app.get("/console/bulk/{job_id}/errors.csv", include_in_schema=False)
    def bulk_errors(request: Request, job_id: str) -> Response:
        user = web.staff(request)
        job_json(user, job_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "reason", "row"])
        with platform.runtime.db.read() as repo:
            for error in repo.bulk_errors(job_id, limit=1_000_000):
                writer.writerow([error.line, error.reason, error.row])
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="bulk-{job_id}-errors.csv"'},
        )


async def _save(upload: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with target.open("wb") as handle:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > 200 * 1024 * 1024:
                    raise InputError("the upload is larger than 200 MB")
                handle.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _settings(app: FastAPI, web: Web) -> None:
    platform = web.platform

    def admin(request: Request) -> SessionUser:
        return web.require(request, "issuer_admin")

    def issuer_in_scope(user: SessionUser, slug: str) -> Any:
        issuer = next((i for i in platform.issuers.list() if i.slug == slug), None)
        if issuer is None or not user.principal.may_see(issuer.organisation_id):
            raise NotFound(f"no issuer {slug!r}")
        return issuer

    @app.get("/console/issuers", include_in_schema=False)
    def issuers(request: Request) -> Response:
        user = web.staff(request)
        found = [i for i in platform.issuers.list() if user.principal.may_see(i.organisation_id)]
        return web.render(request, "console_issuers.html", title="Issuers", issuers=found)

    @app.get("/console/issuers/{slug}", include_in_schema=False)
    def issuer_page(request: Request, slug: str) -> Response:
        user = web.staff(request)
        issuer = issuer_in_scope(user, slug)
        return web.render(
            request,
            "console_issuer.html",
            title=issuer.name,
            issuer=issuer,
            keys=platform.issuers.keys(slug),
            values=None,
        )

    @app.post("/console/issuers/{slug}/logo", include_in_schema=False)
    async def issuer_logo(request: Request, slug: str) -> Response:
        user = admin(request)
        issuer_in_scope(user, slug)
        form = await web.form(request)
        upload = form.get("logo")
        back = f"/console/issuers/{slug}"
        if upload is None or isinstance(upload, str) or not upload.filename:
            return web.redirect(back, "Choose a PNG or SVG file first.")
        try:
            platform.issuers.set_logo(slug, await upload.read(512 * 1024 + 1), actor=user.email)
        except InputError as exc:
            return web.redirect(back, f"The logo was not used: {exc.message}.")
        return web.redirect(back, "The logo is updated: credentials awarded from now on show it.")

    @app.post("/console/issuers/{slug}", include_in_schema=False)
    async def issuer_save(request: Request, slug: str) -> Response:
        user = admin(request)
        issuer_in_scope(user, slug)
        form = await web.form(request)
        values = {k: field(form, k) for k in ("name", "country", "url", "email", "description", "colour")}
        try:
            platform.issuers.update_profile(
                slug, name=values["name"], country=values["country"], url=values["url"] or None, email=values["email"] or None,
                description=values["description"] or None, colour=values["colour"] or None, actor=user.email,
            )  # fmt: skip
        except MicrocredError as exc:
            issuer = issuer_in_scope(user, slug)
            return web.render(
                request,
                "console_issuer.html",
                422,
                title=issuer.name,
                issuer=issuer,
                keys=platform.issuers.keys(slug),
                values=values,
                error=exc.message,
            )
        return web.redirect(f"/console/issuers/{slug}", "The profile is saved; new awards carry it.")

    @app.post("/console/issuers/{slug}/rotate", include_in_schema=False)
    async def rotate(request: Request, slug: str) -> Response:
        user = admin(request)
        issuer_in_scope(user, slug)
        await web.form(request)
        key_id = platform.issuers.rotate_key(slug, actor=user.email)
        return web.redirect(
            f"/console/issuers/{slug}", f"New signing key {key_id}; credentials signed with older keys still verify."
        )

    def visible_tokens(user: SessionUser) -> list[Any]:
        """Admins see their organisation's tokens; staff only their own."""
        with platform.runtime.db.read() as repo:
            return repo.tokens_of(scope(user), None if user.role in ("platform_admin", "issuer_admin") else user.id)

    def tokens_page(request: Request, user: SessionUser, new: Any = None) -> Response:
        return web.render(
            request, "console_tokens.html", title="API tokens", tokens=visible_tokens(user), roles=_token_roles(user),
            new_token=new, now=platform.runtime.clock.now(),
        )  # fmt: skip

    @app.get("/console/tokens", include_in_schema=False)
    def tokens(request: Request) -> Response:
        return tokens_page(request, web.staff(request))

    @app.post("/console/tokens", include_in_schema=False)
    async def token_create(request: Request) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        role = form.get("role") if isinstance(form.get("role"), str) else user.role
        try:
            days = int(str(form.get("days") or "90"))
            if role not in _token_roles(user):
                raise ForbiddenError(f"you cannot create a {role} token")
            new = platform.accounts.create_token(user.email, str(role), days=days, actor=user.email)
        except (ValueError, MicrocredError) as exc:
            return web.redirect("/console/tokens", getattr(exc, "message", "the lifetime must be a number of days"))
        return tokens_page(request, user, new)

    @app.post("/console/tokens/{prefix}/revoke", include_in_schema=False)
    async def token_revoke(request: Request, prefix: str) -> Response:
        user = web.staff(request)
        await web.form(request)
        mine = {t.prefix for t in visible_tokens(user)}
        if prefix not in mine:
            raise NotFound(f"no token {prefix}")
        platform.accounts.revoke_token(prefix, actor=user.email)
        return web.redirect("/console/tokens", f"Token {prefix}… is revoked.")

    @app.get("/console/audit", include_in_schema=False)
    def audit(request: Request, q: str = "", area: str = "", actor: str = "", page: int = 1) -> Response:
        """The organisation's log for all its staff (a platform admin sees everything): search, filter, pages."""
        user = web.staff(request)
        page = max(1, min(page, 100_000))
        area = area if area in AREAS else ""
        with platform.runtime.db.read() as repo:
            events, total = repo.audit_search(
                scope(user), text=q.strip()[:200] or None, area=area or None, actor=actor.strip()[:320] or None,
                limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE,
            )  # fmt: skip
        pages = max(1, -(-total // AUDIT_PAGE))
        return web.render(
            request, "console_audit.html", title="Audit log", lines=[audit_line(e) for e in events], total=total,
            page=page, pages=pages, q=q[:200], area=area, actor=actor[:320], areas=AREAS,
            query=urlencode({k: v for k, v in (("q", q), ("area", area), ("actor", actor)) if v}),
        )  # fmt: skip

    @app.get("/console/audit.csv", include_in_schema=False)
    def audit_csv(request: Request, q: str = "", area: str = "", actor: str = "") -> Response:
        user = web.staff(request)
        with platform.runtime.db.read() as repo:
            events, _total = repo.audit_search(
                scope(user), text=q.strip()[:200] or None, area=area if area in AREAS else None,
                actor=actor.strip()[:320] or None, limit=50_000,
            )  # fmt: skip
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["time (UTC)", "who", "what", "action", "subject", "details"])
        for line in map(audit_line, events):
            writer.writerow([
                line.at.strftime("%Y-%m-%d %H:%M:%S"), line.actor, line.what, line.action, line.subject or "",
                "; ".join(f"{k}: {v}" for k, v in line.details),
            ])  # fmt: skip
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})  # fmt: skip

    @app.get("/console/staff", include_in_schema=False)
    def staff(request: Request) -> Response:
        user = admin(request)
        with platform.runtime.db.read() as repo:
            users = repo.users_of(scope(user))
        orgs = [o for o in platform.issuers.organisations() if user.principal.may_see(o.id)]
        return web.render(request, "console_staff.html", title="Staff", users=users, orgs=orgs, roles=STAFF_ROLES)

    @app.post("/console/staff", include_in_schema=False)
    async def invite(request: Request) -> Response:
        user = admin(request)
        form = await web.form(request)
        email, role, org = (str(form.get(k) or "").strip() for k in ("email", "role", "organisation"))
        try:
            platform.web_accounts.invite(user.principal, email, role, org, f"{platform.runtime.base_url}/invite")
        except MicrocredError as exc:
            return web.redirect("/console/staff", f"Not invited: {exc.message}")
        return web.redirect("/console/staff", f"Invitation sent to {email}.")


def _token_roles(user: SessionUser) -> list[str]:
    if user.role == "platform_admin":
        return [r for r in ROLES if r != "learner"]
    if user.role == "issuer_admin":
        return ["issuer_admin", "issuer_staff"]
    return [user.role]
