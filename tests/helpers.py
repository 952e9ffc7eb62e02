from __future__ import annotations

from typing import Any

from microcred.standards.dates import parse_datetime
from microcred.standards.di import ProofOptions
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.verify import Verifier

CREATED = parse_datetime("2026-01-15T09:00:00Z")


def vm_for(key: Ed25519KeyPair) -> str:
    return f"{did_key_for(key.public_bytes)}#{key.public_multibase}"


def sign(
    verifier: Verifier, credential: dict[str, Any], key: Ed25519KeyPair, suite: str = "eddsa-rdfc-2022"
) -> dict[str, Any]:
    return verifier.integrity.sign(credential, key, ProofOptions(vm_for(key), suite, CREATED))


def codes(report: Any, status: str = "failed") -> set[str]:
    return {c.code for c in report.checks if c.status == status}
