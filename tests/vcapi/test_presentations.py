"""POST /presentations/verify: the holder's proof (authentication, challenge, domain) and every credential."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from microcred.standards.di import ProofOptions
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair
from tests.vcapi.conftest import V2, Lab

pytestmark = pytest.mark.enable_socket
CHALLENGE, DOMAIN = "a1b2c3-challenge", "verifier.example"


def _present(
    lab: Lab, credentials: list[Any], *, holder: str | None = "self", purpose: str = "authentication", **binding: Any
) -> dict[str, Any]:
    key = Ed25519KeyPair.generate()
    did = did_key_for(key.public_bytes)
    vp: dict[str, Any] = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": credentials}
    if holder is not None:
        vp["holder"] = did if holder == "self" else holder
    options = ProofOptions(
        f"{did}#{key.public_multibase}", created=lab.platform.runtime.clock.now(), purpose=purpose, **binding
    )
    return lab.platform.credentials.verifier.integrity.sign(vp, key, options)


def _post(lab: Lab, vp: Any, **options: Any) -> Any:
    return lab.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": options})


def test_a_bound_presentation_of_good_credentials_verifies(lab: Lab) -> None:
    vp = _present(lab, [lab.issue(), lab.issue(lab.credential("lab-web"))], challenge=CHALLENGE, domain=DOMAIN)
    response = _post(lab, vp, challenge=CHALLENGE, domain=DOMAIN)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["verified"] is True and report["errors"] == []
    assert {"proof", "challenge", "domain", "holder_binding", "credentials"} <= set(report["checks"])
    assert [r["verified"] for r in report["credentialResults"]] == [True, True]
    assert report["presentationResult"]["verified"] is True


NEGATIVE = {
    "wrong challenge": ({"challenge": CHALLENGE}, {"challenge": "replayed"}, "challenge"),
    "missing challenge": ({}, {"challenge": CHALLENGE}, "challenge"),
    "wrong domain": (
        {"challenge": CHALLENGE, "domain": DOMAIN},
        {"challenge": CHALLENGE, "domain": "evil.example"},
        "domain",
    ),
    "assertion purpose": ({"purpose": "assertionMethod"}, {}, "proof"),
}


@pytest.mark.parametrize("case", sorted(NEGATIVE))
def test_binding_and_purpose_are_enforced(lab: Lab, case: str) -> None:
    signed_with, asked, code = NEGATIVE[case]
    response = _post(lab, _present(lab, [lab.issue()], **signed_with), **asked)
    assert response.status_code == 400, response.text
    assert code in [e["code"] for e in response.json()["errors"]]


def test_a_presentation_signed_by_someone_else_than_its_holder_fails(lab: Lab) -> None:
    vp = _present(lab, [lab.issue()], holder="did:example:someone-else")
    errors = _post(lab, vp).json()["errors"]
    assert "holder_binding" in [e["code"] for e in errors]


def test_a_presentation_without_holder_verifies_with_a_warning(lab: Lab) -> None:
    report = _post(lab, _present(lab, [lab.issue()], holder=None)).json()
    assert report["verified"] is True
    assert "holder_binding" in [w["code"] for w in report["warnings"]]


def test_a_tampered_credential_inside_fails_the_presentation(lab: Lab) -> None:
    credential = lab.issue()
    credential["credentialSubject"]["alumniOf"] = "Forged University"
    response = _post(lab, _present(lab, [credential]))
    assert response.status_code == 400
    report = response.json()
    assert report["credentialResults"][0]["verified"] is False
    assert any(e["detail"].startswith("verifiableCredential[0]:") for e in report["errors"])


def test_a_tampered_presentation_fails(lab: Lab) -> None:
    vp = _present(lab, [lab.issue()])
    changed = copy.deepcopy(vp)
    # A second, different credential (two identical copies in one second make a graph RDFC's work cap refuses).
    other = lab.credential(credentialSubject={"id": "did:example:learner-2", "alumniOf": "Another School"})
    changed["verifiableCredential"].append(lab.issue(other))
    assert "proof" in [e["code"] for e in _post(lab, changed).json()["errors"]]


def test_unsigned_presentations_fail_unless_sent_as_a_proofless_presentation(lab: Lab) -> None:
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [lab.issue()]}
    refused = _post(lab, vp)
    assert refused.status_code == 400 and "proof" in [e["code"] for e in refused.json()["errors"]]
    accepted = lab.client.post("/presentations/verify", json={"presentation": vp})
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    "body",
    [
        {"verifiablePresentation": "a string"},
        {"verifiablePresentation": {}, "options": {"challenge": 7}},
        {"verifiablePresentation": {}, "options": "none"},
        {},
    ],
)
def test_malformed_presentation_requests_answer_400(lab: Lab, body: dict[str, Any]) -> None:
    response = lab.client.post("/presentations/verify", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["verified"] is False


def test_a_presentation_that_is_not_one_is_unprocessable(lab: Lab) -> None:
    vp = _present(lab, [lab.issue()])
    response = _post(lab, {**vp, "type": ["VerifiableCredential"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "presentation"
