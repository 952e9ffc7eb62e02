"""The Open Badges 3.0 API's Service Consumer: a learner connects their wallet to another OB 3.0 host,
pulls their credentials from it (each verified, and shown to be theirs, before it is kept) and pushes
ours there.

Discovery, then one dynamic registration per host (reused for every learner), then the authorization
code flow with PKCE S256 and a state bound to the learner's connection. Tokens, the client secret and
the pending verifier are sealed by the key vault. Every request goes through the guarded client, and
only when the operator allows host connections.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from microcred import __version__
from microcred.errors import FetchError, InputError, MicrocredError, UsageError
from microcred.net.client import GuardedClient, HttpAnswer
from microcred.services.issuing import Conflict, NotFound, Runtime
from microcred.services.wallet import ImportRefused, WalletService
from microcred.services.web_accounts import SessionUser
from microcred.standards import ob3_api, safejson
from microcred.standards.ob3_api import Endpoints
from microcred.storage import models

SOFTWARE_ID = "5f0c8e1e-8a7b-4d55-9a3e-6d1b0c2f7a41"  # the same for every microcred installation (RFC 7591)
WANTED = (ob3_api.CREDENTIAL_READ, ob3_api.CREDENTIAL_UPSERT, ob3_api.PROFILE_READ)
PAGE, MAX_PAGES = 100, 50
PENDING_MINUTES = 15


class HostError(InputError):
    """The other host refused, or answered something that is not the OB 3.0 API."""

    code = "host"


@dataclass(frozen=True, slots=True)
class PullOutcome:
    added: int
    already: int
    refused: list[str]  # why, per credential not taken
    pages: int


class Ob3Consumer:
    def __init__(self, runtime: Runtime, wallet: WalletService, client: GuardedClient | None) -> None:
        self.runtime = runtime
        self.wallet = wallet
        self.client = client  # None: the operator does not allow host connections

    @property
    def enabled(self) -> bool:
        return self.client is not None

    @property
    def redirect_uri(self) -> str:
        return f"{self.runtime.base_url}/wallet/connections/callback"

    # -- connecting --------------------------------------------------------------------------
    def start(self, user: SessionUser, address: str) -> str:
        """Where to send the learner's browser to authorize us at the host at `address`."""
        endpoints, registration = self._registered(_discovery_url(address))
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(24)
        scopes = [s for s in WANTED if s in endpoints.scopes] or list(WANTED)
        now = self.runtime.clock.now()
        connection_id = str(uuid.uuid4())
        with self.runtime.db.transaction() as repo:
            repo.add(
                models.HostConnection(
                    id=connection_id, user_id=user.id, api_url=registration.api_url, state="pending",
                    state_hash=_digest(state), scope=ob3_api.scope_text(scopes),
                    sealed_verifier=self.runtime.vault.seal_secret(verifier.encode(), f"connection:{connection_id}"),
                    sealed_access=None, sealed_refresh=None, access_expires_at=None, created_at=now,
                    last_pull_at=None, last_result=None,
                )
            )  # fmt: skip
        query = urlencode({
            "response_type": "code", "client_id": registration.client_id, "redirect_uri": self.redirect_uri,
            "scope": ob3_api.scope_text(scopes), "state": state, "code_challenge": ob3_api.s256(verifier),
            "code_challenge_method": "S256",
        }, quote_via=quote)  # fmt: skip
        separator = "&" if "?" in endpoints.authorization else "?"
        return f"{endpoints.authorization}{separator}{query}"

    def finish(self, user: SessionUser, params: dict[str, str]) -> models.HostConnection:
        """The host sent the learner back: trade the code for tokens."""
        state = params.get("state", "")
        with self.runtime.db.read() as repo:
            connection = repo.host_connection_by_state(_digest(state)) if state else None
            registration = repo.host_registration(connection.api_url) if connection else None
        if connection is None or registration is None or connection.user_id != user.id:
            raise NotFound("this sign-in link does not belong to a connection you started; start again")
        if (
            connection.state != "pending"
            or connection.created_at + timedelta(minutes=PENDING_MINUTES) < self.runtime.clock.now()
        ):
            raise InputError("this connection attempt has expired; start again")
        if params.get("error"):
            self._forget(connection.id, "disconnected")
            description = params.get("error_description") or params["error"]
            raise HostError(f"{registration.name} did not connect your wallet: {description[:200]}")
        assert connection.sealed_verifier is not None
        verifier = self.runtime.vault.open_secret(connection.sealed_verifier, f"connection:{connection.id}").decode()
        tokens = self._token_request(registration, {
            "grant_type": "authorization_code", "code": params.get("code", ""), "redirect_uri": self.redirect_uri,
            "code_verifier": verifier, "scope": connection.scope,
        })  # fmt: skip
        with self.runtime.db.transaction() as repo:
            row = repo.host_connection(connection.id)
            assert row is not None
            row.state, row.state_hash, row.sealed_verifier = "connected", None, None
            self._keep_tokens(row, tokens)
            self.runtime.audit(repo, user.email, "host.connect", None, row.id, host=registration.api_url)
            return row

    # -- using a connection ---------------------------------------------------------------------
    def connections(self, user: SessionUser) -> list[tuple[models.HostConnection, models.HostRegistration]]:
        with self.runtime.db.read() as repo:
            return [(c, r) for c, r in repo.host_connections(user.id) if c.state == "connected"]

    def pull(self, user: SessionUser, connection_id: str) -> PullOutcome:
        """Every credential the host holds for the learner, page by page; each is verified and must be
        the learner's before it is kept; ones already in the wallet are counted, not doubled."""
        connection, registration = self._connection(user, connection_id)
        url: str | None = f"{registration.api_url}/credentials?{urlencode({'limit': PAGE, 'offset': 0})}"
        added = already = pages = 0
        refused: list[str] = []
        while url and pages < MAX_PAGES:
            answer = self._api(connection, registration, "GET", url)
            pages += 1
            for text in _credentials_of(answer, registration.name):
                try:
                    self.wallet.import_credential(user, text, f"{registration.name} (OB 3.0 API)")
                    added += 1
                except Conflict:
                    already += 1
                except ImportRefused as exc:
                    refused.append(exc.message)
            url = _next_page(answer, registration.api_url)
        summary = f"{added} added, {already} already here, {len(refused)} refused"
        with self.runtime.db.transaction() as repo:
            row = repo.host_connection(connection.id)
            if row is not None:
                row.last_pull_at, row.last_result = self.runtime.clock.now(), summary
            self.runtime.audit(repo, user.email, "host.pull", None, connection.id, result=summary)
        return PullOutcome(added, already, refused, pages)

    def push(self, user: SessionUser, connection_id: str, award_id: str) -> bool:
        """Send one of our credentials to the host; True when the host added it, False when it replaced
        the one it had."""
        connection, registration = self._connection(user, connection_id)
        award = self.wallet.issued_award(user, award_id)
        answer = self._api(connection, registration, "POST", f"{registration.api_url}/credentials",
                           award.credential.encode(), "application/json")  # fmt: skip
        with self.runtime.db.transaction() as repo:
            self.runtime.audit(repo, user.email, "host.push", None, award_id, host=registration.api_url,
                               status=answer.status)  # fmt: skip
        return answer.status == 201

    def disconnect(self, user: SessionUser, connection_id: str) -> None:
        self._connection(user, connection_id)
        self._forget(connection_id, "disconnected")
        with self.runtime.db.transaction() as repo:
            self.runtime.audit(repo, user.email, "host.disconnect", None, connection_id)

    # -- talking to the host ----------------------------------------------------------------------
    def _http(self) -> GuardedClient:
        if self.client is None:
            raise UsageError("this installation does not connect to other hosts (the operator has not allowed it)")
        return self.client

    def _registered(self, discovery_url: str) -> tuple[Endpoints, models.HostRegistration]:
        answer = self._http().request("GET", discovery_url, headers={"Accept": "application/json"})
        if answer.status != 200:
            raise HostError(f"{urlsplit(discovery_url).hostname} has no OB 3.0 API there (HTTP {answer.status})")
        try:
            endpoints = ob3_api.read_service_description(safejson.parse(answer.body), answer.url)
        except (ValueError, MicrocredError) as exc:
            message = exc.message if isinstance(exc, MicrocredError) else str(exc)
            raise HostError(f"{urlsplit(discovery_url).hostname} did not describe an OB 3.0 API: {message}") from exc
        now = self.runtime.clock.now()
        with self.runtime.db.read() as repo:
            known = repo.host_registration(endpoints.api)
        if known is not None and (known.secret_expires_at is None or known.secret_expires_at > now):
            return endpoints, known
        return endpoints, self._register(endpoints, known is not None)

    def _register(self, endpoints: Endpoints, replace: bool) -> models.HostRegistration:
        base = self.runtime.base_url
        if not base.startswith("https://"):
            raise UsageError("connecting to other hosts needs this installation's public address to be https")
        scopes = [s for s in WANTED if s in endpoints.scopes] or list(WANTED)
        metadata = {
            "client_name": f"microcred ({urlsplit(base).netloc})", "client_uri": base + "/",
            "logo_uri": f"{base}/static/favicon.svg", "tos_uri": f"{base}/terms", "policy_uri": f"{base}/privacy",
            "software_id": SOFTWARE_ID, "software_version": __version__, "redirect_uris": [self.redirect_uri],
            "token_endpoint_auth_method": "client_secret_basic", "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "scope": ob3_api.scope_text(scopes),
        }  # fmt: skip
        answer = self._http().request(
            "POST", endpoints.registration, json.dumps(metadata).encode(),
            {"Content-Type": "application/json", "Accept": "application/json"}, max_bytes=256 * 1024,
        )  # fmt: skip
        body = _json_object(answer)
        if answer.status not in (200, 201) or not isinstance(body.get("client_id"), str):
            raise HostError(f"{endpoints.name} refused our registration: {_said(answer, body)}")
        secret = body.get("client_secret") if isinstance(body.get("client_secret"), str) else ""
        expires = body.get("client_secret_expires_at")
        expiry = (datetime.fromtimestamp(expires, tz=self.runtime.clock.now().tzinfo)
                  if isinstance(expires, int) and expires > 0 else None)  # fmt: skip
        row = models.HostRegistration(
            api_url=endpoints.api, name=endpoints.name,
            endpoints=json.dumps({"registration": endpoints.registration, "authorization": endpoints.authorization,
                                  "token": endpoints.token, "scopes": list(endpoints.scopes)}),
            client_id=body["client_id"][:300], sealed_secret=self.runtime.vault.seal_secret(
                str(secret).encode(), f"host:{endpoints.api}"),
            registered_at=self.runtime.clock.now(), secret_expires_at=expiry,
        )  # fmt: skip
        with self.runtime.db.transaction() as repo:
            if replace:
                old = repo.host_registration(endpoints.api)
                assert old is not None
                old.name, old.endpoints, old.client_id = row.name, row.endpoints, row.client_id
                old.sealed_secret, old.registered_at, old.secret_expires_at = (
                    row.sealed_secret,
                    row.registered_at,
                    expiry,
                )
                return old
            return repo.add(row)

    def _token_request(self, registration: models.HostRegistration, form: dict[str, str]) -> dict[str, Any]:
        secret = self.runtime.vault.open_secret(registration.sealed_secret, f"host:{registration.api_url}").decode()
        basic = base64.b64encode(f"{quote(registration.client_id, safe='')}:{quote(secret, safe='')}".encode())
        token_url = json.loads(registration.endpoints)["token"]
        answer = self._http().request(
            "POST", token_url, urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
             "Authorization": f"Basic {basic.decode()}"}, max_bytes=64 * 1024,
        )  # fmt: skip
        body = _json_object(answer)
        if answer.status != 200 or not isinstance(body.get("access_token"), str):
            raise HostError(f"{registration.name} did not give us a token: {_said(answer, body)}")
        return body

    def _keep_tokens(self, row: models.HostConnection, tokens: dict[str, Any]) -> None:
        vault, binding = self.runtime.vault, f"connection:{row.id}"
        row.sealed_access = vault.seal_secret(str(tokens["access_token"]).encode(), binding + ":access")
        if isinstance(tokens.get("refresh_token"), str):
            row.sealed_refresh = vault.seal_secret(tokens["refresh_token"].encode(), binding + ":refresh")
        found = tokens.get("expires_in")
        lifetime = found if isinstance(found, int) else 3600
        row.access_expires_at = self.runtime.clock.now() + timedelta(seconds=max(0, lifetime - 30))
        if isinstance(tokens.get("scope"), str):
            row.scope = tokens["scope"][:1000]

    def _access_token(self, connection: models.HostConnection, registration: models.HostRegistration) -> str:
        binding = f"connection:{connection.id}"
        expired = connection.access_expires_at is None or connection.access_expires_at <= self.runtime.clock.now()
        if expired and connection.sealed_refresh is not None:
            refresh = self.runtime.vault.open_secret(connection.sealed_refresh, binding + ":refresh").decode()
            tokens = self._token_request(registration, {"grant_type": "refresh_token", "refresh_token": refresh})
            with self.runtime.db.transaction() as repo:
                row = repo.host_connection(connection.id)
                assert row is not None
                self._keep_tokens(row, tokens)
            return str(tokens["access_token"])
        if expired or connection.sealed_access is None:
            raise HostError(f"the connection to {registration.name} has expired; connect again")
        return self.runtime.vault.open_secret(connection.sealed_access, binding + ":access").decode()

    def _api(
        self, connection: models.HostConnection, registration: models.HostRegistration, method: str, url: str,
        body: bytes | None = None, content_type: str | None = None,
    ) -> HttpAnswer:  # fmt: skip
        if not url.startswith(registration.api_url + "/"):
            raise HostError(f"{registration.name} pointed us outside its API ({url[:120]})")
        headers = {"Authorization": f"Bearer {self._access_token(connection, registration)}",
                   "Accept": "application/json"}  # fmt: skip
        if content_type:
            headers["Content-Type"] = content_type
        answer = self._http().request(method, url, body, headers)
        if answer.status == 401:
            raise HostError(f"{registration.name} no longer accepts this connection; connect again")
        if answer.status not in (200, 201):
            raise HostError(f"{registration.name} answered HTTP {answer.status}: {_said(answer, _json_object(answer))}")
        return answer

    def _connection(
        self, user: SessionUser, connection_id: str
    ) -> tuple[models.HostConnection, models.HostRegistration]:
        with self.runtime.db.read() as repo:
            connection = repo.host_connection(connection_id)
            registration = repo.host_registration(connection.api_url) if connection else None
        if (
            connection is None
            or registration is None
            or connection.user_id != user.id
            or connection.state != "connected"
        ):
            raise NotFound(f"no connection {connection_id!r} in your wallet")
        return connection, registration

    def _forget(self, connection_id: str, state: str) -> None:
        with self.runtime.db.transaction() as repo:
            row = repo.host_connection(connection_id)
            if row is not None:
                row.state, row.state_hash, row.sealed_verifier = state, None, None
                row.sealed_access = row.sealed_refresh = None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _discovery_url(address: str) -> str:
    address = address.strip()
    if "://" not in address:
        address = "https://" + address
    parts = urlsplit(address)
    if parts.scheme != "https" or not parts.hostname:
        raise InputError("give the host's https address, e.g. https://badges.example.edu")
    path = parts.path.rstrip("/")
    if not path.endswith("/ims/ob/v3p0/discovery"):
        path = path.removesuffix("/ims/ob/v3p0") + "/ims/ob/v3p0/discovery"
    return f"https://{parts.netloc}{path}"


