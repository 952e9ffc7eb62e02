"""Bearer-token authentication for the REST API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from microcred.errors import AuthError, ForbiddenError
from microcred.services.accounts import Principal
from microcred.services.issuing import NotFound


def current_principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError("send an API token: Authorization: Bearer mct_...")
    found = request.app.state.platform.accounts.principal(authorization[7:].strip())
    if found is None:
        raise AuthError("the API token is unknown, revoked or expired")
    if not found.allows("api"):
        raise ForbiddenError("this token is scoped to the VC-API and may not use /api/v1")
    return found  # type: ignore[no-any-return]


Auth = Annotated[Principal, Depends(current_principal)]


def client_address(request: Request) -> str:
    """The caller's address, for rate limits and audit records."""
    return request.client.host if request.client else "-"


def require(principal: Principal, *roles: str) -> None:
    if not (principal.is_platform_admin or principal.role in roles):
        raise ForbiddenError(f"a {principal.role} token may not do this")


def issuer_in_scope(platform: Any, who: Principal, slug: str) -> Any:
    """The issuer with this slug if the principal may act for it; another organisation's answers 404."""
    with platform.runtime.db.read() as repo:
        issuer = repo.issuer_by_slug(slug)
        if issuer is None or not who.may_see(issuer.organisation_id):
            raise NotFound(f"no issuer with slug {slug!r}")
        return issuer
