"""Queries of pathways, roll-up completions and credit recognition."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.storage import models


class PathwayQueries:
    session: Session

    def pathway(self, pathway_id: str, *, lock: bool = False) -> models.PathwayRow | None:
        query = select(models.PathwayRow).where(models.PathwayRow.id == pathway_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def pathways(self, issuer_ids: list[int] | None = None) -> list[models.PathwayRow]:
        query = select(models.PathwayRow).order_by(models.PathwayRow.name, models.PathwayRow.id)
        if issuer_ids is not None:
            query = query.where(models.PathwayRow.issuer_id.in_(issuer_ids))
        return list(self.session.scalars(query))

    def held_awards(self, emails: list[str]) -> list[tuple[Any, ...]]:
        """(email, award id, version id, issued_at, valid_until, revoked_at, suspended, issuer DID) of these learners."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(emails), 500):  # SQLite's bound-parameter limit
            query = (
                select(
                    models.Award.recipient_email, models.Award.id, models.Award.version_id, models.Award.issued_at,
                    models.Award.valid_until, models.Award.revoked_at, models.Award.suspended, models.Issuer.did,
                )
                .join(models.Issuer, models.Issuer.id == models.Award.issuer_id)
                .where(models.Award.recipient_email.in_(emails[start : start + 500]))
            )  # fmt: skip
            rows += [tuple(row) for row in self.session.execute(query)]
        return rows

    def imported_items(self, emails: list[str]) -> list[tuple[str, models.WalletItem]]:
        """(email, wallet item) of what these learners imported."""
        rows: list[tuple[str, models.WalletItem]] = []
        for start in range(0, len(emails), 500):
            query = (
                select(models.User.email, models.WalletItem)
                .join(models.WalletItem, models.WalletItem.user_id == models.User.id)
                .where(models.User.email.in_(emails[start : start + 500]))
            )
            rows += [(row[0], row[1]) for row in self.session.execute(query)]
        return rows

    def all_held_awards(self, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
        """Every award as (email, version id, issued_at, valid_until, revoked, suspended, award id), by learner."""
        query = select(
            models.Award.recipient_email, models.Award.version_id, models.Award.issued_at, models.Award.valid_until,
            models.Award.revoked_at.is_not(None), models.Award.suspended, models.Award.id,
        ).order_by(models.Award.recipient_email)  # fmt: skip
        result = self.session.execute(query.execution_options(yield_per=batch))
        for row in result:
            yield tuple(row)

    def emails_with_imports(self) -> list[str]:
        query = (
            select(models.User.email).join(models.WalletItem, models.WalletItem.user_id == models.User.id).distinct()
        )
        return list(self.session.scalars(query))

    def wallet_item_by_credential(self, credential_id: str) -> models.WalletItem | None:
        query = select(models.WalletItem).where(models.WalletItem.credential_id == credential_id).limit(1)
        return self.session.scalar(query)

    def version_by_id(self, version_id: int) -> models.MicrocredentialVersion | None:
        return self.session.get(models.MicrocredentialVersion, version_id) if models.storable_id(version_id) else None

    def version_rows(self, after: int = 0) -> list[tuple[int, str, str]]:
        """(version id, microcredential id, definition JSON) of catalogue versions newer than `after`."""
        query = select(
            models.MicrocredentialVersion.id,
            models.MicrocredentialVersion.microcredential_id,
            models.MicrocredentialVersion.definition,
        ).where(models.MicrocredentialVersion.id > after)
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def pathway_versions(self) -> list[tuple[str, int]]:
        return [
            (row[0], row[1]) for row in self.session.execute(select(models.PathwayRow.id, models.PathwayRow.version))
        ]

    def completion(self, pathway_id: str, email: str, *, lock: bool = False) -> models.PathwayCompletion | None:
        query = select(models.PathwayCompletion).where(
            models.PathwayCompletion.pathway_id == pathway_id, models.PathwayCompletion.recipient_email == email
        )
        return self.session.scalar(query.with_for_update() if lock else query)

    def completion_by_id(self, completion_id: str, *, lock: bool = False) -> models.PathwayCompletion | None:
        query = select(models.PathwayCompletion).where(models.PathwayCompletion.id == completion_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def completions(
        self, *, pathway_ids: list[str] | None = None, email: str | None = None, state: str | None = None
    ) -> list[models.PathwayCompletion]:
        query = select(models.PathwayCompletion).order_by(models.PathwayCompletion.created_at)
        if pathway_ids is not None:
            query = query.where(models.PathwayCompletion.pathway_id.in_(pathway_ids))
        if email is not None:
            query = query.where(models.PathwayCompletion.recipient_email == email)
        if state is not None:
            query = query.where(models.PathwayCompletion.state == state)
        return list(self.session.scalars(query))

    def completions_citing(self, credential_id: str) -> list[models.PathwayCompletion]:
        """Issued roll-ups whose parts include this credential (id or URL)."""
        query = select(models.PathwayCompletion).where(
            models.PathwayCompletion.state == "issued", models.PathwayCompletion.parts.contains(credential_id)
        )
        return list(self.session.scalars(query))

    # recognition ---------------------------------------------------------------------
    def recognition_rules(self, issuer_ids: list[int] | None = None) -> list[models.RecognitionRule]:
        query = select(models.RecognitionRule).order_by(models.RecognitionRule.programme, models.RecognitionRule.id)
        if issuer_ids is not None:
            query = query.where(models.RecognitionRule.issuer_id.in_(issuer_ids))
        return list(self.session.scalars(query))

    def recognition_rule(self, rule_id: int) -> models.RecognitionRule | None:
        return self.session.get(models.RecognitionRule, rule_id) if models.storable_id(rule_id) else None

    def recognition_request(self, request_id: str, *, lock: bool = False) -> models.RecognitionRequest | None:
        query = select(models.RecognitionRequest).where(models.RecognitionRequest.id == request_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def recognition_requests(
        self, *, rule_ids: list[int] | None = None, email: str | None = None, since: datetime | None = None
    ) -> list[models.RecognitionRequest]:
        query = select(models.RecognitionRequest).order_by(models.RecognitionRequest.created_at.desc())
        if rule_ids is not None:
            query = query.where(models.RecognitionRequest.rule_id.in_(rule_ids))
        if email is not None:
            query = query.where(models.RecognitionRequest.recipient_email == email)
        if since is not None:
            query = query.where(models.RecognitionRequest.created_at >= since)
        return list(self.session.scalars(query))

    def learners_holding(self, microcredential_ids: list[str], limit: int) -> list[str]:
        """Emails of learners awarded any of these microcredentials (any version)."""
        versions = select(models.MicrocredentialVersion.id).where(
            models.MicrocredentialVersion.microcredential_id.in_(microcredential_ids)
        )
        query = (
            select(models.Award.recipient_email)
            .where(models.Award.version_id.in_(versions))
            .distinct()
            .order_by(models.Award.recipient_email)
            .limit(limit)
        )
        return list(self.session.scalars(query))
