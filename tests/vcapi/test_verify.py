"""POST /credentials/verify: 200 with a report when a credential verifies, 4xx with the same shape when not."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from microcred.standards.dates import format_datetime
from microcred.standards.di import DataIntegrity, ProofOptions
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair
from tests.conftest import W3C, read_json
from tests.vcapi.conftest import V2, Lab

pytestmark = pytest.mark.enable_socket
REPORT_KEYS = {"verified", "checks", "warnings", "errors"}


def _assert_refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    report: dict[str, Any] = response.json()
    assert set(report) >= REPORT_KEYS
    assert report["verified"] is False and report["errors"], report
    assert code in [e["code"] for e in report["errors"]], report["errors"]
    for error in report["errors"]:
        assert error["detail"] and error["type"].startswith("https://")
    return report


def test_a_good_credential_answers_200_with_the_checks_performed(lab: Lab) -> None:
    response = lab.verify(lab.issue(), checks=["proof", "status"])
    assert response.status_code == 200
    report = response.json()
    assert set(report) >= REPORT_KEYS and report["verified"] is True and report["errors"] == []
    assert {"proof", "key_binding", "contexts", "expansion"} <= set(report["checks"])


def test_unknown_check_names_are_reported_as_warnings(lab: Lab) -> None:
    report = lab.verify(lab.issue(), checks=["proof", "telepathy"]).json()
    assert report["verified"] is True
    assert any("telepathy" in w["detail"] for w in report["warnings"])


def _signed(lab: Lab) -> dict[str, Any]:
    return lab.issue(lab.credential(id="urn:uuid:3d4c5b6a-0000-4000-8000-000000000001"))


def _flip(value: str) -> str:
    return value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]


def _proof(credential: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(credential)
    changed["proof"].update(changes)
    for key, value in changes.items():
        if value is None:
            del changed["proof"][key]
    return changed


NEGATIVE = {
    "no proof": (lambda c: {k: v for k, v in c.items() if k != "proof"}, 400, "proof"),
    "proof null": (lambda c: {**c, "proof": None}, 422, "model"),  # a proof is an object: the data model says so
    "broken proofValue": (lambda c: _proof(c, proofValue=_flip(c["proof"]["proofValue"])), 400, "proof"),
    "proofValue not base58btc": (lambda c: _proof(c, proofValue="u" + c["proof"]["proofValue"][1:]), 400, "proof"),
    "no verificationMethod": (lambda c: _proof(c, verificationMethod=None), 400, "proof"),
    "no proofPurpose": (lambda c: _proof(c, proofPurpose=None), 400, "proof"),
    "wrong proofPurpose": (lambda c: _proof(c, proofPurpose="authentication"), 400, "proof"),
    "unknown cryptosuite": (lambda c: _proof(c, cryptosuite="eddsa-2099"), 400, "proof"),
    "no proof type": (lambda c: _proof(c, type=None), 422, "model"),
    "tampered subject": (
        lambda c: {**c, "credentialSubject": {**c["credentialSubject"], "id": "did:ex:2"}},
        400,
        "proof",
    ),
    "added undefined term": (lambda c: {**c, "@context": [V2], "nickname": "x"}, 422, "expansion"),
    "no type": (lambda c: {k: v for k, v in c.items() if k != "type"}, 422, "model"),
    "no credentialSubject": (lambda c: {k: v for k, v in c.items() if k != "credentialSubject"}, 422, "model"),
    "inline @base": (
        lambda c: {**c, "@context": [*c["@context"], {"@base": "https://evil.example/"}]},
        422,
        "contexts",
    ),
    "untyped evidence": (lambda c: {**c, "evidence": [{"id": "https://evidence.example/1"}]}, 422, "model"),
    "validFrom without a zone": (lambda c: {**c, "validFrom": "2026-01-01T00:00:00"}, 422, "model"),
    "id that is not a URL": (lambda c: {**c, "id": "credential 1"}, 422, "model"),
    "unknown context": (lambda c: {**c, "@context": [*c["@context"], "https://evil.example/v1"]}, 422, "contexts"),
}


@pytest.mark.parametrize("case", sorted(NEGATIVE))
def test_negative_cases_answer_4xx_with_a_report(lab: Lab, case: str) -> None:
    change, status, code = NEGATIVE[case]
    _assert_refused(lab.verify(change(_signed(lab))), status, code)


@pytest.mark.parametrize(
    "body", [{"verifiableCredential": "eyJhbGciOiJFZERTQSJ9.e30.sig"}, {"verifiableCredential": 42}, {"vc": {}}, []]
)
def test_malformed_requests_answer_400_in_the_report_shape(lab: Lab, body: Any) -> None:
    response = lab.client.post("/credentials/verify", json=body)
    assert response.status_code == 400
    report = response.json()
    assert report["verified"] is False and report["errors"][0]["detail"] and report["status"] == 400


def test_validity_dates_are_enforced(lab: Lab) -> None:
    now = lab.platform.runtime.clock.now()
    expired = lab.issue(lab.credential(validUntil=format_datetime(now - timedelta(days=1))))
    _assert_refused(lab.verify(expired), 400, "valid_until")
    future = lab.issue(lab.credential(validFrom=format_datetime(now + timedelta(days=30))))
    _assert_refused(lab.verify(future), 400, "valid_from")


def test_a_w3c_vector_with_a_sound_proof_but_an_unbound_issuer_is_refused(lab: Lab) -> None:
    """The vc-di-eddsa vector's issuer is a URL that does not control the did:key that signed it."""
    report = _assert_refused(lab.verify(read_json(W3C / "eddsa-rdfc-2022" / "signedDataInt.json")), 400, "key_binding")
    assert "proof" in report["checks"]


