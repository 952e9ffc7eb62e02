"""The one table from typed errors to RFC 9457 problem+json responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from microcred.errors import (
    AuthError,
    ForbiddenError,
    InputError,
    MicrocredError,
    OAuthError,
    RateLimitedError,
    ResolutionError,
    SigningError,
    UsageError,
)
from microcred.services.issuing import Conflict, NotFound
from microcred.standards import ob3_api

PROBLEM = "application/problem+json"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


__all__ = ["STATUS", "AuthError", "ForbiddenError", "install", "problem", "status_for"]

# Most specific first: the first class in the MRO that is listed decides.
STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    Conflict: 409,
    AuthError: 401,
    ForbiddenError: 403,
    OAuthError: 400,
    RateLimitedError: 429,
    UsageError: 400,
    InputError: 422,
    ResolutionError: 502,
    SigningError: 500,
    MicrocredError: 500,
}
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
    502: "Upstream failure",
}


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://microcred.dev/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_for(exc: Exception) -> int:
    if isinstance(exc, OAuthError):
        return exc.status
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


OB3_API = "/ims/ob/v3p0/"


def imsx(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The OB 3.0 API's error body (Imsx_StatusInfo) with the status; a 401 names the Bearer scheme.
    Unusable content is the API's 400 (it lists no 409 or 422)."""
    status = 400 if status in (409, 422) else status
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="microcred", error="invalid_token"', **(headers or {})}
    return JSONResponse(ob3_api.status_info(status, detail), status_code=status, headers=headers)


def oauth_error(exc: OAuthError) -> JSONResponse:
    """RFC 6749 5.2: {"error", "error_description"}, never cached; a client that failed to authenticate
    is told the scheme to use."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="microcred"'
    body = {"error": exc.error, "error_description": _ascii(exc.message)}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _ascii(text: str) -> str:
    """error_description may only hold %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash)."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "'" if c == '"' else " " for c in text)


def _html(request: Request, status: int, detail: str) -> Response | None:
    """Browsers on pages get the web edge's HTML error page (when one is installed); the API never does."""
    render = getattr(request.app.state, "html_error", None)
    if render is None or request.url.path.startswith("/api/"):
        return None
    if "text/html" not in request.headers.get("accept", "") and request.method == "GET":
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "GET" and (
        "application/json" in request.headers.get("accept", "") or content_type not in FORM_TYPES
    ):
        return None  # only browsers posting forms get pages; JSON clients (the VC-API) get problem+json
    return render(request, status, detail)  # type: ignore[no-any-return]


def install(app: FastAPI) -> None:
    @app.exception_handler(MicrocredError)
    async def _microcred(request: Request, exc: MicrocredError) -> Response:
        status = status_for(exc)
        if isinstance(exc, OAuthError):
            return oauth_error(exc)
        if request.url.path.startswith(OB3_API):
            return imsx(status, exc.message)
        page = _html(request, status, exc.message)
        if page is not None:
            return page
        response = problem(status, exc.code, exc.message)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if request.url.path.startswith(OB3_API):
            where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:5])
            return imsx(400, f"the request's parameters are not valid ({where})")
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))} for e in exc.errors()[:20]]
        return problem(422, "validation", "the request does not match the API's schema", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(OB3_API):
            return imsx(exc.status_code, str(exc.detail))
        page = _html(request, exc.status_code, str(exc.detail))
        if page is not None:
            return page
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}.get(
            exc.status_code, "http"
        )
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(OB3_API):
            return imsx(500, "an unexpected error occurred; nothing was changed")
        page = _html(request, 500, "an unexpected error occurred; nothing was changed")
        return (
            page if page is not None else problem(500, "internal", "an unexpected error occurred; nothing was changed")
        )
