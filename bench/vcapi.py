"""The VC-API on a live uvicorn on loopback (SQLite, one client): issue, issue with a status entry, verify, verify a
presentation; p50/p95 over 200 requests after warm-up, as multiples of raw Ed25519 signing measured
in the same run (the physical limit for signing).

Run alone (`python bench/vcapi.py --write docs/performance.md` replaces only its section) or from run.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SECTION = "## VC-API"
V2 = "https://www.w3.org/ns/credentials/v2"
BASE = "https://127.0.0.1:8443"


def _lab(folder: Path) -> tuple[Any, str, str]:
    from microcred import bootstrap
    from microcred.config import Settings

    settings = Settings(data_dir=folder, public_base_url=BASE, vcapi_verify_per_minute=0)
    platform = bootstrap.build_platform(settings, create=True)
    issuer = platform.issuers.create(name="Bench", slug="bench", country="NL", did_method="key")
    platform.issuers.set_vcapi("bench", True)
    platform.accounts.create_user("bench@bench.example", "correct horse battery staple", "platform_admin")
    token = platform.accounts.create_token("bench@bench.example", "platform_admin", scopes=["vc:issue"]).token
    return platform, issuer.did, token


@contextmanager
def _served(platform: Any) -> Iterator[Any]:
    """uvicorn on loopback in a thread, and a keep-alive client: the real server path, no TLS."""
    import socket
    import threading

    import httpx2
    import uvicorn

    from microcred.server import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _credential(did: str, n: int) -> dict[str, Any]:
    return {
        "@context": [V2],
        "id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"did:example:learner-{n}"},
    }


def _timed(call: Callable[[int], Any], rounds: int) -> list[float]:
    for n in range(10):
        call(-n - 1)
    times = []
    for n in range(rounds):
        start = time.perf_counter()
        call(n)
        times.append(time.perf_counter() - start)
    return sorted(times)


def _raw_sign_seconds() -> float:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key, message = Ed25519PrivateKey.generate(), b"x" * 64
    best = float("inf")
    for _ in range(3):
        start, count = time.perf_counter(), 0
        while time.perf_counter() - start < 0.5:
            key.sign(message)
            count += 1
        best = min(best, (time.perf_counter() - start) / count)
    return best


def measure(rounds: int = 200) -> dict[str, Any]:
    raw = _raw_sign_seconds()
    with tempfile.TemporaryDirectory() as folder:
        platform, did, token = _lab(Path(folder))
        results = _over_http(platform, did, token, rounds)
        results["raw_ms"] = raw * 1000
        results["service"] = _timed(
            lambda n: platform.vcapi.issue({"credential": _credential(did, 2_000_000 + n)}, None, "bench"), rounds
        )
        platform.close()
    return results


def _over_http(platform: Any, did: str, token: str, rounds: int) -> dict[str, Any]:
    from microcred.standards.di import ProofOptions
    from microcred.standards.dids import did_key_for
    from microcred.standards.keys import Ed25519KeyPair

    results: dict[str, Any] = {}
    with _served(platform) as client:
        auth = {"Authorization": f"Bearer {token}"}
        signed = {}

        def issue(n: int, status: bool = False) -> None:
            options = {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}
            body = {
                "credential": _credential(did, n + (1_000_000 if status else 0)),
                "options": options if status else {},
            }
            response = client.post("/credentials/issue", json=body, headers=auth)
            assert response.status_code == 201, response.text
            signed[n] = response.json()["verifiableCredential"]

        def verify(n: int) -> None:
            response = client.post("/credentials/verify", json={"verifiableCredential": signed[abs(n) % rounds]})
            assert response.status_code == 200, response.text

        holder = Ed25519KeyPair.generate()
        holder_did = did_key_for(holder.public_bytes)
        integrity = platform.credentials.verifier.integrity
        results["issue"] = _timed(issue, rounds)
        results["issue_status"] = _timed(lambda n: issue(n, status=True), rounds)
        results["verify"] = _timed(verify, rounds)
        vp = integrity.sign(
            {"@context": [V2], "type": ["VerifiablePresentation"], "holder": holder_did,
             "verifiableCredential": [signed[0]]},
            holder, ProofOptions(f"{holder_did}#{holder.public_multibase}", purpose="authentication", challenge="c"),
        )  # fmt: skip

        def present(_n: int) -> None:
            body = {"verifiablePresentation": vp, "options": {"challenge": "c"}}
            response = client.post("/presentations/verify", json=body)
            assert response.status_code == 200, response.text

        results["present"] = _timed(present, rounds)
    return results


def render(results: dict[str, Any]) -> list[str]:
    raw = results["raw_ms"]
    rows = [
        ("issue as a service call (no HTTP): validate, sign, self-check, store", "service"),
        ("`POST /credentials/issue` (eddsa-rdfc-2022, stored)", "issue"),
        ("the same with a revocation entry", "issue_status"),
        ("`POST /credentials/verify` (status checked)", "verify"),
        ("`POST /presentations/verify` (1 credential, challenge)", "present"),
    ]
    lines = [
        SECTION,
        "",
        "A live uvicorn on loopback (plain HTTP, one keep-alive client, SQLite with synchronous=FULL): request parsing,",
        "token lookup, validation, RDFC-1.0, signing, the self-check, the database write and the response. 200 requests",
        "after 10 warm-up per row, a did:key issuer. The client runs in the same process and shares the GIL with the",
        "server, so the HTTP rows include some client time. Raw Ed25519 signing from `cryptography` in the same run:",
        f"{raw * 1000:.1f} µs.",
        "",
        "| request | p50 ms | p95 ms | per second (1 client) | p50 / raw Ed25519 sign |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, key in rows:
        times = results[key]
        p50, p95 = statistics.median(times) * 1000, times[int(len(times) * 0.95) - 1] * 1000
        lines.append(f"| {name} | {p50:.2f} | {p95:.2f} | {1000 / p50:,.0f} | {p50 / raw:,.0f}× |")
    lines += [
        "",
        "No target is set for these; they show where a request's time goes next to the engine figures above.",
        "",
    ]
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import pages

    pages.report(render(measure()), args.write)
