"""Pathway evaluation at scale (SQLite): 50 pathways (depth up to 4, 20 elements each) for 100,000
learners holding 1,000,000 awards. Targets: all evaluated in at most 60 s with 2 worker processes and at
most 500 MB RSS; re-evaluating one learner after an award at most 20 ms.

The catalogue and the pathways are made through the services; the awards are inserted as rows (their
signed JSON is not read by evaluation), at a realistic skew: most of a learner's awards come from the
one or two pathways they follow. Evaluation runs in a fresh process so its RSS is its own.

`python bench/pathways.py [--learners N] [--write docs/performance.md]` replaces only its section.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SECTION = "## Pathway evaluation at scale"
PATHWAYS, MICROCREDENTIALS, AWARDS_PER_LEARNER = 50, 1_000, 10


def _settings(folder: Path) -> Any:
    from microcred.config import Settings

    return Settings(data_dir=folder, public_base_url="https://bench.example")


def _tree(rng: random.Random, pool: list[str], depth: int) -> dict[str, Any]:
    """20 elements: groups down to `depth` levels, leaves from `pool`."""
    leaves = rng.sample(pool, 20)
    groups = [leaves[i : i + 5] for i in range(0, 20, 5)]
    children: list[dict[str, Any]] = []
    for n, group in enumerate(groups):
        nodes: list[dict[str, Any]] = [{"microcredential": mc} for mc in group]
        if depth >= 3 and n % 2:
            nodes = [{"all_of": nodes[:2]}, {"at_least": 1, "of": nodes[2:]}]
        if n == 0:
            children.append({"all_of": nodes})
        elif n == 1:
            children.append({"at_least": 2, "of": nodes})
        elif n == 2:
            children.append({"min_credits": 6, "unit": "ects", "of": nodes})
        else:
            children.append({"at_least": 1, "of": nodes})
    return {"all_of": children}


def generate(folder: Path, learners: int, seed: int = 7) -> dict[str, Any]:
    from microcred import bootstrap
    from microcred.services.issuing import parse_definition
    from microcred.storage import models

    rng = random.Random(seed)
    platform = bootstrap.build_platform(_settings(folder), create=True)
    started = time.perf_counter()
    for i in range(5):
        platform.issuers.create(name=f"Bench University {i}", slug=f"bench-{i}", country="NL")
    catalogue, slug_of = [], {}
    for i in range(MICROCREDENTIALS):
        entry = platform.catalog.create(f"bench-{i % 5}", parse_definition({
            "name": f"Module {i}", "description": "A bench microcredential.", "ects": rng.choice([2, 3, 4, 5, 6]),
            "skills": [{"uri": f"http://data.europa.eu/esco/skill/bench-{i % 300}", "label": f"skill {i % 300}"}],
        }), publish=True, exemption="test fixture")  # fmt: skip
        catalogue.append(entry.id)
        slug_of[entry.id] = entry.issuer_slug
    pathway_leaves, known = [], set(catalogue)
    for p in range(PATHWAYS):
        requirements = _tree(rng, catalogue, depth=2 + p % 3)
        platform.pathways.create(f"bench-{p % 5}", {"name": f"Certificate {p}", "description": "Bench pathway.",
                                                     "requirements": requirements})  # fmt: skip
        pathway_leaves.append([leaf for leaf in json.dumps(requirements).split('"') if leaf in known])
    with platform.runtime.db.read() as repo:
        versions = {mc: v for v, mc, _d in repo.version_rows()}
        issuers = {i.slug: i.id for i in repo.issuers()}
    setup_seconds = time.perf_counter() - started
    now = datetime.now(UTC)
    rows, inserted = [], 0
    started = time.perf_counter()
    for n in range(learners):
        email = f"learner{n:06d}@bench.example"
        followed = rng.sample(range(PATHWAYS), rng.choice([1, 1, 2]))
        count = max(1, min(25, round(rng.gauss(AWARDS_PER_LEARNER, 3))))
        chosen: set[str] = set()
        while len(chosen) < count:  # distinct microcredentials: a learner earns each once
            source = pathway_leaves[rng.choice(followed)] if rng.random() < 0.8 else catalogue
            chosen.add(rng.choice(source))
        for mc in chosen:
            issued = now - timedelta(days=rng.randint(1, 900))
            rows.append({
                "id": str(uuid.uuid4()), "issuer_id": issuers[slug_of[mc]],
                "version_id": versions[mc], "row_key": uuid.uuid4().hex + uuid.uuid4().hex[:32],
                "recipient_email": email, "recipient_name": None, "external_id": None, "suite": "eddsa-rdfc-2022",
                "credential": "{}", "issued_at": issued, "valid_until": None,
                "revoked_at": issued if rng.random() < 0.01 else None, "revocation_reason": None,
                "suspended": rng.random() < 0.005,
            })  # fmt: skip
        if len(rows) >= 20_000:
            inserted += _insert(platform, models, rows)
            rows = []
    inserted += _insert(platform, models, rows)
    insert_seconds = time.perf_counter() - started
    platform.close()
    return {"learners": learners, "awards": inserted, "setup_s": setup_seconds, "insert_s": insert_seconds}


def _insert(platform: Any, models: Any, rows: list[dict[str, Any]]) -> int:
    with platform.runtime.db.transaction() as repo:
        repo.insert_many(models.Award, rows)
    return len(rows)


def evaluate(folder: Path, workers: int) -> dict[str, Any]:
    """In a fresh process: evaluate everyone, then time re-evaluating single learners."""
    from microcred import bootstrap
    from microcred.storage import models

    platform = bootstrap.build_platform(_settings(folder))
    started = time.perf_counter()
    result = platform.pathways.evaluate_all(workers=workers, settle=False)
    seconds = time.perf_counter() - started
    rng = random.Random(3)
    with platform.runtime.db.read() as repo:
        total = repo.count(models.Award)
    emails = [f"learner{rng.randrange(result.learners):06d}@bench.example" for _ in range(300)]
    for email in emails[:20]:
        platform.pathways.reevaluate(email)  # warm the caches, as a running server has them
    times = []
    for email in emails[20:]:  # what runs after each award: read the holdings, evaluate, settle
        start = time.perf_counter()
        platform.pathways.reevaluate(email)
        times.append(time.perf_counter() - start)
    times.sort()
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    platform.close()
    return {
        "seconds": seconds, "learners": result.learners, "evaluations": result.evaluations,
        "satisfied": result.satisfied, "awards": total, "workers": workers, "rss_mb": self_mb,
        "worker_rss_mb": child_mb, "re_p50_ms": statistics.median(times) * 1000,
        "re_p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
    }  # fmt: skip


def measure(learners: int = 100_000, workers: int = 2) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        made = generate(Path(folder), learners)
        output = subprocess.run(
            [sys.executable, __file__, "--evaluate", folder, "--workers", str(workers)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return {**made, **json.loads(output.stdout.strip().splitlines()[-1])}


def render(m: dict[str, Any]) -> list[str]:
    ok_time, ok_rss, ok_re = m["seconds"] <= 60, max(m["rss_mb"], m["worker_rss_mb"]) <= 500, m["re_p95_ms"] <= 20
    return [
        SECTION,
        "",
        f"{m['learners']:,} learners holding {m['awards']:,} awards (1% revoked, 0.5% suspended), {PATHWAYS} pathways of 20",
        f"elements (depth 2 to 4: all of, at least N, minimum ECTS) over {MICROCREDENTIALS:,} microcredentials; SQLite;",
        f"{m['workers']} worker processes. Setting up the catalogue and pathways took {m['setup_s']:.0f} s, inserting the",
        f"awards {m['insert_s']:.0f} s (not part of the target).",
        "",
        "| measure | result | target |",
        "|---|---:|---|",
        f"| evaluate every learner against every pathway they have started | {m['seconds']:.1f} s "
        f"({m['evaluations']:,} evaluations, {m['satisfied']:,} satisfied) | ≤ 60 s: {'met' if ok_time else '**not met**'} |",
        f"| peak RSS, main process / largest worker | {m['rss_mb']:.0f} MB / {m['worker_rss_mb']:.0f} MB | ≤ 500 MB: "
        f"{'met' if ok_rss else '**not met**'} |",
        f"| re-evaluating one learner after an award (holdings read, relevant pathways, settling), p50 / p95 | {m['re_p50_ms']:.1f} / "
        f"{m['re_p95_ms']:.1f} ms | ≤ 20 ms: {'met' if ok_re else '**not met**'} |",
        "",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--evaluate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evaluate:
        print(json.dumps(evaluate(args.evaluate, args.workers)))
        sys.exit(0)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import pages

    pages.report(render(measure(args.learners, args.workers)), args.write)
