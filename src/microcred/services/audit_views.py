"""The audit log as people read it: each event in words, what it concerns as a link, details as labelled
values (never a JSON blob)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# action -> what happened, in words
ACTIONS = {
    "award.issue": "Awarded a credential", "award.revoke": "Revoked a credential",
    "award.suspend": "Suspended a credential", "award.unsuspend": "Reinstated a credential",
    "award.claim": "Learner claimed a credential", "award.share": "Learner made a credential public",
    "award.hide": "Learner made a credential private", "bulk.start": "Started a bulk award",
    "bulk.finished": "Bulk award finished", "bulk.failed": "Bulk award stopped",
    "microcredential.create": "Created a microcredential", "microcredential.update": "Changed a microcredential",
    "microcredential.publish": "Published a microcredential", "microcredential.image": "Changed a badge image",
    "issuer.create": "Created an issuer", "issuer.update": "Changed an issuer profile",
    "key.create": "Created a signing key", "key.rotate": "Rotated a signing key",
    "pathway.create": "Created a pathway", "pathway.update": "Changed a pathway",
    "pathway.issue": "Issued a pathway roll-up", "pathway.pending": "A roll-up awaits approval",
    "pathway.approve": "Approved a roll-up", "pathway.reject": "Rejected a roll-up",
    "recognition.rule": "Added a credit rule", "recognition.request": "Learner asked for credit",
    "recognition.approve": "Approved credit", "recognition.reject": "Refused credit",
    "role.create": "Created a job role", "role.update": "Changed a job role", "role.delete": "Deleted a job role",
    "skills.discoverable": "Learner changed what employers may see", "skills.share": "Learner shared skills",
    "token.create": "Created an API token", "token.revoke": "Revoked an API token",
    "user.create": "Created an account", "user.invite": "Invited staff", "user.confirm": "Confirmed an address",
    "user.password_reset": "Reset a password", "mail.failed": "Mail could not be sent",
    "vcapi.issue": "Issued through the VC-API", "vcapi.status": "Changed a status through the VC-API",
    "wallet.import": "Learner imported a credential", "wallet.delete": "Learner removed a credential",
}  # fmt: skip
AREAS = {
    "award": "Awards", "bulk": "Bulk awards", "microcredential": "Microcredentials", "pathway": "Pathways",
    "recognition": "Recognition", "issuer": "Issuers", "key": "Keys", "token": "API tokens", "user": "Accounts",
    "role": "Job roles", "vcapi": "VC-API", "wallet": "Wallets", "skills": "Skills", "mail": "Mail",
}  # fmt: skip
# area -> the console page an event's subject opens
_LINKS = {
    "award": "/console/awards/{}", "microcredential": "/console/microcredentials/{}", "bulk": "/console/bulk/{}",
    "pathway": "/console/pathways/{}", "vcapi": "/console/awards/{}",
}  # fmt: skip
_DETAIL_LABELS = {
    "reason": "Reason", "name": "Name", "email": "Email", "version": "Version", "issued": "Issued",
    "skipped": "Already held", "failed": "Failed", "source": "Source", "exemption": "Exemption",
    "missing": "EU elements missing", "role": "Role", "key_id": "Key", "file": "File",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    what: str
    subject: str | None
    link: str | None
    details: list[tuple[str, str]]


def audit_line(event: Any) -> AuditLine:
    area = event.action.split(".", 1)[0]
    link = _LINKS[area].format(event.subject) if area in _LINKS and event.subject else None
    return AuditLine(
        event.at, event.actor, event.action, ACTIONS.get(event.action, _words(event.action)), event.subject, link,
        details(event.detail),
    )  # fmt: skip


def details(text: str) -> list[tuple[str, str]]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return [("Detail", text[:500])]
    if not isinstance(data, dict):
        return [("Detail", str(data)[:500])]
    return [(_DETAIL_LABELS.get(k, _words(k)), _value(v)) for k, v in data.items() if v not in (None, "", [], {})]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)[:500]
    if isinstance(value, dict):
        return "; ".join(f"{_words(k)}: {v}" for k, v in value.items())[:500]
    return str(value)[:500]


def _words(code: str) -> str:
    text = code.replace(".", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]