def _json_object(answer: HttpAnswer) -> dict[str, Any]:
    try:
        found = safejson.parse(answer.body)
    except MicrocredError:
        return {}
    return found if isinstance(found, dict) else {}


def _said(answer: HttpAnswer, body: dict[str, Any]) -> str:
    """What the other side said, in its words (OAuth error, Imsx_StatusInfo, or the status)."""
    for key in ("error_description", "imsx_description", "error"):
        if isinstance(body.get(key), str):
            return str(body[key])[:200]
    return f"HTTP {answer.status}"


def _credentials_of(answer: HttpAnswer, name: str) -> list[str]:
    body = _json_object(answer)
    credentials, jws = body.get("credential", []), body.get("compactJwsString", [])
    if not body and answer.body.strip() not in (b"{}",):
        raise HostError(f"{name} did not answer with a GetOpenBadgeCredentialsResponse")
    if not isinstance(credentials, list) or not isinstance(jws, list):
        raise HostError(f"{name} answered credential lists that are not arrays")
    found = [json.dumps(c) for c in credentials if isinstance(c, dict)]
    return found + [j for j in jws if isinstance(j, str)]


def _next_page(answer: HttpAnswer, api_url: str) -> str | None:
    found = ob3_api.parse_links(answer.headers.get("link")).get("next")
    if found is None:
        return None
    if not found.startswith(api_url + "/"):
        raise FetchError(f"the next page is outside the host's API: {found[:120]}")
    return found
