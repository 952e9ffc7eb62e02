"""A new visitor, learner and issuer on a desktop (1280 px) and a phone (390 px): the verdict is the first
thing on a credential page, a tampered credential never looks genuine, the catalogue leads to a page per
microcredential, the wallet shows badges, a draft is published before it is awarded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from microcred.services.awarding import AwardRequest
from microcred.services.issuing import parse_definition
from tests.platform_fixtures import COMPLETE
from tests.web.conftest import PASSWORD, Live, screenshot, sign_in

pytestmark = pytest.mark.enable_socket
WIDTHS = [1280, 390]


def _public_award(live: Live, email: str) -> Any:
    platform = live.platform
    mc_id = next(r for r in platform.learning.catalogue())
    with platform.runtime.db.read() as repo:
        known = repo.user_by_email(email)
    if known is None:
        platform.accounts.create_user(email, PASSWORD, "learner", name="Mei Chen")
    outcome = platform.awards.award(AwardRequest(mc_id, email, "Mei Chen"))
    with platform.runtime.db.transaction() as repo:
        repo.award(outcome.id).public = True
    return outcome


def _in_first_screen(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] + 40 < page.viewport_size["height"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_visitor_reads_the_verdict_first_and_can_share(new_page: Any, live: Live, width: int) -> None:
    outcome = _public_award(live, f"mei.{width}@example.org")
    page = new_page(width)
    page.goto(f"/credentials/{outcome.id}")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Verified")
    expect(verdict).to_contain_text("Issued by TU Example to Mei Chen")
    assert _in_first_screen(page, "#verdict .verdict-sentence"), "the verdict must be on the first screen"
    expect(page.locator("details.technical")).not_to_have_attribute("open", "")  # one click away
    share = page.get_by_role("region", name="Share")
    expect(share.get_by_role("link", name="Share on LinkedIn")).to_be_visible()
    expect(share.get_by_role("link", name="Download PDF")).to_be_visible()
    qr = share.get_by_role("img", name="QR code linking to this credential page")
    qr.scroll_into_view_if_needed()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code must render"
    share.get_by_role("button", name="Copy link").click()
    expect(share.get_by_role("button", name="Copied")).to_be_visible()
    screenshot(page, f"public-credential-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_tampered_credential_is_shown_as_a_claim_in_view(new_page: Any, live: Live, width: int) -> None:
    outcome = _public_award(live, f"mei.t{width}@example.org")
    tampered = json.loads(json.dumps(outcome.credential))
    tampered["credentialSubject"]["achievement"]["name"] = "Data Analytics (Distinction)"
    page = new_page(width)
    page.goto("/verify")
    page.get_by_label("Paste the credential (JSON or JWT)", exact=True).fill(json.dumps(tampered))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verdict h2")).to_have_text("Not verified")
    assert _in_first_screen(page, "#verdict h2"), "the result must come into view"
    claim = page.locator("article.credential")
    expect(claim).to_have_class("credential claimed claimed-failed")
    expect(claim).to_contain_text("What it claims — not verified")
    expect(claim.locator("img.badge-img")).to_have_count(0)
    screenshot(page, f"verify-tampered-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_catalogue_cards_lead_to_the_microcredential_page(new_page: Any, live: Live, width: int) -> None:
    page = new_page(width)
    page.goto("/catalogue")
    card = page.locator(".entry").first
    expect(card).not_to_contain_text("0.0 EUR")
    expect(card).not_to_contain_text("? hours")
    card.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="What you learn")).to_be_visible()
    expect(page.get_by_role("heading", name="How to earn it")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # nothing sideways
    screenshot(page, f"microcredential-page-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_wallet_shows_badges(new_page: Any, live: Live, width: int) -> None:
    email = f"mei.w{width}@example.org"
    _public_award(live, email)
    page = new_page(width)
    sign_in(page, email)
    assert page.url.endswith("/wallet")
    entry = page.locator(".entry").first
    loaded = (  # wait for the image if it is still on its way (a loaded machine), then check it decoded
        "img => img.complete ? img.naturalWidth > 0 : new Promise(done => {"
        " img.addEventListener('load', () => done(img.naturalWidth > 0));"
        " img.addEventListener('error', () => done(false)); })"
    )
    assert entry.locator("img.badge-thumb").evaluate(loaded)
    expect(entry.locator(".status")).to_have_text("Valid")
    screenshot(page, f"wallet-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_issuer_publishes_a_draft_before_awarding_it(new_page: Any, live: Live, width: int) -> None:
    draft = live.platform.catalog.create("tu-example", parse_definition({**COMPLETE, "name": f"Draft {width}"}))
    page = new_page(width)
    sign_in(page, "admin@tu.example")
    page.goto(f"/console/microcredentials/{draft.id}")
    expect(page.get_by_role("region", name="Draft Not in the catalogue yet")).to_be_visible()
    expect(page.get_by_role("link", name="Award it")).to_have_count(0)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash")).to_contain_text("is published")
    page.get_by_role("link", name="Award it").click()
    page.get_by_label("Learner email", exact=True).fill(f"new.{width}@example.org")
    page.get_by_label("Expires on", exact=False).fill("2028-06-30")
    page.get_by_role("button", name="Sign and award").click()
    expect(page.locator("main")).to_contain_text("not claimed")
    expect(page.locator("main")).to_contain_text("valid until 30 Jun 2028")
    screenshot(page, f"issuer-award-{width}")
