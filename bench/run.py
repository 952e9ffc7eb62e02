"""`make bench`: engine throughput as ratios against references measured in the same run.

References: raw Ed25519 from `cryptography` (the physical limit) and the pyld
path (expansion + URDNA2015 in pure Python, the usual Python stack).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import platform
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reference import pyld_canonize

from microcred.clock import FixedClock
from microcred.services.samples import data_analytics_microcredential
from microcred.standards import jose
from microcred.standards.dates import parse_datetime
from microcred.standards.di import ProofOptions
from microcred.standards.dids import Resolver, did_key_for
from microcred.standards.keys import Ed25519KeyPair, verify_ed25519
from microcred.standards.loader import DocumentLoader
from microcred.standards.multibase import decode_base58btc, encode_base58btc
from microcred.standards.verify import Verifier

CREATED = parse_datetime("2026-01-15T09:00:00Z")


def per_op(fn: Callable[[], Any], seconds: float = 1.0) -> float:
    """Fastest seconds per call over several timed batches (the least disturbed by a noisy machine)."""
    fn()
    batch, samples, deadline = 1, [], time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed < 0.02:
            batch *= 2
            continue
        samples.append(elapsed / batch)
        if time.perf_counter() > deadline and len(samples) >= 5:
            return min(samples)


class Setup:
    def __init__(self) -> None:
        self.key = Ed25519KeyPair.from_seed(bytes(range(32)))
        self.vm = f"{did_key_for(self.key.public_bytes)}#{self.key.public_multibase}"
        self.loader = DocumentLoader()
        self.verifier = Verifier(self.loader, Resolver(), FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))
        self.credential = data_analytics_microcredential(
            did_key_for(self.key.public_bytes),
            "did:example:ada",
            CREATED,
            "urn:uuid:6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b",
        )
        self.signed = {s: self.sign(s) for s in ("eddsa-rdfc-2022", "eddsa-jcs-2022")}
        self.jwt = jose.sign_vc_jwt(self.credential, self.key, self.vm)

    def sign(self, suite: str, created: datetime = CREATED) -> dict[str, Any]:
        return self.verifier.integrity.sign(self.credential, self.key, ProofOptions(self.vm, suite, created))

    def pyld_sign(self) -> str:
        proof = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-01-15T09:00:00Z",
            "verificationMethod": self.vm,
            "proofPurpose": "assertionMethod",
        }
        config = {**proof, "@context": self.credential["@context"]}
        data = (
            hashlib.sha256(pyld_canonize(config, self.loader).encode()).digest()
            + hashlib.sha256(pyld_canonize(self.credential, self.loader).encode()).digest()
        )
        return encode_base58btc(self.key.sign(data))

    def pyld_verify(self) -> bool:
        signed = self.signed["eddsa-rdfc-2022"]
        proof = signed["proof"][0]
        config = {k: v for k, v in proof.items() if k != "proofValue"} | {"@context": signed["@context"]}
        unsecured = {k: v for k, v in signed.items() if k != "proof"}
        data = (
            hashlib.sha256(pyld_canonize(config, self.loader).encode()).digest()
            + hashlib.sha256(pyld_canonize(unsecured, self.loader).encode()).digest()
        )
        public = self.key.public_bytes
        return verify_ed25519(public, decode_base58btc(proof["proofValue"]), data)


def measure(setup: Setup) -> dict[str, float]:
    message = b"\x01" * 64
    signature = setup.key.sign(message)
    counter = iter(range(10**9))
    rdfc = setup.signed["eddsa-rdfc-2022"]
    jcs_signed = setup.signed["eddsa-jcs-2022"]
    integrity, resolver = setup.verifier.integrity, setup.verifier.resolver
    # Ours first: pyld leaves large caches behind that slow every later garbage collection.
    results = {
        "raw_sign": per_op(lambda: setup.key.sign(message)),
        "raw_verify": per_op(lambda: verify_ed25519(setup.key.public_bytes, signature, message)),
        "rdfc_sign_batch": per_op(lambda: setup.sign("eddsa-rdfc-2022")),
        "rdfc_sign_single": per_op(lambda: setup.sign("eddsa-rdfc-2022", CREATED + timedelta(seconds=next(counter)))),
        "rdfc_verify_proof": per_op(lambda: integrity.verify(rdfc, resolver)),
        "rdfc_verify_pipeline": per_op(lambda: setup.verifier.verify(rdfc)),
        "jcs_sign": per_op(lambda: setup.sign("eddsa-jcs-2022")),
        "jcs_verify_proof": per_op(lambda: integrity.verify(jcs_signed, resolver)),
        "jwt_sign": per_op(lambda: jose.sign_vc_jwt(setup.credential, setup.key, setup.vm)),
        "jwt_verify_proof": per_op(lambda: jose.verify_vc_jwt(setup.jwt, resolver)),
    }
    assert setup.pyld_verify() and setup.verifier.verify(rdfc).verified
    results["pyld_sign"] = per_op(setup.pyld_sign, 2.0)
    results["pyld_verify"] = per_op(setup.pyld_verify, 2.0)
    return results


def _worker(seconds: float, queue: Any) -> None:
    setup = Setup()
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        setup.sign("eddsa-rdfc-2022")
        count += 1
    queue.put(count / seconds)


def processes(n: int, seconds: float = 3.0) -> float:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(seconds, queue)) for _ in range(n)]
    for w in workers:
        w.start()
    total = sum(queue.get() for _ in workers)
    for w in workers:
        w.join()
    return float(total)


def hostile_inputs(setup: Setup) -> dict[str, float]:
    big = json.dumps(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:i",
            "credentialSubject": {"id": "did:example:s", "name": "x" * 1_040_000},
        }
    ).encode()
    nodes = [{"id": f"_:n{i}", "name": "x", "url": [f"_:n{j}" for j in range(16) if j != i]} for i in range(16)]
    clique = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"], "type": ["VerifiableCredential"], "issuer": "did:example:i",
              "credentialSubject": {"id": "did:example:s", "type": ["AchievementSubject"], "source": [{"id": n["id"], "type": "Profile", "endorsement": [{"id": f"_:n{j}"} for j in range(16) if f"_:n{j}" != n["id"]]} for n in nodes]},
              "proof": [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod", "verificationMethod": setup.vm, "proofValue": "z1"}]}  # fmt: skip
    many = json.loads(json.dumps(setup.signed["eddsa-rdfc-2022"]))
    template = many["credentialSubject"]["achievement"]["alignment"][0]
    many["credentialSubject"]["achievement"]["alignment"] = [
        dict(template, targetName=f"skill {i} " + "x" * 60, targetUrl=f"https://esco.example/skill/{i}")
        for i in range(4_000)
    ]
    cases = {
        "1 MB signed credential with 4,000 skill nodes": json.dumps(many).encode(),
        "1 MB credential": big,
        "depth 100,000": b"[" * 100_000 + b"]" * 100_000,
        "blank-node clique (16)": clique,
        "1 MB of brackets in a string": b'{"a":"' + b"[" * 1_000_000 + b'"}',
    }
    out = {}
    for name, data in cases.items():
        start = time.perf_counter()
        report = setup.verifier.verify(data)
        out[name] = time.perf_counter() - start
        assert not report.verified
    assert len(cases[next(iter(cases))]) < 1_048_576  # the first case must be processed, not refused by size
    return out


# (label, measured key, reference key, reference name, target text, bound)
TARGETS = [
    (
        "`eddsa-rdfc-2022` sign (batch: shared proof config)",
        "rdfc_sign_batch",
        "pyld_sign",
        "pyld sign",
        ">= 10x pyld",
        10,
    ),
    (
        "`eddsa-rdfc-2022` sign (single: new proof config)",
        "rdfc_sign_single",
        "pyld_sign",
        "pyld sign",
        ">= 10x pyld",
        10,
    ),
    ("`eddsa-rdfc-2022` sign vs raw", "rdfc_sign_single", "raw_sign", "raw Ed25519 sign", "<= 25x raw", 25),
    ("`eddsa-rdfc-2022` verify (proof only)", "rdfc_verify_proof", "pyld_verify", "pyld verify", ">= 8x pyld", 8),
    (
        "full pipeline verify (offline, no remote status)",
        "rdfc_verify_pipeline",
        "pyld_verify",
        "pyld proof verify",
        ">= 5x",
        5,
    ),
    ("`eddsa-jcs-2022` sign", "jcs_sign", "raw_sign", "raw Ed25519 sign", "<= 5x raw", 5),
    ("`eddsa-jcs-2022` verify (proof only)", "jcs_verify_proof", "raw_verify", "raw Ed25519 verify", "<= 4x raw", 4),
    ("VC-JWT EdDSA sign", "jwt_sign", "raw_sign", "raw Ed25519 sign", "<= 5x raw", 5),
    ("VC-JWT EdDSA verify (signature and key)", "jwt_verify_proof", "raw_verify", "raw Ed25519 verify", "<= 4x raw", 4),
]


def render_bulk(bulk: list[dict[str, Any]], two: float) -> list[str]:
    lines = [
        "## Bulk awarding (`microcred award-bulk`, 2 signing processes)",
        "",
        "A cohort CSV signed with `eddsa-rdfc-2022`, each credential verified once more, stored with a revocation and",
        "a suspension index allocated, on 2 cores. Targets: the 100,000-row file at least 1,000 credentials/s end to",
        "end; peak RSS at most 300 MB and flat from 10,000 to 100,000 rows (the 10,000-row runs are for that: their",
        "rate includes starting the signing processes). Pure signing (2 processes, same run) is the reference.",
        "",
        "| database | rows | seconds | credentials/s | vs pure signing | peak RSS main / worker | target |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in bulk:
        memory_ok = max(r["rss_main_mb"], r["rss_worker_mb"]) <= 300
        met = memory_ok and (r["rows"] < 100_000 or r["rate"] >= 1000)
        lines.append(
            f"| {r['database']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rate']:,.0f} | {r['rate'] / two:.2f} | "
            f"{r['rss_main_mb']:.0f} / {r['rss_worker_mb']:.0f} MB | {'met' if met else '**not met**'} |"
        )
    return [*lines, ""]


def render_load(load: dict[str, Any]) -> list[str]:
    met = load["rate"] >= 400 and load["p99_ms"] < 50 and load["failures"] == 0
    return [
        f"## `POST /api/v1/verify` under load ({load['workers']} server workers, {load['clients']} keep-alive clients on loopback)",
        "",
        "| requests | seconds | verifications/s | p50 | p99 | failures | target |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| {load['requests']:,} | {load['seconds']:.1f} | {load['rate']:,.0f} | {load['p50_ms']:.1f} ms | {load['p99_ms']:.1f} ms | {load['failures']} | >= 400/s, p99 < 50 ms: {'met' if met else '**not met**'} |",
        "",
        "The credential carries two local status entries, so each verification also reads both status lists. The",
        "client runs on the same 2 cores as the server, so these are lower bounds.",
        "",
    ]


def render(
    m: dict[str, float],
    one: float,
    two: float,
    rss_mb: float,
    hostile: dict[str, float],
    bulk: list[dict[str, Any]],
    load: dict[str, Any],
) -> str:
    def row(name: str, key: str, ref: str, ref_name: str, target: str, bound: float) -> str:
        ms = m[key] * 1000
        faster = ref.startswith("pyld")
        ratio = m[ref] / m[key] if faster else m[key] / m[ref]
        rel = f"{ratio:.1f}x faster than {ref_name}" if faster else f"{ratio:.1f}x {ref_name}"
        met = ratio >= bound if faster else ratio <= bound
        return f"| {name} | {ms:.3f} | {1 / m[key]:,.0f} | {rel} | {target} | {'met' if met else '**not met**'} |"

    lines = [
        "# Performance",
        "",
        f"Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d} ({platform.python_implementation()} {platform.python_version()}, "
        f"{multiprocessing.cpu_count()} cores). Input: a realistic {len(json.dumps(Setup().credential)):,}-byte OB 3.0 AchievementCredential "
        "(`microcred.services.samples`). Times are medians per operation on one core; ratios are against references measured in the same run.",
        "",
        "## References (same run)",
        "",
        "| reference | ms/op | ops/s |",
        "|---|---:|---:|",
        f"| raw Ed25519 sign (`cryptography`, the physical limit) | {m['raw_sign'] * 1000:.3f} | {1 / m['raw_sign']:,.0f} |",
        f"| raw Ed25519 verify (strict: key and S checks) | {m['raw_verify'] * 1000:.3f} | {1 / m['raw_verify']:,.0f} |",
        f"| pyld 3.3 `eddsa-rdfc-2022` sign | {m['pyld_sign'] * 1000:.3f} | {1 / m['pyld_sign']:,.0f} |",
        f"| pyld 3.3 `eddsa-rdfc-2022` verify (proof only) | {m['pyld_verify'] * 1000:.3f} | {1 / m['pyld_verify']:,.0f} |",
        "",
        "## microcred engine",
        "",
        "| operation | ms/op | ops/s per core | ratio | target | |",
        "|---|---:|---:|---|---|---|",
        *[row(*target) for target in TARGETS],
        "",
        "## Scaling and memory",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| `eddsa-rdfc-2022` signing, 1 process | {one:,.0f}/s | |",
        f"| `eddsa-rdfc-2022` signing, 2 processes | {two:,.0f}/s ({two / one:.2f}x) | >= 1.8x: {'met' if two / one >= 1.8 else '**not met**'} |",
        f"| peak RSS of the benchmark process | {rss_mb:.0f} MB | |",
        "",
        "## Hostile inputs (full pipeline; each must be decided in under 1 s)",
        "",
        "| input | seconds | result |",
        "|---|---:|---|",
        *[f"| {name} | {secs:.3f} | {'ok' if secs < 1 else 'TOO SLOW'} |" for name, secs in hostile.items()],
        "",
        *render_bulk(bulk, two),
        *render_load(load),
        "Timing is the fastest of several batches per operation (this 2-core VM has noisy neighbours:",
        "medians move by up to 40% between runs, for the pyld reference as much as for us). Compare ratios",
        "within one run only. Single signing uses a new proof `created` each time, so the proof-configuration",
        "hash is not reused; batch signing shares it, as a bulk award does.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    parser.add_argument("--quick", action="store_true", help="small bulk runs only")
    args = parser.parse_args()
    setup = Setup()
    # Best of three rounds per operation: one noisy stretch should not decide a ratio.
    runs = [measure(setup) for _ in range(3)]
    m = {key: min(run[key] for run in runs) for key in runs[0]}
    # Alternate and keep the best of three rounds: a noisy neighbour on this VM can take a core for seconds.
    rounds = [(processes(1), processes(2)) for _ in range(3)]
    one, two = max(r[0] for r in rounds), max(r[1] for r in rounds)
    hostile = hostile_inputs(setup)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bulk as bulk_bench

    bulk = bulk_bench.measure((10_000, 100_000) if not args.quick else (2_000,))
    import load_verify

    load = load_verify.measure()
    import pages
    import startup
    import vcapi

    text = render(m, one, two, rss_mb, hostile, bulk, load) + "\n" + "\n".join(pages.render(pages.measure()))
    text += "\n" + "\n".join(vcapi.render(vcapi.measure()))
    text += "\n" + "\n".join(startup.render(startup.measure()))
    import pathways

    text += "\n" + "\n".join(pathways.render(pathways.measure(2_000 if args.quick else 100_000)))
    import skills
    import skills_eval

    scale = (10_000, 100_000, 60, 40) if args.quick else (100_000, 1_000_000, 300, 200)
    text += "\n" + "\n".join(skills.render(skills.measure(*scale)))
    text += "\n" + "\n".join(
        skills_eval.render({"extraction": skills_eval.extraction(), "plans": skills_eval.optimality(scale[3] // 2)})
    )
    print(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
