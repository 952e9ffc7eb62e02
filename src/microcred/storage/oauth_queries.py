"""Queries for the OB 3.0 API's OAuth 2.0 server (clients, codes, grants, tokens) and for our own
connections to other hosts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from microcred.storage import models


class OAuthQueries:
    session: Session

    def oauth_client(self, client_id: str) -> models.OAuthClient | None:
        return self.session.get(models.OAuthClient, client_id[:40])

    def oauth_clients(self) -> list[models.OAuthClient]:
        return list(self.session.scalars(select(models.OAuthClient).order_by(models.OAuthClient.registered_at)))

    def oauth_code(self, code_hash: str, *, lock: bool = False) -> models.OAuthCode | None:
        query = select(models.OAuthCode).where(models.OAuthCode.code_hash == code_hash)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def oauth_token(self, token_hash: str, *, lock: bool = False) -> models.OAuthToken | None:
        query = select(models.OAuthToken).where(models.OAuthToken.token_hash == token_hash)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def oauth_grant(self, grant_id: str) -> models.OAuthGrant | None:
        return self.session.get(models.OAuthGrant, grant_id[:36])

    def oauth_grants(self, user_id: int) -> list[tuple[models.OAuthGrant, models.OAuthClient]]:
        """The learner's live grants, newest first, with their clients."""
        query = (
            select(models.OAuthGrant, models.OAuthClient)
            .join(models.OAuthClient, models.OAuthClient.client_id == models.OAuthGrant.client_id)
            .where(models.OAuthGrant.user_id == user_id, models.OAuthGrant.revoked_at.is_(None))
            .order_by(models.OAuthGrant.created_at.desc())
        )
        return [(grant, client) for grant, client in self.session.execute(query)]

    def live_grants_by_client(self) -> dict[str, list[str]]:
        """client id -> its live grants' ids."""
        query = select(models.OAuthGrant.client_id, models.OAuthGrant.id).where(models.OAuthGrant.revoked_at.is_(None))
        found: dict[str, list[str]] = {}
        for client_id, grant_id in self.session.execute(query):
            found.setdefault(client_id, []).append(grant_id)
        return found

    def revoke_oauth_grants(self, grant_ids: list[str], now: datetime) -> None:
        """The grants and every token they issued stop working."""
        if not grant_ids:
            return
        self.session.execute(
            update(models.OAuthGrant)
            .where(models.OAuthGrant.id.in_(grant_ids), models.OAuthGrant.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self.session.execute(
            update(models.OAuthToken)
            .where(models.OAuthToken.grant_id.in_(grant_ids), models.OAuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def api_profile(self, user_id: int) -> models.ApiProfile | None:
        return self.session.get(models.ApiProfile, user_id)

    # -- our side: registrations and connections at other hosts ---------------------------------
    def host_registration(self, api_url: str) -> models.HostRegistration | None:
        return self.session.get(models.HostRegistration, api_url[:500])

    def host_connection(self, connection_id: str) -> models.HostConnection | None:
        return self.session.get(models.HostConnection, connection_id[:36])

    def host_connection_by_state(self, state_hash: str) -> models.HostConnection | None:
        query = select(models.HostConnection).where(models.HostConnection.state_hash == state_hash)
        return self.session.scalars(query).first()

    def host_connections(self, user_id: int) -> list[tuple[models.HostConnection, models.HostRegistration]]:
        query = (
            select(models.HostConnection, models.HostRegistration)
            .join(models.HostRegistration, models.HostRegistration.api_url == models.HostConnection.api_url)
            .where(models.HostConnection.user_id == user_id, models.HostConnection.state != "disconnected")
            .order_by(models.HostConnection.created_at.desc())
        )
        return [(connection, registration) for connection, registration in self.session.execute(query)]

    # -- migrations from other platforms -------------------------------------------------------------
    def migrated_badges(self, issuer_id: int) -> list[models.MigratedBadge]:
        query = select(models.MigratedBadge).where(models.MigratedBadge.issuer_id == issuer_id)
        return list(self.session.scalars(query))
