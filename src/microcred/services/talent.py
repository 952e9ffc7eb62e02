"""Employers' views: candidates ranked for a role by verified skills, and a team's coverage of roles."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from microcred.errors import ForbiddenError, InputError
from microcred.services.accounts import Principal
from microcred.services.issuing import Runtime
from microcred.services.job_roles import JobRoleService, Role
from microcred.storage.skill_queries import CandidateFilter

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class Proof:
    skill_uri: str
    skill_label: str
    credential: str
    issuer: str
    issued_at: datetime
    expires_at: datetime | None
    source: str


@dataclass(slots=True)
class Candidate:
    user_id: int
    name: str
    email: str
    country: str | None
    score: float  # weighted coverage, 0-1
    covered: int
    last_issued: datetime | None
    level: int
    proofs: list[Proof] = field(default_factory=list)
    missing: list[tuple[str, str, bool]] = field(default_factory=list)  # (uri, label, essential)

    def json(self) -> dict[str, Any]:
        return {
            "learner": {"name": self.name, "email": self.email, "country": self.country},
            "score": round(self.score, 4), "coveredSkills": self.covered, "level": self.level or None,
            "latestCredential": self.last_issued.isoformat() if self.last_issued else None,
            "proves": [{"skill": p.skill_uri, "label": p.skill_label, "credential": p.credential, "issuer": p.issuer,
                        "issued": p.issued_at.isoformat(), "source": p.source,
                        "expires": p.expires_at.isoformat() if p.expires_at else None} for p in self.proofs],
            "missing": [{"skill": u, "label": lbl, "essential": e} for u, lbl, e in self.missing],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Match:
    role: Role
    total: int
    candidates: list[Candidate]


@dataclass(frozen=True, slots=True)
class TeamView:
    roles: list[Role]
    members: list[tuple[int, str]]  # (user id, name)
    coverage: dict[int, set[str]]  # user id -> skill URIs proven
    gaps: list[tuple[str, str, int, float]]  # (uri, label, members lacking it, weight lacking) most pressing first


def _filters(country: str | None, issuer: str | None, achievement_type: str | None) -> CandidateFilter:
    code = (country or "").strip().upper() or None
    if code is not None and len(code) != 2:
        raise InputError("country must be a two-letter code")
    return CandidateFilter(code, (issuer or "").strip() or None, (achievement_type or "").strip() or None)


class TalentService:
    def __init__(self, runtime: Runtime, roles: JobRoleService) -> None:
        self.runtime = runtime
        self.roles = roles

    def match(
        self, principal: Principal, role_id: int, *, country: str | None = None, issuer: str | None = None,
        achievement_type: str | None = None, limit: int = 20, offset: int = 0,
    ) -> Match:  # fmt: skip
        _employer_side(principal)
        role = self.roles.get(principal, role_id)
        limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
        weights = {s.skill_id: s.weight for s in role.skills}
        total_weight = sum(weights.values())
        where = _filters(country, issuer, achievement_type)
        now = self.runtime.clock.now()
        with self.runtime.db.read() as repo:
            ranked = repo.rank_candidates(weights, now, where, limit, offset)
            ids = [r.user_id for r in ranked]
            users = repo.users_by_id(ids)
            profiles = repo.learner_profiles(ids)
            evidence = repo.evidence(ids, list(weights), now, discoverable_only=True)
        candidates = {
            r.user_id: Candidate(
                r.user_id, users[r.user_id].name or users[r.user_id].email, users[r.user_id].email,
                profiles[r.user_id].country if r.user_id in profiles else None, r.score / total_weight, r.skills,
                r.last_issued, r.level,
            )
            for r in ranked
        }  # fmt: skip
        self._explain(candidates, role, evidence, where)
        return Match(role, ranked[0].total if ranked else 0, [candidates[i] for i in ids])

    @staticmethod
    def _explain(candidates: dict[int, Candidate], role: Role, evidence: list[Any], where: CandidateFilter) -> None:
        for row, ref in evidence:
            if where.issuer and where.issuer not in (row.issuer, row.issuer_name):
                continue
            if where.achievement_type and row.achievement_type != where.achievement_type:
                continue
            candidates[row.user_id].proofs.append(
                Proof(
                    ref.uri, ref.label, row.credential_name, row.issuer_name, row.issued_at, row.expires_at, row.source
                )
            )
        for candidate in candidates.values():
            proven = {p.skill_uri for p in candidate.proofs}
            candidate.missing = [(s.uri, s.label, s.essential) for s in role.skills if s.uri not in proven]

    def shortlist_csv(self, principal: Principal, role_id: int, **filters: Any) -> str:
        match = self.match(principal, role_id, limit=MAX_PAGE, **filters)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["rank", "name", "email", "country", "score", "skills_proven", "skills_missing", "evidence"])
        for rank, c in enumerate(match.candidates, 1):
            evidence = "; ".join(
                f"{p.skill_label} <- {p.credential} ({p.issuer}, {p.issued_at.date()})" for p in c.proofs
            )
            writer.writerow([
                rank, _cell(c.name), c.email, c.country or "", f"{c.score:.3f}", c.covered,
                _cell("; ".join(label for _u, label, _e in c.missing)), _cell(evidence),
            ])  # fmt: skip
        return out.getvalue()

    def team(self, principal: Principal, role_ids: list[int]) -> TeamView:
        _employer_side(principal)
        if principal.organisation_id is None:
            raise ForbiddenError("a team belongs to an organisation; sign in as its staff")
        if not role_ids:
            raise InputError("choose at least one role")
        roles = [self.roles.get(principal, role_id) for role_id in role_ids]
        now = self.runtime.clock.now()
        with self.runtime.db.read() as repo:
            members = repo.team(principal.organisation_id)
            skill_ids = sorted({s.skill_id for r in roles for s in r.skills})
            evidence = repo.evidence([m.id for m in members], skill_ids, now, discoverable_only=False)
        coverage: dict[int, set[str]] = {m.id: set() for m in members}
        for row, ref in evidence:
            coverage[row.user_id].add(ref.uri)
        lacking: dict[str, list[Any]] = {}
        for role in roles:
            for skill in role.skills:
                entry = lacking.setdefault(skill.uri, [skill.label, 0, 0.0])
                absent = sum(1 for m in members if skill.uri not in coverage[m.id])
                entry[1] = max(entry[1], absent)
                entry[2] += absent * skill.weight
        gaps = sorted(((u, e[0], e[1], e[2]) for u, e in lacking.items() if e[1]), key=lambda g: (-g[3], g[1]))
        return TeamView(roles, [(m.id, m.name or m.email) for m in members], coverage, gaps)


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a quote keeps them text."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _employer_side(principal: Principal) -> None:
    if principal.role == "learner":
        raise ForbiddenError("candidate search is for employers and issuers")
