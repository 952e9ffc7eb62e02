"""The Open Badges 3.0 API (Host role) under /ims/ob/v3p0, and the OAuth 2.0 endpoints it names in its
Service Description Document: registration, token and revocation (the consent page is the web edge's).

Errors under /ims/ob/v3p0 are Imsx_StatusInfo bodies; the OAuth endpoints answer RFC 6749 errors.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from microcred import bootstrap
from microcred.api.auth import client_address
from microcred.api.vcapi import RateLimiter
from microcred.errors import AuthError, ForbiddenError, InputError, OAuthError, UsageError
from microcred.services.interop.oauth import Access
from microcred.standards import ob3_api, safejson
from microcred.standards.dates import parse_datetime

BASE = "/ims/ob/v3p0"
MAX_BODY = 2 * 1024 * 1024
MAX_FORM = 16 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JSON_TYPES = ("application/json", "application/ld+json")


class InsufficientScope(ForbiddenError):
    code = "insufficient_scope"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past `limit` bytes without reading the rest."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(f"the request body is larger than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def install(app: FastAPI, platform: bootstrap.Platform) -> None:
    _install_resources(app, platform)
    _install_oauth(app, platform)


def _install_resources(app: FastAPI, platform: bootstrap.Platform) -> None:
    def access(authorization: str | None, scope: str) -> Access:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("send an access token: Authorization: Bearer ...")
        found = platform.oauth.access(authorization[7:].strip())
        if found is None:
            raise AuthError("the access token is unknown, expired or revoked")
        if scope not in found.scopes:
            raise InsufficientScope(f"the access token was not granted {scope}")
        return found

    @app.get(f"{BASE}/discovery", tags=["Open Badges 3.0"])
    def discovery() -> JSONResponse:
        """The Service Description Document (no authorization)."""
        return JSONResponse(platform.ob3_description(), headers={"Cache-Control": "public, max-age=3600"})

    @app.get(f"{BASE}/credentials", tags=["Open Badges 3.0"])
    async def get_credentials(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        limit: Annotated[int, Query(ge=1, le=2**31 - 1)] = DEFAULT_LIMIT,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
        since: str | None = None,
    ) -> Response:
        who = await run_in_threadpool(access, authorization, ob3_api.CREDENTIAL_READ)
        try:
            after = parse_datetime(since) if since is not None else None
        except InputError as exc:
            raise UsageError(f"since must be a date and time (YYYY-MM-DDThh:mm:ssZ): {exc.message}") from exc
        limit = min(limit, MAX_LIMIT)
        page = await run_in_threadpool(platform.ob3_host.credentials, who.user_id, limit, offset, after)
        body: dict[str, Any] = {}
        if page.credentials:
            body["credential"] = page.credentials
        if page.compact_jws:
            body["compactJwsString"] = page.compact_jws
        url = f"{platform.runtime.base_url}{BASE}/credentials"
        headers = {
            "X-Total-Count": str(page.total),
            "Link": ob3_api.link_header(url, limit, offset, page.total, {"since": since} if since else None),
        }
        return JSONResponse(body, headers=headers)

    @app.post(f"{BASE}/credentials", tags=["Open Badges 3.0"])
    async def upsert_credential(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
        """Add or replace one credential: JSON (AchievementCredential) or text/plain (a compact JWS).
        201 when it was added, 200 when it replaced the one it equals."""
        who = await run_in_threadpool(access, authorization, ob3_api.CREDENTIAL_UPSERT)
        media = _media_type(request)
        if media not in (*JSON_TYPES, "text/plain"):
            return _unsupported(media)
        body = await read_body(request, MAX_BODY)
        created, fmt, content = await run_in_threadpool(
            platform.ob3_host.upsert, who.user_id, body, media == "text/plain"
        )
        status = 201 if created else 200
        if fmt == "jwt":
            return Response(content, status_code=status, media_type="text/plain")
        return Response(content, status_code=status, media_type="application/json")

    @app.get(f"{BASE}/profile", tags=["Open Badges 3.0"])
    async def get_profile(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        who = await run_in_threadpool(access, authorization, ob3_api.PROFILE_READ)
        return JSONResponse(await run_in_threadpool(platform.ob3_host.profile, who.user_id))

    @app.put(f"{BASE}/profile", tags=["Open Badges 3.0"])
    async def put_profile(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
        who = await run_in_threadpool(access, authorization, ob3_api.PROFILE_UPDATE)
        media = _media_type(request)
        if media not in JSON_TYPES:
            return _unsupported(media)
        body = await read_body(request, MAX_BODY)
        return JSONResponse(await run_in_threadpool(platform.ob3_host.put_profile, who.user_id, body))


def _unsupported(media: str) -> JSONResponse:
    from microcred.api.errors import imsx

    return imsx(415, f"send application/json or text/plain, not {media or 'no content type'}")


def _install_oauth(app: FastAPI, platform: bootstrap.Platform) -> None:
    registrations = RateLimiter(platform.settings.oauth_registrations_per_minute, what="registrations")

    @app.post("/oauth/register", status_code=201, tags=["OAuth 2.0"])
    async def register(request: Request) -> JSONResponse:
        """RFC 7591 dynamic client registration (no initial access token)."""
        registrations.take(client_address(request))
        if _media_type(request) != "application/json":
            raise OAuthError("invalid_client_metadata", "send the registration as application/json")
        try:
            body = safejson.parse(await read_body(request, 64 * 1024))
        except InputError as exc:
            raise OAuthError("invalid_client_metadata", f"the registration is not JSON: {exc.message}") from exc
        answer = await run_in_threadpool(platform.oauth.register, body, client_address(request))
        return JSONResponse(answer, status_code=201, headers=NO_STORE)

    @app.post("/oauth/token", tags=["OAuth 2.0"])
    async def token(request: Request, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        form = await _form(request)
        client = await run_in_threadpool(platform.oauth.authenticate_client, *_basic(authorization, form))
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            answer = await run_in_threadpool(platform.oauth.exchange_code, client, form)
        elif grant_type == "refresh_token":
            answer = await run_in_threadpool(platform.oauth.refresh, client, form)
        elif not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        else:
            raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        return JSONResponse(answer, headers=NO_STORE)

    @app.post("/oauth/revoke", tags=["OAuth 2.0"])
    async def revoke(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
        """RFC 7009: 200 whether or not the token was known."""
        form = await _form(request)
        client = await run_in_threadpool(platform.oauth.authenticate_client, *_basic(authorization, form))
        if not form.get("token"):
            raise OAuthError("invalid_request", "token is required")
        await run_in_threadpool(platform.oauth.revoke, client, form["token"], form.get("token_type_hint"))
        return Response(status_code=200, headers=NO_STORE)


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; a parameter given twice is refused (RFC 6749 3.1)."""
    if _media_type(request) != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the request as application/x-www-form-urlencoded")
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl((await read_body(request, MAX_FORM)).decode("utf-8"), keep_blank_values=True,
                          strict_parsing=False, max_num_fields=40)  # fmt: skip
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "the form is not valid") from exc
    except InputError as exc:
        raise OAuthError("invalid_request", exc.message) from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"{name} is given more than once")
        form[name] = value
    return form


def _basic(authorization: str | None, form: dict[str, str]) -> tuple[str | None, str | None]:
    """client_secret_basic (RFC 6749 2.3.1: both parts form-urlencoded); secrets in the body are refused,
    the only method this server registers."""
    if "client_secret" in form:
        raise OAuthError("invalid_client", "send the client secret in the Authorization header (client_secret_basic)",
                         401)  # fmt: skip
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))) if sep else (None, None)
