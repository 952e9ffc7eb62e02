"""Skills on the platform: profiles from credentials that verify, opt-in discoverability, job roles,
candidate ranking with explanations and filters, gaps, optimal plans and the team view."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from microcred import bootstrap
from microcred.clock import FixedClock
from microcred.errors import ForbiddenError, InputError
from microcred.services.accounts import Principal
from microcred.services.awarding import AwardRequest
from microcred.services.issuing import NotFound, parse_definition
from microcred.services.job_roles import RoleSkillIn
from tests.platform_fixtures import COMPLETE

ESCO = "http://data.europa.eu/esco/skill/"
PYTHON = ESCO + "ccd0a1d9-afda-43d9-b901-96344886e14d"
SQL = ESCO + "598de5b0-5b58-4ea7-8058-a4bc4d18c742"
DOCKER = "https://www.onetonline.org/search/tech?s=Docker"
MUSIC = ESCO + "0005c151-5b5a-4a66-8aac-60e734beb1ab"  # manage musical staff: no offer teaches it


def _skill(platform: bootstrap.Platform, uri: str) -> dict[str, str]:
    record = platform.taxonomy.skill(uri)
    return {"uri": record.uri, "label": record.label, "framework": record.framework}


def _microcredential(platform: bootstrap.Platform, name: str, skills: list[str], price: float, hours: float,
                     **extra: Any) -> str:  # fmt: skip
    definition = {**COMPLETE, "name": name, "skills": [_skill(platform, u) for u in skills], "price": price,
                  "workload_hours": hours, **extra}  # fmt: skip
    return platform.catalog.create(
        "tu-example", parse_definition(definition), publish=True, exemption="test fixture"
    ).id


@pytest.fixture
def world(platform: bootstrap.Platform, issuer: Any) -> dict[str, Any]:
    stakeholders = platform.taxonomy.find_label("communicate with stakeholders")
    assert stakeholders is not None
    mcs = {
        "python": _microcredential(platform, "Python basics", [PYTHON], 300, 40),
        "sql": _microcredential(platform, "SQL basics", [SQL], 200, 30, eqf_level=5),
        "docker": _microcredential(platform, "Containers", [DOCKER], 250, 20, suspendable=True),
        "talk": _microcredential(platform, "Stakeholder talk", [stakeholders.uri], 90, 8),
    }
    platform.issuers.create(name="Helix", slug="helix", country="BE", url="https://helix.example")
    with platform.runtime.db.read() as repo:
        helix = repo.organisation_by_slug("helix")
    platform.accounts.create_user("hr@helix.example", "a-long-password", "employer", "helix")
    for email in ("ada@example.org", "bob@example.org", "cy@example.org"):
        platform.accounts.create_user(email, "a-long-password", "learner")
    return {"mcs": mcs, "stakeholders": stakeholders.uri, "helix": helix,
            "hr": Principal("hr@helix.example", "employer", helix.id)}  # fmt: skip


def _award(platform: bootstrap.Platform, mc_id: str, email: str) -> Any:
    return platform.awards.award(AwardRequest(mc_id, email, email.split("@", maxsplit=1)[0].title()))


def _discoverable(platform: bootstrap.Platform, email: str) -> None:
    assert platform.skills.choose_discoverable(email, {h.provenance.ref for h in platform.skills.held(email)}) > 0


def _role(platform: bootstrap.Platform, world: dict[str, Any], skills: list[tuple[str, bool, int]]) -> Any:
    return platform.roles.create(world["hr"], "helix", "Data engineer",
                                 [RoleSkillIn(uri=u, essential=e, importance=i) for u, e, i in skills])  # fmt: skip


def test_the_profile_counts_only_credentials_that_still_hold(
    platform: bootstrap.Platform, world: dict[str, Any], clock: FixedClock
) -> None:
    mcs = world["mcs"]
    kept = _award(platform, mcs["python"], "ada@example.org")
    revoked = _award(platform, mcs["sql"], "ada@example.org")
    suspended = _award(platform, mcs["docker"], "ada@example.org")
    platform.awards.revoke(revoked.id, "plagiarism")
    platform.awards.suspend(suspended.id, "review")
    profile = {s.uri: s for s in platform.skills.profile("ada@example.org")}
    assert set(profile) == {PYTHON}
    (proof,) = profile[PYTHON].evidence
    assert (proof.ref, proof.name, proof.issuer_name, proof.source) == (kept.id, "Python basics", "TU Example", "award")
    assert proof.expires_at is not None and profile[PYTHON].freshness(clock.now()) == "fresh"
    clock._instant = proof.expires_at + timedelta(days=1)  # COMPLETE is valid for 36 months
    assert platform.skills.profile("ada@example.org") == []


def test_nobody_is_discoverable_until_they_opt_in_per_credential(
    platform: bootstrap.Platform, world: dict[str, Any]
) -> None:
    mcs = world["mcs"]
    python = _award(platform, mcs["python"], "ada@example.org")
    _award(platform, mcs["sql"], "ada@example.org")
    role = _role(platform, world, [(PYTHON, True, 3), (SQL, True, 3)])
    assert platform.talent.match(world["hr"], role.id).candidates == []
    platform.skills.set_discoverable("ada@example.org", python.id, True)
    (ada,) = platform.talent.match(world["hr"], role.id).candidates
    assert ada.email == "ada@example.org" and ada.score == 0.5  # SQL stays private: it was not opted in
    assert [p.skill_uri for p in ada.proofs] == [PYTHON] and [m[0] for m in ada.missing] == [SQL]
    platform.skills.set_discoverable("ada@example.org", python.id, False)
    assert platform.talent.match(world["hr"], role.id).candidates == []
    with pytest.raises(NotFound):
        platform.skills.set_discoverable("ada@example.org", "not-mine", True)


def test_candidates_rank_by_weighted_coverage_with_reasons(platform: bootstrap.Platform, world: dict[str, Any]) -> None:
    mcs = world["mcs"]
    for email, names in (("ada@example.org", ["python", "sql"]), ("bob@example.org", ["python"]),
                         ("cy@example.org", ["docker", "talk"])):  # fmt: skip
        for name in names:
            _award(platform, mcs[name], email)
        _discoverable(platform, email)
    role = _role(
        platform, world, [(PYTHON, True, 5), (SQL, True, 3), (DOCKER, False, 1), (world["stakeholders"], False, 1)]
    )
    match = platform.talent.match(world["hr"], role.id)
    assert match.total == 3
    assert [c.email for c in match.candidates] == ["ada@example.org", "bob@example.org", "cy@example.org"]
    assert [round(c.score, 3) for c in match.candidates] == [0.8, 0.5, 0.2]
    ada = match.candidates[0]
    assert {(p.skill_uri, p.credential, p.issuer) for p in ada.proofs} == {
        (PYTHON, "Python basics", "TU Example"), (SQL, "SQL basics", "TU Example")}  # fmt: skip
    assert [label for _u, label, _e in ada.missing] == ["Docker", "communicate with stakeholders"]
    assert ada.level == 6  # EQF of the highest credential that proves a role skill
    # a revocation takes the credential out of every search at once
    (sql_award,) = [a for a in platform.awards.list_awards(email="ada@example.org") if "SQL" in a.credential]
    platform.awards.revoke(sql_award.id, "withdrawn")
    assert [round(c.score, 3) for c in platform.talent.match(world["hr"], role.id).candidates][:2] == [0.5, 0.5]


def test_filters_by_country_issuer_and_type(platform: bootstrap.Platform, world: dict[str, Any]) -> None:
    mcs = world["mcs"]
    for email in ("ada@example.org", "bob@example.org"):
        _award(platform, mcs["python"], email)
        _discoverable(platform, email)
    platform.skills.set_country("ada@example.org", "nl")
    role = _role(platform, world, [(PYTHON, True, 3)])
    assert [c.email for c in platform.talent.match(world["hr"], role.id, country="NL").candidates] == [
        "ada@example.org"
    ]
    assert len(platform.talent.match(world["hr"], role.id, issuer="TU Example").candidates) == 2
    assert platform.talent.match(world["hr"], role.id, issuer="Other University").candidates == []
    assert len(platform.talent.match(world["hr"], role.id, achievement_type="MicroCredential").candidates) == 2
    assert platform.talent.match(world["hr"], role.id, achievement_type="Degree").candidates == []
    with pytest.raises(InputError):
        platform.talent.match(world["hr"], role.id, country="Netherlands")
    with pytest.raises(InputError):
        platform.skills.set_country("ada@example.org", "N1")


def test_the_shortlist_csv_cannot_smuggle_formulas(platform: bootstrap.Platform, world: dict[str, Any]) -> None:
    platform.accounts.create_user("eve@example.org", "a-long-password", "learner", name="=HYPERLINK(1)")
    _award(platform, world["mcs"]["python"], "eve@example.org")
    _discoverable(platform, "eve@example.org")
    role = _role(platform, world, [(PYTHON, True, 3), (SQL, True, 1)])
    rows = list(csv.reader(io.StringIO(platform.talent.shortlist_csv(world["hr"], role.id))))
    assert rows[0][:5] == ["rank", "name", "email", "country", "score"]
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][4] == "0.750" and "SQL" in rows[1][6]
    assert "Python basics" in rows[1][7]


def test_roles_from_an_occupation_a_text_or_skills_and_who_may_see_them(
    platform: bootstrap.Platform, world: dict[str, Any]
) -> None:
    analyst = next(o for o in platform.taxonomy.taxonomy.occupations if o.label == "data analyst")
    skills = platform.roles.from_occupation(analyst.uri)
    essential = [s for s in skills if s.essential]
    assert len(essential) == len(analyst.essential) and len(skills) == len(analyst.essential) + len(analyst.optional)
    role = platform.roles.create(
        world["hr"], "helix", "Analyst", skills, occupation_uri=analyst.uri, source="occupation"
    )
    assert role.source == "occupation" and len(role.skills) == len(skills)
    from_text = platform.roles.from_text("We want someone fluent in Python and SQL who deploys with Docker.")
    assert {s.uri for s in from_text} >= {PYTHON, SQL, DOCKER}
    edited = platform.roles.update(world["hr"], role.id, skills=[RoleSkillIn(uri=PYTHON, essential=True, importance=5)])
    assert [(s.uri, s.importance) for s in edited.skills] == [(PYTHON, 5)]
    other = Principal("staff@tu.example", "issuer_staff", 999)
    with pytest.raises(NotFound):
        platform.roles.get(other, role.id)
    with pytest.raises(ForbiddenError):
        platform.roles.create(Principal("x@example.org", "learner", None), "helix", "X", skills)
    with pytest.raises(InputError):
        platform.roles.create(world["hr"], "helix", "Empty", [])
    with pytest.raises(NotFound):
        platform.roles.create(world["hr"], "helix", "Unknown", [RoleSkillIn(uri="https://example.org/no-such-skill")])
    with pytest.raises(ForbiddenError):
        platform.talent.match(Principal("ada@example.org", "learner", None), role.id)


def test_gap_and_an_optimal_plan_with_prerequisites(platform: bootstrap.Platform, world: dict[str, Any]) -> None:
    mcs = world["mcs"]
    _award(platform, mcs["python"], "ada@example.org")
    bundle = _microcredential(platform, "SQL and Docker", [SQL, DOCKER], 600, 60)
    _microcredential(platform, "Advanced containers", [DOCKER], 100, 10, prerequisite_microcredentials=[mcs["sql"]])
    role = _role(platform, world, [(PYTHON, True, 3), (SQL, True, 3), (DOCKER, True, 2), (MUSIC, False, 1)])
    target = platform.learning.target(world["hr"], role_id=role.id)
    gap = platform.learning.gap("ada@example.org", target)
    assert [u for u, *_ in gap.covered] == [PYTHON] and {u for u, *_ in gap.missing} == {SQL, DOCKER, MUSIC}
    _gap, plan = platform.learning.recommend("ada@example.org", target)
    assert plan.optimal and [o.name for o in plan.offers] == ["SQL basics", "Advanced containers"]  # 300 < 450 < 600
    assert plan.total("price") == 300 and plan.unreachable == [MUSIC]
    _gap, by_hours = platform.learning.recommend("ada@example.org", target, minimize="hours")
    assert by_hours.total("hours") == 40 and [o.name for o in by_hours.offers] == ["SQL basics", "Advanced containers"]
    _gap, tight = platform.learning.recommend("ada@example.org", target, budget=250)
    assert [o.name for o in tight.offers] == ["SQL basics"] and set(tight.uncovered) == {DOCKER, MUSIC}  # weight 3 > 2
    assert bundle in platform.learning.catalogue()
    with pytest.raises(InputError):
        platform.learning.recommend("ada@example.org", target, budget=-1)
    with pytest.raises(InputError):
        platform.catalog.create("tu-example", parse_definition({**COMPLETE, "prerequisite_microcredentials": ["nope"]}))


def test_catalogue_search_by_every_facet(platform: bootstrap.Platform, world: dict[str, Any]) -> None:
    from microcred.services.learning import CatalogueFilter as F

    names = lambda where: sorted(i.offer.name for i in platform.learning.search_catalogue(where))  # noqa: E731
    assert names(F(text="python")) == ["Python basics"]
    assert names(F(skill=SQL)) == ["SQL basics"] and names(F(skill="docker")) == ["Containers"]
    assert names(F(max_price=200)) == ["SQL basics", "Stakeholder talk"]
    assert names(F(max_hours=10)) == ["Stakeholder talk"]
    assert names(F(level=5)) == ["SQL basics"]
    assert names(F(provider="tu example", delivery_mode="online", language="en")) == []  # COMPLETE names no language
    assert len(names(F(provider="TU", delivery_mode="online"))) == 4


def test_the_team_view_counts_shared_learners_only(platform: bootstrap.Platform, world: dict[str, Any]) -> None:
    mcs = world["mcs"]
    _award(platform, mcs["python"], "ada@example.org")
    _award(platform, mcs["sql"], "bob@example.org")
    _award(platform, mcs["sql"], "cy@example.org")
    platform.skills.share("ada@example.org", "helix", True)
    platform.skills.share("bob@example.org", "helix", True)
    role = _role(platform, world, [(PYTHON, True, 3), (SQL, True, 1)])
    view = platform.talent.team(world["hr"], [role.id])
    assert [name for _id, name in view.members] == ["ada@example.org", "bob@example.org"]  # no names given: addresses
    assert sorted(len(c) for c in view.coverage.values()) == [1, 1]
    assert [(label, n) for _u, label, n, _w in view.gaps] == [("Python (computer programming)", 1), ("SQL", 1)]
    platform.skills.share("bob@example.org", "helix", False)
    assert len(platform.talent.team(world["hr"], [role.id]).members) == 1


def test_an_unconfirmed_address_cannot_publish_what_was_awarded_to_it(
    platform: bootstrap.Platform, world: dict[str, Any]
) -> None:
    platform.accounts.create_user("mallory@example.org", "a-long-password", "learner", verified=False)
    award = _award(platform, world["mcs"]["python"], "mallory@example.org")
    with pytest.raises(ForbiddenError):
        platform.skills.set_discoverable("mallory@example.org", award.id, True)
    assert platform.skills.refresh("mallory@example.org") == 0
