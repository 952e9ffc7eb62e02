"""A learner's skills, proven by credentials that verify, and their choices about who may see them.

Credentials issued here count while they are neither revoked, suspended nor expired; imported ones
while they verify in full (proof, issuer, dates, status). The skill index (skill_evidence) is this
profile written down for search: it is rebuilt for a learner whenever one of their credentials changes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from microcred.errors import ForbiddenError, InputError
from microcred.services.credentials import CredentialService
from microcred.services.issuing import NotFound, Runtime
from microcred.services.taxonomy import TaxonomyService
from microcred.storage import models
from microcred.storage.repositories import Repository

log = logging.getLogger(__name__)
FRESH_YEARS, STALE_YEARS = 2, 5


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str  # award or import
    ref: str  # the award id or wallet item id
    name: str
    issuer_name: str
    issuer: str
    achievement_type: str
    issued_at: datetime
    expires_at: datetime | None
    level: int | None
    discoverable: bool


@dataclass(slots=True)
class ProfileSkill:
    uri: str
    label: str
    framework: str
    evidence: list[Provenance] = field(default_factory=list)

    @property
    def latest(self) -> datetime:
        return max(p.issued_at for p in self.evidence)

    def freshness(self, now: datetime) -> str:
        years = (now - self.latest).days / 365.25
        return "fresh" if years < FRESH_YEARS else "ageing" if years < STALE_YEARS else "stale"


@dataclass(frozen=True, slots=True)
class HeldCredential:
    provenance: Provenance
    skills: list[tuple[str, str, str]]  # (uri, label, framework)


def _alignments(credential: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(achievement, dict):
        return {}, []
    found = []
    for alignment in achievement.get("alignment") or []:
        if not isinstance(alignment, dict):
            continue
        uri, label = alignment.get("targetUrl"), alignment.get("targetName")
        if isinstance(uri, str) and uri.startswith(("http://", "https://")) and len(uri) <= 500:
            framework = alignment.get("targetFramework")
            found.append((uri, str(label or uri)[:500], str(framework or "other")[:60]))
    return achievement, found


def _issuer(credential: dict[str, Any]) -> tuple[str, str]:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        return str(issuer.get("id") or "")[:500], str(issuer.get("name") or issuer.get("id") or "")[:500]
    return str(issuer or "")[:500], str(issuer or "")[:500]


class SkillProfileService:
    def __init__(self, runtime: Runtime, credentials: CredentialService, taxonomy: TaxonomyService) -> None:
        self.runtime = runtime
        self.credentials = credentials
        self.taxonomy = taxonomy

    # -- what a learner holds ------------------------------------------------------------------
    def held(self, email: str) -> list[HeldCredential]:
        now = self.runtime.clock.now()
        with self.runtime.db.read() as repo:
            user = repo.user_by_email(email)
            awards = repo.awards(email=email, limit=5000)
            items = repo.wallet_items(user.id) if user else []
            chosen = repo.discoverable_refs(user.id) if user else set()
        found = [self._from_award(a, chosen) for a in awards if self._counts(a, now)]
        found += [h for h in (self._from_import(i, chosen) for i in items) if h is not None]
        return [h for h in found if h.skills]

    @staticmethod
    def _counts(award: models.Award, now: datetime) -> bool:
        return not award.revoked_at and not award.suspended and (award.valid_until is None or award.valid_until > now)

    def _from_award(self, award: models.Award, chosen: set[str]) -> HeldCredential:
        credential = json.loads(award.credential)
        achievement, skills = _alignments(credential)
        issuer, issuer_name = _issuer(credential)
        level = achievement.get("eqfLevel")
        return HeldCredential(
            Provenance(
                "award", award.id, str(achievement.get("name") or "credential")[:500], issuer_name, issuer,
                str(achievement.get("achievementType") or "Achievement")[:60], award.issued_at, award.valid_until,
                level if isinstance(level, int) and 1 <= level <= 8 else None, award.id in chosen,
            ),
            skills,
        )  # fmt: skip

    def _from_import(self, item: models.WalletItem, chosen: set[str]) -> HeldCredential | None:
        report = self.credentials.verify(item.content)
        if not report.verified or report.credential is None:
            return None  # an imported credential proves nothing unless it verifies in full
        achievement, skills = _alignments(report.credential)
        issuer, issuer_name = _issuer(report.credential)
        level = achievement.get("eqfLevel")
        return HeldCredential(
            Provenance(
                "import", item.id, item.name[:500], item.issuer_name or issuer_name, issuer,
                str(achievement.get("achievementType") or "Achievement")[:60], item.imported_at, item.valid_until,
                level if isinstance(level, int) and 1 <= level <= 8 else None, item.id in chosen,
            ),
            skills,
        )  # fmt: skip

    def profile(self, email: str, held: list[HeldCredential] | None = None) -> list[ProfileSkill]:
        """The learner's skills with their proofs (from `held` when the caller already has it)."""
        skills: dict[str, ProfileSkill] = {}
        for credential in self.held(email) if held is None else held:
            for uri, label, framework in credential.skills:
                known = self.taxonomy.taxonomy.skill(uri)
                entry = skills.setdefault(
                    uri, ProfileSkill(uri, known.label if known else label, known.framework if known else framework)
                )
                entry.evidence.append(credential.provenance)
        return sorted(skills.values(), key=lambda s: (-len(s.evidence), s.label.lower()))

    # -- the search index -------------------------------------------------------------------------
    def refresh(self, email: str, held: list[HeldCredential] | None = None) -> int:
        """Rewrite the learner's rows of the skill index from what verifies now (`held`, when the caller has
        just verified it); the number of rows."""
        held = self.held(email) if held is None else held
        with self.runtime.db.transaction() as repo:
            user = repo.user_by_email(email)
            if user is None or user.role != "learner" or user.email_verified_at is None:
                return 0  # an unproven address must not expose what was awarded to it
            names = {uri: (label, fw) for h in held for uri, label, fw in h.skills}
            ids = repo.skill_ids(names)
            issuers = repo.issuer_ids(
                {h.provenance.issuer or h.provenance.issuer_name: h.provenance.issuer_name for h in held}
            )
            rows = [
                {
                    "skill_id": ids[uri], "source": h.provenance.source, "credential_ref": h.provenance.ref,
                    "credential_name": h.provenance.name, "issuer_name": h.provenance.issuer_name,
                    "issuer": h.provenance.issuer, "achievement_type": h.provenance.achievement_type,
                    "issuer_ref": issuers[h.provenance.issuer or h.provenance.issuer_name],
                    "issued_at": h.provenance.issued_at, "expires_at": h.provenance.expires_at,
                    "level": h.provenance.level, "discoverable": h.provenance.discoverable,
                }
                for h in held
                for uri in dict.fromkeys(uri for uri, _l, _f in h.skills)
            ]  # fmt: skip
            repo.replace_evidence(user.id, rows)
            repo.learner_profile(user.id).refreshed_at = self.runtime.clock.now()
            return len(rows)

    def on_credential_change(self, email: str, _microcredential_id: str = "") -> None:
        try:
            self.refresh(email)
        except Exception:  # a listener never undoes the award that triggered it; `skills reindex` repairs
            log.exception("skill index refresh failed for %s", email)

    def reindex(self, progress: Any = None) -> int:
        with self.runtime.db.read() as repo:
            emails = [u.email for u in repo.users_of(None) if u.role == "learner"]
        total = 0
        for email in emails:
            total += self.refresh(email)
            if progress:
                progress(email)
        return total

    # -- choices ----------------------------------------------------------------------------------------
    def _learner(self, repo: Repository, email: str) -> models.User:
        user = repo.user_by_email(email)
        if user is None or user.role != "learner":
            raise NotFound(f"no learner {email!r}")
        if user.email_verified_at is None:
            raise ForbiddenError("confirm your email address first: your skills come from what was awarded to it")
        return user

    def set_discoverable(self, email: str, credential_ref: str, discoverable: bool) -> None:
        held = self.held(email)
        if credential_ref not in {h.provenance.ref for h in held}:
            raise NotFound(f"no credential {credential_ref!r} with skills among yours that verify")
        self._choose(email, held, {credential_ref: discoverable})

    def choose_discoverable(self, email: str, chosen: set[str]) -> int:
        """Exactly these of the learner's credentials are discoverable; how many choices changed."""
        held = self.held(email)
        changes = {h.provenance.ref: h.provenance.ref in chosen for h in held
                   if (h.provenance.ref in chosen) != h.provenance.discoverable}  # fmt: skip
        if changes:
            self._choose(email, held, changes)
        return len(changes)

    def _choose(self, email: str, held: list[HeldCredential], changes: dict[str, bool]) -> None:
        with self.runtime.db.transaction() as repo:
            user = self._learner(repo, email)
            for ref, discoverable in changes.items():
                repo.set_discoverable(user.id, ref, discoverable, self.runtime.clock.now())
                self.runtime.audit(repo, email, "skills.discoverable", None, ref, discoverable=discoverable)
        # what verifies has not changed, only the choices: the index is rewritten without verifying again
        self.refresh(email, [_chosen(h, changes) for h in held])

    def set_country(self, email: str, country: str | None) -> None:
        code = (country or "").strip().upper() or None
        if code is not None and (len(code) != 2 or not code.isalpha()):
            raise InputError("the country must be a two-letter ISO 3166 code, such as DE")
        with self.runtime.db.transaction() as repo:
            repo.learner_profile(self._learner(repo, email).id).country = code

    def country(self, email: str) -> str | None:
        with self.runtime.db.read() as repo:
            user = repo.user_by_email(email)
            found = repo.learner_profiles([user.id]).get(user.id) if user else None
            return found.country if found else None

    def share(self, email: str, organisation_slug: str, shared: bool) -> None:
        with self.runtime.db.transaction() as repo:
            user = self._learner(repo, email)
            organisation = repo.organisation_by_slug(organisation_slug)
            if organisation is None:
                raise NotFound(f"no organisation {organisation_slug!r}")
            repo.set_share(user.id, organisation.id, shared, self.runtime.clock.now())
            self.runtime.audit(repo, email, "skills.share", organisation.id, organisation_slug, shared=shared)

    def shared_with(self, email: str) -> list[models.Organisation]:
        with self.runtime.db.read() as repo:
            user = repo.user_by_email(email)
            ids = set(repo.shares_of(user.id)) if user else set()
            return [o for o in repo.organisations() if o.id in ids]


def _chosen(held: HeldCredential, changes: dict[str, bool]) -> HeldCredential:
    ref = held.provenance.ref
    if ref not in changes:
        return held
    return replace(held, provenance=replace(held.provenance, discoverable=changes[ref]))
