"""Learner pages: my verified skills and who may see them, my gap for a target and the plan that closes it,
and the public catalogue search."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from microcred.errors import MicrocredError
from microcred.services.learning import CatalogueFilter
from microcred.web.core import Web, field


def install(app: FastAPI, web: Web) -> None:
    _profile(app, web)
    _plan(app, web)
    _catalogue(app, web)


def _profile(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/wallet/skills", include_in_schema=False)
    def my_skills(request: Request) -> Response:
        user = web.require(request, "learner")
        now = platform.runtime.clock.now()
        held = platform.skills.held(user.email) if user.verified else []
        skills = platform.skills.profile(user.email, held)
        with platform.runtime.db.read() as repo:
            employers = [o for o in repo.organisations() if any(u.role == "employer" for u in repo.users_of(o.id))]
        shared = {o.id for o in platform.skills.shared_with(user.email)}
        return web.render(request, "wallet_skills.html", title="My skills", skills=skills, held=held, now=now,
                          country=platform.skills.country(user.email) or "", employers=employers, shared=shared,
                          attribution=True)  # fmt: skip

    @app.post("/wallet/skills/discoverable", include_in_schema=False)
    async def discoverable(request: Request) -> Response:
        user = web.require(request, "learner")
        form = await web.form(request)
        chosen = {v for v in form.getlist("discoverable") if isinstance(v, str)}
        try:
            platform.skills.choose_discoverable(user.email, chosen)
            platform.skills.set_country(user.email, field(form, "country") or None)
        except MicrocredError as exc:
            return web.redirect("/wallet/skills", f"Not saved: {exc.message}")
        return web.redirect("/wallet/skills", "Saved: employers find you only through the credentials you ticked.")

    @app.post("/wallet/skills/share", include_in_schema=False)
    async def share(request: Request) -> Response:
        user = web.require(request, "learner")
        form = await web.form(request)
        try:
            platform.skills.share(user.email, field(form, "organisation"), field(form, "shared") == "yes")
        except MicrocredError as exc:
            return web.redirect("/wallet/skills", f"Not saved: {exc.message}")
        return web.redirect("/wallet/skills", "Your choice of who sees your skills is saved.")


def _plan(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/wallet/plan", include_in_schema=False)
    def my_plan(
        request: Request, occupation_q: str = "", occupation: str = "", role: str = "", minimize: str = "price",
        budget: str = "", max_hours: str = "",
    ) -> Response:  # fmt: skip
        user = web.require(request, "learner")
        context: dict[str, Any] = {
            "occupation_q": occupation_q, "occupation": occupation, "role": role, "minimize": minimize,
            "budget": budget, "max_hours": max_hours, "gap": None, "plan": None, "problem": None,
            "occupations": platform.taxonomy.search_occupations(occupation_q, 10) if occupation_q.strip() else [],
            "roles": platform.learning.roles_for_learner(user.email),
        }  # fmt: skip
        if occupation or role:
            try:
                target = platform.learning.target(
                    user.principal, role_id=int(role) if role else None, occupation=occupation or None
                )
                gap, plan = platform.learning.recommend(
                    user.email, target, minimize="hours" if minimize == "hours" else "price",
                    budget=_number(budget, "budget"), max_hours=_number(max_hours, "maximum hours"),
                )  # fmt: skip
                labels = {u: label for u, label, _e, _w in gap.missing}
                context.update(gap=gap, plan=plan, labels=labels, catalogue=platform.learning.catalogue())
            except (MicrocredError, ValueError) as exc:
                context["problem"] = exc.message if isinstance(exc, MicrocredError) else str(exc)
        return web.render(request, "wallet_plan.html", title="Close my skills gap", attribution=True, **context)


def _number(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise ValueError(f"the {name} must be a number") from exc
    if value < 0:
        raise ValueError(f"the {name} must not be negative")
    return value


def _catalogue(app: FastAPI, web: Web) -> None:
    platform = web.platform

    @app.get("/catalogue", include_in_schema=False)
    def catalogue(
        request: Request, text: str = "", skill: str = "", max_price: str = "", max_hours: str = "", level: str = "",
        language: str = "", provider: str = "", mode: str = "",
    ) -> Response:  # fmt: skip
        values = {"text": text, "skill": skill, "max_price": max_price, "max_hours": max_hours, "level": level,
                  "language": language, "provider": provider, "mode": mode}  # fmt: skip
        problem, items = None, []
        try:
            where = CatalogueFilter(
                text[:200] or None, skill[:500] or None, _number(max_price, "maximum price"),
                _number(max_hours, "maximum hours"), int(level) if level.isdigit() else None, language or None,
                provider or None, mode or None,
            )  # fmt: skip
            items = platform.learning.search_catalogue(where, 100)
        except ValueError as exc:
            problem = str(exc)
        return web.render(request, "catalogue.html", title="Catalogue", values=values, items=items, problem=problem,
                          attribution=True)  # fmt: skip
