"""Issuers, their keys and DID documents, and the microcredential catalogue."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from microcred.clock import Clock
from microcred.domain.microcredentials import MicrocredentialDefinition, missing_eu_elements
from microcred.errors import InputError, UsageError
from microcred.services.keys import KeyVault
from microcred.standards.dids import did_web_document
from microcred.standards.dids.methods import did_key_document, did_key_for, did_web_for
from microcred.standards.keys import Ed25519KeyPair, public_key_multibase
from microcred.storage import models
from microcred.storage.repositories import Database, Repository

SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
DID_METHODS = ("web", "key")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class NotFound(InputError):
    code = "not_found"


class Conflict(InputError):
    code = "conflict"


class Changes:
    """Counts status and key changes made by this process, so its caches can drop stale answers."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every platform service needs: sessions, time, keys and the public address."""

    db: Database
    clock: Clock
    vault: KeyVault
    base_url: str
    changes: Changes = field(default_factory=Changes)

    def audit(
        self, repo: Repository, actor: str, action: str, organisation_id: int | None, subject: str | None, **detail: Any
    ) -> None:
        repo.audit(self.clock.now(), actor, action, organisation_id, subject, detail)

    def did_for(self, slug: str) -> str:
        return did_web_for(*self._did_parts(), "issuers", slug)

    @property
    def platform_did(self) -> str:
        """The installation's own did:web, served at /.well-known/did.json."""
        return did_web_for(*self._did_parts())

    def _did_parts(self) -> list[str]:
        parts = urlsplit(self.base_url)
        return [parts.netloc, *(p for p in parts.path.split("/") if p)]


def get_issuer(repo: Repository, slug: str) -> models.Issuer:
    issuer = repo.issuer_by_slug(slug)
    if issuer is None:
        raise NotFound(f"no issuer with slug {slug!r}")
    return issuer


def active_key(repo: Repository, runtime: Runtime, issuer: models.Issuer) -> tuple[str, Ed25519KeyPair]:
    row = repo.active_key(issuer.id)
    if row is None:
        raise UsageError(f"issuer {issuer.slug!r} has no active key")
    return f"{issuer.did}#{row.key_id}", runtime.vault.open(row.encrypted_secret, f"{issuer.did}#{row.key_id}")


