"""The W3C VC-API edge: /credentials/issue, /credentials/status, /credentials/verify, /presentations/verify.

Issue and status need a token scoped for them (or the loopback-only development switch);
the verify endpoints are open and rate-limited per client address. A credential that does
not verify is a 4xx here, unlike /api/v1/verify (people read that report; machines read this).
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from microcred import bootstrap
from microcred.api.auth import client_address, require
from microcred.api.errors import PROBLEM, problem
from microcred.errors import AuthError, ForbiddenError, InputError, RateLimitedError, UsageError
from microcred.services.accounts import Principal
from microcred.standards import safejson

MAX_BODY = 2 * 1024 * 1024
ISSUING_ROLES = ("issuer_admin", "issuer_staff")
DEV_ACTOR = "vcapi-dev"


class RateLimiter:
    """A token bucket per client address: `per_minute` requests, refilled continuously."""

    def __init__(self, per_minute: int, clock: Any = time.monotonic, what: str = "verification requests") -> None:
        self.what = what
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        if self.capacity <= 0:
            return  # 0 turns the limit off
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                raise RateLimitedError(f"too many {self.what}; retry in {wait} s", wait)
            if len(self._buckets) > 10_000:
                self._buckets.clear()
            self._buckets[client] = (tokens - 1, now)


def is_loopback(host: str | None) -> bool:
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def install(app: FastAPI, platform: bootstrap.Platform) -> None:
    service = platform.vcapi
    limiter = RateLimiter(platform.settings.vcapi_verify_per_minute)

    def principal(request: Request, scope: str) -> Principal | None:
        """The token's principal; None for a tokenless call the development switch lets through."""
        header = request.headers.get("authorization") or ""
        if header.lower().startswith("bearer "):
            found = platform.accounts.principal(header[7:].strip())
            if found is None:
                raise AuthError("the API token is unknown, revoked or expired")
            if not found.allows(scope):
                raise ForbiddenError(f"this token is not scoped for {scope}")
            require(found, *ISSUING_ROLES)
            return found
        client = request.client.host if request.client else None
        if platform.settings.vcapi_insecure_dev and is_loopback(client):
            return None
        raise AuthError(f"send an API token with the {scope} scope: Authorization: Bearer mct_...")

    @app.post("/credentials/issue", status_code=201, tags=["vc-api"])
    async def issue(request: Request) -> JSONResponse:
        """Issue a credential: {"credential": {...}, "options": {"cryptosuite": ..., "credentialStatus": ...}}."""
        who = principal(request, "vc:issue")
        body = await _json_body(request)
        signed = service.issue(body, who, who.email if who else DEV_ACTOR)
        return JSONResponse({"verifiableCredential": signed}, status_code=201)

    @app.post("/credentials/status", tags=["vc-api"])
    async def update_status(request: Request) -> JSONResponse:
        """Set or clear a revocation or suspension bit of a credential issued here."""
        who = principal(request, "vc:status")
        body = await _json_body(request)
        return JSONResponse(service.update_status(body, who, who.email if who else DEV_ACTOR))

    for path, verify, summary in (
        ("/credentials/verify", service.verify_credential,
         "Verify a credential: 200 when it verifies, 400 (or 422 when unprocessable) with the report when not."),
        ("/presentations/verify", service.verify_presentation,
         "Verify a presentation's proof (challenge, domain, holder) and every credential in it."),
    ):  # fmt: skip
        _verify_route(app, limiter, path, verify, summary)


def _verify_route(
    app: FastAPI, limiter: RateLimiter, path: str, verify: Callable[[Any], tuple[int, Any]], summary: str
) -> None:
    async def route(request: Request) -> JSONResponse:
        limiter.take(client_address(request))
        try:
            status, result = verify(await _json_body(request))
        except UsageError as exc:
            return _malformed(exc)
        return JSONResponse(result, status_code=status)

    app.post(path, tags=["vc-api"], summary=summary, name=path.strip("/").replace("/", "_"))(route)


def _malformed(exc: UsageError) -> JSONResponse:
    """A request that cannot be verified at all: a problem document that is also a failed report."""
    response = problem(400, exc.code, exc.message)
    body = json.loads(bytes(response.body))
    error = {"type": body["type"], "code": "request", "title": "the request is well formed", "detail": exc.message}
    body.update({"verified": False, "checks": [], "warnings": [], "errors": [error]})
    return JSONResponse(body, status_code=400, media_type=PROBLEM)


async def _json_body(request: Request) -> Any:
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UsageError(f"send application/json, not {content_type!r}")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise UsageError("the request body is larger than 2 MB")
    try:
        return safejson.parse(body)
    except InputError as exc:  # malformed JSON is a bad request, not an unprocessable credential
        raise UsageError(f"the request body is not acceptable JSON: {exc.message}") from exc
