"""Open Badges 3.0 / VC Data Model 2.0 builders.

Builders return plain JSON-ready dicts in wire form (camelCase keys) so that
what is signed is exactly what is stored and served.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from microcred.standards.dates import format_datetime

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_CONTEXTS = [VC_V2, OB_V3]


@dataclass(frozen=True, slots=True)
class Alignment:
    target_url: str
    target_name: str
    target_framework: str = "ESCO"
    target_type: str = "ceasn:Competency"
    target_code: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "type": ["Alignment"],
            "targetName": self.target_name,
            "targetUrl": self.target_url,
            "targetFramework": self.target_framework,
            "targetType": self.target_type,
        }
        if self.target_code:
            wire["targetCode"] = self.target_code
        return wire


@dataclass(frozen=True, slots=True)
class AchievementSpec:
    id: str
    name: str
    description: str
    criteria: str
    achievement_type: str = "MicroCredential"
    image: str | None = None
    alignments: list[Alignment] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    credits_available: float | None = None
    field_of_study: str | None = None
    in_language: str | None = None
    version: str | None = None
    creator: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.id,
            "type": ["Achievement"],
            "achievementType": self.achievement_type,
            "name": self.name,
            "description": self.description,
            "criteria": {"narrative": self.criteria},
        }
        if self.image:
            wire["image"] = {"id": self.image, "type": "Image"}
        if self.alignments:
            wire["alignment"] = [a.to_wire() for a in self.alignments]
        if self.tags:
            wire["tag"] = list(self.tags)
        optional = {
            "creditsAvailable": _json_number(self.credits_available),
            "fieldOfStudy": self.field_of_study,
            "inLanguage": self.in_language,
            "version": self.version,
            "creator": self.creator,
        }
        wire.update({k: v for k, v in optional.items() if v is not None})
        return wire


def _json_number(value: float | None) -> float | int | None:
    """Integral values as JSON integers: the same JSON number, and the fast JCS path."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def profile(
    issuer_id: str, name: str, *, url: str | None = None, email: str | None = None, **extra: Any
) -> dict[str, Any]:
    wire: dict[str, Any] = {"id": issuer_id, "type": ["Profile"], "name": name}
    if url:
        wire["url"] = url
    if email:
        wire["email"] = email
    wire.update(extra)
    return wire


def hashed_email(email: str, salt: str) -> dict[str, Any]:
    """An IdentityObject for a salted, hashed email (OB 3.0 IdentityObject)."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": "sha256$" + digest,
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def achievement_credential(
    *,
    issuer: dict[str, Any],
    achievement: dict[str, Any],
    valid_from: datetime,
    subject_id: str | None = None,
    identifiers: list[dict[str, Any]] | None = None,
    credential_id: str | None = None,
    name: str | None = None,
    valid_until: datetime | None = None,
    awarded: datetime | None = None,
    result: list[dict[str, Any]] | None = None,
    evidence: list[dict[str, Any]] | None = None,
    status: list[dict[str, Any]] | None = None,
    extra_contexts: list[str] | None = None,
) -> dict[str, Any]:
    """An unsigned OB 3.0 AchievementCredential."""
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if subject_id:
        subject["id"] = subject_id
    if identifiers:
        subject["identifier"] = identifiers
    subject["achievement"] = achievement
    if awarded is not None:
        subject["activityEndDate"] = format_datetime(awarded)
    if result:
        subject["result"] = result
    credential: dict[str, Any] = {
        "@context": [*OB_CONTEXTS, *(extra_contexts or [])],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": name or achievement.get("name", "Achievement"),
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    if awarded is not None:
        credential["awardedDate"] = format_datetime(awarded)
    credential["credentialSubject"] = subject
    if evidence:
        credential["evidence"] = evidence
    if status:
        credential["credentialStatus"] = status if len(status) > 1 else status[0]
    return credential
