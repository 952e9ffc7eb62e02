"""The REST API and public documents, through the real app (in process)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcred import bootstrap
from microcred.server import create_app
from microcred.services.awarding import AwardRequest
from microcred.standards import baking
from microcred.standards.images import solid_png
from tests.platform_fixtures import COMPLETE


@pytest.fixture
def client(platform: bootstrap.Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tokens(platform: bootstrap.Platform, issuer: Any) -> dict[str, str]:
    other = platform.issuers.create(name="Other Academy", slug="other", country="DE")
    users = {
        "platform_admin": ("root@example.org", None),
        "issuer_admin": ("admin@tu.example", issuer.slug),
        "issuer_staff": ("staff@tu.example", issuer.slug),
        "learner": ("ada@example.org", None),
        "other_admin": ("admin@other.example", other.slug),
    }
    out = {}
    for name, (email, org) in users.items():
        role = "issuer_admin" if name == "other_admin" else name
        platform.accounts.create_user(email, "correct horse battery", role, organisation=org)
        out[name] = platform.accounts.create_token(email, role).token
    return out


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["detail"]


def test_award_lifecycle_over_the_api(client: TestClient, tokens: dict[str, str], microcredential: Any) -> None:
    staff = _auth(tokens["issuer_staff"])
    created = client.post(
        "/api/v1/awards",
        json={"microcredential": microcredential.id, "email": "ada@example.org", "name": "Ada", "grade": "A"},
        headers=staff,
    )
    assert created.status_code == 201, created.text
    award = created.json()
    again = client.post(
        "/api/v1/awards", json={"microcredential": microcredential.id, "email": "ada@example.org"}, headers=staff
    )
    assert again.status_code == 200 and again.json()["id"] == award["id"] and again.json()["created"] is False
    stored = client.get(f"/credentials/{award['id']}")
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("application/ld+json")
    assert stored.json() == award["credential"]
    assert client.get(f"/credentials/{award['id']}.json").json() == award["credential"]
    report = client.post("/api/v1/verify", json=award["credential"]).json()
    assert report["verified"] is True, report
    jwt = client.get(f"/credentials/{award['id']}.jwt")
    assert jwt.status_code == 200 and jwt.text.count(".") == 2
    assert (
        client.post("/api/v1/verify", content=jwt.text, headers={"Content-Type": "text/plain"}).json()["verified"]
        is True
    )
    revoked = client.post(f"/api/v1/awards/{award['id']}/revoke", json={"reason": "error"}, headers=staff)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    after = client.post("/api/v1/verify", json=award["credential"]).json()
    assert after["verified"] is False
    assert {c["code"]: c["status"] for c in after["checks"]}["status.revocation"] == "failed"
    _problem(client.post(f"/api/v1/awards/{award['id']}/revoke", json={}, headers=staff), 409, "conflict")


def test_status_lists_are_signed_and_cached_for_at_most_a_minute(
    client: TestClient, platform: bootstrap.Platform, microcredential: Any
) -> None:
    platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    response = client.get("/status/tu-example/revocation/1")
    assert response.status_code == 200
    max_age = int(response.headers["cache-control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 60
    assert response.json()["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert client.post("/api/v1/verify", json=response.json()).json()["verified"] is True
    _problem(client.get("/status/tu-example/revocation/9"), 404, "not_found")
    _problem(client.get("/status/tu-example/other/1"), 404, "not_found")


def test_did_document_and_context_are_served(client: TestClient, issuer: Any) -> None:
    did = client.get("/issuers/tu-example/did.json").json()
    assert did["id"] == issuer.did and did["assertionMethod"] == [f"{issuer.did}#key-1"]
    context = client.get("/contexts/eu-microcredential-v1.jsonld")
    assert context.status_code == 200 and "learningOutcome" in context.json()["@context"]


def test_verify_accepts_every_input_form_and_never_errors_on_bad_credentials(
    client: TestClient, platform: bootstrap.Platform, microcredential: Any
) -> None:
    credential = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org")).credential
    png = baking.bake_png(solid_png(4, 4, (1, 2, 3)), json.dumps(credential))
    upload = client.post("/api/v1/verify", files={"file": ("badge.png", png, "image/png")})
    assert upload.status_code == 200 and upload.json()["verified"] is True and upload.json()["format"] == "png+json-ld"
    for body in (b"{not json", b"[]", b'{"@context": 5}', b"x" * 10):
        response = client.post("/api/v1/verify", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 200 and response.json()["verified"] is False
    _problem(client.post("/api/v1/verify", json={"url": "http://127.0.0.1/x"}), 422, "input")
    _problem(client.post("/api/v1/verify", content=b"x", headers={"Content-Type": "application/xml"}), 422, "input")
    _problem(client.post("/api/v1/verify", files={"other": ("a", b"b")}), 422, "input")


def test_problem_details_for_authentication_and_validation(client: TestClient, tokens: dict[str, str]) -> None:
    _problem(client.get("/api/v1/awards"), 401, "unauthorized")
    _problem(client.get("/api/v1/awards", headers=_auth("mct_not-a-token")), 401, "unauthorized")
    _problem(client.post("/api/v1/awards", json={"email": 5}, headers=_auth(tokens["issuer_staff"])), 422, "validation")
    _problem(
        client.post(
            "/api/v1/microcredentials",
            json={"issuer": "tu-example", "definition": {"name": "x"}},
            headers=_auth(tokens["issuer_admin"]),
        ),
        422,
        "input",
    )
    _problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "microcred"


ENDPOINTS = [
    ("GET", "/api/v1/issuers", None),
    ("GET", "/api/v1/organisations", None),
    ("GET", "/api/v1/issuers/tu-example/keys", None),
    ("GET", "/api/v1/microcredentials/{mc}/versions", None),
    ("POST", "/api/v1/issuers", {"name": "New", "slug": "new-one", "country": "NL"}),
    ("POST", "/api/v1/issuers/tu-example/keys/rotate", None),
    ("POST", "/api/v1/microcredentials", {"issuer": "tu-example", "definition": COMPLETE}),
    ("GET", "/api/v1/microcredentials/{mc}", None),
    ("GET", "/api/v1/microcredentials/{mc}/lint", None),
    ("PUT", "/api/v1/microcredentials/{mc}", COMPLETE),
    ("POST", "/api/v1/awards", {"microcredential": "{mc}", "email": "new@example.org"}),
    ("GET", "/api/v1/awards", None),
    ("GET", "/api/v1/awards/{award}", None),
    ("POST", "/api/v1/awards/{award}/suspend", {"reason": "x"}),
    ("GET", "/api/v1/audit", None),
    ("GET", "/api/v1/me/credentials", None),
]
# role -> the endpoints (by index) it may use; everything else answers 403 (or 404 when out of scope).
# Reading the catalogue (microcredentials, their versions and lint) is open to every signed-in user;
# listings (issuers, organisations, awards, audit) are scoped, not refused; keys are scoped to the issuer.
OFFSET = 3  # the three read-only endpoints listed first
ALLOWED = {
    "platform_admin": set(range(len(ENDPOINTS))),
    "issuer_admin": set(range(len(ENDPOINTS))) - {OFFSET + 1},
    "issuer_staff": {0, 1, 2, 3} | {OFFSET + i for i in (3, 4, 5, 6, 7, 8, 9, 10, 12)},
    "learner": {0, 1, 3} | {OFFSET + i for i in (4, 5, 12)},
    "other_admin": {0, 1, 3} | {OFFSET + i for i in (4, 5, 8, 11, 12)},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_every_endpoint_against_every_role(
    client: TestClient,
    platform: bootstrap.Platform,
    tokens: dict[str, str],
    microcredential: Any,
    suspendable: Any,
    role: str,
) -> None:
    award = platform.awards.award(AwardRequest(suspendable.id, "ada@example.org")).id
    for index, (method, path, body) in enumerate(ENDPOINTS):
        url = path.replace("{mc}", microcredential.id).replace("{award}", award)
        payload = json.loads(json.dumps(body).replace("{mc}", microcredential.id)) if body is not None else None
        response = client.request(method, url, json=payload, headers=_auth(tokens[role]))
        if index in ALLOWED[role]:
            assert response.status_code in (200, 201), (role, method, url, response.text)
        else:
            assert response.status_code in (403, 404), (role, method, url, response.status_code, response.text)
            if role == "other_admin" and "{" in path:
                assert response.status_code == 404, (method, url)  # another organisation's object does not exist


def test_listing_is_scoped_and_paginated(
    client: TestClient, platform: bootstrap.Platform, tokens: dict[str, str], microcredential: Any
) -> None:
    for i in range(5):
        platform.awards.award(AwardRequest(microcredential.id, f"l{i}@example.org"))
    page = client.get("/api/v1/awards?limit=2&offset=1", headers=_auth(tokens["issuer_staff"])).json()
    assert len(page["items"]) == 2 and page["offset"] == 1
    assert client.get("/api/v1/awards", headers=_auth(tokens["other_admin"])).json()["items"] == []
    _problem(client.get("/api/v1/awards?limit=0", headers=_auth(tokens["issuer_staff"])), 422, "input")
    mine = client.get("/api/v1/me/credentials", headers=_auth(tokens["learner"])).json()["items"]
    assert mine == []  # l0..l4 are other learners
    ada = platform.awards.award(AwardRequest(microcredential.id, "Ada@Example.org")).id
    mine = client.get("/api/v1/me/credentials", headers=_auth(tokens["learner"])).json()["items"]
    assert [item["id"] for item in mine] == [ada] and mine[0]["credential"]["id"].endswith(ada)


def test_bulk_job_over_the_api(client: TestClient, tokens: dict[str, str], microcredential: Any) -> None:
    rows = "email,name\nada@example.org,Ada\nbad-email,Bad\ngrace@example.org,Grace\n"
    response = client.post(
        f"/api/v1/bulk-jobs?microcredential={microcredential.id}",
        files={"file": ("cohort.csv", rows.encode(), "text/csv")},
        headers=_auth(tokens["issuer_staff"]),
    )
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["state"] in ("running", "finished") and started["url"] == f"/api/v1/bulk-jobs/{started['id']}"
    deadline = time.monotonic() + 60
    job = started
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        job = client.get(started["url"], headers=_auth(tokens["issuer_staff"])).json()
    assert (job["state"], job["issued"], job["failed"], job["total"]) == ("finished", 2, 1, 3)
    assert job["errors"][0]["line"] == 3 and "email" in job["errors"][0]["reason"]
    _problem(client.get(started["url"], headers=_auth(tokens["other_admin"])), 404, "not_found")


def test_platform_did_is_served_and_resolves_locally(client: TestClient, platform: bootstrap.Platform) -> None:
    document = client.get("/.well-known/did.json").json()
    assert document["id"] == "did:web:microcred.example" == platform.runtime.platform_did
    assert document["verificationMethod"][0]["publicKeyMultibase"].startswith("z6Mk")
    assert platform.local.find("did:web:microcred.example") == document


def test_badge_image_upload_is_checked_stored_and_used_by_later_awards(
    client: TestClient, platform: bootstrap.Platform, tokens: dict[str, str], microcredential: Any
) -> None:
    staff = _auth(tokens["issuer_staff"])
    url = f"/api/v1/microcredentials/{microcredential.id}/image"
    png = solid_png(16, 16, (10, 80, 160))
    response = client.put(url, files={"file": ("badge.png", png, "image/png")}, headers=staff)
    assert response.status_code == 200 and response.json()["media_type"] == "image/png"
    served = client.get(f"/microcredentials/{microcredential.id}/image")
    assert served.content == png and served.headers["content-type"] == "image/png"
    assert "default-src 'none'" in served.headers["content-security-policy"]
    award = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org")).credential
    assert award["credentialSubject"]["achievement"]["image"]["id"].endswith(
        f"/microcredentials/{microcredential.id}/image"
    )
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'
    assert (
        client.put(url, files={"file": ("b.svg", svg, "image/svg+xml")}, headers=staff).json()["media_type"]
        == "image/svg+xml"
    )
    for bad in (
        b"\xff\xd8\xff\xe0 jpeg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        png[:40],
        b"x" * (3 * 1024 * 1024),
    ):
        _problem(client.put(url, files={"file": ("x", bad, "application/octet-stream")}, headers=staff), 422, "input")
    _problem(
        client.put(url, files={"file": ("b.png", png, "image/png")}, headers=_auth(tokens["other_admin"])),
        404,
        "not_found",
    )


def test_parent_organisation_is_carried_in_the_issuer_profile(platform: bootstrap.Platform, issuer: Any) -> None:
    from microcred.services.issuing import parse_definition

    child = platform.issuers.create(name="Faculty of Science", slug="tu-science", country="NL", parent=issuer.slug)
    mc = platform.catalog.create(child.slug, parse_definition(COMPLETE), publish=True, exemption="test fixture")
    credential = platform.awards.award(AwardRequest(mc.id, "ada@example.org")).credential
    assert credential["issuer"]["parentOrg"] == {"id": issuer.did, "type": ["Profile"], "name": issuer.name}


def test_an_api_award_sends_one_claim_link(
    client: TestClient, platform: bootstrap.Platform, tokens: dict[str, str], microcredential: Any
) -> None:
    body = {"microcredential": microcredential.id, "email": "Claim.Me@example.org", "name": "Claim Me"}
    first = client.post("/api/v1/awards", json=body, headers=_auth(tokens["issuer_staff"]))
    again = client.post("/api/v1/awards", json=body, headers=_auth(tokens["issuer_staff"]))
    assert (first.status_code, again.status_code) == (201, 200)
    mails = platform.mailer.messages(to="claim.me@example.org")  # type: ignore[attr-defined]
    assert len(mails) == 1 and "https://microcred.example/claim/" in mails[0].text
    assert mails[0].subject == "TU Example awarded you Data Analytics with Python"


def test_verify_by_url_reads_our_own_credentials_and_fetches_nothing_else(
    client: TestClient, platform: bootstrap.Platform, tokens: dict[str, str], microcredential: Any
) -> None:
    award = client.post(
        "/api/v1/awards",
        json={"microcredential": microcredential.id, "email": "url@example.org"},
        headers=_auth(tokens["issuer_staff"]),
    ).json()
    own = client.post("/api/v1/verify", json={"url": award["url"]})
    assert own.status_code == 200 and own.json()["verified"] is True
    with platform.runtime.db.transaction() as repo:
        repo.award(award["id"]).public = False
    _problem(client.post("/api/v1/verify", json={"url": award["url"]}), 404, "not_found")
    refused = client.post("/api/v1/verify", json={"url": "https://issuer.example/c.json"})
    _problem(refused, 422, "input")
    assert "MICROCRED_ALLOW_FETCH" in refused.json()["detail"]
