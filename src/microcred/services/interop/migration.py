"""Migrating an issuer from an Open Badges 2.0 platform: its BadgeClasses become microcredentials and
its assertions are re-issued as OB 3.0 credentials that cite the original (evidence, with its URL).

Input: a Badgr export (the JSON its API v2 answers: BadgeClass and Assertion entities, alone, in a list,
under `result`, or as `badgeclasses` and `assertions`), plain OB 2.0 BadgeClass and Assertion documents,
or a CSV of awards for microcredentials that exist already (badge, email, issued_on; optional
expires, evidence_url, narrative, assertion_id). A dry run reports what a run would do and changes
nothing; a run does it, and running again changes nothing twice: BadgeClasses are remembered
(`migrated_badges`), awards are keyed on the original assertion's id.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from microcred.errors import InputError
from microcred.services.awarding import AwardRequest, AwardService, normalize_email, row_key
from microcred.services.issuing import CatalogService, NotFound, Runtime, get_issuer, parse_definition
from microcred.standards import safejson
from microcred.standards.ob2 import badge_date
from microcred.standards.vc import as_list
from microcred.storage import models

MAX_ROWS = 100_000
DAYS = {"days": 1, "weeks": 7, "months": 30.4375, "years": 365.25}


@dataclass(frozen=True, slots=True)
class SourceBadge:
    source_id: str
    definition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SourceAward:
    where: str  # the assertion id, or "line N" of a CSV
    badge: str  # a BadgeClass source id, or (CSV) a microcredential's name
    email: str | None
    name: str | None
    issued_on: str | None
    expires: datetime | None
    revoked: bool
    original_url: str | None
    narrative: str | None
    external_id: str


@dataclass(slots=True)
class MigrationReport:
    dry_run: bool
    microcredentials: list[dict[str, Any]] = field(default_factory=list)  # name, source, id, action
    issue: int = 0
    already: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)  # where, reason
    issued: list[str] = field(default_factory=list)  # award ids made by this run

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "microcredentials": self.microcredentials,
            "awards": {"issue" if self.dry_run else "issued": self.issue, "already": self.already,
                       "skipped": len(self.skipped)},
            "skipped": self.skipped, "issued": self.issued,
        }  # fmt: skip


# -- reading the export ---------------------------------------------------------------------------
def read_export(data: bytes) -> tuple[list[SourceBadge], list[SourceAward]]:
    """BadgeClasses and awards from a Badgr/OB 2.0 JSON export, or awards from a CSV."""
    text = data.decode("utf-8-sig", "replace").lstrip()
    if text.startswith(("{", "[")):
        return _from_json(safejson.parse(text.encode()))
    return [], _from_csv(text)


def _entities(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return [e for e in document if isinstance(e, dict)]
    if not isinstance(document, dict):
        raise InputError("the export is neither a JSON object nor a list of badges")
    found: list[dict[str, Any]] = []
    for key in ("result", "badgeclasses", "badgeClasses", "badges", "assertions"):
        if isinstance(document.get(key), list):
            found += [e for e in document[key] if isinstance(e, dict)]
    return found or [document]


def _kind(entity: dict[str, Any]) -> str | None:
    types = entity.get("type")
    types = types if isinstance(types, list) else [types]
    for kind in ("BadgeClass", "Assertion"):
        if entity.get("entityType") == kind or kind in types:
            return kind
    return None


def _from_json(document: Any) -> tuple[list[SourceBadge], list[SourceAward]]:
    entities = _entities(document)
    if len(entities) > MAX_ROWS:
        raise InputError(f"the export holds more than {MAX_ROWS:,} entries; split it")
    badges = [_badge(e) for e in entities if _kind(e) == "BadgeClass"]
    by_entity = {str(e.get("entityId")): _source_id(e) for e in entities if _kind(e) == "BadgeClass"}
    awards = [_assertion(e, by_entity) for e in entities if _kind(e) == "Assertion"]
    if not badges and not awards:
        raise InputError("the export holds no BadgeClass and no Assertion")
    return badges, awards


def _source_id(entity: dict[str, Any]) -> str:
    for key in ("openBadgeId", "id", "entityId"):
        if isinstance(entity.get(key), str) and entity[key]:
            return str(entity[key])[:500]
    return "sha256:" + hashlib.sha256(json.dumps(entity, sort_keys=True).encode()).hexdigest()


def _badge(entity: dict[str, Any]) -> SourceBadge:
    criteria = _object(entity.get("criteria"))
    narrative = entity.get("criteriaNarrative") or criteria.get("narrative")
    criteria_url = entity.get("criteriaUrl") or criteria.get("id") or (
        entity.get("criteria") if isinstance(entity.get("criteria"), str) else None)  # fmt: skip
    skills = []
    for alignment in as_list(entity.get("alignments") or entity.get("alignment")):
        url, name = (
            (alignment.get("targetUrl"), alignment.get("targetName")) if isinstance(alignment, dict) else (None, None)
        )
        if isinstance(url, str) and url.startswith(("http://", "https://")) and isinstance(name, str) and name:
            skills.append({"uri": url, "label": name[:300], "framework": str(alignment.get("targetFramework") or
                                                                         "other")[:60]})  # fmt: skip
    definition: dict[str, Any] = {
        "name": str(entity.get("name") or "Untitled badge")[:300],
        "description": str(entity.get("description") or entity.get("name") or "Migrated badge")[:10_000],
        "achievement_type": "Badge",
        "tags": [str(t)[:100] for t in as_list(entity.get("tags")) if isinstance(t, str)][:50],
        "skills": skills[:200],
    }
    if isinstance(narrative, str) and narrative.strip():
        definition["criteria"] = narrative[:10_000]
    if isinstance(criteria_url, str) and criteria_url.startswith(("http://", "https://")):
        definition["criteria_url"] = criteria_url
    image = entity.get("image")
    if isinstance(image, str) and image.startswith("https://"):
        definition["image"] = image
    months = _months(entity.get("expires"))
    if months:
        definition["valid_for_months"] = months
    return SourceBadge(_source_id(entity), definition)


def _months(expires: Any) -> int | None:
    """Badgr's {"amount": 2, "duration": "years"} as months."""
    if not isinstance(expires, dict) or not isinstance(expires.get("amount"), int | float):
        return None
    days = DAYS.get(str(expires.get("duration")).lower())
    return max(1, min(1200, round(expires["amount"] * days / 30.4375))) if days and expires["amount"] > 0 else None


