"""The learner wallet pages: list, import (file, paste, URL or a whole exported wallet), sharing and downloads."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from microcred.errors import InputError, MicrocredError
from microcred.services.issuing import NotFound
from microcred.services.presentation import describe
from microcred.services.wallet import ImportRefused
from microcred.web.core import Web, field
from microcred.web.public import download, linkedin_url, report_context

REMIND_WITHIN = timedelta(days=60)


def install(app: FastAPI, web: Web) -> None:
    platform = web.platform
    wallet = platform.wallet

    @app.get("/wallet", include_in_schema=False)
    def wallet_page(request: Request, issuer: str = "", skill: str = "", state: str = "") -> Response:
        user = web.require(request)
        everything = wallet.entries(user)
        now = platform.runtime.clock.now()
        expiring = [
            e
            for e in everything
            if e.valid_until and now < e.valid_until <= now + REMIND_WITHIN and e.state == "verified"
        ]
        shown = [
            e for e in everything
            if (not issuer or e.issuer_name == issuer) and (not skill or skill in e.skills)
            and (not state or (e.state == "verified") == (state == "valid"))
        ]  # fmt: skip
        return web.render(
            request, "wallet.html", title="My wallet", entries=shown, total=len(everything), expiring=expiring,
            filters={"issuer": issuer, "skill": skill, "state": state},
            issuers=sorted({e.issuer_name for e in everything if e.issuer_name}),
            skills=sorted({s for e in everything for s in e.skills if s}),
        )  # fmt: skip

    @app.get("/wallet/import", include_in_schema=False)
    def import_page(request: Request) -> Response:
        web.require(request)
        return web.render(request, "wallet_import.html", title="Add a credential", text="", url="")

    @app.post("/wallet/import", include_in_schema=False)
    async def import_credential(request: Request) -> Response:
        user = web.require(request)
        form = await web.form(request)
        text, url = field(form, "text"), field(form, "url")
        upload = form.get("file")
        try:
            if upload is not None and not isinstance(upload, str) and upload.filename:
                data = await upload.read(50 * 1024 * 1024 + 1)
                if data[:4] == b"PK\x03\x04":
                    outcome = wallet.import_zip(user, data)
                    note = f"Imported {outcome.imported}; {outcome.duplicates} already in your wallet."
                    if outcome.refused:
                        note += " Not imported: " + "; ".join(outcome.refused[:5])
                    return web.redirect("/wallet", note)
                item = wallet.import_credential(user, data, f"upload: {upload.filename[:200]}")
            elif url:
                data = await run_in_threadpool(platform.retrieval.fetch, url)
                item = wallet.import_credential(user, data, url)
            elif text:
                item = wallet.import_credential(user, text, "pasted")
            else:
                raise InputError("choose a file, paste a credential or give its URL")
        except ImportRefused as exc:
            context = report_context(exc.report) if exc.report else {}
            return web.render(
                request,
                "wallet_import.html",
                422,
                title="Add a credential",
                text=text[:20000],
                url=url,
                error=exc.message,
                **context,
            )
        except MicrocredError as exc:
            return web.render(
                request,
                "wallet_import.html",
                409 if exc.code == "conflict" else 422,
                title="Add a credential",
                text=text[:20000],
                url=url,
                error=exc.message,
            )
        return web.redirect(f"/wallet/items/{item.id}", f"Added “{item.name}” to your wallet.")

    @app.get("/wallet/credentials/{award_id}", include_in_schema=False)
    def issued_credential(request: Request, award_id: str) -> Response:
        user = web.require(request)
        award = wallet.issued_award(user, award_id)
        report = platform.credentials.verify(award.credential)
        url = platform.awards.credential_url(award.id)
        return web.render(
            request, "wallet_credential.html", title=describe(json.loads(award.credential)).title, award=award, url=url,
            linkedin=linkedin_url(web, award), image=f"/credentials/{award.id}/badge.png", **report_context(report),
            hosts=platform.host_connections.connections(user) if platform.host_connections.enabled else [],
        )  # fmt: skip

    @app.get("/wallet/credentials/{award_id}/download/{kind}", include_in_schema=False)
    def issued_download(request: Request, award_id: str, kind: str) -> Response:
        return download(web, wallet.issued_award(web.require(request), award_id), kind)

    @app.post("/wallet/credentials/{entry_id}/visibility", include_in_schema=False)
    @app.post("/wallet/items/{entry_id}/visibility", include_in_schema=False)
    async def visibility(request: Request, entry_id: str) -> Response:
        user = web.require(request)
        form = await web.form(request)
        public = form.get("public") == "1"
        wallet.set_public(user, entry_id, public)
        back = request.url.path.rsplit("/", 1)[0]
        return web.redirect(
            back,
            "The credential is public: anyone with the link can see it."
            if public
            else "The credential is private: its public page now answers “not found”.",
        )

    @app.get("/wallet/items/{item_id}", include_in_schema=False)
    def imported_item(request: Request, item_id: str) -> Response:
        item = wallet.item(web.require(request), item_id)
        report = platform.credentials.verify(item.content)
        return web.render(
            request,
            "wallet_item.html",
            title=item.name,
            item=item,
            image=None,
            share_url=f"{platform.runtime.base_url}/shared/{item.id}",
            **report_context(report),
        )

    @app.get("/wallet/items/{item_id}/download", include_in_schema=False)
    def imported_download(request: Request, item_id: str) -> Response:
        item = wallet.item(web.require(request), item_id)
        media = "application/vc+jwt" if item.format == "jwt" else "application/ld+json"
        return Response(
            item.content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="credential-{item.id}.{item.format}"'},
        )

    @app.post("/wallet/items/{item_id}/delete", include_in_schema=False)
    async def delete_item(request: Request, item_id: str) -> Response:
        user = web.require(request)
        await web.form(request)
        item = wallet.item(user, item_id)
        wallet.delete(user, item_id)
        return web.redirect("/wallet", f"Removed “{item.name}” from your wallet.")

    @app.get("/wallet/export", include_in_schema=False)
    def export(request: Request) -> Response:
        user = web.require(request)
        data = wallet.export_zip(user)
        stamp = platform.runtime.clock.now().strftime("%Y%m%d")
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="microcred-wallet-{stamp}.zip"',
                "Cache-Control": "private, no-store",
            },
        )

    @app.get("/shared/{item_id}", include_in_schema=False)
    def shared_item(request: Request, item_id: str) -> Response:
        with platform.runtime.db.read() as repo:
            item = repo.wallet_item(item_id)
        if item is None or not item.public:
            raise NotFound(f"no shared credential {item_id!r}")
        report = platform.credentials.verify(item.content)
        url = f"{platform.runtime.base_url}/shared/{item.id}"
        return web.render(request, "credential.html", title=item.name, url=url, image=None, **report_context(report))
