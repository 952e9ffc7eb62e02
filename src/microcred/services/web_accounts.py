"""Browser accounts: sessions, self sign-up, password reset, staff invitations and claiming awards.

Every link sent by mail carries a random token of which only the SHA-256 is
stored; a token works once and expires. Answers never reveal whether an
address has an account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from microcred.errors import AuthError, ForbiddenError, InputError
from microcred.services.accounts import AccountService, Principal, hash_password
from microcred.services.awarding import PendingAward, normalize_email
from microcred.services.issuing import NotFound, Runtime
from microcred.services.mail import Mail, Mailer, MailError
from microcred.storage import models
from microcred.storage.repositories import Repository

SESSION_LIFETIME = timedelta(days=14)
LIFETIMES = {
    "reset": timedelta(hours=1),
    "confirm": timedelta(days=3),
    "invite": timedelta(days=7),
    "claim": timedelta(days=60),
}
STAFF_ROLES = ("issuer_admin", "issuer_staff", "employer")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionUser:
    id: int
    email: str
    role: str
    organisation_id: int | None
    name: str | None
    verified: bool
    session_id: str

    @property
    def principal(self) -> Principal:
        return Principal(self.email, self.role, self.organisation_id)


@dataclass(frozen=True, slots=True)
class ClaimLink:
    award_id: str
    email: str
    has_account: bool
    used: bool


class WebAccounts:
    def __init__(self, runtime: Runtime, accounts: AccountService, mailer: Mailer) -> None:
        self.runtime = runtime
        self.accounts = accounts
        self.mailer = mailer

    # -- sessions ----------------------------------------------------------------
    def sign_in(self, email: str, password: str, address: str) -> str:
        user = self.accounts.check_password(email, password, address)
        if user is None:
            raise AuthError("that email and password do not match an account")
        return self._start_session(user.id)

    def _start_session(self, user_id: int) -> str:
        token = secrets.token_urlsafe(32)
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            repo.add(
                models.WebSession(id=_digest(token), user_id=user_id, created_at=now, expires_at=now + SESSION_LIFETIME)
            )
        return token

    def session(self, token: str) -> SessionUser | None:
        if not token or len(token) > 100:
            return None
        with self.runtime.db.read() as repo:
            row = repo.web_session(_digest(token))
            if row is None or row.expires_at <= self.runtime.clock.now():
                return None
            user = repo.user(row.user_id)
            if user is None:
                return None
            return SessionUser(
                user.id,
                user.email,
                user.role,
                user.organisation_id,
                user.name,
                user.email_verified_at is not None,
                row.id,
            )

    def sign_out(self, token: str) -> None:
        with self.runtime.db.transaction() as repo:
            repo.end_web_session(_digest(token))

    # -- sign-up and confirmation ------------------------------------------------
    def sign_up(self, email: str, password: str, name: str | None, link: str) -> None:
        """A learner account; awards to the address appear once the emailed link is followed."""
        email = normalize_email(email)
        hash_password(password)  # reject a weak password before anything is stored
        with self.runtime.db.read() as repo:
            exists = repo.user_by_email(email) is not None
        if exists:  # same answer as a new sign-up: the page must not tell who has an account
            self.mailer.send(Mail(email, "Your microcred account", _ALREADY.format(link=link.rsplit("/", 1)[0])))
            return
        self.accounts.create_user(email, password, "learner", actor=email, name=name, verified=False)
        token = self._issue("confirm", email)
        self.mailer.send(Mail(email, "Confirm your email address", _CONFIRM.format(link=f"{link}/{token}")))

    def confirm(self, token: str) -> str:
        with self.runtime.db.transaction() as repo:
            row = self._redeem(repo, token, "confirm")
            user = repo.user_by_email(row.email)
            if user is None:
                raise NotFound("the account of this link no longer exists")
            user.email_verified_at = user.email_verified_at or self.runtime.clock.now()
            repo.mark_claimed_for(row.email, self.runtime.clock.now())
            self.runtime.audit(repo, row.email, "user.confirm", user.organisation_id, row.email)
            return row.email

    # -- password reset ------------------------------------------------------------
    def request_reset(self, email: str, link: str) -> None:
        try:
            email = normalize_email(email)
        except InputError:
            return
        with self.runtime.db.read() as repo:
            exists = repo.user_by_email(email) is not None
        if exists:
            token = self._issue("reset", email)
            self.mailer.send(Mail(email, "Reset your microcred password", _RESET.format(link=f"{link}/{token}")))

    def reset(self, token: str, password: str) -> str:
        password_hash = hash_password(password)
        with self.runtime.db.transaction() as repo:
            row = self._redeem(repo, token, "reset")
            user = repo.user_by_email(row.email)
            if user is None:
                raise NotFound("the account of this link no longer exists")
            user.password_hash = password_hash
            user.email_verified_at = user.email_verified_at or self.runtime.clock.now()
            repo.end_web_sessions(user.id)  # a reset signs every other browser out
            repo.clear_login_failures(user.email)
            self.runtime.audit(repo, user.email, "user.password_reset", user.organisation_id, user.email)
            user_id = user.id
        return self._start_session(user_id)

    # -- staff invitations ---------------------------------------------------------
    def invite(self, actor: Principal, email: str, role: str, organisation: str, link: str) -> None:
        if role not in STAFF_ROLES:
            raise InputError(f"invitations are for {', '.join(STAFF_ROLES)}, not {role!r}")
        email = normalize_email(email)
        with self.runtime.db.read() as repo:
            org = repo.organisation_by_slug(organisation)
            if org is None or not actor.may_see(org.id):
                raise NotFound(f"no organisation {organisation!r}")
            if not (actor.is_platform_admin or actor.role == "issuer_admin"):
                raise ForbiddenError("only an administrator can invite staff")
            if repo.user_by_email(email) is not None:
                raise InputError(f"{email} already has an account")
            org_id, org_name = org.id, org.name
        token = self._issue("invite", email, role=role, organisation_id=org_id)
        with self.runtime.db.transaction() as repo:
            self.runtime.audit(repo, actor.email, "user.invite", org_id, email, role=role)
        self.mailer.send(
            Mail(
                email,
                f"You are invited to {org_name} on microcred",
                _INVITE.format(org=org_name, role=role.replace("_", " "), link=f"{link}/{token}"),
            )
        )

    def invitation(self, token: str) -> models.OneTimeToken:
        with self.runtime.db.read() as repo:
            return self._valid(repo.one_time_token(_digest(token)), "invite")

    def accept_invite(self, token: str, password: str, name: str | None) -> str:
        password_hash = hash_password(password)
        with self.runtime.db.transaction() as repo:
            row = self._redeem(repo, token, "invite")
            if repo.user_by_email(row.email) is not None:
                raise InputError(f"{row.email} already has an account: sign in instead")
            user = repo.add(
                models.User(
                    email=row.email, password_hash=password_hash, role=row.role or "issuer_staff",
                    organisation_id=row.organisation_id, created_at=self.runtime.clock.now(), name=name,
                    email_verified_at=self.runtime.clock.now(),
                )
            )  # fmt: skip
            self.runtime.audit(
                repo, row.email, "user.create", row.organisation_id, row.email, role=user.role, via="invite"
            )
            user_id = user.id
        return self._start_session(user_id)

    # -- claiming awards ------------------------------------------------------------
    def notify_award(self, award_id: str, email: str, title: str, issuer: str, base: str) -> None:
        """Tell the recipient: a wallet link when they have a proven account, else a claim link."""
        with self.runtime.db.read() as repo:
            user = repo.user_by_email(email)
            known = user is not None and user.email_verified_at is not None
        if known:
            text = _EARNED.format(title=title, issuer=issuer, link=f"{base}/wallet/credentials/{award_id}")
            with self.runtime.db.transaction() as repo:
                repo.mark_claimed([award_id], self.runtime.clock.now())
        else:
            token = self._issue("claim", email, award_id=award_id)
            text = _CLAIM.format(title=title, issuer=issuer, link=f"{base}/claim/{token}")
        self._send(Mail(email, f"{issuer} awarded you {title}", text), award_id)

    def notify_pending(self, pending: list[PendingAward], base: str) -> None:
        """Bulk awards: tell each recipient (see notify_award)."""
        for item in pending:
            achievement = item.credential["credentialSubject"].get("achievement", {})
            self.notify_award(
                item.award_id, item.email, achievement.get("name", "a microcredential"), item.issuer.name, base
            )

    def _send(self, mail: Mail, subject: str) -> None:
        """An award stands even when its mail cannot go out; the failure is audited and can be resent."""
        try:
            self.mailer.send(mail)
        except MailError as exc:
            with self.runtime.db.transaction() as repo:
                self.runtime.audit(repo, "mail", "mail.failed", None, subject, to=mail.to, reason=exc.message)

    def claim_link(self, token: str) -> ClaimLink:
        with self.runtime.db.read() as repo:
            row = repo.one_time_token(_digest(token))
            if row is None or row.purpose != "claim" or row.award_id is None:
                raise NotFound("this claim link is not valid")
            if row.expires_at <= self.runtime.clock.now() and row.used_at is None:
                raise InputError("this claim link has expired; ask the issuer to send the award again")
            return ClaimLink(
                row.award_id, row.email, repo.user_by_email(row.email) is not None, row.used_at is not None
            )

    def claim(self, token: str, password: str, name: str | None) -> tuple[str, str]:
        """Sign up through a claim link: the address is proven by the link. Returns (session, award id)."""
        password_hash = hash_password(password)
        with self.runtime.db.transaction() as repo:
            row = self._redeem(repo, token, "claim")
            if repo.user_by_email(row.email) is not None:
                raise InputError(f"{row.email} already has an account: sign in to claim")
            now = self.runtime.clock.now()
            user = repo.add(
                models.User(
                    email=row.email, password_hash=password_hash, role="learner", organisation_id=None,
                    created_at=now, name=name, email_verified_at=now,
                )
            )  # fmt: skip
            self._claimed(repo, row)
            user_id, award_id = user.id, row.award_id
        assert award_id is not None
        return self._start_session(user_id), award_id

    def claim_signed_in(self, token: str, user: SessionUser) -> str:
        with self.runtime.db.transaction() as repo:
            row = repo.one_time_token(_digest(token), lock=True)
            if row is None or row.purpose != "claim" or row.award_id is None:
                raise NotFound("this claim link is not valid")
            if row.email != user.email:
                raise ForbiddenError(f"this award was sent to {row.email}; sign in with that address to claim it")
            stored = repo.user(user.id)
            if stored is not None and stored.email_verified_at is None:
                stored.email_verified_at = self.runtime.clock.now()  # following the link proves the address
            if row.used_at is None:
                row.used_at = self.runtime.clock.now()
            self._claimed(repo, row)
            return row.award_id

    def _claimed(self, repo: Repository, row: models.OneTimeToken) -> None:
        now = self.runtime.clock.now()
        assert row.award_id is not None
        repo.mark_claimed([row.award_id], now)
        self.runtime.audit(repo, row.email, "award.claim", None, row.award_id)

    # -- tokens -------------------------------------------------------------------------
    def _issue(
        self,
        purpose: str,
        email: str,
        *,
        role: str | None = None,
        organisation_id: int | None = None,
        award_id: str | None = None,
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            repo.add(
                models.OneTimeToken(
                    token_hash=_digest(token), purpose=purpose, email=email, role=role,
                    organisation_id=organisation_id, award_id=award_id, created_at=now,
                    expires_at=now + LIFETIMES[purpose], used_at=None,
                )
            )  # fmt: skip
        return token

    def _valid(self, row: models.OneTimeToken | None, purpose: str) -> models.OneTimeToken:
        if row is None or row.purpose != purpose:
            raise NotFound("this link is not valid")
        if row.used_at is not None:
            raise InputError("this link has already been used")
        if row.expires_at <= self.runtime.clock.now():
            raise InputError("this link has expired; ask for a new one")
        return row

    def _redeem(self, repo: Repository, token: str, purpose: str) -> models.OneTimeToken:
        row = self._valid(repo.one_time_token(_digest(token), lock=True), purpose)
        row.used_at = self.runtime.clock.now()
        return row


_CONFIRM = """Welcome to microcred.

Confirm your email address to see the credentials awarded to it:

{link}

The link works once, for 3 days. If you did not sign up, ignore this message.
"""
_ALREADY = """Someone (probably you) tried to sign up with this address, which already has an account.

Sign in at {link}/signin, or reset your password at {link}/reset.
"""
_RESET = """To choose a new password for microcred, open:

{link}

The link works once, for one hour. If you did not ask for it, ignore this message.
"""
_INVITE = """{org} invites you to microcred as {role}.

Choose your password and sign in:

{link}

The invitation works once, for 7 days.
"""
_EARNED = """{issuer} awarded you the microcredential "{title}".

It is in your wallet: {link}
"""
_CLAIM = """{issuer} awarded you the microcredential "{title}".

Claim it (this creates your free microcred wallet):

{link}

From the wallet you can share it, add it to LinkedIn and download it.
"""
