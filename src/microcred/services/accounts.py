"""Users, roles and API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from microcred.errors import InputError, RateLimitedError
from microcred.services.awarding import normalize_email
from microcred.services.issuing import Conflict, NotFound, Runtime
from microcred.storage import models

ROLES = ("platform_admin", "issuer_admin", "issuer_staff", "learner", "employer")
# What a token may be narrowed to: the REST API, VC-API issuing, VC-API status changes.
SCOPES = ("api", "vc:issue", "vc:status")
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """What an unknown address is checked against, so refusing it costs as much as a wrong password;
    made on the first sign-in, not at import (every command would pay tens of milliseconds)."""
    return _hasher.hash("not a password anyone has: constant-time refusal")


BACKOFF_WINDOW = timedelta(minutes=15)
FREE_FAILURES_PER_EMAIL = 5
FREE_FAILURES_PER_ADDRESS = 20
MAX_WAIT_SECONDS = 900


def backoff_seconds(failures: int, free: int) -> int:
    """How long to wait after the latest failure: nothing at first, then 30 s doubling up to 15 min."""
    if failures < free:
        return 0
    return int(min(MAX_WAIT_SECONDS, 30 * 2 ** (failures - free)))


def _enforce_backoff(repo: Any, email: str, address: str, now: datetime) -> None:
    since = now - BACKOFF_WINDOW
    for failures, latest, free in (
        (*repo.login_failures(email=email, since=since), FREE_FAILURES_PER_EMAIL),
        (*repo.login_failures(address=address, since=since), FREE_FAILURES_PER_ADDRESS),
    ):
        wait = backoff_seconds(failures, free)
        if wait and latest is not None and now < latest + timedelta(seconds=wait):
            remaining = int((latest + timedelta(seconds=wait) - now).total_seconds()) + 1
            raise RateLimitedError(
                f"too many failed sign-ins; try again in {remaining} seconds or reset your password", remaining
            )


@dataclass(frozen=True, slots=True)
class Principal:
    email: str
    role: str
    organisation_id: int | None
    scopes: frozenset[str] | None = None  # None: whatever the role may do

    @property
    def is_platform_admin(self) -> bool:
        return self.role == "platform_admin"

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def may_see(self, organisation_id: int | None) -> bool:
        return self.is_platform_admin or (organisation_id is not None and organisation_id == self.organisation_id)


@dataclass(frozen=True, slots=True)
class NewToken:
    token: str  # shown once; only its hash is stored
    prefix: str
    role: str
    scopes: tuple[str, ...] | None = None


def parse_scopes(scopes: list[str] | None) -> tuple[str, ...] | None:
    """Validated, de-duplicated scopes in a stable order; None or empty means unrestricted."""
    if not scopes:
        return None
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InputError(f"unknown token scope {unknown[0]!r}; choose from {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in scopes)


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise InputError("passwords must be at least 12 characters")
    if len(password) > 1000:
        raise InputError("passwords must be at most 1000 characters")
    return _hasher.hash(password)


class AccountService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def create_user(
        self,
        email: str,
        password: str | None,
        role: str,
        organisation: str | None = None,
        actor: str = "cli",
        *,
        name: str | None = None,
        verified: bool = True,
    ) -> models.User:
        """A user; operators vouch for the address (`verified`), self sign-up must prove it by mail."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        password_hash = hash_password(password) if password is not None else None
        email = normalize_email(email)
        with self.runtime.db.transaction() as repo:
            org_id = None
            if organisation is not None:
                org = repo.organisation_by_slug(organisation)
                if org is None:
                    raise NotFound(f"no organisation {organisation!r}")
                org_id = org.id
            if repo.user_by_email(email) is not None:
                raise Conflict(f"a user {email} already exists")
            user = repo.add(
                models.User(
                    email=email,
                    password_hash=password_hash,
                    role=role,
                    organisation_id=org_id,
                    created_at=self.runtime.clock.now(),
                    name=name,
                    email_verified_at=self.runtime.clock.now() if verified else None,
                )
            )
            self.runtime.audit(repo, actor, "user.create", org_id, email, role=role)
            return user

    def role_of(self, email: str) -> str:
        with self.runtime.db.transaction() as repo:
            user = repo.user_by_email(normalize_email(email))
            if user is None:
                raise NotFound(f"no user {email}")
            return user.role

    def check_password(self, email: str, password: str, address: str = "-") -> models.User | None:
        """The user when the password is right; refuses while the sign-in back-off is in force.

        The hash is checked outside any write transaction (argon2 takes tens of
        milliseconds and SQLite has one writer), and unknown addresses cost the
        same time as known ones.
        """
        email = email.strip().lower()[:320]
        now = self.runtime.clock.now()
        with self.runtime.db.read() as repo:
            _enforce_backoff(repo, email, address, now)
            user = repo.user_by_email(email)
            stored = user.password_hash if user is not None else None
        ok = False
        try:
            ok = _hasher.verify(stored or _dummy_hash(), password) and stored is not None
        except VerificationError:
            ok = False
        with self.runtime.db.transaction() as repo:
            if ok:
                repo.clear_login_failures(email)
            else:
                repo.add(models.LoginFailure(email=email, address=address[:64], at=now))
            self.runtime.audit(
                repo,
                email,
                "login.success" if ok else "login.failure",
                user.organisation_id if user else None,
                email,
                method="password",
            )
        return user if ok else None

    def create_token(
        self, email: str, role: str, days: int = 90, actor: str = "cli", scopes: list[str] | None = None
    ) -> NewToken:
        """A bearer token for `role`, optionally narrowed to `scopes` (see SCOPES)."""
        if not 1 <= days <= 3650:
            raise InputError("token lifetime must be 1 to 3650 days")
        narrowed = parse_scopes(scopes)
        with self.runtime.db.transaction() as repo:
            user = repo.user_by_email(normalize_email(email))
            if user is None:
                raise NotFound(f"no user {email}")
            if role != user.role and not (
                user.role == "platform_admin" or (user.role == "issuer_admin" and role == "issuer_staff")
            ):
                raise InputError(f"a {user.role} cannot create a {role} token")
            token = "mct_" + secrets.token_urlsafe(32)
            now = self.runtime.clock.now()
            repo.add(
                models.ApiToken(
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    prefix=token[:12],
                    user_id=user.id,
                    organisation_id=user.organisation_id,
                    role=role,
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                    revoked_at=None,
                    scopes=" ".join(narrowed) if narrowed else None,
                )
            )
            self.runtime.audit(
                repo, actor, "token.create", user.organisation_id, token[:12], role=role, days=days, scopes=narrowed
            )
            return NewToken(token, token[:12], role, narrowed)

    def principal_of(self, email: str) -> Principal:
        """Who a user is, for work done on their behalf (the CLI, the demo)."""
        with self.runtime.db.read() as repo:
            user = repo.user_by_email(normalize_email(email))
            if user is None:
                raise NotFound(f"no user {email!r}")
            return Principal(user.email, user.role, user.organisation_id)

    def principal(self, token: str) -> Principal | None:
        """Who a bearer token acts for, or None when it is unknown, revoked or expired."""
        with self.runtime.db.read() as repo:
            row = repo.token_by_hash(hashlib.sha256(token.encode()).hexdigest())
            if row is None or row.revoked_at is not None or row.expires_at <= self.runtime.clock.now():
                return None
            user = repo.user(row.user_id)
            assert user is not None
            scopes = frozenset(row.scopes.split()) if row.scopes else None
            return Principal(user.email, row.role, row.organisation_id, scopes)

    def revoke_token(self, prefix: str, actor: str = "cli") -> None:
        with self.runtime.db.transaction() as repo:
            row = repo.token_by_prefix(prefix)
            if row is None:
                raise NotFound(f"no token {prefix}")
            row.revoked_at = self.runtime.clock.now()
            self.runtime.audit(repo, actor, "token.revoke", row.organisation_id, prefix)
