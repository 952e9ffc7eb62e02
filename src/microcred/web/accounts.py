"""Pages for accounts: sign-in and out, learner sign-up, email confirmation, password reset,
staff invitations, claiming an award and the operator's outbox."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from microcred.errors import AuthError, MicrocredError, RateLimitedError
from microcred.services.mail import OutboxMailer
from microcred.web.core import SESSION_COOKIE, STAFF, Web, client_address, field


def safe_next(value: object, default: str = "/") -> str:
    """Only same-site paths: never an open redirect."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) < 2500:
        return value
    return default


def home_for(role: str) -> str:
    """Where each kind of user starts: issuers their console, employers their talent search, learners their wallet."""
    return "/console" if role in STAFF else "/talent" if role == "employer" else "/wallet"


def install(app: FastAPI, web: Web) -> None:
    accounts = web.platform.web_accounts
    base = web.platform.runtime.base_url

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return web.render(request, "home.html", title="Home")

    @app.get("/signin", include_in_schema=False)
    def signin_page(request: Request, next: str = "") -> Response:
        return web.render(request, "signin.html", title="Sign in", next=safe_next(next, ""), email="")

    @app.post("/signin", include_in_schema=False)
    async def signin(request: Request) -> Response:
        form = await web.form(request)
        email, target = field(form, "email"), safe_next(field(form, "next"), "")
        try:
            token = accounts.sign_in(email, field(form, "password"), client_address(request))
        except RateLimitedError as exc:
            page = web.render(request, "signin.html", 429, title="Sign in", next=target, email=email, error=exc.message)
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        except (AuthError, MicrocredError) as exc:
            return web.render(request, "signin.html", 401, title="Sign in", next=target, email=email, error=exc.message)
        user = accounts.session(token)
        assert user is not None
        return web.sign_in_response(target or home_for(user.role), token)

    @app.post("/signout", include_in_schema=False)
    async def signout(request: Request) -> Response:
        await web.form(request)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            accounts.sign_out(token)
        response = web.redirect("/", "You are signed out.")
        response.delete_cookie(SESSION_COOKIE, path="/", secure=web.secure, httponly=True, samesite="lax")
        return response

    @app.get("/signup", include_in_schema=False)
    def signup_page(request: Request) -> Response:
        return web.render(request, "signup.html", title="Create a wallet", name="", email="")

    @app.post("/signup", include_in_schema=False)
    async def signup(request: Request) -> Response:
        form = await web.form(request)
        name, email = field(form, "name")[:300], field(form, "email")
        try:
            accounts.sign_up(email, field(form, "password"), name or None, f"{base}/confirm")
        except MicrocredError as exc:
            return web.render(
                request, "signup.html", 422, title="Create a wallet", name=name, email=email, error=exc.message
            )
        return web.render(
            request, "message.html", title="Check your mail",
            message=f"We sent a link to {email}. Follow it to confirm the address, then sign in.",
            link="/signin", link_text="Sign in",
        )  # fmt: skip

    @app.get("/confirm/{token}", include_in_schema=False)
    def confirm(request: Request, token: str) -> Response:
        email = accounts.confirm(token)
        return web.redirect("/signin", f"{email} is confirmed. Sign in to see your credentials.")

    @app.get("/reset", include_in_schema=False)
    def reset_page(request: Request) -> Response:
        return web.render(request, "reset_request.html", title="Reset your password")

    @app.post("/reset", include_in_schema=False)
    async def reset_request(request: Request) -> Response:
        form = await web.form(request)
        accounts.request_reset(field(form, "email"), f"{base}/reset")
        return web.render(
            request, "message.html", title="Check your mail",
            message="If the address has an account, a link to choose a new password is on its way. It works for one hour.",
        )  # fmt: skip

    def password_page(request: Request, status: int = 200, **context: object) -> Response:
        return web.render(request, "set_password.html", status, **context)

    @app.get("/reset/{token}", include_in_schema=False)
    def reset_form(request: Request, token: str) -> Response:
        return password_page(request, title="Choose a new password", action=f"/reset/{token}", button="Save password")

    @app.post("/reset/{token}", include_in_schema=False)
    async def reset(request: Request, token: str) -> Response:
        form = await web.form(request)
        try:
            session = accounts.reset(token, field(form, "password"))
        except MicrocredError as exc:
            return password_page(
                request,
                422,
                title="Choose a new password",
                action=f"/reset/{token}",
                button="Save password",
                error=exc.message,
            )
        user = accounts.session(session)
        assert user is not None
        return web.sign_in_response(
            home_for(user.role), session, "Your password is changed; other browsers are signed out."
        )

    @app.get("/invite/{token}", include_in_schema=False)
    def invite_form(request: Request, token: str) -> Response:
        invitation = accounts.invitation(token)
        return password_page(
            request, title="Join your team on microcred", action=f"/invite/{token}", button="Create account",
            email=invitation.email, ask_name=True, intro=f"You are invited as {(invitation.role or '').replace('_', ' ')}.",
        )  # fmt: skip

    @app.post("/invite/{token}", include_in_schema=False)
    async def invite_accept(request: Request, token: str) -> Response:
        form = await web.form(request)
        try:
            session = accounts.accept_invite(token, field(form, "password"), field(form, "name")[:300] or None)
        except MicrocredError as exc:
            return password_page(
                request,
                422,
                title="Join your team on microcred",
                action=f"/invite/{token}",
                button="Create account",
                ask_name=True,
                error=exc.message,
            )
        return web.sign_in_response("/console", session, "Welcome! Your account is ready.")

    @app.get("/claim/{token}", include_in_schema=False)
    def claim_page(request: Request, token: str) -> Response:
        link = accounts.claim_link(token)
        user = web.user(request)
        if user is not None:
            award_id = accounts.claim_signed_in(token, user)
            return web.redirect(f"/wallet/credentials/{award_id}", "The credential is in your wallet.")
        if link.has_account:
            return web.redirect(
                f"/signin?next=/claim/{token}", f"{link.email} already has a wallet: sign in to claim the credential."
            )
        return password_page(
            request, title="Claim your credential", action=f"/claim/{token}", button="Create wallet and claim",
            email=link.email, ask_name=True, intro="Choose a password for your free wallet; the credential goes straight into it.",
        )  # fmt: skip

    @app.post("/claim/{token}", include_in_schema=False)
    async def claim(request: Request, token: str) -> Response:
        form = await web.form(request)
        try:
            session, award_id = accounts.claim(token, field(form, "password"), field(form, "name")[:300] or None)
        except MicrocredError as exc:
            return password_page(
                request,
                422,
                title="Claim your credential",
                action=f"/claim/{token}",
                button="Create wallet and claim",
                ask_name=True,
                error=exc.message,
            )
        return web.sign_in_response(
            f"/wallet/credentials/{award_id}", session, "Claimed: the credential is in your wallet."
        )

    @app.get("/admin/outbox", include_in_schema=False)
    def outbox(request: Request) -> Response:
        web.require(request, "platform_admin")
        mailer = web.platform.mailer
        messages = mailer.messages(limit=50) if isinstance(mailer, OutboxMailer) else []
        return web.render(
            request, "outbox.html", title="Outbox", messages=messages, folder=str(web.platform.settings.outbox_dir)
        )
