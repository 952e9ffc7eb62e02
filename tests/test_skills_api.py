"""The skills API: taxonomy, the learner's profile and choices, roles, candidates, shortlist, team, gap and plan."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred import bootstrap
from microcred.services.awarding import AwardRequest
from tests import test_api
from tests.test_api import _auth, _problem

client, tokens = test_api.client, test_api.tokens  # the same fixtures as the rest of the API tests

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SQL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"


def _employer(platform: bootstrap.Platform) -> str:
    platform.issuers.create(name="Helix", slug="helix", country="BE")
    platform.accounts.create_user("hr@helix.example", "correct horse battery", "employer", organisation="helix")
    return platform.accounts.create_token("hr@helix.example", "employer").token


def test_taxonomy_endpoints_carry_the_attribution(client: TestClient, tokens: dict[str, str]) -> None:
    learner = _auth(tokens["learner"])
    found = client.get("/api/v1/skills", params={"q": "pyth", "limit": 3}, headers=learner).json()
    assert found["attribution"][0].startswith("This service uses the ESCO classification")
    assert "Python (computer programming)" in [s["label"] for s in found["skills"]]
    extracted = client.post("/api/v1/skills/extract", json={"text": "Python and SQL daily."}, headers=learner).json()
    assert {s["uri"] for s in extracted["skills"]} >= {PYTHON, SQL}
    _problem(client.post("/api/v1/skills/extract", json={"text": ""}, headers=learner), 422, "validation")
    _problem(client.get("/api/v1/skills", params={"q": "x" * 201}, headers=learner), 422, "validation")
    _problem(client.get("/api/v1/skills", params={"q": "python"}), 401, "unauthorized")
    occupations = client.get("/api/v1/occupations", params={"q": "data analyst"}, headers=learner).json()
    assert occupations["occupations"][0]["label"] == "data analyst"


def test_an_employer_finds_an_opted_in_learner_and_the_learner_plans(
    client: TestClient, tokens: dict[str, str], platform: bootstrap.Platform, microcredential: Any
) -> None:
    hr = _auth(_employer(platform))
    learner = _auth(tokens["learner"])
    award = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))
    skills = client.get("/api/v1/me/skills", headers=learner).json()["skills"]
    assert [(s["skill"], s["credentials"][0]["discoverable"]) for s in skills] == [(PYTHON, False)]
    body = {"organisation": "helix", "title": "Analyst", "skills": [{"uri": PYTHON}, {"uri": SQL, "importance": 1}]}
    role = client.post("/api/v1/roles", json=body, headers=hr)
    assert role.status_code == 201, role.text
    role_id = role.json()["id"]
    assert client.get(f"/api/v1/roles/{role_id}/candidates", headers=hr).json()["total"] == 0
    opted = client.put(
        "/api/v1/me/skills/discoverable", json={"credential": award.id, "discoverable": True}, headers=learner
    )
    assert opted.status_code == 200
    client.put("/api/v1/me/profile", json={"country": "nl"}, headers=learner)
    found = client.get(f"/api/v1/roles/{role_id}/candidates", params={"country": "NL"}, headers=hr).json()
    assert found["total"] == 1 and found["candidates"][0]["score"] == 0.75
    assert found["candidates"][0]["proves"][0]["credential"] == "Data Analytics with Python"
    shortlist = client.get(f"/api/v1/roles/{role_id}/shortlist.csv", headers=hr)
    assert shortlist.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(shortlist.text)))[1][2] == "ada@example.org"
    # the learner may aim at a role only once they share their skills with its employer
    _problem(client.get("/api/v1/me/gap", params={"role": role_id}, headers=learner), 404, "not_found")
    assert client.put("/api/v1/me/shares/helix", json={"shared": True}, headers=learner).status_code == 200
    gap = client.get("/api/v1/me/gap", params={"role": role_id}, headers=learner).json()
    assert [m["skill"] for m in gap["missing"]] == [SQL]
    plan = client.get("/api/v1/me/plan", params={"role": role_id, "minimize": "hours"}, headers=learner).json()
    assert plan["microcredentials"] == [] and plan["uncovered"][0]["inCatalogue"] is False
    team = client.get("/api/v1/team", params={"role": role_id}, headers=hr).json()
    assert team["members"][0]["skills"] == [PYTHON] and team["gaps"][0]["skill"] == SQL
    # what others may not do
    _problem(client.post("/api/v1/roles", json=body, headers=learner), 403, "forbidden")
    _problem(client.get(f"/api/v1/roles/{role_id}", headers=_auth(tokens["issuer_staff"])), 404, "not_found")
    _problem(client.post("/api/v1/roles", json={**body, "text": "Python"}, headers=hr), 422, "input")
    _problem(client.get("/api/v1/me/plan", params={"role": role_id, "budget": -1}, headers=learner), 422, "validation")
    assert client.delete(f"/api/v1/roles/{role_id}", headers=hr).status_code == 204
    _problem(client.get(f"/api/v1/roles/{role_id}/candidates", headers=hr), 404, "not_found")


_ROLES: dict[int, int] = {}
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
    | st.sampled_from([PYTHON, "helix", "occupation", "skills", "text", "uri", "importance", "essential"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["organisation", "title", "occupation", "skills", "text", "uri", "essential",
                                       "importance", "credential", "discoverable", "country", "shared"]), children, max_size=5),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSONISH, query=st.dictionaries(st.sampled_from(["role", "occupation", "budget", "minimize", "q", "limit",
                                                             "country", "issuer", "type", "offset"]), st.text(max_size=12)))  # fmt: skip
def test_no_body_or_query_makes_the_skills_api_fail(
    client: TestClient, tokens: dict[str, str], platform: bootstrap.Platform, body: Any, query: dict[str, str]
) -> None:
    if id(platform) not in _ROLES:  # the fixtures live for the whole test, across examples
        made = client.post("/api/v1/roles", json={"organisation": "tu-example", "title": "Fuzz", "skills": [{"uri": PYTHON}]},
                           headers=_auth(tokens["issuer_admin"]))  # fmt: skip
        _ROLES[id(platform)] = made.json()["id"]
    admin, learner = _auth(tokens["issuer_admin"]), _auth(tokens["learner"])
    role_id = _ROLES[id(platform)]
    for method, path, who in (
        ("post", "/api/v1/roles", admin), ("put", f"/api/v1/roles/{role_id}", admin),
        ("put", "/api/v1/me/skills/discoverable", learner), ("put", "/api/v1/me/profile", learner),
        ("put", "/api/v1/me/shares/tu-example", learner), ("post", "/api/v1/skills/extract", learner),
    ):  # fmt: skip
        response = client.request(method, path, json=body, headers=who)
        assert response.status_code < 500, (path, body, response.text)
    for path, who in ((f"/api/v1/roles/{role_id}/candidates", admin), ("/api/v1/me/plan", learner),
                      ("/api/v1/me/gap", learner), ("/api/v1/skills", learner), ("/api/v1/catalogue", learner)):  # fmt: skip
        response = client.get(path, params=query, headers=who)
        assert response.status_code < 500, (path, query, response.text)
