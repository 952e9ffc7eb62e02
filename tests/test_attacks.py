"""Each attack from the issue fails with the right check code, and is decided quickly."""

from __future__ import annotations

import copy
import gzip
import json
import struct
import time
import zlib
from typing import Any

import pytest

from microcred.standards import baking, jose
from microcred.standards.images import solid_png
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.multibase import b64url_encode, encode_base58btc
from microcred.standards.verify import Verifier
from tests.helpers import codes, sign, vm_for


@pytest.fixture
def signed(verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair) -> dict[str, Any]:
    return sign(verifier, unsigned_credential, issuer_key)


def _quick(verifier: Verifier, data: Any) -> Any:
    start = time.perf_counter()
    report = verifier.verify(data)
    assert time.perf_counter() - start < 1.0, "a hostile input must be decided in well under a second"
    return report


def test_genuine_credential_verifies(verifier: Verifier, signed: dict[str, Any]) -> None:
    report = verifier.verify(signed)
    assert report.verified, report.to_json()
    assert codes(report, "passed") >= {"parse", "contexts", "expansion", "proof", "key_binding", "valid_from"}


def test_added_undefined_term_fails_expansion(verifier: Verifier, signed: dict[str, Any]) -> None:
    signed["credentialSubject"]["grade"] = "A+"
    report = _quick(verifier, signed)
    assert "expansion" in codes(report)
    assert not report.verified


def test_added_undefined_type_fails_expansion(verifier: Verifier, signed: dict[str, Any]) -> None:
    signed["type"].append("SuperCredential")
    assert "expansion" in codes(_quick(verifier, signed))


def test_swapped_inline_context_fails_contexts(verifier: Verifier, signed: dict[str, Any]) -> None:
    signed["@context"] = [
        signed["@context"][0],
        {"name": "https://evil.example/name", "@vocab": "https://evil.example/"},
    ]
    report = _quick(verifier, signed)
    assert "contexts" in codes(report)
    assert not report.verified


def test_inline_context_inside_an_embedded_credential_fails(verifier: Verifier, signed: dict[str, Any]) -> None:
    signed["credentialSubject"]["achievement"]["endorsement"] = [
        {"@context": {"@vocab": "https://evil.example/"}, "type": ["VerifiableCredential"]}
    ]
    assert "contexts" in codes(_quick(verifier, signed))


def test_unknown_context_url_fails(verifier: Verifier, signed: dict[str, Any]) -> None:
    signed["@context"].append("https://evil.example/context.json")
    report = _quick(verifier, signed)
    assert "contexts" in codes(report)
    assert any("evil.example" in c.message for c in report.checks)


SMALL_ORDER_IDENTITY = bytes([1] + [0] * 31)
UNIVERSAL_SIGNATURE = bytes([1] + [0] * 63)  # R = identity, S = 0


def test_small_order_key_with_universal_signature_fails(
    verifier: Verifier, signed: dict[str, Any], documents: Any
) -> None:
    did = "did:web:attacker.example"
    vm = f"{did}#k"
    documents.add(
        did,
        {
            "id": did,
            "verificationMethod": [
                {
                    "id": vm,
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": encode_base58btc(b"\xed\x01" + SMALL_ORDER_IDENTITY),
                }
            ],
            "assertionMethod": [vm],
        },
    )
    signed["issuer"]["id"] = did
    signed["proof"][0]["verificationMethod"] = vm
    signed["proof"][0]["proofValue"] = encode_base58btc(UNIVERSAL_SIGNATURE)
    report = _quick(verifier, signed)
    assert "proof" in codes(report)
    assert any("small-order" in c.message for c in report.checks)


def test_small_order_did_key_is_refused(verifier: Verifier, signed: dict[str, Any]) -> None:
    multikey = encode_base58btc(b"\xed\x01" + SMALL_ORDER_IDENTITY)
    signed["issuer"]["id"] = f"did:key:{multikey}"
    signed["proof"][0]["verificationMethod"] = f"did:key:{multikey}#{multikey}"
    signed["proof"][0]["proofValue"] = encode_base58btc(UNIVERSAL_SIGNATURE)
    assert "proof" in codes(_quick(verifier, signed))


def _jwt(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [
            b64url_encode(json.dumps(header).encode()),
            b64url_encode(json.dumps(payload).encode()),
            b64url_encode(signature),
        ]
    )


