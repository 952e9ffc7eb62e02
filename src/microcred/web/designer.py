"""The microcredential designer: every field of the definition, inline validation, the EU-completeness
meter, skills, a live preview; and awarding one learner."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from microcred.domain.microcredentials import (
    ACHIEVEMENT_TYPES,
    EU_MANDATORY,
    PARTICIPATION_FORMS,
    MicrocredentialDefinition,
)
from microcred.errors import InputError, MicrocredError
from microcred.services import badges
from microcred.services.awarding import AwardRequest
from microcred.services.issuing import NotFound
from microcred.services.presentation import CredentialView
from microcred.services.web_accounts import SessionUser
from microcred.standards.dates import parse_expiry
from microcred.web.core import Web, field

TEXT_FIELDS = (
    "name", "description", "criteria", "criteria_url", "achievement_type", "language", "version_label",
    "qualification_cycle", "assessment_type", "participation_form", "quality_assurance", "prerequisites",
    "supervision_identity_verification", "integration_stackability", "further_information", "currency",
    "delivery_mode", "provider_url",
)  # fmt: skip
NUMBER_FIELDS = ("workload_hours", "ects", "price", "duration_hours", "duration_weeks")
INTEGER_FIELDS = ("eqf_level", "valid_for_months")


def definition_data(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as definition fields, and the errors of fields that are not even numbers."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        if field(form, name):
            data[name] = field(form, name)
    for name in NUMBER_FIELDS + INTEGER_FIELDS:
        raw = field(form, name).replace(",", ".")
        if raw:
            try:
                data[name] = int(raw) if name in INTEGER_FIELDS else float(raw)
            except ValueError:
                errors[name] = "enter a number" if name in NUMBER_FIELDS else "enter a whole number"
    outcomes = [line.strip() for line in field(form, "learning_outcomes").splitlines() if line.strip()]
    if outcomes:
        data["learning_outcomes"] = outcomes
    tags = [t.strip() for t in field(form, "tags").split(",") if t.strip()]
    if tags:
        data["tags"] = tags
    if field(form, "suspendable"):
        data["suspendable"] = True
    uris = [u.strip() if isinstance(u, str) else "" for u in form.getlist("skill_uri")]
    labels = [v.strip() if isinstance(v, str) else "" for v in form.getlist("skill_label")]
    data["skills"] = [{"uri": u, "label": v or u} for u, v in zip(uris, labels, strict=False) if u]
    return data, errors


def validate(data: dict[str, Any], errors: dict[str, str]) -> tuple[MicrocredentialDefinition | None, dict[str, str]]:
    try:
        definition = MicrocredentialDefinition.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "form"
            errors.setdefault(field, plain_message(field, error))
        return None, errors
    return (definition if not errors else None), errors


# Field-specific forms where "does not match the pattern" would say nothing.
_PATTERNS = {
    "language": "Use a language code such as en, nl or pt-BR.",
    "currency": "Use three capital letters, such as EUR.",
}


def plain_message(field: str, error: Any) -> str:
    """A validation error in the issuer's words, not pydantic's ("Input should be greater than 0")."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    messages = {
        "greater_than": f"Must be more than {ctx.get('gt')}.",
        "greater_than_equal": f"Must be at least {ctx.get('ge')}.",
        "less_than": f"Must be less than {ctx.get('lt')}.",
        "less_than_equal": f"Must be at most {ctx.get('le')}.",
        "string_too_long": f"Too long: at most {ctx.get('max_length')} characters.",
        "too_long": f"Too many: at most {ctx.get('max_length')}.",
        "string_too_short": "This is required.",
        "missing": "This is required.",
        "float_parsing": "Must be a number, such as 25 or 2.5.",
        "int_parsing": "Must be a whole number.",
        "int_from_float": "Must be a whole number.",
        "url_parsing": "Must be a web address starting with https://.",
        "url_scheme": "Must be a web address starting with https://.",
        "literal_error": f"Choose one of {ctx.get('expected', 'the options')}.",
        "string_pattern_mismatch": _PATTERNS.get(field, "This is not in the expected form."),
    }
    if kind in messages:
        return messages[kind]
    text = str(error.get("msg", "This value cannot be used.")).removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def eu_progress(data: dict[str, Any]) -> tuple[int, int, list[str]]:
    missing = [label for field, label in EU_MANDATORY.items() if not data.get(field)]
    total = len(EU_MANDATORY) + 1  # + title
    done = total - len(missing) - (0 if data.get("name") else 1)
    return done, total, missing if data.get("name") else ["title", *missing]


def _form_values(definition: MicrocredentialDefinition | None) -> dict[str, Any]:
    if definition is None:
        return {"skills": []}
    values = definition.model_dump(mode="json")
    values["learning_outcomes"] = "\n".join(definition.learning_outcomes)
    values["tags"] = ", ".join(definition.tags)
    values["skills"] = [{"uri": str(s.uri), "label": s.label} for s in definition.skills]
    return {k: ("" if v is None else v) for k, v in values.items()}


