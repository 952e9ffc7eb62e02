"""Signed webhooks: organisations subscribe URLs to events; deliveries follow the audit log.

The audit log is the outbox. Every event a webhook reports is already written there in the same
transaction as the change it describes, so a scan that reads it (and records how far it has read)
sees each committed change exactly once, whichever code path made it, bulk awards included. A
delivery is one event for one subscription, unique on the pair, with its body fixed when it is
created; attempts sign that body afresh (Standard Webhooks) and are retried on a schedule for 24
hours, each recorded with what the receiver answered. Any number of processes may scan and send at
once: cursors move by compare-and-set and a delivery is claimed before it is sent.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from microcred.errors import FetchError, InputError
from microcred.net.fetcher import Network, allowed_networks
from microcred.net.poster import Answer, GuardedPoster, check_target
from microcred.services.issuing import NotFound, Runtime
from microcred.standards import webhooks as signing
from microcred.storage import models
from microcred.storage.repositories import Repository

# audit action -> the event type subscribers see
EVENT_TYPES = {
    "award.create": "award.issued",
    "award.claim": "award.claimed",
    "award.revoke": "award.revoked",
    "award.suspend": "award.suspended",
    "award.unsuspend": "award.reinstated",
    "award.expire": "award.expired",
    "pathway.issue": "pathway.completed",
    "recognition.approved": "recognition.decided",
    "recognition.rejected": "recognition.decided",
}
EVENTS = tuple(sorted(set(EVENT_TYPES.values())))
TEST_EVENT = "webhook.test"

# Attempt n is due this long after the delivery was created: 8 attempts over 24 hours.
SCHEDULE = tuple(timedelta(seconds=s) for s in (0, 5, 5 * 60, 35 * 60, 150 * 60, 450 * 60, 1050 * 60, 24 * 3600))
CLAIM = timedelta(seconds=60)  # longer than an attempt can take (10 s timeout, 2 redirects)
SETTLE = timedelta(seconds=30)  # PostgreSQL commits out of id order: the cursor waits this long behind
SCAN_BATCH = 500
MAX_URL = 2000


@dataclass(frozen=True, slots=True)
class NewSubscription:
    subscription: models.WebhookSubscription
    secret: str  # whsec_..., shown once


def parse_networks(text: str | None) -> tuple[Network, ...]:
    """Operator-allowed receiver networks, comma-separated CIDRs (e.g. 10.20.0.0/16)."""
    return allowed_networks(text, "MICROCRED_WEBHOOK_ALLOW_NETWORKS")


def _events(requested: Iterable[str] | None) -> list[str]:
    chosen = sorted(set(requested or EVENTS))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise InputError(f"unknown event type {unknown[0]!r}; choose from {', '.join(EVENTS)}")
    return chosen


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else None


class WebhookService:
    def __init__(self, runtime: Runtime, poster: GuardedPoster) -> None:
        self.runtime = runtime
        self.poster = poster

    # -- subscriptions ---------------------------------------------------
    def _check_url(self, url: str) -> str:
        url = url.strip()
        if len(url) > MAX_URL:
            raise InputError(f"a webhook URL has at most {MAX_URL} characters")
        try:
            check_target(url, self.poster.allowed)
        except FetchError as exc:
            raise InputError(f"this URL cannot receive webhooks: {exc.message}") from exc
        return url

    def subscribe(
        self, organisation_id: int, url: str, events: Iterable[str] | None, description: str | None, actor: str
    ) -> NewSubscription:
        url, chosen = self._check_url(url), _events(events)
        secret, sub_id = signing.new_secret(), str(uuid.uuid4())
        with self.runtime.db.transaction() as repo:
            self._start_cursors(repo)
            row = repo.add(
                models.WebhookSubscription(
                    id=sub_id, organisation_id=organisation_id, url=url, description=(description or None),
                    events=json.dumps(chosen), sealed_secret=self.runtime.vault.seal_secret(secret, f"webhook:{sub_id}"),
                    enabled=True, created_by=actor, created_at=self.runtime.clock.now(),
                )
            )  # fmt: skip
            self.runtime.audit(repo, actor, "webhook.create", organisation_id, sub_id, url=url, events=chosen)
        return NewSubscription(row, signing.secret_text(secret))

    def _start_cursors(self, repo: Repository) -> None:
        """The scans start where the first subscription is made: nothing before it is ever sent."""
        now = self.runtime.clock.now()
        repo.webhook_cursor("events", repo.last_audit_event_id(), now)
        repo.webhook_cursor("expiry", int(now.timestamp()), now)

    def subscriptions(self, organisation_id: int | None) -> list[models.WebhookSubscription]:
        with self.runtime.db.read() as repo:
            return repo.webhook_subscriptions(organisation_id)

    def subscription(self, subscription_id: str, organisation_id: int | None) -> models.WebhookSubscription:
        """The subscription, if it belongs to the organisation (None: any, for platform admins)."""
        with self.runtime.db.read() as repo:
            row = repo.webhook_subscription(subscription_id)
        if row is None or (organisation_id is not None and row.organisation_id != organisation_id):
            raise NotFound(f"no webhook subscription {subscription_id!r}")
        return row

    def update(
        self,
        subscription_id: str,
        organisation_id: int | None,
        actor: str,
        *,
        url: str | None = None,
        events: Iterable[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> models.WebhookSubscription:
        self.subscription(subscription_id, organisation_id)
        checked_url = self._check_url(url) if url is not None else None
        chosen = _events(events) if events is not None else None
        with self.runtime.db.transaction() as repo:
            row = repo.webhook_subscription(subscription_id)
            assert row is not None
            if checked_url is not None:
                row.url = checked_url
            if chosen is not None:
                row.events = json.dumps(chosen)
            if enabled is not None:
                row.enabled = enabled
            if description is not None:
                row.description = description or None
            changed = {"url": checked_url, "events": chosen, "enabled": enabled}
            self.runtime.audit(repo, actor, "webhook.update", row.organisation_id, row.id,
                               **{k: v for k, v in changed.items() if v is not None})  # fmt: skip
            return row

    def rotate_secret(self, subscription_id: str, organisation_id: int | None, actor: str) -> str:
        self.subscription(subscription_id, organisation_id)
        secret = signing.new_secret()
        with self.runtime.db.transaction() as repo:
            row = repo.webhook_subscription(subscription_id)
            assert row is not None
            row.sealed_secret = self.runtime.vault.seal_secret(secret, f"webhook:{row.id}")
            self.runtime.audit(repo, actor, "webhook.rotate", row.organisation_id, row.id)
        return signing.secret_text(secret)

    def delete(self, subscription_id: str, organisation_id: int | None, actor: str) -> None:
        self.subscription(subscription_id, organisation_id)
        with self.runtime.db.transaction() as repo:
            row = repo.webhook_subscription(subscription_id)
            assert row is not None
            repo.delete_webhook_subscription(row.id)
            self.runtime.audit(repo, actor, "webhook.delete", row.organisation_id, row.id, url=row.url)

    # -- deliveries --------------------------------------------------------
    def deliveries(
        self, subscription_id: str, organisation_id: int | None, *, state: str | None = None, page: int = 1
    ) -> tuple[list[models.WebhookDelivery], int]:
        self.subscription(subscription_id, organisation_id)
        if state not in (None, "", "pending", "delivered", "failed"):
            raise InputError("state is one of pending, delivered, failed")
        with self.runtime.db.read() as repo:
            return repo.webhook_deliveries(subscription_id, state=state or None, limit=50, offset=50 * (page - 1))

    def delivery(
        self, delivery_id: str, organisation_id: int | None
    ) -> tuple[models.WebhookDelivery, list[models.WebhookAttempt]]:
        with self.runtime.db.read() as repo:
            row = repo.webhook_delivery(delivery_id)
            sub = repo.webhook_subscription(row.subscription_id) if row else None
            if row is None or sub is None or (organisation_id is not None and sub.organisation_id != organisation_id):
                raise NotFound(f"no webhook delivery {delivery_id!r}")
            return row, repo.webhook_attempts(row.id)

    def replay(self, delivery_id: str, organisation_id: int | None, actor: str) -> models.WebhookAttempt:
        """Send a delivery again now, whatever its state (same webhook-id: receivers can skip it)."""
        row, _attempts = self.delivery(delivery_id, organisation_id)
        owner = self.subscription(row.subscription_id, organisation_id).organisation_id
        attempt = self._attempt(delivery_id, replay=True)
        if attempt is None:
            raise InputError("this delivery is being sent right now; try again in a minute")
        with self.runtime.db.transaction() as repo:  # the owner's log, also when a platform admin replays
            self.runtime.audit(repo, actor, "webhook.replay", owner, delivery_id, status=attempt.status)
        return attempt

    def ping(self, subscription_id: str, organisation_id: int | None, actor: str) -> models.WebhookAttempt:
        """A `webhook.test` event, sent now, recorded like any delivery."""
        sub = self.subscription(subscription_id, organisation_id)
        now = self.runtime.clock.now()
        body = _body(TEST_EVENT, now, {"subscription": sub.id, "requestedBy": actor})
        delivery_id = _message_id()
        with self.runtime.db.transaction() as repo:
            repo.add(_delivery(delivery_id, sub.id, -secrets.randbits(62), TEST_EVENT, body, now))
        attempt = self._attempt(delivery_id, replay=False)
        assert attempt is not None  # nobody else knows this delivery yet
        return attempt

    # -- the scan: audit events to deliveries ------------------------------
    def scan(self) -> int:
        """Deliveries created for events since the last scan (expiries found first)."""
        self._record_expiries()
        created = 0
        while True:
            made, more = self._scan_batch()
            created += made
            if not more:
                return created

    def _record_expiries(self) -> None:
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            cursor = repo.webhook_cursor("expiry", int(now.timestamp()), now)  # from now on: not the past
            start = cursor.position
            after = datetime.fromtimestamp(start, UTC)
            awards = repo.awards_expired_between(after, now, SCAN_BATCH)
            until = now if len(awards) < SCAN_BATCH else awards[-1].valid_until
            assert until is not None
            if int(until.timestamp()) <= start or not repo.move_webhook_cursor(
                "expiry", start, int(until.timestamp()), now
            ):
                return  # nothing new, or another process has recorded this stretch
            for award in awards:  # all of them up to `until`: the query stops there
                issuer = repo.issuer(award.issuer_id)
                self.runtime.audit(repo, "system", "award.expire", issuer.organisation_id if issuer else None,
                                   award.id, valid_until=_iso(award.valid_until))  # fmt: skip

    def _scan_batch(self) -> tuple[int, bool]:
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            cursor = repo.webhook_cursor("events", repo.last_audit_event_id(), now)
            start = cursor.position
            events = repo.audit_events_after(start, SCAN_BATCH, frozenset(EVENT_TYPES))
            subscriptions = [s for s in repo.webhook_subscriptions() if s.enabled]
            created = sum(self._deliveries_for(repo, event, subscriptions) for event in events)
            # Only events older than SETTLE move the cursor: one with a smaller id may still commit.
            settled = [e.id for e in events if e.at <= now - SETTLE]
            if settled and settled[-1] > start and not repo.move_webhook_cursor("events", start, settled[-1], now):
                raise _Raced  # another scan moved it: roll back what this one made, it made the same
            return created, len(events) == SCAN_BATCH and bool(settled)

    def _deliveries_for(
        self, repo: Repository, event: models.AuditEvent, subscriptions: list[models.WebhookSubscription]
    ) -> int:
        event_type = EVENT_TYPES[event.action]
        organisation_id = event.organisation_id or _organisation_of(repo, event)
        wanted = [
            s for s in subscriptions
            if s.organisation_id == organisation_id and event_type in json.loads(s.events) and s.created_at <= event.at
            and not repo.delivery_exists(s.id, event.id)
        ]  # fmt: skip
        if not wanted:
            return 0
        body = _body(event_type, event.at, _event_data(repo, self.runtime.base_url, event))
        for sub in wanted:
            repo.stage(_delivery(_message_id(), sub.id, event.id, event_type, body, self.runtime.clock.now()))
        return len(wanted)

    # -- sending -----------------------------------------------------------
    def deliver_due(self, limit: int = 100) -> int:
        """Attempts made now for deliveries that are due."""
        with self.runtime.db.read() as repo:
            due = repo.due_webhook_deliveries(self.runtime.clock.now(), limit)
        return sum(1 for delivery_id in due if self._attempt(delivery_id, replay=False) is not None)

    def run_once(self) -> tuple[int, int]:
        """One round of the background sender: scan, then send what is due. With no subscription at all,
        nothing is written (every server process runs this every few seconds)."""
        with self.runtime.db.read() as repo:
            if not repo.webhook_subscriptions():
                return 0, 0
        try:
            created = self.scan()
        except _Raced:
            created = 0
        return created, self.deliver_due()

    def _attempt(self, delivery_id: str, *, replay: bool) -> models.WebhookAttempt | None:
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            if not repo.claim_webhook_delivery(delivery_id, now, now + CLAIM, replay=replay):
                return None
            delivery = repo.webhook_delivery(delivery_id)
            assert delivery is not None
            sub = repo.webhook_subscription(delivery.subscription_id)
            assert sub is not None
            url, body = sub.url, delivery.body.encode("utf-8")
            secret = self.runtime.vault.open_secret(sub.sealed_secret, f"webhook:{sub.id}")
        timestamp = int(self.runtime.clock.now().timestamp())
        answer = self.poster.post(url, body, signing.headers(secret, delivery_id, timestamp, body))
        return self._record(delivery_id, answer, replay)

    def _record(self, delivery_id: str, answer: Answer, replay: bool) -> models.WebhookAttempt:
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            delivery = repo.webhook_delivery(delivery_id)
            assert delivery is not None
            attempt = repo.add(
                models.WebhookAttempt(
                    delivery_id=delivery_id, at=now, status=answer.status, error=answer.error, response=answer.body,
                    milliseconds=int(answer.seconds * 1000), replay=replay,
                )
            )  # fmt: skip
            delivery.claimed_until, delivery.last_status = None, answer.status
            if answer.ok:
                delivery.state, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
            elif not replay:
                delivery.attempts += 1
                if delivery.attempts < len(SCHEDULE):
                    delivery.next_attempt_at = max(now, delivery.created_at + SCHEDULE[delivery.attempts])
                else:
                    delivery.state, delivery.next_attempt_at = "failed", None
            return attempt


class _Raced(Exception):
    """Another process scanned the same events first."""


def _message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def _delivery(delivery_id: str, sub_id: str, event_id: int, event_type: str, body: str, now: datetime) -> Any:
    return models.WebhookDelivery(
        id=delivery_id, subscription_id=sub_id, event_id=event_id, event_type=event_type, body=body, created_at=now,
        state="pending", attempts=0, next_attempt_at=now, claimed_until=None, last_status=None, delivered_at=None,
    )  # fmt: skip


def _body(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": event_type, "timestamp": _iso(at), "data": data}, ensure_ascii=False)


def _organisation_of(repo: Repository, event: models.AuditEvent) -> int | None:
    award = repo.award(event.subject) if event.subject and event.action.startswith("award.") else None
    issuer = repo.issuer(award.issuer_id) if award else None
    return issuer.organisation_id if issuer else None


def _event_data(repo: Repository, base_url: str, event: models.AuditEvent) -> dict[str, Any]:
    detail = json.loads(event.detail or "{}")
    if event.action.startswith("recognition."):
        request = repo.recognition_request(event.subject) if event.subject else None
        return {"request": {"id": event.subject, "state": event.action.split(".", 1)[1],
                            "award": request.award_id if request else None, "note": detail.get("note") or None}}  # fmt: skip
    award = repo.award(event.subject) if event.subject else None
    data: dict[str, Any] = {"award": _award_data(repo, base_url, award) if award else {"id": event.subject}}
    if detail.get("reason"):
        data["reason"] = detail["reason"]
    return data


def _award_data(repo: Repository, base_url: str, award: models.Award) -> dict[str, Any]:
    version = repo.version_by_id(award.version_id)
    definition = json.loads(version.definition) if version else {}
    issuer = repo.issuer(award.issuer_id)
    microcredential = None
    if version is not None:
        microcredential = {"id": version.microcredential_id, "name": definition.get("name"), "version": version.version}
    return {
        "id": award.id,
        "credential": f"{base_url}/credentials/{award.id}",
        "microcredential": microcredential,
        "issuer": {"id": issuer.did, "name": issuer.name} if issuer else None,
        "recipient": {"email": award.recipient_email, "name": award.recipient_name},
        "externalId": award.external_id,
        "issuedAt": _iso(award.issued_at),
        "validUntil": _iso(award.valid_until),
    }


# -- what the API and the CLI print ----------------------------------------
def subscription_json(row: models.WebhookSubscription) -> dict[str, Any]:
    return {"id": row.id, "url": row.url, "events": json.loads(row.events), "enabled": row.enabled,
            "description": row.description, "createdAt": row.created_at.isoformat(), "createdBy": row.created_by}  # fmt: skip


def delivery_json(row: models.WebhookDelivery) -> dict[str, Any]:
    return {"id": row.id, "type": row.event_type, "state": row.state, "attempts": row.attempts,
            "lastStatus": row.last_status, "createdAt": row.created_at.isoformat(),
            "nextAttemptAt": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
            "deliveredAt": row.delivered_at.isoformat() if row.delivered_at else None}  # fmt: skip


def attempt_json(row: models.WebhookAttempt) -> dict[str, Any]:
    return {"at": row.at.isoformat(), "status": row.status, "error": row.error, "response": row.response,
            "milliseconds": row.milliseconds, "replay": row.replay}  # fmt: skip
