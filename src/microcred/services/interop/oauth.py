"""The OAuth 2.0 authorization server of the Open Badges 3.0 API (OB 3.0 section 7).

Clients register themselves (RFC 7591, no initial token). A signed-in learner consents on our page;
the code that comes back is single use, lives 600 s and is bound to the client, the exact redirect
URI and a PKCE S256 challenge (mandatory). A second use of a code is refused and revokes what the
first one issued. Access tokens live 3,600 s; refresh tokens rotate, and a rotated one presented
again revokes the grant (it was stolen or replayed). Only SHA-256 digests of codes, tokens and
client secrets are stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from microcred.errors import OAuthError
from microcred.services.issuing import NotFound, Runtime
from microcred.standards import ob3_api
from microcred.standards.ob3_api import RegistrationError
from microcred.storage import models

CODE_SECONDS = 600
ACCESS_SECONDS = 3600
REFRESH_DAYS = 90
SECRET_DAYS = 365
ACCESS_PREFIX, REFRESH_PREFIX, CODE_PREFIX = "mcoa_", "mcor_", "mcoc_"


def _settled(outcome: dict[str, Any] | OAuthError) -> dict[str, Any]:
    """A refusal that had to commit first (a replay revokes what it finds) is raised afterwards."""
    if isinstance(outcome, OAuthError):
        raise outcome
    return outcome


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked /authorize request: everything the consent page shows and the code is bound to."""

    client: models.OAuthClient
    metadata: dict[str, Any]
    redirect_uri: str
    scopes: list[str]
    state: str
    challenge: str


class RedirectableError(OAuthError):
    """An authorization error the client learns about at its own redirect URI (RFC 6749 4.1.2.1)."""

    def __init__(self, error: str, message: str, redirect_uri: str, state: str | None) -> None:
        super().__init__(error, message)
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True, slots=True)
class Access:
    """Who a bearer token speaks for, and what it may do."""

    user_id: int
    client_id: str
    scopes: frozenset[str]
    grant_id: str


