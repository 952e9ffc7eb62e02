"""did:key (Ed25519 Multikey) and did:web document generation."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from microcred.errors import KeyFormatError, ResolutionError
from microcred.standards.keys import decode_public_multibase, public_key_multibase

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation")


def did_key_for(public: bytes) -> str:
    return "did:key:" + public_key_multibase(public)


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 did:key (Multikey form of the current draft)."""
    did = did.split("#", 1)[0]
    if not did.startswith("did:key:z6Mk"):
        raise ResolutionError(f"{did!r} is not an Ed25519 did:key")
    multibase = did.removeprefix("did:key:")
    try:
        decode_public_multibase(multibase)
    except KeyFormatError as exc:
        raise ResolutionError(f"{did!r} does not hold a usable key: {exc.message}") from exc
    vm_id = f"{did}#{multibase}"
    document: dict[str, Any] = {
        "@context": DID_CONTEXTS,
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}],
    }
    for relationship in _RELATIONSHIPS:
        document[relationship] = [vm_id]
    return document


def did_web_url(did: str) -> str:
    """The https URL a did:web document is served at (did:web method, section 3.2)."""
    did = did.split("#", 1)[0]
    if not did.startswith("did:web:"):
        raise ResolutionError(f"{did!r} is not a did:web")
    parts = did.removeprefix("did:web:").split(":")
    host = unquote(parts[0])
    if not host or "/" in host or "@" in host:
        raise ResolutionError(f"{did!r} has an invalid host")
    path = "/".join(unquote(p) for p in parts[1:])
    if any(seg in ("", ".", "..") for seg in parts[1:]):
        raise ResolutionError(f"{did!r} has an invalid path")
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"


def did_web_for(host: str, *path: str) -> str:
    return ":".join(["did:web", quote(host, safe=""), *(quote(p, safe="") for p in path)])


def did_web_document(
    did: str, public_keys: list[tuple[str, bytes]], *, assertion: list[str] | None = None
) -> dict[str, Any]:
    """A did:web document listing every (key id, public key); `assertion` limits which may sign.

    Rotated keys stay listed so credentials they signed still verify.
    """
    methods = [
        {
            "id": f"{did}#{key_id}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": public_key_multibase(pub),
        }
        for key_id, pub in public_keys
    ]
    ids = [m["id"] for m in methods]
    allowed = [f"{did}#{k}" for k in assertion] if assertion is not None else ids
    return {
        "@context": DID_CONTEXTS,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": allowed,
        "authentication": allowed,
    }
