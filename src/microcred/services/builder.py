"""From a microcredential definition and an issuer to OB 3.0 wire documents."""

from __future__ import annotations

from typing import Any

from microcred.domain.microcredentials import MicrocredentialDefinition
from microcred.standards import ob3

EU_CONTEXT = "https://microcred.dev/contexts/eu-microcredential-v1.jsonld"
COUNTRIES = {"NL": "Netherlands", "DE": "Germany", "FR": "France", "BE": "Belgium", "ES": "Spain", "IT": "Italy", "IE": "Ireland", "GB": "United Kingdom", "US": "United States", "PT": "Portugal", "PL": "Poland", "SE": "Sweden", "FI": "Finland", "DK": "Denmark", "AT": "Austria", "CH": "Switzerland", "NO": "Norway", "CZ": "Czechia", "GR": "Greece", "HU": "Hungary", "RO": "Romania", "EE": "Estonia", "LT": "Lithuania", "LV": "Latvia", "SI": "Slovenia", "SK": "Slovakia", "HR": "Croatia", "BG": "Bulgaria", "LU": "Luxembourg", "MT": "Malta", "CY": "Cyprus"}  # fmt: skip


def issuer_profile(
    did: str,
    name: str,
    country_code: str,
    *,
    url: str | None,
    email: str | None,
    description: str | None,
    image: str | None,
) -> dict[str, Any]:
    address: dict[str, Any] = {"type": ["Address"], "addressCountryCode": country_code}
    if country_code in COUNTRIES:
        address["addressCountry"] = COUNTRIES[country_code]
    extra: dict[str, Any] = {"address": address}
    if description:
        extra["description"] = description
    if image:
        extra["image"] = {"id": image, "type": "Image"}
    return ob3.profile(did, name, url=url, email=email, **extra)


def achievement(achievement_id: str, definition: MicrocredentialDefinition, creator: dict[str, Any]) -> dict[str, Any]:
    spec = ob3.AchievementSpec(
        id=achievement_id,
        name=definition.name,
        description=definition.description,
        criteria=definition.criteria or "",
        achievement_type=definition.achievement_type,
        image=str(definition.image) if definition.image else None,
        alignments=[ob3.Alignment(str(s.uri), s.label, s.framework) for s in definition.skills],
        tags=definition.tags,
        credits_available=definition.ects,
        in_language=definition.language,
        version=definition.version_label,
        creator={"id": creator["id"], "type": ["Profile"], "name": creator["name"]},
    )
    wire = spec.to_wire()
    wire["criteria"] = _criteria(definition)
    wire.update(_eu_terms(definition))
    return wire


def _criteria(definition: MicrocredentialDefinition) -> dict[str, Any]:
    criteria: dict[str, Any] = {}
    if definition.criteria_url:
        criteria["id"] = str(definition.criteria_url)
    criteria["narrative"] = definition.criteria or definition.description
    return criteria


def _eu_terms(definition: MicrocredentialDefinition) -> dict[str, Any]:
    terms = {
        "learningOutcome": definition.learning_outcomes or None,
        "workloadHours": _number(definition.workload_hours),
        "ectsCredits": _number(definition.ects),
        "eqfLevel": definition.eqf_level,
        "qualificationCycle": definition.qualification_cycle,
        "assessmentType": definition.assessment_type,
        "participationForm": definition.participation_form,
        "qualityAssurance": definition.quality_assurance,
        "prerequisites": definition.prerequisites,
        "supervisionAndIdentityVerification": definition.supervision_identity_verification,
        "integrationStackability": definition.integration_stackability,
        "furtherInformation": definition.further_information,
    }
    return {k: v for k, v in terms.items() if v is not None}


def _number(value: float | None) -> float | int | None:
    if value is not None and float(value).is_integer():
        return int(value)
    return value
