"""Roll-up credentials cite their parts: `relatedResource` entries with a `digestMultibase`.

The digest is SHA-256 over the part exactly as signed, made independent of whitespace
and key order: the RFC 8785 (JCS) form of a JSON-LD credential, proof included, or
the ASCII of a compact JWT. It is multibase base64url without padding (`u...`), as in
the VC 2.0 examples. A verifier holding the roll-up and its parts checks each part's
digest and verifies each part in full.
"""

from __future__ import annotations

import hashlib
from typing import Any

from microcred.errors import MicrocredError
from microcred.standards import jcs
from microcred.standards.multibase import b64url_encode
from microcred.standards.vc import as_list


def credential_digest(credential: dict[str, Any] | str) -> str:
    data = credential.strip().encode("ascii") if isinstance(credential, str) else jcs.canonicalize(credential)
    return "u" + b64url_encode(hashlib.sha256(data).digest())


def cited_parts(credential: Any) -> dict[str, str]:
    """The roll-up's related resources: credential id -> digestMultibase."""
    cited: dict[str, str] = {}
    if not isinstance(credential, dict):
        return cited
    for entry in as_list(credential.get("relatedResource")):
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("id"), str)
            and isinstance(entry.get("digestMultibase"), str)
        ):
            cited[entry["id"]] = entry["digestMultibase"]
    return cited


def part_identity(part: dict[str, Any] | str) -> tuple[str | None, str]:
    """(the part's credential id if it states one, its digest)."""
    digest = credential_digest(part)
    if isinstance(part, dict):
        return (part.get("id") if isinstance(part.get("id"), str) else None), digest
    return None, digest


def match_parts(credential: Any, parts: list[dict[str, Any] | str]) -> tuple[dict[str, Any], list[str], list[str]]:
    """Which supplied parts the roll-up cites (by digest), the cited ids not supplied, and stray parts."""
    cited = cited_parts(credential)
    by_digest = {digest: ref for ref, digest in cited.items()}
    matched: dict[str, Any] = {}
    stray: list[str] = []
    for index, part in enumerate(parts):
        try:
            part_id, digest = part_identity(part)
        except (MicrocredError, UnicodeEncodeError):
            stray.append(f"part {index + 1} cannot be read")
            continue
        ref = by_digest.get(digest)
        if ref is None:
            label = part_id or f"part {index + 1}"
            stray.append(f"{label} is not cited with this digest (changed, or not a part of this roll-up)")
        else:
            matched[ref] = part
    missing = [ref for ref in cited if ref not in matched]
    return matched, missing, stray


def verify_with_parts(verifier: Any, data: Any, parts: list[Any], at: Any = None) -> Any:
    """Verify a roll-up, then each supplied part: cited with the same digest, and verifying in full."""
    from microcred.standards.inputs import read_input
    from microcred.standards.verify import FAILED, PASSED, SKIPPED, WARNING

    report = verifier.verify(data, at=at)
    cited = cited_parts(report.credential)
    if not cited:
        if parts:
            report.add("parts", WARNING, "parts were supplied, but this credential cites none")
        return report
    if not parts:
        report.add("parts", SKIPPED, f"{len(cited)} part(s) cited; supply them to check them too")
        return report
    readable: list[dict[str, Any] | str] = []
    for part in parts:
        try:
            found = read_input(part)
        except MicrocredError as exc:
            report.add("parts", FAILED, f"a supplied part cannot be read: {exc.message}")
            continue
        value = found.jwt or found.credential
        if value is not None:
            readable.append(value)
    matched, missing, stray = match_parts(report.credential, readable)
    failures = list(stray)
    for ref, part in matched.items():
        nested = verifier.verify(part, at=at)
        if not nested.verified:
            reasons = "; ".join(c.message for c in nested.checks if c.status == FAILED)
            failures.append(f"{ref} does not verify: {reasons}")
    if failures:
        report.add("parts", FAILED, " | ".join(failures[:5]))
    else:
        report.add("parts", PASSED, f"{len(matched)} cited part(s) unchanged and verified")
    if missing:
        report.add("parts", WARNING, f"{len(missing)} cited part(s) not supplied: {', '.join(missing[:3])}")
    return report
