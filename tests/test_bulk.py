"""Bulk awarding: bad rows reported, good rows issued, reruns and kills issue nothing twice."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from microcred import bootstrap
from microcred.errors import InputError, UsageError
from microcred.services.awarding import AwardRequest
from microcred.standards.status import Bitstring
from microcred.storage import models


def _csv(path: Path, rows: list[str], header: str = "email,name,external_id,grade,valid_until,evidence_url") -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _award_count(platform: bootstrap.Platform) -> tuple[int, int]:
    with platform.runtime.db.read() as repo:
        return repo.count(models.Award), repo.count(models.StatusEntry)


def test_bad_rows_go_to_the_errors_file_and_good_rows_are_issued(
    platform: bootstrap.Platform, microcredential: Any, tmp_path: Path
) -> None:
    source = _csv(
        tmp_path / "cohort.csv",
        [
            "ada@example.org,Ada,S1,A,,",
            "not-an-email,Bad,S2,,,",
            ",Nobody,S3,,,",
            "grace@example.org,Grace,S4,B,2030-01-01T00:00:00Z,https://evidence.example/grace",
            "linus@example.org,Linus,S5,,next year,",
            "alan@example.org,Alan,S6,,,ftp://evidence.example/x",
            "ada@example.org,Ada again,S1,A,,",
        ],
    )
    errors = tmp_path / "errors.csv"
    result = platform.bulk.run(source, microcredential=microcredential.id, errors_path=errors, workers=1)
    assert (result.issued, result.skipped, result.failed, result.processed) == (2, 1, 4, 7)
    rows = _read_csv(errors)
    assert [(int(r["line"]), r["reason"].split(" ")[0]) for r in rows] == [
        (3, "'not-an-email'"),
        (4, "email"),
        (6, "valid_until:"),
        (7, "evidence_url"),
    ]
    assert _award_count(platform) == (2, 2)  # one status entry per award
    with platform.runtime.db.transaction() as repo:
        job = repo.bulk_job(result.job_id)
        assert job is not None and (job.state, job.issued, job.failed) == ("finished", 2, 4)
        assert [e.line for e in repo.bulk_errors(result.job_id)] == [3, 4, 6, 7]


def test_plain_dates_are_taken_and_failed_rows_are_reported_as_written(
    platform: bootstrap.Platform, microcredential: Any, tmp_path: Path
) -> None:
    source = _csv(
        tmp_path / "cohort.csv",
        ["ada@example.org,Ada,S1,A,2028-06-30,", "bad@example.org,Bad,S2,,2028-02-30,", "not-an-email,No,S3,,,"],
    )
    errors = tmp_path / "errors.csv"
    result = platform.bulk.run(source, microcredential=microcredential.id, errors_path=errors, workers=1)
    assert (result.issued, result.failed) == (1, 2)
    with platform.runtime.db.read() as repo:
        (award,) = repo.awards(email="ada@example.org")
    assert award.valid_until is not None and award.valid_until.isoformat() == "2028-06-30T23:59:59+00:00"
    rows = _read_csv(errors)
    assert "not a calendar date" in rows[0]["reason"]
    # A row refused when awarding (not when reading) is reported as the file has it, not by internal ids.
    assert rows[1]["row"] == "not-an-email,No,S3,,," and microcredential.id not in rows[1]["row"]


def test_a_rerun_issues_nothing_twice(platform: bootstrap.Platform, microcredential: Any, tmp_path: Path) -> None:
    source = _csv(tmp_path / "c.csv", [f"learner{i}@example.org,L{i},,,," for i in range(25)])
    first = platform.bulk.run(source, microcredential=microcredential.id, workers=1, batch_size=7)
    again = platform.bulk.run(source, microcredential=microcredential.id, workers=1, batch_size=7)
    assert (first.issued, again.issued, again.skipped) == (25, 0, 25)
    assert _award_count(platform) == (25, 25)
    single = platform.awards.award(AwardRequest(microcredential.id, "learner3@example.org"))
    assert not single.created


def test_jsonl_rows_with_their_own_microcredential(
    platform: bootstrap.Platform, microcredential: Any, tmp_path: Path
) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"email": "ada@example.org", "microcredential": microcredential.id, "grade": "A"}),
                "{not json",
                json.dumps({"email": "bob@example.org"}),
                json.dumps({"email": "eve@example.org", "microcredential": microcredential.id, "shoe_size": 44}),
                json.dumps(["a", "list"]),
                json.dumps({"email": "zoe@example.org", "microcredential": "00000000-0000-0000-0000-000000000000"}),
            ]
        )
        + "\n"
    )
    errors = tmp_path / "errors.csv"
    result = platform.bulk.run(source, errors_path=errors, workers=1)
    assert (result.issued, result.failed) == (1, 5)
    reasons = {int(r["line"]): r["reason"] for r in _read_csv(errors)}
    assert "not JSON" in reasons[2] and "no microcredential" in reasons[3] and "shoe_size" in reasons[4]
    assert "JSON object" in reasons[5] and "no microcredential" in reasons[6]


def test_a_malformed_file_is_refused_before_anything_is_issued(
    platform: bootstrap.Platform, microcredential: Any, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="email"):
        platform.bulk.run(_csv(tmp_path / "a.csv", ["x"], header="name"), microcredential=microcredential.id, workers=1)
    with pytest.raises(InputError, match="unknown CSV column"):
        platform.bulk.run(
            _csv(tmp_path / "b.csv", ["a@example.org,1"], header="email,shoe_size"),
            microcredential=microcredential.id,
            workers=1,
        )
    with pytest.raises(UsageError):
        platform.bulk.run(tmp_path / "missing.csv", microcredential=microcredential.id)
    assert _award_count(platform) == (0, 0)


def test_signing_across_processes_gives_verifiable_credentials(
    platform: bootstrap.Platform, microcredential: Any, local_verifier: Any, tmp_path: Path
) -> None:
    source = _csv(tmp_path / "c.csv", [f"learner{i}@example.org,L{i},,,," for i in range(40)])
    result = platform.bulk.run(source, microcredential=microcredential.id, workers=2, batch_size=16)
    assert result.issued == 40
    awards = platform.awards.list_awards(limit=100)
    assert len({a.recipient_email for a in awards}) == 40
    for award in awards[:5]:
        assert local_verifier.verify(json.loads(award.credential)).verified


def test_parallel_bulk_jobs_and_revocations_never_collide(
    make_platform: Any, microcredential: Any, tmp_path: Path
) -> None:
    rows = [f"learner{i}@example.org,L{i},,,," for i in range(60)]
    parts = [random.Random(n).sample(rows, 30) for n in range(8)]  # overlapping: the same rows race
    files = [_csv(tmp_path / f"part{n}.csv", part) for n, part in enumerate(parts)]
    expected = len({row for part in parts for row in part}) + 1
    platforms = [make_platform() for _ in range(13)]  # 8 bulk jobs, 4 revoking clients, 1 observer
    platforms[12].awards.award(AwardRequest(microcredential.id, "seed@example.org"))  # awards before the jobs start
    revoked: list[str] = []
    errors: list[BaseException] = []

    def bulk(n: int) -> None:
        try:
            platforms[n].bulk.run(files[n], microcredential=microcredential.id, workers=1, batch_size=5)
        except BaseException as exc:
            errors.append(exc)

    def revoker(n: int) -> None:
        try:
            for _ in range(10):
                candidates = [a.id for a in platforms[n].awards.list_awards(limit=1000) if a.revoked_at is None]
                if candidates:
                    target = random.choice(candidates)
                    try:
                        platforms[n].awards.revoke(target, "test")
                        revoked.append(target)
                    except InputError:
                        pass  # another client revoked it first: a conflict, not a loss
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bulk, args=(n,)) for n in range(8)] + [
        threading.Thread(target=revoker, args=(n,)) for n in range(8, 12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    awards = platforms[12].awards.list_awards(limit=1000)
    assert len(awards) == expected and len({a.row_key for a in awards}) == expected
    assert len(revoked) == len(set(revoked))
    assert {a.id for a in awards if a.revoked_at is not None} == set(revoked)
    with platforms[12].runtime.db.transaction() as repo:
        assert repo.count(models.StatusEntry) == expected
        lists = {(s.list_id, s.index) for a in awards for s in repo.status_entries(a.id)}
        assert len(lists) == expected
        for award_id in revoked:  # no revocation lost: each one's bit is set in its signed list
            award = repo.award(award_id)
            assert award is not None and award.revoked_at is not None
            for entry in repo.status_entries(award_id):
                status_list = repo.status_list_by_id(entry.list_id)
                assert status_list is not None
                expected = 1 if status_list.purpose == "revocation" else 0
                assert Bitstring(status_list.size, status_list.bits).get(entry.index) == expected


def _bulk_cli(env: dict[str, str], source: Path, mc_id: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "microcred.cli.app", "award-bulk", str(source), "--microcredential", mc_id, "--workers", "1", "--batch-size", "15", "--json"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_killing_a_bulk_job_and_rerunning_it_issues_every_row_exactly_once(
    platform: bootstrap.Platform, settings: Any, microcredential: Any, tmp_path: Path
) -> None:
    total = 1200
    source = _csv(tmp_path / "c.csv", [f"learner{i}@example.org,L{i},S{i},,," for i in range(total)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env |= {
        "MICROCRED_DATA_DIR": str(settings.data_dir),
        "MICROCRED_DATABASE_URL": settings.resolved_database_url,
        "MICROCRED_PUBLIC_BASE_URL": settings.public_base_url,
    }
    rng = random.Random(7)
    kills = 0
    while kills < 10 and _award_count(platform)[0] < total:
        before = _award_count(platform)[0]
        target = before + rng.randint(1, 8) * 15  # kill somewhere inside a later batch
        process = _bulk_cli(env, source, microcredential.id)
        deadline = time.monotonic() + 60
        while process.poll() is None and _award_count(platform)[0] < target and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
    final = _bulk_cli(env, source, microcredential.id)
    assert final.wait(timeout=300) == 0
    assert kills == 10
    awards = platform.awards.list_awards(limit=2 * total)
    assert len(awards) == total and len({a.external_id for a in awards}) == total
    assert _award_count(platform) == (total, total)
