"""Employer pages: job roles (from an occupation, picked skills or a pasted advertisement), ranked candidates
with the credentials that prove each skill, a CSV shortlist, and the team's skill coverage as a heatmap."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from microcred.errors import InputError, MicrocredError
from microcred.services.job_roles import RoleSkillIn
from microcred.services.web_accounts import SessionUser
from microcred.web.core import Web, field

EMPLOYER_SIDE = ("employer", "issuer_admin", "issuer_staff")
CELL, LABEL_WIDTH, HEAD_HEIGHT = 22, 180, 170


def install(app: FastAPI, web: Web) -> None:
    _roles(app, web)
    _candidates(app, web)
    _team(app, web)


def _user(web: Web, request: Request) -> SessionUser:
    return web.require(request, *EMPLOYER_SIDE)


def _organisation_slug(web: Web, user: SessionUser) -> str | None:
    with web.platform.runtime.db.read() as repo:
        organisations = {o.id: o.slug for o in repo.organisations()}
    return organisations.get(user.organisation_id) if user.organisation_id else None


def _roles(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/talent", include_in_schema=False)
    def roles(request: Request, occupation_q: str = "") -> Response:
        user = _user(web, request)
        found = platform.taxonomy.search_occupations(occupation_q, 15) if occupation_q.strip() else []
        return web.render(request, "talent_roles.html", title="Job roles", roles=platform.roles.list(user.principal),
                          occupation_q=occupation_q, occupations=found, attribution=True)  # fmt: skip

    @app.post("/talent/roles", include_in_schema=False)
    async def create(request: Request) -> Response:
        user = _user(web, request)
        form = await web.form(request)
        slug = _organisation_slug(web, user)
        if slug is None:
            return web.redirect("/talent", "Not saved: your account belongs to no organisation.")
        how, title = field(form, "how"), field(form, "title")
        try:
            if how == "occupation":
                uri = field(form, "occupation")
                skills = platform.roles.from_occupation(uri, with_optional=field(form, "optional") == "yes")
                role = platform.roles.create(user.principal, slug, title or platform.taxonomy.occupation(uri).label,
                                             skills, occupation_uri=uri, source="occupation")  # fmt: skip
            elif how == "text":
                text = field(form, "text")
                role = platform.roles.create(user.principal, slug, title, platform.roles.from_text(text),
                                             description=text, source="text")  # fmt: skip
            else:
                uris = [u.strip() for u in field(form, "skills").splitlines() if u.strip()]
                role = platform.roles.create(user.principal, slug, title, [RoleSkillIn(uri=u) for u in uris])
        except (MicrocredError, ValueError) as exc:
            message = exc.message if isinstance(exc, MicrocredError) else str(exc).splitlines()[0]
            return web.redirect("/talent", f"Not saved: {message}")
        return web.redirect(f"/talent/roles/{role.id}", f"Role saved with {len(role.skills)} skills; edit them below.")

    @app.post("/talent/roles/{role_id}", include_in_schema=False)
    async def edit(request: Request, role_id: int) -> Response:
        user = _user(web, request)
        form = await web.form(request)
        role = platform.roles.get(user.principal, role_id)
        try:
            skills = _edited_skills(form, role, platform)
            platform.roles.update(user.principal, role_id, title=field(form, "title") or None, skills=skills)
        except MicrocredError as exc:
            return web.redirect(f"/talent/roles/{role_id}", f"Not saved: {exc.message}")
        return web.redirect(f"/talent/roles/{role_id}", "Role updated.")

    @app.post("/talent/roles/{role_id}/delete", include_in_schema=False)
    async def delete(request: Request, role_id: int) -> Response:
        user = _user(web, request)
        await web.form(request)
        platform.roles.delete(user.principal, role_id)
        return web.redirect("/talent", "Role deleted.")


def _edited_skills(form: Any, role: Any, platform: Any) -> list[RoleSkillIn]:
    """The role's skills as edited: kept ones with their new weights, plus one added by URI or search."""
    skills = []
    for skill in role.skills:
        if field(form, f"remove-{skill.skill_id}") == "yes":
            continue
        try:
            importance = int(field(form, f"importance-{skill.skill_id}") or skill.importance)
        except ValueError as exc:
            raise InputError("importance must be a whole number from 1 to 5") from exc
        if not 1 <= importance <= 5:
            raise InputError("importance must be a whole number from 1 to 5")
        essential = field(form, f"essential-{skill.skill_id}") == "yes"
        skills.append(RoleSkillIn(uri=skill.uri, essential=essential, importance=importance))
    added = field(form, "add")
    if added:
        uri = (
            added if added.startswith("http") else next((h.skill.uri for h in platform.taxonomy.search(added, 1)), None)
        )
        if uri is None:
            raise InputError(f"no skill matches {added!r}")
        platform.taxonomy.skill(uri)
        skills.append(RoleSkillIn(uri=uri, essential=field(form, "add_essential") == "yes"))
    return skills


