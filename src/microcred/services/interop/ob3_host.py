"""The Open Badges 3.0 API's resources for one learner: their credentials (read and upsert) and their
Profile (read and replace), as an OAuth 2.0 client the learner authorized sees them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microcred.errors import AuthError, ForbiddenError, InputError, MicrocredError
from microcred.services.issuing import Runtime
from microcred.services.wallet import WalletService, item_credential
from microcred.services.web_accounts import SessionUser
from microcred.standards import ob3_api, safejson, schema
from microcred.standards.dates import parse_datetime
from microcred.storage import models
from microcred.storage.repositories import DuplicateError

MAX_PROFILE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Page:
    credentials: list[dict[str, Any]]  # JSON-LD credentials
    compact_jws: list[str]  # VC-JWTs
    total: int


class Ob3Host:
    def __init__(self, runtime: Runtime, wallet: WalletService) -> None:
        self.runtime = runtime
        self.wallet = wallet

    def holder(self, user_id: int) -> SessionUser:
        with self.runtime.db.read() as repo:
            user = repo.user(user_id)
        if user is None:
            raise AuthError("the learner this token was issued for no longer has an account")
        return SessionUser(user.id, user.email, user.role, user.organisation_id, user.name,
                           user.email_verified_at is not None, "")  # fmt: skip

    # -- credentials --------------------------------------------------------------------------
    def credentials(self, user_id: int, limit: int, offset: int, since: datetime | None) -> Page:
        """The learner's credentials, oldest first (stable pages): issued here, then imported ones, in
        the order they were issued; `since`: issued after that moment."""
        holder = self.holder(user_id)
        found: list[tuple[datetime, str, str, Any]] = []
        for award in self.wallet.issued_awards(holder):
            found.append((award.issued_at, award.id, "json", json.loads(award.credential)))
        with self.runtime.db.read() as repo:
            items = repo.wallet_items(holder.id)
        for item in items:
            if item.format == "ob2":
                continue  # an Open Badges 2.0 assertion is not an AchievementCredential
            credential = item_credential(item)
            issued = _issued(credential) or item.imported_at
            found.append((issued, item.id, item.format, item.content if item.format == "jwt" else credential))
        if since is not None:
            found = [entry for entry in found if entry[0] > since]
        found.sort(key=lambda entry: (entry[0], entry[1]))
        page = found[offset : offset + limit]
        return Page(
            [value for _at, _id, fmt, value in page if fmt == "json"],
            [value for _at, _id, fmt, value in page if fmt == "jwt"],
            len(found),
        )

    def upsert(self, user_id: int, body: bytes, jws: bool) -> tuple[bool, str, str]:
        """(created, format, the credential as kept); the credential must verify and be the learner's."""
        holder = self.holder(user_id)
        text = body.decode("utf-8", "replace").strip()
        if jws and not ob3_api.COMPACT_JWS.match(text):
            raise InputError("a text/plain body must be one compact JWS (header.payload.signature)")
        if not jws:
            found = safejson.parse(body)
            if not isinstance(found, dict):
                raise InputError("the body must be one AchievementCredential (a JSON object)")
        if not holder.verified:
            raise ForbiddenError("the learner has not confirmed their email address, so no credential can be "
                                 "shown to be theirs yet")  # fmt: skip
        return self.wallet.upsert(holder, text, "OB 3.0 API upsertCredential")

    # -- the profile ---------------------------------------------------------------------------
    def profile(self, user_id: int) -> dict[str, Any]:
        holder = self.holder(user_id)
        with self.runtime.db.read() as repo:
            row = repo.api_profile(holder.id)
        if row is not None:
            return json.loads(row.document)  # type: ignore[no-any-return]
        try:
            with self.runtime.db.transaction() as repo:  # a stable id from the first read on
                repo.add_unique(models.ApiProfile(user_id=holder.id, document=json.dumps(_default_profile(holder)),
                                                  updated_at=self.runtime.clock.now()))  # fmt: skip
        except DuplicateError:
            pass  # another request made it first: that one is the profile
        with self.runtime.db.read() as repo:
            made = repo.api_profile(holder.id)
        assert made is not None
        return json.loads(made.document)  # type: ignore[no-any-return]

    def put_profile(self, user_id: int, body: bytes) -> dict[str, Any]:
        """The Profile as sent, kept whole once it is a valid OB 3.0 Profile."""
        holder = self.holder(user_id)
        if len(body) > MAX_PROFILE_BYTES:
            raise InputError("a Profile may be at most 256 KB")
        document = safejson.parse(body)
        if not isinstance(document, dict):
            raise InputError("the body must be one Profile (a JSON object)")
        errors = profile_errors(document)
        if errors:
            raise InputError(f"this is not an OB 3.0 Profile: {'; '.join(errors[:3])}")
        with self.runtime.db.transaction() as repo:
            row = repo.api_profile(holder.id)
            text, now = json.dumps(document, ensure_ascii=False), self.runtime.clock.now()
            if row is None:
                repo.add(models.ApiProfile(user_id=holder.id, document=text, updated_at=now))
            else:
                row.document, row.updated_at = text, now
            self.runtime.audit(repo, holder.email, "profile.replace", None, str(document.get("id"))[:200])
        return document


def profile_errors(document: dict[str, Any]) -> list[str]:
    """Schema errors of a Profile. A single `type` string is read as a one-item list: the spec's own API
    examples send `"type": "Profile"`, which its JSON Schema (an array) would refuse."""
    checked = dict(document)
    if isinstance(checked.get("type"), str):
        checked["type"] = [checked["type"]]
    return schema.validate_against("Profile", checked).errors


def _default_profile(holder: SessionUser) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "@context": [ob3_api.CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "Profile",
        "name": holder.name or holder.email.split("@")[0],
    }
    if holder.verified:
        profile["email"] = holder.email
    return profile


def _issued(credential: dict[str, Any] | None) -> datetime | None:
    value = (credential or {}).get("validFrom") or (credential or {}).get("issuanceDate")
    try:
        return parse_datetime(value)
    except (MicrocredError, ValueError, TypeError):
        return None