def _assertion(entity: dict[str, Any], by_entity: dict[str, str]) -> SourceAward:
    source = _source_id(entity)
    badge_ref = entity.get("badgeclassOpenBadgeId") or by_entity.get(str(entity.get("badgeclass")))
    badge = entity.get("badge")
    if badge_ref is None:
        badge_ref = badge.get("id") if isinstance(badge, dict) else badge if isinstance(badge, str) else ""
    recipient = _object(entity.get("recipient"))
    email = recipient.get("plaintextIdentity")
    if not isinstance(email, str) and recipient.get("hashed") is not True and recipient.get("type", "email") == "email":
        email = recipient.get("identity")
    narratives = [entity.get("narrative")] + [e.get("narrative") for e in as_list(entity.get("evidence"))
                                                 if isinstance(e, dict)]  # fmt: skip
    return SourceAward(
        where=source, badge=str(badge_ref)[:500], email=email if isinstance(email, str) else None,
        name=recipient.get("name") if isinstance(recipient.get("name"), str) else None,
        issued_on=entity.get("issuedOn") if isinstance(entity.get("issuedOn"), str) else None,
        expires=badge_date(entity.get("expires")), revoked=entity.get("revoked") is True,
        original_url=source if source.startswith("https://") else None,
        narrative=" ".join(n.strip() for n in narratives if isinstance(n, str) and n.strip())[:2000] or None,
        external_id=_external_id(source),
    )  # fmt: skip


def _from_csv(text: str) -> list[SourceAward]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    missing = [c for c in ("badge", "email", "issued_on") if c not in columns]
    if missing:
        raise InputError(f"the CSV needs the columns badge, email and issued_on (missing: {', '.join(missing)})")
    awards = []
    for number, row in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise InputError(f"the CSV holds more than {MAX_ROWS:,} rows; split it")

        def value(name: str, row: dict[str, Any] = row) -> str | None:
            found = row.get(columns.get(name, ""))
            return found.strip() if isinstance(found, str) and found.strip() else None

        original = value("assertion_id")
        key = original or f"{value('badge')}|{(value('email') or '').lower()}|{value('issued_on')}"
        awards.append(SourceAward(
            where=f"line {number}", badge=value("badge") or "", email=value("email"), name=value("name"),
            issued_on=value("issued_on"), expires=badge_date(value("expires")), revoked=False,
            original_url=original if original and original.startswith("https://") else value("evidence_url"),
            narrative=value("narrative"), external_id=_external_id(key),
        ))  # fmt: skip
    return awards


