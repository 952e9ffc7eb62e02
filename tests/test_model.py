"""The one data-model checker, related-resource digests, proof dates and proof sets."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest

from microcred.standards.di import ProofOptions
from microcred.standards.dids import StaticDocuments, did_key_for
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.loader import DocumentLoader
from microcred.standards.model import credential_violations, errors
from microcred.standards.verify import Verifier
from tests.conftest import NOW
from tests.helpers import codes, sign, vm_for

V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture
def credential(issuer_key: Ed25519KeyPair) -> dict[str, Any]:
    return {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": did_key_for(issuer_key.public_bytes),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ada", "name": "Ada"},
    }


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": ["urn:a", "urn:b"]}, "$.id"),
        ({"credentialSubject": {}}, "$.credentialSubject"),
        ({"credentialSubject": [{"id": "did:example:a"}, {}]}, "$.credentialSubject[1]"),
        ({"validFrom": "2026-02-01T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}, "$.validUntil"),
        ({"validFrom": "2026-01-01"}, "$.validFrom"),
        ({"evidence": {"id": "https://x.example/e"}}, "$.evidence.type"),
        ({"credentialSchema": {"type": "JsonSchema"}}, "$.credentialSchema.id"),
        (
            {
                "credentialStatus": {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListIndex": True,
                    "statusListCredential": "https://x.example/1",
                }
            },
            "$.credentialStatus.statusListIndex",
        ),
        ({"relatedResource": ["https://www.w3.org/ns/credentials/v2"]}, "$.relatedResource[0]"),
        ({"relatedResource": [{"digestMultibase": "uAAAA"}]}, "$.relatedResource[0].id"),
        ({"issuer": {"id": "fake-issuer"}}, "$.issuer.id"),
        ({"name": {"@value": "x", "@extra": 1}}, "$.name"),
    ],
)
def test_each_violation_names_its_rule_and_path(credential: dict[str, Any], change: dict[str, Any], path: str) -> None:
    found = errors(credential_violations({**credential, **change}))
    assert [v.path for v in found] == [path], found
    assert found[0].rule and found[0].message


def test_a_conforming_credential_has_no_violation(credential: dict[str, Any]) -> None:
    assert credential_violations(credential) == []


def _digests(data: bytes) -> tuple[str, str]:
    sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    multibase = "u" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    return sri, multibase


def test_related_resource_digests_are_checked_against_the_pinned_copy(
    verifier: Verifier, loader: DocumentLoader, credential: dict[str, Any]
) -> None:
    sri, multibase = _digests(loader.raw(V2))
    good = {**credential, "relatedResource": [{"id": V2, "digestSRI": sri, "digestMultibase": multibase}]}
    report = verifier.validate(good)
    assert report.verified and "related_resources" in codes(report, "passed")
    assert verifier.issuance_violations(good) == []
    wrong = _digests(b"something else")
    for field, value in (("digestSRI", wrong[0]), ("digestMultibase", wrong[1])):
        bad = {**credential, "relatedResource": [{"id": V2, field: value}]}
        assert "related_resources" in codes(verifier.validate(bad))
        assert verifier.issuance_violations(bad)


def test_a_related_resource_that_is_not_pinned_is_left_to_other_checks(
    verifier: Verifier, credential: dict[str, Any]
) -> None:
    _, multibase = _digests(b"a part")
    report = verifier.validate({**credential, "relatedResource": [{"id": "urn:uuid:1", "digestMultibase": multibase}]})
    assert report.verified and "related_resources" in codes(report, "skipped")


def _signed_at(verifier: Verifier, credential: dict[str, Any], key: Ed25519KeyPair, created: Any, **extra: Any) -> Any:
    signed = verifier.integrity.sign(credential, key, ProofOptions(vm_for(key), "eddsa-rdfc-2022", created, **extra))
    return signed


def test_a_proof_created_in_the_future_fails_beyond_the_clock_skew(
    verifier: Verifier, credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    soon = _signed_at(verifier, credential, issuer_key, NOW + timedelta(minutes=2))
    assert verifier.verify(soon).verified
    later = _signed_at(verifier, credential, issuer_key, NOW + timedelta(days=3 * 365))
    report = verifier.verify(later)
    assert "proof" in codes(report)
    assert "in the future" in next(c.message for c in report.checks if c.code == "proof")


def test_an_expired_proof_fails(verifier: Verifier, credential: dict[str, Any], issuer_key: Ed25519KeyPair) -> None:
    expired = _signed_at(verifier, credential, issuer_key, NOW - timedelta(days=2), expires=NOW - timedelta(days=1))
    assert "proof" in codes(verifier.verify(expired))


def test_a_proof_set_needs_one_proof_by_the_issuer(
    verifier: Verifier, documents: StaticDocuments, credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    witness = Ed25519KeyPair.from_seed(bytes(range(1, 33)))
    both = sign(verifier, credential, issuer_key)
    witnessed = sign(verifier, {k: v for k, v in credential.items()}, witness)
    both["proof"] = [both["proof"], witnessed["proof"]]
    report = verifier.verify(both)
    assert report.verified, report.to_json()
    assert did_key_for(witness.public_bytes) in next(c.message for c in report.checks if c.code == "key_binding")
    only_witness = {**witnessed}
    assert "key_binding" in codes(verifier.verify(only_witness))
