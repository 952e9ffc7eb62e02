"""A realistic OB 3.0 microcredential, used by the demo, the benchmarks and the tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from microcred.standards import ob3


def data_analytics_microcredential(
    issuer_id: str, subject_id: str, issued: datetime, credential_id: str, email: str = "ada.lovelace@learner.example"
) -> dict[str, Any]:
    achievement = ob3.AchievementSpec(
        id="https://university.example/microcredentials/data-analytics-python/v1",
        name="Data Analytics with Python",
        description=(
            "Short, assessed course on cleaning, analysing and visualising data with Python and pandas, "
            "at EQF level 6, 5 ECTS (125 hours of notional workload), delivered online."
        ),
        criteria=(
            "Complete six graded labs and a supervised final project analysing a public data set; "
            "pass mark 60%. Identity verified at the online proctored assessment."
        ),
        alignments=[
            ob3.Alignment(
                "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d", "Python (computer programming)"
            ),
            ob3.Alignment(
                "http://data.europa.eu/esco/skill/07b5ac5b-2d4b-43c8-8d42-1e4b0c2a9ac4", "perform data analysis"
            ),
            ob3.Alignment(
                "http://data.europa.eu/esco/skill/7b1e6a1f-8a7d-4f0c-9c7e-2c0f2e1b3e7c",
                "use data visualisation software",
            ),
        ],
        tags=["data analytics", "python", "pandas", "EQF 6", "5 ECTS"],
        credits_available=5.0,
        field_of_study="Data science",
        in_language="en",
        version="1.0",
    )
    issuer = ob3.profile(
        issuer_id,
        "Example University of Applied Sciences",
        url="https://university.example",
        email="credentials@university.example",
        address={
            "type": ["Address"],
            "addressCountry": "Netherlands",
            "addressCountryCode": "NL",
            "addressLocality": "Utrecht",
        },
    )
    return ob3.achievement_credential(
        issuer=issuer,
        achievement=achievement.to_wire(),
        valid_from=issued,
        subject_id=subject_id,
        identifiers=[ob3.hashed_email(email, "a1b2c3d4")],
        credential_id=credential_id,
        awarded=issued,
        result=[
            {"type": ["Result"], "value": "A", "resultDescription": "urn:uuid:0b9d6f4e-1b5a-4f3e-9b8e-6a1d2f3c4b5a"}
        ],
        evidence=[
            {
                "id": "https://university.example/evidence/ada/final-project",
                "type": ["Evidence"],
                "name": "Final project report",
                "narrative": "Analysis of EU open data on renewable energy.",
            }
        ],
    )