def test_alg_none_is_refused(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    token = _jwt(
        {"alg": "none", "kid": vm_for(issuer_key)},
        {"vc": unsigned_credential, "iss": unsigned_credential["issuer"]["id"]},
    )
    report = _quick(verifier, token)
    assert "proof" in codes(report)
    assert any("'none'" in c.message for c in report.checks)


def test_hs256_keyed_with_the_public_key_is_refused(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    import hashlib
    import hmac

    header = {"alg": "HS256", "kid": vm_for(issuer_key)}
    body = {"vc": unsigned_credential, "iss": unsigned_credential["issuer"]["id"]}
    signing_input = _jwt(header, body).rsplit(".", 1)[0]
    mac = hmac.new(issuer_key.public_bytes, signing_input.encode(), hashlib.sha256).digest()
    report = _quick(verifier, signing_input + "." + b64url_encode(mac))
    assert "proof" in codes(report)
    assert any("HS256" in c.message for c in report.checks)


def test_header_only_jwk_fails_key_binding(verifier: Verifier, unsigned_credential: dict[str, Any]) -> None:
    attacker = Ed25519KeyPair.generate()
    header = {"alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(attacker.public_bytes)}}
    body = {"vc": unsigned_credential}
    signing_input = _jwt(header, body).rsplit(".", 1)[0]
    token = signing_input + "." + b64url_encode(attacker.sign(signing_input.encode()))
    report = _quick(verifier, token)
    assert report.status_of("proof") == "passed"
    assert "key_binding" in codes(report)
    assert any("JOSE header" in c.message for c in report.checks)


def test_algorithm_key_mismatch_is_refused(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    token = jose.sign_vc_jwt(unsigned_credential, issuer_key, vm_for(issuer_key))
    header, payload, signature, _ = jose.decode(token)
    forged = _jwt({**header, "alg": "ES256"}, payload, signature)
    report = _quick(verifier, forged)
    assert "proof" in codes(report)


def test_blank_node_clique_aborts_canonicalization(verifier: Verifier, issuer_key: Ed25519KeyPair) -> None:
    size = 12
    nodes = [{"id": f"_:n{i}", "type": "Profile", "name": "x"} for i in range(size)]
    for node in nodes:
        node["endorsement"] = [{"id": f"_:n{j}"} for j in range(size) if f"_:n{j}" != node["id"]]
    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": {"id": "did:example:i", "type": ["Profile"]},
        "credentialSubject": {"id": "did:example:s", "type": ["AchievementSubject"], "source": nodes},
        "proof": [
            {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
                "verificationMethod": vm_for(issuer_key),
                "proofValue": "z1111",
            }
        ],
    }
    report = _quick(verifier, credential)
    assert "expansion" in codes(report)
    assert any("canonicalization aborted" in c.message for c in report.checks)


def test_oversized_json_fails_parse(verifier: Verifier) -> None:
    data = b'{"a": "' + b"x" * 1_100_000 + b'"}'
    report = _quick(verifier, data)
    assert codes(report) == {"parse"}
    assert "limit" in report.checks[0].message


def test_over_deep_json_fails_parse(verifier: Verifier) -> None:
    report = _quick(verifier, b"[" * 100_000 + b"]" * 100_000)
    assert codes(report) == {"parse"}
    assert "deeper" in report.checks[0].message


@pytest.mark.parametrize(
    "data", [b'{"a": 1, "a": 2}', b"{not json", b"\xff\xfe", b"[1, 2]", b"", b"NaN", b'{"x": Infinity}']
)
def test_malformed_input_gives_a_failed_parse_check(verifier: Verifier, data: bytes) -> None:
    report = _quick(verifier, data)
    assert not report.verified
    assert report.checks and report.checks[0].code == "parse"


def test_png_text_chunk_bomb_is_refused(verifier: Verifier) -> None:
    bomb = zlib.compress(b"{" + b" " * 50_000_000, 9)
    body = b"openbadgecredential\0" + b"\x01\x00" + b"\0\0" + bomb
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    png = solid_png(4, 4, (0, 0, 0))
    png = png[:33] + chunk + png[33:]
    report = _quick(verifier, png)
    assert codes(report) == {"parse"}
    assert "bomb" in report.checks[0].message


def test_svg_entity_bomb_is_refused(verifier: Verifier) -> None:
    svg = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg" '
        b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential>&c;</openbadges:credential></svg>'
    )
    report = _quick(verifier, svg)
    assert codes(report) == {"parse"}
    assert "DTD" in report.checks[0].message


def test_gzip_bomb_status_list_is_refused() -> None:
    from microcred.errors import StatusListError
    from microcred.standards.status import Bitstring

    encoded = "u" + b64url_encode(gzip.compress(b"\0" * 40_000_000))
    with pytest.raises(StatusListError, match="16 MB"):
        Bitstring.decode(encoded)


def test_tampered_proof_value_fails(verifier: Verifier, signed: dict[str, Any]) -> None:
    broken = copy.deepcopy(signed)
    value = broken["proof"][0]["proofValue"]
    broken["proof"][0]["proofValue"] = value[:-2] + ("11" if value[-2:] != "11" else "22")
    assert "proof" in codes(verifier.verify(broken))


def test_baked_images_verify_and_tampered_images_do_not(verifier: Verifier, signed: dict[str, Any]) -> None:
    text = json.dumps(signed)
    png = baking.bake_png(solid_png(8, 8, (10, 20, 30)), text)
    assert verifier.verify(png).verified
    svg = baking.bake_svg(
        '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>', text
    )
    assert verifier.verify(svg.encode()).verified
    assert verifier.verify(png.replace(b"Data Analytics", b"Data Analytixx")).status_of("parse") == "failed"  # CRC
