"""A learner's Comprehensive Learner Record: a signed CLR 2.0 `ClrCredential`.

It carries the learner's credentials exactly as signed (all of them, or the ones chosen),
their achievements, and associations between pathway parts: each part `isChildOf` the
roll-up, the roll-up `isParentOf` each part, and `precedes` for a pathway's order rules.
The installation signs it with its own did:web key, then verifies it (embedded
credentials included) before handing it out.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from microcred.errors import InputError, SigningError
from microcred.services.awarding import AwardService, normalize_email
from microcred.services.credentials import CredentialService
from microcred.services.issuing import NotFound, PlatformService, Runtime
from microcred.services.pathways import PathwayService
from microcred.services.presentation import describe
from microcred.standards import ob3, safejson
from microcred.standards.dates import format_datetime
from microcred.standards.di import ProofOptions

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"


@dataclass(frozen=True, slots=True)
class Omitted:
    """A credential left out of a record because it does not verify now."""

    name: str
    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ClrExport:
    clr: dict[str, Any]
    omitted: list[Omitted]


class ClrService:
    def __init__(
        self,
        runtime: Runtime,
        awards: AwardService,
        pathways: PathwayService,
        identity: PlatformService,
        credentials: CredentialService,
    ) -> None:
        self.runtime = runtime
        self.awards = awards
        self.pathways = pathways
        self.identity = identity
        self.credentials = credentials

    def export(self, email: str, chosen: list[str] | None = None, name: str | None = None) -> dict[str, Any]:
        return self.export_record(email, chosen, name).clr

    def export_record(self, email: str, chosen: list[str] | None = None, name: str | None = None) -> ClrExport:
        """The signed record of what still verifies, and what was left out (revoked, suspended, expired,
        tampered): a record that embeds a credential that fails would not verify itself."""
        email = normalize_email(email)
        included, omitted = self._verifying(self._credentials(email, chosen))
        if not included:
            reason = "none of them verifies now" if omitted else "there are none"
            raise NotFound(f"{email} holds no credentials to put in a record: {reason}")
        achievements = _achievements(included)
        # The record repeats the achievements at its top level, so it needs every context they use.
        extra = sorted({c for cred in included for c in cred.get("@context", []) if isinstance(c, str)}
                       - {ob3.VC_V2, CLR_CONTEXT, ob3.OB_V3, ob3.VC_V1})  # fmt: skip
        clr: dict[str, Any] = {
            "@context": [ob3.VC_V2, CLR_CONTEXT, ob3.OB_V3, *extra],
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", "ClrCredential"],
            "issuer": {"id": self.runtime.platform_did, "type": ["Profile"], "name": f"microcred at {self._host()}"},
            "validFrom": format_datetime(self.runtime.clock.now()),
            "name": f"Comprehensive Learner Record{f' of {name}' if name else ''}",
            "credentialSubject": {
                "type": ["ClrSubject"],
                "identifier": [ob3.hashed_email(email, secrets.token_hex(8))],
                "achievement": achievements,
                "verifiableCredential": included,
            },
        }
        associations = self._associations(email, {a["id"] for a in achievements})
        if associations:
            clr["credentialSubject"]["association"] = associations
        return ClrExport(self._sign(clr), omitted)

    def _verifying(self, credentials: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Omitted]]:
        included, omitted = [], []
        for credential in credentials:
            report = self.credentials.verify(credential)
            if report.verified:
                included.append(credential)
                continue
            failed = [c.message for c in report.checks if c.status == "failed"]
            omitted.append(
                Omitted(describe(credential).title, str(credential.get("id", "")), failed[0] if failed else "")
            )
        return included, omitted

    def _host(self) -> str:
        return self.runtime.base_url.split("://", 1)[-1]

    def _credentials(self, email: str, chosen: list[str] | None) -> list[dict[str, Any]]:
        with self.runtime.db.read() as repo:
            awards = repo.awards(email=email, limit=10_000)
            user = repo.user_by_email(email)
            items = repo.wallet_items(user.id) if user is not None else []
        found = {self.awards.credential_url(a.id): safejson.parse(a.credential.encode()) for a in awards}
        for item in items:
            if item.format == "json":  # a VC-JWT cannot sit inside a JSON-LD record, nor a VC 1.1 one in 2.0
                credential = safejson.parse(item.content.encode())
                if (credential.get("@context") or [None])[0] != ob3.VC_V2:
                    continue
                found.setdefault(str(credential.get("id") or f"urn:wallet:{item.id}"), credential)
        if chosen is None:
            return list(found.values())
        missing = [ref for ref in chosen if ref not in found and self._url(ref) not in found]
        if missing:
            raise InputError(f"not a credential of {email}: {', '.join(missing[:3])}")
        return [found.get(ref) or found[self._url(ref)] for ref in dict.fromkeys(chosen)]

    def _url(self, ref: str) -> str:
        award_id = self.awards.award_id_from_ref(ref)
        return self.awards.credential_url(award_id) if award_id else ref

    def _associations(self, email: str, achievement_ids: set[str]) -> list[dict[str, Any]]:
        """isChildOf / isParentOf between each roll-up and its parts, precedes for order rules."""
        out: list[dict[str, Any]] = []
        for item in self.pathways.progress(email):
            completion = item.completion
            if completion is None or completion.award_id is None:
                continue
            rollup = json.loads(self.awards.signed_json(completion.award_id))["credentialSubject"]["achievement"]["id"]
            parts = json.loads(completion.parts)
            for part in parts:
                achievement = self._achievement_of(part)
                if rollup in achievement_ids and achievement in achievement_ids:
                    out.append(_association("isChildOf", achievement, rollup))
                    out.append(_association("isParentOf", rollup, achievement))
            out += self._precedes(item, achievement_ids)
        return out

    def _achievement_of(self, part: dict[str, Any]) -> str:
        award_id = self.awards.award_id_for(part["id"])
        if award_id is None:
            return str(part["achievement"])
        achievement: str = json.loads(self.awards.signed_json(award_id))["credentialSubject"]["achievement"]["id"]
        return achievement

    def _precedes(self, item: Any, achievement_ids: set[str]) -> list[dict[str, Any]]:
        out = []
        for earlier, later in item.progress.pathway.definition.order:
            first, second = item.progress.root.find(earlier), item.progress.root.find(later)
            if first is None or second is None or not first.used or not second.used:
                continue
            source = self._achievement_of({"id": first.used[0].credential_id, "achievement": first.used[0].key[-1]})
            target = self._achievement_of({"id": second.used[0].credential_id, "achievement": second.used[0].key[-1]})
            if source in achievement_ids and target in achievement_ids:
                out.append(_association("precedes", source, target))
        return out

    def _sign(self, clr: dict[str, Any]) -> dict[str, Any]:
        vm, key = self.identity.signing_key()
        signed = self.credentials.verifier.integrity.sign(
            clr, key, ProofOptions(vm, "eddsa-rdfc-2022", self.runtime.clock.now())
        )
        report = self.credentials.verify(signed)
        if not report.verified:
            reasons = "; ".join(f"{c.code}: {c.message}" for c in report.checks if c.status == "failed")
            raise SigningError(f"the record does not verify, so it was not exported: {reasons}")
        return signed


def _achievements(credentials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for credential in credentials:
        subject = credential.get("credentialSubject")
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        if isinstance(achievement, dict) and isinstance(achievement.get("id"), str):
            seen.setdefault(achievement["id"], achievement)
    return list(seen.values())


def _association(kind: str, source: str, target: str) -> dict[str, Any]:
    return {"type": "Association", "associationType": kind, "sourceId": source, "targetId": target}
