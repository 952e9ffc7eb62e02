"""Queries for webhooks: subscriptions, the event scan, deliveries due and their attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from microcred.storage import models


class WebhookQueries:
    session: Session

    def webhook_subscriptions(self, organisation_id: int | None = None) -> list[models.WebhookSubscription]:
        query = select(models.WebhookSubscription).order_by(models.WebhookSubscription.created_at)
        if organisation_id is not None:
            query = query.where(models.WebhookSubscription.organisation_id == organisation_id)
        return list(self.session.scalars(query))

    def webhook_subscription(self, subscription_id: str) -> models.WebhookSubscription | None:
        return self.session.get(models.WebhookSubscription, subscription_id[:36])

    def delete_webhook_subscription(self, subscription_id: str) -> None:
        """The subscription with its deliveries and their attempts (what was sent goes with it)."""
        deliveries = select(models.WebhookDelivery.id).where(models.WebhookDelivery.subscription_id == subscription_id)
        self.session.execute(delete(models.WebhookAttempt).where(models.WebhookAttempt.delivery_id.in_(deliveries)))
        self.session.execute(
            delete(models.WebhookDelivery).where(models.WebhookDelivery.subscription_id == subscription_id)
        )
        self.session.execute(delete(models.WebhookSubscription).where(models.WebhookSubscription.id == subscription_id))

    def webhook_delivery(self, delivery_id: str) -> models.WebhookDelivery | None:
        return self.session.get(models.WebhookDelivery, delivery_id[:40])

    def webhook_deliveries(
        self, subscription_id: str, *, state: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[models.WebhookDelivery], int]:
        where = [models.WebhookDelivery.subscription_id == subscription_id]
        if state:
            where.append(models.WebhookDelivery.state == state)
        total = self.session.scalar(select(func.count()).select_from(models.WebhookDelivery).where(*where)) or 0
        rows = self.session.scalars(
            select(models.WebhookDelivery)
            .where(*where)
            .order_by(models.WebhookDelivery.created_at.desc(), models.WebhookDelivery.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total

    def webhook_attempts(self, delivery_id: str) -> list[models.WebhookAttempt]:
        return list(
            self.session.scalars(
                select(models.WebhookAttempt)
                .where(models.WebhookAttempt.delivery_id == delivery_id)
                .order_by(models.WebhookAttempt.id)
            )
        )

    def webhook_cursor(self, name: str, start: int, now: datetime) -> models.WebhookCursor:
        row = self.session.get(models.WebhookCursor, name)
        if row is None:
            row = models.WebhookCursor(name=name, position=start, moved_at=now)
            self.session.add(row)
            self.session.flush()
        return row

    def move_webhook_cursor(self, name: str, old: int, new: int, now: datetime) -> bool:
        """Move a cursor from where this scan found it; False when another scan moved it first."""
        result: Any = self.session.execute(
            update(models.WebhookCursor)
            .where(models.WebhookCursor.name == name, models.WebhookCursor.position == old)
            .values(position=new, moved_at=now)
        )
        return bool(result.rowcount == 1)

    def audit_events_after(self, position: int, limit: int, actions: frozenset[str]) -> list[models.AuditEvent]:
        return list(
            self.session.scalars(
                select(models.AuditEvent)
                .where(models.AuditEvent.id > position, models.AuditEvent.action.in_(sorted(actions)))
                .order_by(models.AuditEvent.id)
                .limit(limit)
            )
        )

    def last_audit_event_id(self) -> int:
        return self.session.scalar(select(func.max(models.AuditEvent.id))) or 0

    def awards_expired_between(self, after: datetime, until: datetime, limit: int) -> list[models.Award]:
        return list(
            self.session.scalars(
                select(models.Award)
                .where(
                    models.Award.valid_until > after,
                    models.Award.valid_until <= until,
                    models.Award.revoked_at.is_(None),
                )
                .order_by(models.Award.valid_until, models.Award.id)
                .limit(limit)
            )
        )

    def delivery_exists(self, subscription_id: str, event_id: int) -> bool:
        found = self.session.scalar(
            select(models.WebhookDelivery.id).where(
                models.WebhookDelivery.subscription_id == subscription_id, models.WebhookDelivery.event_id == event_id
            )
        )
        return found is not None

    def due_webhook_deliveries(self, now: datetime, limit: int) -> list[str]:
        rows = self.session.scalars(
            select(models.WebhookDelivery.id)
            .where(
                models.WebhookDelivery.state == "pending",
                models.WebhookDelivery.next_attempt_at <= now,
                or_(models.WebhookDelivery.claimed_until.is_(None), models.WebhookDelivery.claimed_until < now),
            )
            .order_by(models.WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
        return list(rows)

    def claim_webhook_delivery(self, delivery_id: str, now: datetime, until: datetime, *, replay: bool) -> bool:
        """Take a delivery for one attempt; False when another sender holds it (or, unless replaying,
        it is no longer due)."""
        free = or_(models.WebhookDelivery.claimed_until.is_(None), models.WebhookDelivery.claimed_until < now)
        due = and_(models.WebhookDelivery.state == "pending", models.WebhookDelivery.next_attempt_at <= now)
        result: Any = self.session.execute(
            update(models.WebhookDelivery)
            .where(models.WebhookDelivery.id == delivery_id, free, *(() if replay else (due,)))
            .values(claimed_until=until)
        )
        return bool(result.rowcount == 1)