def _external_id(source: str) -> str:
    """The award's key here: the original's id, hashed when it is longer than the column."""
    return source if len(source) <= 200 else "sha256:" + hashlib.sha256(source.encode()).hexdigest()


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# -- running ----------------------------------------------------------------------------------------
class MigrationService:
    def __init__(self, runtime: Runtime, catalog: CatalogService, awards: AwardService) -> None:
        self.runtime = runtime
        self.catalog = catalog
        self.awards = awards

    def migrate(
        self, issuer_slug: str, data: bytes, *, dry_run: bool, actor: str = "cli",
        progress: Callable[[int, int], None] | None = None,
    ) -> MigrationReport:  # fmt: skip
        badges, awards = read_export(data)
        report = MigrationReport(dry_run)
        targets = self._microcredentials(issuer_slug, badges, report, dry_run, actor)
        issued = self._issued_keys(issuer_slug, awards, targets)
        now = self.runtime.clock.now()
        for done, award in enumerate(awards, start=1):
            self._award(issuer_slug, award, targets, report, now, dry_run, actor, issued)
            if progress is not None:
                progress(done, len(awards))
        return report

    def _issued_keys(
        self, slug: str, awards: list[SourceAward], targets: dict[str, str | None]
    ) -> set[tuple[str, str, str]]:
        """(badge, email, external id) of the export's awards already issued here: one query for all."""
        with self.runtime.db.read() as repo:
            issuer_id = get_issuer(repo, slug).id
            wanted: dict[str, tuple[str, str, str]] = {}
            for award in awards:
                mc_id, identity = targets.get(award.badge), _identity(award)
                if mc_id is not None and identity is not None:
                    wanted[row_key(issuer_id, mc_id, identity[1], award.external_id)] = identity
            return {wanted[key] for key in repo.awards_by_row_keys(list(wanted))}

    def _microcredentials(
        self, slug: str, badges: list[SourceBadge], report: MigrationReport, dry_run: bool, actor: str
    ) -> dict[str, str | None]:
        """source id (and, for CSV rows, name) -> microcredential id (None: made by the run, in a dry run)."""
        with self.runtime.db.read() as repo:
            issuer = get_issuer(repo, slug)
            known = {row.source_id: row.microcredential_id for row in repo.migrated_badges(issuer.id)}
            names = {json.loads(d)["name"]: mc.id for mc, _i, d, _n in repo.catalogue(issuer.organisation_id)
                     if mc.issuer_id == issuer.id and mc.published_at is not None}  # drafts cannot be awarded  # fmt: skip
        targets: dict[str, str | None] = dict(names)
        for badge in badges:
            if badge.source_id in known:
                targets[badge.source_id] = known[badge.source_id]
                report.microcredentials.append({"name": badge.definition["name"], "source": badge.source_id,
                                                "id": known[badge.source_id], "action": "existing"})  # fmt: skip
                continue
            try:
                definition = parse_definition(badge.definition)
            except InputError as exc:
                report.skipped.append({"where": badge.source_id, "reason": exc.message})
                continue
            made = None
            if not dry_run:
                made = self._create(issuer, slug, badge, definition, actor)
            targets[badge.source_id] = made
            report.microcredentials.append({"name": definition.name, "source": badge.source_id, "id": made,
                                            "action": "create" if dry_run else "created"})  # fmt: skip
        return targets

    def _create(self, issuer: models.Issuer, slug: str, badge: SourceBadge, definition: Any, actor: str) -> str:
        entry = self.catalog.create(slug, definition, actor, publish=True,
                                    exemption=f"migrated from the Open Badges 2.0 BadgeClass {badge.source_id}")  # fmt: skip
        with self.runtime.db.transaction() as repo:
            repo.add(models.MigratedBadge(issuer_id=issuer.id, source_id=badge.source_id, microcredential_id=entry.id,
                                          migrated_at=self.runtime.clock.now()))  # fmt: skip
        return entry.id

    def _award(
        self, slug: str, award: SourceAward, targets: dict[str, str | None], report: MigrationReport,
        now: datetime, dry_run: bool, actor: str, issued: set[tuple[str, str, str]],
    ) -> None:  # fmt: skip
        def skip(reason: str) -> None:
            report.skipped.append({"where": award.where, "reason": reason})

        if not award.badge:
            return skip("it names no badge class")
        if award.badge not in targets:
            return skip(f"its badge {award.badge[:120]!r} is neither in the export nor a microcredential of {slug}")
        if not award.email:
            return skip("no recipient email (a hashed identity without the plain address cannot be re-issued)")
        identity = _identity(award)
        if identity is None:
            return skip(f"{award.email[:120]!r} is not an email address")
        if award.revoked:
            return skip("revoked at the source: not re-issued")
        if award.expires is not None and award.expires <= now:
            return skip("expired at the source: not re-issued")
        mc_id = targets[award.badge]
        if identity in issued:
            report.already += 1  # issued here before, or earlier in this same export
            return None
        issued.add(identity)
        if dry_run:
            report.issue += 1
            return None
        assert mc_id is not None
        try:
            outcome = self.awards.award(AwardRequest(
                mc_id, award.email, name=award.name, external_id=award.external_id, evidence_url=award.original_url,
                narrative=_narrative(award), valid_until=award.expires,
            ), actor)  # fmt: skip
        except InputError as exc:  # this row cannot be awarded as given; the others still are
            return skip(exc.message)
        if outcome.created:
            report.issue += 1
            report.issued.append(outcome.id)
        else:
            report.already += 1
        return None


def _identity(award: SourceAward) -> tuple[str, str, str] | None:
    """What makes an award the same one: its badge, its recipient's address and the original's id."""
    try:
        return (award.badge, normalize_email(award.email or ""), award.external_id)
    except InputError:
        return None


def _narrative(award: SourceAward) -> str:
    said = f"Re-issued from the Open Badges 2.0 assertion {award.where}"
    said += f", first issued {award.issued_on}." if award.issued_on else "."
    return f"{said} {award.narrative}"[:2000] if award.narrative else said


__all__ = ["MigrationReport", "MigrationService", "NotFound", "read_export"]
