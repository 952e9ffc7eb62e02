"""Skills journeys in a real headless Chromium: a learner opts in and plans to close a gap; an employer describes
a role from a pasted advertisement and from an occupation, weights it, sees ranked candidates with reasons,
downloads the shortlist and sees the team heatmap."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from microcred.services.awarding import AwardRequest
from microcred.services.issuing import parse_definition
from tests.platform_fixtures import COMPLETE
from tests.web.conftest import PASSWORD, Live, screenshot, sign_in

pytestmark = pytest.mark.enable_socket
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SQL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"
DOCKER = "https://www.onetonline.org/search/tech?s=Docker"
AD = "Data engineer wanted. You write Python and SQL every day and ship containers with Docker."


@pytest.fixture(scope="module")
def skills_world(live: Live) -> dict[str, Any]:
    platform = live.platform
    platform.issuers.create(name="Helix Logistics", slug="helix-web", country="BE")
    platform.accounts.create_user("hr@helix.example", PASSWORD, "employer", "helix-web", name="Hana HR")
    made = {}
    for name, skill, label, price, hours in (
        ("SQL for Analysts", SQL, "SQL", 200, 30), ("Docker in Practice", DOCKER, "Docker", 150, 20),
        ("Containers and SQL Bootcamp", DOCKER, "Docker", 900, 80),
    ):  # fmt: skip
        definition = {**COMPLETE, "name": name, "price": price, "workload_hours": hours,
                      "skills": [{"uri": skill, "label": label}]}  # fmt: skip
        made[name] = platform.catalog.create(
            "tu-example", parse_definition(definition), publish=True, exemption="test fixture"
        ).id
    python = platform.catalog.create(
        "tu-example", parse_definition(COMPLETE), publish=True, exemption="test fixture"
    ).id  # teaches Python
    for email, name in (("lea@example.org", "Lea Learner"), ("max@example.org", "Max Private")):
        platform.accounts.create_user(email, PASSWORD, "learner", name=name)
        platform.awards.award(AwardRequest(python, email, name))
    return made


def test_learner_opts_in_shares_and_plans_to_close_a_gap(
    new_page: Any, live: Live, skills_world: dict[str, Any]
) -> None:
    page = new_page()
    sign_in(page, "lea@example.org")
    page.get_by_role("link", name="My skills").click()
    expect(page.get_by_role("table")).to_contain_text("Python (computer programming)")
    expect(page.locator("footer")).to_contain_text(
        "This service uses the ESCO classification of the European Commission."
    )
    box = page.get_by_label("Data Analytics with Python (TU Example)")
    expect(box).not_to_be_checked()  # nobody is discoverable until they choose
    box.check()
    page.get_by_label("My country (two letters, for employers' filters)").fill("NL")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator(".flash")).to_contain_text("employers find you only through the credentials you ticked")
    expect(page.get_by_label("Data Analytics with Python (TU Example)")).to_be_checked()
    page.get_by_role("button", name="Share with Helix Logistics").click()
    expect(page.locator("main")).to_contain_text("Helix Logistics: shared")
    page.get_by_role("link", name="Close a skills gap").click()
    page.get_by_label("Find a target occupation").fill("data analyst")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("data analyst", exact=True).check()
    page.get_by_label("Plan for the lowest").select_option("hours")
    page.get_by_role("button", name="Show my gap and plan").click()
    expect(page.locator("#gap-h")).to_contain_text("data analyst:")
    expect(page.locator("#plan-h")).to_be_visible()
    screenshot(page, "learner-plan-occupation")


def test_employer_builds_roles_finds_candidates_and_sees_the_team(
    new_page: Any, live: Live, skills_world: dict[str, Any]
) -> None:
    learner = new_page()  # Lea has opted in (previous test's choice is data; make sure it holds on its own)
    platform = live.platform
    for held in platform.skills.held("lea@example.org"):
        platform.skills.set_discoverable("lea@example.org", held.provenance.ref, True)
    platform.skills.share("lea@example.org", "helix-web", True)
    page = new_page()
    sign_in(page, "hr@helix.example")
    assert page.url.endswith("/talent")  # employers start at their talent search, not an empty wallet
    expect(page.get_by_role("link", name="Wallet")).to_have_count(0)
    page.get_by_role("link", name="Talent").click()
    page.get_by_label("Title of the advertised role").fill("Data engineer")
    page.get_by_label("Job advertisement", exact=True).fill(AD)
    page.get_by_role("button", name="Extract the skills and create the role").click()
    expect(page.locator(".flash")).to_contain_text("Role saved with")
    skills_table = page.locator("#skills-h + form table")
    for label in ("Python (computer programming)", "SQL", "Docker"):
        expect(skills_table).to_contain_text(label)
    page.get_by_label("Importance of Python (computer programming)").fill("5")
    page.get_by_label("Add a skill (its URI, or words to search)").fill("communicate with stakeholders")
    page.get_by_role("button", name="Save the role").click()
    expect(page.locator(".flash")).to_contain_text("Role updated.")
    expect(page.get_by_label("Importance of Python (computer programming)")).to_have_value("5")
    expect(skills_table).to_contain_text("communicate with stakeholders")
    candidates = page.get_by_role("list", name="Candidates")
    expect(candidates).to_contain_text("Lea Learner")
    expect(candidates).not_to_contain_text("Max Private")  # never opted in
    lea = candidates.locator("li.candidate").first
    lea.get_by_text("Why: which credential proves which skill").click()
    expect(lea).to_contain_text("Python (computer programming) ← Data Analytics with Python")
    expect(lea).to_contain_text("Missing:")
    page.get_by_label("Country (2 letters)").fill("DE")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("list", name="Candidates")).not_to_contain_text("Lea Learner")
    page.get_by_label("Country (2 letters)").fill("NL")
    page.get_by_role("button", name="Filter").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the shortlist (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[1][1] == "Lea Learner" and rows[1][3] == "NL"
    screenshot(page, "employer-candidates")
    page.get_by_role("link", name="Job roles").click()
    page.get_by_label("Find an occupation").fill("data analyst")
    page.get_by_role("button", name="Search occupations").click()
    page.get_by_label("data analyst (", exact=False).first.check()
    page.get_by_role("button", name="Create the role from this occupation").click()
    expect(page.locator("h1")).to_have_text("data analyst")
    page.get_by_role("link", name="Team skills").click()
    page.get_by_label("Data engineer").check()
    page.get_by_role("button", name="Show coverage").click()
    heatmap = page.get_by_role("img", name="Skill coverage")
    expect(heatmap).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("SQL")
    screenshot(page, "employer-team-heatmap")
    learner.close()
