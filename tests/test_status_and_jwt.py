"""Status lists inside verification, and VC-JWT across algorithms."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from microcred.standards import jose
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.multibase import b64url_encode
from microcred.standards.status import Bitstring, status_list_credential
from microcred.standards.verify import Verifier
from tests.helpers import codes, sign, vm_for

LIST_URL = "https://status.example/lists/1"


def _with_status(
    verifier: Verifier,
    credential: dict[str, Any],
    key: Ed25519KeyPair,
    documents: Any,
    *,
    purpose: str = "revocation",
    set_bit: bool = False,
    size: int = 131_072,
    list_key: Ed25519KeyPair | None = None,
) -> dict[str, Any]:
    list_key = list_key or key
    bits = Bitstring(size)
    if set_bit:
        bits.set(42, True)
    issuer = did_key_for(list_key.public_bytes)
    documents.add(
        LIST_URL,
        sign(verifier, status_list_credential(LIST_URL, issuer, purpose, bits, "2026-01-01T00:00:00Z"), list_key),
    )
    credential["credentialStatus"] = {
        "id": f"{LIST_URL}#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": "42",
        "statusListCredential": LIST_URL,
    }
    return sign(verifier, credential, key)


def test_unrevoked_credential_passes_its_status_check(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair, documents: Any
) -> None:
    report = verifier.verify(_with_status(verifier, unsigned_credential, issuer_key, documents))
    assert report.verified, report.to_json()
    assert report.status_of("status.revocation") == "passed"


def test_revoked_credential_fails(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair, documents: Any
) -> None:
    report = verifier.verify(_with_status(verifier, unsigned_credential, issuer_key, documents, set_bit=True))
    assert "status.revocation" in codes(report)
    assert not report.verified


def test_suspended_credential_fails(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair, documents: Any
) -> None:
    report = verifier.verify(
        _with_status(verifier, unsigned_credential, issuer_key, documents, purpose="suspension", set_bit=True)
    )
    assert "status.suspension" in codes(report)


def test_short_or_foreign_status_list_is_a_warning(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair, documents: Any
) -> None:
    other = Ed25519KeyPair.generate()
    report = verifier.verify(
        _with_status(verifier, unsigned_credential, issuer_key, documents, size=100_000, list_key=other)
    )
    assert report.verified, report.to_json()
    warnings_ = [c.message for c in report.checks if c.code == "status.list" and c.status == "warning"]
    assert any("fewer than" in w for w in warnings_) and any("not the credential's issuer" in w for w in warnings_)


def test_forged_status_list_fails(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair, documents: Any
) -> None:
    signed = _with_status(verifier, unsigned_credential, issuer_key, documents, set_bit=True)
    forged = documents.find(LIST_URL)
    forged["credentialSubject"]["encodedList"] = Bitstring().encode()  # the attacker clears the bit
    report = verifier.verify(signed)
    assert "status.revocation" in codes(report)


def test_unreachable_status_list_is_a_warning_offline(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    unsigned_credential["credentialStatus"] = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://nowhere.example/l",
    }
    report = verifier.verify(sign(verifier, unsigned_credential, issuer_key))
    assert report.verified
    assert report.status_of("status.revocation") == "warning"


def test_jwt_signed_here_verifies_and_tampering_fails(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    token = jose.sign_vc_jwt(unsigned_credential, issuer_key, vm_for(issuer_key))
    assert verifier.verify(token).verified
    _header, payload, _sig, _ = jose.decode(token)
    payload["vc"]["name"] = "Forged"
    forged = (
        token.split(".")[0]
        + "."
        + b64url_encode(__import__("json").dumps(payload).encode())
        + "."
        + token.split(".")[2]
    )
    assert "proof" in codes(verifier.verify(forged))


def test_vc_jose_cose_form_verifies(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    token = jose.sign_vc_jwt(unsigned_credential, issuer_key, vm_for(issuer_key), vc_claim=False)
    assert jose.decode(token)[0]["typ"] == "vc+jwt"
    assert verifier.verify(token).verified


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_es256_and_rs256_tokens_from_joserfc_verify(
    verifier: Verifier, unsigned_credential: dict[str, Any], documents: Any, alg: str
) -> None:
    from joserfc import jws
    from joserfc.jwk import ECKey, RSAKey

    key = ECKey.generate_key("P-256") if alg == "ES256" else RSAKey.generate_key(2048)
    did = "did:web:issuer.example"
    vm = f"{did}#key-1"
    documents.add(
        did,
        {
            "id": did,
            "verificationMethod": [
                {"id": vm, "type": "JsonWebKey", "controller": did, "publicKeyJwk": key.as_dict(private=False)}
            ],
            "assertionMethod": [vm],
        },
    )
    unsigned_credential["issuer"]["id"] = did
    payload = __import__("json").dumps(jose._jwt_claims(unsigned_credential)).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jws.serialize_compact({"alg": alg, "kid": vm}, payload, key, algorithms=[alg])
    report = verifier.verify(token)
    assert report.verified, report.to_json()
    assert "proof" in codes(verifier.verify(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")))


def test_ed25519_jwt_from_joserfc_verifies(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    from joserfc import jws
    from joserfc.jwk import OKPKey

    key = OKPKey.import_key(
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url_encode(issuer_key.public_bytes),
            "d": b64url_encode(issuer_key.seed),
        }
    )
    payload = __import__("json").dumps(jose._jwt_claims(unsigned_credential)).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jws.serialize_compact({"alg": "EdDSA", "kid": vm_for(issuer_key)}, payload, key, algorithms=["EdDSA"])
    assert verifier.verify(token).verified


def test_expired_and_not_yet_valid_credentials_fail(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    from microcred.standards.dates import parse_datetime

    unsigned_credential["validUntil"] = "2026-03-01T00:00:00Z"
    signed = sign(verifier, unsigned_credential, issuer_key)
    assert "valid_until" in codes(verifier.verify(signed))
    assert verifier.verify(signed, at=parse_datetime("2026-02-01T00:00:00Z")).verified
    assert "valid_from" in codes(verifier.verify(signed, at=parse_datetime("2025-02-01T00:00:00Z")))


def test_strict_mode_fails_a_list_shorter_than_the_minimum(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair, documents: Any
) -> None:
    """The VC-API's strict mode: a list shorter than the Bitstring minimum fails (STATUS_LIST_LENGTH_ERROR)."""
    short = _with_status(verifier, dict(unsigned_credential), issuer_key, documents, size=100_000)
    assert verifier.verify(short).verified  # people-facing: a warning
    strict = verifier.verify(short, strict=True)
    assert not strict.verified
    assert any(c.code == "status.list" and c.status == "failed" and "fewer than" in c.message for c in strict.checks)
    full = _with_status(verifier, dict(unsigned_credential), issuer_key, documents)
    assert verifier.verify(full, strict=True).verified