def _raw_values(form: FormData, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: field(form, name) for name in (*TEXT_FIELDS, *NUMBER_FIELDS, *INTEGER_FIELDS, "learning_outcomes", "tags")
    }
    values["suspendable"] = bool(field(form, "suspendable"))
    values["skills"] = data.get("skills", [])
    return values


def preview_view(data: dict[str, Any], issuer_name: str) -> CredentialView:
    eu_keys = {
        "learning_outcomes": "Learning outcomes",
        "workload_hours": "Notional workload (hours)",
        "ects": "ECTS credits",
        "eqf_level": "EQF level",
        "assessment_type": "Type of assessment",
        "participation_form": "Form of participation",
        "quality_assurance": "Quality assurance",
    }
    return CredentialView(
        title=data.get("name") or "Untitled microcredential", description=data.get("description", ""),
        issuer_name=issuer_name, issuer_id="", issuer_url=None, learner="A. Learner", criteria=data.get("criteria"),
        criteria_url=None, achievement_type=data.get("achievement_type", "MicroCredential"), image=None,
        valid_from=None, valid_until=None, credits=data.get("ects"),
        skills=[(s["label"], s["uri"]) for s in data.get("skills", [])],
        eu=[(label, data[key]) for key, label in eu_keys.items() if data.get(key)],
    )  # fmt: skip


