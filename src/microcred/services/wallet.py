"""The learner wallet: credentials issued here to a proven address, and credentials imported from elsewhere.

Imports are verified first and kept exactly as received. A wallet exports to a
zip (each credential as it was signed, plus a manifest of the learner's
choices) that imports back with nothing lost.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from microcred.errors import InputError, MicrocredError
from microcred.services.awarding import AwardService
from microcred.services.credentials import CredentialService
from microcred.services.issuing import Conflict, NotFound, Runtime
from microcred.services.presentation import describe, state_of
from microcred.services.web_accounts import SessionUser
from microcred.standards import baking, jose, safejson
from microcred.standards.dates import format_datetime
from microcred.standards.inputs import looks_like_jwt
from microcred.standards.ob3_api import equality_key
from microcred.standards.vc import as_list
from microcred.standards.verify import FAILED, Report
from microcred.storage import models

# A credential may be genuine but no longer in force; it still belongs in a wallet.
# A learner may keep the record of a credential of theirs that has expired or is suspended; a revoked one
# was withdrawn by its issuer and is not taken in.
TOLERATED_FAILURES = frozenset({"valid_until", "valid_from", "status.suspension"})
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_BYTES = 50 * 1024 * 1024
MANIFEST = "microcred-wallet.json"
STATE_TTL = 60.0  # seconds; status lists are served with max-age 60


class ImportRefused(InputError):
    """The credential was not imported; the report says why."""

    code = "import_refused"

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, slots=True)
class WalletEntry:
    id: str  # award id (issued here) or wallet item id (imported)
    origin: str  # issued or imported
    name: str
    issuer_name: str
    issued: datetime | None
    valid_until: datetime | None
    public: bool
    state: str  # verified, expired, revoked, suspended, failed
    skills: list[str]
    image: str | None = None  # the badge: this installation's image URL or a data: URI (the page's CSP allows no other)


@dataclass(frozen=True, slots=True)
class _Accepted:
    format: str  # json, jwt, or ob2 (an Open Badges 2.0 assertion)
    content: str  # as kept: compact JSON, the JWT (or OB 2.0 JWS) as received, or the hosted assertion served
    credential: dict[str, Any]
    credential_id: str | None
    digest: str


@dataclass(frozen=True, slots=True)
class ZipOutcome:
    imported: int
    duplicates: int
    refused: list[str]


def credential_text(data: bytes | str) -> str:
    """The credential carried by an upload: JSON or a compact JWT, unwrapped from a baked image."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > baking.MAX_IMAGE_BYTES:
        raise ImportRefused("the file is larger than 10 MB")
    if baking.is_png(raw):
        return baking.read_png(raw)
    if baking.is_svg(raw):
        return baking.read_svg(raw)
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise ImportRefused("the file is neither JSON, a JWT, a PNG nor an SVG") from exc


def ownership_refusal(credential: dict[str, Any], email: str) -> str | None:
    """Why the credential is not this learner's, or None when it is.

    It is theirs when a subject names their confirmed email: an OB 3.0 IdentityObject of type emailAddress
    (hashed with its salt, sha256 or md5, or in plain text) or a `mailto:` id. A subject named only by a DID
    is refused: nothing here proves the learner controls that DID."""
    subjects = [s for s in as_list(credential.get("credentialSubject")) if isinstance(s, dict)]
    wanted = email.strip().lower()
    for subject in subjects:
        if isinstance(subject.get("id"), str) and subject["id"].lower() == f"mailto:{wanted}":
            return None
        if any(_identifies(identity, wanted) for identity in as_list(subject.get("identifier"))):
            return None
    named_by_email = any(
        isinstance(i, dict) and i.get("identityType") == "emailAddress"
        for subject in subjects
        for i in as_list(subject.get("identifier"))
    )
    dids = [s["id"] for s in subjects if isinstance(s.get("id"), str) and s["id"].startswith("did:")]
    if dids and not named_by_email:
        return (
            f"this credential was issued to {dids[0][:80]}, a DID this wallet cannot confirm you control; "
            "only credentials issued to your confirmed email address can be added"
        )
    return (
        f"this credential was not issued to {email}: its subject names another person or no email address, "
        "so it was not added to your wallet"
    )


