"""Public pages: the credential page (HTML for browsers; JSON-LD and JWT for machines), badge images,
downloads, sharing links and the verifier page. A private credential answers 404 to everyone but its
holder and its issuer."""

from __future__ import annotations

import atexit
import io
import json
import logging
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import segno
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from microcred.errors import InputError, MicrocredError
from microcred.services import certificate
from microcred.services.issuing import NotFound
from microcred.services.presentation import STATES, checklist, describe, state_of, verdict_sentence
from microcred.services.wallet import holds
from microcred.standards import baking
from microcred.standards.verify import Report
from microcred.storage import models
from microcred.web.core import Web, download_name, field

LD_JSON = "application/ld+json"
MAX_UPLOAD = 10 * 1024 * 1024
DOWNLOADS = {
    "json": ("application/ld+json", "json"),
    "jwt": ("application/vc+jwt", "jwt"),
    "png": ("image/png", "png"),
    "svg": ("image/svg+xml", "svg"),
    "pdf": ("application/pdf", "pdf"),
}


class Counters:
    """View, verification and share counts, written in one transaction every few seconds
    (a page view must not wait for a disk sync)."""

    def __init__(self, web: Web, interval: float = 3.0) -> None:
        self.web = web
        self.pending: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        self.interval = interval

    def add(self, award_id: str, counter: str) -> None:
        with self.lock:
            first = not self.pending
            self.pending[(award_id, counter)] += 1
        if first:  # a timer writes this batch; later additions join it
            timer = threading.Timer(self.interval, self.flush)
            timer.daemon = True
            timer.start()

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, Counter()
        if not pending:
            return
        try:
            with self.web.platform.runtime.db.transaction() as repo:
                for (award_id, counter), n in pending.items():
                    repo.count_up(award_id, counter, n)
        except Exception:  # a statistic must never take a timer thread (or shutdown) down with it
            logging.getLogger("microcred.web").warning(
                "dropped %d view/verify/share counts: the database refused them", sum(pending.values()), exc_info=True
            )


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/ld+json" not in accept.split(",")[0]


def visible_award(web: Web, request: Request, award_id: str) -> models.Award:
    """The award when it is public, or the viewer holds or issued it; otherwise 404."""
    with web.platform.runtime.db.read() as repo:
        award = repo.award(award_id)
        issuer = repo.issuer(award.issuer_id) if award else None
    if award is None or issuer is None:
        raise NotFound(f"no credential {award_id!r}")
    if award.public:
        return award
    user = web.user(request)
    if user is not None and (holds(user, award) or user.principal.may_see(issuer.organisation_id)):
        return award
    raise NotFound(f"no credential {award_id!r}")


def download(web: Web, award: models.Award, kind: str) -> Response:
    if kind not in DOWNLOADS:
        raise NotFound(f"no download {kind!r}")
    platform = web.platform
    media, suffix = DOWNLOADS[kind]
    view = describe(json.loads(award.credential))
    with platform.runtime.db.read() as repo:
        found = repo.award_with_microcredential(award.id)
    assert found is not None
    mc_id = found[1]
    if kind == "json":
        body: bytes = award.credential.encode()
    elif kind == "jwt":
        body = platform.awards.credential_jwt(award.id).encode()
    elif kind == "png":
        body = baking.bake_png(platform.catalog.badge(mc_id, "png")[1], award.credential)
    elif kind == "svg":
        body = baking.bake_svg(platform.catalog.badge(mc_id, "svg")[1].decode(), award.credential).encode()
    else:
        body = _pdf(web, award, mc_id, view)
    name = download_name(view.title, view.learner or award.recipient_name or "", suffix=suffix)
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
    )


def _pdf(web: Web, award: models.Award, mc_id: str, view: Any) -> bytes:
    details = [
        f"{label}: {value}"
        for label, value in view.eu
        if label in ("ECTS credits", "EQF level", "Notional workload (hours)")
    ]
    if view.skills:
        details.append("Skills: " + ", ".join(label for label, _ in view.skills[:6]))
    text = certificate.CertificateText(
        learner=view.learner or award.recipient_name or award.recipient_email,
        title=view.title, issuer=view.issuer_name,
        issued=award.issued_at.strftime("%d %B %Y"),
        expires=award.valid_until.strftime("%d %B %Y") if award.valid_until else None,
        verification_url=web.platform.awards.credential_url(award.id), details=details,
    )  # fmt: skip
    return certificate.render(text, web.platform.catalog.badge(mc_id, "png")[1])


