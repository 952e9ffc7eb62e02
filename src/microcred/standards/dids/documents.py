"""Verification methods inside DID and controller documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from microcred.errors import KeyFormatError, ResolutionError
from microcred.standards.keys import check_public_key, decode_public_multibase
from microcred.standards.multibase import b58decode, b64url_decode

_ED_TYPES = ("Multikey", "Ed25519VerificationKey2020")


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    id: str
    type: str
    controller: str
    ed25519: bytes | None = None
    jwk: dict[str, Any] = field(default_factory=dict)


def _absolute(doc_id: str, ref: str) -> str:
    return doc_id + ref if ref.startswith("#") else ref


def find_verification_method(document: Any, vm_id: str) -> dict[str, Any] | None:
    """The verification method `vm_id` as listed (or embedded) in a document."""
    if not isinstance(document, dict):
        return None
    doc_id = document.get("id", "")
    for key in ("verificationMethod", "assertionMethod", "authentication", "publicKey"):
        for entry in _as_list(document.get(key)):
            if isinstance(entry, dict) and _absolute(doc_id, str(entry.get("id", ""))) == vm_id:
                return entry
    return None


def authorizes(document: Any, vm_id: str, purpose: str) -> bool:
    """Whether the controller document lists `vm_id` under the proof purpose."""
    if not isinstance(document, dict):
        return False
    doc_id = document.get("id", "")
    for entry in _as_list(document.get(purpose)):
        ref = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(ref, str) and _absolute(doc_id, ref) == vm_id:
            return True
    return False


def parse_verification_method(entry: dict[str, Any], vm_id: str, doc_id: str) -> VerificationMethod:
    vm_type = entry.get("type")
    controller = entry.get("controller")
    if not isinstance(vm_type, str) or not isinstance(controller, str):
        raise ResolutionError(f"verification method {vm_id!r} lacks a type or controller")
    try:
        if vm_type in _ED_TYPES and isinstance(entry.get("publicKeyMultibase"), str):
            return VerificationMethod(vm_id, vm_type, controller, decode_public_multibase(entry["publicKeyMultibase"]))
        if vm_type == "Ed25519VerificationKey2018" and isinstance(entry.get("publicKeyBase58"), str):
            return VerificationMethod(vm_id, vm_type, controller, check_public_key(b58decode(entry["publicKeyBase58"])))
        if isinstance(entry.get("publicKeyJwk"), dict):
            return _from_jwk(vm_id, vm_type, controller, entry["publicKeyJwk"])
    except (KeyFormatError, ValueError) as exc:
        raise ResolutionError(f"verification method {vm_id!r} has an unusable key: {exc}") from exc
    raise ResolutionError(f"verification method {vm_id!r} has no supported public key ({vm_type})")


def _from_jwk(vm_id: str, vm_type: str, controller: str, jwk: dict[str, Any]) -> VerificationMethod:
    if "d" in jwk:
        raise ResolutionError(f"verification method {vm_id!r} publishes a private key")
    ed = None
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        ed = check_public_key(b64url_decode(str(jwk.get("x", ""))))
    return VerificationMethod(vm_id, vm_type, controller, ed, dict(jwk))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
