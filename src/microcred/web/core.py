"""What every page shares: the signed-in user, CSRF tokens, flash messages, rendering and security headers.

CSRF: every form carries an HMAC of the browser's session token (or, before
sign-in, of a random anonymous cookie) under a server secret, so a page on
another site can neither read nor forge it. Cookies are HttpOnly and
SameSite=Lax, and Secure whenever the public address is https.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from microcred import bootstrap
from microcred.errors import AuthError, ForbiddenError
from microcred.services.presentation import achievement_type_label
from microcred.services.web_accounts import SessionUser

SESSION_COOKIE = "mc_session"
ANON_COOKIE = "mc_anon"
FLASH_COOKIE = "mc_flash"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
STAFF = ("platform_admin", "issuer_admin", "issuer_staff")


class CsrfError(ForbiddenError):
    code = "csrf"


def _date(value: datetime | str | None, fmt: str = "%d %b %Y") -> str:
    """Every date on every page reads the same way (02 Dec 2026); ISO strings are taken too."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime(fmt)
        except ValueError:
            return value
    return value.strftime(fmt) if value else ""


def money(price: float | None, currency: str | None) -> str:
    """450 EUR, 19.50 EUR, Free; no price: "Price on request"."""
    if price is None:
        return "Price on request"
    if price == 0:
        return "Free"
    amount = f"{price:,.0f}" if float(price).is_integer() else f"{price:,.2f}"
    return f"{amount} {currency}" if currency else amount


def hours(value: float | None) -> str:
    """20 hours, 1 hour, 7.5 hours; unknown: empty."""
    if value is None:
        return ""
    return f"{value:g} hour{'' if value == 1 else 's'}"


def count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


class Web:
    """The web edge's collaborators, built once per app."""

    def __init__(self, platform: bootstrap.Platform) -> None:
        self.platform = platform
        self.secret = platform.runtime.vault.derive("web csrf")
        self.secure = platform.runtime.base_url.startswith("https://")
        self.env = Environment(
            loader=PackageLoader("microcred.web", "templates"),
            autoescape=select_autoescape(["html"]),
            auto_reload=False,
        )
        self.env.filters["date"] = _date
        self.env.filters["money"] = money
        self.env.filters["hours"] = hours
        self.env.filters["count"] = count
        self.env.filters["sentence"] = lambda text: str(text)[:1].upper() + str(text)[1:]
        self.env.filters["achievement_type"] = lambda value: achievement_type_label(value) or ""
        self.env.filters["from_json"] = json.loads
        self.env.filters["length_of_parts"] = lambda text: f"{len(json.loads(text))} credential(s)"
        self.env.globals["base_url"] = platform.runtime.base_url
        self.env.globals["taxonomy_attribution"] = lambda: " ".join(platform.taxonomy.attribution)

    # -- who is asking --------------------------------------------------------
    def user(self, request: Request) -> SessionUser | None:
        if not hasattr(request.state, "user"):
            token = request.cookies.get(SESSION_COOKIE, "")
            request.state.user = self.platform.web_accounts.session(token) if token else None
        return request.state.user  # type: ignore[no-any-return]

    def require(self, request: Request, *roles: str) -> SessionUser:
        user = self.user(request)
        if user is None:
            raise AuthError("sign in to continue")
        if roles and user.role not in roles and user.role != "platform_admin":
            raise ForbiddenError("your account may not open this page")
        return user

    def staff(self, request: Request) -> SessionUser:
        return self.require(request, *STAFF)

    # -- CSRF ---------------------------------------------------------------------
    def csrf_token(self, request: Request) -> str:
        basis = request.cookies.get(SESSION_COOKIE) or request.state.anon
        return hmac.new(self.secret, basis.encode(), hashlib.sha256).hexdigest()

    async def form(self, request: Request, *, max_files: int = 1) -> FormData:
        """The posted form, after the CSRF check (a failure changes nothing)."""
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin.rstrip("/") != _origin(request):
            raise CsrfError("this form was sent from another site")
        form = await request.form(max_files=max_files, max_fields=200, max_part_size=2 * 1024 * 1024)
        request.state.form = form  # the middleware closes its spooled uploads after the response
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf_token(request)):
            raise CsrfError("the form expired or did not come from this site; reload the page and try again")
        return form

    # -- rendering --------------------------------------------------------------------
    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        flash = unquote_flash(request.cookies.get(FLASH_COOKIE))
        page = self.env.get_template(template).render(
            request=request, user=self.user(request), csrf=self.csrf_token(request), flash=flash, path=request.url.path,
            **context,
        )  # fmt: skip
        response = HTMLResponse(page, status_code=status)
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/", secure=self.secure, httponly=True, samesite="lax")
        return response

    def redirect(self, url: str, flash: str | None = None) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        if flash:
            response.set_cookie(
                FLASH_COOKIE,
                quote(flash)[:1000],
                max_age=60,
                httponly=True,
                samesite="lax",
                secure=self.secure,
                path="/",
            )
        return response

    def sign_in_response(self, url: str, token: str, flash: str | None = None) -> RedirectResponse:
        response = self.redirect(url, flash)
        response.set_cookie(
            SESSION_COOKIE, token, max_age=14 * 86400, httponly=True, samesite="lax", secure=self.secure, path="/"
        )
        return response

    def error_page(self, request: Request, status: int, message: str) -> Response:
        if status == 401 and request.method == "GET":
            return self.redirect(f"/signin?next={quote(request.url.path)}")
        if not hasattr(request.state, "anon"):
            request.state.anon = request.cookies.get(ANON_COOKIE) or secrets.token_urlsafe(24)
        titles = {
            400: "Bad request",
            401: "Sign in required",
            403: "Not allowed",
            404: "Not found",
            409: "Conflict",
            422: "Cannot use that",
            429: "Too many attempts",
        }
        return self.render(
            request,
            "error.html",
            status,
            title=titles.get(status, "Something went wrong"),
            message=message,
            code=status,
        )


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def unquote_flash(value: str | None) -> str | None:
    from urllib.parse import unquote

    return unquote(value) if value else None


def middleware(web: Web) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Give every browser an anonymous CSRF basis and every page its security headers."""

    async def handle(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        anon = request.cookies.get(ANON_COOKIE)
        request.state.anon = anon if anon and len(anon) <= 64 else secrets.token_urlsafe(24)
        try:
            response = await call_next(request)
        finally:
            form = getattr(request.state, "form", None)
            if form is not None:
                await form.close()
        if anon != request.state.anon:
            response.set_cookie(
                ANON_COOKIE, request.state.anon, httponly=True, samesite="lax", secure=web.secure, path="/"
            )
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return handle


def download_name(*parts: str, suffix: str) -> str:
    """A file name people recognise: `data-analytics-with-python-ada-lovelace.pdf`, ASCII only."""
    words = []
    for part in parts:
        ascii_text = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode().lower()
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
        if slug:
            words.append(slug)
    return f"{'-'.join(words)[:90].strip('-') or 'credential'}.{suffix}"


def field(form: FormData, name: str) -> str:
    """A text field of a posted form, trimmed; "" when absent or a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"