def linkedin_url(web: Web, award: models.Award) -> str:
    view = describe(json.loads(award.credential))
    params = {
        "startTask": "CERTIFICATION_NAME", "name": view.title, "organizationName": view.issuer_name,
        "issueYear": award.issued_at.year, "issueMonth": award.issued_at.month,
        "certUrl": web.platform.awards.credential_url(award.id), "certId": award.id,
    }  # fmt: skip
    if award.valid_until:
        params.update(expirationYear=award.valid_until.year, expirationMonth=award.valid_until.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def report_context(report: Report) -> dict[str, Any]:
    state = state_of(report)
    headline, explanation = STATES[state]
    view = describe(report.credential) if report.credential else None
    return {
        "state": state,
        "headline": headline,
        "explanation": explanation,
        "groups": checklist(report),
        "sentence": verdict_sentence(view, report, state),
        "view": view,
        "report": report,
    }


def install(app: FastAPI, web: Web) -> None:
    platform = web.platform
    counters = Counters(web)
    app.state.counters = counters
    atexit.register(counters.flush)

    @app.get("/credentials/{credential_id}", include_in_schema=False)
    def credential(request: Request, credential_id: str) -> Response:
        if credential_id.endswith(".jwt"):
            award = visible_award(web, request, credential_id[:-4])
            return PlainTextResponse(platform.awards.credential_jwt(award.id), media_type="application/vc+jwt")
        if credential_id.endswith(".json") or not wants_html(request):
            award = visible_award(web, request, credential_id.removesuffix(".json"))
            return Response(award.credential, media_type=LD_JSON)  # exactly as signed
        award = visible_award(web, request, credential_id)
        counters.add(award.id, "view_count")
        report = platform.credentials.verify(award.credential)
        url = platform.awards.credential_url(award.id)
        context = report_context(report)
        return web.render(
            request, "credential.html", title=context["view"].title if context["view"] else "Credential",
            award=award, url=url, image=f"{platform.runtime.base_url}/credentials/{award.id}/badge.png", **context,
        )  # fmt: skip

    @app.get("/credentials/{award_id}/badge.png", include_in_schema=False)
    def badge_png(request: Request, award_id: str) -> Response:
        award = visible_award(web, request, award_id)
        return download_inline(download(web, award, "png"))

    @app.get("/credentials/{award_id}/download/{kind}", include_in_schema=False)
    def credential_download(request: Request, award_id: str, kind: str) -> Response:
        return download(web, visible_award(web, request, award_id), kind)

    @app.get("/credentials/{award_id}/qr.svg", include_in_schema=False)
    def qr(request: Request, award_id: str) -> Response:
        award = visible_award(web, request, award_id)
        # A standalone SVG document (with its namespace): svg_inline() is for pasting into HTML and
        # renders as a broken image when served on its own.
        buffer = io.BytesIO()
        segno.make(platform.awards.credential_url(award.id), error="m").save(
            buffer, kind="svg", scale=5, border=2, title="QR code of the credential page", svgns=True, xmldecl=True
        )
        headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
        return Response(buffer.getvalue(), media_type="image/svg+xml", headers=headers)

    @app.get("/credentials/{award_id}/share/linkedin", include_in_schema=False)
    def share_linkedin(request: Request, award_id: str) -> Response:
        award = visible_award(web, request, award_id)
        if not award.public:
            raise InputError("make the credential public before sharing it")
        counters.add(award.id, "share_count")
        return Response(status_code=303, headers={"Location": linkedin_url(web, award)})

    @app.get("/microcredentials/{mc_id}/image", include_in_schema=False)
    def badge_image(mc_id: str) -> Response:
        """The uploaded image as uploaded (PNG or SVG), else the generated SVG design."""
        try:
            return _image(*platform.catalog.image(mc_id))
        except NotFound:
            return _image(*platform.catalog.badge(mc_id, "svg"))

    @app.get("/issuers/{slug}/logo", include_in_schema=False)
    def issuer_logo(slug: str) -> Response:
        return _image(*platform.issuers.logo(slug))

    @app.get("/microcredentials/{mc_id}/image.png", include_in_schema=False)
    def badge_image_png(mc_id: str) -> Response:
        return _image(*platform.catalog.badge(mc_id, "png"))

    _verify_page(app, web, counters)


def download_inline(response: Response) -> Response:
    del response.headers["Content-Disposition"]
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _image(media_type: str, data: bytes, digest: str) -> Response:
    # Served as an image, never as a document: an SVG cannot run script in our origin.
    headers = {
        "Cache-Control": "public, max-age=300",
        "ETag": f'"{digest}"',
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=media_type, headers=headers)


def _verify_page(app: FastAPI, web: Web, counters: Counters) -> None:
    platform = web.platform

    @app.get("/verify", include_in_schema=False)
    def verify_page(request: Request, url: str = "") -> Response:
        return web.render(request, "verify.html", title="Verify a credential", url=url[:2000], text="")

    @app.post("/verify", include_in_schema=False)
    async def verify(request: Request) -> Response:
        form = await web.form(request)
        text, url = field(form, "text"), field(form, "url")
        try:
            data = await _verify_input(web, form, text, url)
        except MicrocredError as exc:
            return web.render(
                request, "verify.html", 422, title="Verify a credential", url=url, text=text[:20000], error=exc.message
            )
        report = platform.credentials.verify(data)
        if report.credential and isinstance(report.credential.get("id"), str):
            local = platform.awards.award_id_for(report.credential["id"])
            if local:
                counters.add(local, "verify_count")
        return web.render(
            request, "verify.html", title="Verification result", url=url, text=text[:20000], **report_context(report)
        )


async def _verify_input(web: Web, form: Any, text: str, url: str) -> bytes | str:
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        data: bytes = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InputError("the file is larger than 10 MB")
        if data:
            return data
    if url:
        return await run_in_threadpool(web.platform.retrieval.fetch, url)
    if text:
        return text
    raise InputError("paste a credential, choose a file or give its URL")
