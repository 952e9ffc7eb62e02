"""Skills intelligence at scale.

Candidate search: 100,000 learners whose 1,000,000 credentials name 3-6 ESCO skills each (about 4.5 million
rows of the verified-skill index), on SQLite and on PostgreSQL. A credential comes from a catalogue of 2,000
microcredentials, each aligned to skills of one real ESCO occupation; a learner follows one or two careers
(occupations drawn with a Zipf skew), so popular skills are held by tens of thousands. 65% of credentials are
discoverable; 12% have expired. Queries rank for 15-skill roles made from real occupations' essential skills,
with the explanation of the top 20; a third filter by country, issuer or credential type.
Target: p95 at most 100 ms on both databases.

Recommendation: a 10,000-microcredential catalogue: the 5,269 real courses of ../shared/data/catalog (prices
and hours as published, skills extracted from title and tags by our extractor), plus 4,731 programmes of 3-8
skills of one occupation at log-normal prices and hours; 10% need another offer first. Each case closes a
20-skill gap of a learner aiming at an occupation. Target: p95 at most 300 ms, proven optimal in at least 99%
of cases, never worse than greedy.

`python bench/skills.py [--learners N] [--credentials N] [--cases N] [--write docs/performance.md]`
replaces only its section. The scraped catalogue is read at run time and never written anywhere.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SECTION = "## Skills: candidate search and learning plans"
ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT.parent / "shared" / "data" / "catalog" / "courses.csv"
PG = os.environ.get("MICROCRED_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COUNTRIES = ("NL", "DE", "BE", "FR", "ES", "PL", "IE", "IT", "SE", "PT")
TYPES = ("MicroCredential", "MicroCredential", "MicroCredential", "Certificate", "Badge", "Course")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@contextmanager
def database(kind: str, folder: Path) -> Any:
    from tests.live_server import database_url

    if kind == "sqlite":
        yield f"sqlite:///{folder / 'skills.db'}"
        return
    with database_url(folder, PG) as url:
        yield url


def _occupations(taxonomy: Any, minimum: int) -> list[Any]:
    return [o for o in taxonomy.occupations if len(o.essential) >= minimum]


def generate_index(url: str, folder: Path, learners: int, credentials: int, seed: int = 11) -> dict[str, Any]:
    """Users, profiles and the verified-skill index rows for `credentials` credentials (awards are not read by search)."""
    from microcred import bootstrap
    from microcred.config import Settings
    from microcred.storage import models

    rng = random.Random(seed)
    platform = bootstrap.build_platform(Settings(data_dir=folder, database_url=url, public_base_url="https://bench.example"), create=True)  # fmt: skip
    taxonomy = platform.taxonomy.taxonomy
    careers = rng.sample(_occupations(taxonomy, 15), 400)
    templates: list[tuple[str, int, str, int, list[str], int | None]] = []  # name, issuer, type, level, skills, years
    for n, occupation in enumerate(careers):
        pool = [taxonomy.skills[i].uri for i in occupation.essential + occupation.optional[:10]]
        for k in range(5):
            templates.append((f"{occupation.label} {k}", (n * 5 + k) % 50, rng.choice(TYPES), rng.randint(3, 8),
                              rng.sample(pool, min(len(pool), rng.randint(3, 6))), rng.choice([None, None, 2, 3, 5])))  # fmt: skip
    started = time.perf_counter()
    indexes = _drop_indexes(url)  # loading is not what is measured: build the indexes once, after the rows
    with platform.runtime.db.transaction() as repo:
        ids = repo.skill_ids({uri: (taxonomy.skill(uri).label, "ESCO") for t in templates for uri in t[4]})  # type: ignore[union-attr]
        issuer_ids = repo.issuer_ids({f"did:web:bench.example:issuers:{n}": f"Bench Issuer {n}" for n in range(50)})
    now = datetime.now(UTC)
    users = [{"email": f"learner{n:06d}@bench.example", "password_hash": None, "role": "learner", "organisation_id": None,
              "created_at": now, "name": f"Learner {n}", "email_verified_at": now} for n in range(learners)]  # fmt: skip
    _insert(platform, models.User, users)
    with platform.runtime.db.read() as repo:
        user_ids = [u.id for u in repo.users_of(None) if u.role == "learner"]
    _insert(platform, models.LearnerProfile, [{"user_id": u, "country": rng.choice(COUNTRIES)} for u in user_ids])
    weights = [1 / (r + 1) ** 0.8 for r in range(len(careers))]  # Zipf-like: some careers are far more common
    from microcred.storage.skill_queries import holdings_of

    rows: list[dict[str, Any]] = []
    holdings: list[dict[str, Any]] = []
    made, evidence = 0, 0
    per_learner = credentials / learners
    for user_id in user_ids:
        followed = rng.choices(range(len(careers)), weights, k=rng.choice([1, 1, 2]))
        count = max(1, round(rng.gauss(per_learner, 3)))
        first = len(rows)
        for _ in range(count):
            career = rng.choice(followed) if rng.random() < 0.8 else rng.randrange(len(careers))
            name, issuer, kind, level, skills, years = templates[career * 5 + rng.randrange(5)]
            issued = now - timedelta(days=rng.randint(1, 6 * 365))
            expires = issued + timedelta(days=365 * years) if years else None
            discoverable, ref = rng.random() < 0.65, uuid.uuid4().hex[:32]
            for uri in skills:
                rows.append({"user_id": user_id, "skill_id": ids[uri], "source": "award", "credential_ref": ref,
                             "credential_name": name, "issuer_name": f"Bench Issuer {issuer}",
                             "issuer": f"did:web:bench.example:issuers:{issuer}", "achievement_type": kind,
                             "issuer_ref": issuer_ids[f"did:web:bench.example:issuers:{issuer}"],
                             "issued_at": issued, "expires_at": expires, "level": level, "discoverable": discoverable})  # fmt: skip
            made += 1
        mine = [row for row in rows[first:] if row["discoverable"]]
        holdings += [{**held, "user_id": user_id} for held in holdings_of(mine)]
        if len(rows) >= 100_000:
            evidence += _insert(platform, models.SkillEvidence, rows)
            _insert(platform, models.SkillHolding, holdings)
            rows, holdings = [], []
    evidence += _insert(platform, models.SkillEvidence, rows)
    _insert(platform, models.SkillHolding, holdings)
    _create_indexes(url, indexes)
    _analyze(url)
    insert_seconds = time.perf_counter() - started
    platform.close()
    return {"learners": learners, "credentials": made, "rows": evidence, "insert_s": insert_seconds, "careers": careers}


def _insert(platform: Any, model: Any, rows: list[dict[str, Any]]) -> int:
    """Bulk rows: COPY on PostgreSQL (plain inserts there take a quarter of an hour), batched inserts on SQLite."""
    engine = platform.runtime.db.engine
    if rows and engine.dialect.name == "postgresql":
        columns = list(rows[0])
        connection = engine.raw_connection()
        try:
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            connection.commit()
        finally:
            connection.close()
        return len(rows)
    for start in range(0, len(rows), 20_000):
        with platform.runtime.db.transaction() as repo:
            repo.insert_many(model, rows[start : start + 20_000])
    return len(rows)


BULK_TABLES = ("skill_evidence", "skill_holdings")


def _drop_indexes(url: str) -> list[str]:
    """The CREATE INDEX statements of the bulk tables' secondary indexes, dropped."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.schema import CreateIndex

    from microcred.storage import models

    engine = create_engine(url)
    names = {i["name"] for t in BULK_TABLES for i in inspect(engine).get_indexes(t)}
    statements = []
    with engine.begin() as connection:
        for table in BULK_TABLES:
            for index in models.Base.metadata.tables[table].indexes:
                if index.name in names:
                    statements.append(str(CreateIndex(index).compile(engine)))
                    connection.execute(text(f'DROP INDEX "{index.name}"'))
    engine.dispose()
    return statements