class IssuerService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def create(
        self,
        *,
        name: str,
        slug: str,
        country: str,
        url: str | None = None,
        email: str | None = None,
        description: str | None = None,
        image: str | None = None,
        organisation: str | None = None,
        parent: str | None = None,
        suite: str = "eddsa-rdfc-2022",
        actor: str = "cli",
        did_method: str = "web",
    ) -> models.Issuer:
        """An issuer with a did:web under this installation (rotatable keys), or a did:key (the key is the DID)."""
        _check_issuer_fields(name, slug, country, url)
        if suite not in SUITES:
            raise InputError(f"suite {suite!r} must be one of {', '.join(SUITES)}")
        if did_method not in DID_METHODS:
            raise InputError(f"did method {did_method!r} must be one of {', '.join(DID_METHODS)}")
        first_key = Ed25519KeyPair.generate()
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            if repo.issuer_by_slug(slug) is not None:
                raise Conflict(f"an issuer with slug {slug!r} already exists")
            parent_issuer = get_issuer(repo, parent) if parent else None
            org = repo.organisation_by_slug(organisation or slug) or repo.add(
                models.Organisation(slug=organisation or slug, name=name.strip(), created_at=now)
            )
            issuer = models.Issuer(
                organisation_id=org.id, slug=slug, name=name.strip(), url=url,
                did=did_key_for(first_key.public_bytes) if did_method == "key" else self.runtime.did_for(slug),
                email=email, description=description, image=image, country_code=country.upper(),
                default_suite=suite, parent_issuer_id=parent_issuer.id if parent_issuer else None,
                created_at=now,
            )  # fmt: skip
            if repo.issuer_by_did(issuer.did) is not None:
                raise Conflict(f"an issuer with DID {issuer.did} already exists")
            repo.add(issuer)
            key_id = self._add_key(repo, issuer, first_key)
            self.runtime.audit(repo, actor, "issuer.create", org.id, slug, did=issuer.did)
            self.runtime.audit(repo, actor, "key.create", org.id, slug, key_id=key_id)
        return issuer

    def update_profile(
        self,
        slug: str,
        *,
        name: str,
        country: str,
        url: str | None,
        email: str | None,
        description: str | None,
        colour: str | None,
        actor: str = "cli",
    ) -> models.Issuer:
        """The public profile later credentials carry (earlier ones keep what they were signed with)."""
        _check_issuer_fields(name, slug, country, url)
        if colour is not None and not COLOUR.match(colour):
            raise InputError(f"colour {colour!r} must look like #1a5f7a")
        if email is not None and "@" not in email:
            raise InputError(f"{email!r} is not an email address")
        with self.runtime.db.transaction() as repo:
            issuer = get_issuer(repo, slug)
            issuer.name, issuer.country_code, issuer.url = name.strip(), country.upper(), url
            issuer.email, issuer.description, issuer.colour = email, description, colour.lower() if colour else None
            self.runtime.audit(repo, actor, "issuer.update", issuer.organisation_id, slug)
            self.runtime.changes.bump()  # the DID document and cached wire profiles change
            return issuer

    def set_logo(self, slug: str, data: bytes, actor: str = "cli") -> str:
        """Store an uploaded PNG or SVG logo; the issuer's Profile names it from the next credential on."""
        media_type = _image_type(data, "logos", MAX_LOGO)
        with self.runtime.db.transaction() as repo:
            issuer = get_issuer(repo, slug)
            found = repo.issuer_logo(issuer.id)
            row = found or models.IssuerLogo(issuer_id=issuer.id)
            _store_image(row, media_type, data, self.runtime.clock.now())
            if found is None:
                repo.add(row)
            issuer.image = f"{self.runtime.base_url}/issuers/{slug}/logo"
            self.runtime.audit(repo, actor, "issuer.logo", issuer.organisation_id, slug, bytes=len(data))
            self.runtime.changes.bump()  # cached wire profiles carry the image
        return media_type

    def logo(self, slug: str) -> tuple[str, bytes, str]:
        with self.runtime.db.read() as repo:
            row = repo.issuer_logo(get_issuer(repo, slug).id)
            if row is None:
                raise NotFound(f"issuer {slug!r} has no logo")
            return row.media_type, row.data, row.sha256

    def _add_key(self, repo: Repository, issuer: models.Issuer, pair: Ed25519KeyPair | None = None) -> str:
        pair = pair or Ed25519KeyPair.generate()
        # A did:key's one verification method is named after the key itself.
        key_id = pair.public_multibase if is_did_key(issuer.did) else f"key-{len(repo.keys(issuer.id)) + 1}"
        sealed = self.runtime.vault.seal(pair, f"{issuer.did}#{key_id}")
        repo.add(
            models.IssuerKey(
                issuer_id=issuer.id,
                key_id=key_id,
                public_key=pair.public_bytes,
                encrypted_secret=sealed,
                active=True,
                created_at=self.runtime.clock.now(),
            )
        )
        return key_id

    def rotate_key(self, slug: str, actor: str = "cli") -> str:
        """A new key signs from now on; old keys stay in the DID document."""
        with self.runtime.db.transaction() as repo:
            issuer = get_issuer(repo, slug)
            if is_did_key(issuer.did):
                raise Conflict(
                    f"{slug!r} is a did:key issuer: its key is its DID and cannot rotate; create a new issuer"
                )
            repo.retire_keys(issuer.id, self.runtime.clock.now())
            key_id = self._add_key(repo, issuer)
            self.runtime.audit(repo, actor, "key.rotate", issuer.organisation_id, slug, key_id=key_id)
        self.runtime.changes.bump()
        return key_id

    def keys(self, slug: str) -> list[dict[str, Any]]:
        """Every key the issuer has had (public parts only), newest last."""
        with self.runtime.db.read() as repo:
            issuer = get_issuer(repo, slug)
            return [
                {
                    "id": f"{issuer.did}#{k.key_id}",
                    "publicKeyMultibase": public_key_multibase(k.public_key),
                    "active": k.active,
                    "created": k.created_at.isoformat(),
                    "retired": k.retired_at.isoformat() if k.retired_at else None,
                }
                for k in repo.keys(issuer.id)
            ]

    def set_vcapi(self, slug: str, enabled: bool, actor: str = "cli") -> models.Issuer:
        """Let (or stop) the VC-API sign for this issuer's DID."""
        with self.runtime.db.transaction() as repo:
            issuer = get_issuer(repo, slug)
            issuer.vcapi = enabled
            action = "issuer.vcapi_enable" if enabled else "issuer.vcapi_disable"
            self.runtime.audit(repo, actor, action, issuer.organisation_id, slug, did=issuer.did)
            return issuer

    def organisations(self) -> list[models.Organisation]:
        with self.runtime.db.read() as repo:
            return repo.organisations()

    def list(self) -> list[models.Issuer]:
        with self.runtime.db.read() as repo:
            return repo.issuers()


