"""VC-JWT: the OB 3.0 form (a `vc` claim) and VC-JOSE-COSE (the credential is the payload).

Signing uses EdDSA. Verification accepts EdDSA (or `Ed25519`, RFC 9864), ES256
and RS256 from a fixed allowlist; `none`, HMAC and every other algorithm are
refused, as is any algorithm that does not fit the key. A key carried only in
the JOSE header (`jwk`) verifies the signature but is not bound to the issuer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from microcred.errors import InputError, MicrocredError, ResolutionError
from microcred.standards.dates import format_datetime, parse_datetime
from microcred.standards.di.proofs import Signer
from microcred.standards.dids import Resolver, VerificationMethod
from microcred.standards.keys import check_public_key, verify_ed25519
from microcred.standards.multibase import b64url_decode, b64url_encode

ALLOWED_ALGS = ("EdDSA", "Ed25519", "ES256", "RS256")
MAX_JWT = 1_048_576


@dataclass(frozen=True, slots=True)
class JwtOutcome:
    ok: bool
    message: str
    header: dict[str, Any]
    payload: dict[str, Any]
    credential: dict[str, Any] | None
    method: VerificationMethod | None = None
    controller_document: Any = None
    header_key_only: bool = False


def sign_vc_jwt(credential: dict[str, Any], signer: Signer, kid: str, *, vc_claim: bool = True) -> str:
    """A compact JWS over the credential: OB 3.0 form by default, VC-JOSE-COSE otherwise."""
    if vc_claim:
        header = {"alg": "EdDSA", "kid": kid, "typ": "JWT"}
        payload = _jwt_claims(credential)
    else:
        header = {"alg": "EdDSA", "kid": kid, "typ": "vc+jwt", "cty": "vc"}
        payload = credential
    signing_input = _segment(header) + "." + _segment(payload)
    signature = signer.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def _segment(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    issuer = credential.get("issuer")
    claims: dict[str, Any] = {"iss": issuer.get("id") if isinstance(issuer, dict) else issuer}
    if "id" in credential:
        claims["jti"] = credential["id"]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and "id" in subject:
        claims["sub"] = subject["id"]
    for field, claim in (
        ("validFrom", "nbf"),
        ("issuanceDate", "nbf"),
        ("validUntil", "exp"),
        ("expirationDate", "exp"),
    ):
        if field in credential and claim not in claims:
            claims[claim] = int(parse_datetime(credential[field]).timestamp())
    claims["vc"] = credential
    return claims


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, payload, signature and signing input of a compact JWS (no checks)."""
    if len(token) > MAX_JWT:
        raise InputError("the JWT is larger than 1 MB")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InputError("a compact JWT has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"the JWT header or payload is not JSON: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InputError("the JWT header and payload must be JSON objects")
    return header, payload, b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii")


def credential_of(payload: dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(payload.get("vc"), dict):
        return dict(payload["vc"])
    if "@context" in payload:
        return payload
    return None


def verify_vc_jwt(token: str, resolver: Resolver) -> JwtOutcome:
    try:
        header, payload, signature, signing_input = decode(token)
    except InputError as exc:
        return JwtOutcome(False, exc.message, {}, {}, None)
    credential = credential_of(payload)
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        return JwtOutcome(
            False, f"JWS algorithm {alg!r} is not allowed (EdDSA, ES256, RS256 only)", header, payload, credential
        )
    if "crit" in header:
        return JwtOutcome(False, "critical JOSE header parameters are not supported", header, payload, credential)
    try:
        method, controller, header_only = _key_for(header, payload, credential, resolver)
    except (ResolutionError, InputError) as exc:
        return JwtOutcome(False, exc.message, header, payload, credential)
    problem = _check_signature(str(alg), method, signature, signing_input)
    ok = not problem
    message = problem or f"{alg} signature verified"
    return JwtOutcome(ok, message, header, payload, credential, method, controller, header_only)


def _key_for(
    header: dict[str, Any], payload: dict[str, Any], credential: dict[str, Any] | None, resolver: Resolver
) -> tuple[VerificationMethod, Any, bool]:
    kid = header.get("kid")
    issuer = _issuer_id(credential, payload)
    if isinstance(kid, str) and kid:
        vm_id = (issuer or "") + kid if kid.startswith("#") else kid
        if ":" not in vm_id and issuer and issuer.startswith("did:"):
            vm_id = f"{issuer}#{kid}"
        method, controller = resolver.verification_method(vm_id)
        return method, controller, False
    if isinstance(header.get("jwk"), dict):
        jwk = header["jwk"]
        if "d" in jwk:
            raise InputError("the JOSE header carries a private key")
        return _method_from_jwk(jwk), None, True
    if issuer and issuer.startswith("did:key:"):
        fragment = issuer.removeprefix("did:key:")
        method, controller = resolver.verification_method(f"{issuer}#{fragment}")
        return method, controller, False
    raise ResolutionError("the JWT names no key: no kid, no jwk, and the issuer is not a did:key")


def _method_from_jwk(jwk: dict[str, Any]) -> VerificationMethod:
    ed = None
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        try:
            ed = check_public_key(b64url_decode(str(jwk.get("x", ""))))
        except MicrocredError as exc:
            raise InputError(exc.message) from exc
    return VerificationMethod("(JOSE header jwk)", "JsonWebKey", "", ed, dict(jwk))


def _issuer_id(credential: dict[str, Any] | None, payload: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer") if credential else None
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if isinstance(issuer, str):
        return issuer
    iss = payload.get("iss")
    return iss if isinstance(iss, str) else None


def _check_signature(alg: str, method: VerificationMethod, signature: bytes, signing_input: bytes) -> str:
    jwk = method.jwk
    if alg in ("EdDSA", "Ed25519"):
        if method.ed25519 is None:
            return f"algorithm {alg} does not match the key type"
        ok = verify_ed25519(method.ed25519, signature, signing_input)
        return "" if ok else "the JWT signature does not match"
    if method.ed25519 is not None or not jwk:
        return f"algorithm {alg} does not match the key type"
    try:
        if alg == "ES256":
            _verify_es256(jwk, signature, signing_input)
        else:
            _verify_rs256(jwk, signature, signing_input)
    except InvalidSignature:
        return "the JWT signature does not match"
    except (ValueError, InputError, TypeError) as exc:
        return f"algorithm {alg} does not match the key: {exc}"
    return ""


def _verify_es256(jwk: dict[str, Any], signature: bytes, signing_input: bytes) -> None:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("ES256 needs an EC P-256 key")
    x = int.from_bytes(b64url_decode(str(jwk["x"])), "big")
    y = int.from_bytes(b64url_decode(str(jwk["y"])), "big")
    verify_with_key("ES256", ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key(), signature,
                    signing_input)  # fmt: skip


def _verify_rs256(jwk: dict[str, Any], signature: bytes, signing_input: bytes) -> None:
    if jwk.get("kty") != "RSA":
        raise ValueError("RS256 needs an RSA key")
    n = int.from_bytes(b64url_decode(str(jwk["n"])), "big")
    e = int.from_bytes(b64url_decode(str(jwk["e"])), "big")
    verify_with_key("RS256", rsa.RSAPublicNumbers(e, n).public_key(), signature, signing_input)


def verify_with_key(alg: str, key: Any, signature: bytes, signing_input: bytes) -> None:
    """An ES256 (P-256) or RS256 (2048 bits or more) JWS signature by a public key object; raises
    InvalidSignature when it does not verify, ValueError when the algorithm does not fit the key."""
    if alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        if len(signature) != 64:
            raise InvalidSignature
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    elif alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError("RSA keys shorter than 2048 bits are refused")
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise ValueError(f"the algorithm {str(alg)[:20]!r} does not fit the key")


def jwt_dates(payload: dict[str, Any]) -> dict[str, str]:
    """nbf and exp claims as xsd:dateTime strings, for the validity checks."""
    from datetime import UTC, datetime

    out = {}
    for claim in ("nbf", "exp"):
        value = payload.get(claim)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e11:
            out[claim] = format_datetime(datetime.fromtimestamp(value, UTC))
    return out
