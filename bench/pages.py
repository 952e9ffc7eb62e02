"""Web pages on the demo data (SQLite): server time per page (p50/p95 over 60 requests after warm-up)
and page weight without images (HTML + CSS + JS). Targets: p95 < 50 ms, weight < 200 KB.

Run alone (`python bench/pages.py --write docs/performance.md` replaces only its section) or from run.py.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SECTION = "## Web pages on the demo data"


def _client(folder: Path) -> tuple[Any, Any]:
    from fastapi.testclient import TestClient

    from microcred import bootstrap
    from microcred.cli import demo_seed
    from microcred.config import Settings
    from microcred.server import create_app

    settings = Settings(data_dir=folder, public_base_url="http://127.0.0.1:8000")
    demo_seed.seed(settings, progress=lambda _note: None)
    platform = bootstrap.build_platform(settings)
    return TestClient(create_app(platform), base_url="http://127.0.0.1:8000"), platform


def _sign_in(client: Any, email: str) -> None:
    from microcred.cli.demo_seed import PASSWORD

    page = client.get("/signin", headers={"accept": "text/html"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    client.post("/signin", data={"csrf": csrf, "email": email, "password": PASSWORD}, follow_redirects=False)


def _import_external(platform: Any, email: str, n: int) -> None:
    """A wallet that also holds credentials from another issuer (did:key, verified offline)."""
    from datetime import UTC, datetime

    from microcred import bootstrap
    from microcred.services.credentials import SignRequest
    from microcred.services.samples import data_analytics_microcredential
    from microcred.services.web_accounts import SessionUser
    from microcred.standards.dids import did_key_for
    from microcred.standards.keys import Ed25519KeyPair

    signer = bootstrap.build_credential_service(bootstrap.Options({}))
    key = Ed25519KeyPair.generate()
    with platform.runtime.db.read() as repo:
        user = repo.user_by_email(email)
    holder = SessionUser(user.id, user.email, user.role, None, user.name, verified=True, session_id="bench")
    for i in range(n):
        credential = data_analytics_microcredential(
            did_key_for(key.public_bytes),
            "did:example:ada",
            datetime.now(UTC).replace(microsecond=0),
            f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
            email,
        )
        platform.wallet.import_credential(holder, json.dumps(signer.sign(SignRequest(credential, key))), "bench")


def measure(rounds: int = 60) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        client, platform = _client(Path(folder))
        with platform.runtime.db.read() as repo:
            awards = repo.awards(email="ada@learners.example", limit=1)
            catalogue = repo.catalogue(None)
        award, mc_id = awards[0].id, catalogue[0][0].id
        _import_external(platform, "ada@learners.example", 20)
        static = sum(len(client.get(p).content) for p in ("/static/app.css", "/static/app.js", "/static/favicon.svg"))
        pages = [
            ("anonymous", "/"), ("anonymous", "/verify"), ("anonymous", "/signin"), ("anonymous", f"/credentials/{award}"),
            ("registrar@northbridge.example", "/console"), ("registrar@northbridge.example", "/console/microcredentials"),
            ("registrar@northbridge.example", "/console/microcredentials/new"), ("registrar@northbridge.example", f"/console/microcredentials/{mc_id}"),
            ("registrar@northbridge.example", "/console/awards"), ("registrar@northbridge.example", "/console/awards?status=revoked"),
            ("registrar@northbridge.example", "/console/audit"), ("registrar@northbridge.example", "/console/tokens"),
            ("ada@learners.example", "/wallet"), ("ada@learners.example", f"/wallet/credentials/{award}"),
            ("admin@demo.microcred.dev", "/console"), ("admin@demo.microcred.dev", "/admin/outbox"),
        ]  # fmt: skip
        results = []
        signed_in: str | None = None
        for who, path in pages:
            if who != signed_in:
                client.cookies.clear()
                if who != "anonymous":
                    _sign_in(client, who)
                signed_in = who
            for _ in range(5):
                response = client.get(path, headers={"accept": "text/html"})
                assert response.status_code == 200, (path, response.status_code)
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                response = client.get(path, headers={"accept": "text/html"})
                times.append(time.perf_counter() - start)
            times.sort()
            results.append(
                {
                    "who": who,
                    "path": path,
                    "p50": statistics.median(times) * 1000,
                    "p95": times[int(len(times) * 0.95) - 1] * 1000,
                    "kb": (len(response.content) + static) / 1024,
                }
            )
        platform.close()
        return results


def render(results: list[dict[str, Any]]) -> list[str]:
    worst = max(r["p95"] for r in results)
    heaviest = max(r["kb"] for r in results)
    return [
        SECTION,
        "",
        "`make demo`'s data on SQLite (3 organisations, 16 microcredentials, 200 learners, about 400 awards; the learner ada also",
        "holds 20 credentials imported from another issuer, re-verified at most once a minute), requests through",
        "the ASGI app in-process (server time, no network). Weight is the HTML plus the CSS, JS and icon it loads, without images.",
        "",
        "| page | as | p50 ms | p95 ms | weight KB |",
        "|---|---|---:|---:|---:|",
        *[
            f"| `{r['path'].split('?')[0][:48]}{'?…' if '?' in r['path'] else ''}` | {r['who'].split('@')[0]} | {r['p50']:.1f} | {r['p95']:.1f} | {r['kb']:.1f} |"
            for r in results
        ],
        "",
        f"Worst p95 {worst:.1f} ms (target < 50 ms: {'met' if worst < 50 else '**not met**'}); heaviest page {heaviest:.1f} KB (target < 200 KB: {'met' if heaviest < 200 else '**not met**'}).",
        "",
    ]


def write(path: Path, lines: list[str]) -> None:
    """Replace the section that `lines` starts with (its heading), or append it."""
    section = lines[0]
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    block = "\n".join(lines)
    if section in text:
        start = text.index(section)
        after = text.find("\n## ", start + len(section))
        text = text[:start] + block + ("\n" + text[after + 1 :] if after != -1 else "")
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def report(lines: list[str], path: Path | None) -> None:
    """Print a section, and replace it in `path` when one is given (the benches run alone)."""
    print("\n".join(lines))
    if path is not None:
        write(path, lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    report(render(measure()), parser.parse_args().write)