class PlatformService:
    """The installation's own did:web identity and keys."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def ensure_key(self) -> None:
        with self.runtime.db.transaction() as repo:
            if repo.platform_keys():
                return
            pair = Ed25519KeyPair.generate()
            did = self.runtime.platform_did
            repo.add(
                models.PlatformKey(
                    key_id="key-1",
                    public_key=pair.public_bytes,
                    encrypted_secret=self.runtime.vault.seal(pair, f"{did}#key-1"),
                    active=True,
                    created_at=self.runtime.clock.now(),
                )
            )
            self.runtime.audit(repo, "init", "key.create", None, "platform", key_id="key-1")

    def signing_key(self) -> tuple[str, Ed25519KeyPair]:
        """The verification method and key the installation signs its own documents with (CLR exports)."""
        with self.runtime.db.read() as repo:
            active = [k for k in repo.platform_keys() if k.active]
        if not active:
            raise UsageError("the installation has no signing key: run `microcred init`")
        vm = f"{self.runtime.platform_did}#{active[-1].key_id}"
        return vm, self.runtime.vault.open(active[-1].encrypted_secret, vm)

    def did_document(self) -> dict[str, Any]:
        with self.runtime.db.read() as repo:
            keys = repo.platform_keys()
        return did_web_document(self.runtime.platform_did, [(k.key_id, k.public_key) for k in keys])


def is_did_key(did: str) -> bool:
    return did.startswith("did:key:")


def did_document(repo: Repository, issuer: models.Issuer) -> dict[str, Any]:
    """Every key the issuer ever had stays listed, so old credentials still verify."""
    if is_did_key(issuer.did):
        return did_key_document(issuer.did)
    return did_web_document(issuer.did, [(row.key_id, row.public_key) for row in repo.keys(issuer.id)])


MAX_IMAGE = 2 * 1024 * 1024
MAX_LOGO = 512 * 1024  # it travels by reference, but every credential page loads it


def _store_image(row: models.Image | models.IssuerLogo, media_type: str, data: bytes, now: datetime) -> str:
    """Fill a new (not yet added: adding flushes) or existing image row, a badge or a logo; returns the
    SHA-256 its ETag carries."""
    digest = hashlib.sha256(data).hexdigest()
    row.media_type, row.data, row.sha256, row.updated_at = media_type, data, digest, now
    return digest


def _image_type(data: bytes, what: str = "badge images", limit: int | None = None) -> str:
    """image/png or image/svg+xml for a safe, well-formed image; InputError otherwise."""
    from microcred.errors import BakingError
    from microcred.standards import baking

    limit = limit or MAX_IMAGE
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        raise InputError(f"{what} are limited to {size}")
    if baking.is_png(data):
        try:
            baking.png_chunks(data)
        except BakingError as exc:
            raise InputError(f"not a usable PNG: {exc.message}") from exc
        return "image/png"
    if baking.is_svg(data):
        try:
            baking.check_svg(data)
        except BakingError as exc:
            raise InputError(f"not a usable SVG: {exc.message}") from exc
        return "image/svg+xml"
    raise InputError(f"{what} must be PNG or SVG")


def _check_issuer_fields(name: str, slug: str, country: str, url: str | None) -> None:
    if not name or not name.strip():
        raise InputError("an issuer needs a name")
    if not SLUG.match(slug):
        raise InputError(f"slug {slug!r} must be 1-64 lowercase letters, digits and inner hyphens")
    if not COUNTRY.match(country.upper()):
        raise InputError(f"country {country!r} must be an ISO 3166-1 alpha-2 code such as NL")
    if url is not None and not url.startswith(("https://", "http://")):
        raise InputError(f"url {url!r} must be an http(s) URL")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    id: str
    issuer_slug: str
    version: int
    definition: MicrocredentialDefinition
    published_at: datetime | None = None  # None: a draft

    @property
    def published(self) -> bool:
        return self.published_at is not None


def parse_definition(data: Any) -> MicrocredentialDefinition:
    try:
        return MicrocredentialDefinition.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:10])
        raise InputError(f"invalid microcredential: {problems}") from exc


def _check_prerequisites(repo: Repository, mc_id: str, definition: MicrocredentialDefinition) -> None:
    for other in definition.prerequisite_microcredentials:
        if other == mc_id:
            raise InputError("a microcredential cannot be its own prerequisite")
        if repo.microcredential(other) is None:
            raise InputError(f"prerequisite_microcredentials: no microcredential {other!r} in this catalogue")


class CatalogService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def create(
        self, issuer_slug: str, definition: MicrocredentialDefinition, actor: str = "cli", *,
        publish: bool = False, exemption: str | None = None,
    ) -> CatalogEntry:  # fmt: skip
        """A draft, or (`publish`) published at once under the same rule as `publish`."""
        now = self.runtime.clock.now()
        with self.runtime.db.transaction() as repo:
            issuer = get_issuer(repo, issuer_slug)
            mc_id = str(uuid.uuid4())
            _check_prerequisites(repo, mc_id, definition)
            mc = repo.add(models.Microcredential(id=mc_id, issuer_id=issuer.id, current_version=1, created_at=now))
            repo.add(
                models.MicrocredentialVersion(
                    microcredential_id=mc_id, version=1, definition=definition.model_dump_json(), created_at=now
                )
            )
            self.runtime.audit(
                repo, actor, "microcredential.create", issuer.organisation_id, mc_id, name=definition.name
            )
            if publish:
                self._publish(repo, mc, issuer, definition, exemption, actor)
        return CatalogEntry(mc_id, issuer_slug, 1, definition, mc.published_at)

    def published(self, mc_id: str, version: int | None = None) -> tuple[CatalogEntry, models.Issuer, int]:
        """A published microcredential (that version, or the current one), its issuer and its current
        version number: what its public page shows. Drafts and unknown versions are not found."""
        with self.runtime.db.read() as repo:
            mc, row, issuer = published_version(repo, mc_id, version)
            definition = parse_definition(json.loads(row.definition))
            return (
                CatalogEntry(mc_id, issuer.slug, row.version, definition, mc.published_at),
                issuer,
                mc.current_version,
            )

    def publish(self, mc_id: str, exemption: str | None = None, actor: str = "cli") -> CatalogEntry:
        """Into the catalogue, awardable. Every EU mandatory element must be stated, unless the issuer
        gives the reason it is exempt (kept with the microcredential and in the audit log)."""
        with self.runtime.db.transaction() as repo:
            mc, version, issuer = current_version(repo, mc_id, lock=True)
            definition = parse_definition(json.loads(version.definition))
            if mc.published_at is None:
                self._publish(repo, mc, issuer, definition, exemption, actor)
            return CatalogEntry(mc_id, issuer.slug, mc.current_version, definition, mc.published_at)

    def _publish(
        self, repo: Repository, mc: models.Microcredential, issuer: models.Issuer,
        definition: MicrocredentialDefinition, exemption: str | None, actor: str,
    ) -> None:  # fmt: skip
        reason = (exemption or "").strip()[:1000] or None
        missing = missing_eu_elements(definition, issuer.country_code, issuer.name)
        if missing and reason is None:
            raise InputError(
                f"{definition.name!r} does not state {len(missing)} EU mandatory element(s): "
                f"{'; '.join(missing)}. Add them, or publish with the reason it is exempt"
            )
        mc.published_at, mc.exemption = self.runtime.clock.now(), reason if missing else None
        self.runtime.changes.bump()  # the public catalogue gains it
        self.runtime.audit(
            repo, actor, "microcredential.publish", issuer.organisation_id, mc.id,
            name=definition.name, missing=len(missing), exemption=mc.exemption,
        )  # fmt: skip

    def update(self, mc_id: str, definition: MicrocredentialDefinition, actor: str = "cli") -> CatalogEntry:
        """A new version when the current one has awards (they keep theirs); else an edit in place."""
        with self.runtime.db.transaction() as repo:
            mc, version, issuer = current_version(repo, mc_id, lock=True)
            _check_prerequisites(repo, mc_id, definition)
            if not repo.version_has_awards(version.id):
                version.definition = definition.model_dump_json()
            else:
                mc.current_version += 1
                repo.add(
                    models.MicrocredentialVersion(
                        microcredential_id=mc_id,
                        version=mc.current_version,
                        definition=definition.model_dump_json(),
                        created_at=self.runtime.clock.now(),
                    )
                )
            self.runtime.audit(
                repo, actor, "microcredential.update", issuer.organisation_id, mc_id, version=mc.current_version
            )
            return CatalogEntry(mc_id, issuer.slug, mc.current_version, definition, mc.published_at)

    def get(self, mc_id: str) -> CatalogEntry:
        with self.runtime.db.read() as repo:
            mc, version, issuer = current_version(repo, mc_id)
            return CatalogEntry(
                mc_id, issuer.slug, mc.current_version, parse_definition(json.loads(version.definition)),
                mc.published_at,
            )  # fmt: skip

    def set_image(self, mc_id: str, data: bytes, actor: str = "cli") -> str:
        """Store an uploaded PNG or SVG badge image; returns its media type."""
        media_type = _image_type(data)
        with self.runtime.db.transaction() as repo:
            _mc, _version, issuer = current_version(repo, mc_id, lock=True)
            found = repo.image(mc_id)
            row = found or models.Image(microcredential_id=mc_id)
            digest = _store_image(row, media_type, data, self.runtime.clock.now())
            if found is None:
                repo.add(row)
            self.runtime.audit(
                repo, actor, "microcredential.image", issuer.organisation_id, mc_id, sha256=digest, bytes=len(data)
            )
        return media_type

    def image(self, mc_id: str) -> tuple[str, bytes, str]:
        with self.runtime.db.read() as repo:
            row = repo.image(mc_id)
            if row is None:
                raise NotFound(f"microcredential {mc_id!r} has no uploaded image")
            return row.media_type, row.data, row.sha256

    def badge(self, mc_id: str, media: str) -> tuple[str, bytes, str]:
        """The badge as SVG or PNG: the uploaded image when it is of that kind, else the generated design."""
        from microcred.services import badges

        with self.runtime.db.read() as repo:
            row = repo.image(mc_id)
            if row is not None and row.media_type == f"image/{'svg+xml' if media == 'svg' else 'png'}":
                return row.media_type, row.data, row.sha256
            _mc, version, issuer = current_version(repo, mc_id)
            design = badges.design_for(
                parse_definition(json.loads(version.definition)),
                issuer.name,
                issuer.colour or badges.issuer_colour(issuer.slug),
            )
        data = badges.svg(design).encode() if media == "svg" else badges.cached_png(design)
        return ("image/svg+xml" if media == "svg" else "image/png"), data, hashlib.sha256(data).hexdigest()

    def versions(self, mc_id: str) -> list[tuple[int, MicrocredentialDefinition, Any, int]]:
        """(version, definition, created, awards) for every version, oldest first."""
        with self.runtime.db.read() as repo:
            current_version(repo, mc_id)
            return [
                (v.version, parse_definition(json.loads(v.definition)), v.created_at, repo.count_awards(v.id))
                for v in repo.versions(mc_id)
            ]

    def lint(self, mc_id: str) -> list[str]:
        with self.runtime.db.read() as repo:
            _mc, version, issuer = current_version(repo, mc_id)
            definition = parse_definition(json.loads(version.definition))
            return missing_eu_elements(definition, issuer.country_code, issuer.name)


def published_version(
    repo: Repository, mc_id: str, version: int | None = None
) -> tuple[models.Microcredential, models.MicrocredentialVersion, models.Issuer]:
    """A published microcredential's version (the current one by default); drafts and unknown versions
    are not found, as for the public."""
    mc, current, issuer = current_version(repo, mc_id)
    row = current if version is None else repo.version(mc_id, version)
    if mc.published_at is None or row is None:
        raise NotFound(f"no published microcredential {mc_id!r}" + (f" version {version}" if version else ""))
    return mc, row, issuer


def current_version(
    repo: Repository, mc_id: str, *, lock: bool = False
) -> tuple[models.Microcredential, models.MicrocredentialVersion, models.Issuer]:
    mc = repo.microcredential(mc_id, lock=lock)
    if mc is None:
        raise NotFound(f"no microcredential {mc_id!r}")
    version = repo.version(mc_id, mc.current_version)
    issuer = repo.issuer(mc.issuer_id)
    assert version is not None and issuer is not None
    return mc, version, issuer
