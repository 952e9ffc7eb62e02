"""A live server on loopback and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from microcred import bootstrap
from microcred.config import Settings
from microcred.server import create_app
from microcred.services.issuing import parse_definition
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    import os
    import uuid

    folder = tmp_path_factory.mktemp("live")
    port = _free_port()
    url = os.environ.get("MICROCRED_TEST_DATABASE_URL")
    schema = None
    if url:
        from sqlalchemy import create_engine, text

        schema = f"w_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    settings = Settings(
        data_dir=folder / "data",
        database_url=url or f"sqlite:///{folder / 'web.db'}",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    platform = bootstrap.build_platform(settings, create=True)
    platform.issuers.create(name="TU Example", slug="tu-example", country="NL", url="https://tu.example")
    platform.catalog.create("tu-example", parse_definition(COMPLETE))
    platform.accounts.create_user("admin@tu.example", PASSWORD, "issuer_admin", "tu-example", name="Ines Admin")
    platform.accounts.create_user("root@microcred.example", PASSWORD, "platform_admin", name="Root")
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the live server did not start"
    yield Live(platform, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()
    if schema:
        from sqlalchemy import create_engine, text

        admin = create_engine(os.environ["MICROCRED_TEST_DATABASE_URL"])
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
