"""The console's webhook and migration pages, without a browser: an organisation admin subscribes a real
HTTPS receiver, sends a test event, reads the attempt log, replays, pauses, rotates and deletes; and
migrates a Badgr export from one upload, dry run first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
from fastapi.testclient import TestClient

from microcred import bootstrap
from microcred.clock import FixedClock
from microcred.config import Settings
from microcred.server import create_app
from tests.ob3_helpers import PASSWORD, csrf_of, sign_in
from tests.test_migration import _export
from tests.webhook_receiver import Receiver, receiver

HTML = {"accept": "text/html"}


@pytest.fixture
def hooks(tmp_path: Path) -> Iterator[Receiver]:
    with receiver(tmp_path / "receiver") as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, database_url: str, hooks: Receiver) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, public_base_url="https://microcred.example",
        webhook_allow_networks="127.0.0.1/32", webhook_ca_file=hooks.ca_file, webhook_dispatch=False,
    )  # fmt: skip


@pytest.fixture
def clock() -> FixedClock:
    from datetime import UTC, datetime

    return FixedClock(datetime.now(UTC))  # the receiver's library checks that deliveries are recent


@pytest.fixture
def app(platform: bootstrap.Platform, issuer: Any) -> Any:
    platform.accounts.create_user("admin@tu.example", PASSWORD, "issuer_admin", issuer.slug)
    platform.accounts.create_user("staff@tu.example", PASSWORD, "issuer_staff", issuer.slug)
    return create_app(platform)


def _browser(app: Any, email: str) -> TestClient:
    client = TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False)
    sign_in(client, email)
    return client


def test_an_admin_manages_a_webhook_from_the_console(app: Any, hooks: Receiver) -> None:
    admin = _browser(app, "admin@tu.example")
    page = admin.get("/console/webhooks", headers=HTML)
    assert page.status_code == 200 and "No webhooks yet." in page.text
    refused = admin.post("/console/webhooks", data={"csrf": csrf_of(page.text), "url": "https://10.1.2.3/hook",
                                                    "events": ["award.issued"]})  # fmt: skip
    assert refused.status_code == 422 and "non-public" in refused.text
    made = admin.post("/console/webhooks", data={"csrf": csrf_of(page.text), "url": hooks.url,
                                                 "events": ["award.issued", "award.revoked"]})  # fmt: skip
    assert made.status_code == 200
    secret = re.search(r'id="new-secret" readonly value="([^"]+)"', made.text)
    assert secret and secret.group(1).startswith("whsec_")
    link = re.search(r'href="/console/webhooks/([0-9a-f-]{36})"', made.text)
    assert link
    detail = admin.get(f"/console/webhooks/{link.group(1)}", headers=HTML)
    assert "award.issued, award.revoked" in detail.text and "Nothing sent yet." in detail.text
    ping = admin.post(f"/console/webhooks/{link.group(1)}/test", data={"csrf": csrf_of(detail.text)})
    assert ping.status_code == 200 and "Test event sent: the receiver answered HTTP 204." in ping.text
    got = hooks.received[-1]
    assert standardwebhooks.Webhook(secret.group(1)).verify(got.body, got.headers)["type"] == "webhook.test"
    delivery = re.search(r'href="/console/webhooks/deliveries/(msg_[^"]+)"', ping.text)
    assert delivery
    log = admin.get(f"/console/webhooks/deliveries/{delivery.group(1)}", headers=HTML)
    assert "webhook.test" in log.text and "204" in log.text
    replayed = admin.post(f"/console/webhooks/deliveries/{delivery.group(1)}/replay", data={"csrf": csrf_of(log.text)})
    assert "the receiver answered HTTP 204" in replayed.text and "(replay)" in replayed.text
    assert (
        len(hooks.received) == 2 and hooks.received[0].headers["webhook-id"] == hooks.received[1].headers["webhook-id"]
    )
    paused = admin.post(f"/console/webhooks/{link.group(1)}/disable", data={"csrf": csrf_of(log.text)})
    assert "Sending paused." in paused.text and "Resume sending" in paused.text
    rotated = admin.post(f"/console/webhooks/{link.group(1)}/rotate", data={"csrf": csrf_of(log.text)})
    fresh = re.search(r'id="rotated-secret" readonly value="([^"]+)"', rotated.text)
    assert fresh and fresh.group(1) != secret.group(1)
    gone = admin.post(f"/console/webhooks/{link.group(1)}/delete", data={"csrf": csrf_of(log.text)})
    assert "were deleted" in gone.text and "No webhooks yet." in gone.text
    assert admin.get(f"/console/webhooks/{link.group(1)}", headers=HTML).status_code == 404


def test_staff_and_other_organisations_cannot_see_webhooks(app: Any, platform: bootstrap.Platform,
                                                            hooks: Receiver) -> None:  # fmt: skip
    other = platform.issuers.create(name="Other College", slug="other", country="BE")
    platform.accounts.create_user("admin@other.example", PASSWORD, "issuer_admin", other.slug)
    with platform.runtime.db.read() as repo:
        organisation = repo.issuer_by_slug("tu-example").organisation_id  # type: ignore[union-attr]
    mine = platform.webhooks.subscribe(organisation, hooks.url, None, None, "admin@tu.example")
    staff = _browser(app, "staff@tu.example")
    assert staff.get("/console/webhooks", headers=HTML).status_code == 403
    assert staff.get("/console/migrate", headers=HTML).status_code == 403
    stranger = _browser(app, "admin@other.example")
    assert hooks.url not in stranger.get("/console/webhooks", headers=HTML).text
    assert stranger.get(f"/console/webhooks/{mine.subscription.id}", headers=HTML).status_code == 404


def test_an_admin_migrates_a_badgr_export_from_one_upload(app: Any, platform: bootstrap.Platform,
                                                           clock: FixedClock) -> None:  # fmt: skip
    admin = _browser(app, "admin@tu.example")
    page = admin.get("/console/migrate", headers=HTML)
    export = json.dumps(_export(clock)).encode()
    dry = admin.post("/console/migrate", data={"csrf": csrf_of(page.text), "issuer": "tu-example"},
                     files={"file": ("badgr.json", export, "application/json")})  # fmt: skip
    assert dry.status_code == 200 and "nothing has changed yet" in dry.text
    assert "2 credential(s) will be issued" in dry.text and "revoked at the source" in dry.text
    with platform.runtime.db.read() as repo:
        assert repo.catalogue(None) == []
    action = re.search(r'action="(/console/migrate/[0-9a-f-]{36})"', dry.text)
    assert action
    done = admin.post(action.group(1), data={"csrf": csrf_of(dry.text), "issuer": "tu-example"})
    assert done.status_code == 200 and "2 credential(s) issued" in done.text
    again = admin.post(action.group(1), data={"csrf": csrf_of(dry.text), "issuer": "tu-example"})
    assert again.status_code == 422 and "that upload is gone" in again.text
    broken = admin.post("/console/migrate", data={"csrf": csrf_of(page.text), "issuer": "tu-example"},
                        files={"file": ("x.json", b"{nope", "application/json")})  # fmt: skip
    assert broken.status_code == 422 and "JSON" in broken.text
    assert list((platform.settings.data_dir / "uploads").glob("migration-*")) == []  # nothing left behind
    elsewhere = admin.post("/console/migrate", data={"csrf": csrf_of(page.text), "issuer": "nobody"},
                           files={"file": ("badgr.json", export, "application/json")})  # fmt: skip
    assert elsewhere.status_code == 422 and "no issuer &#39;nobody&#39;" in elsewhere.text
