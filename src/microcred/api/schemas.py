"""Request bodies of the REST API (responses are plain JSON built by the routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IssuerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300)
    slug: str = Field(min_length=1, max_length=64)
    country: str = Field(min_length=2, max_length=2)
    url: str | None = None
    email: str | None = None
    description: str | None = None
    organisation: str | None = None
    parent: str | None = None
    suite: str = "eddsa-rdfc-2022"


class MicrocredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issuer: str
    definition: dict[str, Any]
    publish: bool = False  # a draft unless true: drafts are not in the catalogue and cannot be awarded
    exemption: str | None = Field(None, max_length=1000)  # why it may be published without every EU element


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exemption: str | None = Field(None, max_length=1000)


class AwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    microcredential: str
    email: str
    name: str | None = None
    external_id: str | None = Field(default=None, max_length=200)
    evidence_url: str | None = None
    narrative: str | None = Field(default=None, max_length=10_000)
    grade: str | None = Field(default=None, max_length=100)
    valid_until: datetime | None = None


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=2_000)
