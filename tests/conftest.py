from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from microcred.clock import FixedClock
from microcred.services.samples import data_analytics_microcredential
from microcred.standards.dates import parse_datetime
from microcred.standards.dids import Resolver, StaticDocuments, did_key_for
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.loader import DocumentLoader
from microcred.standards.verify import Verifier

pytest_plugins = ["tests.platform_fixtures"]

FIXTURES = Path(__file__).parent / "fixtures"
VECTORS = FIXTURES / "vectors"
W3C = VECTORS / "vc-di-eddsa" / "TestVectors"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
NOW = parse_datetime("2026-06-01T12:00:00Z")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def example_contexts() -> dict[str, bytes]:
    return {
        EXAMPLES_V2: (FIXTURES / "contexts" / "credentials-examples-v2.jsonld").read_bytes(),
        "https://www.w3.org/2018/credentials/examples/v1": (
            FIXTURES / "contexts" / "credentials-examples-v1.jsonld"
        ).read_bytes(),
        "https://w3id.org/citizenship/v4rc1": (FIXTURES / "contexts" / "citizenship-v4rc1.jsonld").read_bytes(),
    }


@pytest.fixture(scope="session")
def loader() -> DocumentLoader:
    return DocumentLoader()


@pytest.fixture(scope="session")
def test_loader(example_contexts: dict[str, bytes]) -> DocumentLoader:
    """The product's contexts plus the W3C example contexts the vectors need."""
    return DocumentLoader(example_contexts)


@pytest.fixture(scope="session")
def jsonld(loader: DocumentLoader) -> JsonLdProcessor:
    return JsonLdProcessor(loader)


@pytest.fixture(scope="session")
def test_jsonld(test_loader: DocumentLoader) -> JsonLdProcessor:
    return JsonLdProcessor(test_loader)


@pytest.fixture(scope="session")
def issuer_key() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(bytes(range(32)))


@pytest.fixture
def documents() -> StaticDocuments:
    return StaticDocuments()


@pytest.fixture
def verifier(loader: DocumentLoader, jsonld: JsonLdProcessor, documents: StaticDocuments) -> Verifier:
    return Verifier(loader, Resolver([documents]), FixedClock(NOW), jsonld)


@pytest.fixture
def unsigned_credential(issuer_key: Ed25519KeyPair) -> dict[str, Any]:
    issuer = did_key_for(issuer_key.public_bytes)
    return data_analytics_microcredential(
        issuer,
        "did:example:ada",
        parse_datetime("2026-01-15T09:00:00Z"),
        "urn:uuid:6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b",
    )
