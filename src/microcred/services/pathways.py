"""Pathways on the platform: definitions, learners' progress, and roll-up credentials issued exactly once.

A pathway's roll-up is an award of a catalogue entry made for it (so it has status
lists, a public page and a wallet entry like any award). When a learner satisfies the
pathway the roll-up is issued at once or queued for the issuer; it cites each
contributing credential with a digest of it exactly as signed, sums their credits and
carries the union of their skills. Whenever an award of the learner is made, revoked,
suspended or reinstated, or they import a credential, their pathways are re-evaluated:
a roll-up whose part was revoked or suspended is flagged and, per pathway policy,
suspended; it is reinstated when its parts count again.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from microcred.domain.microcredentials import MicrocredentialDefinition, Skill
from microcred.domain.pathway_progress import Progress, evaluate
from microcred.domain.pathways import (
    Holding,
    LeafKey,
    PartInfo,
    Pathway,
    PathwayDefinition,
    PathwayError,
    check_satisfiable,
    compile_pathway,
)
from microcred.errors import InputError
from microcred.services import builder, pathway_batch
from microcred.services.awarding import AwardOutcome, AwardRequest, AwardService, normalize_email
from microcred.services.credentials import CredentialService
from microcred.services.issuing import CatalogService, Conflict, NotFound, Runtime
from microcred.services.pathway_batch import BatchResult
from microcred.standards import safejson
from microcred.standards.rollup import credential_digest
from microcred.standards.vc import issuer_id
from microcred.storage import models
from microcred.storage.repositories import Repository

log = logging.getLogger(__name__)
REFRESH_SECONDS = 3.0
IMPORT_TTL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class LearnerPathway:
    row: models.PathwayRow
    progress: Progress
    completion: models.PathwayCompletion | None
    held: dict[str, Holding]  # the learner's credentials by id (shared by every pathway of one evaluation)


def parse_pathway(data: Any) -> PathwayDefinition:
    try:
        return PathwayDefinition.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "pathway"
        raise InputError(f"{where}: {first.get('msg')}") from exc


class PathwayService:
    def __init__(
        self, runtime: Runtime, awards: AwardService, catalog: CatalogService, credentials: CredentialService
    ) -> None:
        self.runtime = runtime
        self.awards = awards
        self.catalog = catalog
        self.credentials = credentials
        self._parts: dict[int, tuple[str, PartInfo]] = {}  # version id -> (microcredential id, info)
        self._compiled: dict[str, tuple[int, Pathway, models.PathwayRow]] = {}
        self._skill_labels: dict[str, str] = {}
        self._index: tuple[Any, dict[LeafKey, set[str]]] = (None, {})
        self._versions_checked = 0.0  # monotonic time until which the known versions are taken as complete
        self._live: tuple[float, set[str]] | None = None  # (until, pathway ids) of the last look
        self._imports: dict[str, tuple[float, int, Holding | None]] = {}  # item id -> (until, changes, holding)
        self._best: tuple[int, dict[LeafKey, PartInfo]] = (-1, {})

    # -- definitions -----------------------------------------------------------------
    def create(self, issuer_slug: str, data: Any, actor: str = "cli") -> models.PathwayRow:
        definition = parse_pathway(data)
        pathway_id = str(uuid.uuid4())
        self._check(pathway_id, definition)
        # The roll-up is awarded by the pathway itself, so it is live with the pathway; what it states is
        # what its parts state (an exemption is recorded only if elements are missing).
        entry = self.catalog.create(
            issuer_slug, self._target(definition), actor=actor, publish=True,
            exemption=f"the roll-up credential of the pathway {definition.name!r}",
        )  # fmt: skip
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            issuer = repo.issuer_by_slug(issuer_slug)
            assert issuer is not None
            row = repo.add(
                models.PathwayRow(
                    id=pathway_id, issuer_id=issuer.id, microcredential_id=entry.id, name=definition.name,
                    definition=definition.model_dump_json(), version=1, created_at=now, updated_at=now,
                )
            )  # fmt: skip
            self.runtime.audit(repo, actor, "pathway.create", issuer.organisation_id, pathway_id, name=definition.name)
        self._live = None
        return row

    def update(self, pathway_id: str, data: Any, actor: str = "cli") -> models.PathwayRow:
        definition = parse_pathway(data)
        self._check(pathway_id, definition)
        row = self.row(pathway_id)
        self.catalog.update(row.microcredential_id, self._target(definition), actor=actor)
        with self.runtime.db.transaction() as repo:
            locked = repo.pathway(pathway_id, lock=True)
            assert locked is not None
            locked.definition, locked.name = definition.model_dump_json(), definition.name
            locked.version += 1
            locked.updated_at = self.runtime.clock.now()
            issuer = repo.issuer(locked.issuer_id)
            self.runtime.audit(repo, actor, "pathway.update", issuer.organisation_id if issuer else None, pathway_id)
        self._live = None
        return locked

    def _check(self, pathway_id: str, definition: PathwayDefinition) -> None:
        try:
            pathway = compile_pathway(pathway_id, definition)
            known = {**self.pathways(), pathway_id: pathway}
            self._load_versions(force=True)  # a microcredential created a moment ago must count
            check_satisfiable(pathway, self.parts(), known)
        except PathwayError as exc:
            raise InputError(str(exc)) from exc

    @staticmethod
    def _target(definition: PathwayDefinition) -> MicrocredentialDefinition:
        """The catalogue entry behind the roll-up: the pathway's name, type and description."""
        return MicrocredentialDefinition(
            name=definition.name,
            description=definition.description,
            achievement_type=definition.achievement_type,
            criteria="Complete the pathway: " + definition.description[:2000],
            integration_stackability="Awarded when the pathway's requirements are met by the credentials it cites.",
            # The policy suspends a roll-up whose part no longer counts, so it carries a suspension entry.
            suspendable=definition.on_part_revoked == "suspend",
        )

    def row(self, pathway_id: str) -> models.PathwayRow:
        with self.runtime.db.read() as repo:
            row = repo.pathway(pathway_id)
        if row is None:
            raise NotFound(f"no pathway {pathway_id!r}")
        return row

    def rows(self, organisation_id: int | None = None) -> list[models.PathwayRow]:
        with self.runtime.db.read() as repo:
            issuers = None if organisation_id is None else [
                i.id for i in repo.issuers() if i.organisation_id == organisation_id
            ]  # fmt: skip
            return repo.pathways(issuers)

    def pathways(self) -> dict[str, Pathway]:
        """Every pathway compiled; only a changed pathway (its version) is read and compiled again.

        The list of versions is re-read at most every few seconds (at once after a change made here),
        so an award of a microcredential no pathway uses costs next to nothing.
        """
        now = time.monotonic()
        if self._live is not None and now < self._live[0]:
            return {pid: self._compiled[pid][1] for pid in self._live[1]}
        with self.runtime.db.read() as repo:
            versions = repo.pathway_versions()
            stale = [pid for pid, version in versions if self._compiled.get(pid, (None,))[0] != version]
            for pathway_id in stale:
                row = repo.pathway(pathway_id)
                if row is not None:
                    pathway = compile_pathway(row.id, PathwayDefinition.model_validate_json(row.definition))
                    self._compiled[row.id] = (row.version, pathway, row)
        live = {pid for pid, _v in versions if pid in self._compiled}
        self._live = (now + REFRESH_SECONDS, live)
        return {pid: self._compiled[pid][1] for pid in live}

    def leaf_index(self) -> dict[LeafKey, set[str]]:
        """Which pathways each leaf counts toward (through nested pathways too); kept while no pathway changes."""
        pathways = self.pathways()
        key = tuple(sorted((pid, self._compiled[pid][0]) for pid in pathways))
        if self._index[0] == key:
            return self._index[1]
        index = build_leaf_index(pathways)
        self._index = (key, index)
        return index

    def parts(self) -> dict[LeafKey, PartInfo]:
        """What each catalogue microcredential is worth as a leaf (its newest version)."""
        self._load_versions()
        if self._best[0] != len(self._parts):
            best: dict[LeafKey, PartInfo] = {}
            for _version_id, (mc_id, info) in sorted(self._parts.items()):
                best[("mc", mc_id)] = info
            self._best = (len(self._parts), best)
        return self._best[1]

    def _load_versions(self, *, force: bool = False) -> None:
        """Versions never change once written, so each is read once (ids only grow). New ones are
        looked for at most every few seconds, or at once when a holding names one not seen yet."""
        now = time.monotonic()
        if not force and now < self._versions_checked:
            return
        self._versions_checked = now + REFRESH_SECONDS
        with self.runtime.db.read() as repo:
            rows = repo.version_rows(max(self._parts, default=0))
        for version_id, mc_id, text in rows:
            definition = json.loads(text)
            self._parts[version_id] = (mc_id, part_info(definition))
            for skill in definition.get("skills", []):
                self._skill_labels.setdefault(str(skill.get("uri")), str(skill.get("label") or skill.get("uri")))

    # -- a learner's holdings and progress ------------------------------------------------
    def holdings(self, email: str) -> list[Holding]:
        email = normalize_email(email)
        return self.holdings_of([email])[email]

    def holdings_of(self, emails: list[str]) -> dict[str, list[Holding]]:
        """Each learner's credentials that may fill leaves (awards and verified imports), in two queries."""
        self._load_versions()
        with self.runtime.db.read() as repo:
            awards = repo.held_awards(emails)
            items = repo.imported_items(emails)
        if any(row[2] not in self._parts for row in awards):
            self._load_versions(force=True)
        out: dict[str, list[Holding]] = {email: [] for email in emails}
        for email, award_id, version_id, issued_at, valid_until, revoked_at, suspended, issuer in awards:
            mc_id, info = self._parts[version_id]
            state = "revoked" if revoked_at else "suspended" if suspended else "active"
            out[email].append(Holding(("mc", mc_id), self.awards.credential_url(award_id), issued_at, valid_until,
                                      state, info.ects, info.hours, info.skills, issuer, info.name))  # fmt: skip
        for email, item in items:
            holding = self._imported(item)
            if holding is not None:
                out[email].append(holding)
        return out

    def _imported(self, item: models.WalletItem) -> Holding | None:
        """An imported credential as a holding of an other-issuer leaf: it counts only while it verifies.

        Re-verified at most once a minute (status lists are cached that long), or at once after a
        status change made here.
        """
        now = time.monotonic()
        cached = self._imports.get(item.id)
        if cached is not None and cached[0] > now and cached[1] == self.runtime.changes.value:
            return cached[2]
        holding = self._verify_import(item)
        if len(self._imports) > 10_000:
            self._imports.clear()
        self._imports[item.id] = (now + IMPORT_TTL_SECONDS, self.runtime.changes.value, holding)
        return holding

    def _verify_import(self, item: models.WalletItem) -> Holding | None:
        if item.format == "ob2":
            return None  # an Open Badges 2.0 assertion cannot be cited inside a pathway's credential
        report = self.credentials.verify(item.content)
        credential = report.credential or {}
        subject = credential.get("credentialSubject")
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        if not isinstance(achievement, dict) or not isinstance(achievement.get("id"), str):
            return None
        failed = {c.code for c in report.checks if c.status == "failed"}
        state = "active" if not failed else "revoked" if "status.revocation" in failed else "unverified"
        credits = achievement.get("creditsAvailable")
        skills = frozenset(a["targetUrl"] for a in achievement.get("alignment", []) if isinstance(a, dict) and
                           isinstance(a.get("targetUrl"), str))  # fmt: skip
        return Holding(
            ("ext", achievement["id"], issuer_id(credential) or ""), credential.get("id") or f"urn:wallet:{item.id}",
            item.imported_at, item.valid_until, state, float(credits) if isinstance(credits, int | float) else 0.0,
            0.0, skills, issuer_id(credential) or "", item.name,
        )  # fmt: skip

    def progress(self, email: str, at: datetime | None = None, *, all_pathways: bool = False) -> list[LearnerPathway]:
        """Every pathway the learner has started (or all), with their completion if any."""
        email = normalize_email(email)
        held = self.holdings(email)
        pathways, parts = self.pathways(), self.parts()
        with self.runtime.db.read() as repo:
            completions = {c.pathway_id: c for c in repo.completions(email=email)}
        by_id = {h.credential_id: h for h in held}
        index = self.leaf_index()
        relevant = set(completions).union(*(index.get(h.key, set()) for h in held))
        out = []
        for pathway_id, pathway in pathways.items():
            if not all_pathways and pathway_id not in relevant:
                continue
            result = evaluate(pathway, held, at or self.runtime.clock.now(), parts, pathways)
            if all_pathways or result.started or pathway_id in completions:
                out.append(LearnerPathway(self._compiled[pathway_id][2], result, completions.get(pathway_id), by_id))
        return out

    def evaluate_all(
        self, *, workers: int = 1, settle: bool = True, progress: Callable[[int], None] | None = None
    ) -> BatchResult:
        """Every learner against every pathway; newly satisfied learners are settled (issued or queued)."""
        self._load_versions(force=True)
        pathways, parts = self.pathways(), self.parts()
        catalogue = pathway_batch.Catalogue(
            pathways, parts, {vid: (("mc", mc_id), info) for vid, (mc_id, info) in self._parts.items()},
            self.leaf_index(), self.runtime.base_url, self.runtime.clock.now(),
        )  # fmt: skip
        with self.runtime.db.read() as repo:
            known = {(c.pathway_id, c.recipient_email) for c in repo.completions()}
            result, fresh = pathway_batch.run(catalogue, repo.all_held_awards(), known, workers, progress)
            importers = repo.emails_with_imports()
        if settle:
            for email in sorted({email for email, _pid in fresh} | set(importers)):
                result.settled += len(self.reevaluate(email))
        return result

    # -- re-evaluation and roll-ups ----------------------------------------------------------
    def on_award_change(self, email: str, microcredential_id: str) -> None:
        if microcredential_id and ("mc", microcredential_id) not in self.leaf_index():
            return  # no pathway counts it (a roll-up's own award among them): nothing to re-evaluate
        try:
            self.reevaluate(email)
        except Exception:  # the award itself is committed; a re-run of reevaluate repairs this
            log.exception("re-evaluating pathways for %s failed", email)

    def reevaluate(self, email: str, actor: str = "pathways") -> list[str]:
        """Issue, queue, flag, suspend or reinstate roll-ups for one learner; what happened, in words."""
        events = []
        for item in self.progress(email):
            events += self._settle(email, item, actor)
        return events

    def _settle(self, email: str, item: LearnerPathway, actor: str) -> list[str]:
        definition = item.progress.pathway.definition
        completion = item.completion
        if completion is None:
            if not item.progress.satisfied:
                return []
            return [self._complete(email, item, actor)]
        if completion.state != "issued" or completion.award_id is None:
            return []
        doubts = self._doubts(completion, item.held)
        if doubts and not completion.flagged:
            return [self._flag(completion, doubts, definition.on_part_revoked == "suspend", actor)]
        if not doubts and completion.flagged:
            return [self._clear(completion, actor)]
        return []

    @staticmethod
    def _doubts(completion: models.PathwayCompletion, held: dict[str, Holding]) -> str:
        """Why an issued roll-up is in doubt: a part it cites is revoked or suspended.

        A substitute part does not clear the doubt, since the roll-up still cites the one that
        stopped counting; expiry of a part does not raise one (a qualification outlives its parts).
        """
        stopped = [
            f"{held[p['id']].name or p['id']} is {held[p['id']].state}"
            for p in json.loads(completion.parts)
            if p["id"] in held and held[p["id"]].state in ("revoked", "suspended")
        ]
        return "; ".join(stopped[:3])

    def _complete(self, email: str, item: LearnerPathway, actor: str) -> str:
        definition = item.progress.pathway.definition
        parts = self._cited(item.progress)
        if definition.approval == "issuer":
            with self.runtime.db.transaction() as repo:
                if repo.completion(item.row.id, email, lock=True) is not None:
                    return "already recorded"
                repo.add(self._completion_row(item.row.id, email, "pending", None, parts))
                self.runtime.audit(repo, actor, "pathway.pending", None, item.row.id, email=email)
            return f"{definition.name}: waiting for the issuer's approval"
        award_id = self._issue(email, item.row, item.progress, parts, actor)
        return f"{definition.name}: roll-up issued ({award_id})"

    def _completion_row(
        self, pathway_id: str, email: str, state: str, award_id: str | None, parts: list[dict[str, Any]]
    ) -> models.PathwayCompletion:
        return models.PathwayCompletion(
            id=str(uuid.uuid4()), pathway_id=pathway_id, recipient_email=email, state=state, award_id=award_id,
            parts=json.dumps(parts), flagged=None, suspended_by_policy=False, created_at=self.runtime.clock.now(),
        )  # fmt: skip

    def _cited(self, progress: Progress) -> list[dict[str, Any]]:
        """Each contributing credential: id, issuer, achievement, and the digest of it exactly as signed."""
        cited = []
        with self.runtime.db.read() as repo:
            for holding in progress.parts:
                award_id = self.awards.award_id_for(holding.credential_id)
                award = repo.award(award_id) if award_id else None
                signed = safejson.parse(award.credential.encode()) if award else self._imported_text(repo, holding)
                cited.append({
                    "id": holding.credential_id, "issuer": holding.issuer, "name": holding.name,
                    "achievement": holding.key[-2] if holding.key[0] == "ext" else holding.key[1],
                    "issued": holding.issued_at.isoformat(), "ects": holding.ects, "hours": holding.hours,
                    "skills": sorted(holding.skills), "digestMultibase": credential_digest(signed),
                })  # fmt: skip
        return cited

    @staticmethod
    def _imported_text(repo: Repository, holding: Holding) -> dict[str, Any] | str:
        ref = holding.credential_id
        item = repo.wallet_item(ref[11:]) if ref.startswith("urn:wallet:") else repo.wallet_item_by_credential(ref)
        if item is None:
            raise NotFound(f"the imported credential {holding.credential_id} is gone")
        return item.content if item.format == "jwt" else safejson.parse(item.content.encode())

    def _issue(
        self, email: str, row: models.PathwayRow, progress: Progress, parts: list[dict[str, Any]], actor: str,
        completion_id: str | None = None,
    ) -> str:  # fmt: skip
        """Sign and store the roll-up and its completion in one transaction (exactly once per learner)."""
        with self.runtime.db.transaction() as repo:
            existing = repo.completion(row.id, email, lock=True)
            if existing is not None and existing.id != completion_id:
                return existing.award_id or "already recorded"
            request = AwardRequest(
                row.microcredential_id, email, _learner_name(repo, email), external_id=f"pathway:{row.id}"
            )
            prepared = self.awards.prepare(repo, request)
            if isinstance(prepared, AwardOutcome):
                raise Conflict("a roll-up for this learner already exists")
            credential = self._roll_up(prepared.credential, prepared.issuer, progress, parts)
            pending = replace(prepared, credential=credential)
            self.awards.sign_and_store(repo, pending, actor)
            if existing is None:
                repo.add(self._completion_row(row.id, email, "issued", pending.award_id, parts))
            else:
                existing.state, existing.award_id = "issued", pending.award_id
            self.runtime.audit(repo, actor, "pathway.issue", prepared.issuer.organisation_id, pending.award_id,
                               pathway=row.id, parts=len(parts))  # fmt: skip
        return pending.award_id

    def _roll_up(
        self, credential: dict[str, Any], issuer: models.Issuer, progress: Progress, parts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The target credential made specific: parts cited with digests, credits summed, skills united."""
        definition = progress.pathway.definition
        skills = sorted({s for p in parts for s in p["skills"]})
        ects = sum(p["ects"] for p in parts) or None
        hours = sum(p["hours"] for p in parts) or None
        target = self._target(definition).model_copy(
            update={"skills": [Skill(uri=s, label=self._skill_label(s)) for s in skills][:200], "ects": ects,
                    "workload_hours": hours}
        )  # fmt: skip
        subject = dict(credential["credentialSubject"])
        old = subject["achievement"]
        achievement = builder.achievement(
            old["id"], target, old.get("creator", {"id": issuer.did, "name": issuer.name})
        )
        achievement["image"] = old.get("image", achievement.get("image"))
        subject["achievement"] = {k: v for k, v in achievement.items() if v is not None}
        if ects:
            subject["creditsEarned"] = ects
        out = {**credential, "credentialSubject": subject}
        out["evidence"] = [
            {"id": p["id"], "type": ["Evidence"], "name": p["name"],
             "description": f"Issued by {p['issuer']} on {p['issued'][:10]}; counts toward {definition.name}."}
            for p in parts
        ]  # fmt: skip
        out["relatedResource"] = [{"id": p["id"], "digestMultibase": p["digestMultibase"]} for p in parts]
        return out

    def _skill_label(self, uri: str) -> str:
        return self._skill_labels.get(uri) or uri.rsplit("/", 1)[-1]

    def _flag(self, completion: models.PathwayCompletion, why: str, suspend: bool, actor: str) -> str:
        with self.runtime.db.transaction() as repo:
            locked = repo.completion_by_id(completion.id, lock=True)
            assert locked is not None
            locked.flagged = why
            award = repo.award(locked.award_id) if locked.award_id else None
            suspend = suspend and award is not None and not award.suspended and award.revoked_at is None
            suspend = suspend and award is not None and "suspension" in self.awards.status_purposes(repo, award)
            locked.suspended_by_policy = suspend or locked.suspended_by_policy
        if suspend and completion.award_id:
            self.awards.suspend(completion.award_id, f"pathway part no longer counts ({why})", actor=actor)
            return f"roll-up {completion.award_id} suspended: {why}"
        return f"roll-up {completion.award_id} flagged: {why}"

    def _clear(self, completion: models.PathwayCompletion, actor: str) -> str:
        with self.runtime.db.transaction() as repo:
            locked = repo.completion_by_id(completion.id, lock=True)
            assert locked is not None
            lift = locked.suspended_by_policy
            locked.flagged, locked.suspended_by_policy = None, False
        if lift and completion.award_id:
            self.awards.unsuspend(completion.award_id, "the pathway's parts count again", actor=actor)
            return f"roll-up {completion.award_id} reinstated"
        return f"roll-up {completion.award_id} no longer flagged"

    # -- approval -----------------------------------------------------------------------------
    def decide(
        self, completion_id: str, approve: bool, actor: str, note: str | None = None
    ) -> models.PathwayCompletion:
        with self.runtime.db.read() as repo:
            completion = repo.completion_by_id(completion_id)
        if completion is None:
            raise NotFound(f"no pending roll-up {completion_id!r}")
        if completion.state != "pending":
            raise Conflict(f"this roll-up is already {completion.state}")
        if approve:
            item = next(
                (p for p in self.progress(completion.recipient_email) if p.row.id == completion.pathway_id), None
            )
            if item is None or not item.progress.satisfied:
                raise Conflict("the learner no longer satisfies this pathway (a part was revoked or expired)")
            self._issue(completion.recipient_email, item.row, item.progress, self._cited(item.progress), actor,
                        completion_id)  # fmt: skip
        with self.runtime.db.transaction() as repo:
            locked = repo.completion_by_id(completion_id, lock=True)
            assert locked is not None
            if not approve:
                locked.state = "rejected"
            locked.decided_at, locked.decided_by, locked.note = self.runtime.clock.now(), actor, note
            self.runtime.audit(repo, actor, "pathway.approve" if approve else "pathway.reject", None, completion_id,
                               note=note)  # fmt: skip
            return locked


def part_info(definition: dict[str, Any]) -> PartInfo:
    hours = definition.get("workload_hours") or definition.get("duration_hours") or 0.0
    skills = frozenset(str(s["uri"]) for s in definition.get("skills", []) if isinstance(s, dict) and "uri" in s)
    return PartInfo(str(definition.get("name", "")), float(definition.get("ects") or 0.0), float(hours), skills)


def build_leaf_index(pathways: dict[str, Pathway]) -> dict[LeafKey, set[str]]:
    """Which pathways each leaf key counts toward, through nested pathways too."""
    direct: dict[str, set[LeafKey]] = {
        pid: {n.ref for n in p.tree.walk() if n.kind in ("microcredential", "external")} for pid, p in pathways.items()
    }
    nested = {pid: {n.ref[1] for n in p.tree.walk() if n.kind == "pathway"} for pid, p in pathways.items()}
    index: dict[LeafKey, set[str]] = {}
    for pid in pathways:
        seen, queue, keys = set(), [pid], set()
        while queue:
            current = queue.pop()
            if current in seen or current not in direct:
                continue
            seen.add(current)
            keys |= direct[current]
            queue += list(nested[current])
        for key in keys:
            index.setdefault(key, set()).add(pid)
    return index


def _learner_name(repo: Any, email: str) -> str | None:
    """The name a roll-up names its holder by: the account's, else the one on the learner's latest award
    (the page of a stacked certificate must say whose it is, as the parts' pages do)."""
    user = repo.user_by_email(email)
    if user is not None and user.name:
        return str(user.name)
    named = [a.recipient_name for a in repo.awards(email=email, limit=50) if a.recipient_name]
    return str(named[0]) if named else None
