"""SQLAlchemy 2.0 models. Migrations in `migrations/` must match these (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false, true
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The largest value an Integer column holds on PostgreSQL (SQLite's 64 bits hold more). A lookup by an id
# beyond it is "not found", never an overflow from the database driver.
INTEGER_MAX = 2**31 - 1


def storable_id(value: int) -> bool:
    return 1 <= value <= INTEGER_MAX


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    name: Mapped[str | None] = mapped_column(String(300))
    # Awards to this address show in the wallet only once the address is proven (a link was followed).
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # None: everything the role may do; otherwise a space-separated list ("api vc:issue vc:status").
    scopes: Mapped[str | None] = mapped_column(String(200))


class Issuer(Base):
    __tablename__ = "issuers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    did: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(2000))
    country_code: Mapped[str] = mapped_column(String(2))
    parent_issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"))
    default_suite: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    colour: Mapped[str | None] = mapped_column(String(7))  # #rrggbb for generated badges
    vcapi: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # signs through the VC-API


class IssuerKey(Base):
    __tablename__ = "issuer_keys"
    __table_args__ = (UniqueConstraint("issuer_id", "key_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    key_id: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    encrypted_secret: Mapped[bytes] = mapped_column(LargeBinary(128))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Microcredential(Base):
    __tablename__ = "microcredentials"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # None: a draft (not in the catalogue, cannot be awarded). Set once, when the issuer publishes it.
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Why it was published without every EU mandatory element, in the issuer's words (also in the audit log).
    exemption: Mapped[str | None] = mapped_column(Text, nullable=True)


class MicrocredentialVersion(Base):
    __tablename__ = "microcredential_versions"
    __table_args__ = (UniqueConstraint("microcredential_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    microcredential_id: Mapped[str] = mapped_column(ForeignKey("microcredentials.id"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[str] = mapped_column(Text)  # JSON: the microcredential's fields
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Award(Base):
    __tablename__ = "awards"
    __table_args__ = (
        Index("ix_awards_issuer_issued", "issuer_id", "issued_at"),
        Index("ix_awards_valid_until", "valid_until"),  # the webhook scan finds expiries by time
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the credential's urn:uuid
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("microcredential_versions.id"), index=True)
    row_key: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_email: Mapped[str] = mapped_column(String(320), index=True)
    recipient_name: Mapped[str | None] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(200))
    suite: Mapped[str] = mapped_column(String(32))
    credential: Mapped[str] = mapped_column(Text)  # exactly as signed; never rewritten
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    suspended: Mapped[bool] = mapped_column(Boolean)
    # The learner's choices and what happened to the credential since (web application).
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    view_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verify_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    share_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StatusList(Base):
    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "sequence"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)  # entries (each status_size bits wide)
    used: Mapped[int] = mapped_column(Integer)
    status_size: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    bits: Mapped[bytes] = mapped_column(LargeBinary)  # the published status bits
    allocated: Mapped[bytes] = mapped_column(LargeBinary)  # which indexes are taken (never published)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StatusEntry(Base):
    """One allocated index; the primary key makes a shared index impossible."""

    __tablename__ = "status_entries"
    list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    award_id: Mapped[str] = mapped_column(ForeignKey("awards.id"), index=True)


class AuditEvent(Base):
    """Append-only: the application never updates or deletes these rows."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)


