"""Queries the web application needs: sessions, sign-in back-off, links, wallets, console views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from microcred.storage import models

COUNTERS = ("view_count", "verify_count", "share_count")


@dataclass(frozen=True, slots=True)
class AwardFilter:
    organisation_id: int | None = None  # None: every organisation (platform admin)
    text: str | None = None  # part of the email, name or external id
    microcredential_id: str | None = None
    status: str | None = None  # active, revoked, suspended, expired, claimed, unclaimed
    now: datetime | None = None


class WebQueries:
    session: Session

    # sessions and sign-in ---------------------------------------------------
    def web_session(self, session_id: str) -> models.WebSession | None:
        return self.session.get(models.WebSession, session_id)

    def end_web_sessions(self, user_id: int) -> None:
        self.session.execute(delete(models.WebSession).where(models.WebSession.user_id == user_id))

    def end_web_session(self, session_id: str) -> None:
        self.session.execute(delete(models.WebSession).where(models.WebSession.id == session_id))

    def login_failures(
        self, *, email: str | None = None, address: str | None = None, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many failures since a moment, for an email or an address, and the latest one."""
        query = select(func.count(), func.max(models.LoginFailure.at)).where(models.LoginFailure.at >= since)
        if email is not None:
            query = query.where(models.LoginFailure.email == email)
        if address is not None:
            query = query.where(models.LoginFailure.address == address)
        count, latest = self.session.execute(query).one()
        if isinstance(latest, datetime) and latest.tzinfo is None:
            from datetime import UTC

            latest = latest.replace(tzinfo=UTC)  # aggregates bypass the column type on SQLite
        return int(count), latest

    def clear_login_failures(self, email: str) -> None:
        self.session.execute(delete(models.LoginFailure).where(models.LoginFailure.email == email))

    def one_time_token(self, token_hash: str, *, lock: bool = False) -> models.OneTimeToken | None:
        query = select(models.OneTimeToken).where(models.OneTimeToken.token_hash == token_hash)
        return self.session.scalar(query.with_for_update() if lock else query)

    def claim_token_for(self, award_id: str) -> models.OneTimeToken | None:
        return self.session.scalar(
            select(models.OneTimeToken)
            .where(models.OneTimeToken.award_id == award_id, models.OneTimeToken.purpose == "claim")
            .order_by(models.OneTimeToken.created_at.desc())
            .limit(1)
        )

    def users_of(self, organisation_id: int | None) -> list[models.User]:
        query = select(models.User).order_by(models.User.email)
        if organisation_id is not None:
            query = query.where(models.User.organisation_id == organisation_id)
        return list(self.session.scalars(query))

    def tokens_of(self, organisation_id: int | None, user_id: int | None = None) -> list[models.ApiToken]:
        query = select(models.ApiToken).order_by(models.ApiToken.created_at.desc())
        if organisation_id is not None:
            query = query.where(models.ApiToken.organisation_id == organisation_id)
        if user_id is not None:
            query = query.where(models.ApiToken.user_id == user_id)
        return list(self.session.scalars(query.limit(200)))

    # wallets ----------------------------------------------------------------
    def wallet_items(self, user_id: int) -> list[models.WalletItem]:
        query = select(models.WalletItem).where(models.WalletItem.user_id == user_id)
        return list(self.session.scalars(query.order_by(models.WalletItem.imported_at.desc())))

    def wallet_item(self, item_id: str) -> models.WalletItem | None:
        return self.session.get(models.WalletItem, item_id)

    def wallet_duplicate(self, user_id: int, digest: str, credential_id: str | None) -> models.WalletItem | None:
        match = models.WalletItem.digest == digest
        if credential_id:
            match = or_(match, models.WalletItem.credential_id == credential_id)
        return self.session.scalar(
            select(models.WalletItem).where(models.WalletItem.user_id == user_id, match).limit(1)
        )

    def delete_wallet_item(self, item_id: str) -> None:
        self.session.execute(delete(models.WalletItem).where(models.WalletItem.id == item_id))

    # awards in the console ------------------------------------------------
    def count_up(self, award_id: str, counter: str, amount: int = 1) -> None:
        if counter not in COUNTERS:
            raise ValueError(counter)
        column = getattr(models.Award, counter)
        self.session.execute(update(models.Award).where(models.Award.id == award_id).values({column: column + amount}))

    def mark_claimed(self, award_ids: list[str], at: datetime) -> None:
        if award_ids:
            self.session.execute(
                update(models.Award)
                .where(models.Award.id.in_(award_ids), models.Award.claimed_at.is_(None))
                .values(claimed_at=at)
            )

    def mark_claimed_for(self, email: str, at: datetime) -> None:
        self.session.execute(
            update(models.Award)
            .where(models.Award.recipient_email == email, models.Award.claimed_at.is_(None))
            .values(claimed_at=at)
        )

    def search_awards(
        self, where: AwardFilter, *, limit: int, offset: int
    ) -> tuple[int, list[tuple[models.Award, str]]]:
        """Awards with their microcredential id, newest first, and how many match in all."""
        query = select(models.Award, models.MicrocredentialVersion.microcredential_id).join(
            models.MicrocredentialVersion, models.MicrocredentialVersion.id == models.Award.version_id
        )
        query = _filtered(query, where)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.execute(
            query.order_by(models.Award.issued_at.desc(), models.Award.id).limit(limit).offset(offset)
        ).all()
        return int(total), [(award, mc_id) for award, mc_id in rows]

    def award_totals(self, organisation_id: int | None) -> dict[str, int]:
        query = select(
            func.count(),
            func.count(models.Award.claimed_at),
            func.count(models.Award.revoked_at),
            func.coalesce(func.sum(models.Award.view_count), 0),
            func.coalesce(func.sum(models.Award.verify_count), 0),
            func.coalesce(func.sum(models.Award.share_count), 0),
        )
        query = _in_organisation(query, organisation_id)
        awarded, claimed, revoked, viewed, verified, shared = self.session.execute(query).one()
        return {
            "awarded": int(awarded), "claimed": int(claimed), "revoked": int(revoked),
            "viewed": int(viewed), "verified": int(verified), "shared": int(shared),
        }  # fmt: skip

    def award_dates(self, organisation_id: int | None, since: datetime) -> list[datetime]:
        query = _in_organisation(select(models.Award.issued_at).where(models.Award.issued_at >= since), organisation_id)
        return list(self.session.scalars(query))

    def awards_per_version(self, organisation_id: int | None) -> list[tuple[str, int]]:
        """(version definition JSON, award count) for every version with awards."""
        query = (
            select(models.MicrocredentialVersion.definition, func.count(models.Award.id))
            .join(models.Award, models.Award.version_id == models.MicrocredentialVersion.id)
            .group_by(models.MicrocredentialVersion.id, models.MicrocredentialVersion.definition)
        )
        query = _in_organisation(query, organisation_id)
        return [(definition, int(count)) for definition, count in self.session.execute(query)]

    def catalogue(
        self, organisation_id: int | None, *, published_only: bool = False
    ) -> list[tuple[models.Microcredential, models.Issuer, str, int]]:
        """Microcredentials with their issuer, current definition and number of awards (drafts too, unless
        `published_only`: the public catalogue)."""
        awards = (
            select(func.count(models.Award.id))
            .join(models.MicrocredentialVersion, models.MicrocredentialVersion.id == models.Award.version_id)
            .where(models.MicrocredentialVersion.microcredential_id == models.Microcredential.id)
            .scalar_subquery()
        )
        query = (
            select(models.Microcredential, models.Issuer, models.MicrocredentialVersion.definition, awards)
            .join(models.Issuer, models.Issuer.id == models.Microcredential.issuer_id)
            .join(
                models.MicrocredentialVersion,
                (models.MicrocredentialVersion.microcredential_id == models.Microcredential.id)
                & (models.MicrocredentialVersion.version == models.Microcredential.current_version),
            )
            .order_by(models.Microcredential.created_at.desc())
        )
        if organisation_id is not None:
            query = query.where(models.Issuer.organisation_id == organisation_id)
        if published_only:
            query = query.where(models.Microcredential.published_at.is_not(None))
        return [(mc, issuer, definition, int(n)) for mc, issuer, definition, n in self.session.execute(query)]

    def award_with_microcredential(self, award_id: str) -> tuple[models.Award, str] | None:
        row = self.session.execute(
            select(models.Award, models.MicrocredentialVersion.microcredential_id)
            .join(models.MicrocredentialVersion, models.MicrocredentialVersion.id == models.Award.version_id)
            .where(models.Award.id == award_id)
        ).first()
        return (row[0], row[1]) if row else None


