"""For a learner and a target: the skills gap, an optimal plan of microcredentials to close it, and catalogue search."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from microcred.domain.learning_plan import Limits, Measure, Offer, Plan, plan
from microcred.domain.skills import tokens
from microcred.errors import InputError
from microcred.services.accounts import Principal
from microcred.services.issuing import NotFound, Runtime
from microcred.services.job_roles import ESSENTIAL_IMPORTANCE, OPTIONAL_IMPORTANCE, JobRoleService, Role
from microcred.services.skill_profile import ProfileSkill, SkillProfileService
from microcred.services.taxonomy import TaxonomyService

CATALOGUE_TTL = 3.0


@dataclass(frozen=True, slots=True)
class Target:
    title: str
    skills: list[tuple[str, str, bool, float]]  # (uri, label, essential, weight)


@dataclass(frozen=True, slots=True)
class Gap:
    target: Target
    covered: list[tuple[str, str, bool, ProfileSkill]]
    missing: list[tuple[str, str, bool, float]]

    def json(self) -> dict[str, Any]:
        return {
            "target": self.target.title,
            "covered": [{"skill": u, "label": lbl, "essential": e, "credentials": [p.name for p in s.evidence]}
                        for u, lbl, e, s in self.covered],
            "missing": [{"skill": u, "label": lbl, "essential": e, "weight": w} for u, lbl, e, w in self.missing],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class CatalogueFilter:
    text: str | None = None
    skill: str | None = None  # a skill URI, or words of a skill label
    max_price: float | None = None
    max_hours: float | None = None
    level: int | None = None
    language: str | None = None
    provider: str | None = None
    delivery_mode: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    offer: Offer
    description: str
    text: str  # lower-cased words to search


class LearningService:
    def __init__(
        self, runtime: Runtime, taxonomy: TaxonomyService, profiles: SkillProfileService, roles: JobRoleService
    ) -> None:
        self.runtime = runtime
        self.taxonomy = taxonomy
        self.profiles = profiles
        self.roles = roles
        self._catalogue: tuple[float, int, dict[str, CatalogueItem]] | None = None
        self._lock = threading.Lock()

    # -- targets and gaps --------------------------------------------------------------------
    def target(
        self, principal: Principal | None, *, role_id: int | None = None, occupation: str | None = None
    ) -> Target:
        if (role_id is None) == (occupation is None):
            raise InputError("give either a job role or an occupation")
        if occupation is not None:
            record = self.taxonomy.occupation(occupation)
            essential, optional = self.taxonomy.occupation_skills(occupation)
            skills = [(s.uri, s.label, True, float(ESSENTIAL_IMPORTANCE)) for s in essential]
            skills += [(s.uri, s.label, False, float(OPTIONAL_IMPORTANCE)) for s in optional]
            return Target(record.label, skills)
        who = principal or _system()
        if who.role == "learner":  # a learner may aim at the roles of employers they share their skills with
            shared = {o.id for o in self.profiles.shared_with(who.email)}
            role = self.roles.get(_system(), role_id)  # type: ignore[arg-type]
            if role.organisation_id not in shared:
                raise NotFound(f"no job role {role_id}")
        else:
            role = self.roles.get(who, role_id)  # type: ignore[arg-type]
        return Target(role.title, [(s.uri, s.label, s.essential, s.weight) for s in role.skills])

    def roles_for_learner(self, email: str) -> list[Role]:
        shared = {o.id for o in self.profiles.shared_with(email)}
        return [r for r in self.roles.list(_system()) if r.organisation_id in shared]

    def gap(self, email: str, target: Target) -> Gap:
        held = {s.uri: s for s in self.profiles.profile(email)}
        covered = [(u, lbl, e, held[u]) for u, lbl, e, _w in target.skills if u in held]
        missing = [(u, lbl, e, w) for u, lbl, e, w in target.skills if u not in held]
        return Gap(target, covered, missing)

    def recommend(
        self, email: str, target: Target, *, minimize: Measure = "price", budget: float | None = None,
        max_hours: float | None = None, essential_only: bool = False,
    ) -> tuple[Gap, Plan]:  # fmt: skip
        if minimize not in ("price", "hours"):
            raise InputError("minimize must be price or hours")
        for name, value in (("budget", budget), ("max hours", max_hours)):
            if value is not None and value < 0:
                raise InputError(f"the {name} must not be negative")
        gap = self.gap(email, target)
        missing = {u: w for u, _l, e, w in gap.missing if e or not essential_only}
        held = self._held_offers(email)
        offers = [item.offer for item in self.catalogue().values()]
        return gap, plan(missing, offers, held, Limits(minimize, budget, max_hours))

    def _held_offers(self, email: str) -> set[str]:
        """The catalogue entries the learner holds an award of that still counts (prerequisites they meet)."""
        with self.runtime.db.read() as repo:
            return repo.held_microcredentials(email, self.runtime.clock.now())

    # -- the catalogue -------------------------------------------------------------------------------
    def catalogue(self) -> dict[str, CatalogueItem]:
        """Every published microcredential's current version as an offer; rebuilt at most every few seconds."""
        now = time.monotonic()
        cached = self._catalogue
        if cached is not None and cached[0] > now and cached[1] == self.runtime.changes.value:
            return cached[2]
        with self._lock:
            with self.runtime.db.read() as repo:
                rows = repo.catalogue(None, published_only=True)
            items = {mc.id: _item(mc.id, issuer.name, json.loads(definition)) for mc, issuer, definition, _n in rows}
            self._catalogue = (time.monotonic() + CATALOGUE_TTL, self.runtime.changes.value, items)
            return items

    def search_catalogue(self, where: CatalogueFilter, limit: int = 50) -> list[CatalogueItem]:
        words = tokens(where.text or "")
        skill_uris = self._skill_filter(where.skill)
        found = []
        for item in self.catalogue().values():
            offer = item.offer
            if words and not all(w in item.text for w in words):
                continue
            if skill_uris is not None and not offer.skills & skill_uris:
                continue
            if where.max_price is not None and (offer.price is None or offer.price > where.max_price):
                continue
            if where.max_hours is not None and (offer.hours is None or offer.hours > where.max_hours):
                continue
            if where.level is not None and offer.level != where.level:
                continue
            if where.language and (offer.language or "").lower() != where.language.lower():
                continue
            if where.provider and where.provider.lower() not in offer.provider.lower():
                continue
            if where.delivery_mode and (offer.delivery_mode or "").lower() != where.delivery_mode.lower():
                continue
            found.append(item)
        found.sort(key=lambda i: (i.offer.price if i.offer.price is not None else float("inf"), i.offer.name))
        return found[: max(1, min(limit, 500))]

    def _skill_filter(self, skill: str | None) -> set[str] | None:
        if not skill or not skill.strip():
            return None
        if skill.startswith(("http://", "https://")):
            return {skill.strip()}
        return {hit.skill.uri for hit in self.taxonomy.search(skill, 20)}