def _identifies(identity: Any, email: str) -> bool:
    if not isinstance(identity, dict) or identity.get("identityType") != "emailAddress":
        return False
    value = identity.get("identityHash")
    if not isinstance(value, str):
        return False
    if identity.get("hashed") is not True:
        return value.strip().lower() == email
    algorithm, _sep, digest = value.partition("$")
    found_salt = identity.get("salt")
    salt = found_salt if isinstance(found_salt, str) else ""
    hashers = {"sha256": hashlib.sha256, "md5": hashlib.md5}  # md5: OB 2.0-era identities, never made here
    if algorithm not in hashers or not digest:
        return False
    return hmac.compare_digest(hashers[algorithm]((email + salt).encode()).hexdigest(), digest.lower())


def _own_image(credential: dict[str, Any]) -> str | None:
    """The badge of a credential issued here, as a path on this site (the address it was issued under may
    differ from today's public address)."""
    image = describe(credential).image
    if image and image.startswith("data:image/"):
        return image
    path = urlsplit(image).path if image else ""
    return path if path.startswith("/microcredentials/") else None


class WalletService:
    def __init__(self, runtime: Runtime, credentials: CredentialService, awards: AwardService) -> None:
        self.runtime = runtime
        self.credentials = credentials
        self.awards = awards
        # item id -> (until, changes, state, skills, image)
        self._states: dict[str, tuple[float, int, str, list[str], str | None]] = {}
        self.listeners: list[Callable[[str], None]] = []  # called with the holder's email after an import

    # -- reading ----------------------------------------------------------------
    def entries(self, user: SessionUser) -> list[WalletEntry]:
        now = self.runtime.clock.now()
        found = [self._issued_entry(award, now) for award in self.issued_awards(user)]
        with self.runtime.db.read() as repo:
            items = repo.wallet_items(user.id)
        found += [self._imported_entry(item) for item in items]
        return sorted(found, key=lambda e: e.issued or now, reverse=True)

    def issued_awards(self, user: SessionUser) -> list[models.Award]:
        if not user.verified:
            return []  # an unproven address must not reveal what was awarded to it
        with self.runtime.db.read() as repo:
            return repo.awards(email=user.email, limit=5000)

    def issued_award(self, user: SessionUser, award_id: str) -> models.Award:
        with self.runtime.db.read() as repo:
            award = repo.award(award_id)
        if award is None or not holds(user, award):
            raise NotFound(f"no credential {award_id!r} in your wallet")
        return award

    def item(self, user: SessionUser, item_id: str) -> models.WalletItem:
        with self.runtime.db.read() as repo:
            item = repo.wallet_item(item_id)
        if item is None or item.user_id != user.id:
            raise NotFound(f"no credential {item_id!r} in your wallet")
        return item

    def _issued_entry(self, award: models.Award, now: datetime) -> WalletEntry:
        credential = json.loads(award.credential)
        achievement = credential["credentialSubject"].get("achievement", {})
        if award.revoked_at:
            state = "revoked"
        elif award.suspended:
            state = "suspended"
        elif award.valid_until and award.valid_until <= now:
            state = "expired"
        else:
            state = "verified"
        return WalletEntry(
            award.id, "issued", achievement.get("name", "credential"), credential["issuer"].get("name", ""),
            award.issued_at, award.valid_until, award.public, state,
            [a.get("targetName", "") for a in achievement.get("alignment", [])], _own_image(credential),
        )  # fmt: skip

    def _shown_image(self, credential: dict[str, Any] | None) -> str | None:
        image = describe(credential).image if credential else None
        if image and (image.startswith(self.runtime.base_url + "/") or image.startswith("data:image/")):
            return image
        return None

    def _imported_entry(self, item: models.WalletItem) -> WalletEntry:
        """An imported credential with its live state, re-verified at most once a minute per credential
        (as long as status lists may be cached), so the wallet page stays fast however much it holds."""
        now = time.monotonic()
        cached = self._states.get(item.id)
        if cached is None or cached[0] <= now or cached[1] != self.runtime.changes.value:
            report = self.credentials.verify(item.content)
            skills = [label for label, _uri in describe(report.credential).skills] if report.credential else []
            cached = (now + STATE_TTL, self.runtime.changes.value, state_of(report), skills,
                      self._shown_image(report.credential))  # fmt: skip
            self._states[item.id] = cached
        return WalletEntry(
            item.id, "imported", item.name, item.issuer_name or item.issuer, item.imported_at,
            item.valid_until, item.public, cached[2], cached[3], cached[4],
        )  # fmt: skip

    # -- importing ------------------------------------------------------------------
    def import_credential(
        self, user: SessionUser, data: bytes | str, source: str, *, public: bool = False
    ) -> models.WalletItem:
        accepted = self._accepted(user, data)
        self._refuse_duplicate(user, accepted.digest, accepted.credential_id)
        with self.runtime.db.transaction() as repo:
            item = repo.add(self._new_item(user, accepted, source, public))
            self.runtime.audit(repo, user.email, "wallet.import", None, item.id, source=source[:200])
        self._changed(user)
        return item

    def upsert(self, user: SessionUser, data: bytes | str, source: str) -> tuple[bool, str, str]:
        """Add a credential, or replace the one it equals (OB 3.0 credential equality: the same id, or
        the same issuer, achievement, subject and issuance): (created, format, the credential as kept).
        A credential issued here stays as we signed it."""
        accepted = self._accepted(user, data)
        if accepted.format == "ob2":
            raise ImportRefused("an Open Badges 2.0 assertion is not an OB 3.0 AchievementCredential; add it in the "
                                "wallet's import instead")  # fmt: skip
        award = self._issued_here(user, accepted.credential_id)
        if award is not None:
            return False, "json", award.credential
        key = equality_key(accepted.credential)
        with self.runtime.db.transaction() as repo:
            same = next((i for i in repo.wallet_items(user.id) if _item_key(i) == key), None)
            if same is None:
                item = repo.add(self._new_item(user, accepted, source, False))
                self.runtime.audit(repo, user.email, "wallet.import", None, item.id, source=source[:200])
            else:
                item, summary = same, _summary(accepted.credential)
                item.digest, item.credential_id, item.format = accepted.digest, accepted.credential_id, accepted.format
                item.content, item.name, item.issuer_name = (
                    accepted.content,
                    summary["name"][:500],
                    summary["issuer_name"],
                )
                item.issuer, item.valid_until = summary["issuer"][:2000], summary["valid_until"]
                self.runtime.audit(repo, user.email, "wallet.replace", None, item.id, source=source[:200])
            answer = (same is None, item.format, item.content)
        self._states.pop(item.id, None)
        self._changed(user)
        return answer

    def _accepted(self, user: SessionUser, data: bytes | str) -> _Accepted:
        """The credential verified and shown to be this learner's (ImportRefused, with the report, if not)."""
        if not user.verified:
            raise ImportRefused(
                "confirm your email address first: a credential counts as yours when it was issued to it"
            )
        text = credential_text(data)
        report = self.credentials.verify(text, recipient=user.email)
        blocking = [c for c in report.checks if c.status == FAILED and c.code not in TOLERATED_FAILURES
                    and c.code != "ob2.recipient"]  # fmt: skip
        if blocking or report.credential is None:
            reasons = "; ".join(f"{c.message}" for c in blocking[:3]) or "it holds no credential"
            raise ImportRefused(f"this credential does not verify, so it was not imported: {reasons}", report)
        if report.original is not None:  # an Open Badges 2.0 assertion
            if report.status_of("ob2.recipient") != "passed":
                raise ImportRefused(
                    f"this badge was not awarded to {user.email}: its recipient is another person, so it was not "
                    "added to your wallet", report,
                )  # fmt: skip
            content = text if report.format == "ob2+jws" else json.dumps(report.original, separators=(",", ":"))
            found_id = report.original.get("id")
            return _Accepted("ob2", content, report.credential, found_id if isinstance(found_id, str) else None,
                             hashlib.sha256(content.encode()).hexdigest())  # fmt: skip
        refusal = ownership_refusal(report.credential, user.email)
        if refusal:
            raise ImportRefused(refusal, report)
        fmt = "jwt" if looks_like_jwt(text) else "json"
        content = (
            text
            if fmt == "jwt"
            else json.dumps(safejson.parse(text.encode()), ensure_ascii=False, separators=(",", ":"))
        )
        credential = report.credential
        credential_id = credential.get("id") if isinstance(credential.get("id"), str) else None
        return _Accepted(fmt, content, credential, credential_id, hashlib.sha256(content.encode()).hexdigest())

    def _new_item(self, user: SessionUser, accepted: _Accepted, source: str, public: bool) -> models.WalletItem:
        summary = _summary(accepted.credential)
        return models.WalletItem(
            id=str(uuid.uuid4()), user_id=user.id, digest=accepted.digest, credential_id=accepted.credential_id,
            format=accepted.format, content=accepted.content, name=summary["name"][:500],
            issuer_name=summary["issuer_name"], issuer=summary["issuer"][:2000], valid_until=summary["valid_until"],
            public=public, source=source[:500], imported_at=self.runtime.clock.now(),
        )  # fmt: skip

    def _changed(self, user: SessionUser) -> None:
        for listener in self.listeners:
            listener(user.email)

    def _refuse_duplicate(self, user: SessionUser, digest: str, credential_id: str | None) -> None:
        with self.runtime.db.read() as repo:
            if repo.wallet_duplicate(user.id, digest, credential_id) is not None:
                raise Conflict("this credential is already in your wallet")
        if self._issued_here(user, credential_id) is not None:
            raise Conflict("this credential is already in your wallet (it was issued here)")

    def _issued_here(self, user: SessionUser, credential_id: str | None) -> models.Award | None:
        """The award of ours to this user that a credential id names, if any."""
        award_id = self.awards.award_id_for(credential_id) if credential_id else None
        try:
            return self.issued_award(user, award_id) if award_id else None
        except NotFound:
            return None

    # -- choices -----------------------------------------------------------------------
    def set_public(self, user: SessionUser, entry_id: str, public: bool) -> None:
        with self.runtime.db.transaction() as repo:
            item = repo.wallet_item(entry_id)
            if item is not None and item.user_id == user.id:
                item.public = public
                return
            award = repo.award(entry_id)
            if award is None or not holds(user, award):
                raise NotFound(f"no credential {entry_id!r} in your wallet")
            award.public = public
            self.runtime.audit(repo, user.email, "award.share" if public else "award.hide", None, entry_id)

    def delete(self, user: SessionUser, item_id: str) -> None:
        self.item(user, item_id)
        with self.runtime.db.transaction() as repo:
            repo.delete_wallet_item(item_id)
            self.runtime.audit(repo, user.email, "wallet.delete", None, item_id)
        for listener in self.listeners:  # what it proved is gone
            listener(user.email)

    # -- export and import of the whole wallet -------------------------------------
    def export_zip(self, user: SessionUser) -> bytes:
        manifest: dict[str, Any] = {"format": "microcred-wallet", "version": 1, "owner": user.email,
                                    "exported": format_datetime(self.runtime.clock.now()), "items": []}  # fmt: skip
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for award in self.issued_awards(user):
                name = f"credentials/{award.id}.json"
                archive.writestr(name, award.credential)
                manifest["items"].append(
                    {
                        "file": name,
                        "origin": "issued",
                        "format": "json",
                        "public": award.public,
                        "source": self.awards.credential_url(award.id),
                    }
                )
            with self.runtime.db.read() as repo:
                items = repo.wallet_items(user.id)
            for item in items:
                name = f"credentials/{item.id}.{'jwt' if item.format == 'jwt' else 'json'}"
                archive.writestr(name, item.content)
                manifest["items"].append(
                    {
                        "file": name,
                        "origin": "imported",
                        "format": item.format,
                        "public": item.public,
                        "source": item.source,
                    }
                )
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        return buffer.getvalue()

    def import_zip(self, user: SessionUser, data: bytes) -> ZipOutcome:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise ImportRefused("the file is not a zip archive") from exc
        with archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_ZIP_BYTES:
                raise ImportRefused(f"the archive is too large (at most {MAX_ZIP_ENTRIES} files and 50 MB)")
            items = _manifest_items(archive)
            imported = duplicates = 0
            refused: list[str] = []
            for entry in items:
                try:
                    content = archive.read(entry["file"])
                    self.import_credential(
                        user, content, str(entry.get("source") or "wallet export"), public=bool(entry.get("public"))
                    )
                    imported += 1
                except Conflict:
                    duplicates += 1
                    self._restore_choice(user, content, bool(entry.get("public")))
                except (MicrocredError, KeyError) as exc:
                    refused.append(f"{entry['file']}: {getattr(exc, 'message', 'missing from the archive')}")
        return ZipOutcome(imported, duplicates, refused)

    def _restore_choice(self, user: SessionUser, content: bytes, public: bool) -> None:
        """A credential already held keeps the sharing choice recorded in the export."""
        try:
            credential = safejson.parse(content) if content.strip().startswith(b"{") else None
        except MicrocredError:
            return
        award = self._issued_here(user, credential.get("id") if isinstance(credential, dict) else None)
        if award is not None and award.public != public:
            self.set_public(user, award.id, public)


