"""Awarding microcredentials, revocation and suspension, and the status lists behind them.

Issuing, allocating status indexes and recording the audit event happen in one
transaction. Every credential is signed, verified once more, and stored
exactly as signed; it is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from microcred.domain.microcredentials import MicrocredentialDefinition
from microcred.errors import InputError
from microcred.services import builder
from microcred.services.issuing import (
    Conflict,
    NotFound,
    Runtime,
    active_key,
    current_version,
    did_document,
    parse_definition,
    published_version,
)
from microcred.services.signing import sign_and_check
from microcred.standards import jose, ob3
from microcred.standards.dates import format_datetime
from microcred.standards.di import DataIntegrity, ProofOptions
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.status import Bitstring, status_list_credential
from microcred.storage import models
from microcred.storage.repositories import DuplicateError, Repository

LIST_SIZE = 131_072
PURPOSES = ("revocation", "suspension")


def status_purpose(definition: MicrocredentialDefinition) -> str:
    """The one status entry an award of this microcredential carries."""
    return "suspension" if definition.suspendable else "revocation"


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class AwardRequest:
    microcredential_id: str
    email: str
    name: str | None = None
    external_id: str | None = None
    evidence_url: str | None = None
    narrative: str | None = None
    grade: str | None = None
    valid_until: datetime | None = None
    subject_did: str | None = None


@dataclass(frozen=True, slots=True)
class PendingAward:
    request: AwardRequest
    email: str
    key: str
    award_id: str
    issuer: models.Issuer
    version: models.MicrocredentialVersion
    valid_until: datetime | None
    entries: list[tuple[models.StatusList, int]]
    credential: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AwardOutcome:
    id: str
    url: str
    created: bool
    credential: dict[str, Any]


def row_key(issuer_id: int, microcredential_id: str, email: str, external_id: str | None) -> str:
    """Idempotency key of a bulk row: issuer + microcredential + recipient + external id."""
    return hashlib.sha256(f"{issuer_id}\0{microcredential_id}\0{email}\0{external_id or ''}".encode()).hexdigest()


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not EMAIL.match(value) or len(value) > 320:
        raise InputError(f"{email!r} is not an email address")
    return value


class AwardService:
    def __init__(self, runtime: Runtime, jsonld: JsonLdProcessor) -> None:
        self.runtime = runtime
        self.jsonld = jsonld
        self.integrity = DataIntegrity(jsonld)
        self._signed_lists: dict[int, tuple[Any, datetime, dict[str, Any]]] = {}
        # Called with (recipient email, microcredential id) after an award, revocation or suspension commits:
        # pathways re-evaluate the learner. A listener's failure never undoes what was committed.
        self.listeners: list[Callable[[str, str], None]] = []

    def notify(self, email: str, microcredential_id: str) -> None:
        for listener in self.listeners:
            listener(email, microcredential_id)

    # -- awarding ------------------------------------------------------------
    def award(self, request: AwardRequest, actor: str = "cli") -> AwardOutcome:
        with self.runtime.db.transaction() as repo:
            prepared = self.prepare(repo, request)
            if isinstance(prepared, AwardOutcome):
                return prepared
            signed = self.sign_and_store(repo, prepared, actor)
        self.notify(prepared.email, prepared.version.microcredential_id)
        return AwardOutcome(prepared.award_id, self.credential_url(prepared.award_id), True, signed)

    def sign_and_store(self, repo: Repository, pending: PendingAward, actor: str) -> dict[str, Any]:
        """Sign a prepared award (its credential possibly made specific by the caller), check it, store it."""
        vm, pair = active_key(repo, self.runtime, pending.issuer)
        signed = sign_and_check(
            self.integrity, self.runtime.clock, pair, vm, did_document(repo, pending.issuer),
            pending.issuer.default_suite, pending.credential,
        )  # fmt: skip
        self.store(repo, pending, signed, actor)
        return signed

    def prepare(self, repo: Repository, request: AwardRequest) -> PendingAward | AwardOutcome:
        """Everything but the signature: the row key, status indexes and the unsigned credential."""
        (result,) = self.prepare_many(repo, [request])
        if isinstance(result, InputError):
            raise result
        return result

    def prepare_many(
        self, repo: Repository, requests: list[AwardRequest]
    ) -> list[PendingAward | AwardOutcome | InputError]:
        """Prepare a batch: one query for existing rows, one lock and blob update per status list."""
        with repo.no_autoflush():
            catalog: dict[str, Any] = {}
            keyed = [self._keyed(repo, request, catalog) for request in requests]
            # Awarding is serialized per issuer (a row lock; SQLite's writer lock does the same),
            # so the existence check below sees every row another job committed.
            repo.lock_issuers(sorted({entry[2].id for entry in catalog.values()}))
            keys = [k[0] for k in keyed if not isinstance(k, InputError)]
            existing = repo.awards_by_row_keys(keys)
            fresh: list[tuple[int, str, str, Any]] = []
            results: list[PendingAward | AwardOutcome | InputError] = []
            seen: set[str] = set()
            for position, item in enumerate(keyed):
                if isinstance(item, InputError):
                    results.append(item)
                    continue
                key, email, entry = item
                if key in existing or key in seen:
                    award = existing.get(key)
                    results.append(
                        AwardOutcome(
                            award.id if award else "",
                            self.credential_url(award.id) if award else "",
                            False,
                            json.loads(award.credential) if award else {},
                        )
                    )
                    continue
                seen.add(key)
                fresh.append((position, key, email, entry))
                results.append(InputError("pending"))
            allocations = self._allocate_many(repo, [(entry[2], status_purpose(entry[3])) for *_, entry in fresh])
            for (position, key, email, entry), entries in zip(fresh, allocations, strict=True):
                results[position] = self._pending(requests[position], key, email, entry, entries)
            return results

    def _keyed(
        self, repo: Repository, request: AwardRequest, catalog: dict[str, Any]
    ) -> tuple[str, str, Any] | InputError:
        try:
            email = normalize_email(request.email)
            entry = catalog.get(request.microcredential_id)
            if entry is None:
                mc, version, issuer = current_version(repo, request.microcredential_id)
                definition = parse_definition(json.loads(version.definition))
                if mc.published_at is None:
                    raise Conflict(
                        f"{definition.name!r} is a draft: publish it before awarding it "
                        f"(console, or `microcred microcredential publish {mc.id}`)"
                    )
                entry = catalog[request.microcredential_id] = (
                    mc,
                    version,
                    issuer,
                    definition,
                    self._wire(repo, issuer, mc.id, version.version, definition),
                )
        except InputError as exc:
            return exc
        return row_key(entry[2].id, entry[0].id, email, request.external_id), email, entry

    def _pending(
        self, request: AwardRequest, key: str, email: str, entry: Any, entries: list[tuple[models.StatusList, int]]
    ) -> PendingAward:
        _mc, version, issuer, definition, (profile, achievement) = entry
        award_id = str(uuid.uuid4())
        valid_until = request.valid_until or _expiry(self.runtime.clock.now(), definition.valid_for_months)
        credential = self._credential(issuer, profile, achievement, request, email, award_id, entries, valid_until)
        return PendingAward(request, email, key, award_id, issuer, version, valid_until, entries, credential)

    def store(self, repo: Repository, pending: PendingAward, signed: dict[str, Any] | str, actor: str) -> None:
        """One award row, its status entries and the audit event, in the caller's transaction."""
        self.store_many(repo, [(pending, signed)], actor)

    def store_many(
        self, repo: Repository, items: Sequence[tuple[PendingAward, dict[str, Any] | str]], actor: str
    ) -> None:
        """Award rows, status entries and audit events as three multi-row inserts.

        A signed credential may already be the exact JSON text to store (bulk workers produce it).
        """
        now = self.runtime.clock.now()
        awards, entries, events = [], [], []
        for pending, signed in items:
            text = signed if isinstance(signed, str) else json.dumps(signed, ensure_ascii=False)
            awards.append(
                {
                    "id": pending.award_id,
                    "issuer_id": pending.issuer.id,
                    "version_id": pending.version.id,
                    "row_key": pending.key,
                    "recipient_email": pending.email,
                    "recipient_name": pending.request.name,
                    "external_id": pending.request.external_id,
                    "suite": pending.issuer.default_suite,
                    "credential": text,
                    "issued_at": now,
                    "valid_until": pending.valid_until,
                    "revoked_at": None,
                    "revocation_reason": None,
                    "suspended": False,
                }
            )
            entries += [
                {"list_id": lst.id, "index": index, "award_id": pending.award_id} for lst, index in pending.entries
            ]
            events.append(
                {
                    "at": now,
                    "actor": actor,
                    "action": "award.create",
                    "organisation_id": pending.issuer.organisation_id,
                    "subject": pending.award_id,
                    "detail": json.dumps({"version": pending.version.id}),
                }
            )
        repo.insert_many(models.Award, awards)
        repo.insert_many(models.StatusEntry, entries)
        repo.insert_many(models.AuditEvent, events)

    def credential_url(self, award_id: str) -> str:
        return f"{self.runtime.base_url}/credentials/{award_id}"

    def award_id_for(self, url: str) -> str | None:
        """The award behind one of this installation's credential URLs (with or without .json)."""
        prefix = f"{self.runtime.base_url}/credentials/"
        rest = url.removeprefix(prefix).removesuffix(".json") if url.startswith(prefix) else ""
        return rest if 0 < len(rest) <= 36 and "/" not in rest else None

    def award_id_from_ref(self, ref: str) -> str | None:
        """The award a caller names: its credential URL, `urn:uuid:<id>` or the bare id (unchecked)."""
        found = self.award_id_for(ref) or ref.removeprefix("urn:uuid:")
        return found if 0 < len(found) <= 36 and "/" not in found else None

    def status_list_url(self, issuer_slug: str, purpose: str, sequence: int) -> str:
        return f"{self.runtime.base_url}/status/{issuer_slug}/{purpose}/{sequence}"

    def _allocate_many(
        self, repo: Repository, awards: list[tuple[models.Issuer, str]]
    ) -> list[list[tuple[models.StatusList, int]]]:
        """One status index per award, on a list for its microcredential's purpose, random and unused.

        Each list row is locked for the transaction and its allocation bitmap
        written once per batch; the entries' primary key is the final guard.
        """
        per_award: list[list[tuple[models.StatusList, int]]] = [[] for _ in awards]
        groups: dict[tuple[int, str], list[int]] = {}
        for position, (issuer, purpose) in enumerate(awards):
            groups.setdefault((issuer.id, purpose), []).append(position)
        for (_, purpose), positions in groups.items():
            issuer = awards[positions[0]][0]
            for position, allocation in zip(
                positions, self.allocate(repo, issuer, purpose, len(positions)), strict=True
            ):
                per_award[position].append(allocation)
        return per_award

    def allocate(
        self, repo: Repository, issuer: models.Issuer, purpose: str, count: int, status_size: int = 1
    ) -> list[tuple[models.StatusList, int]]:
        out: list[tuple[models.StatusList, int]] = []
        while len(out) < count:
            status_list = repo.open_status_list(issuer.id, purpose, status_size)
            if status_list is None or status_list.used >= status_list.size:
                sequence = repo.last_status_sequence(issuer.id, purpose) + 1
                status_list = self._new_list(repo, issuer, purpose, sequence, status_size)
            take = min(count - len(out), status_list.size - status_list.used)
            allocated = bytearray(status_list.allocated)
            for _ in range(take):
                index = _free_index(allocated, status_list.size)
                allocated[index // 8] |= 1 << (7 - index % 8)
                out.append((status_list, index))
            status_list.allocated = bytes(allocated)
            status_list.used += take
            repo.flush()
        return out

    def _new_list(
        self, repo: Repository, issuer: models.Issuer, purpose: str, sequence: int, status_size: int = 1
    ) -> models.StatusList:
        row = models.StatusList(
            issuer_id=issuer.id, purpose=purpose, sequence=sequence, size=LIST_SIZE, used=0, status_size=status_size,
            bits=bytes(LIST_SIZE * status_size // 8), allocated=bytes(LIST_SIZE // 8), updated_at=self.runtime.clock.now(),
        )  # fmt: skip
        try:
            return repo.add_unique(row)
        except DuplicateError:  # another transaction opened it first: use theirs
            found = repo.open_status_list(issuer.id, purpose, status_size)
            assert found is not None
            return found

    def achievement_document(self, mc_id: str, version: int | None = None) -> dict[str, Any]:
        """The Achievement a published microcredential's credentials carry, as a JSON-LD document: what its
        id (`/microcredentials/{id}/v{n}`) answers machines. Drafts answer not found."""
        with self.runtime.db.read() as repo:
            mc, row, issuer = published_version(repo, mc_id, version)
            definition = parse_definition(json.loads(row.definition))
            _profile, achievement = self._wire(repo, issuer, mc.id, row.version, definition)
        return {"@context": [ob3.VC_V2, ob3.OB_V3], **achievement}

    def _wire(
        self, repo: Repository, issuer: models.Issuer, mc_id: str, version: int, definition: MicrocredentialDefinition
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The issuer Profile and Achievement, shared by every award of one microcredential version."""
        profile = _profile(issuer)
        parent = repo.issuer(issuer.parent_issuer_id) if issuer.parent_issuer_id else None
        if parent is not None:
            profile["parentOrg"] = {"id": parent.did, "type": ["Profile"], "name": parent.name}
        achievement_id = f"{self.runtime.base_url}/microcredentials/{mc_id}/v{version}"
        achievement = builder.achievement(achievement_id, definition, profile)
        if "image" not in achievement:  # the uploaded image, or the generated badge when there is none
            achievement["image"] = {"id": f"{self.runtime.base_url}/microcredentials/{mc_id}/image", "type": "Image"}
        return profile, achievement

    def _credential(
        self,
        issuer: models.Issuer,
        profile: dict[str, Any],
        achievement: dict[str, Any],
        request: AwardRequest,
        email: str,
        award_id: str,
        entries: list[tuple[models.StatusList, int]],
        valid_until: datetime | None,
    ) -> dict[str, Any]:
        now = self.runtime.clock.now()
        credential = ob3.achievement_credential(
            issuer=profile,
            achievement=achievement,
            valid_from=now,
            subject_id=request.subject_did,
            identifiers=[ob3.hashed_email(email, secrets.token_hex(8))],
            credential_id=self.credential_url(award_id),
            valid_until=valid_until,
            awarded=now,
            result=[{"type": ["Result"], "value": request.grade}] if request.grade else None,
            evidence=_evidence(request),
            status=[self.status_entry(issuer, status_list, index) for status_list, index in entries],
            extra_contexts=[builder.EU_CONTEXT],
        )
        if request.name:
            credential["credentialSubject"]["name"] = request.name
        return credential

    def status_entry(self, issuer: models.Issuer, status_list: models.StatusList, index: int) -> dict[str, Any]:
        url = self.status_list_url(issuer.slug, status_list.purpose, status_list.sequence)
        return {
            "id": f"{url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": status_list.purpose,
            "statusListIndex": str(index),
            "statusListCredential": url,
        }

    # -- revocation and suspension -----------------------------------------
    def revoke(self, award_id: str, reason: str | None, actor: str = "cli") -> None:
        """Final: a revoked credential stays revoked (a suspendable one stays suspended for good)."""
        with self.runtime.db.transaction() as repo:
            award = self._award(repo, award_id)
            if award.revoked_at is not None:
                raise Conflict(f"award {award_id} is already revoked")
            purposes = self.status_purposes(repo, award)
            self._set_bit(repo, award, "revocation" if "revocation" in purposes else "suspension", True)
            award.revoked_at = self.runtime.clock.now()
            award.revocation_reason = reason
            self.runtime.audit(repo, actor, "award.revoke", self._org(repo, award), award_id, reason=reason)
            changed = (award.recipient_email, self._microcredential_of(repo, award))
        self.notify(*changed)

    def suspend(self, award_id: str, reason: str | None, actor: str = "cli") -> None:
        self._suspension(award_id, True, reason, actor)

    def unsuspend(self, award_id: str, reason: str | None, actor: str = "cli") -> None:
        self._suspension(award_id, False, reason, actor)

    def _suspension(self, award_id: str, suspended: bool, reason: str | None, actor: str) -> None:
        with self.runtime.db.transaction() as repo:
            award = self._award(repo, award_id)
            if award.revoked_at is not None:
                raise Conflict(f"award {award_id} is revoked; suspension no longer applies")
            if award.suspended == suspended:
                raise Conflict(f"award {award_id} is {'already' if suspended else 'not'} suspended")
            if "suspension" not in self.status_purposes(repo, award):
                raise Conflict(
                    f"award {award_id} can be revoked but not suspended: its microcredential publishes revocation "
                    "only (make it suspendable for later awards)"
                )
            self._set_bit(repo, award, "suspension", suspended)
            award.suspended = suspended
            action = "award.suspend" if suspended else "award.unsuspend"
            self.runtime.audit(repo, actor, action, self._org(repo, award), award_id, reason=reason)
            changed = (award.recipient_email, self._microcredential_of(repo, award))
        self.notify(*changed)

    @staticmethod
    def _award(repo: Repository, award_id: str) -> models.Award:
        award = repo.award(award_id, lock=True)
        if award is None:
            raise NotFound(f"no award {award_id!r}")
        return award

    @staticmethod
    def _microcredential_of(repo: Repository, award: models.Award) -> str:
        version = repo.version_by_id(award.version_id)
        return version.microcredential_id if version else ""

    @staticmethod
    def _org(repo: Repository, award: models.Award) -> int | None:
        issuer = repo.issuer(award.issuer_id)
        return issuer.organisation_id if issuer else None

    def suspendable(self, award_id: str) -> bool:
        """Whether the award's credential carries a suspension entry (so it can be suspended)."""
        with self.runtime.db.read() as repo:
            award = repo.award(award_id)
            return award is not None and "suspension" in self.status_purposes(repo, award)

    @staticmethod
    def status_purposes(repo: Repository, award: models.Award) -> set[str]:
        """The status purposes the award's credential carries (awards before issue 14 carry both)."""
        found = set()
        for entry in repo.status_entries(award.id):
            status_list = repo.status_list_by_id(entry.list_id)
            if status_list is not None:
                found.add(status_list.purpose)
        return found

    def _set_bit(self, repo: Repository, award: models.Award, purpose: str, value: bool) -> None:
        entries = [(entry.list_id, entry.index) for entry in repo.status_entries(award.id)]
        if not self.set_status_bit(repo, entries, purpose, value):
            raise Conflict(f"award {award.id} has no {purpose} status entry")

    def set_status_bit(self, repo: Repository, entries: list[tuple[int, int]], purpose: str, value: bool | int) -> bool:
        """Set the value of the first (list id, index) entry on a list for `purpose`; False when there is none."""
        for list_id, index in entries:
            status_list = repo.status_list_by_id(list_id, lock=True)
            if status_list is None or status_list.purpose != purpose:
                continue
            bits = Bitstring(status_list.size * status_list.status_size, status_list.bits)
            bits.set_value(index, int(value), status_list.status_size)
            status_list.bits = bytes(bits.bits)
            status_list.updated_at = self.runtime.clock.now()
            self.runtime.changes.bump()
            return True
        return False

    # -- status list credentials --------------------------------------------
    def status_list_credential(self, issuer_slug: str, purpose: str, sequence: int) -> dict[str, Any]:
        """The signed BitstringStatusListCredential as of now (valid for a day; re-signed on change)."""
        with self.runtime.db.read() as repo:
            issuer = repo.issuer_by_slug(issuer_slug)
            status_list = repo.status_list(issuer.id, purpose, sequence) if issuer else None
            if issuer is None or status_list is None:
                raise NotFound(f"no {purpose} status list {sequence} for issuer {issuer_slug!r}")
            cache_key = (status_list.updated_at, hashlib.blake2b(status_list.bits, digest_size=16).digest())
            cached = self._signed_lists.get(status_list.id)
            if cached is not None and cached[0] == cache_key and cached[1] > self.runtime.clock.now():
                return cached[2]
            url = self.status_list_url(issuer_slug, purpose, sequence)
            credential = status_list_credential(
                url, issuer.did, purpose, Bitstring(status_list.size * status_list.status_size, status_list.bits),
                format_datetime(status_list.updated_at), format_datetime(self.runtime.clock.now() + timedelta(days=1)),
            )  # fmt: skip
            vm, pair = active_key(repo, self.runtime, issuer)
            signed = self.integrity.sign(
                credential, pair, ProofOptions(vm, "eddsa-rdfc-2022", self.runtime.clock.now())
            )
            # Re-signed when the bits change, and at least hourly so validUntil stays a day ahead.
            self._signed_lists[status_list.id] = (cache_key, self.runtime.clock.now() + timedelta(hours=1), signed)
            return signed

    def signed_json(self, award_id: str) -> str:
        """The credential exactly as signed."""
        with self.runtime.db.read() as repo:
            award = repo.award(award_id)
            if award is None:
                raise NotFound(f"no credential {award_id!r}")
            return award.credential

    def credential_jwt(self, award_id: str) -> str:
        """The same credential as a VC-JWT, signed now with the issuer's active key."""
        with self.runtime.db.read() as repo:
            award = repo.award(award_id)
            issuer = repo.issuer(award.issuer_id) if award else None
            if award is None or issuer is None:
                raise NotFound(f"no credential {award_id!r}")
            credential = json.loads(award.credential)
            vm, pair = active_key(repo, self.runtime, issuer)
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        return jose.sign_vc_jwt(unsecured, pair, vm)

    def list_awards(
        self,
        *,
        microcredential_id: str | None = None,
        email: str | None = None,
        limit: int = 100,
        offset: int = 0,
        organisation_id: int | None = None,
    ) -> list[models.Award]:
        with self.runtime.db.read() as repo:
            return repo.awards(
                microcredential_id=microcredential_id,
                email=normalize_email(email) if email else None,
                limit=limit,
                offset=offset,
                organisation_id=organisation_id,
            )


def _profile(issuer: models.Issuer) -> dict[str, Any]:
    return builder.issuer_profile(
        issuer.did, issuer.name, issuer.country_code,
        url=issuer.url, email=issuer.email, description=issuer.description, image=issuer.image,
    )  # fmt: skip


def _free_index(allocated: bytearray, size: int) -> int:
    """A uniformly random unallocated index (random probes, then a scan when nearly full)."""
    for _ in range(64):
        index = secrets.randbelow(size)
        if not allocated[index // 8] & (1 << (7 - index % 8)):
            return index
    free = [i for i in range(size) if not allocated[i // 8] & (1 << (7 - i % 8))]
    if not free:
        raise Conflict("the status list is full")
    return free[secrets.randbelow(len(free))]


def _expiry(now: datetime, months: int | None) -> datetime | None:
    if months is None:
        return None
    return now + timedelta(days=round(months * 30.436875))


def _evidence(request: AwardRequest) -> list[dict[str, Any]] | None:
    if not request.evidence_url and not request.narrative:
        return None
    evidence: dict[str, Any] = {"type": ["Evidence"]}
    if request.evidence_url:
        if not request.evidence_url.startswith(("https://", "http://")):
            raise InputError(f"evidence_url {request.evidence_url!r} must be an http(s) URL")
        evidence["id"] = request.evidence_url
    if request.narrative:
        evidence["narrative"] = request.narrative
    return [evidence]
