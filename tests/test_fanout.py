"""Many files on every core: results in input order, the first failure raised where it comes."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from microcred.cli import fanout
from microcred.errors import InputError, MicrocredError

many_cores = pytest.mark.skipif(fanout.cores() < 2, reason="one core: the work stays in this process")


def _pid_and_square(n: int) -> tuple[int, int]:
    if n == 13:
        raise InputError("item 13 is unlucky")
    return os.getpid(), n * n


PARENT = os.getpid()


def _pid_and_slow_square(n: int) -> tuple[int, int]:
    time.sleep(0.001)  # work that takes a while, so that the worker is started before it is all done
    return _pid_and_square(n)


def _pid_or_die(n: int) -> tuple[int, int]:
    if os.getpid() != PARENT and n >= 40:
        os.kill(os.getpid(), signal.SIGKILL)  # a worker killed (out of memory, an operator) mid-chunk
    return _pid_and_slow_square(n)


@many_cores
def test_results_come_in_input_order_from_other_processes() -> None:
    items = [n for n in range(200) if n != 13]
    results = list(fanout.ordered(_pid_and_slow_square, items, workers=3))
    assert [square for _pid, square in results] == [n * n for n in items]
    assert results[0][0] == os.getpid(), "the first item here"
    assert len({pid for pid, _square in results}) == 3, "the rest shared by this process and two workers"


@many_cores
def test_the_first_failure_is_raised_in_its_place() -> None:
    seen = []
    with pytest.raises(InputError, match="unlucky"):
        for _pid, square in fanout.ordered(_pid_and_square, list(range(100)), workers=2):
            seen.append(square)
    assert seen == [n * n for n in range(13)]


@many_cores
def test_this_process_shares_the_work() -> None:
    results = list(fanout.ordered(_pid_and_slow_square, [n for n in range(400) if n != 13], workers=2))
    here = sum(1 for pid, _square in results if pid == os.getpid())
    assert 1 < here < len(results), "this process takes chunks too, and so does the worker"


def _forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the workers forked from now on."""
    forked: list[int] = []
    fork = os.fork

    def recording() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording)
    return forked


def _all_reaped(pids: list[int]) -> bool:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue  # no such child any more: it was reaped
        return False
    return bool(pids)


@many_cores
def test_a_killed_worker_is_a_clear_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    signal.alarm(60)  # a hang fails the test instead of the run
    try:
        seen = []
        with pytest.raises(MicrocredError, match="worker process stopped"):
            for _pid, square in fanout.ordered(_pid_or_die, list(range(14, 400)), workers=2):
                seen.append(square)
    finally:
        signal.alarm(0)
    assert seen == [n * n for n in range(14, 14 + len(seen))], "what came before the lost chunk came in order"
    assert _all_reaped(forked), "no worker left behind"


@many_cores
def test_stopping_early_leaves_no_worker_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _forks(monkeypatch)
    results = fanout.ordered(_pid_and_square, list(range(14, 400)), workers=3)
    assert [square for _pid, square in itertools.islice(results, 30)] == [n * n for n in range(14, 44)]
    results.close()
    assert len(forked) == 2 and _all_reaped(forked)


@many_cores
def test_more_chunks_than_one_pipe_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "_PIPE_BYTES", 4096)  # room for 1,024 chunk numbers: chunks grow
    items = list(range(14, 20_000))
    assert [square for _pid, square in fanout.ordered(_pid_and_square, items, workers=2)] == [n * n for n in items]


def test_few_items_or_parallel_off_stay_in_this_process() -> None:
    assert {pid for pid, _ in fanout.ordered(_pid_and_square, [1, 2, 3], workers=2)} == {os.getpid()}
    items = list(range(50, 100))
    assert {pid for pid, _ in fanout.ordered(_pid_and_square, items, parallel=False)} == {os.getpid()}


def _microcred(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env["MICROCRED_DATA_DIR"] = str(cwd / "no-installation")
    return subprocess.run(
        [sys.executable, "-m", "microcred.cli.app", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def _unsigned(folder: Path, count: int, issuer: str) -> list[Path]:
    from datetime import UTC, datetime

    from microcred.services.samples import data_analytics_microcredential

    folder.mkdir()
    paths = []
    for n in range(count):
        credential = data_analytics_microcredential(
            issuer,
            f"did:example:learner-{n}",
            datetime(2026, 1, 15, tzinfo=UTC),
            f"urn:uuid:{n:08d}-0000-4000-8000-000000000000",
        )
        paths.append(folder / f"c{n:03d}.json")
        paths[-1].write_text(json.dumps(credential))
    return paths


@many_cores
def test_sign_and_verify_many_files_as_one_process_would(tmp_path: Path) -> None:
    assert _microcred("keygen", "--out", "key.json", cwd=tmp_path).returncode == 0
    public = json.loads((tmp_path / "key.json").read_text())["publicKeyMultibase"]
    unsigned = _unsigned(tmp_path / "in", 60, f"did:key:{public}")
    signed_dir = tmp_path / "out"
    result = _microcred("sign", "--key", "key.json", "--out-dir", str(signed_dir), *map(str, unsigned), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    signed = sorted(signed_dir.glob("*.json"))
    assert [p.name for p in signed] == [p.name for p in unsigned]
    report = _microcred("verify", "--json", *map(str, signed), cwd=tmp_path)
    assert report.returncode == 0, report.stdout[-2000:]
    reports = json.loads(report.stdout)
    assert [r["source"] for r in reports] == [str(p) for p in signed]
    assert all(r["verified"] for r in reports)
    ids = [json.loads(p.read_text())["credentialSubject"]["id"] for p in signed]
    assert ids == [f"did:example:learner-{n}" for n in range(60)]

    signed[40].write_text(signed[40].read_text().replace("learner-40", "learner-04"))
    tampered = json.loads(_microcred("verify", "--json", *map(str, signed), cwd=tmp_path).stdout)
    assert [r["verified"] for r in tampered] == [n != 40 for n in range(60)]


@many_cores
def test_sign_stops_at_the_first_bad_file_and_writes_nothing_after_it(tmp_path: Path) -> None:
    assert _microcred("keygen", "--out", "key.json", cwd=tmp_path).returncode == 0
    public = json.loads((tmp_path / "key.json").read_text())["publicKeyMultibase"]
    unsigned = _unsigned(tmp_path / "in", 60, f"did:key:{public}")
    unsigned[30].write_text("[1, 2]")
    signed_dir = tmp_path / "out"
    result = _microcred("sign", "--key", "key.json", "--out-dir", str(signed_dir), *map(str, unsigned), cwd=tmp_path)
    assert result.returncode == 2
    assert "c030.json is not a JSON object" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in signed_dir.glob("*.json")) == [f"c{n:03d}.json" for n in range(30)]


def test_an_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    assert _microcred("keygen", "--out", "key.json", cwd=tmp_path).returncode == 0
    public = json.loads((tmp_path / "key.json").read_text())["publicKeyMultibase"]
    unsigned = _unsigned(tmp_path / "in", 1, f"did:key:{public}")
    result = _microcred(
        "sign", "--key", "key.json", "--out", str(tmp_path / "missing" / "x.json"), str(unsigned[0]), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr
