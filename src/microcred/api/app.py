"""The HTTP edge: the REST API under /api/v1 and the public documents (DIDs, status lists, credentials).

Thin: parse, authorize, call a service, render. Another organisation's object answers 404.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from microcred import bootstrap
from microcred.api import errors, migrations, ob3, pathways, skills, vcapi, webhooks
from microcred.api.auth import Auth, issuer_in_scope
from microcred.api.auth import require as _require
from microcred.api.schemas import AwardIn, IssuerIn, MicrocredentialIn, PublishIn, StatusChangeIn
from microcred.errors import InputError
from microcred.services.accounts import Principal
from microcred.services.awarding import AwardRequest
from microcred.services.issuing import NotFound, did_document, parse_definition
from microcred.standards import rollup, safejson
from microcred.storage.models import INTEGER_MAX

MAX_BODY = 11 * 1024 * 1024
STATUS_MAX_AGE = 60
LD_JSON = "application/ld+json"


def create_app(platform: bootstrap.Platform) -> FastAPI:
    app = FastAPI(
        title="microcred", version="1", openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None
    )
    app.state.platform = platform
    errors.install(app)
    _public_routes(app, platform)
    _api_routes(app, platform)
    vcapi.install(app, platform)
    pathways.install(app, platform)
    skills.install(app, platform)
    webhooks.install(app, platform)
    ob3.install(app, platform)
    migrations.install(app, platform)
    return app


# -- public documents --------------------------------------------------------
def _public_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.get("/.well-known/did.json", include_in_schema=False)
    def platform_did() -> JSONResponse:
        return JSONResponse(
            platform.identity.did_document(),
            media_type="application/did+ld+json",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/issuers/{slug}/did.json", include_in_schema=False)
    def issuer_did(slug: str) -> JSONResponse:
        with platform.runtime.db.read() as repo:
            issuer = repo.issuer_by_slug(slug)
            if issuer is None:
                raise NotFound(f"no issuer {slug!r}")
            return JSONResponse(
                did_document(repo, issuer),
                media_type="application/did+ld+json",
                headers={"Cache-Control": "public, max-age=300"},
            )

    @app.get("/status/{slug}/{purpose}/{sequence}", include_in_schema=False)
    def status_list(
        slug: str, purpose: str, request: Request, sequence: int = PathParam(ge=0, le=INTEGER_MAX)
    ) -> JSONResponse:
        if purpose not in ("revocation", "suspension", "message"):
            raise NotFound(f"no status purpose {purpose!r}")
        credential = platform.awards.status_list_credential(slug, purpose, sequence)
        return JSONResponse(
            credential,
            media_type=_json_media_type(request),
            headers={"Cache-Control": f"public, max-age={STATUS_MAX_AGE}"},
        )

    @app.get("/contexts/eu-microcredential-v1.jsonld", include_in_schema=False)
    def eu_context() -> Response:
        data = resources.files("microcred.standards.contexts").joinpath("microcred-eu-v1.jsonld").read_bytes()
        return Response(data, media_type=LD_JSON, headers={"Cache-Control": "public, max-age=31536000, immutable"})


# -- the REST API --------------------------------------------------------------
def _api_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    _verify_routes(app, platform)
    _catalog_routes(app, platform)
    _award_routes(app, platform)
    _admin_routes(app, platform)


def _verify_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    # The platform's verifier (one per process: its compiled contexts are what make verification fast).
    service = platform.credentials

    @app.post("/api/v1/verify", tags=["verify"])
    async def verify(request: Request) -> JSONResponse:
        """Verify a credential: JSON body, a compact JWT as text/plain, a PNG/SVG upload, or {"url": ...}."""
        data = await _verify_input(request)
        if isinstance(data, str) and data.startswith("https://"):
            # Our own credentials from the database; other sites only when the operator allows fetching.
            data = await run_in_threadpool(platform.retrieval.fetch, data)  # never block the event loop on I/O
        # CPU-bound and bounded (1 MB inputs are decided in well under a second): run inline,
        # which is faster than a thread hop; only the network fetch above leaves the loop.
        return JSONResponse(service.verify(data).to_json())

    @app.post("/api/v1/verify/with-parts", tags=["verify"])
    async def verify_with_parts(request: Request) -> JSONResponse:
        """Verify a roll-up and the parts it cites: {"credential": ..., "parts": [...]} (objects or JWTs)."""
        body = await request.body()
        if len(body) > MAX_BODY:
            raise InputError("the request body is larger than 10 MB")
        data = safejson.parse(body)
        parts = data.get("parts", []) if isinstance(data, dict) else None
        if not isinstance(data, dict) or "credential" not in data or not isinstance(parts, list) or len(parts) > 100:
            raise InputError('send {"credential": ..., "parts": [...]} with at most 100 parts')
        return JSONResponse(rollup.verify_with_parts(service.verifier, data["credential"], parts).to_json())


def _catalog_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.get("/api/v1/issuers", tags=["issuers"])
    def list_issuers(who: Auth) -> list[dict[str, Any]]:
        return [_issuer_json(i) for i in platform.issuers.list() if who.may_see(i.organisation_id)]

    @app.post("/api/v1/issuers", status_code=201, tags=["issuers"])
    def create_issuer(body: IssuerIn, who: Auth) -> dict[str, Any]:
        _require(who)
        issuer = platform.issuers.create(
            name=body.name,
            slug=body.slug,
            country=body.country,
            url=body.url,
            email=body.email,
            description=body.description,
            organisation=body.organisation,
            parent=body.parent,
            suite=body.suite,
            actor=who.email,
        )
        return _issuer_json(issuer)

    @app.get("/api/v1/organisations", tags=["issuers"])
    def organisations(who: Auth) -> list[dict[str, Any]]:
        return [{"slug": o.slug, "name": o.name} for o in platform.issuers.organisations() if who.may_see(o.id)]

    @app.get("/api/v1/issuers/{slug}/keys", tags=["issuers"])
    def keys(slug: str, who: Auth) -> list[dict[str, Any]]:
        issuer_in_scope(platform, who, slug)
        return platform.issuers.keys(slug)

    @app.post("/api/v1/issuers/{slug}/keys/rotate", tags=["issuers"])
    def rotate_key(slug: str, who: Auth) -> dict[str, Any]:
        _require(who, "issuer_admin")
        issuer_in_scope(platform, who, slug)
        return {"slug": slug, "key_id": platform.issuers.rotate_key(slug, actor=who.email)}

    @app.post("/api/v1/microcredentials", status_code=201, tags=["microcredentials"])
    def create_microcredential(body: MicrocredentialIn, who: Auth) -> dict[str, Any]:
        _require(who, "issuer_admin", "issuer_staff")
        issuer_in_scope(platform, who, body.issuer)
        entry = platform.catalog.create(
            body.issuer, parse_definition(body.definition), actor=who.email, publish=body.publish,
            exemption=body.exemption,
        )  # fmt: skip
        return {"id": entry.id, "issuer": entry.issuer_slug, "version": entry.version, "published": entry.published}

    @app.post("/api/v1/microcredentials/{mc_id}/publish", tags=["microcredentials"])
    def publish_microcredential(mc_id: str, body: PublishIn, who: Auth) -> dict[str, Any]:
        """Publish a draft: it enters the catalogue and can be awarded. Every EU mandatory element must be
        stated unless an exemption (the reason, kept in the audit log) is given."""
        _require(who, "issuer_admin", "issuer_staff")
        _microcredential_in_scope(platform, who, mc_id)
        entry = platform.catalog.publish(mc_id, body.exemption, actor=who.email)
        return _microcredential_json(entry)

    @app.get("/api/v1/microcredentials/{mc_id}", tags=["microcredentials"])
    def get_microcredential(mc_id: str, who: Auth) -> dict[str, Any]:
        entry = platform.catalog.get(mc_id)  # the published catalogue is public to every signed-in user
        if not entry.published:
            _microcredential_in_scope(platform, who, mc_id)  # a draft is its issuer's business
        return _microcredential_json(entry)

    @app.put("/api/v1/microcredentials/{mc_id}", tags=["microcredentials"])
    def update_microcredential(mc_id: str, body: dict[str, Any], who: Auth) -> dict[str, Any]:
        _require(who, "issuer_admin", "issuer_staff")
        _microcredential_in_scope(platform, who, mc_id)
        entry = platform.catalog.update(mc_id, parse_definition(body), actor=who.email)
        return {"id": entry.id, "version": entry.version}

    @app.get("/api/v1/microcredentials/{mc_id}/versions", tags=["microcredentials"])
    def versions(mc_id: str, who: Auth) -> list[dict[str, Any]]:
        return [
            {"version": n, "definition": d.model_dump(mode="json"), "created": c.isoformat(), "awards": a}
            for n, d, c, a in platform.catalog.versions(mc_id)
        ]

    @app.put("/api/v1/microcredentials/{mc_id}/image", tags=["microcredentials"])
    async def upload_image(mc_id: str, file: UploadFile, who: Auth) -> dict[str, Any]:
        """Upload the badge image (PNG or SVG, at most 2 MB); later awards carry it."""
        _require(who, "issuer_admin", "issuer_staff")
        _microcredential_in_scope(platform, who, mc_id)
        data = await file.read(2 * 1024 * 1024 + 1)
        await file.close()
        media_type = platform.catalog.set_image(mc_id, data, actor=who.email)
        return {
            "id": mc_id,
            "media_type": media_type,
            "url": f"{platform.runtime.base_url}/microcredentials/{mc_id}/image",
        }

    @app.get("/api/v1/microcredentials/{mc_id}/lint", tags=["microcredentials"])
    def lint(mc_id: str, who: Auth) -> dict[str, Any]:
        missing = platform.catalog.lint(mc_id)
        return {"id": mc_id, "complete": not missing, "missing": missing}


def _award_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.post("/api/v1/awards", status_code=201, tags=["awards"])
    def create_award(body: AwardIn, who: Auth, response: Response) -> dict[str, Any]:
        _require(who, "issuer_admin", "issuer_staff")
        _microcredential_in_scope(platform, who, body.microcredential)
        outcome = platform.awards.award(
            AwardRequest(
                body.microcredential,
                body.email,
                body.name,
                body.external_id,
                body.evidence_url,
                body.narrative,
                body.grade,
                body.valid_until,
            ),
            actor=who.email,
        )
        if outcome.created:
            title = outcome.credential["credentialSubject"]["achievement"]["name"]
            issuer_name = outcome.credential["issuer"]["name"]
            platform.web_accounts.notify_award(
                outcome.id, body.email.strip().lower(), title, issuer_name, platform.runtime.base_url
            )
        else:
            response.status_code = 200
        return {"id": outcome.id, "url": outcome.url, "created": outcome.created, "credential": outcome.credential}

    @app.get("/api/v1/awards", tags=["awards"])
    def list_awards(
        who: Auth,
        microcredential: str | None = None,
        email: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        _require(who, "issuer_admin", "issuer_staff")
        if not 1 <= limit <= 1000 or not 0 <= offset <= INTEGER_MAX:
            raise InputError(f"limit must be 1 to 1000 and offset 0 to {INTEGER_MAX}")
        awards = platform.awards.list_awards(
            microcredential_id=microcredential,
            email=email,
            limit=limit,
            offset=offset,
            organisation_id=None if who.is_platform_admin else who.organisation_id,
        )
        return {"items": [_award_json(platform, a) for a in awards], "limit": limit, "offset": offset}

    @app.get("/api/v1/awards/{award_id}", tags=["awards"])
    def get_award(award_id: str, who: Auth) -> dict[str, Any]:
        _require(who, "issuer_admin", "issuer_staff")
        return _award_json(platform, _award_in_scope(platform, who, award_id), full=True)

    for action in ("revoke", "suspend", "unsuspend"):
        _status_route(app, platform, action)


def _admin_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.get("/api/v1/me/credentials", tags=["learners"])
    def my_credentials(who: Auth) -> dict[str, Any]:
        awards = platform.awards.list_awards(email=who.email, limit=1000)
        return {"items": [_award_json(platform, a, full=True) for a in awards]}

    @app.post("/api/v1/bulk-jobs", status_code=202, tags=["awards"])
    async def bulk(file: UploadFile, who: Auth, microcredential: str | None = None) -> dict[str, Any]:
        """Start a bulk job from an uploaded CSV or JSONL file; poll its progress at the returned URL."""
        _require(who, "issuer_admin", "issuer_staff")
        if microcredential:
            _microcredential_in_scope(platform, who, microcredential)
        target = await _save_upload(platform, file)
        job_id = platform.bulk.start(
            target,
            microcredential=microcredential,
            actor=who.email,
            organisation_id=who.organisation_id,
            on_issued=lambda pending: platform.web_accounts.notify_pending(pending, platform.runtime.base_url),
        )
        return {**_job_json(platform, job_id, who), "url": f"/api/v1/bulk-jobs/{job_id}"}

    @app.get("/api/v1/bulk-jobs/{job_id}", tags=["awards"])
    def bulk_status(job_id: str, who: Auth) -> dict[str, Any]:
        _require(who, "issuer_admin", "issuer_staff")
        return _job_json(platform, job_id, who)

    @app.get("/api/v1/audit", tags=["audit"])
    def audit(who: Auth, limit: int = 100) -> dict[str, Any]:
        _require(who, "issuer_admin")
        if not 1 <= limit <= 1000:
            raise InputError("limit must be 1 to 1000")
        with platform.runtime.db.read() as repo:
            events = repo.audit_events(None if who.is_platform_admin else who.organisation_id, limit=limit)
            return {
                "items": [
                    {
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "subject": e.subject,
                        "detail": json.loads(e.detail),
                    }
                    for e in events
                ]
            }


def _status_route(app: FastAPI, platform: bootstrap.Platform, action: str) -> None:
    def change(award_id: str, body: StatusChangeIn, who: Auth) -> dict[str, Any]:
        _require(who, "issuer_admin", "issuer_staff")
        _award_in_scope(platform, who, award_id)
        getattr(platform.awards, action)(award_id, body.reason, actor=who.email)
        return _award_json(platform, _award_in_scope(platform, who, award_id))

    app.post(f"/api/v1/awards/{{award_id}}/{action}", tags=["awards"], name=action)(change)


# -- scoping and rendering ----------------------------------------------------------
def _microcredential_json(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id, "issuer": entry.issuer_slug, "version": entry.version, "published": entry.published,
        "published_at": entry.published_at.isoformat() if entry.published_at else None,
        "definition": entry.definition.model_dump(mode="json"),
    }  # fmt: skip


def _microcredential_in_scope(platform: bootstrap.Platform, who: Principal, mc_id: str) -> Any:
    entry = platform.catalog.get(mc_id)
    issuer_in_scope(platform, who, entry.issuer_slug)
    return entry


def _award_in_scope(platform: bootstrap.Platform, who: Principal, award_id: str) -> Any:
    with platform.runtime.db.read() as repo:
        award = repo.award(award_id)
        issuer = repo.issuer(award.issuer_id) if award else None
        if award is None or issuer is None or not who.may_see(issuer.organisation_id):
            raise NotFound(f"no award {award_id!r}")
        return award


def _json_media_type(request: Request) -> str:
    """application/vc+ld+json, or plain application/json for clients that ask only for that."""
    accept = request.headers.get("accept", "")
    return (
        "application/json" if "application/json" in accept and "vc+ld+json" not in accept else "application/vc+ld+json"
    )


def _issuer_json(issuer: Any) -> dict[str, Any]:
    return {
        "slug": issuer.slug,
        "did": issuer.did,
        "name": issuer.name,
        "country": issuer.country_code,
        "url": issuer.url,
    }


def _award_json(platform: bootstrap.Platform, award: Any, *, full: bool = False) -> dict[str, Any]:
    status = "revoked" if award.revoked_at else "suspended" if award.suspended else "active"
    out = {
        "id": award.id,
        "url": platform.awards.credential_url(award.id),
        "email": award.recipient_email,
        "name": award.recipient_name,
        "external_id": award.external_id,
        "issued_at": award.issued_at.isoformat(),
        "status": status,
    }
    if full:
        out["credential"] = json.loads(award.credential)
    return out


def _job_json(platform: bootstrap.Platform, job_id: str, who: Principal) -> dict[str, Any]:
    with platform.runtime.db.read() as repo:
        job = repo.bulk_job(job_id)
        if job is None or not who.may_see(job.organisation_id):
            raise NotFound(f"no bulk job {job_id!r}")
        errors_ = [{"line": e.line, "reason": e.reason, "row": e.row} for e in repo.bulk_errors(job_id)]
        return {
            "id": job.id,
            "state": job.state,
            "total": job.total,
            "processed": job.processed,
            "issued": job.issued,
            "skipped": job.skipped,
            "failed": job.failed,
            "errors": errors_,
        }


async def _verify_input(request: Request) -> Any:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:  # closes the spooled uploads
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InputError("send the image as a multipart field named 'file'")
            return await upload.read(MAX_BODY)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError("the request body is larger than 10 MB")
    if content_type == "text/plain":
        return body.decode("utf-8", errors="replace").strip()
    if content_type in ("application/json", "application/ld+json", "application/vc+ld+json", ""):
        try:
            parsed = json.loads(body) if body.strip().startswith(b"{") and b'"url"' in body[:200] else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and set(parsed) == {"url"} and isinstance(parsed["url"], str):
            if not parsed["url"].startswith("https://"):
                raise InputError("only https URLs can be fetched")
            return parsed["url"]
        return body
    raise InputError(f"unsupported content type {content_type!r}: send JSON, text/plain (a JWT) or multipart/form-data")


async def _save_upload(platform: bootstrap.Platform, file: UploadFile) -> Path:
    import uuid

    folder = platform.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl" if (file.filename or "").endswith(".jsonl") else ".csv"
    target = folder / f"{uuid.uuid4()}{suffix}"
    size = 0
    with target.open("wb") as handle:
        while chunk := await file.read(1 << 20):
            size += len(chunk)
            if size > 200 * 1024 * 1024:
                raise InputError("the upload is larger than 200 MB")
            handle.write(chunk)
    return target