def _own_issuer() -> tuple[Ed25519KeyPair, str, str]:
    key = Ed25519KeyPair.generate()
    did = did_key_for(key.public_bytes)
    return key, did, f"{did}#{key.public_multibase}"


def test_proof_chains_verify_and_a_broken_link_fails(lab: Lab) -> None:
    integrity: DataIntegrity = lab.platform.credentials.verifier.integrity
    key, did, vm = _own_issuer()
    credential = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": did,
                  "credentialSubject": {"id": "did:example:learner-9"}}  # fmt: skip
    now = lab.platform.runtime.clock.now()
    first = integrity.sign(credential, key, ProofOptions(vm, created=now, proof_id="urn:uuid:proof-1"))
    chained = integrity.sign(first, key, ProofOptions(vm, "eddsa-jcs-2022", now, previous_proof="urn:uuid:proof-1"))
    assert len(chained["proof"]) == 2
    response = lab.verify(chained)
    assert response.status_code == 200, response.text
    broken = copy.deepcopy(chained)
    broken["proof"][1]["previousProof"] = "urn:uuid:no-such-proof"
    _assert_refused(lab.verify(broken), 400, "proof")
    tampered = copy.deepcopy(chained)
    tampered["proof"][0]["proofValue"] = _flip(tampered["proof"][0]["proofValue"])
    _assert_refused(lab.verify(tampered), 400, "proof")


def _with_status(lab: Lab, **entry: Any) -> dict[str, Any]:
    integrity: DataIntegrity = lab.platform.credentials.verifier.integrity
    key, did, vm = _own_issuer()
    credential = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": did,
                  "credentialSubject": {"id": "did:example:learner-9"},
                  "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", **entry}}  # fmt: skip
    return integrity.sign(credential, key, ProofOptions(vm, created=lab.platform.runtime.clock.now()))


LIST = "{url}/status/lab-key/revocation/1"
# A malformed entry is a data-model violation (422, with its JSON path); a list that cannot be read is a
# status that cannot be determined (400).
UNDETERMINED = {
    "index as a number": ({"statusListIndex": 7, "statusListCredential": LIST}, 422, "model", "statusListIndex"),
    "negative index": ({"statusListIndex": "-1", "statusListCredential": LIST}, 422, "model", "statusListIndex"),
    "no list": ({"statusListIndex": "7"}, 422, "model", "statusListCredential"),
    "unreachable list": (
        {"statusListIndex": "7", "statusListCredential": "https://unreachable.example/list"},
        400,
        "status.revocation",
        "cannot resolve",
    ),
}


@pytest.mark.parametrize("case", sorted(UNDETERMINED))
def test_status_that_cannot_be_determined_fails(lab: Lab, case: str) -> None:
    entry, status, code, needle = UNDETERMINED[case]
    entry = {k: v.format(url=lab.url) if isinstance(v, str) else v for k, v in entry.items()}
    report = _assert_refused(lab.verify(_with_status(lab, **entry)), status, code)
    assert any(needle in e["detail"] for e in report["errors"]), report["errors"]


def test_a_status_list_index_out_of_range_fails(lab: Lab) -> None:
    url = lab.issue(credentialStatus={"type": "BitstringStatusListEntry", "statusPurpose": "revocation"})[
        "credentialStatus"
    ]["statusListCredential"]
    _assert_refused(lab.verify(_with_status(lab, statusListIndex="131072", statusListCredential=url)), 400,
                    "status.revocation")  # fmt: skip


def test_rate_limit_answers_429_with_retry_after(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from microcred import bootstrap
    from microcred.server import create_app
    from tests.vcapi.conftest import lab_settings

    settings = lab_settings(tmp_path, f"sqlite:///{tmp_path / 'rl.db'}", 8443).model_copy(
        update={"vcapi_verify_per_minute": 3}
    )
    platform = bootstrap.build_platform(settings, create=True)
    try:
        with TestClient(create_app(platform)) as client:
            answers = [client.post("/credentials/verify", json={"verifiableCredential": {}}) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [422, 422, 422]
        assert answers[3].status_code == 429 and int(answers[3].headers["Retry-After"]) >= 1
    finally:
        platform.close()


def test_the_rate_limiter_refills_over_time() -> None:
    from microcred.api.vcapi import RateLimiter
    from microcred.errors import RateLimitedError

    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    for _ in range(60):
        limiter.take("a")
    with pytest.raises(RateLimitedError):
        limiter.take("a")
    limiter.take("b")  # another client has its own bucket
    now[0] += 1.0
    limiter.take("a")


def test_an_enveloped_vc_jwt_is_verified_as_the_jwt_it_carries(lab: Lab) -> None:
    from microcred.services.awarding import AwardRequest
    from microcred.services.issuing import parse_definition
    from tests.platform_fixtures import COMPLETE

    entry = lab.platform.catalog.create("lab-web", parse_definition(COMPLETE), publish=True, exemption="test fixture")
    award = lab.platform.awards.award(AwardRequest(entry.id, "grace@learners.example", "Grace"))
    token = lab.platform.awards.credential_jwt(award.id)
    enveloped = {"@context": [V2], "type": ["EnvelopedVerifiableCredential"], "id": f"data:application/vc+jwt,{token}"}
    response = lab.verify(enveloped)
    assert response.status_code == 200, response.text
    assert response.json()["credential"]["id"] == award.url
    forged = {**enveloped, "id": enveloped["id"][:-3] + ("AAA" if not enveloped["id"].endswith("AAA") else "BBB")}
    _assert_refused(lab.verify(forged), 400, "proof")
