"""The one table from typed errors to RFC 9457 problem+json responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from microcred.errors import InputError, MicrocredError, ResolutionError, SigningError, UsageError
from microcred.services.issuing import Conflict, NotFound

PROBLEM = "application/problem+json"


class AuthError(MicrocredError):
    code = "unauthorized"


class ForbiddenError(MicrocredError):
    code = "forbidden"


# Most specific first: the first class in the MRO that is listed decides.
STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    Conflict: 409,
    AuthError: 401,
    ForbiddenError: 403,
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
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    @app.exception_handler(MicrocredError)
    async def _microcred(_: Request, exc: MicrocredError) -> JSONResponse:
        return problem(status_for(exc), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))} for e in exc.errors()[:20]]
        return problem(422, "validation", "the request does not match the API's schema", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}.get(
            exc.status_code, "http"
        )
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(500, "internal", "an unexpected error occurred; nothing was changed")
