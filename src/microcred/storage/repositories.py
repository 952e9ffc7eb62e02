"""Repositories: every query the services need, inside one unit of work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from microcred.errors import InputError
from microcred.storage import models
from microcred.storage.oauth_queries import OAuthQueries
from microcred.storage.pathway_queries import PathwayQueries
from microcred.storage.skill_queries import SkillQueries
from microcred.storage.web_queries import WebQueries
from microcred.storage.webhook_queries import WebhookQueries

T = TypeVar("T")


class DuplicateError(Exception):
    """A uniqueness constraint refused the write (the caller decides what that means)."""


class Repository(WebQueries, PathwayQueries, SkillQueries, WebhookQueries, OAuthQueries):
    """The unit of work's view of the database. Flushes, never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: T) -> T:
        self.session.add(row)
        self.session.flush()
        return row

    def stage(self, row: Any) -> None:
        """Add without flushing: the rows go out together at the next flush or commit."""
        self.session.add(row)

    def insert_many(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """A multi-row INSERT through Core (no ORM objects): the bulk path."""
        if rows:
            self.session.flush()
            self.session.execute(insert(model), rows)

    def flush(self) -> None:
        self.session.flush()

    @contextmanager
    def no_autoflush(self) -> Iterator[None]:
        with self.session.no_autoflush:
            yield

    def add_unique(self, row: T) -> T:
        """Add, turning a uniqueness violation into DuplicateError without losing the transaction."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:
            raise DuplicateError(str(exc.orig)) from exc
        return row

    def audit(
        self,
        at: datetime,
        actor: str,
        action: str,
        organisation_id: int | None,
        subject: str | None,
        detail: dict[str, Any],
    ) -> None:
        self.session.add(
            models.AuditEvent(
                at=at,
                actor=actor,
                action=action,
                organisation_id=organisation_id,
                subject=subject,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )

    # users and tokens ----------------------------------------------------
    def user_by_email(self, email: str) -> models.User | None:
        return self.session.scalar(select(models.User).where(models.User.email == email))

    def user(self, user_id: int) -> models.User | None:
        return self.session.get(models.User, user_id) if models.storable_id(user_id) else None

    def token_by_hash(self, token_hash: str) -> models.ApiToken | None:
        return self.session.scalar(select(models.ApiToken).where(models.ApiToken.token_hash == token_hash))

    def token_by_prefix(self, prefix: str) -> models.ApiToken | None:
        return self.session.scalar(select(models.ApiToken).where(models.ApiToken.prefix == prefix))

    # organisations, issuers, keys ---------------------------------------
    def organisation_by_slug(self, slug: str) -> models.Organisation | None:
        return self.session.scalar(select(models.Organisation).where(models.Organisation.slug == slug))

    def issuer_by_slug(self, slug: str) -> models.Issuer | None:
        return self.session.scalar(select(models.Issuer).where(models.Issuer.slug == slug))

    def issuer_by_did(self, did: str) -> models.Issuer | None:
        return self.session.scalar(select(models.Issuer).where(models.Issuer.did == did))

    def issuer(self, issuer_id: int) -> models.Issuer | None:
        return self.session.get(models.Issuer, issuer_id) if models.storable_id(issuer_id) else None

    def lock_issuers(self, issuer_ids: list[int]) -> None:
        """Row locks on issuers, in id order so that concurrent lockers cannot deadlock."""
        if issuer_ids:
            list(
                self.session.scalars(
                    select(models.Issuer.id)
                    .where(models.Issuer.id.in_(issuer_ids))
                    .order_by(models.Issuer.id)
                    .with_for_update()
                )
            )

    def organisations(self) -> list[models.Organisation]:
        return list(self.session.scalars(select(models.Organisation).order_by(models.Organisation.slug)))

    def versions(self, mc_id: str) -> list[models.MicrocredentialVersion]:
        query = select(models.MicrocredentialVersion).where(models.MicrocredentialVersion.microcredential_id == mc_id)
        return list(self.session.scalars(query.order_by(models.MicrocredentialVersion.version)))

    def count_awards(self, version_id: int) -> int:
        return int(self.session.scalar(select(func.count()).where(models.Award.version_id == version_id)) or 0)

    def issuers(self) -> list[models.Issuer]:
        return list(self.session.scalars(select(models.Issuer).order_by(models.Issuer.slug)))

    def platform_keys(self) -> list[models.PlatformKey]:
        return list(self.session.scalars(select(models.PlatformKey).order_by(models.PlatformKey.id)))

    def image(self, microcredential_id: str) -> models.Image | None:
        return self.session.get(models.Image, microcredential_id)

    def issuer_logo(self, issuer_id: int) -> models.IssuerLogo | None:
        return self.session.get(models.IssuerLogo, issuer_id)

    def keys(self, issuer_id: int) -> list[models.IssuerKey]:
        return list(
            self.session.scalars(
                select(models.IssuerKey).where(models.IssuerKey.issuer_id == issuer_id).order_by(models.IssuerKey.id)
            )
        )

    def active_key(self, issuer_id: int) -> models.IssuerKey | None:
        return self.session.scalar(
            select(models.IssuerKey).where(models.IssuerKey.issuer_id == issuer_id, models.IssuerKey.active.is_(True))
        )

    def retire_keys(self, issuer_id: int, at: datetime) -> None:
        self.session.execute(
            update(models.IssuerKey)
            .where(models.IssuerKey.issuer_id == issuer_id, models.IssuerKey.active.is_(True))
            .values(active=False, retired_at=at)
        )

    # microcredentials ----------------------------------------------------
    def microcredential(self, mc_id: str, *, lock: bool = False) -> models.Microcredential | None:
        query = select(models.Microcredential).where(models.Microcredential.id == mc_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def version(self, mc_id: str, version: int) -> models.MicrocredentialVersion | None:
        return self.session.scalar(
            select(models.MicrocredentialVersion).where(
                models.MicrocredentialVersion.microcredential_id == mc_id,
                models.MicrocredentialVersion.version == version,
            )
        )

    def version_has_awards(self, version_id: int) -> bool:
        return (
            self.session.scalar(select(models.Award.id).where(models.Award.version_id == version_id).limit(1))
            is not None
        )

    def award(self, award_id: str, *, lock: bool = False) -> models.Award | None:
        query = select(models.Award).where(models.Award.id == award_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def awards_by_row_keys(self, row_keys: list[str]) -> dict[str, models.Award]:
        found: dict[str, models.Award] = {}
        for start in range(0, len(row_keys), 500):
            chunk = row_keys[start : start + 500]
            for award in self.session.scalars(select(models.Award).where(models.Award.row_key.in_(chunk))):
                found[award.row_key] = award
        return found

    def awards(
        self,
        *,
        microcredential_id: str | None = None,
        email: str | None = None,
        limit: int = 100,
        offset: int = 0,
        organisation_id: int | None = None,
    ) -> list[models.Award]:
        query = select(models.Award).order_by(models.Award.issued_at, models.Award.id)
        if organisation_id is not None:
            issuers = select(models.Issuer.id).where(models.Issuer.organisation_id == organisation_id)
            query = query.where(models.Award.issuer_id.in_(issuers))
        if microcredential_id is not None:
            versions = select(models.MicrocredentialVersion.id).where(
                models.MicrocredentialVersion.microcredential_id == microcredential_id
            )
            query = query.where(models.Award.version_id.in_(versions))
        if email is not None:
            query = query.where(models.Award.recipient_email == email)
        return list(self.session.scalars(query.limit(limit).offset(offset)))

    # status lists --------------------------------------------------------------
    def open_status_list(self, issuer_id: int, purpose: str, status_size: int = 1) -> models.StatusList | None:
        """The newest list for (issuer, purpose, entry width), locked for allocation."""
        return self.session.scalar(
            select(models.StatusList)
            .where(
                models.StatusList.issuer_id == issuer_id,
                models.StatusList.purpose == purpose,
                models.StatusList.status_size == status_size,
            )
            .order_by(models.StatusList.sequence.desc())
            .limit(1)
            .with_for_update()
        )

    def last_status_sequence(self, issuer_id: int, purpose: str) -> int:
        found = self.session.scalar(
            select(func.max(models.StatusList.sequence)).where(
                models.StatusList.issuer_id == issuer_id, models.StatusList.purpose == purpose
            )
        )
        return int(found or 0)

    def status_list(
        self, issuer_id: int, purpose: str, sequence: int, *, lock: bool = False
    ) -> models.StatusList | None:
        query = select(models.StatusList).where(
            models.StatusList.issuer_id == issuer_id,
            models.StatusList.purpose == purpose,
            models.StatusList.sequence == sequence,
        )
        return self.session.scalar(query.with_for_update() if lock else query)

    def status_list_by_id(self, list_id: int, *, lock: bool = False) -> models.StatusList | None:
        query = select(models.StatusList).where(models.StatusList.id == list_id)
        return self.session.scalar(query.with_for_update() if lock else query)

    def status_entries(self, award_id: str) -> list[models.StatusEntry]:
        return list(self.session.scalars(select(models.StatusEntry).where(models.StatusEntry.award_id == award_id)))

    # VC-API credentials -------------------------------------------------------
    def vcapi_credentials(self, issuer_ids: list[int], ref: str, *, lock: bool = False) -> list[models.VcApiCredential]:
        """Credentials signed through the VC-API under `ref` (options.credentialId or credential.id), oldest first."""
        query = (
            select(models.VcApiCredential)
            .where(models.VcApiCredential.issuer_id.in_(issuer_ids), models.VcApiCredential.credential_ref == ref)
            .order_by(models.VcApiCredential.issued_at, models.VcApiCredential.id)
        )
        return list(self.session.scalars(query.with_for_update() if lock else query))

    def vcapi_status_entries(self, credential_id: str) -> list[models.VcApiStatusEntry]:
        query = select(models.VcApiStatusEntry).where(models.VcApiStatusEntry.credential_id == credential_id)
        return list(self.session.scalars(query))

    def bulk_job(self, job_id: str) -> models.BulkJob | None:
        return self.session.get(models.BulkJob, job_id)

    def bulk_errors(self, job_id: str, limit: int = 1000, offset: int = 0) -> list[models.BulkJobError]:
        query = (
            select(models.BulkJobError).where(models.BulkJobError.job_id == job_id).order_by(models.BulkJobError.line)
        )
        return list(self.session.scalars(query.limit(limit).offset(offset)))

    def audit_events(self, organisation_id: int | None = None, limit: int = 100) -> list[models.AuditEvent]:
        query = select(models.AuditEvent).order_by(models.AuditEvent.id.desc()).limit(limit)
        if organisation_id is not None:
            query = query.where(models.AuditEvent.organisation_id == organisation_id)
        return list(self.session.scalars(query))

    def audit_search(
        self, organisation_id: int | None, *, text: str | None = None, area: str | None = None,
        actor: str | None = None, limit: int = 50, offset: int = 0,
    ) -> tuple[list[models.AuditEvent], int]:  # fmt: skip
        """One page of the log, newest first (by time, then order of writing), and how many events match."""
        event = models.AuditEvent
        where = []
        if organisation_id is not None:
            where.append(event.organisation_id == organisation_id)
        if area:
            where.append(event.action.startswith(area + ".", autoescape=True))
        if actor:
            where.append(func.lower(event.actor) == actor.lower())
        if text:
            pattern = f"%{text.lower()}%"
            where.append(
                func.lower(event.actor).like(pattern) | func.lower(event.subject).like(pattern)
                | func.lower(event.detail).like(pattern) | func.lower(event.action).like(pattern)
            )  # fmt: skip
        total = int(self.session.scalar(select(func.count()).select_from(event).where(*where)) or 0)
        query = select(event).where(*where).order_by(event.at.desc(), event.id.desc()).limit(limit).offset(offset)
        return list(self.session.scalars(query)), total

    def count(self, model: Any) -> int:
        return int(self.session.scalar(select(func.count()).select_from(model)) or 0)


class Database:
    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    def read(self) -> AbstractContextManager[Repository]:
        """A unit of work that only reads (never waits behind a writer on SQLite)."""
        return _unit(self._read_sessions)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    def transaction(self) -> AbstractContextManager[Repository]:
        """One unit of work: commit on success, roll back on any error."""
        return _unit(self._sessions)


@contextmanager
def _unit(sessions: sessionmaker[Session]) -> Iterator[Repository]:
    session = sessions()
    try:
        with session.begin():
            yield Repository(session)
    except DataError as exc:
        # a value the database cannot hold or compare (PostgreSQL refuses NUL characters in text, for
        # one): the caller's input, not a fault of ours; the unit of work was rolled back
        raise InputError(f"a value given cannot be stored or searched for: {str(exc.orig).strip()[:160]}") from exc
    finally:
        session.close()