class OAuthServer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # -- registration ---------------------------------------------------------------------
    def register(self, body: Any, address: str) -> dict[str, Any]:
        """RFC 7591: the accepted metadata with the new client's id, secret and their times."""
        try:
            metadata = ob3_api.client_metadata(body)
        except RegistrationError as exc:
            raise OAuthError(exc.error, exc.description) from exc
        now = self.runtime.clock.now()
        client_id, secret = secrets.token_hex(16), secrets.token_urlsafe(32)
        expires = now + timedelta(days=SECRET_DAYS)
        with self.runtime.db.transaction() as repo:
            repo.add(
                models.OAuthClient(
                    client_id=client_id, secret_hash=digest(secret), name=metadata["client_name"],
                    metadata_json=json.dumps(metadata), registered_at=now, secret_expires_at=expires,
                    registered_from=address[:64],
                )
            )  # fmt: skip
            self.runtime.audit(repo, f"client:{client_id}", "oauth.register", None, client_id,
                               name=metadata["client_name"][:100])  # fmt: skip
        return {
            "client_id": client_id,
            "client_secret": secret,
            "client_id_issued_at": int(now.timestamp()),
            "client_secret_expires_at": int(expires.timestamp()),
            **metadata,
        }

    def authenticate_client(self, client_id: str | None, secret: str | None) -> models.OAuthClient:
        """client_secret_basic; anything else is invalid_client (401)."""
        if not client_id or secret is None:
            raise OAuthError("invalid_client", "authenticate with HTTP Basic: the client_id and client_secret", 401)
        with self.runtime.db.read() as repo:
            client = repo.oauth_client(client_id)
        if client is None or not hmac.compare_digest(client.secret_hash, digest(secret)):
            raise OAuthError("invalid_client", "unknown client or wrong client secret", 401)
        if client.secret_expires_at <= self.runtime.clock.now():
            raise OAuthError("invalid_client", "the client secret has expired: register again", 401)
        return client

    # -- authorization ------------------------------------------------------------------------
    def check_authorization(self, params: dict[str, str]) -> AuthorizationRequest:
        """An /authorize request checked in the order RFC 6749 4.1.2.1 asks: a bad client or redirect
        URI is OAuthError (shown to the user, never redirected to); anything else is RedirectableError."""
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        with self.runtime.db.read() as repo:
            client = repo.oauth_client(client_id) if client_id else None
        if client is None:
            raise OAuthError("invalid_client", "this application is not registered here (unknown client_id)")
        metadata = json.loads(client.metadata_json)
        if redirect_uri not in metadata["redirect_uris"]:
            raise OAuthError(
                "invalid_request", "the redirect_uri is not one this application registered, so it is not followed"
            )
        state = params.get("state") or None

        def refuse(error: str, message: str) -> RedirectableError:
            return RedirectableError(error, message, redirect_uri, state)

        if params.get("response_type") != "code":
            raise refuse("unsupported_response_type", "response_type must be code")
        if not state:
            raise refuse("invalid_request", "state is required")
        if params.get("code_challenge_method") != "S256" or not ob3_api.valid_challenge(params.get("code_challenge")):
            raise refuse("invalid_request", "PKCE is required: code_challenge (S256, 43 characters) and "
                                            "code_challenge_method=S256")  # fmt: skip
        scopes = ob3_api.parse_scope(params.get("scope"))
        allowed = set(ob3_api.parse_scope(metadata["scope"]))
        if not scopes or not set(scopes) <= allowed or not set(scopes) & set(ob3_api.SCOPES):
            raise refuse("invalid_scope", "scope must name Open Badges scopes this application registered")
        if client.secret_expires_at <= self.runtime.clock.now():
            raise refuse("unauthorized_client", "the application's registration has expired")
        return AuthorizationRequest(client, metadata, redirect_uri, scopes, state, params["code_challenge"])

    def issue_code(self, request: AuthorizationRequest, user_id: int, actor: str) -> str:
        code = CODE_PREFIX + secrets.token_urlsafe(32)
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            repo.add(
                models.OAuthCode(
                    code_hash=digest(code), client_id=request.client.client_id, user_id=user_id,
                    redirect_uri=request.redirect_uri, scope=ob3_api.scope_text(request.scopes),
                    challenge=request.challenge, created_at=now, expires_at=now + timedelta(seconds=CODE_SECONDS),
                    used_at=None, grant_id=None,
                )
            )  # fmt: skip
            self.runtime.audit(repo, actor, "oauth.consent", None, request.client.client_id,
                               scope=ob3_api.scope_text(request.scopes))  # fmt: skip
        return code

    # -- tokens -------------------------------------------------------------------------------------
    def exchange_code(self, client: models.OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        return _settled(self._exchange(client, form))

    def refresh(self, client: models.OAuthClient, form: dict[str, str]) -> dict[str, Any]:
        return _settled(self._refresh(client, form))

    def _exchange(self, client: models.OAuthClient, form: dict[str, str]) -> dict[str, Any] | OAuthError:
        code, now = form.get("code", ""), self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            row = repo.oauth_code(digest(code), lock=True) if code else None
            if row is None or row.client_id != client.client_id:
                raise OAuthError("invalid_grant", "unknown authorization code")
            if row.used_at is not None:
                # a replayed code: what the first exchange issued goes too (OB 3.0 7.3.1.2)
                repo.revoke_oauth_grants([row.grant_id] if row.grant_id else [], now)
                self.runtime.audit(repo, f"client:{client.client_id}", "oauth.code_replayed", None, client.client_id)
                return OAuthError("invalid_grant", "the authorization code was already used; the tokens it issued "
                                                   "are revoked")  # fmt: skip
            if row.expires_at <= now:
                raise OAuthError("invalid_grant", "the authorization code has expired")
            if form.get("redirect_uri") != row.redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri differs from the one the code was issued for")
            if not ob3_api.verifier_matches(form.get("code_verifier"), row.challenge):
                raise OAuthError("invalid_grant", "the code_verifier does not match the code_challenge (PKCE)")
            scopes = self._narrowed(row.scope, form.get("scope"))
            grant = repo.add(
                models.OAuthGrant(id=str(uuid.uuid4()), client_id=client.client_id, user_id=row.user_id,
                                  scope=ob3_api.scope_text(scopes), created_at=now, last_used_at=None,
                                  revoked_at=None)
            )  # fmt: skip
            row.used_at, row.grant_id = now, grant.id
            return self._tokens(repo, client, grant, scopes, now)

    def _refresh(self, client: models.OAuthClient, form: dict[str, str]) -> dict[str, Any] | OAuthError:
        token, now = form.get("refresh_token", ""), self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            row = repo.oauth_token(digest(token), lock=True) if token.startswith(REFRESH_PREFIX) else None
            grant = repo.oauth_grant(row.grant_id) if row is not None else None
            if row is None or row.kind != "refresh" or grant is None or grant.client_id != client.client_id:
                raise OAuthError("invalid_grant", "unknown refresh token")
            if row.used_at is not None and row.revoked_at is None:
                repo.revoke_oauth_grants([grant.id], now)  # a rotated token came back: someone copied it
                return OAuthError("invalid_grant", "the refresh token was already used; the grant is revoked, "
                                                   "ask the learner again")  # fmt: skip
            if row.revoked_at is not None or grant.revoked_at is not None:
                raise OAuthError("invalid_grant", "the refresh token was revoked")
            if row.expires_at <= now:
                raise OAuthError("invalid_grant", "the refresh token has expired")
            scopes = self._narrowed(row.scope, form.get("scope"))
            row.used_at = now
            return self._tokens(repo, client, grant, scopes, now)

    def _narrowed(self, granted: str, asked: str | None) -> list[str]:
        have = ob3_api.parse_scope(granted)
        if asked is None or not asked.strip():
            return have
        wanted = ob3_api.parse_scope(asked)
        if not set(wanted) <= set(have):
            raise OAuthError("invalid_scope", "the scope asks for more than the learner granted")
        return wanted

    def _tokens(
        self, repo: Any, client: models.OAuthClient, grant: models.OAuthGrant, scopes: list[str], now: datetime
    ) -> dict[str, Any]:
        access = ACCESS_PREFIX + secrets.token_urlsafe(32)
        text = ob3_api.scope_text(scopes)
        repo.add(models.OAuthToken(token_hash=digest(access), grant_id=grant.id, kind="access", scope=text,
                                   created_at=now, expires_at=now + timedelta(seconds=ACCESS_SECONDS),
                                   used_at=None, revoked_at=None))  # fmt: skip
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_SECONDS,
                                  "scope": text}  # fmt: skip
        if "refresh_token" in json.loads(client.metadata_json)["grant_types"]:
            refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
            repo.add(models.OAuthToken(token_hash=digest(refresh), grant_id=grant.id, kind="refresh",
                                       scope=grant.scope, created_at=now,
                                       expires_at=now + timedelta(days=REFRESH_DAYS), used_at=None,
                                       revoked_at=None))  # fmt: skip
            answer["refresh_token"] = refresh
        return answer

    def revoke(self, client: models.OAuthClient, token: str, hint: str | None) -> None:
        """RFC 7009: a refresh token takes its grant with it; an access token goes alone. An unknown
        token, or another client's, changes nothing and is not an error."""
        if hint not in (None, "", "access_token", "refresh_token"):
            raise OAuthError("unsupported_token_type", "token_type_hint must be access_token or refresh_token")
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            row = repo.oauth_token(digest(token), lock=True) if token else None
            grant = repo.oauth_grant(row.grant_id) if row is not None else None
            if row is None or grant is None or grant.client_id != client.client_id:
                return
            if row.kind == "refresh":
                repo.revoke_oauth_grants([grant.id], now)
            elif row.revoked_at is None:
                row.revoked_at = now

    # -- resource access ------------------------------------------------------------------------------
    def access(self, token: str) -> Access | None:
        """The live access token's grant, or None (unknown, expired, revoked)."""
        if not token.startswith(ACCESS_PREFIX):
            return None
        now = self.runtime.clock.now()
        with self.runtime.db.read() as repo:
            row = repo.oauth_token(digest(token))
            grant = repo.oauth_grant(row.grant_id) if row is not None else None
            if row is None or grant is None or row.kind != "access":
                return None
            if row.revoked_at is not None or grant.revoked_at is not None or row.expires_at <= now:
                return None
            return Access(grant.user_id, grant.client_id, frozenset(ob3_api.parse_scope(row.scope)), grant.id)

    # -- the operator's view -----------------------------------------------------------------------------
    def clients(self) -> list[dict[str, Any]]:
        """Every registered application, with how many learners' grants are live."""
        with self.runtime.db.read() as repo:
            rows, live = repo.oauth_clients(), repo.live_grants_by_client()
        now = self.runtime.clock.now()
        return [client_json(row, len(live.get(row.client_id, [])), now) for row in rows]

    def remove_client(self, client_id: str, actor: str) -> int:
        """Stop an application: its secret no longer authenticates and every grant it holds is revoked."""
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            client = repo.oauth_client(client_id)
            if client is None:
                raise NotFound(f"no application {client_id!r} is registered")
            grants = repo.live_grants_by_client().get(client_id, [])
            repo.revoke_oauth_grants(grants, now)
            client.secret_expires_at = min(client.secret_expires_at, now)
            self.runtime.audit(repo, actor, "oauth.remove_client", None, client_id, grants=len(grants))
        return len(grants)

    # -- the learner's connected applications -------------------------------------------------------------
    def connected(self, user_id: int) -> list[dict[str, Any]]:
        """One entry per application: its name and links, what it may do, since when."""
        with self.runtime.db.read() as repo:
            rows = repo.oauth_grants(user_id)
        found: dict[str, dict[str, Any]] = {}
        for grant, client in rows:
            entry = found.setdefault(client.client_id, {
                "client_id": client.client_id, "metadata": json.loads(client.metadata_json),
                "scopes": set(), "since": grant.created_at,
            })  # fmt: skip
            entry["scopes"] |= set(ob3_api.parse_scope(grant.scope))
            entry["since"] = min(entry["since"], grant.created_at)
        return list(found.values())

    def disconnect(self, user_id: int, client_id: str, actor: str) -> int:
        """Revoke every grant the learner gave this application; how many there were."""
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            grants = [g.id for g, c in repo.oauth_grants(user_id) if c.client_id == client_id]
            repo.revoke_oauth_grants(grants, now)
            if grants:
                self.runtime.audit(repo, actor, "oauth.disconnect", None, client_id)
        return len(grants)


def client_json(client: models.OAuthClient, live_grants: int, now: datetime) -> dict[str, Any]:
    metadata = json.loads(client.metadata_json)
    return {
        "client_id": client.client_id, "client_name": client.name, "client_uri": metadata["client_uri"],
        "redirect_uris": metadata["redirect_uris"], "scope": metadata["scope"],
        "registered_at": client.registered_at.isoformat(), "secret_expires_at": client.secret_expires_at.isoformat(),
        "active": client.secret_expires_at > now, "live_grants": live_grants,
    }  # fmt: skip
