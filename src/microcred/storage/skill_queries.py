"""Queries of the verified-skill index, job roles and learners' sharing choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, desc, func, insert, or_, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcred.storage import models

E = models.SkillEvidence
H = models.SkillHolding


def holdings_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per skill: the newest issue, the highest level, and the last day any of it still counts (None: forever)."""
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        held = found.setdefault(row["skill_id"], {"skill_id": row["skill_id"], "last_issued": row["issued_at"],
                                                  "level": row["level"], "valid_until": row["expires_at"]})  # fmt: skip
        held["last_issued"] = max(held["last_issued"], row["issued_at"])
        if row["level"] is not None:
            held["level"] = max(held["level"] or 0, row["level"])
        if held["valid_until"] is not None:
            held["valid_until"] = None if row["expires_at"] is None else max(held["valid_until"], row["expires_at"])
    return list(found.values())


@dataclass(frozen=True, slots=True)
class CandidateFilter:
    country: str | None = None
    issuer: str | None = None  # an issuer's DID or exact name
    achievement_type: str | None = None


@dataclass(frozen=True, slots=True)
class RankedCandidate:
    user_id: int
    score: float
    skills: int
    last_issued: datetime | None
    level: int
    total: int  # how many candidates match at all


class SkillQueries:
    session: Session

    # -- skill references ---------------------------------------------------------------
    def skill_ids(self, skills: dict[str, tuple[str, str]]) -> dict[str, int]:
        """Integer ids for skill URIs (uri -> (label, framework)), creating the missing ones."""
        rows = {
            uri: {"uri": uri[:500], "label": label[:500], "framework": fw[:60]} for uri, (label, fw) in skills.items()
        }
        return self._ref_ids(models.SkillRef, models.SkillRef.uri, rows)

    def issuer_ids(self, issuers: dict[str, str]) -> dict[str, int]:
        """Integer ids for issuers (DID -> name), creating the missing ones."""
        rows = {did: {"did": did[:500], "name": name[:500]} for did, name in issuers.items()}
        return self._ref_ids(models.IssuerRef, models.IssuerRef.did, rows)

    def _ref_ids(self, model: Any, key: Any, rows: dict[str, dict[str, Any]]) -> dict[str, int]:
        found = self._known_ids(model, key, list(rows))
        for value, fields in rows.items():
            if value in found:
                continue
            try:
                with self.session.begin_nested():
                    row = model(**fields)
                    self.session.add(row)
                    self.session.flush()
                found[value] = row.id
            except IntegrityError:  # another writer named it first
                found.update(self._known_ids(model, key, [value]))
        return found

    def _known_ids(self, model: Any, key: Any, values: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(values), 500):
            query = select(key, model.id).where(key.in_(values[start : start + 500]))
            found.update({v: int(i) for v, i in self.session.execute(query)})
        return found

    def issuers_named(self, value: str) -> list[int]:
        """Issuers whose DID or name is exactly this."""
        query = select(models.IssuerRef.id).where(or_(models.IssuerRef.did == value, models.IssuerRef.name == value))
        return list(self.session.scalars(query))

    # -- evidence -----------------------------------------------------------------------------
    def replace_evidence(self, user_id: int, rows: list[dict[str, Any]]) -> None:
        """The learner's evidence rows, and the per-skill holdings their discoverable ones add up to."""
        self.session.execute(delete(E).where(E.user_id == user_id))
        self.session.execute(delete(H).where(H.user_id == user_id))
        if rows:
            self.session.execute(insert(E), [{**row, "user_id": user_id} for row in rows])
        holdings = holdings_of([row for row in rows if row["discoverable"]])
        if holdings:
            self.session.execute(insert(H), [{**row, "user_id": user_id} for row in holdings])

    def evidence(
        self, user_ids: list[int], skill_ids: list[int] | None, now: datetime, *, discoverable_only: bool
    ) -> list[tuple[models.SkillEvidence, models.SkillRef]]:
        """Evidence that counts now (not expired), with its skill."""
        rows: list[tuple[models.SkillEvidence, models.SkillRef]] = []
        for start in range(0, len(user_ids), 400):
            query = (
                select(E, models.SkillRef)
                .join(models.SkillRef, models.SkillRef.id == E.skill_id)
                .where(E.user_id.in_(user_ids[start : start + 400]), or_(E.expires_at.is_(None), E.expires_at > now))
                .order_by(E.issued_at.desc())
            )
            if skill_ids is not None:
                query = query.where(E.skill_id.in_(skill_ids))
            if discoverable_only:
                query = query.where(E.discoverable.is_(True))
            rows += [(evidence, ref) for evidence, ref in self.session.execute(query)]
        return rows

    def rank_candidates(
        self, weights: dict[int, float], now: datetime, where: CandidateFilter, limit: int, offset: int
    ) -> list[RankedCandidate]:
        """Discoverable learners by the summed weight of the role's skills they hold (each skill once)."""
        if where.issuer or where.achievement_type:
            return self._rank_by_evidence(weights, now, where, limit, offset)
        query = select(H.user_id.label("user_id"), H.skill_id.label("skill_id"), H.last_issued.label("last"),
                       H.level.label("level")).where(
            H.skill_id.in_(list(weights)), or_(H.valid_until.is_(None), H.valid_until > now)
        )  # fmt: skip
        if where.country:
            query = query.join(models.LearnerProfile, models.LearnerProfile.user_id == H.user_id).where(
                models.LearnerProfile.country == where.country
            )
        return self._ranked(query.subquery(), weights, limit, offset)

    def _rank_by_evidence(
        self, weights: dict[int, float], now: datetime, where: CandidateFilter, limit: int, offset: int
    ) -> list[RankedCandidate]:
        """With an issuer or credential-type filter, from the evidence rows that pass it."""
        conditions = [
            E.skill_id.in_(list(weights)),
            E.discoverable.is_(True),
            or_(E.expires_at.is_(None), E.expires_at > now),
        ]
        if where.issuer:
            issuers = self.issuers_named(where.issuer)
            if not issuers:
                return []
            conditions.append(E.issuer_ref.in_(issuers))
        if where.achievement_type:
            conditions.append(E.achievement_type == where.achievement_type)
        held = (
            select(E.user_id, E.skill_id, func.max(E.issued_at).label("last"), func.max(E.level).label("level"))
            .where(*conditions)
            .group_by(E.skill_id, E.user_id)  # the index's order: grouped as it is read
        )
        if where.country:
            held = held.join(models.LearnerProfile, models.LearnerProfile.user_id == E.user_id).where(
                models.LearnerProfile.country == where.country
            )
        return self._ranked(held.subquery(), weights, limit, offset)

    def _ranked(self, inner: Any, weights: dict[int, float], limit: int, offset: int) -> list[RankedCandidate]:
        score = func.sum(case(weights, value=inner.c.skill_id, else_=0.0)).label("score")
        last = type_coerce(func.max(inner.c.last), models.UtcDateTime()).label("last")
        level = func.coalesce(func.max(inner.c.level), 0).label("level")
        query = (
            select(inner.c.user_id, score, func.count().label("n"), last, level, func.count().over().label("total"))
            .group_by(inner.c.user_id)
            .order_by(desc("score"), desc("last"), desc("level"), inner.c.user_id)
            .limit(limit)
            .offset(offset)
        )
        return [
            RankedCandidate(int(u), float(s), int(n), t, int(lv), int(total))
            for u, s, n, t, lv, total in self.session.execute(query)
        ]

    def held_microcredentials(self, email: str, now: datetime) -> set[str]:
        """Microcredentials the learner holds an award of that counts now."""
        query = (
            select(models.MicrocredentialVersion.microcredential_id)
            .join(models.Award, models.Award.version_id == models.MicrocredentialVersion.id)
            .where(
                models.Award.recipient_email == email, models.Award.revoked_at.is_(None),
                models.Award.suspended.is_(False), or_(models.Award.valid_until.is_(None), models.Award.valid_until > now),
            )
        )  # fmt: skip
        return set(self.session.scalars(query))

    # -- learners' choices -----------------------------------------------------------------------
    def discoverable_refs(self, user_id: int) -> set[str]:
        query = select(models.DiscoverableCredential.credential_ref).where(
            models.DiscoverableCredential.user_id == user_id
        )
        return set(self.session.scalars(query))

    def set_discoverable(self, user_id: int, credential_ref: str, discoverable: bool, at: datetime) -> None:
        self.session.execute(
            delete(models.DiscoverableCredential).where(
                models.DiscoverableCredential.user_id == user_id,
                models.DiscoverableCredential.credential_ref == credential_ref,
            )
        )
        if discoverable:
            self.session.add(
                models.DiscoverableCredential(user_id=user_id, credential_ref=credential_ref, created_at=at)
            )

    def learner_profile(self, user_id: int) -> models.LearnerProfile:
        found = self.session.get(models.LearnerProfile, user_id)
        if found is None:
            found = models.LearnerProfile(user_id=user_id)
            self.session.add(found)
        return found

    def learner_profiles(self, user_ids: list[int]) -> dict[int, models.LearnerProfile]:
        query = select(models.LearnerProfile).where(models.LearnerProfile.user_id.in_(user_ids))
        return {p.user_id: p for p in self.session.scalars(query)}

    def users_by_id(self, user_ids: list[int]) -> dict[int, models.User]:
        return {u.id: u for u in self.session.scalars(select(models.User).where(models.User.id.in_(user_ids)))}

    def shares_of(self, user_id: int) -> list[int]:
        query = select(models.EmployerShare.organisation_id).where(models.EmployerShare.user_id == user_id)
        return list(self.session.scalars(query))

    def set_share(self, user_id: int, organisation_id: int, shared: bool, at: datetime) -> None:
        self.session.execute(
            delete(models.EmployerShare).where(
                models.EmployerShare.user_id == user_id, models.EmployerShare.organisation_id == organisation_id
            )
        )
        if shared:
            self.session.add(models.EmployerShare(user_id=user_id, organisation_id=organisation_id, created_at=at))

    def team(self, organisation_id: int) -> list[models.User]:
        query = (
            select(models.User)
            .join(models.EmployerShare, models.EmployerShare.user_id == models.User.id)
            .where(models.EmployerShare.organisation_id == organisation_id)
            .order_by(models.User.email)
        )
        return list(self.session.scalars(query))

    # -- job roles --------------------------------------------------------------------------------
    def job_role(self, role_id: int) -> models.JobRole | None:
        return self.session.get(models.JobRole, role_id) if models.storable_id(role_id) else None

    def job_roles(self, organisation_id: int | None) -> list[models.JobRole]:
        query = select(models.JobRole).order_by(models.JobRole.title, models.JobRole.id)
        if organisation_id is not None:
            query = query.where(models.JobRole.organisation_id == organisation_id)
        return list(self.session.scalars(query))

    def job_role_skills(self, role_id: int) -> list[tuple[models.JobRoleSkill, models.SkillRef]]:
        query = (
            select(models.JobRoleSkill, models.SkillRef)
            .join(models.SkillRef, models.SkillRef.id == models.JobRoleSkill.skill_id)
            .where(models.JobRoleSkill.role_id == role_id)
            .order_by(
                models.JobRoleSkill.essential.desc(), models.JobRoleSkill.importance.desc(), models.SkillRef.label
            )
        )
        return [(link, ref) for link, ref in self.session.execute(query)]

    def replace_job_role_skills(self, role_id: int, rows: list[dict[str, Any]]) -> None:
        self.session.execute(delete(models.JobRoleSkill).where(models.JobRoleSkill.role_id == role_id))
        if rows:
            self.session.execute(insert(models.JobRoleSkill), [{**row, "role_id": role_id} for row in rows])

    def delete_job_role(self, role_id: int) -> None:
        self.session.execute(delete(models.JobRoleSkill).where(models.JobRoleSkill.role_id == role_id))
        self.session.execute(delete(models.JobRole).where(models.JobRole.id == role_id))
