"""REST API for skills intelligence: taxonomy, learner skill profiles, job roles, candidates, gaps and plans."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from microcred import bootstrap
from microcred.api.auth import Auth, require
from microcred.errors import InputError
from microcred.services.job_roles import RoleSkillIn
from microcred.services.learning import CatalogueFilter, plan_json
from microcred.services.taxonomy import hit_json

EMPLOYER_SIDE = ("employer", "issuer_admin", "issuer_staff")


class ExtractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=200_000)
    limit: int = Field(default=30, ge=1, le=200)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation: str
    title: str | None = Field(default=None, max_length=300)
    occupation: str | None = None
    skills: list[RoleSkillIn] | None = None
    text: str | None = Field(default=None, max_length=200_000)
    essential_only: bool = False


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=300)
    skills: list[RoleSkillIn] | None = None


class DiscoverableIn(BaseModel):
    credential: str = Field(min_length=1, max_length=36)
    discoverable: bool


class ProfileIn(BaseModel):
    country: str | None = Field(default=None, max_length=2)


class ShareIn(BaseModel):
    shared: bool


def install(app: FastAPI, platform: bootstrap.Platform) -> None:
    _taxonomy_routes(app, platform)
    _learner_routes(app, platform)
    _role_routes(app, platform)


def _with_attribution(platform: bootstrap.Platform, key: str, value: Any) -> dict[str, Any]:
    return {key: value, "attribution": platform.taxonomy.attribution}


def _taxonomy_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.get("/api/v1/skills", tags=["skills"])
    def search_skills(
        who: Auth, q: str = Query(max_length=200), limit: int = Query(10, ge=1, le=100), framework: str | None = None
    ) -> dict[str, Any]:
        return _with_attribution(
            platform, "skills", [hit_json(h) for h in platform.taxonomy.search(q, limit, framework)]
        )

    @app.post("/api/v1/skills/extract", tags=["skills"])
    def extract_skills(body: ExtractIn, who: Auth) -> dict[str, Any]:
        return _with_attribution(
            platform, "skills", [hit_json(h) for h in platform.taxonomy.extract(body.text, body.limit)]
        )

    @app.get("/api/v1/occupations", tags=["skills"])
    def search_occupations(
        who: Auth, q: str = Query(max_length=200), limit: int = Query(10, ge=1, le=100)
    ) -> dict[str, Any]:
        found = [
            {"uri": o.uri, "label": o.label, "code": o.code} for o in platform.taxonomy.search_occupations(q, limit)
        ]
        return _with_attribution(platform, "occupations", found)

    @app.get("/api/v1/catalogue", tags=["skills"])
    def search_catalogue(
        who: Auth, text: str | None = Query(None, max_length=200), skill: str | None = Query(None, max_length=500),
        max_price: float | None = Query(None, ge=0), max_hours: float | None = Query(None, ge=0),
        level: int | None = Query(None, ge=1, le=8), language: str | None = None, provider: str | None = None,
        mode: str | None = None, limit: int = Query(50, ge=1, le=500),
    ) -> list[dict[str, Any]]:  # fmt: skip
        where = CatalogueFilter(text, skill, max_price, max_hours, level, language, provider, mode)
        return [
            {"id": i.offer.id, "name": i.offer.name, "provider": i.offer.provider, "price": i.offer.price,
             "currency": i.offer.currency, "hours": i.offer.hours, "level": i.offer.level,
             "language": i.offer.language, "mode": i.offer.delivery_mode, "skills": sorted(i.offer.skills),
             "prerequisites": list(i.offer.prerequisites)}
            for i in platform.learning.search_catalogue(where, limit)
        ]  # fmt: skip


def _learner_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.get("/api/v1/me/skills", tags=["learners"])
    def my_skills(who: Auth) -> dict[str, Any]:
        now = platform.runtime.clock.now()
        skills = [
            {"skill": s.uri, "label": s.label, "framework": s.framework, "freshness": s.freshness(now),
             "latest": s.latest.isoformat(),
             "credentials": [{"id": e.ref, "name": e.name, "issuer": e.issuer_name, "issued": e.issued_at.isoformat(),
                              "expires": e.expires_at.isoformat() if e.expires_at else None, "source": e.source,
                              "discoverable": e.discoverable} for e in s.evidence]}
            for s in platform.skills.profile(who.email)
        ]  # fmt: skip
        return _with_attribution(platform, "skills", skills)

    @app.put("/api/v1/me/skills/discoverable", tags=["learners"])
    def set_discoverable(body: DiscoverableIn, who: Auth) -> dict[str, Any]:
        require(who, "learner")
        platform.skills.set_discoverable(who.email, body.credential, body.discoverable)
        return {"credential": body.credential, "discoverable": body.discoverable}

    @app.put("/api/v1/me/profile", tags=["learners"])
    def set_profile(body: ProfileIn, who: Auth) -> dict[str, Any]:
        require(who, "learner")
        platform.skills.set_country(who.email, body.country)
        return {"country": platform.skills.country(who.email)}

    @app.put("/api/v1/me/shares/{organisation}", tags=["learners"])
    def share(organisation: str, body: ShareIn, who: Auth) -> dict[str, Any]:
        require(who, "learner")
        platform.skills.share(who.email, organisation, body.shared)
        return {"organisation": organisation, "shared": body.shared}

    @app.get("/api/v1/me/gap", tags=["learners"])
    def my_gap(who: Auth, role: int | None = None, occupation: str | None = None) -> dict[str, Any]:
        target = platform.learning.target(who, role_id=role, occupation=occupation)
        return platform.learning.gap(who.email, target).json()

    @app.get("/api/v1/me/plan", tags=["learners"])
    def my_plan(
        who: Auth, role: int | None = None, occupation: str | None = None,
        minimize: Literal["price", "hours"] = "price", budget: float | None = Query(None, ge=0),
        max_hours: float | None = Query(None, ge=0), essential_only: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        target = platform.learning.target(who, role_id=role, occupation=occupation)
        gap, plan = platform.learning.recommend(
            who.email, target, minimize=minimize, budget=budget, max_hours=max_hours, essential_only=essential_only
        )
        return plan_json(plan, gap, platform.learning.catalogue(), minimize)


def _role_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    roles = platform.roles

    @app.post("/api/v1/roles", status_code=201, tags=["roles"])
    def create_role(body: RoleIn, who: Auth) -> dict[str, Any]:
        require(who, *EMPLOYER_SIDE)
        given = [x for x in (body.occupation, body.skills, body.text) if x is not None]
        if len(given) != 1:
            raise InputError("give exactly one of occupation, skills and text")
        title, source = body.title, "skills"
        if body.occupation is not None:
            skills, source = roles.from_occupation(body.occupation, with_optional=not body.essential_only), "occupation"
            title = title or platform.taxonomy.occupation(body.occupation).label
        elif body.text is not None:
            skills, source = roles.from_text(body.text), "text"
        else:
            skills = body.skills or []
        if not title:
            raise InputError("a role needs a title")
        role = roles.create(who, body.organisation, title, skills, description=body.text, occupation_uri=body.occupation,
                            source=source)  # fmt: skip
        return role.json()

    @app.get("/api/v1/roles", tags=["roles"])
    def list_roles(who: Auth) -> list[dict[str, Any]]:
        require(who, *EMPLOYER_SIDE)
        return [r.json() for r in roles.list(who)]

    @app.get("/api/v1/roles/{role_id}", tags=["roles"])
    def get_role(role_id: int, who: Auth) -> dict[str, Any]:
        require(who, *EMPLOYER_SIDE)
        return roles.get(who, role_id).json()

    @app.put("/api/v1/roles/{role_id}", tags=["roles"])
    def update_role(role_id: int, body: RoleUpdate, who: Auth) -> dict[str, Any]:
        require(who, *EMPLOYER_SIDE)
        return roles.update(who, role_id, title=body.title, skills=body.skills).json()

    @app.delete("/api/v1/roles/{role_id}", status_code=204, tags=["roles"])
    def delete_role(role_id: int, who: Auth) -> Response:
        require(who, *EMPLOYER_SIDE)
        roles.delete(who, role_id)
        return Response(status_code=204)

    @app.get("/api/v1/roles/{role_id}/candidates", tags=["roles"])
    def candidates(
        role_id: int, who: Auth, country: str | None = Query(None, max_length=2), issuer: str | None = None,
        type: str | None = None, limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:  # fmt: skip
        require(who, *EMPLOYER_SIDE)
        match = platform.talent.match(who, role_id, country=country, issuer=issuer, achievement_type=type,
                                      limit=limit, offset=offset)  # fmt: skip
        return {"role": match.role.json(), "total": match.total, "candidates": [c.json() for c in match.candidates],
                "attribution": platform.taxonomy.attribution}  # fmt: skip

    @app.get("/api/v1/roles/{role_id}/shortlist.csv", tags=["roles"])
    def shortlist(
        role_id: int, who: Auth, country: str | None = Query(None, max_length=2), issuer: str | None = None,
        type: str | None = None,
    ) -> Response:  # fmt: skip
        require(who, *EMPLOYER_SIDE)
        text = platform.talent.shortlist_csv(who, role_id, country=country, issuer=issuer, achievement_type=type)
        headers = {"Content-Disposition": f'attachment; filename="shortlist-role-{role_id}.csv"'}
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)

    @app.get("/api/v1/team", tags=["roles"])
    def team(who: Auth, role: Annotated[list[int] | None, Query()] = None) -> dict[str, Any]:
        require(who, *EMPLOYER_SIDE)
        view = platform.talent.team(who, role or [])
        return {
            "roles": [r.json() for r in view.roles],
            "members": [{"name": name, "skills": sorted(view.coverage[uid])} for uid, name in view.members],
            "gaps": [{"skill": u, "label": lbl, "membersLacking": n, "weightLacking": w} for u, lbl, n, w in view.gaps],
            "attribution": platform.taxonomy.attribution,
        }  # fmt: skip
