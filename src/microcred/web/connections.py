"""Pages for the OB 3.0 API: the consent page applications send learners to (/oauth/authorize), the
learner's connections (applications they authorized here; other hosts they connected their wallet
to), and the terms and privacy pages the Service Description Document names."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from microcred.errors import MicrocredError, OAuthError
from microcred.services.interop.oauth import AuthorizationRequest, RedirectableError
from microcred.standards import ob3_api
from microcred.web.core import CSP, Web, field

AUTHORIZE_FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method")  # fmt: skip
SCOPE_WORDS = {
    ob3_api.CREDENTIAL_READ: "See the credentials in your wallet",
    ob3_api.CREDENTIAL_UPSERT: "Add credentials to your wallet, or replace ones it already holds",
    ob3_api.PROFILE_READ: "See your profile (your name and email address)",
    ob3_api.PROFILE_UPDATE: "Change your profile",
    ob3_api.OFFLINE: "Keep this access while you are away, until you disconnect it",
}


def _back(redirect_uri: str, **params: str | None) -> RedirectResponse:
    """Send the browser back to the application with the answer in the query (RFC 6749 4.1.2)."""
    query = urlencode({k: v for k, v in params.items() if v is not None}, quote_via=quote)
    return RedirectResponse(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}", status_code=303)


def install(app: FastAPI, web: Web) -> None:
    _install_consent(app, web)
    _install_connections(app, web)
    _install_legal(app, web)


def _install_consent(app: FastAPI, web: Web) -> None:
    oauth = web.platform.oauth

    def checked(request: Request, params: dict[str, str]) -> AuthorizationRequest | Response:
        try:
            return oauth.check_authorization(params)
        except RedirectableError as exc:
            return _back(exc.redirect_uri, error=exc.error, error_description=exc.message, state=exc.state)
        except OAuthError as exc:  # no trusted redirect URI: tell the learner, go nowhere
            return web.render(request, "message.html", 400, title="This application cannot connect",
                              message=exc.message)  # fmt: skip

    @app.get("/oauth/authorize", include_in_schema=False)
    def consent_page(request: Request) -> Response:
        params = {k: request.query_params.get(k, "") for k in AUTHORIZE_FIELDS}
        found = checked(request, params)
        if isinstance(found, Response):
            return found
        if web.user(request) is None:
            target = request.url.path + "?" + request.url.query
            return web.redirect(
                f"/signin?next={quote(target, safe='')}", "Sign in to decide what the application may do."
            )
        response = web.render(
            request, "oauth_consent.html", title=f"Connect {found.metadata['client_name']}", ask=found,
            params=params, scopes=[SCOPE_WORDS.get(s, s) for s in found.scopes], host=urlsplit(found.redirect_uri).netloc,
        )  # fmt: skip
        # the decision is a form whose answer redirects to the application: allow that one origin
        origin = "https://" + urlsplit(found.redirect_uri).netloc
        response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'", f"form-action 'self' {origin}")
        return response

    @app.post("/oauth/authorize", include_in_schema=False)
    async def decide(request: Request) -> Response:
        user = web.require(request)
        form = await web.form(request)
        params = {k: field(form, k) for k in AUTHORIZE_FIELDS}
        found = await run_in_threadpool(checked, request, params)
        if isinstance(found, Response):
            return found
        if field(form, "decision") != "allow":
            return _back(found.redirect_uri, error="access_denied",
                         error_description="the learner did not allow access", state=found.state)  # fmt: skip
        code = await run_in_threadpool(oauth.issue_code, found, user.id, user.email)
        return _back(found.redirect_uri, code=code, scope=ob3_api.scope_text(found.scopes), state=found.state)


def _install_connections(app: FastAPI, web: Web) -> None:
    platform = web.platform
    oauth, hosts = platform.oauth, platform.host_connections

    @app.get("/wallet/connections", include_in_schema=False)
    def connections_page(request: Request) -> Response:
        user = web.require(request)
        return _page(request, web, user, address="")

    @app.post("/wallet/connections/apps/{client_id}/disconnect", include_in_schema=False)
    async def disconnect_app(client_id: str, request: Request) -> Response:
        user = web.require(request)
        await web.form(request)
        count = await run_in_threadpool(oauth.disconnect, user.id, client_id, user.email)
        message = "The application was disconnected: its tokens no longer work." if count else "Nothing to disconnect."
        return web.redirect("/wallet/connections", message)

    @app.post("/wallet/connections/hosts", include_in_schema=False)
    async def connect_host(request: Request) -> Response:
        user = web.require(request)
        form = await web.form(request)
        address = field(form, "address")
        try:
            target = await run_in_threadpool(hosts.start, user, address)
        except MicrocredError as exc:
            return _page(request, web, user, address=address, error=exc.message, status=422)
        return RedirectResponse(target, status_code=303)

    @app.get("/wallet/connections/callback", include_in_schema=False)
    def callback(request: Request) -> Response:
        user = web.require(request)
        params = {k: request.query_params.get(k, "") for k in ("code", "state", "error", "error_description")}
        try:
            hosts.finish(user, params)
        except MicrocredError as exc:
            return _page(request, web, user, address="", error=exc.message, status=422)
        return web.redirect("/wallet/connections", "Connected. Fetch your credentials from it when you are ready.")

    @app.post("/wallet/connections/hosts/{connection_id}/pull", include_in_schema=False)
    async def pull(connection_id: str, request: Request) -> Response:
        user = web.require(request)
        await web.form(request)
        try:
            outcome = await run_in_threadpool(hosts.pull, user, connection_id)
        except MicrocredError as exc:
            return _page(request, web, user, address="", error=exc.message, status=422)
        return _page(request, web, user, address="", outcome=outcome)

    @app.post("/wallet/connections/hosts/{connection_id}/disconnect", include_in_schema=False)
    async def disconnect_host(connection_id: str, request: Request) -> Response:
        user = web.require(request)
        await web.form(request)
        await run_in_threadpool(hosts.disconnect, user, connection_id)
        return web.redirect("/wallet/connections", "Disconnected; this wallet no longer holds its tokens.")

    @app.post("/wallet/credentials/{award_id}/push", include_in_schema=False)
    async def push(award_id: str, request: Request) -> Response:
        user = web.require(request)
        form = await web.form(request)
        back = f"/wallet/credentials/{quote(award_id)}"
        try:
            added = await run_in_threadpool(hosts.push, user, field(form, "connection"), award_id)
        except MicrocredError as exc:
            return web.redirect(back, f"Not sent: {exc.message}")
        return web.redirect(
            back, "Sent: the other host added it." if added else "Sent: the other host updated its copy."
        )


def _page(request: Request, web: Web, user: Any, *, address: str, status: int = 200, **extra: Any) -> Response:
    platform = web.platform
    return web.render(
        request, "wallet_connections.html", status, title="Connections", apps=platform.oauth.connected(user.id),
        hosts=platform.host_connections.connections(user) if platform.host_connections.enabled else [],
        hosts_enabled=platform.host_connections.enabled, address=address, scope_words=SCOPE_WORDS, **extra,
    )  # fmt: skip


def _install_legal(app: FastAPI, web: Web) -> None:
    @app.get("/terms", include_in_schema=False)
    def terms(request: Request) -> Response:
        return web.render(request, "legal.html", title="Terms of service", page="terms")

    @app.get("/privacy", include_in_schema=False)
    def privacy(request: Request) -> Response:
        return web.render(request, "legal.html", title="Privacy policy", page="privacy")