def _item(mc_id: str, provider: str, definition: dict[str, Any]) -> CatalogueItem:
    hours = definition.get("workload_hours") or definition.get("duration_hours")
    skills = frozenset(s["uri"] for s in definition.get("skills") or [] if isinstance(s, dict) and "uri" in s)
    offer = Offer(
        mc_id, definition.get("name", ""), provider, skills, definition.get("price"),
        float(hours) if hours else None, tuple(definition.get("prerequisite_microcredentials") or ()),
        definition.get("currency"), definition.get("language"), definition.get("eqf_level"),
        definition.get("participation_form") or definition.get("delivery_mode"),
    )  # fmt: skip
    labels = " ".join(s.get("label", "") for s in definition.get("skills") or [] if isinstance(s, dict))
    text = " ".join(tokens(" ".join([offer.name, provider, definition.get("description", ""), labels])))
    return CatalogueItem(offer, definition.get("description", ""), f" {text} ")


def _system() -> Principal:
    return Principal("system", "platform_admin", None)


def plan_json(plan_: Plan, gap: Gap, catalogue: dict[str, CatalogueItem], minimize: Measure) -> dict[str, Any]:
    labels = {u: lbl for u, lbl, _e, _w in gap.missing}
    return {
        "gap": gap.json(),
        "minimize": minimize,
        "method": plan_.method,
        "provenOptimal": plan_.optimal,
        "seconds": round(plan_.seconds, 4),
        "totalPrice": plan_.total("price"),
        "totalHours": plan_.total("hours"),
        "greedyCost": plan_.greedy_cost,
        "microcredentials": [
            {
                "id": o.id,
                "name": o.name,
                "provider": o.provider,
                "price": o.price,
                "currency": o.currency,
                "hours": o.hours,
                "prerequisites": list(o.prerequisites),
                "covers": [{"skill": s, "label": labels.get(s, s)} for s in plan_.covers.get(o.id, [])],
            }
            for o in plan_.offers
        ],
        "covered": [{"skill": s, "label": labels.get(s, s)} for s in plan_.covered],
        "uncovered": [
            {"skill": s, "label": labels.get(s, s), "inCatalogue": s not in plan_.unreachable} for s in plan_.uncovered
        ],
    }
