"""Bulk awarding benchmark: a cohort CSV signed with eddsa-rdfc-2022, stored with status allocated.

Each run is a child process (so its peak RSS, and that of its signing workers, is its own),
on SQLite and, when one answers, on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

POSTGRES = os.environ.get("MICROCRED_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEFINITION = {
    "name": "Data Analytics with Python",
    "description": "Cleaning, analysing and visualising data with pandas.",
    "criteria": "Pass six labs and a proctored project.",
    "learning_outcomes": ["Clean a messy data set", "Explain a regression model"],
    "workload_hours": 125, "ects": 5, "eqf_level": 6, "assessment_type": "Graded labs and a supervised project",
    "participation_form": "online", "quality_assurance": "Internal quality assurance",
    "skills": [{"uri": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d", "label": "Python (computer programming)"}],
    "valid_for_months": 36,
}  # fmt: skip


def child(database_url: str, rows: int, workers: int) -> None:
    from microcred.bootstrap import build_platform
    from microcred.config import Settings
    from microcred.services.issuing import parse_definition

    work = Path(tempfile.mkdtemp())
    platform = build_platform(Settings(data_dir=work / "data", database_url=database_url), create=True)
    platform.issuers.create(name="Bench University", slug="bench", country="NL")
    mc = platform.catalog.create("bench", parse_definition(DEFINITION), publish=True, exemption="test fixture")
    source = work / "cohort.csv"
    with source.open("w") as handle:
        handle.write("email,name,external_id,grade\n")
        for i in range(rows):
            handle.write(f"learner{i}@bench.example,Learner {i},S{i:07d},{'ABCDE'[i % 5]}\n")
    start = time.perf_counter()
    result = platform.bulk.run(source, microcredential=mc.id, workers=workers)
    elapsed = time.perf_counter() - start
    platform.close()
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": rows,
                "issued": result.issued,
                "seconds": elapsed,
                "rate": result.issued / elapsed,
                "rss_main_mb": me,
                "rss_worker_mb": children,
            }
        )
    )


def run(database_url: str, rows: int, workers: int = 2) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", database_url, str(rows), str(workers)],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def postgres_schema_url() -> str | None:
    try:
        import psycopg

        base = POSTGRES.replace("postgresql+psycopg://", "postgresql://")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, connect_timeout=3, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except Exception:
        return None
    separator = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{separator}options=-csearch_path%3D{schema}"


def measure(sizes: tuple[int, ...] = (10_000, 100_000)) -> list[dict[str, Any]]:
    results = []
    for name in ("SQLite", "PostgreSQL"):
        for rows in sizes:
            url = f"sqlite:///{tempfile.mkdtemp()}/bench.db" if name == "SQLite" else postgres_schema_url()
            if url is None:
                break
            print(f"bulk: {rows:,} rows on {name} ...", file=sys.stderr, flush=True)
            results.append({"database": name, **run(url, rows)})
    return results


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
