"""JSON Schema checks with the official OB 3.0 schemas (compiled once, jsonschema-rs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs

SCHEMAS = {
    "AchievementCredential": "ob_v3p0_achievementcredential_schema.json",
    "EndorsementCredential": "ob_v3p0_endorsementcredential_schema.json",
    "VerifiableCredential": "verifiable-credential-schema.json",
    "Profile": "ob_v3p0_profile_schema.json",
    "GetOpenBadgeCredentialsResponse": "ob_v3p0_getopenbadgecredentialsresponse_schema.json",
    "Imsx_StatusInfo": "ob_v3p0_imsx_statusinfo_schema.json",
}


@dataclass(frozen=True, slots=True)
class SchemaResult:
    schema: str
    errors: list[str]


@cache
def _validator(name: str) -> Any:
    raw = resources.files("microcred.standards.schemas").joinpath(SCHEMAS[name]).read_bytes()
    return jsonschema_rs.validator_for(json.loads(raw))


def schema_for(credential: dict[str, Any]) -> str | None:
    types = credential.get("type")
    types = types if isinstance(types, list) else [types]
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    if first != "https://www.w3.org/ns/credentials/v2":
        return None  # the published schemas only describe VC 2.0 credentials
    if "AchievementCredential" in types or "OpenBadgeCredential" in types:
        return "AchievementCredential"
    if "EndorsementCredential" in types:
        return "EndorsementCredential"
    return "VerifiableCredential"


def validate(credential: dict[str, Any], limit: int = 5) -> SchemaResult | None:
    """Schema errors (at most `limit`), or None when no shipped schema applies."""
    name = schema_for(credential)
    return None if name is None else validate_against(name, credential, limit)


def validate_against(name: str, credential: dict[str, Any], limit: int = 5) -> SchemaResult:
    """Errors against one shipped schema (`SCHEMAS`), whatever the credential's type."""
    errors = []
    for error in _validator(name).iter_errors(credential):
        path = "/".join(str(p) for p in error.instance_path) or "(root)"
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        errors.append(f"{path}: {message}")
        if len(errors) >= limit:
            break
    return SchemaResult(name, errors)
