"""Pathway pages: the designer (a picture of the requirement tree), the issuer's view of learners per
stage with approvals, the learner's progress as the same picture coloured by what is done, and degree
credit: the university's recognition inbox and the learner's requests and credit earned."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from microcred.domain.pathways import PathwayDefinition, PathwayError, compile_pathway
from microcred.errors import InputError, MicrocredError
from microcred.services.issuing import NotFound
from microcred.services.pathway_views import definition_tree, node_json, stages
from microcred.services.presentation import describe
from microcred.services.recognition import RuleIn
from microcred.web.console import scope
from microcred.web.core import Web, download_name, field

EXAMPLE = {"all_of": [{"microcredential": "MICROCREDENTIAL-ID", "id": "core"},
                      {"at_least": 1, "of": [{"microcredential": "ANOTHER-ID"}, {"microcredential": "A-THIRD-ID"}]}]}  # fmt: skip


def install(app: FastAPI, web: Web) -> None:
    _designer(app, web)
    _issuer_view(app, web)
    _learner(app, web)
    _recognition(app, web)


def _owned(web: Web, request: Request, pathway_id: str) -> Any:
    user = web.staff(request)
    row = web.platform.pathways.row(pathway_id)
    with web.platform.runtime.db.read() as repo:
        issuer = repo.issuer(row.issuer_id)
    org = scope(user)
    if issuer is None or (org is not None and issuer.organisation_id != org):
        raise NotFound(f"no pathway {pathway_id!r}")
    return row


def _issuers(web: Web, org: int | None) -> list[Any]:
    return [i for i in web.platform.issuers.list() if org is None or i.organisation_id == org]


def _catalogue(web: Web) -> list[tuple[str, str]]:
    """(id, name) of catalogue microcredentials a pathway can stack (every issuer's, own first)."""
    with web.platform.runtime.db.read() as repo:
        rows = repo.catalogue(None)
    targets = {r.microcredential_id for r in web.platform.pathways.rows()}
    return [(mc.id, f"{json.loads(definition)['name']} ({issuer.name})") for mc, issuer, definition, _n in rows
            if mc.id not in targets]  # fmt: skip


def _preview(web: Web, form: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    """The tree picture of what the designer typed, or why it cannot be drawn."""
    try:
        requirements = json.loads(form["requirements"] or "{}")
        definition = PathwayDefinition(name=form["name"] or "Untitled", description=form["description"] or "-",
                                       requirements=requirements)  # fmt: skip
        pathway = compile_pathway("preview", definition)
    except (ValueError, PathwayError) as exc:
        return None, str(exc).splitlines()[0][:300]
    service = web.platform.pathways
    return definition_tree(pathway.tree, service.parts(), service.pathways()), None


def _form_values(form: Any) -> dict[str, str]:
    names = ("issuer", "name", "description", "achievement_type", "approval", "on_part_revoked", "within_years",
             "requirements", "order")  # fmt: skip
    return {name: field(form, name) for name in names}


def _definition(values: dict[str, str]) -> dict[str, Any]:
    try:
        requirements = json.loads(values["requirements"] or "{}")
        order = json.loads(values["order"] or "[]")
    except ValueError as exc:
        raise InputError(f"requirements: not valid JSON ({exc})") from exc
    data: dict[str, Any] = {
        "name": values["name"], "description": values["description"],
        "achievement_type": values["achievement_type"] or "Certificate", "approval": values["approval"] or "auto",
        "on_part_revoked": values["on_part_revoked"] or "suspend", "requirements": requirements, "order": order,
    }  # fmt: skip
    if values["within_years"]:
        data["within_years"] = values["within_years"]
    return data


def _designer(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/console/pathways", include_in_schema=False)
    def pathway_list(request: Request) -> Response:
        user = web.staff(request)
        rows = platform.pathways.rows(scope(user))
        return web.render(request, "console_pathways.html", title="Pathways", rows=rows)

    def designer(request: Request, values: dict[str, str], error: str | None = None, status: int = 200) -> Response:
        user = web.staff(request)
        tree, problem = _preview(web, values) if values["requirements"] else (None, None)
        return web.render(request, "console_pathway_designer.html", status, title="Design a pathway", values=values,
                          tree=tree, problem=problem, error=error, issuers=_issuers(web, scope(user)),
                          catalogue=_catalogue(web))  # fmt: skip

    @app.get("/console/pathways/new", include_in_schema=False)
    def new_pathway(request: Request) -> Response:
        values = dict.fromkeys(("issuer", "name", "description", "achievement_type", "approval", "on_part_revoked",
                                "within_years", "order"), "")  # fmt: skip
        values["requirements"] = json.dumps(EXAMPLE, indent=2)
        return designer(request, values)

    @app.post("/console/pathways", include_in_schema=False)
    async def save_pathway(request: Request) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        values = _form_values(form)
        if field(form, "action") == "preview":
            return designer(request, values)
        if values["issuer"] not in {i.slug for i in _issuers(web, scope(user))}:
            return designer(request, values, "choose one of your issuers", 422)
        try:
            row = platform.pathways.create(values["issuer"], _definition(values), actor=user.email)
        except InputError as exc:
            return designer(request, values, exc.message, 422)
        return web.redirect(f"/console/pathways/{row.id}", f"Pathway “{row.name}” saved.")


def _issuer_view(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/console/pathways/{pathway_id}", include_in_schema=False)
    def pathway_detail(request: Request, pathway_id: str) -> Response:
        row = _owned(web, request, pathway_id)
        service = platform.pathways
        pathway = service.pathways()[row.id]
        view = stages(service, row.id)
        tree = _with_counts(definition_tree(pathway.tree, service.parts(), service.pathways()), view.per_node)
        with platform.runtime.db.read() as repo:
            completions = repo.completions(pathway_ids=[row.id])
        return web.render(request, "console_pathway.html", title=row.name, row=row, pathway=pathway, tree=tree,
                          view=view, completions=completions)  # fmt: skip

    @app.post("/console/pathways/{pathway_id}/evaluate", include_in_schema=False)
    async def evaluate_everyone(request: Request, pathway_id: str) -> Response:
        await web.form(request)  # the CSRF check comes first
        _owned(web, request, pathway_id)
        result = platform.pathways.evaluate_all()
        note = f"Evaluated {result.learners:,} learners: {result.newly_satisfied} newly completed, {result.settled} settled."
        return web.redirect(f"/console/pathways/{pathway_id}", note)

    @app.post("/console/pathways/{pathway_id}/completions/{completion_id}/{action}", include_in_schema=False)
    async def decide(request: Request, pathway_id: str, completion_id: str, action: str) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        _owned(web, request, pathway_id)
        if action not in ("approve", "reject"):
            raise NotFound("no such action")
        try:
            platform.pathways.decide(completion_id, action == "approve", user.email, field(form, "note") or None)
        except MicrocredError as exc:
            return web.redirect(f"/console/pathways/{pathway_id}", f"Not done: {exc.message}")
        verb = "approved and issued" if action == "approve" else "rejected"
        return web.redirect(f"/console/pathways/{pathway_id}", f"Roll-up {verb}.")


def _with_counts(tree: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    return {**tree, "count": counts.get(tree["id"], 0), "children": [_with_counts(c, counts) for c in tree["children"]]}


def _learner(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/wallet/pathways", include_in_schema=False)
    def my_pathways(request: Request) -> Response:
        user = web.require(request)
        items = platform.pathways.progress(user.email) if user.verified else []
        shown = [{"item": item, "tree": node_json(item.progress.root)} for item in items]
        return web.render(request, "wallet_pathways.html", title="My pathways", shown=shown)

    @app.get("/wallet/clr", include_in_schema=False)
    def my_record(request: Request) -> Response:
        user = web.require(request)
        if not user.verified:
            raise NotFound("confirm your email address first")
        try:
            record = platform.clr.export_record(user.email, name=user.name)
        except NotFound as exc:
            return web.render(request, "wallet_clr.html", title="My learner record", record=None, problem=exc.message)
        if request.query_params.get("download") != "1":
            included = record.clr["credentialSubject"]["verifiableCredential"]
            return web.render(request, "wallet_clr.html", title="My learner record", record=record,
                              included=[describe(c) for c in included])  # fmt: skip
        filename = download_name("learner record", user.name or user.email.split("@")[0], suffix="json")
        return Response(json.dumps(record.clr, indent=2, ensure_ascii=False), media_type="application/ld+json",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip


def _target_namer(catalogue: list[tuple[str, str]], pathways: list[Any]) -> Any:
    """What a recognition rule recognises, by name (its target is stored as JSON with ids), from the
    catalogue and pathways the page lists anyway."""
    names = dict(catalogue) | {p.id: p.name for p in pathways}

    def name(target: str) -> str:
        try:
            data = json.loads(target)
        except ValueError:
            return target
        for kind, label in (("microcredential", "Microcredential"), ("pathway", "Pathway")):
            if isinstance(data, dict) and kind in data:
                return f"{label}: {names.get(str(data[kind]), 'no longer in the catalogue')}"
        external = data.get("external") if isinstance(data, dict) else None
        if isinstance(external, dict):
            return f"From another issuer: {external.get('name') or external.get('achievement') or 'an achievement'}"
        return "Another credential"

    return name


def _recognition(app: FastAPI, web: Web) -> None:
    platform = web.platform
    service = platform.recognition

    @app.get("/console/recognition", include_in_schema=False)
    def inbox(request: Request) -> Response:
        user = web.staff(request)
        org = scope(user)
        catalogue, pathways = _catalogue(web), platform.pathways.rows()
        return web.render(request, "console_recognition.html", title="Recognition inbox",
                          pending=service.inbox(org), decided=[p for p in service.inbox(org, None) if p[0].state != "pending"][:50],
                          rules=service.rules(org), issuers=_issuers(web, org), catalogue=catalogue,
                          pathways=pathways, target_name=_target_namer(catalogue, pathways))  # fmt: skip

    @app.post("/console/recognition/rules", include_in_schema=False)
    async def add_rule(request: Request) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        issuer, target = field(form, "issuer"), field(form, "target")
        if issuer not in {i.slug for i in _issuers(web, scope(user))}:
            return web.redirect("/console/recognition", "Not saved: choose one of your issuers.")
        kind, _, ref = target.partition(":")
        try:
            credits = float(field(form, "credits") or "0")
            service.add_rule(issuer, RuleIn(field(form, "programme"), field(form, "course_code"), credits,
                                            field(form, "grade_policy") or "pass-fail", {kind: ref}), actor=user.email)  # fmt: skip
        except (ValueError, MicrocredError) as exc:
            message = exc.message if isinstance(exc, MicrocredError) else "credits must be a number"
            return web.redirect("/console/recognition", f"Not saved: {message}")
        return web.redirect("/console/recognition", "Recognition rule saved.")

    @app.post("/console/recognition/{request_id}/{action}", include_in_schema=False)
    async def decide(request: Request, request_id: str, action: str) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        if action not in ("approve", "reject"):
            raise NotFound("no such action")
        try:
            service.decide(request_id, action == "approve", user.email, field(form, "note") or None, scope(user))
        except MicrocredError as exc:
            return web.redirect("/console/recognition", f"Not done: {exc.message}")
        return web.redirect("/console/recognition", "Credit approved and issued." if action == "approve" else
                            "Request rejected.")  # fmt: skip

    @app.get("/wallet/recognition", include_in_schema=False)
    def my_credit(request: Request) -> Response:
        user = web.require(request)
        requests, totals = service.learner(user.email)
        entries = [e for e in platform.wallet.entries(user) if e.state == "verified"]
        return web.render(request, "wallet_recognition.html", title="Credit toward a degree", rules=service.rules(),
                          requests=requests, totals=totals, entries=entries)  # fmt: skip

    @app.post("/wallet/recognition", include_in_schema=False)
    async def submit(request: Request) -> Response:
        user = web.require(request)
        form = await web.form(request)
        chosen = [str(v) for v in form.getlist("credential")]
        try:
            refs = [_credential_ref(web, user, entry_id) for entry_id in chosen]
            service.submit(user.email, int(field(form, "rule") or "0"), refs)
        except (ValueError, MicrocredError) as exc:
            message = exc.message if isinstance(exc, MicrocredError) else "choose a rule"
            return web.redirect("/wallet/recognition", f"Not sent: {message}")
        return web.redirect("/wallet/recognition", "Request sent: the university will verify and decide.")


def _credential_ref(web: Web, user: Any, entry_id: str) -> str:
    """The credential id behind a wallet entry (an award of ours, or an import)."""
    try:
        award = web.platform.wallet.issued_award(user, entry_id)
        return web.platform.awards.credential_url(award.id)
    except NotFound:
        item = web.platform.wallet.item(user, entry_id)
        return item.credential_id or f"urn:wallet:{item.id}"