class BulkJob(Base):
    __tablename__ = "bulk_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16))  # running, finished, failed
    total: Mapped[int | None] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class BulkJobError(Base):
    __tablename__ = "bulk_job_errors"
    job_id: Mapped[str] = mapped_column(ForeignKey("bulk_jobs.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(Text)
    row: Mapped[str] = mapped_column(Text)


class PlatformKey(Base):
    """Keys of the installation's own did:web (served at /.well-known/did.json)."""

    __tablename__ = "platform_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    encrypted_secret: Mapped[bytes] = mapped_column(LargeBinary(128))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IssuerLogo(Base):
    """An issuer's uploaded logo (PNG or SVG), served at /issuers/{slug}/logo; credentials name that URL."""

    __tablename__ = "issuer_logos"
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Image(Base):
    """Uploaded badge images (PNG or SVG), served at /microcredentials/{id}/image."""

    __tablename__ = "images"
    microcredential_id: Mapped[str] = mapped_column(ForeignKey("microcredentials.id"), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LoginFailure(Base):
    """Recent failed sign-ins, for the back-off; cleared by a successful sign-in."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class OneTimeToken(Base):
    """Links sent by mail: password reset, staff invitation, email confirmation, claiming an award."""

    __tablename__ = "one_time_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    award_id: Mapped[str | None] = mapped_column(ForeignKey("awards.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WalletItem(Base):
    """A credential a learner imported from another issuer, exactly as received."""

    __tablename__ = "wallet_items"
    __table_args__ = (UniqueConstraint("user_id", "digest"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the credential's canonical identity
    credential_id: Mapped[str | None] = mapped_column(String(2000))
    format: Mapped[str] = mapped_column(String(16))  # json or jwt
    content: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(500))
    issuer_name: Mapped[str | None] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(2000))
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    public: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(500))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VcApiCredential(Base):
    """A credential another system had signed through the VC-API, kept for status changes."""

    __tablename__ = "vcapi_credentials"
    __table_args__ = (Index("ix_vcapi_credentials_issuer_ref", "issuer_id", "credential_ref"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    credential_ref: Mapped[str | None] = mapped_column(String(2000))  # options.credentialId or credential.id
    credential: Mapped[str] = mapped_column(Text)  # exactly as signed
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    suspended: Mapped[bool] = mapped_column(Boolean)


class VcApiStatusEntry(Base):
    """A status list index held by a VC-API credential (awards hold theirs in status_entries)."""

    __tablename__ = "vcapi_status_entries"
    list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    credential_id: Mapped[str] = mapped_column(ForeignKey("vcapi_credentials.id"), index=True)


class PathwayRow(Base):
    """A pathway: its definition (JSON) and the catalogue entry whose awards are its roll-up credentials."""

    __tablename__ = "pathways"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    microcredential_id: Mapped[str] = mapped_column(ForeignKey("microcredentials.id"))
    name: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PathwayCompletion(Base):
    """A learner who satisfied a pathway: its roll-up, pending approval, issued or rejected (exactly once)."""

    __tablename__ = "pathway_completions"
    __table_args__ = (UniqueConstraint("pathway_id", "recipient_email"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pathway_id: Mapped[str] = mapped_column(ForeignKey("pathways.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(320), index=True)
    state: Mapped[str] = mapped_column(String(16))  # pending, issued, rejected
    award_id: Mapped[str | None] = mapped_column(ForeignKey("awards.id"), index=True)
    parts: Mapped[str] = mapped_column(Text)  # JSON: the credentials that satisfied it, with digests
    flagged: Mapped[str | None] = mapped_column(Text)  # why the roll-up is in doubt (a part revoked ...)
    suspended_by_policy: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)


class RecognitionRule(Base):
    """A university's rule: this microcredential, pathway or other issuer's achievement earns credit here."""

    __tablename__ = "recognition_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    microcredential_id: Mapped[str] = mapped_column(ForeignKey("microcredentials.id"))  # the credit credential
    programme: Mapped[str] = mapped_column(String(300))
    course_code: Mapped[str] = mapped_column(String(60))
    credits: Mapped[float] = mapped_column(Float)
    grade_policy: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(Text)  # JSON: {"microcredential": id} | {"pathway": id} | {"external": ...}
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RecognitionRequest(Base):
    __tablename__ = "recognition_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("recognition_rules.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(320), index=True)
    state: Mapped[str] = mapped_column(String(16))  # pending, approved, rejected
    evidence: Mapped[str] = mapped_column(Text)  # JSON: the submitted credentials, digests and verification
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(320))
    award_id: Mapped[str | None] = mapped_column(ForeignKey("awards.id"))


class SkillRef(Base):
    """A skill URI some credential or job role names, with a small integer for fast joins."""

    __tablename__ = "skill_refs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(500), unique=True)
    label: Mapped[str] = mapped_column(String(500))
    framework: Mapped[str] = mapped_column(String(60))


class IssuerRef(Base):
    """An issuer some skill evidence comes from (here or elsewhere), with a small integer for the filter index."""

    __tablename__ = "issuer_refs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    did: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(500), index=True)


_COVERED = ("skill_id", "discoverable", "user_id", "expires_at", "issued_at", "level")


class SkillEvidence(Base):
    """One skill a learner holds through one credential that verifies (issued here or imported)."""

    __tablename__ = "skill_evidence"
    __table_args__ = (
        Index("ix_skill_evidence_search", *_COVERED),
        Index("ix_skill_evidence_by_issuer", "issuer_ref", *_COVERED),
        Index("ix_skill_evidence_by_type", "achievement_type", *_COVERED),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill_refs.id"))
    source: Mapped[str] = mapped_column(String(8))  # award or import
    credential_ref: Mapped[str] = mapped_column(String(36))  # the award or wallet item id
    credential_name: Mapped[str] = mapped_column(String(500))
    issuer_name: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))  # the issuer's DID or URL
    issuer_ref: Mapped[int] = mapped_column(ForeignKey("issuer_refs.id"))
    achievement_type: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    level: Mapped[int | None] = mapped_column(Integer)  # EQF level of the microcredential
    discoverable: Mapped[bool] = mapped_column(Boolean)


class SkillHolding(Base):
    """Per learner and skill, what their discoverable evidence adds up to: what candidate search reads."""

    __tablename__ = "skill_holdings"
    __table_args__ = (Index("ix_skill_holdings_search", "skill_id", "user_id", "valid_until", "last_issued", "level"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill_refs.id"), primary_key=True)
    last_issued: Mapped[datetime] = mapped_column(UtcDateTime())
    level: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())  # None: some evidence never expires


class DiscoverableCredential(Base):
    """A learner's opt-in: employers may find them through this credential."""

    __tablename__ = "discoverable_credentials"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    credential_ref: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LearnerProfile(Base):
    __tablename__ = "learner_profiles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    country: Mapped[str | None] = mapped_column(String(2))
    headline: Mapped[str | None] = mapped_column(String(200))
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EmployerShare(Base):
    """A learner shares their verified skills with an employer's team view."""

    __tablename__ = "employer_shares"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobRole(Base):
    __tablename__ = "job_roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    occupation_uri: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))  # occupation, skills or text
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobRoleSkill(Base):
    __tablename__ = "job_role_skills"
    role_id: Mapped[int] = mapped_column(ForeignKey("job_roles.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill_refs.id"), primary_key=True)
    essential: Mapped[bool] = mapped_column(Boolean)
    importance: Mapped[int] = mapped_column(Integer)  # 1-5; a skill's weight in matching


class WebhookSubscription(Base):
    """An organisation's endpoint for events; its signing secret is sealed by the key vault."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(300))
    events: Mapped[str] = mapped_column(Text)  # JSON list of event types
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookDelivery(Base):
    """One event for one subscription: the body is fixed when the event is seen, and every attempt
    (retries and replays) sends exactly it under the same webhook-id."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the webhook-id, msg_...
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    event_id: Mapped[int] = mapped_column(BigInteger())  # the audit event it reports (0: a test ping)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())  # a sender is on it
    last_status: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)  # the first 2 KB the receiver answered
    milliseconds: Mapped[int] = mapped_column(Integer)
    replay: Mapped[bool] = mapped_column(Boolean)


class WebhookCursor(Base):
    """How far the event scan has gone: the last audit event id, and the time expiries were found up to."""

    __tablename__ = "webhook_cursors"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger())
    moved_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OAuthClient(Base):
    """An application registered with us (RFC 7591) to use the Open Badges 3.0 API for learners."""

    __tablename__ = "oauth_clients"
    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    metadata_json: Mapped[str] = mapped_column(Text)  # the registration as accepted
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    secret_expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    registered_from: Mapped[str] = mapped_column(String(64))


class OAuthCode(Base):
    """An authorization code: single use, bound to its client, redirect URI and PKCE challenge."""

    __tablename__ = "oauth_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(1000))
    challenge: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    grant_id: Mapped[str | None] = mapped_column(String(36))  # the grant its exchange made


class OAuthGrant(Base):
    """A learner's consent to one client for some scopes; its tokens all go when it is revoked."""

    __tablename__ = "oauth_grants"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OAuthToken(Base):
    """An access or refresh token of a grant; only its SHA-256 is kept. A refresh token is used once
    (rotation): `used_at` set, a new pair issued."""

    __tablename__ = "oauth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_grants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # access or refresh
    scope: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiProfile(Base):
    """The Profile a learner's OB 3.0 API clients read and write (PUT /profile keeps what was sent)."""

    __tablename__ = "api_profiles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class HostRegistration(Base):
    """Our client registration at another OB 3.0 host: made once, used for every learner who connects."""

    __tablename__ = "host_registrations"
    api_url: Mapped[str] = mapped_column(String(500), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    endpoints: Mapped[str] = mapped_column(Text)  # JSON: registration, authorization, token, scopes
    client_id: Mapped[str] = mapped_column(String(300))
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class HostConnection(Base):
    """A learner's wallet connected to another OB 3.0 host; tokens and the pending PKCE verifier sealed."""

    __tablename__ = "host_connections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    api_url: Mapped[str] = mapped_column(ForeignKey("host_registrations.api_url"))
    state: Mapped[str] = mapped_column(String(16))  # pending, connected, disconnected
    state_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # the OAuth state while pending
    sealed_verifier: Mapped[bytes | None] = mapped_column(LargeBinary)
    scope: Mapped[str] = mapped_column(String(1000))
    sealed_access: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_refresh: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_result: Mapped[str | None] = mapped_column(Text)


class MigratedBadge(Base):
    """A BadgeClass of another platform re-created here as a microcredential: a migration run again finds
    it instead of making a second one."""

    __tablename__ = "migrated_badges"
    __table_args__ = (UniqueConstraint("issuer_id", "source_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    source_id: Mapped[str] = mapped_column(String(500))  # the BadgeClass id (its URL) where it came from
    microcredential_id: Mapped[str] = mapped_column(ForeignKey("microcredentials.id"))
    migrated_at: Mapped[datetime] = mapped_column(UtcDateTime())
