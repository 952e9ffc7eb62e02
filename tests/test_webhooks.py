"""Signed webhooks, end to end: real HTTPS deliveries to a receiver on loopback, verified with the
Standard Webhooks library (code we did not write), retried on schedule, replayed, and refused where
the guarded fetcher's address rules say so."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks

from microcred import bootstrap
from microcred.clock import FixedClock
from microcred.config import Settings
from microcred.errors import InputError
from microcred.services.awarding import AwardRequest
from microcred.services.interop import webhooks
from microcred.standards import webhooks as signing
from tests.webhook_receiver import Receiver, receiver


def test_signatures_match_the_published_vector_and_the_reference_library() -> None:
    # The example in the Standard Webhooks specification.
    secret = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    fresh = signing.new_secret()
    import time

    now = int(time.time())
    headers = signing.headers(fresh, "msg_1", now, body)
    assert standardwebhooks.Webhook(signing.secret_text(fresh)).verify(body, headers) == {"test": 2432232314}
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(signing.secret_text(fresh)).verify(body + b" ", headers)


@pytest.fixture
def hooks(tmp_path: Path) -> Iterator[Receiver]:
    with receiver(tmp_path / "receiver") as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, database_url: str, hooks: Receiver) -> Settings:
    # The receiver is on loopback: the operator allows exactly that address, and its CA.
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, public_base_url="https://microcred.example",
        webhook_allow_networks="127.0.0.1/32", webhook_ca_file=hooks.ca_file,
    )  # fmt: skip


def _subscribe(platform: bootstrap.Platform, issuer: Any, url: str, events: list[str] | None = None) -> Any:
    return platform.webhooks.subscribe(issuer.organisation_id, url, events, "LMS sync", "admin@tu.example")


def test_an_award_arrives_signed_with_what_happened(
    platform: bootstrap.Platform, issuer: Any, microcredential: Any, hooks: Receiver, clock: FixedClock
) -> None:
    new = _subscribe(platform, issuer, hooks.url)
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", name="Ada Lovelace"))
    clock.advance(timedelta(minutes=1))  # the event has settled: the scan's cursor moves past it
    created, sent = platform.webhooks.run_once()
    assert (created, sent) == (1, 1)
    [got] = hooks.received
    assert got.path == "/hooks"
    # The platform's clock is fixed in the past, so the library's freshness check would refuse the timestamp;
    # the signature itself is checked here, and by the library in the test on the real clock below.
    assert got.headers["webhook-timestamp"] == str(int(clock.now().timestamp()))
    payload = json.loads(got.body)
    assert signing.signature(_secret_bytes(new.secret), got.headers["webhook-id"],
                             int(got.headers["webhook-timestamp"]), got.body) == got.headers["webhook-signature"]  # fmt: skip
    assert payload["type"] == "award.issued"
    award = payload["data"]["award"]
    assert award["id"] == outcome.id
    assert award["credential"] == f"https://microcred.example/credentials/{outcome.id}"
    assert award["recipient"] == {"email": "ada@example.org", "name": "Ada Lovelace"}
    assert award["microcredential"]["name"] == "Data Analytics with Python"
    assert got.headers["webhook-id"].startswith("msg_")
    assert platform.webhooks.run_once() == (0, 0), "each event once"
    [delivery], total = platform.webhooks.deliveries(new.subscription.id, issuer.organisation_id)
    assert total == 1 and delivery.state == "delivered" and delivery.last_status == 204


def _secret_bytes(text: str) -> bytes:
    return base64.b64decode(text.removeprefix("whsec_"))


def test_the_reference_library_accepts_a_delivery_at_the_time_it_was_sent(
    settings: Settings, issuer: Any, microcredential: Any, hooks: Receiver
) -> None:
    # A platform on the real clock, so the receiver's own timestamp check applies as in production.
    from microcred.clock import SystemClock

    live = bootstrap.build_platform(settings, SystemClock(), create=True)
    try:
        new = live.webhooks.subscribe(issuer.organisation_id, hooks.url, None, None, "admin@tu.example")
        live.webhooks.ping(new.subscription.id, issuer.organisation_id, "admin@tu.example")
    finally:
        live.close()
    [got] = hooks.received
    assert standardwebhooks.Webhook(new.secret).verify(got.body, got.headers)["type"] == "webhook.test"


def test_failures_are_retried_on_schedule_then_given_up_after_a_day(
    platform: bootstrap.Platform, issuer: Any, microcredential: Any, hooks: Receiver, clock: FixedClock
) -> None:
    new = _subscribe(platform, issuer, hooks.url, ["award.revoked"])
    award = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org")).id
    platform.awards.revoke(award, "issued in error", actor="admin@tu.example")
    clock.advance(timedelta(minutes=1))
    hooks.answers = [(500, {})] * 20
    assert platform.webhooks.run_once() == (1, 1), "only the revocation was subscribed to"
    assert platform.webhooks.run_once() == (0, 0), "not due again yet"
    waits = [webhooks.SCHEDULE[n] - webhooks.SCHEDULE[n - 1] for n in range(1, len(webhooks.SCHEDULE))]
    for wait in waits:
        clock.advance(wait)
        assert platform.webhooks.deliver_due() == 1
    [delivery], _ = platform.webhooks.deliveries(new.subscription.id, issuer.organisation_id)
    row, attempts = platform.webhooks.delivery(delivery.id, issuer.organisation_id)
    assert row.state == "failed" and len(attempts) == len(webhooks.SCHEDULE) == 8
    assert all(a.status == 500 and a.response == "ok" for a in attempts)
    assert {r.headers["webhook-id"] for r in hooks.received} == {delivery.id}, "one id for every attempt"
    assert json.loads(hooks.received[0].body)["data"]["reason"] == "issued in error"
    clock.advance(timedelta(days=2))
    assert platform.webhooks.deliver_due() == 0

    hooks.answers = []  # the receiver is fixed: replay from the console or API
    attempt = platform.webhooks.replay(delivery.id, issuer.organisation_id, "admin@tu.example")
    assert attempt.status == 204 and attempt.replay
    assert platform.webhooks.delivery(delivery.id, issuer.organisation_id)[0].state == "delivered"
    assert hooks.received[-1].body == hooks.received[0].body and hooks.received[-1].headers["webhook-id"] == delivery.id
    platform.webhooks.replay(delivery.id, None, "root@example.org")  # a platform admin, from any organisation
    with platform.runtime.db.read() as repo:
        logged = [e for e in repo.audit_events(issuer.organisation_id) if e.action == "webhook.replay"]
    assert [e.actor for e in logged] == ["root@example.org", "admin@tu.example"], "in the owner's log, newest first"


def test_a_retry_that_succeeds_ends_the_schedule(
    platform: bootstrap.Platform, issuer: Any, microcredential: Any, hooks: Receiver, clock: FixedClock
) -> None:
    _subscribe(platform, issuer, hooks.url)
    platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    clock.advance(timedelta(minutes=1))
    hooks.answers = [(503, {"retry-after": "1"})]
    assert platform.webhooks.run_once() == (1, 1)
    clock.advance(timedelta(seconds=5))
    assert platform.webhooks.deliver_due() == 1
    clock.advance(timedelta(hours=30))
    assert platform.webhooks.deliver_due() == 0
    first, second = (r.headers["webhook-id"] for r in hooks.received)
    assert first == second, "a retry is the same message"


def test_a_redirect_to_a_private_address_is_refused_and_recorded(
    platform: bootstrap.Platform, issuer: Any, microcredential: Any, hooks: Receiver, clock: FixedClock
) -> None:
    new = _subscribe(platform, issuer, hooks.url)
    hooks.answers = [(307, {"location": "https://169.254.169.254/latest/meta-data"})]
    attempt = platform.webhooks.ping(new.subscription.id, issuer.organisation_id, "admin@tu.example")
    assert attempt.status is None and "non-public address 169.254.169.254" in (attempt.error or "")
    assert len(hooks.received) == 1, "the cloud metadata address was never asked"
    hooks.answers = [(302, {"location": "https://example.org/"})]
    attempt = platform.webhooks.ping(new.subscription.id, issuer.organisation_id, "admin@tu.example")
    assert attempt.status == 302, "a redirect that would turn the POST into a GET is the receiver's answer"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.org/x", "https URLs only"),
        ("https://10.1.2.3/x", "non-public address"),
        ("https://127.0.0.2/x", "non-public address"),  # loopback, but not the address the operator allowed
        ("https://[::1]/x", "non-public address"),
        ("https://169.254.169.254/x", "non-public address"),
        ("https://user:pw@hooks.example.org/x", "user name or password"),
        ("https://hooks.example.org/x#frag", "fragment"),
        ("https://hooks.example.org:99999/x", "invalid port"),
        ("ftp://x", "https URLs only"),
        ("https://" + "a" * 2000 + ".org/", "at most 2000"),
    ],
)
def test_bad_targets_are_refused_when_subscribing(
    platform: bootstrap.Platform, issuer: Any, url: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _subscribe(platform, issuer, url)
    assert platform.webhooks.subscriptions(issuer.organisation_id) == []


def test_without_the_operator_allowing_it_loopback_is_refused_too() -> None:
    from microcred.errors import FetchError
    from microcred.net.poster import GuardedPoster, check_target

    for url in ("https://127.0.0.1:8443/x", "https://localhost/x"):
        with pytest.raises(FetchError, match="non-public"):
            check_target(url)
    answer = GuardedPoster().post("https://127.0.0.1:9/x", b"{}", {})
    assert answer.status is None and not answer.ok and "non-public" in (answer.error or "")


def test_unknown_events_are_refused_and_other_organisations_see_nothing(
    platform: bootstrap.Platform, issuer: Any, hooks: Receiver
) -> None:
    with pytest.raises(InputError, match=r"unknown event type 'award\.eaten'"):
        _subscribe(platform, issuer, hooks.url, ["award.eaten"])
    new = _subscribe(platform, issuer, hooks.url)
    other = issuer.organisation_id + 1000
    from microcred.services.issuing import NotFound

    with pytest.raises(NotFound):
        platform.webhooks.subscription(new.subscription.id, other)
    with pytest.raises(NotFound):
        platform.webhooks.delete(new.subscription.id, other, "mallory@evil.example")
    assert platform.webhooks.subscriptions(other) == []


def test_only_events_after_subscribing_and_each_organisation_its_own(
    platform: bootstrap.Platform, issuer: Any, microcredential: Any, hooks: Receiver, clock: FixedClock
) -> None:
    platform.awards.award(AwardRequest(microcredential.id, "before@example.org"))
    clock.advance(timedelta(minutes=1))
    platform.webhooks.run_once()  # the scan starts here: the award before any subscription is not sent
    new = _subscribe(platform, issuer, hooks.url)
    other_issuer = platform.issuers.create(name="Other U", slug="other-u", country="DE", url="https://o.example",
                                           email="b@o.example", organisation="other-org")  # fmt: skip
    assert other_issuer.organisation_id != issuer.organisation_id
    platform.awards.award(AwardRequest(microcredential.id, "after@example.org"))
    clock.advance(timedelta(minutes=1))
    assert platform.webhooks.run_once() == (1, 1)
    assert [json.loads(r.body)["data"]["award"]["recipient"]["email"] for r in hooks.received] == ["after@example.org"]
    platform.webhooks.update(new.subscription.id, issuer.organisation_id, "admin@tu.example", enabled=False)
    platform.awards.award(AwardRequest(microcredential.id, "paused@example.org"))
    clock.advance(timedelta(minutes=1))
    assert platform.webhooks.run_once() == (0, 0), "a disabled subscription gets nothing"


def test_two_senders_never_send_one_attempt_twice(
    platform: bootstrap.Platform, make_platform: Any, issuer: Any, microcredential: Any, hooks: Receiver,
    clock: FixedClock,
) -> None:  # fmt: skip
    second = make_platform()
    _subscribe(platform, issuer, hooks.url)
    for n in range(5):
        platform.awards.award(AwardRequest(microcredential.id, f"learner{n}@example.org"))
    clock.advance(timedelta(minutes=1))
    assert platform.webhooks.scan() == 5
    assert second.webhooks.scan() == 0, "the other process finds the cursor moved"
    due = platform.webhooks.deliver_due(limit=3) + second.webhooks.deliver_due()
    assert due == 5 and len(hooks.received) == 5
    assert len({r.headers["webhook-id"] for r in hooks.received}) == 5


def test_the_secret_is_sealed_and_rotates(
    platform: bootstrap.Platform, issuer: Any, hooks: Receiver, settings: Settings
) -> None:
    new = _subscribe(platform, issuer, hooks.url)
    stored = platform.webhooks.subscription(new.subscription.id, issuer.organisation_id).sealed_secret
    assert _secret_bytes(new.secret) not in stored
    rotated = platform.webhooks.rotate_secret(new.subscription.id, issuer.organisation_id, "admin@tu.example")
    assert rotated != new.secret
    platform.webhooks.ping(new.subscription.id, issuer.organisation_id, "admin@tu.example")
    got = hooks.received[-1]
    expected = signing.signature(_secret_bytes(rotated), got.headers["webhook-id"], int(got.headers["webhook-timestamp"]),
                                 got.body)  # fmt: skip
    assert got.headers["webhook-signature"] == expected


def test_expiry_claims_and_suspensions_are_events(
    platform: bootstrap.Platform, issuer: Any, suspendable: Any, hooks: Receiver, clock: FixedClock
) -> None:
    _subscribe(platform, issuer, hooks.url)
    platform.webhooks.run_once()  # the scans start now
    award = platform.awards.award(AwardRequest(suspendable.id, "ada@example.org")).id
    platform.awards.suspend(award, "under review", actor="admin@tu.example")
    platform.awards.unsuspend(award, "cleared", actor="admin@tu.example")
    clock.advance(timedelta(minutes=1))
    platform.webhooks.run_once()
    with platform.runtime.db.read() as repo:
        valid_until = repo.award(award).valid_until
    assert valid_until is not None
    clock.advance(valid_until - clock.now() + timedelta(seconds=1))
    platform.webhooks.run_once()  # finds the expiry and writes its event
    clock.advance(timedelta(minutes=1))
    platform.webhooks.run_once()
    types = [json.loads(r.body)["type"] for r in hooks.received]
    assert types == ["award.issued", "award.suspended", "award.reinstated", "award.expired"]
    clock.advance(timedelta(days=1))
    platform.webhooks.run_once()
    assert len(hooks.received) == 4, "an expiry is reported once"


def test_the_api_manages_subscriptions_for_admins_of_their_own_organisation(
    platform: bootstrap.Platform, issuer: Any, microcredential: Any, hooks: Receiver, clock: FixedClock
) -> None:
    from fastapi.testclient import TestClient

    from microcred.api.app import create_app

    other = platform.issuers.create(name="Other Academy", slug="other", country="DE")
    tokens = {}
    for name, email, role, org in (
        ("admin", "admin@tu.example", "issuer_admin", issuer.slug),
        ("staff", "staff@tu.example", "issuer_staff", issuer.slug),
        ("other", "admin@other.example", "issuer_admin", other.slug),
        ("root", "root@example.org", "platform_admin", None),
    ):
        platform.accounts.create_user(email, "correct horse battery", role, organisation=org)
        tokens[name] = {"Authorization": "Bearer " + platform.accounts.create_token(email, role).token}
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        made = client.post("/api/v1/webhooks", json={"url": hooks.url, "events": ["award.issued"]},
                           headers=tokens["admin"])  # fmt: skip
        assert made.status_code == 201, made.text
        sub = made.json()
        assert sub["secret"].startswith("whsec_") and sub["events"] == ["award.issued"]
        assert "secret" not in client.get(f"/api/v1/webhooks/{sub['id']}", headers=tokens["admin"]).json()

        refused = client.post("/api/v1/webhooks", json={"url": "https://10.0.0.1/x"}, headers=tokens["admin"])
        assert refused.status_code == 422 and "non-public" in refused.json()["detail"]
        assert client.post("/api/v1/webhooks", json={"url": hooks.url}, headers=tokens["staff"]).status_code == 403
        for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/test"), ("GET", "/deliveries")):
            answer = client.request(method, f"/api/v1/webhooks/{sub['id']}{path}", json={}, headers=tokens["other"])
            assert answer.status_code == 404, (method, path, answer.text)
        assert client.get("/api/v1/webhooks", headers=tokens["other"]).json() == []
        assert [s["id"] for s in client.get("/api/v1/webhooks", headers=tokens["root"]).json()] == [sub["id"]]
        no_org = client.post("/api/v1/webhooks", json={"url": hooks.url}, headers=tokens["root"])
        assert no_org.status_code == 422 and "organisation" in no_org.json()["detail"]

        ping = client.post(f"/api/v1/webhooks/{sub['id']}/test", headers=tokens["admin"]).json()
        assert ping["status"] == 204 and not ping["replay"]
        platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
        clock.advance(timedelta(minutes=1))
        platform.webhooks.run_once()
        listed = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=tokens["admin"]).json()
        assert listed["total"] == 2 and {d["type"] for d in listed["items"]} == {"award.issued", "webhook.test"}
        issued = next(d for d in listed["items"] if d["type"] == "award.issued")
        detail = client.get(f"/api/v1/webhook-deliveries/{issued['id']}", headers=tokens["admin"]).json()
        assert detail["body"]["type"] == "award.issued" and len(detail["attemptLog"]) == 1
        assert client.get(f"/api/v1/webhook-deliveries/{issued['id']}", headers=tokens["other"]).status_code == 404
        replayed = client.post(f"/api/v1/webhook-deliveries/{issued['id']}/replay", headers=tokens["admin"]).json()
        assert replayed["replay"] and replayed["status"] == 204
        assert hooks.received[-1].headers["webhook-id"] == issued["id"]

        paused = client.patch(f"/api/v1/webhooks/{sub['id']}", json={"enabled": False}, headers=tokens["admin"])
        assert paused.json()["enabled"] is False
        bad = client.patch(f"/api/v1/webhooks/{sub['id']}", json={"events": ["nope"]}, headers=tokens["admin"])
        assert bad.status_code == 422
        assert (
            client.get(f"/api/v1/webhooks/{sub['id']}/deliveries?state=odd", headers=tokens["admin"]).status_code == 422
        )
        rotated = client.post(f"/api/v1/webhooks/{sub['id']}/secret", headers=tokens["admin"]).json()["secret"]
        assert rotated.startswith("whsec_") and rotated != sub["secret"]
        assert client.delete(f"/api/v1/webhooks/{sub['id']}", headers=tokens["admin"]).status_code == 204
        assert client.get(f"/api/v1/webhooks/{sub['id']}", headers=tokens["admin"]).status_code == 404
        assert client.get(f"/api/v1/webhook-deliveries/{issued['id']}", headers=tokens["admin"]).status_code == 404


def test_the_cli_subscribes_sends_lists_and_replays(tmp_path: Path, database_url: str, hooks: Receiver) -> None:
    from tests.test_platform_cli import _cli, _env, _json

    env = _env(tmp_path, database_url) | {
        "MICROCRED_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32", "MICROCRED_WEBHOOK_CA_FILE": str(hooks.ca_file),
    }  # fmt: skip
    assert _cli(env, "init").returncode == 0
    assert (
        _cli(env, "issuer", "create", "--name", "TU Example", "--slug", "tu-example", "--country", "NL").returncode == 0
    )
    refused = _cli(env, "webhooks", "add", "https://10.0.0.7/hook", "--org", "tu-example")
    assert refused.returncode == 2 and "non-public" in refused.stderr and "Traceback" not in refused.stderr
    unknown = _cli(env, "webhooks", "add", hooks.url, "--org", "nobody")
    assert unknown.returncode == 2 and "no organisation 'nobody'" in unknown.stderr
    made = _json(_cli(env, "webhooks", "add", hooks.url, "--org", "tu-example", "--event", "award.issued", "--json"))
    assert made["secret"].startswith("whsec_")
    assert [s["id"] for s in _json(_cli(env, "webhooks", "list", "--json"))] == [made["id"]]
    ping = _json(_cli(env, "webhooks", "test", made["id"], "--json"))
    assert ping["status"] == 204
    got = hooks.received[-1]
    assert standardwebhooks.Webhook(made["secret"]).verify(got.body, got.headers)["type"] == "webhook.test"
    [delivery] = _json(_cli(env, "webhooks", "deliveries", made["id"], "--json"))["items"]
    assert _json(_cli(env, "webhooks", "replay", delivery["id"], "--json"))["replay"] is True
    assert _json(_cli(env, "webhooks", "run", "--json")) == {"created": 0, "attempts": 0}
    assert _cli(env, "webhooks", "replay", "msg_nope").returncode == 2
