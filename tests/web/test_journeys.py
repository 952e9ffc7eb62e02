"""The journeys of the web issue, in a real headless Chromium against a live server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from microcred import bootstrap
from microcred.services.credentials import SignRequest
from microcred.services.samples import data_analytics_microcredential
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair
from tests.web.conftest import PASSWORD, Live, screenshot, sign_in

pytestmark = pytest.mark.enable_socket


def _design(page: Any, name: str) -> None:
    page.goto("/console/microcredentials/new")
    page.get_by_label("Title", exact=True).fill(name)
    page.get_by_label("Description", exact=True).fill("Build and run reproducible data pipelines.")
    page.get_by_label("Learning outcomes (one per line)", exact=True).fill("Design a pipeline\nTest a pipeline")
    page.get_by_label("Notional workload (hours)", exact=True).fill("50")
    page.get_by_label("ECTS credits", exact=True).fill("2")
    page.get_by_label("EQF level", exact=True).select_option("6")
    page.get_by_label("Form of participation", exact=True).select_option("online")
    page.get_by_label("Type of assessment", exact=True).fill("Graded project")
    page.get_by_label("Quality assurance", exact=True).fill("Internal review board")
    page.get_by_label("Find a skill", exact=True).fill("python")
    page.get_by_role("button", name="Python (computer programming) (ESCO)").click()
    # The live preview and the EU meter follow the form.
    expect(page.locator("#preview h1")).to_contain_text("Pipelines")
    expect(page.locator("#eu-text")).to_contain_text("8 of 8 mandatory elements: complete")
    assert page.locator("#eu-meter").evaluate("m => m.value") == 8
    page.get_by_role("button", name="Save microcredential").click()
    page.wait_for_load_state()


def test_design_award_claim_download_verify_revoke(new_page: Any, live: Live, tmp_path: Path) -> None:
    issuer = new_page()
    sign_in(issuer, "admin@tu.example")
    _design(issuer, "Data Pipelines")
    assert "Saved “Data Pipelines”" in issuer.text_content("main") and "a draft" in issuer.text_content("main")
    assert "All EU mandatory elements are present" in issuer.text_content("main")
    expect(issuer.get_by_role("link", name="Award it")).to_have_count(0)  # a draft cannot be awarded
    issuer.get_by_role("button", name="Publish").click()
    assert "is published" in issuer.text_content("main")
    issuer.get_by_role("link", name="Award it").click()
    issuer.get_by_label("Learner email", exact=True).fill("new.learner@example.org")
    issuer.get_by_label("Learner name", exact=True).fill("Noor Haddad")
    issuer.get_by_role("button", name="Sign and award").click()
    assert "not claimed" in issuer.text_content("main")
    award_url = issuer.url

    learner = new_page()
    learner.goto(live.mail_link("new.learner@example.org", "/claim/"))
    learner.get_by_label("Your name", exact=True).fill("Noor Haddad")
    learner.get_by_label("New password (at least 12 characters)", exact=True).fill(PASSWORD)
    learner.get_by_role("button", name="Create wallet and claim").click()
    assert "Claimed" in learner.text_content("main")
    assert learner.locator(".verdict h2").text_content().strip() == "Verified"
    with learner.expect_download() as info:
        learner.get_by_role("link", name="Baked badge (PNG)").click()
    baked = tmp_path / "badge.png"
    info.value.save_as(baked)
    assert baked.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    screenshot(learner, "wallet-credential")

    issuer.goto(award_url)
    assert "claimed" in issuer.text_content("main") and "not claimed" not in issuer.text_content("main")

    visitor = new_page()
    visitor.goto("/verify")
    visitor.get_by_label("Or choose a file: JSON, JWT, baked PNG or SVG badge", exact=True).set_input_files(str(baked))
    visitor.get_by_role("button", name="Verify").click()
    assert visitor.locator(".verdict h2").first.text_content().strip() == "Verified"
    screenshot(visitor, "verify-verified")

    issuer.goto(award_url)
    issuer.get_by_label("Reason (shown in the audit log)", exact=True).fill("Issued to the wrong person")
    asked: list[str] = []
    issuer.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    issuer.get_by_label("I understand that revoking is final", exact=False).check()
    issuer.get_by_role("button", name="Revoke permanently").click()
    assert asked and "final" in asked[0]  # dismissed: nothing happened
    expect(issuer.get_by_role("heading", name="Revoke")).to_be_visible()
    issuer.once("dialog", lambda dialog: dialog.accept())
    issuer.get_by_role("button", name="Revoke permanently").click()
    assert "revoked" in issuer.text_content("main")
    expect(issuer.get_by_role("button", name="Send the claim link again")).to_have_count(0)

    visitor.goto("/verify")
    visitor.get_by_label("Or choose a file: JSON, JWT, baked PNG or SVG badge", exact=True).set_input_files(str(baked))
    visitor.get_by_role("button", name="Verify").click()
    assert visitor.locator(".verdict h2").first.text_content().strip() == "Revoked"
    assert "revoked" in visitor.locator(".check.failed").first.text_content()
    screenshot(visitor, "verify-revoked")


def _external_credential(tmp_path: Path, email: str = "holder@example.org") -> Path:
    key = Ed25519KeyPair.generate()
    issuer = did_key_for(key.public_bytes)
    credential = data_analytics_microcredential(
        issuer,
        "did:example:learner",
        datetime.now(UTC).replace(microsecond=0),
        "urn:uuid:0b0f3a54-1c7e-4a51-9a43-2f1b1b4f9e11",
        email,
    )
    signed = bootstrap.build_credential_service(bootstrap.Options({})).sign(SignRequest(credential, key))
    path = tmp_path / "external.json"
    path.write_text(json.dumps(signed))
    return path


def test_wallet_imports_an_external_credential_once_and_exports_it(new_page: Any, live: Live, tmp_path: Path) -> None:
    live.platform.accounts.create_user("holder@example.org", PASSWORD, "learner", name="Mei Chen")
    page = new_page()
    sign_in(page, "holder@example.org")
    external = _external_credential(tmp_path)
    for attempt in range(2):
        page.goto("/wallet/import")
        page.get_by_label(
            "Choose a file: JSON, JWT, baked PNG or SVG badge, or a wallet zip", exact=True
        ).set_input_files(str(external))
        page.get_by_role("button", name="Verify and add").click()
        if attempt == 0:
            assert "Added “Data Analytics with Python”" in page.text_content("main")
            assert page.locator(".verdict h2").text_content().strip() == "Verified"
        else:
            assert "already in your wallet" in page.text_content("main")
    page.goto("/wallet")
    assert page.locator(".entry").count() == 1 and "Valid" in page.locator(".entry").text_content()
    with page.expect_download() as info:
        page.get_by_role("link", name="Export wallet (zip)").click()
    exported = tmp_path / "wallet.zip"
    info.value.save_as(exported)
    page.goto("/wallet")
    page.locator(".entry a").click()
    page.get_by_role("button", name="Remove from wallet").click()
    assert page.locator(".entry").count() == 0
    page.goto("/wallet/import")
    page.get_by_label("Choose a file: JSON, JWT, baked PNG or SVG badge, or a wallet zip", exact=True).set_input_files(
        str(exported)
    )
    page.get_by_role("button", name="Verify and add").click()
    assert "Imported 1" in page.text_content("main") and page.locator(".entry").count() == 1


def test_tampered_import_is_refused_with_reasons(new_page: Any, live: Live, tmp_path: Path) -> None:
    live.platform.accounts.create_user("careful@example.org", PASSWORD, "learner")
    page = new_page()
    sign_in(page, "careful@example.org")
    credential = json.loads(_external_credential(tmp_path, "careful@example.org").read_text())
    credential["credentialSubject"]["achievement"]["name"] = "Data Analytics (Distinction)"
    page.goto("/wallet/import")
    page.get_by_label("Or paste it (JSON or JWT)", exact=True).fill(json.dumps(credential))
    page.get_by_role("button", name="Verify and add").click()
    assert "does not verify, so it was not imported" in page.text_content("main")
    assert page.locator(".verdict h2").text_content().strip() == "Not verified"
    page.goto("/wallet")
    assert page.locator(".entry").count() == 0


def test_bulk_upload_reports_the_bad_row(new_page: Any, live: Live, tmp_path: Path) -> None:
    page = new_page()
    sign_in(page, "admin@tu.example")
    rows = tmp_path / "cohort.csv"
    rows.write_text(
        "email,name\nlars.nielsen@example.org,Lars Nielsen\nnot-an-email,Broken Row\nzofia.nowak@example.org,Zofia Nowak\n"
    )
    page.goto("/console/bulk")
    page.get_by_label("Microcredential for rows that name none", exact=True).select_option(
        label="Data Analytics with Python"
    )
    page.get_by_label("CSV or JSONL file", exact=True).set_input_files(str(rows))
    page.get_by_role("button", name="Upload and award").click()
    expect(page.locator("[data-field=state]")).to_have_text("finished", timeout=30_000)
    assert page.locator("[data-field=issued]").text_content() == "2"
    assert page.locator("[data-field=failed]").text_content() == "1"
    assert "not-an-email" in page.locator("table").text_content()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the error rows (CSV)").click()
    errors = tmp_path / "errors.csv"
    info.value.save_as(errors)
    assert "not-an-email" in errors.read_text() and "lars" not in errors.read_text()
    screenshot(page, "console-bulk-job")


def test_designer_works_with_the_keyboard_alone(new_page: Any, live: Live) -> None:
    page = new_page()
    sign_in(page, "admin@tu.example")
    page.goto("/console/microcredentials/new")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for target, text in (("f-name", "Keyboard Course"), ("f-description", "Made without a mouse.")):
        for _ in range(60):
            if page.evaluate("document.activeElement.id") == target:
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == target
        page.keyboard.type(text)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    for _ in range(200):
        if page.evaluate("document.activeElement.textContent") == "Save microcredential":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Saved “Keyboard Course”" in page.text_content("main")


def test_pages_fit_a_360_pixel_screen(new_page: Any, live: Live) -> None:
    page = new_page(width=360)
    sign_in(page, "admin@tu.example")
    for path in ("/", "/verify", "/console", "/console/microcredentials/new", "/console/awards", "/wallet"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
