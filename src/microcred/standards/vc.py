"""What a Verifiable Credential document says: issuer, subjects, contexts, embedded credentials."""

from __future__ import annotations

from typing import Any

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
