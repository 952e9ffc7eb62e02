"""Verification reports in the VC-API's shape: verified, checks, warnings, errors.

Every check always runs (asking for fewer checks never makes a bad credential pass);
`options.checks` names what the caller cares about, and unknown names come back as
warnings. A verified document answers 200, one that fails a check 400, and one that
cannot even be processed (unreadable, not a credential, unknown contexts) 422.
"""

from __future__ import annotations

from typing import Any

from microcred.standards.presentations import PresentationReport
from microcred.standards.vc import summarize
from microcred.standards.verify import CHECK_CODES, FAILED, PASSED, WARNING, Check, Report

UNPROCESSABLE = frozenset({"parse", "format", "model", "contexts", "expansion", "presentation", "internal"})
# VC-API check names (and their common spellings) mapped to our check codes.
KNOWN_CHECKS = {
    "proof": ("proof", "key_binding"),
    "status": ("status.revocation", "status.suspension", "status.message", "status.list"),
    "credentialStatus": ("status.revocation", "status.suspension", "status.message", "status.list"),
    "relatedResource": ("related_resources",),
    "expiration": ("valid_until",),
    "validUntil": ("valid_until",),
    "validFrom": ("valid_from",),
    "issuanceDate": ("valid_from",),
    "schema": ("schema",),
    "credentialSchema": ("schema",),
    "challenge": ("challenge",),
    "domain": ("domain",),
    "holder": ("holder_binding",),
}


def problem(check: Check) -> dict[str, str]:
    return {
        "type": f"https://microcred.dev/problems/checks/{check.code}",
        "code": check.code,
        "title": CHECK_CODES.get(check.code, check.code),
        "detail": check.message,
    }


def report_json(report: Report, requested: list[str] | None) -> dict[str, Any]:
    passed = list(dict.fromkeys(c.code for c in report.checks if c.status == PASSED))
    warnings = [problem(c) for c in report.checks if c.status == WARNING]
    warnings += [
        problem(Check("checks", WARNING, f"check {name!r} is not one microcred knows; every check ran anyway"))
        for name in requested or []
        if name not in KNOWN_CHECKS
    ]
    out: dict[str, Any] = {
        "verified": report.verified,
        "checks": passed,
        "warnings": warnings,
        "errors": [problem(c) for c in report.checks if c.status == FAILED],
        "results": [c.to_json() for c in report.checks],
    }
    if report.credential is not None:
        out["credential"] = summarize(report.credential)
    return out


def http_status(reports: list[Report]) -> int:
    if all(r.verified for r in reports):
        return 200
    failed = {c.code for r in reports for c in r.checks if c.status == FAILED}
    return 422 if failed & UNPROCESSABLE else 400


def credential_result(report: Report, requested: list[str] | None) -> tuple[int, dict[str, Any]]:
    return http_status([report]), report_json(report, requested)


def presentation_result(result: PresentationReport, requested: list[str] | None) -> tuple[int, dict[str, Any]]:
    """The presentation's own checks at the top, each credential's report in credentialResults."""
    own = report_json(result.presentation, requested)
    credentials = [report_json(r, None) for r in result.credentials]
    errors = own["errors"] + [
        {**error, "detail": f"verifiableCredential[{i}]: {error['detail']}"}
        for i, item in enumerate(credentials)
        for error in item["errors"]
    ]
    body = {
        **own,
        "verified": result.verified,
        "errors": errors,
        "presentationResult": {k: own[k] for k in ("verified", "checks", "warnings", "errors")},
        "credentialResults": credentials,
    }
    # A presentation fails as unprocessable only for its own reasons; a bad credential inside is a 400.
    status = http_status([result.presentation])
    if status == 200 and not result.verified:
        status = 400
    return status, body