def _in_organisation(query: Any, organisation_id: int | None) -> Any:
    if organisation_id is None:
        return query
    issuers = select(models.Issuer.id).where(models.Issuer.organisation_id == organisation_id)
    return query.where(models.Award.issuer_id.in_(issuers))


def _filtered(query: Any, where: AwardFilter) -> Any:
    query = _in_organisation(query, where.organisation_id)
    if where.text:
        pattern = f"%{where.text.strip().lower()}%"
        query = query.where(
            or_(
                models.Award.recipient_email.like(pattern),
                func.lower(models.Award.recipient_name).like(pattern),
                func.lower(models.Award.external_id).like(pattern),
            )
        )
    if where.microcredential_id:
        query = query.where(models.MicrocredentialVersion.microcredential_id == where.microcredential_id)
    status = where.status
    if status == "revoked":
        query = query.where(models.Award.revoked_at.is_not(None))
    elif status == "suspended":
        query = query.where(models.Award.revoked_at.is_(None), models.Award.suspended.is_(True))
    elif status == "active":
        query = query.where(models.Award.revoked_at.is_(None), models.Award.suspended.is_(False))
        if where.now is not None:
            query = query.where(or_(models.Award.valid_until.is_(None), models.Award.valid_until > where.now))
    elif status == "expired" and where.now is not None:
        query = query.where(models.Award.valid_until <= where.now)
    elif status == "claimed":
        query = query.where(models.Award.claimed_at.is_not(None))
    elif status == "unclaimed":
        query = query.where(models.Award.claimed_at.is_(None))
    return query
