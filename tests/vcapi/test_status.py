"""POST /credentials/status: revoke, suspend and reinstate credentials issued here."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.services.awarding import AwardRequest
from microcred.services.issuing import parse_definition
from tests.platform_fixtures import COMPLETE
from tests.vcapi.conftest import Lab

pytestmark = pytest.mark.enable_socket
BOTH = [
    {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
    {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
]


def _status(lab: Lab, ref: str, purpose: str, value: bool, token: str = "vc", **entry: Any) -> Any:
    body = {
        "credentialId": ref,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose, **entry},
        "status": value,
    }
    return lab.client.post("/credentials/status", json=body, headers=lab.auth(token))


def _failed(lab: Lab, credential: dict[str, Any]) -> list[str]:
    return [e["code"] for e in lab.verify(credential).json()["errors"]]


def test_revocation_is_published_and_final(lab: Lab) -> None:
    signed = lab.issue(lab.credential(id="urn:uuid:9e0b0a55-1111-4a4a-8b8b-000000000001"), credentialStatus=BOTH)
    assert lab.verify(signed).status_code == 200
    revoked = _status(lab, signed["id"], "revocation", True)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["credentialStatus"][0]["outcome"] == "updated"
    assert lab.verify(signed).status_code == 400 and "status.revocation" in _failed(lab, signed)
    assert _status(lab, signed["id"], "revocation", True).json()["credentialStatus"][0]["outcome"] == "unchanged"
    assert _status(lab, signed["id"], "revocation", False).status_code == 409
    assert _status(lab, signed["id"], "suspension", True).status_code == 409


def test_suspension_can_be_lifted(lab: Lab) -> None:
    signed = lab.issue(lab.credential(id="urn:uuid:9e0b0a55-1111-4a4a-8b8b-000000000002"), credentialStatus=BOTH)
    assert _status(lab, signed["id"], "suspension", True).status_code == 200
    assert "status.suspension" in _failed(lab, signed)
    assert _status(lab, signed["id"], "suspension", False).status_code == 200
    assert lab.verify(signed).status_code == 200


def test_the_entry_can_be_named_by_list_and_index(lab: Lab) -> None:
    signed = lab.issue(lab.credential(id="urn:uuid:9e0b0a55-1111-4a4a-8b8b-000000000003"), credentialStatus=BOTH)
    revocation = signed["credentialStatus"][0]
    wrong = _status(lab, signed["id"], "revocation", True, statusListCredential=revocation["statusListCredential"],
                    statusListIndex=str((int(revocation["statusListIndex"]) + 1) % 131072))  # fmt: skip
    assert wrong.status_code == 400
    right = _status(lab, signed["id"], "revocation", True, statusListCredential=revocation["statusListCredential"],
                    statusListIndex=revocation["statusListIndex"])  # fmt: skip
    assert right.status_code == 200 and "status.revocation" in _failed(lab, signed)


def test_options_credential_id_names_a_credential_without_an_id(lab: Lab) -> None:
    signed = lab.issue(credentialId="urn:example:enrolment-42", credentialStatus=BOTH[:1])
    assert "id" not in signed
    assert _status(lab, "urn:example:enrolment-42", "revocation", True).status_code == 200
    assert "status.revocation" in _failed(lab, signed)


def test_a_credential_without_that_status_entry_cannot_change(lab: Lab) -> None:
    signed = lab.issue(lab.credential(id="urn:uuid:9e0b0a55-1111-4a4a-8b8b-000000000004"), credentialStatus=BOTH[:1])
    response = _status(lab, signed["id"], "suspension", True)
    assert response.status_code == 400 and "suspension" in response.json()["detail"]


def test_awards_issued_here_can_be_revoked_through_the_vc_api(lab: Lab) -> None:
    revocable = lab.platform.catalog.create(
        "lab-web", parse_definition(COMPLETE), publish=True, exemption="test fixture"
    )
    outcome = lab.platform.awards.award(AwardRequest(revocable.id, "ada@learners.example", "Ada"))
    assert lab.verify(outcome.credential).status_code == 200
    assert _status(lab, outcome.url, "suspension", True).status_code == 409  # revocation only
    assert _status(lab, outcome.url, "revocation", True).status_code == 200
    with lab.platform.runtime.db.read() as repo:
        award = repo.award(outcome.id)
        assert award is not None and award.revoked_at is not None
    assert "status.revocation" in _failed(lab, outcome.credential)
    suspendable = lab.platform.catalog.create(
        "lab-web", parse_definition({**COMPLETE, "suspendable": True}), publish=True, exemption="test fixture"
    )
    outcome = lab.platform.awards.award(AwardRequest(suspendable.id, "ada@learners.example", "Ada"))
    assert _status(lab, outcome.url, "suspension", True).status_code == 200
    assert "status.suspension" in _failed(lab, outcome.credential)
    assert _status(lab, outcome.url, "suspension", False).status_code == 200
    assert lab.verify(outcome.credential).status_code == 200


def test_unknown_and_foreign_credentials_answer_404(lab: Lab) -> None:
    assert _status(lab, "urn:uuid:00000000-0000-4000-8000-00000000dead", "revocation", True).status_code == 404
    foreign = lab.platform.vcapi.issue({"credential": lab.credential("elsewhere", id="urn:example:foreign")}, None, "t")
    assert _status(lab, foreign["id"], "revocation", True).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"credentialId": "urn:x", "credentialStatus": {"type": "BitstringStatusListEntry"}, "status": True},
        {"credentialId": "urn:x", "credentialStatus": {"type": "Nope", "statusPurpose": "revocation"}, "status": True},
        {
            "credentialId": "urn:x",
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": "yes",
        },
        {"credentialId": 7, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}},
        {
            "credentialId": "urn:x",
            "credentialStatus": {
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": 5,
            },
            "status": True,
        },
        {"credentialId": "urn:x", "status": True, "extra": 1},
        ["not", "an", "object"],
    ],
)
def test_malformed_status_requests_answer_400(lab: Lab, body: Any) -> None:
    response = lab.client.post("/credentials/status", json=body, headers=lab.auth())
    assert response.status_code == 400, response.text


def test_parallel_issuing_never_hands_out_an_index_twice(lab: Lab) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def issue(n: int) -> list[tuple[str, str]]:
        signed = lab.issue(lab.credential(id=f"urn:uuid:aaaaaaaa-0000-4000-8000-{n:012d}"), credentialStatus=BOTH)
        return [(e["statusListCredential"], e["statusListIndex"]) for e in signed["credentialStatus"]]

    with ThreadPoolExecutor(8) as pool:
        entries = [entry for pair in pool.map(issue, range(48)) for entry in pair]
    assert len(entries) == 96 and len(set(entries)) == 96
    with lab.platform.runtime.db.read() as repo:
        stored = [(e.list_id, e.index) for n in range(48)
                  for row in repo.vcapi_credentials([i.id for i in repo.issuers()],
                                                    f"urn:uuid:aaaaaaaa-0000-4000-8000-{n:012d}")
                  for e in repo.vcapi_status_entries(row.id)]  # fmt: skip
    assert len(stored) == 96 and len(set(stored)) == 96


MESSAGES = [
    {"status": "0x0", "message": "pending review"},
    {"status": "0x1", "message": "accepted"},
    {"status": "0x2", "message": "rejected"},
    {"status": "0x3", "message": "withdrawn"},
]
MESSAGE_ENTRY = {
    "type": "BitstringStatusListEntry", "statusPurpose": "message", "statusSize": 2,
    "statusMessage": MESSAGES, "statusReference": "https://issuer.example/status-messages",
}  # fmt: skip


def test_a_multi_state_message_entry_is_issued_read_and_changed(lab: Lab) -> None:
    ref = "urn:uuid:9e0b0a55-1111-4a4a-8b8b-0000000000a1"
    signed = lab.issue(lab.credential(id=ref), credentialStatus=[BOTH[0], MESSAGE_ENTRY])
    entry = signed["credentialStatus"][1]
    assert entry["statusSize"] == 2 and entry["statusMessage"] == MESSAGES
    assert entry["statusReference"] == MESSAGE_ENTRY["statusReference"]
    answer = lab.verify(signed)
    assert answer.status_code == 200, answer.text
    message = [r for r in answer.json()["results"] if r["code"] == "status.message"]
    assert message[0]["status"] == "passed" and "pending review" in message[0]["message"]
    assert _status(lab, ref, "message", 2).status_code == 200  # type: ignore[arg-type]
    message = [r for r in lab.verify(signed).json()["results"] if r["code"] == "status.message"]
    assert "0x2: rejected" in message[0]["message"]
    listed = lab.client.get(entry["statusListCredential"]).json()
    assert listed["credentialSubject"]["statusPurpose"] == "message"
    too_big = _status(lab, ref, "message", 4)  # type: ignore[arg-type]  # 2 bits hold 0-3
    assert too_big.status_code == 422 and "does not fit" in too_big.json()["detail"]
    message = [r for r in lab.verify(signed).json()["results"] if r["code"] == "status.message"]
    assert "0x2: rejected" in message[0]["message"], "a refused change leaves the value as it was"


@pytest.mark.parametrize(
    "entry",
    [
        {**MESSAGE_ENTRY, "statusSize": 0},
        {**MESSAGE_ENTRY, "statusMessage": MESSAGES[:2]},  # 2 bits have 4 values
        {**MESSAGE_ENTRY, "statusMessage": [*MESSAGES[:3], {"status": "0x3"}]},
        {**MESSAGE_ENTRY, "statusReference": "not a url"},
        {k: v for k, v in MESSAGE_ENTRY.items() if k != "statusMessage"},
        {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusSize": 2},
    ],
)
def test_malformed_message_entries_are_refused_at_issue(lab: Lab, entry: dict[str, Any]) -> None:
    response = lab.client.post(
        "/credentials/issue", json={"credential": lab.credential(), "options": {"credentialStatus": [entry]}},
        headers=lab.auth(),
    )  # fmt: skip
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
