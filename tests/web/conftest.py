"""A live server on loopback and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from microcred import bootstrap
from microcred.config import Settings
from microcred.server import create_app
from microcred.services.issuing import parse_definition
from tests.live_server import database_url, free_port, serving
from tests.platform_fixtures import COMPLETE

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"


class Live:
    def __init__(self, platform: bootstrap.Platform, url: str) -> None:
        self.platform = platform
        self.url = url

    def mail_link(self, to: str, path: str) -> str:
        """The newest link to `path` in mail sent to an address (from the outbox)."""
        for mail in self.platform.mailer.messages(to=to):  # type: ignore[attr-defined]
            found = re.search(re.escape(self.url) + re.escape(path) + r"[^\s]+", mail.text)
            if found:
                return found.group(0)
        raise AssertionError(f"no mail to {to} with a {path} link")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    port = free_port()
    with database_url(folder) as url:
        settings = Settings(data_dir=folder / "data", database_url=url, public_base_url=f"http://127.0.0.1:{port}")
        platform = bootstrap.build_platform(settings, create=True)
        platform.issuers.create(name="TU Example", slug="tu-example", country="NL", url="https://tu.example")
        platform.catalog.create("tu-example", parse_definition(COMPLETE), publish=True, exemption="test fixture")
        platform.accounts.create_user("admin@tu.example", PASSWORD, "issuer_admin", "tu-example", name="Ines Admin")
        platform.accounts.create_user("root@microcred.example", PASSWORD, "platform_admin", name="Root")
        try:
            with serving(create_app(platform), port):
                yield Live(platform, f"http://127.0.0.1:{port}")
        finally:
            platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any, live: Live) -> Iterator[Any]:
    """Open pages in fresh browser contexts (separate cookie jars: issuer, learner, visitor)."""
    contexts: list[Any] = []

    def make(width: int = 1280) -> Any:
        context = browser.new_context(
            base_url=live.url, viewport={"width": width, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
