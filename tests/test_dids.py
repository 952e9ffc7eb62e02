"""did:web documents, rotation, and resolution through supplied documents."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.clock import FixedClock
from microcred.errors import ResolutionError
from microcred.standards.di import ProofOptions
from microcred.standards.dids import Resolver, StaticDocuments, did_web_document, did_web_url
from microcred.standards.dids.methods import did_web_for
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.verify import Verifier
from tests.conftest import NOW
from tests.helpers import CREATED, codes


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:issuers:uni", "https://example.com:3000/issuers/uni/did.json"),
    ],
)
def test_did_web_urls_follow_the_method_spec(did: str, url: str) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize("did", ["did:web:", "did:web:a..b:..", "did:web:host:x::y", "did:key:z6Mk"])
def test_malformed_did_web_is_refused(did: str) -> None:
    with pytest.raises(ResolutionError):
        did_web_url(did)


def test_did_web_for_round_trips() -> None:
    did = did_web_for("microcred.example:8443", "issuers", "tu-delft")
    assert did == "did:web:microcred.example%3A8443:issuers:tu-delft"
    assert did_web_url(did) == "https://microcred.example:8443/issuers/tu-delft/did.json"


def _signed_by(
    verifier: Verifier, credential: dict[str, Any], did: str, key_id: str, key: Ed25519KeyPair
) -> dict[str, Any]:
    credential = {**credential, "issuer": {**credential["issuer"], "id": did}}
    return verifier.integrity.sign(credential, key, ProofOptions(f"{did}#{key_id}", created=CREATED))


def test_rotated_keys_stay_listed_and_old_credentials_still_verify(
    loader: Any, unsigned_credential: dict[str, Any]
) -> None:
    did = "did:web:university.example:issuers:data"
    old, new = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    documents = StaticDocuments()
    verifier = Verifier(loader, Resolver([documents]), FixedClock(NOW))
    documents.add(did, did_web_document(did, [("key-1", old.public_bytes)]))
    before = _signed_by(verifier, unsigned_credential, did, "key-1", old)
    assert verifier.verify(before).verified
    documents.add(did, did_web_document(did, [("key-1", old.public_bytes), ("key-2", new.public_bytes)]))
    after = _signed_by(verifier, unsigned_credential, did, "key-2", new)
    assert verifier.verify(before).verified and verifier.verify(after).verified


def test_a_listed_key_that_may_not_assert_fails_key_binding(loader: Any, unsigned_credential: dict[str, Any]) -> None:
    did = "did:web:university.example"
    key = Ed25519KeyPair.generate()
    documents = StaticDocuments({did: did_web_document(did, [("k", key.public_bytes)], assertion=[])})
    verifier = Verifier(loader, Resolver([documents]), FixedClock(NOW))
    report = verifier.verify(_signed_by(verifier, unsigned_credential, did, "k", key))
    assert codes(report) == {"key_binding"}


def test_a_key_of_another_did_fails_key_binding(loader: Any, unsigned_credential: dict[str, Any]) -> None:
    key = Ed25519KeyPair.generate()
    other = "did:web:elsewhere.example"
    documents = StaticDocuments({other: did_web_document(other, [("k", key.public_bytes)])})
    verifier = Verifier(loader, Resolver([documents]), FixedClock(NOW))
    credential = {
        **unsigned_credential,
        "issuer": {**unsigned_credential["issuer"], "id": "did:web:university.example"},
    }
    signed = verifier.integrity.sign(credential, key, ProofOptions(f"{other}#k", created=CREATED))
    assert "key_binding" in codes(verifier.verify(signed))


def test_unresolvable_did_web_fails_the_proof_check_offline(
    verifier: Verifier, unsigned_credential: dict[str, Any]
) -> None:
    key = Ed25519KeyPair.generate()
    report = verifier.verify(_signed_by(verifier, unsigned_credential, "did:web:nowhere.example", "k", key))
    assert "proof" in codes(report)
    assert any("fetching is off" in c.message for c in report.checks)


def test_expired_proof_fails(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    from microcred.standards.dates import parse_datetime
    from tests.helpers import vm_for

    signed = verifier.integrity.sign(
        unsigned_credential,
        issuer_key,
        ProofOptions(vm_for(issuer_key), created=CREATED, expires=parse_datetime("2026-03-01T00:00:00Z")),
    )
    report = verifier.verify(signed)
    assert "proof" in codes(report) and any("expired" in c.message for c in report.checks)
    assert verifier.verify(signed, at=parse_datetime("2026-02-01T00:00:00Z")).verified