def holds(user: SessionUser, award: models.Award) -> bool:
    return user.verified and award.recipient_email == user.email


def _manifest_items(archive: zipfile.ZipFile) -> list[dict[str, Any]]:
    try:
        manifest = safejson.parse(archive.read(MANIFEST))
    except KeyError:
        # Not one of our exports: every .json and .jwt file is a credential, private.
        return [
            {"file": n, "public": False, "source": f"zip: {n}"}
            for n in archive.namelist()
            if n.endswith((".json", ".jwt"))
        ]
    items = manifest.get("items") if isinstance(manifest, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("file"), str) for i in items):
        raise ImportRefused(f"{MANIFEST} in the archive is not a microcred wallet manifest")
    return items


def item_credential(item: models.WalletItem) -> dict[str, Any] | None:
    """The credential a wallet item holds (a JWT's `vc` claim, or the JSON itself); it was verified when
    it came in, so nothing is checked here."""
    if item.format == "ob2":
        return None  # not a Verifiable Credential (its display form comes from verifying it)
    if item.format == "jwt":
        try:
            return jose.credential_of(jose.decode(item.content)[1])
        except MicrocredError:
            return None
    found = json.loads(item.content)
    return found if isinstance(found, dict) else None


def _item_key(item: models.WalletItem) -> str | None:
    credential = item_credential(item)
    return equality_key(credential) if credential is not None else None


def _summary(credential: dict[str, Any]) -> dict[str, Any]:
    view = describe(credential)
    return {
        "name": view.title,
        "issuer_name": view.issuer_name[:500],
        "issuer": view.issuer_id or "unknown",
        "valid_until": view.valid_until,
    }
