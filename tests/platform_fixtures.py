"""Platform fixtures over the database under test: SQLite by default, PostgreSQL when
MICROCRED_TEST_DATABASE_URL names one (`make test` runs the suite on both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from microcred import bootstrap
from microcred.clock import FixedClock
from microcred.config import Settings
from microcred.services.issuing import parse_definition

COMPLETE = {
    "name": "Data Analytics with Python",
    "description": "Cleaning, analysing and visualising data with pandas.",
    "criteria": "Pass six labs and a proctored project.",
    "learning_outcomes": ["Clean a messy data set", "Explain a regression model"],
    "workload_hours": 125,
    "ects": 5,
    "eqf_level": 6,
    "assessment_type": "Graded labs and a supervised project",
    "participation_form": "online",
    "quality_assurance": "Internal quality assurance, accredited by NVAO",
    "skills": [
        {
            "uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
            "label": "Python (computer programming)",
        }
    ],
    "valid_for_months": 36,
    "price": 450,
    "currency": "EUR",
}


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite in the test's folder, or a fresh PostgreSQL schema when MICROCRED_TEST_DATABASE_URL is set."""
    from tests.live_server import database_url as fresh_database

    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, public_base_url="https://microcred.example")


@pytest.fixture
def clock() -> FixedClock:
    from tests.conftest import NOW

    return FixedClock(NOW)


@pytest.fixture
def platform(settings: Settings, clock: FixedClock) -> Iterator[bootstrap.Platform]:
    built = bootstrap.build_platform(settings, clock, create=True)
    yield built
    built.close()


@pytest.fixture
def make_platform(settings: Settings, clock: FixedClock) -> Iterator[Any]:
    """More platforms over the same database (separate engines, like separate processes)."""
    made: list[bootstrap.Platform] = []

    def make() -> bootstrap.Platform:
        made.append(bootstrap.build_platform(settings, clock, create=True))
        return made[-1]

    yield make
    for built in made:
        built.close()


@pytest.fixture
def issuer(platform: bootstrap.Platform) -> Any:
    return platform.issuers.create(
        name="TU Example", slug="tu-example", country="NL", url="https://tu.example", email="badges@tu.example"
    )


@pytest.fixture
def microcredential(platform: bootstrap.Platform, issuer: Any) -> Any:
    return platform.catalog.create(issuer.slug, parse_definition(COMPLETE), publish=True, exemption="test fixture")


@pytest.fixture
def suspendable(platform: bootstrap.Platform, issuer: Any) -> Any:
    """A microcredential whose awards carry a suspension entry instead of a revocation entry."""
    return platform.catalog.create(
        issuer.slug,
        parse_definition({**COMPLETE, "name": "Lab Safety", "suspendable": True}),
        publish=True,
        exemption="test fixture",
    )


@pytest.fixture
def local_verifier(platform: bootstrap.Platform, clock: FixedClock) -> Any:
    return bootstrap.build_credential_service(bootstrap.Options({}, local=platform.local), clock)
