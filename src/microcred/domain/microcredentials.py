"""A microcredential as an issuer designs it, and the EU completeness rules.

The EU Council Recommendation on micro-credentials (2022) lists mandatory
elements; the learner and the date of issuing come from each award, the
title, country and awarding body from the microcredential and its issuer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

ACHIEVEMENT_TYPES = frozenset(
    {
        "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award",
        "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
        "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree",
        "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
        "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate",
        "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma",
    }
)  # fmt: skip
PARTICIPATION_FORMS = ("online", "onsite", "blended")


def known_achievement_type(value: str) -> str:
    """An OB 3.0 achievementType, or an `ext:` extension; anything else is refused."""
    if value not in ACHIEVEMENT_TYPES and not value.startswith("ext:"):
        raise ValueError(f"unknown achievementType {value!r}; use an OB 3.0 type or an ext: extension")
    return value


class Skill(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    uri: HttpUrl
    label: str = Field(min_length=1, max_length=300)
    framework: str = Field(default="ESCO", max_length=60)


class MicrocredentialDefinition(BaseModel):
    """Everything an issuer says about a microcredential (one version of it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=10_000)
    criteria: str | None = Field(default=None, max_length=10_000)
    criteria_url: HttpUrl | None = None
    achievement_type: str = "MicroCredential"
    image: HttpUrl | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    language: str | None = Field(default=None, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
    version_label: str | None = Field(default=None, max_length=40)
    skills: list[Skill] = Field(default_factory=list, max_length=200)
    # EU mandatory elements (besides title, issuer country and awarding body)
    learning_outcomes: list[str] = Field(default_factory=list, max_length=100)
    workload_hours: float | None = Field(default=None, gt=0, le=100_000)
    ects: float | None = Field(default=None, ge=0, le=400)
    eqf_level: int | None = Field(default=None, ge=1, le=8)
    qualification_cycle: str | None = Field(default=None, max_length=60)
    assessment_type: str | None = Field(default=None, max_length=500)
    participation_form: Literal["online", "onsite", "blended"] | None = None
    quality_assurance: str | None = Field(default=None, max_length=1_000)
    # EU optional elements
    prerequisites: str | None = Field(default=None, max_length=2_000)
    # microcredentials (ids in this catalogue) a learner must hold first; learning plans respect them
    prerequisite_microcredentials: list[str] = Field(default_factory=list, max_length=20)
    supervision_identity_verification: str | None = Field(default=None, max_length=1_000)
    integration_stackability: str | None = Field(default=None, max_length=2_000)
    further_information: str | None = Field(default=None, max_length=5_000)
    # catalogue fields
    price: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    duration_hours: float | None = Field(default=None, gt=0)
    duration_weeks: float | None = Field(default=None, gt=0)
    delivery_mode: str | None = Field(default=None, max_length=60)
    provider_url: HttpUrl | None = None
    valid_for_months: int | None = Field(default=None, ge=1, le=1200)
    # How an award's status is published: one status entry, as the OB 3.0 schema allows. False (the
    # default): revocation, final, read as "revoked" by every verifier. True: suspension, which can be
    # lifted; revoking sets it for good (other verifiers then read "suspended"). docs/decisions.md.
    suspendable: bool = False

    @field_validator("achievement_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return known_achievement_type(value)

    @field_validator("learning_outcomes", "tags")
    @classmethod
    def _no_blank_items(cls, value: list[str]) -> list[str]:
        cleaned = [item.strip() for item in value]
        if any(not item for item in cleaned):
            raise ValueError("items must not be blank")
        return cleaned


EU_MANDATORY = {
    "learning_outcomes": "learning outcomes",
    "workload_hours": "notional workload (hours)",
    "ects": "notional workload (ECTS credits)",
    "eqf_level": "level (EQF 1-8)",
    "assessment_type": "type of assessment",
    "participation_form": "form of participation (online, onsite, blended)",
    "quality_assurance": "type of quality assurance",
}


def missing_eu_elements(
    definition: MicrocredentialDefinition, issuer_country: str | None, awarding_body: str | None
) -> list[str]:
    """The EU mandatory elements a microcredential does not state yet."""
    missing = [label for field, label in EU_MANDATORY.items() if not getattr(definition, field)]
    if not definition.name:
        missing.insert(0, "title")
    if not issuer_country:
        missing.append("country of the issuer")
    if not awarding_body:
        missing.append("awarding body")
    return missing
