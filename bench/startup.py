"""Command start-up and per-credential CLI cost, as ratios against references measured in the same run.

- `microcred --help` and `microcred verify FILE` against a bare `python -c "import json"` start (medians of
  interleaved runs; targets 5x and 8x).
- `microcred sign` and `microcred verify` over many files, per credential: the marginal cost, the run
  over N files minus the run over N/4, divided by 3N/4, so that start-up (the rows above) and the
  fan-out's own fixed cost (forking, the workers' first pages) stay out of it; that fixed cost is shown
  apart. Against pyld signing and pyld proof verification of the same credential, timed in turn with the
  commands in every round (targets: 10x and 5x less).
- A bulk signing worker: a spawned process from start to its first signed credential (target < 0.5 s).

Sources are byte-compiled first, as an installed package is (this machine sets PYTHONDONTWRITEBYTECODE).
Run alone (`python bench/startup.py --write docs/performance.md` replaces only its section) or from run.py.
"""

from __future__ import annotations

import argparse
import compileall
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTION = "## Start-up and the command line"
MICROCRED = str(Path(sys.executable).with_name("microcred"))


def _seconds(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


Measure = list[str] | Callable[[], float]  # a command to time, or a function that times itself


def _medians(commands: dict[str, Measure], env: dict[str, str], cwd: Path, rounds: int) -> dict[str, float]:
    """Median seconds per command (or per call of a function); they take turns, so a noisy stretch of the
    machine hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            samples[name].append(command() if callable(command) else _seconds(command, env, cwd))
    return {name: statistics.median(values) for name, values in samples.items()}


def _credentials(folder: Path, count: int, issuer: str) -> list[Path]:
    from datetime import UTC, datetime

    from microcred.services.samples import data_analytics_microcredential

    now = datetime(2026, 1, 15, 9, tzinfo=UTC)
    paths = []
    for n in range(count):
        credential = data_analytics_microcredential(
            issuer, f"did:example:learner-{n}", now, f"urn:uuid:00000000-0000-4000-8000-{n:012d}"
        )
        path = folder / f"credential-{n:05d}.json"
        path.write_text(json.dumps(credential), encoding="utf-8")
        paths.append(path)
    return paths


def _first_signature_seconds() -> float:
    """A spawned worker, from nothing to its first signed credential (what bulk awarding waits for)."""
    from bench.run import CREATED, Setup
    from microcred.services.signing import sign_chunk
    from microcred.standards.dids.methods import did_key_document, did_key_for

    setup = Setup()
    did_doc = did_key_document(did_key_for(setup.key.public_bytes))
    args = (setup.key.seed, setup.vm, did_doc, "eddsa-rdfc-2022", CREATED.isoformat(), [setup.credential])
    start = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(sign_chunk, *args).result()
        return time.perf_counter() - start


def measure(files: int = 1000, rounds: int = 15) -> dict[str, Any]:
    from bench.run import Setup, per_op

    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    setup = Setup()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
        env["MICROCRED_DATA_DIR"] = str(folder / "no-installation")  # the standalone commands, as a user runs them
        key = folder / "key.json"
        subprocess.run([MICROCRED, "keygen", "--out", str(key)], env=env, check=True, capture_output=True)
        public = json.loads(key.read_text())["publicKeyMultibase"]
        (folder / "unsigned").mkdir()
        unsigned = _credentials(folder / "unsigned", files, f"did:key:{public}")
        sign = [MICROCRED, "sign", "--key", str(key), "--out-dir", str(folder / "signed")]
        subprocess.run([*sign, *map(str, unsigned)], env=env, check=True, capture_output=True)
        signed = sorted((folder / "signed").glob("*.json"))
        starts = _medians(
            {
                "bare": [sys.executable, "-c", "import json"],
                "help": [MICROCRED, "--help"],
                "verify": [MICROCRED, "verify", str(signed[0])],
            },
            env, folder, rounds,
        )  # fmt: skip
        few = files // 4
        many = _medians(
            {
                "sign_1": [*sign, str(unsigned[0])],
                "sign_few": [*sign, *map(str, unsigned[:few])],
                "sign_n": [*sign, *map(str, unsigned)],
                "verify_1": [MICROCRED, "verify", "--json", str(signed[0])],
                "verify_few": [MICROCRED, "verify", "--json", *map(str, signed[:few])],
                "verify_n": [MICROCRED, "verify", "--json", *map(str, signed)],
                # The references take their turns too: a machine slower for a while slows both sides.
                "pyld_sign": lambda: per_op(setup.pyld_sign, 0.3),
                "pyld_verify": lambda: per_op(setup.pyld_verify, 0.3),
            },
            env, folder, rounds,
        )  # fmt: skip
        ok = subprocess.run([MICROCRED, "verify", *map(str, signed)], env=env, capture_output=True, check=False)
    worker = min(_first_signature_seconds() for _ in range(3))
    sign_per = (many["sign_n"] - many["sign_few"]) / (files - few)
    verify_per = (many["verify_n"] - many["verify_few"]) / (files - few)
    return {
        **starts,
        "files": files,
        "few": few,
        "sign_per": sign_per,
        "verify_per": verify_per,
        "sign_fixed": many["sign_few"] - many["sign_1"] - (few - 1) * sign_per,
        "verify_fixed": many["verify_few"] - many["verify_1"] - (few - 1) * verify_per,
        "all_verified": ok.returncode == 0,
        "pyld_sign": many["pyld_sign"],
        "pyld_verify": many["pyld_verify"],
        "worker": worker,
    }


def render(m: dict[str, Any]) -> list[str]:
    bare = m["bare"]

    def start_row(name: str, key: str, bound: float) -> str:
        ratio = m[key] / bare
        return f"| {name} | {m[key] * 1000:.0f} ms | {ratio:.1f}x bare start | <= {bound:g}x | {'met' if ratio <= bound else '**not met**'} |"

    def per_row(name: str, key: str, ref: str, ref_name: str, bound: float) -> str:
        ratio = m[ref] / m[key]
        return (
            f"| {name} | {m[key] * 1000:.3f} ms | {ratio:.1f}x less than {ref_name} ({m[ref] * 1000:.3f} ms) "
            f"| >= {bound:g}x | {'met' if ratio >= bound else '**not met**'} |"
        )

    return [
        SECTION,
        "",
        f"`microcred` as a user runs it (no installation data directory), medians of interleaved runs; per-credential "
        f"rows are the marginal cost: the run over {m['files']} files minus the run over {m['few']}, divided by "
        f"{m['files'] - m['few']}. The pyld references (same credential) take their turns in the same rounds: "
        f"in each, the fastest batch of 0.3 s; their median here. Bare start: "
        f'`python -c "import json"`, {bare * 1000:.1f} ms.',
        "",
        "| measure | value | ratio | target | |",
        "|---|---:|---|---|---|",
        start_row("`microcred --help`", "help", 5),
        start_row("`microcred verify FILE`", "verify", 8),
        per_row("`microcred sign` per credential (`eddsa-rdfc-2022`)", "sign_per", "pyld_sign", "pyld sign", 10),
        per_row("`microcred verify` per credential (full report)", "verify_per", "pyld_verify", "pyld proof verify", 5),
        f"| bulk signing worker: spawn to first signed credential | {m['worker'] * 1000:.0f} ms | | < 500 ms | "
        f"{'met' if m['worker'] < 0.5 else '**not met**'} |",
        "",
        f"Fixed cost of going over many files, beyond one file's start-up (forking the workers, their first pages "
        f"of memory): sign {m['sign_fixed'] * 1000:.0f} ms, verify {m['verify_fixed'] * 1000:.0f} ms per command.",
        f"Every credential signed here verified again with `microcred verify`: {'yes' if m['all_verified'] else '**no**'}.",
        "",
    ]


if __name__ == "__main__":
    from bench.pages import report

    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    report(render(measure()), parser.parse_args().write)