def _create_indexes(url: str, statements: list[str]) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _analyze(url: str) -> None:
    """Planner statistics and, on PostgreSQL, the visibility map: the state autovacuum keeps a running
    installation in (since PostgreSQL 13 inserts alone trigger it), which index-only scans rely on."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    engine.dispose()


def time_search(url: str, folder: Path, careers: list[Any], queries: int, seed: int = 5) -> dict[str, Any]:
    from microcred import bootstrap
    from microcred.config import Settings
    from microcred.services.accounts import Principal
    from microcred.services.job_roles import RoleSkillIn

    rng = random.Random(seed)
    platform = bootstrap.build_platform(
        Settings(data_dir=folder, database_url=url, public_base_url="https://bench.example")
    )
    platform.issuers.create(name="Bench Employer", slug="bench-employer", country="NL")
    admin = Principal("bench", "platform_admin", None)
    taxonomy = platform.taxonomy.taxonomy
    roles = []
    for occupation in careers[:40]:  # the most followed careers: the heaviest queries
        skills = [taxonomy.skills[i].uri for i in occupation.essential][:15]
        picked = [RoleSkillIn(uri=u, essential=n < 10, importance=rng.randint(1, 5)) for n, u in enumerate(skills)]
        roles.append(platform.roles.create(admin, "bench-employer", occupation.label, picked).id)
    kinds: dict[str, dict[str, Any]] = {"none": {}, "country": {"country": "NL"}, "issuer": {"issuer": "Bench Issuer 7"},
                                        "type": {"achievement_type": "Certificate"}}  # fmt: skip
    for role in roles[:5]:
        platform.talent.match(admin, role)  # warm: a running server has its caches and pages hot
    out: dict[str, Any] = {"queries": queries}
    for kind, where in kinds.items():
        times, totals = [], []
        for n in range(queries if kind == "none" else queries // 3):
            role = roles[n % len(roles)]
            start = time.perf_counter()
            match = platform.talent.match(admin, role, limit=20, **where)
            times.append(time.perf_counter() - start)
            totals.append(match.total)
            assert all(c.proofs for c in match.candidates)
        out[kind] = {"p50_ms": statistics.median(times) * 1000, "p95_ms": _pct(times, 0.95) * 1000,
                     "median_matches": statistics.median(totals), "max_matches": max(totals)}  # fmt: skip
    platform.close()
    return out


def time_taxonomy(queries: int = 1_000, seed: int = 23) -> dict[str, Any]:
    """Typeahead queries made from real labels: prefixes, whole labels, alternative labels and one-letter typos."""
    from microcred.services.taxonomy import TaxonomyService

    rng = random.Random(seed)
    taxonomy = TaxonomyService(Path(tempfile.gettempdir()) / "no-override.json.gz").taxonomy
    started = time.perf_counter()
    taxonomy.search("warm", 1)
    build_s = time.perf_counter() - started
    made = []
    for n in range(queries):
        skill = rng.choice(taxonomy.skills)
        label = rng.choice([skill.label, *skill.alt_labels])
        kind = n % 4
        if kind == 0:
            made.append(label[: rng.randint(3, max(3, min(12, len(label))))])
        elif kind == 1:
            made.append(label)
        elif kind == 2 and len(label) > 5:
            i = rng.randrange(1, len(label) - 2)
            made.append(label[:i] + label[i + 1] + label[i] + label[i + 2 :])  # two letters swapped
        else:
            made.append(" ".join(label.split()[:2]))
    times = []
    for query in made:
        start = time.perf_counter()
        taxonomy.search(query, 10)
        times.append(time.perf_counter() - start)
    sentences = [
        row["sentence"]
        for row in csv.DictReader((Path(__file__).parent / "data" / "techwolf_test.csv").open(encoding="utf-8"))
    ]
    ads = [" ".join(sentences[i : i + 12]) for i in range(0, len(sentences), 6)]
    taxonomy.extract("warm")
    extract_times = []
    for ad in ads * 5:
        start = time.perf_counter()
        taxonomy.extract(ad)
        extract_times.append(time.perf_counter() - start)
    return {"queries": len(made), "p50_ms": statistics.median(times) * 1000, "p95_ms": _pct(times, 0.95) * 1000,
            "max_ms": max(times) * 1000, "build_s": build_s, "skills": len(taxonomy.skills),
            "extract_p50_ms": statistics.median(extract_times) * 1000, "extract_p95_ms": _pct(extract_times, 0.95) * 1000}  # fmt: skip


# -- recommendation -----------------------------------------------------------------------------------
def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def catalogue(taxonomy: Any, size: int = 10_000, seed: int = 13) -> tuple[list[Any], int]:
    from microcred.domain.learning_plan import Offer

    rng = random.Random(seed)
    offers: list[Offer] = []
    if CATALOG.exists():
        with CATALOG.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = " ".join([row["title"], row["skills"].replace("|", ". "), row["subject"]])
                skills = frozenset(h.skill.uri for h in taxonomy.extract(text, 8) if h.skill.framework == "ESCO")
                hours = _number(row["hours_max"]) or _number(row["hours_min"])
                price = _number(row["price_usd"])
                if skills and hours:
                    offers.append(Offer(row["course_id"], row["title"], row["provider"] or row["source"], skills,
                                        price if price is not None else 0.0, hours))  # fmt: skip
    real = len(offers)
    occupations = _occupations(taxonomy, 20)
    while len(offers) < size:
        occupation = rng.choice(occupations)
        pool = [taxonomy.skills[i].uri for i in occupation.essential]
        skills = frozenset(rng.sample(pool, rng.randint(3, min(8, len(pool)))))
        price, hours = round(rng.lognormvariate(5.5, 0.8), 2), round(rng.lognormvariate(3.3, 0.7), 1)
        offers.append(Offer(f"p{len(offers)}", f"{occupation.label} programme {len(offers)}", "Bench Academy", skills,
                            price, hours))  # fmt: skip
    by_skill: dict[str, list[int]] = {}
    for n, offer in enumerate(offers):
        for s in offer.skills:
            by_skill.setdefault(s, []).append(n)
    for n in rng.sample(range(len(offers)), len(offers) // 10):  # 10% need an offer sharing a skill first
        offer = offers[n]
        others = [m for s in offer.skills for m in by_skill[s] if m != n]
        if others:
            first = offers[rng.choice(others)]
            offers[n] = Offer(offer.id, offer.name, offer.provider, offer.skills, offer.price, offer.hours, (first.id,))
    return offers[:size], real


def gaps(taxonomy: Any, offers: list[Any], cases: int, seed: int = 17) -> list[dict[str, float]]:
    rng = random.Random(seed)
    teachable = {s for o in offers for s in o.skills}
    found = []
    occupations = [o for o in _occupations(taxonomy, 20)]
    while len(found) < cases:
        occupation = rng.choice(occupations)
        skills = [taxonomy.skills[i].uri for i in occupation.essential if taxonomy.skills[i].uri in teachable]
        if len(skills) >= 20:
            found.append({s: float(rng.choice([1, 2, 3, 3, 5])) for s in rng.sample(skills, 20)})
    return found


def time_recommend(cases: int) -> dict[str, Any]:
    from microcred.domain.learning_plan import Limits, plan
    from microcred.services.taxonomy import TaxonomyService

    taxonomy = TaxonomyService(Path(tempfile.gettempdir()) / "no-override.json.gz").taxonomy
    offers, real = catalogue(taxonomy)
    rng = random.Random(19)
    times, optimal, worse, savings = [], 0, 0, []
    for n, missing in enumerate(gaps(taxonomy, offers, cases)):
        limits = Limits(
            minimize="price" if n % 2 == 0 else "hours", budget=None if n % 3 else rng.choice([500, 1500, 3000])
        )
        start = time.perf_counter()
        result = plan(missing, offers, set(), limits)
        times.append(time.perf_counter() - start)
        optimal += result.optimal
        ours = (-sum(w for s, w in missing.items() if s in result.covered), result.total(limits.minimize))
        g = _greedy_value(missing, offers, limits)
        if ours > g:
            worse += 1
        if g[0] == ours[0] and g[1] > 0:
            savings.append(1 - ours[1] / g[1])
    return {"cases": cases, "p50_ms": statistics.median(times) * 1000, "p95_ms": _pct(times, 0.95) * 1000,
            "optimal": optimal, "worse": worse, "saving_mean": statistics.mean(savings) if savings else 0.0,
            "saving_max": max(savings) if savings else 0.0, "offers": len(offers), "real": real}  # fmt: skip


def _greedy_value(missing: dict[str, float], offers: list[Any], limits: Any) -> tuple[float, float]:
    from microcred.domain.learning_plan import _candidates, _usable, greedy

    usable = _usable(offers, limits)
    candidates = _candidates(missing, usable, set())
    chosen = greedy(missing, candidates, set(), limits)
    covered = set().union(*(candidates[i].skills for i in chosen)) if chosen else set()
    return (
        -sum(w for s, w in missing.items() if s in covered),
        round(sum(candidates[i].cost(limits.minimize) or 0 for i in chosen), 2),
    )


def measure(
    learners: int = 100_000, credentials: int = 1_000_000, queries: int = 300, cases: int = 200,
    databases: tuple[str, ...] = ("sqlite", "postgresql"),
) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"raw_sign_ms": raw_sign_ms()}
    if cases:
        out |= {"recommend": time_recommend(cases), "taxonomy": time_taxonomy()}
    for kind in databases:
        with tempfile.TemporaryDirectory() as folder, database(kind, Path(folder)) as url:
            made = generate_index(url, Path(folder), learners, credentials)
            careers = made.pop("careers")
            out[kind] = {**made, **time_search(url, Path(folder), careers, queries)}
    out["raw_sign_end_ms"] = raw_sign_ms()  # a machine that slowed down during the run shows here
    return out


def raw_sign_ms() -> float:
    """The reference measured in the same run: raw Ed25519 signing from `cryptography`, as in bench/run.py."""
    from microcred.standards.keys import Ed25519KeyPair
    from run import per_op

    key, message = Ed25519KeyPair.generate(), b"\x01" * 64
    return per_op(lambda: key.sign(message)) * 1000


def _taxonomy_lines(t: dict[str, Any]) -> list[str]:
    ok = "met" if t["p95_ms"] <= 20 else "**not met**"
    return [
        f"Skill search over the whole taxonomy ({t['skills']:,} skills and tools, every label): {t['queries']:,} typeahead",
        "queries made from real labels (prefixes, whole labels, alternative labels, two letters swapped):",
        f"p50 {t['p50_ms']:.2f} ms, p95 {t['p95_ms']:.2f} ms (target ≤ 20 ms: {ok}), slowest {t['max_ms']:.1f} ms.",
        f"The search index builds in {t['build_s']:.1f} s on first use (the server builds it at start).",
        f"Extracting the skills of a 12-sentence job advertisement: p50 {t['extract_p50_ms']:.1f} ms,",
        f"p95 {t['extract_p95_ms']:.1f} ms.",
        "",
    ]


def _search_lines(m: dict[str, Any]) -> list[str]:
    lines = [
        "Candidate search (`TalentService.match`: rank, then explain the top 20 with their credentials), 15-skill roles:",
        "",
        "| database | learners | credentials | index rows | p50 | p95 | p95 / raw sign | target p95 ≤ 100 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for kind in ("sqlite", "postgresql"):
        s, n = m[kind]["none"], m[kind]
        ok = "met" if s["p95_ms"] <= 100 else "**not met**"
        lines.append(f"| {kind} | {n['learners']:,} | {n['credentials']:,} | {n['rows']:,} | {s['p50_ms']:.1f} ms "
                     f"| {s['p95_ms']:.1f} ms | {s['p95_ms'] / m['raw_sign_ms']:,.0f}x | {ok} |")  # fmt: skip
    none = m["sqlite"]["none"]
    lines += [
        "",
        f"{m['sqlite']['queries']} queries over 40 roles made from the most followed careers' essential skills.",
        f"Matching learners per query: median {none['median_matches']:,.0f}, at most {none['max_matches']:,}.",
        f"With a filter ({m['sqlite']['queries'] // 3} queries each), p50 / p95:",
        "",
        "| filter | SQLite | PostgreSQL |",
        "|---|---:|---:|",
    ]
    for kind, title in (("country", "country (NL, a tenth of learners)"), ("issuer", "issuer (one of 50)"),
                        ("type", "credential type (Certificate, a sixth)")):  # fmt: skip
        a, b = m["sqlite"][kind], m["postgresql"][kind]
        lines.append(
            f"| {title} | {a['p50_ms']:.1f} / {a['p95_ms']:.1f} ms | {b['p50_ms']:.1f} / {b['p95_ms']:.1f} ms |"
        )
    lines += [
        "",
        f"Loading the index took {m['sqlite']['insert_s']:.0f} s on SQLite and {m['postgresql']['insert_s']:.0f} s on",
        "PostgreSQL (not part of the target).",
        "",
    ]
    return lines


def _plan_lines(r: dict[str, Any]) -> list[str]:
    fast = "met" if r["p95_ms"] <= 300 else "**not met**"
    proven = "met" if r["optimal"] >= 0.99 * r["cases"] else "**not met**"
    return [
        f"Learning plans over {r['offers']:,} microcredentials ({r['real']:,} of them real courses), {r['cases']} gaps of",
        "20 skills (half minimise price, half hours; a third with a budget):",
        "",
        "| measure | result | target |",
        "|---|---:|---|",
        f"| solve time p50 / p95 | {r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms | p95 ≤ 300 ms: {fast} |",
        f"| proven optimal by HiGHS | {r['optimal']} of {r['cases']} ({r['optimal'] / r['cases']:.1%}) | ≥ 99%: {proven} |",
        f"| worse than greedy | {r['worse']} of {r['cases']} | never: {'met' if r['worse'] == 0 else '**not met**'} |",
        f"| cheaper than greedy at equal coverage, mean / best | {r['saving_mean']:.1%} / {r['saving_max']:.1%} | — |",
        "",
    ]


def _reference_lines(m: dict[str, Any]) -> list[str]:
    return [
        f"Reference in the same run: raw Ed25519 signing from `cryptography` took {m['raw_sign_ms'] * 1000:.1f} µs",
        f"at the start and {m['raw_sign_end_ms'] * 1000:.1f} µs at the end. Machines differ: compare the multiples of it.",
        "",
    ]


def render(m: dict[str, Any]) -> list[str]:
    return [SECTION, "", *_reference_lines(m), *_taxonomy_lines(m["taxonomy"]), *_search_lines(m),
            *_plan_lines(m["recommend"])]  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--credentials", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="time one database (no report written)")
    args = parser.parse_args()
    sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]  # pages, and tests.live_server
    if args.only:
        print(measure(args.learners, args.credentials, args.queries, 0, (args.only,)))
        sys.exit(0)
    import pages

    pages.report(render(measure(args.learners, args.credentials, args.queries, args.cases)), args.write)
