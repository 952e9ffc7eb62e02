"""Pathway journeys in a real headless Chromium: an issuer designs a pathway, a learner earns the parts
and receives the signed roll-up, the issuer sees learners per stage, and degree credit runs end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from microcred.services.awarding import AwardRequest
from microcred.services.issuing import parse_definition
from microcred.standards.rollup import verify_with_parts
from tests.platform_fixtures import COMPLETE
from tests.web.conftest import PASSWORD, Live, screenshot, sign_in

pytestmark = pytest.mark.enable_socket


@pytest.fixture(scope="module")
def modules(live: Live) -> list[str]:
    out = []
    for name, ects in (("Data Wrangling", 4), ("Statistics for Analysts", 3), ("Data Visualisation", 3)):
        definition = {**COMPLETE, "name": name, "ects": ects}
        out.append(
            live.platform.catalog.create(
                "tu-example", parse_definition(definition), publish=True, exemption="test fixture"
            ).id
        )
    return out


def _design(page: Any, modules: list[str], name: str, approval: str = "auto") -> str:
    page.goto("/console/pathways/new")
    page.get_by_label("Name of the larger credential", exact=True).fill(name)
    page.get_by_label("Description", exact=True).fill("Wrangling plus one more module.")
    page.get_by_label("When a learner completes it", exact=True).select_option(approval)
    requirements = {"all_of": [{"microcredential": modules[0], "id": "core"},
                               {"at_least": 1, "of": [{"microcredential": m} for m in modules[1:]]}]}  # fmt: skip
    page.get_by_label("Requirements", exact=False).fill(json.dumps(requirements))
    page.get_by_role("button", name="Show the tree").click()
    preview = page.get_by_role("list", name="Pathway preview")
    expect(preview).to_contain_text("All of")
    expect(preview).to_contain_text("At least 1 of")
    expect(preview).to_contain_text("Data Wrangling · 4 ECTS")
    page.get_by_role("button", name="Save pathway").click()
    expect(page.locator("main")).to_contain_text(f"Pathway “{name}” saved.")
    return page.url.rsplit("/", 1)[-1]


def _learner(live: Live, email: str) -> None:
    live.platform.accounts.create_user(email, PASSWORD, "learner", name=email.split("@", maxsplit=1)[0].title())


def test_design_earn_receive_and_stage_view(new_page: Any, live: Live, modules: list[str]) -> None:
    issuer = new_page()
    sign_in(issuer, "admin@tu.example")
    issuer.goto("/console/pathways/new")
    issuer.get_by_label("Name of the larger credential", exact=True).fill("Broken")
    issuer.get_by_label("Description", exact=True).fill("x")
    issuer.get_by_label("Requirements", exact=False).fill('{"at_least": 3, "of": [{"microcredential": "nope"}]}')
    issuer.get_by_role("button", name="Save pathway").click()
    expect(issuer.get_by_role("alert")).to_contain_text("at_least must be a whole number from 1 to 1")
    pathway_id = _design(issuer, modules, "Certificate in Data Analytics")
    screenshot(issuer, "pathway-designer-saved")

    _learner(live, "ines@learners.example")
    learner = new_page()
    sign_in(learner, "ines@learners.example")
    parts = [live.platform.awards.award(AwardRequest(modules[0], "ines@learners.example", "Ines"))]
    learner.goto("/wallet/pathways")
    progress = learner.get_by_role("list", name="Progress on Certificate in Data Analytics")
    expect(progress.locator(".done")).to_contain_text("done: Data Wrangling")
    expect(progress.locator(".open").first).to_contain_text("still needed")
    expect(learner.locator("main")).to_contain_text("57.1% done")  # 4 of 7 ECTS
    parts.append(live.platform.awards.award(AwardRequest(modules[2], "ines@learners.example", "Ines")))
    learner.reload()
    expect(learner.locator("main")).to_contain_text("Complete")
    expect(learner.locator("main")).to_contain_text("You received this credential")
    screenshot(learner, "pathway-learner-progress")
    learner.get_by_role("link", name="See it in your wallet").click()
    expect(learner.locator("main")).to_contain_text("Certificate in Data Analytics")

    with live.platform.runtime.db.read() as repo:
        completion = repo.completion(pathway_id, "ines@learners.example")
    rollup = json.loads(live.platform.awards.signed_json(completion.award_id))
    report = verify_with_parts(live.platform.credentials.verifier, rollup, [p.credential for p in parts])
    assert report.verified and report.status_of("parts") == "passed", report.to_json()

    _learner(live, "omar@learners.example")
    live.platform.awards.award(AwardRequest(modules[1], "omar@learners.example", "Omar"))
    issuer.goto(f"/console/pathways/{pathway_id}")
    stages = issuer.get_by_role("list", name="Pathway with learner counts")
    expect(stages.locator("[data-node='core'] > .count")).to_have_text("1 learner")
    expect(stages.locator("[data-node='r'] > .count")).to_have_text("1 learner")
    expect(stages.locator("[data-node='r.2'] > .count")).to_have_text("2 learners")
    expect(issuer.get_by_role("list", name="Learners")).to_contain_text("2 started")
    screenshot(issuer, "pathway-issuer-stages")


def test_approval_then_degree_credit_through_the_inbox(new_page: Any, live: Live, modules: list[str]) -> None:
    issuer = new_page()
    sign_in(issuer, "admin@tu.example")
    pathway_id = _design(issuer, modules, "Diploma in Analytics", approval="issuer")
    _learner(live, "lea@learners.example")
    for mc_id in modules[:2]:
        live.platform.awards.award(AwardRequest(mc_id, "lea@learners.example", "Lea"))
    issuer.goto(f"/console/pathways/{pathway_id}")
    issuer.get_by_role("button", name="Approve for lea@learners.example").click()
    expect(issuer.locator("main")).to_contain_text("Roll-up approved and issued.")

    issuer.goto("/console/recognition")
    issuer.get_by_label("Programme", exact=True).fill("BSc Data Science")
    issuer.get_by_label("Course code", exact=True).fill("DS-201")
    issuer.get_by_label("Credits", exact=True).fill("6")
    issuer.get_by_label("Recognised credential", exact=True).select_option(f"pathway:{pathway_id}")
    issuer.get_by_role("button", name="Add rule").click()
    expect(issuer.locator("main")).to_contain_text("Recognition rule saved.")

    learner = new_page()
    sign_in(learner, "lea@learners.example")
    learner.goto("/wallet/recognition")
    learner.get_by_label("Programme and course", exact=True).select_option(
        label="BSc Data Science: DS-201 (6.0 credits)"
    )
    learner.get_by_label("Statistics for Analysts", exact=False).check()
    learner.get_by_role("button", name="Send request").click()
    expect(learner.locator("main")).to_contain_text("Not sent: none of the submitted credentials")
    learner.get_by_label("Diploma in Analytics", exact=False).check()
    learner.get_by_role("button", name="Send request").click()
    expect(learner.locator("main")).to_contain_text("Request sent")

    issuer.goto("/console/recognition")
    issuer.get_by_label("Note to lea@learners.example", exact=True).fill("Recognised in full")
    issuer.get_by_role("button", name="Approve credit for lea@learners.example").click()
    expect(issuer.locator("main")).to_contain_text("Credit approved and issued.")
    screenshot(issuer, "recognition-inbox")

    learner.reload()
    expect(learner.get_by_role("region", name="Credit earned")).to_contain_text("6.0 credits in BSc Data Science")
    expect(learner.locator("main")).to_contain_text("approved — Recognised in full")
    learner.get_by_role("link", name="credit credential").click()
    expect(learner.locator("main")).to_contain_text("DS-201: credit in BSc Data Science")
    learner.goto("/wallet/pathways")
    learner.get_by_role("link", name="My learner record (CLR)").click()
    expect(learner.get_by_role("region", name="In the record")).to_be_visible()
    with learner.expect_download() as download:
        learner.get_by_role("link", name="Download my learner record (JSON)").click()
    clr = json.loads(download.value.path().read_text())
    assert "ClrCredential" in clr["type"] and live.platform.credentials.verify(clr).verified