def _candidates(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/talent/roles/{role_id}", include_in_schema=False)
    def role_page(
        request: Request, role_id: int, country: str = "", issuer: str = "", type: str = "", page: int = 1
    ) -> Response:
        user = _user(web, request)
        role = platform.roles.get(user.principal, role_id)
        filters = {"country": country or None, "issuer": issuer or None, "achievement_type": type or None}
        page = max(1, page)
        try:
            match = platform.talent.match(user.principal, role_id, limit=20, offset=(page - 1) * 20, **filters)
            problem = None
        except InputError as exc:
            match, problem = None, exc.message
        query = "&".join(f"{k}={v}" for k, v in (("country", country), ("issuer", issuer), ("type", type)) if v)
        return web.render(request, "talent_role.html", title=role.title, role=role, match=match, problem=problem,
                          country=country, issuer=issuer, type=type, page=page, query=query, attribution=True)  # fmt: skip

    @app.get("/talent/roles/{role_id}/shortlist.csv", include_in_schema=False)
    def shortlist(request: Request, role_id: int, country: str = "", issuer: str = "", type: str = "") -> Response:
        user = _user(web, request)
        text = platform.talent.shortlist_csv(user.principal, role_id, country=country or None, issuer=issuer or None,
                                             achievement_type=type or None)  # fmt: skip
        headers = {"Content-Disposition": f'attachment; filename="shortlist-role-{role_id}.csv"'}
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


def _team(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/talent/team", include_in_schema=False)
    def team(request: Request) -> Response:
        user = _user(web, request)
        roles = platform.roles.list(user.principal)
        chosen = [int(v) for v in request.query_params.getlist("role") if v.isdigit()] or [r.id for r in roles[:1]]
        view, problem = None, None
        if chosen:
            try:
                view = platform.talent.team(user.principal, chosen)
            except MicrocredError as exc:
                problem = exc.message
        heat = _heatmap(view) if view else None
        return web.render(request, "talent_team.html", title="Team skills", roles=roles, chosen=chosen, view=view,
                          heat=heat, problem=problem, attribution=True)  # fmt: skip


def _heatmap(view: Any) -> dict[str, Any]:
    """Cells for the SVG picture: one row per team member, one column per skill of the chosen roles."""
    skills: dict[str, tuple[str, bool]] = {}
    for role in view.roles:
        for s in role.skills:
            essential = skills.get(s.uri, (s.label, False))[1] or s.essential
            skills[s.uri] = (s.label, essential)
    lacking = {uri: n for uri, _l, n, _w in view.gaps}
    columns = sorted(skills.items(), key=lambda item: (-lacking.get(item[0], 0), item[1][0]))
    cells = [
        {"x": LABEL_WIDTH + c * CELL, "y": HEAD_HEIGHT + r * CELL, "covered": uri in view.coverage[uid],
         "title": f"{name}: {label} {'proven' if uri in view.coverage[uid] else 'missing'}"}
        for r, (uid, name) in enumerate(view.members)
        for c, (uri, (label, _e)) in enumerate(columns)
    ]  # fmt: skip
    heads = [{"x": LABEL_WIDTH + c * CELL + CELL // 2, "label": label[:28], "essential": e}
             for c, (_u, (label, e)) in enumerate(columns)]  # fmt: skip
    rows = [{"y": HEAD_HEIGHT + r * CELL + CELL * 0.7, "name": name[:24]} for r, (_id, name) in enumerate(view.members)]
    width = LABEL_WIDTH + max(1, len(columns)) * CELL + 10
    height = HEAD_HEIGHT + max(1, len(view.members)) * CELL + 10
    return {"cells": cells, "heads": heads, "rows": rows, "width": width, "height": height, "cell": CELL - 2,
            "head": HEAD_HEIGHT, "columns": columns}  # fmt: skip