def install(app: FastAPI, web: Web) -> None:
    platform = web.platform

    def issuers_for(user: SessionUser) -> list[Any]:
        return [i for i in platform.issuers.list() if user.principal.may_see(i.organisation_id)]

    def designer(
        request: Request,
        user: SessionUser,
        *,
        status: int = 200,
        mc_id: str | None = None,
        values: dict[str, Any],
        errors: dict[str, str] | None = None,
        issuer: str = "",
    ) -> HTMLResponse:
        done, total, missing = eu_progress({k: v for k, v in values.items() if v})
        return web.render(
            request, "console_designer.html", status, title="Edit microcredential" if mc_id else "Design a microcredential",
            mc_id=mc_id, values=values, errors=errors or {}, issuers=issuers_for(user), issuer=issuer,
            types=sorted(ACHIEVEMENT_TYPES), forms=PARTICIPATION_FORMS, eu_done=done, eu_total=total, eu_missing=missing,
        )  # fmt: skip

    def in_scope(user: SessionUser, mc_id: str) -> Any:
        entry = platform.catalog.get(mc_id)
        issuer = next((i for i in issuers_for(user) if i.slug == entry.issuer_slug), None)
        if issuer is None:
            raise NotFound(f"no microcredential {mc_id!r}")
        return entry, issuer

    @app.get("/console/microcredentials", include_in_schema=False)
    def catalogue(request: Request) -> Response:
        user = web.staff(request)
        with platform.runtime.db.read() as repo:
            rows = repo.catalogue(None if user.role == "platform_admin" else user.organisation_id)
        items = [(mc, issuer, json.loads(definition), n) for mc, issuer, definition, n in rows]
        return web.render(request, "console_catalogue.html", title="Microcredentials", items=items)

    @app.get("/console/microcredentials/new", include_in_schema=False)
    def new(request: Request) -> Response:
        user = web.staff(request)
        return designer(request, user, values=_form_values(None) | {"achievement_type": "MicroCredential"})

    @app.post("/console/microcredentials/new", include_in_schema=False)
    @app.post("/console/microcredentials/{mc_id}/edit", include_in_schema=False)
    async def save(request: Request, mc_id: str | None = None) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        data, errors = definition_data(form)
        issuer_slug = field(form, "issuer")
        if mc_id is not None:
            entry, issuer = in_scope(user, mc_id)
            issuer_slug = issuer.slug
        elif not any(i.slug == issuer_slug for i in issuers_for(user)):
            errors["issuer"] = "choose one of your issuers"
        definition, errors = validate(data, errors)
        if definition is None:
            return designer(
                request,
                user,
                status=422,
                mc_id=mc_id,
                values=_raw_values(form, data),
                errors=errors,
                issuer=issuer_slug,
            )
        if mc_id is None:
            entry = platform.catalog.create(issuer_slug, definition, actor=user.email)
        else:
            entry = platform.catalog.update(mc_id, definition, actor=user.email)
        state = f"version {entry.version}" if entry.published else "a draft: publish it when it is ready to award"
        return web.redirect(f"/console/microcredentials/{entry.id}", f"Saved “{definition.name}” ({state}).")

    @app.post("/console/microcredentials/{mc_id}/publish", include_in_schema=False)
    async def publish(request: Request, mc_id: str) -> Response:
        user = web.staff(request)
        in_scope(user, mc_id)
        form = await web.form(request)
        try:
            entry = platform.catalog.publish(mc_id, field(form, "exemption")[:1000] or None, actor=user.email)
        except InputError as exc:
            return web.redirect(f"/console/microcredentials/{mc_id}", f"Not published: {exc.message}.")
        return web.redirect(
            f"/console/microcredentials/{mc_id}",
            f"“{entry.definition.name}” is published: it is in the catalogue and can be awarded.",
        )

    @app.post("/console/microcredentials/preview", include_in_schema=False)
    async def preview(request: Request) -> Response:
        user = web.staff(request)
        form = await web.form(request)
        data, errors = definition_data(form)
        _definition, errors = validate(dict(data), errors)
        issuer = next((i for i in issuers_for(user) if i.slug == field(form, "issuer")), None)
        issuer_name = issuer.name if issuer else "Your organisation"
        colour = (issuer.colour if issuer else None) or badges.issuer_colour(issuer.slug if issuer else "preview")
        level = badges.level_of(
            MicrocredentialDefinition.model_construct(
                eqf_level=data.get("eqf_level"), ects=data.get("ects"), workload_hours=data.get("workload_hours")
            )
        )
        design = badges.BadgeDesign(
            data.get("name") or "Untitled",
            issuer_name,
            level,
            colour,
            badges.pick_icon(data.get("name", ""), data.get("tags", [])),
        )
        image = "data:image/svg+xml;base64," + base64.b64encode(badges.svg(design).encode()).decode()
        done, total, missing = eu_progress(data)
        html = web.env.get_template("_preview.html").render(
            view=preview_view(data, issuer_name),
            image=image,
            errors=errors,
            eu_done=done,
            eu_total=total,
            eu_missing=missing,
        )
        return HTMLResponse(html)

    @app.get("/console/microcredentials/{mc_id}", include_in_schema=False)
    def edit(request: Request, mc_id: str) -> Response:
        user = web.staff(request)
        entry, issuer = in_scope(user, mc_id)
        missing = platform.catalog.lint(mc_id)
        return designer(request, user, mc_id=mc_id, values=_form_values(entry.definition), issuer=issuer.slug) if request.query_params.get("edit") else web.render(
            request, "console_microcredential.html", title=entry.definition.name, entry=entry, issuer=issuer, missing=missing,
            versions=platform.catalog.versions(mc_id),
        )  # fmt: skip

    def award_form(request: Request, entry: Any, values: dict[str, str], error: str | None = None) -> Response:
        status = 422 if error else 200
        title = f"Award {entry.definition.name}"
        return web.render(request, "console_award.html", status, title=title, entry=entry, values=values, error=error)

    @app.get("/console/microcredentials/{mc_id}/award", include_in_schema=False)
    def award_page(request: Request, mc_id: str) -> Response:
        user = web.staff(request)
        entry, _issuer = in_scope(user, mc_id)
        return award_form(request, entry, {})

    @app.post("/console/microcredentials/{mc_id}/award", include_in_schema=False)
    async def award(request: Request, mc_id: str) -> Response:
        user = web.staff(request)
        entry, issuer = in_scope(user, mc_id)
        form = await web.form(request)
        values = {
            k: field(form, k)
            for k in ("email", "name", "external_id", "evidence_url", "narrative", "grade", "valid_until")
        }
        try:
            valid_until = parse_expiry(values["valid_until"]) if values["valid_until"] else None
        except InputError:
            return award_form(request, entry, values, "the expiry date must look like 2027-12-31")
        request_ = AwardRequest(
            mc_id,
            values["email"],
            values["name"] or None,
            values["external_id"] or None,
            values["evidence_url"] or None,
            values["narrative"] or None,
            values["grade"] or None,
            valid_until,
        )
        try:
            outcome = platform.awards.award(request_, actor=user.email)
        except MicrocredError as exc:
            return award_form(request, entry, values, exc.message)
        if not outcome.created:
            return web.redirect(
                f"/console/awards/{outcome.id}", "This learner already holds this award; nothing new was issued."
            )
        platform.web_accounts.notify_award(
            outcome.id, values["email"].lower(), entry.definition.name, issuer.name, platform.runtime.base_url
        )
        return web.redirect(
            f"/console/awards/{outcome.id}", f"Awarded to {values['email']}; they have been sent a link."
        )

    @app.post("/console/microcredentials/{mc_id}/image", include_in_schema=False)
    async def upload_image(request: Request, mc_id: str) -> Response:
        user = web.staff(request)
        in_scope(user, mc_id)
        form = await web.form(request)
        upload = form.get("image")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return web.redirect(f"/console/microcredentials/{mc_id}", "Choose a PNG or SVG file first.")
        try:
            platform.catalog.set_image(mc_id, await upload.read(2 * 1024 * 1024 + 1), actor=user.email)
        except InputError as exc:
            return web.redirect(f"/console/microcredentials/{mc_id}", f"The image was not used: {exc.message}")
        return web.redirect(f"/console/microcredentials/{mc_id}", "The badge image is updated; later awards carry it.")

    @app.get("/console/skills.json", include_in_schema=False)
    def skills(request: Request, q: str = "") -> Response:
        web.staff(request)
        found = [
            {"uri": h.skill.uri, "label": h.skill.label, "framework": h.skill.framework}
            for h in platform.taxonomy.search(q, 12)
        ]
        return Response(json.dumps(found), media_type="application/json")
