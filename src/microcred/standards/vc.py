"""What a Verifiable Credential document says: issuer, subjects, contexts, embedded credentials."""

from __future__ import annotations

from typing import Any

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
