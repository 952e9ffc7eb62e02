"""Pathways on the platform: the roll-up issued exactly once with cited parts, suspension on part
revocation, approval, and verification of a roll-up with its parts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred import bootstrap
from microcred.errors import InputError
from microcred.services.awarding import AwardRequest
from microcred.services.issuing import Conflict, parse_definition
from microcred.standards.rollup import credential_digest, verify_with_parts
from tests.platform_fixtures import COMPLETE

SKILL = "http://data.europa.eu/esco/skill/"


def _module(platform: bootstrap.Platform, n: int, ects: float = 5) -> str:
    definition = {**COMPLETE, "name": f"Module {n}", "ects": ects, "suspendable": True,
                  "skills": [{"uri": f"{SKILL}m{n}", "label": f"skill {n}"}]}  # fmt: skip
    return platform.catalog.create(
        "tu-example", parse_definition(definition), publish=True, exemption="test fixture"
    ).id


def _pathway(platform: bootstrap.Platform, modules: list[str], **extra: Any) -> Any:
    definition = {
        "name": "Certificate in Data Analytics", "description": "Three modules, or two and a project.",
        "requirements": {"all_of": [{"microcredential": modules[0], "id": "core"},
                                    {"at_least": 1, "of": [{"microcredential": m} for m in modules[1:]]}]},
        **extra,
    }  # fmt: skip
    return platform.pathways.create("tu-example", definition)


@pytest.fixture
def modules(platform: bootstrap.Platform, issuer: Any) -> list[str]:
    return [_module(platform, n) for n in range(1, 4)]


def _award(platform: bootstrap.Platform, mc_id: str, email: str = "ada@example.org") -> Any:
    return platform.awards.award(AwardRequest(mc_id, email, "Ada"))


def _completion(platform: bootstrap.Platform, pathway_id: str, email: str = "ada@example.org") -> Any:
    with platform.runtime.db.read() as repo:
        return repo.completion(pathway_id, email)


def test_the_roll_up_is_issued_once_and_cites_its_parts(platform: bootstrap.Platform, modules: list[str]) -> None:
    row = _pathway(platform, modules)
    first = _award(platform, modules[0])
    assert _completion(platform, row.id) is None
    (progress,) = platform.pathways.progress("ada@example.org")
    assert progress.progress.percent == 50 and not progress.progress.satisfied
    second = _award(platform, modules[2])
    completion = _completion(platform, row.id)
    assert completion is not None and completion.state == "issued"
    signed = json.loads(platform.awards.signed_json(completion.award_id))
    cited = {r["id"]: r["digestMultibase"] for r in signed["relatedResource"]}
    assert cited == {first.url: credential_digest(first.credential), second.url: credential_digest(second.credential)}
    assert signed["credentialSubject"]["creditsEarned"] == 10
    aligned = {a["targetUrl"] for a in signed["credentialSubject"]["achievement"]["alignment"]}
    assert aligned == {f"{SKILL}m1", f"{SKILL}m3"}
    assert signed["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    _award(platform, modules[1])  # more parts later never issue a second roll-up
    assert platform.pathways.reevaluate("ada@example.org") == []
    with platform.runtime.db.read() as repo:
        assert len(repo.completions(email="ada@example.org")) == 1
    report = verify_with_parts(platform.credentials.verifier, signed, [first.credential, second.credential])
    assert report.verified, report.to_json()
    assert report.status_of("parts") == "passed"


def test_a_changed_part_fails_the_roll_up_check(platform: bootstrap.Platform, modules: list[str]) -> None:
    row = _pathway(platform, modules)
    first, second = _award(platform, modules[0]), _award(platform, modules[1])
    signed = json.loads(platform.awards.signed_json(_completion(platform, row.id).award_id))
    changed = {**first.credential, "credentialSubject": {**first.credential["credentialSubject"], "name": "Eve"}}
    report = verify_with_parts(platform.credentials.verifier, signed, [changed, second.credential])
    assert not report.verified and report.status_of("parts") == "failed"
    alone = verify_with_parts(platform.credentials.verifier, signed, [])
    assert alone.status_of("parts") == "skipped"


def test_revoking_a_part_suspends_the_roll_up_until_it_counts_again(
    platform: bootstrap.Platform, modules: list[str]
) -> None:
    row = _pathway(platform, modules)
    core = _award(platform, modules[0])
    elective = _award(platform, modules[1])
    award_id = _completion(platform, row.id).award_id
    platform.awards.suspend(elective.id, "under review")
    completion = _completion(platform, row.id)
    assert completion.flagged and completion.suspended_by_policy
    with platform.runtime.db.read() as repo:
        assert repo.award(award_id).suspended
    platform.awards.unsuspend(elective.id, "cleared")
    with platform.runtime.db.read() as repo:
        assert not repo.award(award_id).suspended
    platform.awards.revoke(core.id, "fraud")
    with platform.runtime.db.read() as repo:
        assert repo.award(award_id).suspended
    assert "revoked" in _completion(platform, row.id).flagged


def test_flag_policy_keeps_the_roll_up_active(platform: bootstrap.Platform, modules: list[str]) -> None:
    row = _pathway(platform, modules, on_part_revoked="flag")
    core = _award(platform, modules[0])
    _award(platform, modules[1])
    platform.awards.revoke(core.id, "mistake")
    completion = _completion(platform, row.id)
    assert completion.flagged and not completion.suspended_by_policy
    with platform.runtime.db.read() as repo:
        assert not repo.award(completion.award_id).suspended


def test_issuer_approval_queues_then_issues_or_rejects(platform: bootstrap.Platform, modules: list[str]) -> None:
    row = _pathway(platform, modules, approval="issuer")
    _award(platform, modules[0])
    _award(platform, modules[1])
    pending = _completion(platform, row.id)
    assert pending.state == "pending" and pending.award_id is None
    approved = platform.pathways.decide(pending.id, True, "admin@tu.example", "well done")
    assert approved.state == "issued" and approved.award_id and approved.decided_by == "admin@tu.example"
    with pytest.raises(Conflict):
        platform.pathways.decide(pending.id, False, "admin@tu.example")
    _award(platform, modules[0], "bob@example.org")
    _award(platform, modules[2], "bob@example.org")
    rejected = platform.pathways.decide(_completion(platform, row.id, "bob@example.org").id, False, "admin", "no")
    assert rejected.state == "rejected" and rejected.award_id is None


@pytest.mark.parametrize(
    ("requirements", "message"),
    [
        ({"all_of": [{"microcredential": "nope"}]}, "no microcredential"),
        ({"at_least": 3, "of": [{"microcredential": "{m0}"}]}, "from 1 to 1"),
        ({"min_credits": 50, "of": [{"microcredential": "{m0}"}, {"microcredential": "{m1}"}]}, "at most 10"),
    ],
)
def test_unsatisfiable_pathways_are_refused_on_save(
    platform: bootstrap.Platform, modules: list[str], requirements: dict[str, Any], message: str
) -> None:
    text = json.dumps(requirements).replace("{m0}", modules[0]).replace("{m1}", modules[1])
    with pytest.raises(InputError, match=message):
        platform.pathways.create("tu-example", {"name": "X", "description": "Y", "requirements": json.loads(text)})


def test_a_nested_pathway_cycle_is_refused(platform: bootstrap.Platform, modules: list[str]) -> None:
    inner = _pathway(platform, modules)
    outer = platform.pathways.create("tu-example", {"name": "Diploma", "description": "Stacks the certificate",
                                                    "requirements": {"all_of": [{"pathway": inner.id}]}})  # fmt: skip
    looping = {"name": "Certificate", "description": "now loops", "requirements": {"all_of": [{"pathway": outer.id}]}}
    with pytest.raises(InputError, match="cycle"):
        platform.pathways.update(inner.id, looping)


ACTIONS = st.lists(st.tuples(st.sampled_from(["award", "revoke", "suspend", "unsuspend"]), st.integers(0, 2)),
                   min_size=1, max_size=8)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])  # fmt: skip
@given(actions=ACTIONS)
def test_with_a_suspend_policy_no_active_roll_up_survives_a_revoked_part(
    make_platform: Any, actions: list[tuple[str, int]]
) -> None:
    platform = make_platform()
    if not platform.issuers.list():
        platform.issuers.create(name="TU Example", slug="tu-example", country="NL")
    modules = [_module(platform, n) for n in range(3)]
    email = f"p{abs(hash(tuple(actions))) % 10**9}@example.org"
    row = _pathway(platform, modules)
    awarded: dict[int, str] = {}
    for action, index in actions:
        award_id = awarded.get(index)
        try:
            if action == "award" and award_id is None:
                awarded[index] = _award(platform, modules[index], email).id
            elif award_id is not None and action != "award":
                getattr(platform.awards, action)(award_id, "property")
        except Conflict:
            pass  # revoking twice, suspending a revoked award ...
        completion = _completion(platform, row.id, email)
        if completion is None or completion.award_id is None:
            continue
        with platform.runtime.db.read() as repo:
            rollup = repo.award(completion.award_id)
            cited = [p["id"] for p in json.loads(completion.parts)]
            parts = [repo.award(platform.awards.award_id_for(ref)) for ref in cited]
            if (
                any(p.revoked_at is not None for p in parts)
                and not platform.pathways.progress(email)[0].progress.satisfied
            ):
                assert rollup.suspended or rollup.revoked_at is not None


def test_clr_export_carries_the_record_and_verifies(
    platform: bootstrap.Platform, modules: list[str], clock: Any
) -> None:
    from datetime import timedelta

    row = _pathway(platform, modules, order=[("core", "r.2.1")])
    first = _award(platform, modules[0])
    clock._instant += timedelta(days=1)  # the core module comes first, as the pathway requires
    second = _award(platform, modules[1])
    clr = platform.clr.export("ada@example.org", name="Ada")
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert clr["@context"][:3] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    subject = clr["credentialSubject"]
    assert len(subject["verifiableCredential"]) == 3  # two parts and the roll-up, exactly as signed
    assert first.credential in subject["verifiableCredential"]
    kinds = {(a["associationType"], a["sourceId"], a["targetId"]) for a in subject["association"]}
    rollup = json.loads(platform.awards.signed_json(_completion(platform, row.id).award_id))
    target = rollup["credentialSubject"]["achievement"]["id"]
    part = first.credential["credentialSubject"]["achievement"]["id"]
    assert ("isChildOf", part, target) in kinds and ("isParentOf", target, part) in kinds
    later = second.credential["credentialSubject"]["achievement"]["id"]
    assert ("precedes", part, later) in kinds
    report = platform.credentials.verify(clr)
    assert report.verified, report.to_json()
    assert report.status_of("embedded") == "passed"
    tampered = copy.deepcopy(clr)
    tampered["credentialSubject"]["verifiableCredential"][0]["credentialSubject"]["name"] = "Eve"
    assert not platform.credentials.verify(tampered).verified
    chosen = platform.clr.export("ada@example.org", [first.url])
    assert len(chosen["credentialSubject"]["verifiableCredential"]) == 1
    with pytest.raises(InputError):
        platform.clr.export("ada@example.org", ["https://elsewhere.example/credentials/1"])


def test_degree_credit_from_request_to_credit_credential(platform: bootstrap.Platform, modules: list[str]) -> None:
    from microcred.errors import ForbiddenError
    from microcred.services.recognition import RuleIn

    row = _pathway(platform, modules)
    rule = platform.recognition.add_rule("tu-example", RuleIn("BSc Data Science", "DS101", 10, "pass-fail",
                                                              {"pathway": row.id}))  # fmt: skip
    first, second = _award(platform, modules[0]), _award(platform, modules[1])
    rollup_url = platform.awards.credential_url(_completion(platform, row.id).award_id)
    with pytest.raises(InputError, match="none of the submitted"):
        platform.recognition.submit("ada@example.org", rule.id, [first.url])
    with pytest.raises(InputError, match="not a credential in your wallet"):
        platform.recognition.submit("bob@example.org", rule.id, [rollup_url])
    with platform.runtime.db.read() as repo:
        assert repo.recognition_requests(email="ada@example.org") == []  # a refused request leaves nothing
    request = platform.recognition.submit("ada@example.org", rule.id, [rollup_url, second.url])
    with pytest.raises(Conflict):
        platform.recognition.submit("ada@example.org", rule.id, [rollup_url])
    other = platform.issuers.create(name="Other U", slug="other-u", country="BE")
    with pytest.raises(ForbiddenError):
        platform.recognition.decide(request.id, True, "x@other.example", None, other.organisation_id)
    decided = platform.recognition.decide(request.id, True, "registrar@tu.example", "recognised", None)
    assert decided.state == "approved" and decided.award_id
    credit = json.loads(platform.awards.signed_json(decided.award_id))
    assert credit["credentialSubject"]["creditsEarned"] == 10
    assert credit["credentialSubject"]["result"][0]["value"] == "Pass"
    assert [r["id"] for r in credit["relatedResource"]] == [rollup_url]
    assert platform.credentials.verify(credit).verified
    _requests, totals = platform.recognition.learner("ada@example.org")
    assert [(t.programme, t.credits, t.courses) for t in totals] == [("BSc Data Science", 10, ["DS101"])]


def test_the_api_creates_pathways_and_runs_the_credit_workflow(
    platform: bootstrap.Platform, modules: list[str]
) -> None:
    from fastapi.testclient import TestClient

    from microcred.server import create_app

    platform.accounts.create_user("staff@tu.example", "correct horse battery staple", "issuer_admin", "tu-example")
    platform.accounts.create_user("ada@example.org", "correct horse battery staple", "learner")
    staff = {"Authorization": "Bearer " + platform.accounts.create_token("staff@tu.example", "issuer_admin").token}
    learner = {"Authorization": "Bearer " + platform.accounts.create_token("ada@example.org", "learner").token}
    definition = {"name": "Certificate", "description": "Two modules", "approval": "issuer",
                  "requirements": {"all_of": [{"microcredential": m} for m in modules[:2]]}}  # fmt: skip
    with TestClient(create_app(platform)) as client:
        assert client.post("/api/v1/pathways", json={"issuer": "tu-example", "definition": definition},
                           headers=learner).status_code == 403  # fmt: skip
        bad = client.post("/api/v1/pathways", json={"issuer": "tu-example", "definition": {**definition,
                          "requirements": {"all_of": []}}}, headers=staff)  # fmt: skip
        assert bad.status_code == 422 and "at least one" in bad.json()["detail"]
        created = client.post(
            "/api/v1/pathways", json={"issuer": "tu-example", "definition": definition}, headers=staff
        )
        assert created.status_code == 201, created.text
        pathway_id = created.json()["id"]
        for mc_id in modules[:2]:
            _award(platform, mc_id)
        (mine,) = client.get("/api/v1/me/pathways", headers=learner).json()
        assert mine["satisfied"] and mine["roll_up"]["state"] == "pending"
        (pending,) = client.get(f"/api/v1/pathways/{pathway_id}/completions", headers=staff).json()
        approved = client.post(f"/api/v1/pathway-completions/{pending['id']}/approve", json={"note": "ok"},
                               headers=staff)  # fmt: skip
        assert approved.status_code == 200 and approved.json()["state"] == "issued"
        rule = client.post("/api/v1/recognition/rules", headers=staff, json={
            "issuer": "tu-example", "programme": "MSc Analytics", "course_code": "AN1", "credits": 6,
            "target": {"pathway": pathway_id}})  # fmt: skip
        assert rule.status_code == 201, rule.text
        rollup_url = platform.awards.credential_url(approved.json()["award"])
        sent = client.post("/api/v1/me/recognition-requests", json={"rule": rule.json()["id"],
                           "credentials": [rollup_url]}, headers=learner)  # fmt: skip
        assert sent.status_code == 201, sent.text
        (waiting,) = client.get("/api/v1/recognition/requests", headers=staff).json()
        assert client.post(f"/api/v1/recognition/requests/{waiting['id']}/approve", json={},
                           headers=staff).json()["state"] == "approved"  # fmt: skip
        credit = client.get("/api/v1/me/recognition-requests", headers=learner).json()["credit"]
        assert credit == [{"programme": "MSc Analytics", "university": "TU Example", "credits": 6, "courses": ["AN1"]}]
        clr = client.get("/api/v1/me/clr", headers=learner)
        assert clr.status_code == 200 and "ClrCredential" in clr.json()["type"]


@pytest.mark.parametrize("workers", [1, 2])
def test_evaluating_everyone_settles_learners_who_already_hold_the_parts(
    platform: bootstrap.Platform, modules: list[str], workers: int
) -> None:
    for email in ("ada@example.org", "bob@example.org", "cy@example.org"):
        _award(platform, modules[0], email)
    _award(platform, modules[1], "ada@example.org")
    _award(platform, modules[2], "bob@example.org")
    row = _pathway(platform, modules)  # created after the awards: nobody has been evaluated against it yet
    assert _completion(platform, row.id) is None
    result = platform.pathways.evaluate_all(workers=workers)
    assert (result.learners, result.newly_satisfied, result.settled) == (3, 2, 2)
    assert _completion(platform, row.id).state == "issued"
    assert _completion(platform, row.id, "bob@example.org").state == "issued"
    assert _completion(platform, row.id, "cy@example.org") is None
    again = platform.pathways.evaluate_all(workers=workers)
    assert (again.newly_satisfied, again.settled) == (0, 0)


def test_another_issuers_credential_counts_only_while_the_imported_copy_verifies(
    platform: bootstrap.Platform, modules: list[str], clock: Any
) -> None:
    from microcred.services.credentials import SignRequest
    from microcred.services.samples import data_analytics_microcredential
    from microcred.services.web_accounts import SessionUser
    from microcred.standards.dids import did_key_for
    from microcred.standards.keys import Ed25519KeyPair

    key = Ed25519KeyPair.generate()
    other = did_key_for(key.public_bytes)
    achievement = "https://university.example/microcredentials/data-analytics-python/v1"
    row = platform.pathways.create("tu-example", {
        "name": "Joint Certificate", "description": "Ours plus a partner's module",
        "requirements": {"all_of": [{"microcredential": modules[0]},
                                    {"external": {"achievement": achievement, "issuer": other, "name": "Partner module",
                                                  "ects": 5}}]},
    })  # fmt: skip
    _award(platform, modules[0])
    assert _completion(platform, row.id) is None
    user = platform.accounts.create_user("ada@example.org", "correct horse battery staple", "learner")
    holder = SessionUser(user.id, user.email, user.role, None, "Ada", verified=True, session_id="t")
    partner = data_analytics_microcredential(other, "did:example:ada", clock.now(), "urn:uuid:partner-1", user.email)
    signed = platform.credentials.sign(SignRequest(partner, key))
    impostor = Ed25519KeyPair.generate()  # the right achievement, the wrong issuer
    fake = data_analytics_microcredential(did_key_for(impostor.public_bytes), "did:example:ada", clock.now(),
                                          "urn:uuid:partner-2", user.email)  # fmt: skip
    platform.wallet.import_credential(holder, json.dumps(platform.credentials.sign(SignRequest(fake, impostor))), "t")
    assert _completion(platform, row.id) is None
    platform.wallet.import_credential(holder, json.dumps(signed), "test")  # the import re-evaluates the learner
    completion = _completion(platform, row.id)
    assert completion is not None and completion.state == "issued"
    cited = {p["id"]: p["digestMultibase"] for p in json.loads(completion.parts)}
    assert cited["urn:uuid:partner-1"] == credential_digest(signed)
    rollup = json.loads(platform.awards.signed_json(completion.award_id))
    assert rollup["credentialSubject"]["creditsEarned"] == 10


def test_the_api_verifies_a_roll_up_with_its_parts(platform: bootstrap.Platform, modules: list[str]) -> None:
    from fastapi.testclient import TestClient

    from microcred.server import create_app

    row = _pathway(platform, modules)
    parts = [_award(platform, modules[0]).credential, _award(platform, modules[1]).credential]
    rollup = json.loads(platform.awards.signed_json(_completion(platform, row.id).award_id))
    with TestClient(create_app(platform)) as client:
        good = client.post("/api/v1/verify/with-parts", json={"credential": rollup, "parts": parts}).json()
        assert good["verified"] and {c["code"]: c["status"] for c in good["checks"]}["parts"] == "passed"
        parts[0]["name"] = "changed"
        bad = client.post("/api/v1/verify/with-parts", json={"credential": rollup, "parts": parts}).json()
        assert not bad["verified"]
        assert client.post("/api/v1/verify/with-parts", json={"parts": "x"}).status_code == 422
