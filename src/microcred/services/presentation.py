"""What a person reads about an OB 3.0 credential (ours or another issuer's), from its JSON alone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from microcred.standards.dates import parse_datetime
from microcred.standards.verify import CHECK_CODES, FAILED, PASSED, WARNING, Report

EU_LABELS = (
    ("learningOutcome", "Learning outcomes"),
    ("workloadHours", "Notional workload (hours)"),
    ("ectsCredits", "ECTS credits"),
    ("eqfLevel", "EQF level"),
    ("qualificationCycle", "Qualification cycle"),
    ("assessmentType", "Type of assessment"),
    ("participationForm", "Form of participation"),
    ("qualityAssurance", "Quality assurance"),
    ("prerequisites", "Prerequisites"),
    ("supervisionAndIdentityVerification", "Supervision and identity verification"),
    ("integrationStackability", "Integration and stackability"),
    ("furtherInformation", "Further information"),
)
# Plain-language headlines for a report, most serious first.
STATES = {
    "revoked": ("Revoked", "The issuer has revoked this credential. It is no longer valid."),
    "suspended": ("Suspended", "The issuer has suspended this credential for now."),
    "expired": ("Expired", "This credential was genuine but its validity period has ended."),
    "not-yet-valid": ("Not yet valid", "This credential only becomes valid later."),
    "failed": ("Not verified", "One or more checks failed: do not rely on this credential."),
    "verified": ("Verified", "The signature, the issuer, the dates and the status all check out."),
}


@dataclass(frozen=True, slots=True)
class Line:
    code: str
    status: str
    message: str
    explanation: str


@dataclass(slots=True)
class CredentialView:
    title: str
    description: str
    issuer_name: str
    issuer_id: str
    issuer_url: str | None
    learner: str | None
    criteria: str | None
    criteria_url: str | None
    achievement_type: str | None
    image: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    credits: Any
    skills: list[tuple[str, str]] = field(default_factory=list)  # (label, uri)
    eu: list[tuple[str, Any]] = field(default_factory=list)
    evidence: list[tuple[str | None, str | None]] = field(default_factory=list)  # (url, narrative)
    results: list[str] = field(default_factory=list)
    credential_id: str | None = None
    issuer_logo: str | None = None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a JSON-LD language map or value object
        found = value.get("@value") or value.get("en") or next((v for v in value.values() if isinstance(v, str)), None)
        return found if isinstance(found, str) else None
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def _date(value: Any) -> datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _image(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, dict) else value
    return found if isinstance(found, str) and found.startswith(("https://", "http://", "data:image/")) else None


def describe(credential: dict[str, Any]) -> CredentialView:
    subjects = credential.get("credentialSubject")
    first = subjects[0] if isinstance(subjects, list) and subjects else subjects
    subject: dict[str, Any] = first if isinstance(first, dict) else {}
    found = subject.get("achievement")
    achievement: dict[str, Any] = found if isinstance(found, dict) else {}
    raw_issuer = credential.get("issuer")
    issuer: dict[str, Any] = raw_issuer if isinstance(raw_issuer, dict) else {"id": raw_issuer}
    raw_criteria = achievement.get("criteria")
    criteria: dict[str, Any] = raw_criteria if isinstance(raw_criteria, dict) else {}
    view = CredentialView(
        title=_text(achievement.get("name")) or _text(credential.get("name")) or "Untitled credential",
        description=_text(achievement.get("description")) or _text(credential.get("description")) or "",
        issuer_name=_text(issuer.get("name")) or str(issuer.get("id") or "unknown issuer"),
        issuer_id=str(issuer.get("id") or ""),
        issuer_url=issuer.get("url") if isinstance(issuer.get("url"), str) else None,
        learner=_text(subject.get("name")),
        criteria=_text(criteria.get("narrative")),
        criteria_url=criteria.get("id") if isinstance(criteria.get("id"), str) else None,
        achievement_type=achievement_type_label(achievement.get("achievementType")),
        image=_image(achievement.get("image")) or _image(credential.get("image")),
        valid_from=_date(credential.get("validFrom") or credential.get("issuanceDate")),
        valid_until=_date(credential.get("validUntil") or credential.get("expirationDate")),
        credits=achievement.get("creditsAvailable"),
        credential_id=credential.get("id") if isinstance(credential.get("id"), str) else None,
        issuer_logo=_image(issuer.get("image")),
    )
    for alignment in _list(achievement.get("alignment")):
        if isinstance(alignment, dict):
            view.skills.append((_text(alignment.get("targetName")) or "skill", str(alignment.get("targetUrl") or "")))
    for key, label in EU_LABELS:
        if achievement.get(key) not in (None, "", []):
            view.eu.append((label, achievement[key]))
    for item in _list(credential.get("evidence")):
        if isinstance(item, dict):
            url = item.get("id") if isinstance(item.get("id"), str) and item["id"].startswith("http") else None
            view.evidence.append((url, _text(item.get("narrative")) or _text(item.get("name"))))
    for result in _list(subject.get("result")):
        if isinstance(result, dict) and isinstance(result.get("value"), str):
            view.results.append(result["value"])
    return view


# OB 3.0 AchievementType values whose words are not simply their CamelCase parts (the rest are split).
ACHIEVEMENT_TYPES = {
    "BachelorDegree": "Bachelor's degree", "MasterDegree": "Master's degree", "CoCurricular": "Co-curricular activity",
    "GeneralEducationDevelopment": "General education development (GED)", "LearningProgram": "Learning programme",
    "License": "Licence", "MicroCredential": "Microcredential",
}  # fmt: skip


def achievement_type_label(value: Any) -> str | None:
    """An achievement type for people: an OB 3.0 name or an extension (`ext:Foo`) split into words."""
    if not isinstance(value, str) or not value:
        return None
    if value in ACHIEVEMENT_TYPES:
        return ACHIEVEMENT_TYPES[value]
    bare = value.removeprefix("ext:")
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", bare).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else None


def verdict_sentence(view: CredentialView | None, report: Report, state: str) -> str:
    """The verdict in one sentence: who issued what to whom and when, and what the status says."""
    if view is None:
        return "This input holds no credential that could be read."
    if state == "failed":
        return "Do not rely on anything this credential claims: it failed the checks below."
    who = f" to {view.learner}" if view.learner else ""
    when = f" on {view.valid_from:%d %b %Y}" if view.valid_from else ""
    issued = f"issued by {view.issuer_name}{who}{when}"
    if state != "verified":
        return f"Genuine, {issued}, but {STATES[state][1][0].lower()}{STATES[state][1][1:]}"
    revocation, suspension = report.status_of("status.revocation"), report.status_of("status.suspension")
    if WARNING in (revocation, suspension):
        ending = "its status could not be checked just now"
    elif revocation == PASSED:
        ending = "not revoked" + (" or suspended" if suspension == PASSED else "")
    elif suspension == PASSED:  # a suspension-only entry: revoking sets it for good, so this covers both
        ending = "not revoked or suspended"
    else:
        ending = "the issuer publishes no revocation status for it"
    expiry = f"; valid until {view.valid_until:%d %b %Y}" if view.valid_until else ""
    return f"Issued by {view.issuer_name}{who}{when}; {ending}{expiry}."


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def state_of(report: Report) -> str:
    """One word for the report: revoked, suspended, expired, not-yet-valid, failed or verified."""
    failed = {c.code for c in report.checks if c.status == FAILED}
    if not failed:
        return "verified"
    for code, state in (
        ("status.revocation", "revoked"), ("status.suspension", "suspended"),
        ("valid_until", "expired"), ("valid_from", "not-yet-valid"),
    ):  # fmt: skip
        if code in failed and failed <= {code, "status.revocation", "status.suspension", "valid_until", "valid_from"}:
            return state
    return "failed"


def checklist(report: Report) -> dict[str, list[Line]]:
    """The report as passed, failed, warnings and skipped, each line with a plain-language explanation."""
    groups: dict[str, list[Line]] = {"failed": [], "warning": [], "passed": [], "skipped": []}
    for check in report.checks:
        line = Line(check.code, check.status, check.message, CHECK_CODES.get(check.code, check.code))
        groups[check.status if check.status in (FAILED, WARNING, PASSED) else "skipped"].append(line)
    return groups
