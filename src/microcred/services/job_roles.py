"""Job roles: what an employer needs, as weighted skills from an occupation, a pick list or a job advertisement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from microcred.errors import ForbiddenError, InputError
from microcred.services.accounts import Principal
from microcred.services.issuing import NotFound, Runtime
from microcred.services.taxonomy import TaxonomyService
from microcred.storage import models

ESSENTIAL_IMPORTANCE, OPTIONAL_IMPORTANCE = 3, 1
MAX_ROLE_SKILLS = 150


class RoleSkillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri: str = Field(min_length=8, max_length=500)
    essential: bool = True
    importance: int = Field(default=ESSENTIAL_IMPORTANCE, ge=1, le=5)


@dataclass(frozen=True, slots=True)
class RoleSkill:
    uri: str
    label: str
    framework: str
    essential: bool
    importance: int
    skill_id: int

    @property
    def weight(self) -> float:
        return float(self.importance)


@dataclass(frozen=True, slots=True)
class Role:
    id: int
    organisation_id: int
    title: str
    description: str | None
    occupation_uri: str | None
    source: str
    skills: list[RoleSkill]

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id, "organisationId": self.organisation_id, "title": self.title, "description": self.description,
            "occupation": self.occupation_uri, "source": self.source,
            "skills": [{"uri": s.uri, "label": s.label, "framework": s.framework, "essential": s.essential,
                        "importance": s.importance} for s in self.skills],
        }  # fmt: skip


def parse_role_skills(data: Any) -> list[RoleSkillIn]:
    if not isinstance(data, list):
        raise InputError("skills must be a list of {uri, essential, importance}")
    try:
        skills = [RoleSkillIn.model_validate(item) for item in data]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"skills: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    if len(skills) > MAX_ROLE_SKILLS:
        raise InputError(f"a role holds at most {MAX_ROLE_SKILLS} skills")
    return list({s.uri: s for s in skills}.values())


class JobRoleService:
    def __init__(self, runtime: Runtime, taxonomy: TaxonomyService) -> None:
        self.runtime = runtime
        self.taxonomy = taxonomy

    def from_occupation(self, uri: str, *, with_optional: bool = True) -> list[RoleSkillIn]:
        essential, optional = self.taxonomy.occupation_skills(uri)
        skills = [RoleSkillIn(uri=s.uri, essential=True, importance=ESSENTIAL_IMPORTANCE) for s in essential]
        if with_optional:
            skills += [RoleSkillIn(uri=s.uri, essential=False, importance=OPTIONAL_IMPORTANCE) for s in optional]
        return skills[:MAX_ROLE_SKILLS]

    def from_text(self, text: str, limit: int = 30) -> list[RoleSkillIn]:
        """Skills found in a job advertisement: the surest ones essential, the rest optional."""
        if not text.strip():
            raise InputError("the job advertisement is empty")
        hits = self.taxonomy.extract(text, limit)
        return [
            RoleSkillIn(uri=h.skill.uri, essential=h.score >= 0.6, importance=max(1, min(5, round(h.score * 5))))
            for h in hits
        ]

    def create(
        self, principal: Principal, organisation_slug: str, title: str, skills: list[RoleSkillIn], *,
        description: str | None = None, occupation_uri: str | None = None, source: str = "skills",
    ) -> Role:  # fmt: skip
        title = title.strip()
        if not 1 <= len(title) <= 300:
            raise InputError("a role needs a title of 1 to 300 characters")
        if not skills:
            raise InputError("a role needs at least one skill")
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            organisation = repo.organisation_by_slug(organisation_slug)
            if organisation is None:
                raise NotFound(f"no organisation {organisation_slug!r}")
            _may_manage(principal, organisation.id)
            row = repo.add(
                models.JobRole(
                    organisation_id=organisation.id, title=title, description=(description or None),
                    occupation_uri=occupation_uri, source=source, created_by=principal.email, created_at=now,
                    updated_at=now,
                )
            )  # fmt: skip
            repo.flush()
            self._write_skills(repo, row.id, skills)
            self.runtime.audit(repo, principal.email, "role.create", organisation.id, str(row.id), title=title)
            role_id = row.id
        return self.get(principal, role_id)

    def _write_skills(self, repo: Any, role_id: int, skills: list[RoleSkillIn]) -> None:
        records = {s.uri: self.taxonomy.skill(s.uri) for s in skills}
        ids = repo.skill_ids({uri: (r.label, r.framework) for uri, r in records.items()})
        repo.replace_job_role_skills(
            role_id, [{"skill_id": ids[s.uri], "essential": s.essential, "importance": s.importance} for s in skills]
        )

    def update(
        self, principal: Principal, role_id: int, *, title: str | None = None, skills: list[RoleSkillIn] | None = None
    ) -> Role:
        with self.runtime.db.transaction() as repo:
            row = self._row(repo, principal, role_id)
            if title is not None:
                if not 1 <= len(title.strip()) <= 300:
                    raise InputError("a role needs a title of 1 to 300 characters")
                row.title = title.strip()
            if skills is not None:
                if not skills:
                    raise InputError("a role needs at least one skill")
                self._write_skills(repo, role_id, skills)
            row.updated_at = self.runtime.clock.now()
            self.runtime.audit(repo, principal.email, "role.update", row.organisation_id, str(role_id))
        return self.get(principal, role_id)

    def delete(self, principal: Principal, role_id: int) -> None:
        with self.runtime.db.transaction() as repo:
            row = self._row(repo, principal, role_id)
            repo.delete_job_role(role_id)
            self.runtime.audit(repo, principal.email, "role.delete", row.organisation_id, str(role_id))

    @staticmethod
    def _row(repo: Any, principal: Principal, role_id: int) -> models.JobRole:
        row = repo.job_role(role_id)
        if row is None or not (principal.is_platform_admin or principal.organisation_id == row.organisation_id):
            raise NotFound(f"no job role {role_id}")
        return row  # type: ignore[no-any-return]

    def get(self, principal: Principal, role_id: int) -> Role:
        with self.runtime.db.read() as repo:
            row = self._row(repo, principal, role_id)
            links = repo.job_role_skills(role_id)
        skills = [
            RoleSkill(ref.uri, ref.label, ref.framework, link.essential, link.importance, ref.id) for link, ref in links
        ]
        return Role(row.id, row.organisation_id, row.title, row.description, row.occupation_uri, row.source, skills)

    def list(self, principal: Principal) -> list[Role]:
        if not principal.is_platform_admin and principal.organisation_id is None:
            return []
        with self.runtime.db.read() as repo:
            rows = repo.job_roles(None if principal.is_platform_admin else principal.organisation_id)
        return [self.get(principal, row.id) for row in rows]


def _may_manage(principal: Principal, organisation_id: int) -> None:
    if principal.is_platform_admin:
        return
    if principal.organisation_id != organisation_id or principal.role not in {
        "employer",
        "issuer_admin",
        "issuer_staff",
    }:
        raise ForbiddenError("only staff of this organisation define its job roles")
