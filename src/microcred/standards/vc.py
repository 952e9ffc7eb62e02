"""What a Verifiable Credential document says: issuer, subjects, contexts, embedded credentials."""

from __future__ import annotations

import re
from typing import Any

from microcred.errors import InputError
from microcred.standards.dates import parse_datetime
from microcred.standards.loader import DocumentLoader

VC_CONTEXTS = ("https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1")


def summarize(credential: dict[str, Any]) -> dict[str, Any]:
    issuer = credential.get("issuer")
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    return {
        "id": credential.get("id"),
        "type": credential.get("type"),
        "issuer": issuer.get("id") if isinstance(issuer, dict) else issuer,
        "issuerName": issuer.get("name") if isinstance(issuer, dict) else None,
        "name": credential.get("name"),
        "achievement": achievement.get("name") if isinstance(achievement, dict) else None,
        "validFrom": credential.get("validFrom") or credential.get("issuanceDate"),
        "validUntil": credential.get("validUntil") or credential.get("expirationDate"),
    }


def model_problem(credential: dict[str, Any]) -> str:
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    if first not in VC_CONTEXTS:
        return "the first @context is not the VC 2.0 or VC 1.1 context"
    types = credential.get("type")
    if "VerifiableCredential" not in (types if isinstance(types, list) else [types]):
        return "type does not include VerifiableCredential"
    if issuer_id(credential) is None:
        return "the credential has no issuer id"
    subjects = credential.get("credentialSubject")
    if not subjects or not all(isinstance(s, dict) for s in as_list(subjects)):
        return "the credential has no credentialSubject object"
    return ""


def context_problems(value: Any, loader: DocumentLoader, path: str = "") -> Any:
    """Every @context anywhere in the document must be a known, pinned URL."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from context_problems(item, loader, f"{path}[{i}]")
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key == "@context":
            for ctx in as_list(item):
                if isinstance(ctx, dict):
                    yield f"inline context objects are refused (at {path or '/'}@context)"
                elif not isinstance(ctx, str):
                    yield f"invalid @context value at {path or '/'}"
                elif not loader.knows(ctx):
                    yield f"context {ctx!r} is not on the allowlist"
        else:
            yield from context_problems(item, loader, f"{path}/{key}")


def embedded_credentials(credential: dict[str, Any]) -> Any:
    subjects = as_list(credential.get("credentialSubject"))
    for s_index, subject in enumerate(subjects):
        if not isinstance(subject, dict):
            continue
        for i, item in enumerate(as_list(subject.get("verifiableCredential"))):
            if isinstance(item, dict):
                yield f"credentialSubject[{s_index}].verifiableCredential[{i}]", item
        achievement = subject.get("achievement")
        if isinstance(achievement, dict):
            yield from endorsements(achievement, "credentialSubject.achievement")
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        yield from endorsements(issuer, "issuer")
    yield from endorsements(credential, "")


def endorsements(holder: dict[str, Any], path: str) -> Any:
    for i, item in enumerate(as_list(holder.get("endorsement"))):
        if isinstance(item, dict):
            yield f"{path}.endorsement[{i}]".lstrip("."), item
    for i, item in enumerate(as_list(holder.get("endorsementJwt"))):
        if isinstance(item, str):
            yield f"{path}.endorsementJwt[{i}]".lstrip("."), item


def issuer_id(credential: Any) -> str | None:
    if not isinstance(credential, dict):
        return None
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


ENVELOPED_JWT_PREFIXES = ("data:application/vc+jwt,", "data:application/vc+ld+json+jwt,")


def unwrap_enveloped(item: Any) -> Any:
    """The compact JWT inside an EnvelopedVerifiableCredential (a data: URL), else the item itself."""
    if isinstance(item, dict) and "EnvelopedVerifiableCredential" in as_list(item.get("type")):
        url = item.get("id")
        for prefix in ENVELOPED_JWT_PREFIXES:
            if isinstance(url, str) and url.startswith(prefix):
                return url[len(prefix) :]
    return item


_ZONED = re.compile(r"(Z|[+-][0-9]{2}:[0-9]{2})$")
DATE_FIELDS = ("validFrom", "validUntil", "issuanceDate", "expirationDate")
TYPED_FIELDS = ("credentialStatus", "credentialSchema", "evidence", "termsOfUse", "refreshService")


def issuance_problem(credential: dict[str, Any]) -> str:
    """What an issuer must refuse, and a strict verifier too, beyond the essentials: unparseable
    dates, untyped objects, an id that is not a URL (VCDM 2.0 section 4)."""
    for name in DATE_FIELDS:
        if name in credential:
            try:
                parse_datetime(credential[name])
                # VC 2.0 dates are dateTimeStamps (zone required); VC 1.1 ones are xsd:dateTime.
                zoned = name in DATE_FIELDS[2:] or _ZONED.search(credential[name]) is not None
            except InputError:
                zoned = False
            if not zoned:
                return f"{name} {credential[name]!r} is not an XML Schema dateTimeStamp (e.g. 2026-01-01T00:00:00Z)"
    for name in TYPED_FIELDS:
        for item in as_list(credential.get(name)):
            if not isinstance(item, dict) or not item.get("type"):
                return f"every {name} object must have a type"
    for item in as_list(credential.get("credentialSchema")):
        if not isinstance(item.get("id"), str):
            return "every credentialSchema must have an id"
    if "id" in credential and (not isinstance(credential["id"], str) or ":" not in credential["id"]):
        return "the credential id must be a URL"
    return ""
