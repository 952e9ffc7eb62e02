"""POST /credentials/issue as the W3C VC 2.0, Data Integrity EdDSA and Bitstring Status List suites drive it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from microcred import bootstrap
from microcred.errors import InputError, UsageError
from microcred.standards.multibase import decode_base58btc
from microcred.standards.status import MIN_ENTRIES, Bitstring
from tests.vcapi.conftest import EXAMPLES, V1, V2, Lab, furnish, lab_settings

pytestmark = pytest.mark.enable_socket


@pytest.mark.parametrize("slug", ["lab-key", "lab-web"])
@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_issue_signs_with_the_chosen_cryptosuite_and_keeps_the_document(lab: Lab, slug: str, suite: str) -> None:
    sent = lab.credential(slug, id="urn:uuid:6a1f7f39-0b4e-4d0e-9f1e-2a3b4c5d6e7f", name="Alumni")
    response = lab.client.post(
        "/credentials/issue",
        json={"credential": sent, "options": {"type": "DataIntegrityProof", "cryptosuite": suite}},
        headers=lab.auth(),
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    signed = response.json()["verifiableCredential"]
    assert signed["@context"] == sent["@context"]
    assert signed["credentialSubject"] == sent["credentialSubject"]
    assert {k: v for k, v in signed.items() if k != "proof"} == sent
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == suite
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["proofValue"].startswith("z") and len(decode_base58btc(proof["proofValue"])) == 64
    listed = {i["did"]: i for i in lab.platform.vcapi.issuers()}
    assert proof["verificationMethod"] == listed[lab.dids[slug]]["verificationMethod"]
    assert lab.verify(signed).status_code == 200


def test_the_issuers_default_cryptosuite_applies_without_options(lab: Lab) -> None:
    signed = lab.issue(lab.credential("lab-jcs"))
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert lab.verify(signed).json()["verified"] is True


def test_vc_1_1_input_gets_the_data_integrity_context_and_an_issuance_date(lab: Lab) -> None:
    sent = {"@context": [V1], "type": ["VerifiableCredential"], "issuer": lab.dids["lab-web"],
            "credentialSubject": {"id": "did:example:learner-2"}}  # fmt: skip
    signed = lab.issue(copy.deepcopy(sent))
    assert signed["@context"] == [V1, "https://w3id.org/security/data-integrity/v2"]
    assert signed["credentialSubject"] == sent["credentialSubject"]
    assert signed["issuanceDate"].endswith("Z")
    result = lab.verify(signed)
    assert result.status_code == 200, result.text
    assert "proof" in result.json()["checks"]


def test_status_entries_point_at_an_https_list_of_this_installation(lab: Lab) -> None:
    signed = lab.issue(
        credentialStatus=[
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
        ]
    )
    entries = signed["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    for entry in entries:
        assert entry["type"] == "BitstringStatusListEntry"
        assert isinstance(entry["statusListIndex"], str) and entry["statusListIndex"].isdigit()
        assert entry["statusListCredential"].startswith(lab.url + "/status/")
        listed = lab.client.get(entry["statusListCredential"])
        assert listed.status_code == 200 and "json" in listed.headers["content-type"]
        plain = lab.client.get(entry["statusListCredential"], headers={"Accept": "application/json"})
        assert plain.headers["content-type"].startswith("application/json")
        status_list = listed.json()
        assert "BitstringStatusListCredential" in status_list["type"]
        assert status_list["issuer"] == lab.dids["lab-key"]
        assert status_list["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]
        bits = Bitstring.decode(status_list["credentialSubject"]["encodedList"])
        assert bits.size >= MIN_ENTRIES == 131_072
        assert bits.get(int(entry["statusListIndex"])) == 0
        assert lab.verify(status_list).status_code == 200
    assert lab.verify(signed).json()["checks"].count("status.revocation") == 1


def _without(credential: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in credential.items() if k != key}


BAD_CREDENTIALS = {
    "undefined term": (
        lambda c: {**c, "@context": [V2], "credentialSubject": {"id": "did:ex:1", "nickname": "x"}},
        422,
    ),
    "undefined type": (lambda c: {**c, "@context": [V2], "type": ["VerifiableCredential", "Mystery"]}, 422),
    "no credentialSubject": (lambda c: _without(c, "credentialSubject"), 400),
    "no type": (lambda c: _without(c, "type"), 400),
    "no issuer": (lambda c: _without(c, "issuer"), 400),
    "context not allowlisted": (lambda c: {**c, "@context": [V2, "https://evil.example/ctx.jsonld"]}, 422),
    "inline @base": (
        lambda c: {**c, "@context": [V2, {"@base": "https://evil.example/"}], "credentialSubject": {"id": "did:ex:1"}},
        422,
    ),
    "relative subject id (that an inline @base would resolve)": (
        lambda c: {**c, "@context": [V2, {"@base": "https://evil.example/"}], "credentialSubject": {"id": "me"}},
        400,
    ),
    "relative id": (lambda c: {**c, "id": "credentials/1"}, 400),
    "@vocab trick": (lambda c: {**c, "@context": [V2, {"@vocab": "https://evil.example/#"}]}, 422),
    "VC context not first": (lambda c: {**c, "@context": [EXAMPLES, V2]}, 400),
    "already has a proof": (lambda c: {**c, "proof": {"type": "DataIntegrityProof"}}, 400),
    "bad validFrom": (lambda c: {**c, "validFrom": "2026-13-01"}, 400),
    "validUntil without zone": (lambda c: {**c, "validUntil": "2030-01-01T00:00:00"}, 400),
    "untyped credentialSchema": (lambda c: {**c, "credentialSchema": {"id": "https://ex.example/s.json"}}, 400),
    "malformed status entry": (
        lambda c: {
            **c,
            "credentialStatus": {
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": True,
                "statusListCredential": "https://ex.example/1",
            },
        },
        400,
    ),
    "issuer not ours": (lambda c: {**c, "issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}, 400),
}


@pytest.mark.parametrize("case", sorted(BAD_CREDENTIALS))
def test_invalid_credentials_are_refused_with_a_problem_document(lab: Lab, case: str) -> None:
    change, status = BAD_CREDENTIALS[case]
    response = lab.client.post("/credentials/issue", json={"credential": change(lab.credential())}, headers=lab.auth())
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["detail"]


@pytest.mark.parametrize("slug", ["elsewhere", "dormant"])
def test_issuers_of_another_organisation_or_not_enabled_are_refused(lab: Lab, slug: str) -> None:
    response = lab.client.post("/credentials/issue", json={"credential": lab.credential(slug)}, headers=lab.auth())
    assert response.status_code == 400
    assert "vcapi issuers" in response.json()["detail"]


BAD_OPTIONS = {
    "unknown purpose": {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "refresh"}},
    "no purpose": {"credentialStatus": {"type": "BitstringStatusListEntry"}},
    "caller picks the index": {
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "7"}
    },
    "other status type": {"credentialStatus": {"type": "StatusList2021Entry", "statusPurpose": "revocation"}},
    "status as a string": {"credentialStatus": "revocation"},
    "purpose twice": {
        "credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
        ]
    },
    "unknown cryptosuite": {"cryptosuite": "ecdsa-rdfc-2019"},
    "unknown proof type": {"type": "Ed25519Signature2020"},
    "unknown option": {"proofFormat": "jwt"},
    "selective disclosure": {"mandatoryPointers": ["/issuer"]},
    "empty credentialId": {"credentialId": ""},
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_malformed_options_answer_400(lab: Lab, case: str) -> None:
    body = {"credential": lab.credential(), "options": BAD_OPTIONS[case]}
    response = lab.client.post("/credentials/issue", json=body, headers=lab.auth())
    assert response.status_code == 400, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'"a string"', b'{"credential": "{}"}', b"[]", b'{"credential": {}, "credential": {}}'],
)
def test_malformed_bodies_answer_400(lab: Lab, content: bytes) -> None:
    headers = {**lab.auth(), "Content-Type": "application/json"}
    response = lab.client.post("/credentials/issue", content=content, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_status_options_need_an_https_public_base_url(tmp_path: Any) -> None:
    platform = bootstrap.build_platform(
        lab_settings(tmp_path, f"sqlite:///{tmp_path / 'http.db'}", 8000).model_copy(
            update={"public_base_url": "http://127.0.0.1:8000"}
        ),
        create=True,
    )
    try:
        from fastapi.testclient import TestClient

        from microcred.server import create_app

        dids, tokens = furnish(platform)
        body = {
            "credential": {"@context": [V2], "type": ["VerifiableCredential"], "issuer": dids["lab-key"],
                           "credentialSubject": {"id": "did:example:x"}},
            "options": {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}},
        }  # fmt: skip
        with TestClient(create_app(platform)) as client:
            response = client.post("/credentials/issue", json=body, headers={"Authorization": f"Bearer {tokens['vc']}"})
        assert response.status_code == 400
        assert "MICROCRED_PUBLIC_BASE_URL" in response.json()["detail"]
    finally:
        platform.close()


def test_example_contexts_are_refused_unless_the_lab_switch_is_on(tmp_path: Any) -> None:
    settings = lab_settings(tmp_path, f"sqlite:///{tmp_path / 'strict.db'}", 8443).model_copy(
        update={"allow_example_contexts": False}
    )
    platform = bootstrap.build_platform(settings, create=True)
    try:
        dids, _tokens = furnish(platform)
        credential = {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": dids["lab-key"],
                      "credentialSubject": {"id": "did:example:x", "alumniOf": "x"}}  # fmt: skip
        with pytest.raises(InputError, match="not on the allowlist"):
            platform.vcapi.issue({"credential": credential}, None, "test")
        with pytest.raises(UsageError):
            platform.vcapi.issue({"credential": {**credential, "proof": {}}}, None, "test")
        status, report = platform.vcapi.verify_credential({"verifiableCredential": credential})
        assert status == 422 and report["errors"][0]["code"] == "contexts"
    finally:
        platform.close()


def test_issued_credentials_are_stored_exactly_as_signed(lab: Lab) -> None:
    import json

    signed = lab.issue(lab.credential(id="urn:uuid:0b6c1d7e-7a57-4c1e-9a53-3f0d7e1c2b11"))
    with lab.platform.runtime.db.read() as repo:
        issuer_ids = [i.id for i in repo.issuers()]
        (row,) = repo.vcapi_credentials(issuer_ids, signed["id"])
        assert json.loads(row.credential) == signed
        assert row.revoked_at is None and not row.suspended
