"""A learner connects another platform to their wallet in a real browser, at 1280 px and 390 px: the
consent page names the application and what it asks, Allow goes back to the application (the page's
Content-Security-Policy lets that one form leave the site, which only a browser enforces), and the
Connections page lists the application until the learner disconnects it."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from microcred.services.awarding import AwardRequest
from tests.ob3_helpers import REDIRECT, REGISTRATION, authorize_params, basic, bearer
from tests.web.conftest import PASSWORD, Live, screenshot, sign_in

pytestmark = pytest.mark.enable_socket


def _learner(live: Live, email: str) -> None:
    platform = live.platform
    platform.accounts.create_user(email, PASSWORD, "learner", name="Grace Hopper")
    mc_id = next(iter(platform.learning.catalogue()))
    platform.awards.award(AwardRequest(mc_id, email, "Grace Hopper"))


@pytest.mark.parametrize("width", [1280, 390])
def test_a_learner_allows_an_application_and_disconnects_it(live: Live, new_page: Any, width: int) -> None:
    email = f"grace{width}@example.org"
    _learner(live, email)
    registration = live.platform.oauth.register(REGISTRATION, "127.0.0.1")
    verifier = secrets.token_urlsafe(48)
    params = authorize_params(registration, verifier)
    page = new_page(width)
    # the application's own site is not reachable from the test: answer for it, and note where we were sent
    arrived: list[str] = []

    def application(route: Any) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>back at the application</p>")

    page.route("https://client.example/**", application)
    page.goto("/oauth/authorize?" + urlencode(params))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Connect Example Client Application to your wallet?")).to_be_visible()
    expect(page.get_by_text("See the credentials in your wallet")).to_be_visible()
    allow = page.get_by_role("button", name="Allow")
    expect(allow).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"ob3-consent-{width}")
    allow.click()
    expect(page.get_by_text("back at the application")).to_be_visible()
    assert arrived and arrived[0].startswith(REDIRECT)
    query = {k: v[0] for k, v in parse_qs(urlsplit(arrived[0]).query).items()}
    assert query["state"] == params["state"] and query["code"].startswith("mcoc_")
    # the application trades the code for tokens, and reads the wallet
    with httpx.Client(base_url=live.url) as application_server:
        answer = application_server.post("/oauth/token", headers=basic(registration), data={
            "grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        })  # fmt: skip
        assert answer.status_code == 200, answer.text
        access = answer.json()["access_token"]
        assert application_server.get("/ims/ob/v3p0/credentials", headers=bearer(access)).status_code == 200

    page.goto("/wallet/connections")
    card = page.locator("li.card", has_text="Example Client Application")
    expect(card).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"ob3-connections-{width}")
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("The application was disconnected")).to_be_visible()
    expect(page.locator("li.card", has_text="Example Client Application")).to_have_count(0)
    with httpx.Client(base_url=live.url) as application_server:
        assert application_server.get("/ims/ob/v3p0/credentials", headers=bearer(access)).status_code == 401


def test_the_wallet_links_to_connections(live: Live, new_page: Any) -> None:
    _learner(live, "linus@example.org")
    page = new_page(1280)
    sign_in(page, "linus@example.org")
    page.goto("/wallet")
    page.get_by_role("link", name="Connections").click()
    expect(page.get_by_role("heading", name="Connections", exact=True)).to_be_visible()
    expect(page.get_by_text("No application has access to your wallet.")).to_be_visible()
    expect(page.get_by_text("does not connect to other platforms")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_migrates_from_badgr_and_sees_webhooks(live: Live, new_page: Any, width: int, tmp_path: Any) -> None:
    import json

    from microcred.clock import SystemClock
    from tests.test_migration import _export

    page = new_page(width)
    sign_in(page, "admin@tu.example")
    page.goto("/console/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"console-webhooks-{width}")
    page.goto("/console/migrate")
    export = tmp_path / "badgr.json"
    data = _export(SystemClock())  # type: ignore[arg-type]
    for entity in data["result"]:  # a badge class of its own per run: the second run is not "existing"
        for key in ("openBadgeId", "badgeclassOpenBadgeId"):
            if isinstance(entity.get(key), str):
                entity[key] = entity[key].replace("RoboticsBC", f"RoboticsBC{width}")
    export.write_text(json.dumps(data))
    page.get_by_label("The export").set_input_files(str(export))
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page.get_by_text("nothing has changed yet")).to_be_visible()
    expect(page.get_by_text("2 credential(s) will be issued")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"console-migrate-dry-run-{width}")
    page.get_by_role("button", name="Migrate now").click()
    expect(page.get_by_text("2 credential(s) issued")).to_be_visible()
