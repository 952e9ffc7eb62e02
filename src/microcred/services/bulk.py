"""Bulk awarding from CSV or JSONL: streaming, idempotent, resumable, signed across cores.

Rows are read and validated one at a time; good rows are awarded in batches,
each batch one transaction (indexes, awards, audit), so a crash or a kill
loses at most the batch in flight and a rerun of the same file issues nothing
twice (every row has a key). Bad rows go to an errors file with their line
number and reason while the good rows are issued.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microcred.errors import InputError, MicrocredError, SigningError, UsageError
from microcred.services.awarding import AwardOutcome, AwardRequest, AwardService, PendingAward
from microcred.services.issuing import Runtime, active_key, did_document
from microcred.services.signing import sign_chunk
from microcred.standards.dates import parse_expiry
from microcred.storage import models

COLUMNS = ("email", "name", "external_id", "evidence_url", "narrative", "grade", "valid_until", "microcredential")
MAX_ROW_BYTES = 64 * 1024
BATCH = 500


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str
    raw: str


@dataclass(slots=True)
class BulkProgress:
    job_id: str
    total: int | None
    processed: int = 0
    issued: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)  # not yet saved; flushed every batch


Row = tuple[int, AwardRequest | RowError, str]  # line number, request or error, the row as written


def read_rows(path: Path, default_microcredential: str | None) -> Iterator[Row]:
    """(line number, request or error, the row's text) for every data row, streaming."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        first = handle.read(1)
        handle.seek(0)
        if first in "{[" and first:
            yield from _jsonl(handle, default_microcredential)
        else:
            yield from _csv(handle, default_microcredential)


def _csv(handle: io.TextIOBase, default: str | None) -> Iterator[Row]:
    reader = csv.DictReader(handle)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "email" not in header:
        raise InputError("the CSV needs a header row with at least an 'email' column")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise InputError(f"unknown CSV column(s): {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    for row in reader:
        line = reader.line_num
        raw = ",".join(str(v) for v in row.values() if v is not None)
        if None in row:
            yield line, RowError(line, "more fields than the header has columns", raw), raw
            continue
        yield line, _request({k: (v or "").strip() for k, v in row.items()}, default, line, raw), raw


def _jsonl(handle: io.TextIOBase, default: str | None) -> Iterator[Row]:
    for line, text in enumerate(handle, start=1):
        if text.strip():
            raw = text.strip()[:4000]
            yield line, _jsonl_row(text, default, line), raw


def _jsonl_row(text: str, default: str | None, line: int) -> AwardRequest | RowError:
    if len(text) > MAX_ROW_BYTES:
        return RowError(line, "row longer than 64 KB", text[:200])
    try:
        data = json.loads(text)
    except ValueError as exc:
        return RowError(line, f"not JSON: {exc}", text.strip())
    if not isinstance(data, dict):
        return RowError(line, "a JSONL row must be a JSON object", text.strip())
    unknown = sorted(set(data) - set(COLUMNS))
    if unknown:
        return RowError(line, f"unknown field(s): {', '.join(unknown)}", text.strip())
    return _request({k: "" if v is None else str(v).strip() for k, v in data.items()}, default, line, text.strip())


def _request(row: dict[str, str], default: str | None, line: int, raw: str) -> AwardRequest | RowError:
    microcredential = row.get("microcredential") or default
    if not microcredential:
        return RowError(line, "no microcredential: give the column or --microcredential", raw)
    if not row.get("email"):
        return RowError(line, "email is required", raw)
    try:
        until = parse_expiry(row["valid_until"]) if row.get("valid_until") else None
    except InputError as exc:
        return RowError(line, f"valid_until: {exc.message}", raw)
    evidence = row.get("evidence_url") or None
    if evidence and not evidence.startswith(("https://", "http://")):
        return RowError(line, f"evidence_url {evidence!r} is not an http(s) URL", raw)
    return AwardRequest(
        microcredential, row["email"], row.get("name") or None, row.get("external_id") or None,
        evidence, row.get("narrative") or None, row.get("grade") or None, until,
    )  # fmt: skip


def count_rows(path: Path) -> int:
    """Data rows, for the progress bar (a quick pass over the file)."""
    with path.open("rb") as handle:
        lines = sum(1 for raw in handle if raw.strip())
    with path.open("r", encoding="utf-8-sig") as handle:
        first = handle.read(1)
    return lines if first in "{[" and first else max(lines - 1, 0)


class BulkService:
    def __init__(self, runtime: Runtime, awards: AwardService) -> None:
        self.runtime = runtime
        self.awards = awards

    def start(
        self,
        path: Path,
        *,
        microcredential: str | None = None,
        actor: str = "api",
        organisation_id: int | None = None,
        on_issued: Callable[[list[PendingAward]], None] | None = None,
    ) -> str:
        """Run a job in a background thread (for the API); its progress is in the job record."""
        import threading

        ready = threading.Event()
        job: list[str] = []

        def announce(progress: BulkProgress) -> None:
            if not job:
                job.append(progress.job_id)
                ready.set()

        def work() -> None:
            try:
                self.run(
                    path,
                    microcredential=microcredential,
                    workers=1,
                    on_progress=announce,
                    on_start=announce,
                    actor=actor,
                    organisation_id=organisation_id,
                    on_issued=on_issued,
                )
            except MicrocredError:
                pass  # recorded in the job: state "failed" with the message
            finally:
                ready.set()

        threading.Thread(target=work, name="bulk-job", daemon=True).start()
        ready.wait(timeout=30)
        if not job:
            raise UsageError(f"the bulk job for {path.name} could not start")
        return job[0]

    def run(
        self,
        path: Path,
        *,
        microcredential: str | None = None,
        errors_path: Path | None = None,
        workers: int | None = None,
        batch_size: int = BATCH,
        on_progress: Callable[[BulkProgress], None] | None = None,
        on_start: Callable[[BulkProgress], None] | None = None,
        actor: str = "cli",
        organisation_id: int | None = None,
        on_issued: Callable[[list[PendingAward]], None] | None = None,
    ) -> BulkProgress:
        if not path.is_file():
            raise UsageError(f"cannot read {path}")
        progress = BulkProgress(self._start_job(path, actor, organisation_id), count_rows(path))
        if on_start:
            on_start(progress)
        workers = workers or os.cpu_count() or 1
        with _ErrorsFile(errors_path) as errors_file:
            try:
                with _executor(workers) as pool:
                    self._process(
                        path, microcredential, progress, pool, workers, batch_size, on_progress, errors_file,
                        actor, on_issued,
                    )  # fmt: skip
            except BrokenProcessPool as exc:
                self._finish_job(progress, "failed", "a signing worker died", errors_file)
                raise SigningError(
                    "a signing worker process died; rerun the same file to resume (nothing is issued twice)"
                ) from exc
            except MicrocredError as exc:
                self._finish_job(progress, "failed", exc.message, errors_file)
                raise
            self._finish_job(progress, "finished", None, errors_file)
        return progress

    def _process(
        self,
        path: Path,
        default_mc: str | None,
        progress: BulkProgress,
        pool: Executor | None,
        workers: int,
        batch_size: int,
        on_progress: Callable[[BulkProgress], None] | None,
        errors_file: _ErrorsFile,
        actor: str = "cli",
        on_issued: Callable[[list[PendingAward]], None] | None = None,
    ) -> None:
        batch: list[tuple[int, AwardRequest, str]] = []
        for line, item, raw in read_rows(path, default_mc):
            if isinstance(item, RowError):
                self._failed(progress, item)
            else:
                batch.append((line, item, raw))
            if len(batch) >= batch_size:
                self._award_batch(batch, progress, pool, workers, actor, on_issued)
                batch = []
                self._save_job(progress, errors_file)
                if on_progress:
                    on_progress(progress)
        if batch:
            self._award_batch(batch, progress, pool, workers, actor, on_issued)
        self._save_job(progress, errors_file)
        if on_progress:
            on_progress(progress)

    def _failed(self, progress: BulkProgress, error: RowError) -> None:
        progress.failed += 1
        progress.processed += 1
        progress.errors.append(error)

    def _award_batch(
        self,
        batch: list[tuple[int, AwardRequest, str]],
        progress: BulkProgress,
        pool: Executor | None,
        workers: int,
        actor: str,
        on_issued: Callable[[list[PendingAward]], None] | None = None,
    ) -> None:
        with self.runtime.db.transaction() as repo:
            pending: list[PendingAward] = []
            prepared_rows = self.awards.prepare_many(repo, [request for _, request, _raw in batch])
            for (line, _, raw), prepared in zip(batch, prepared_rows, strict=True):
                if isinstance(prepared, InputError):
                    self._failed(progress, RowError(line, prepared.message, raw))  # the row as the file has it
                    continue
                progress.processed += 1
                if isinstance(prepared, AwardOutcome):
                    progress.skipped += 1
                else:
                    pending.append(prepared)
            signed: list[tuple[PendingAward, str]] = []
            for item in self._signed(repo, pending, pool, workers):
                signed.append(item)
                if len(signed) >= 100:
                    self.awards.store_many(repo, signed, actor)
                    signed = []
            self.awards.store_many(repo, signed, actor)
            progress.issued += len(pending)
        if on_issued and pending:
            on_issued(pending)  # after the commit: recipients are told only about awards that exist
        for issued in pending:
            self.awards.notify(issued.email, issued.version.microcredential_id)

    def _signed(
        self, repo: Any, pending: list[PendingAward], pool: Executor | None, workers: int
    ) -> Iterator[tuple[PendingAward, str]]:
        """(pending award, signed JSON) in chunks as workers finish them, so storing overlaps signing."""
        created = self.runtime.clock.now().isoformat()
        by_issuer: dict[int, list[PendingAward]] = {}
        for item in pending:
            by_issuer.setdefault(item.issuer.id, []).append(item)
        for items in by_issuer.values():
            issuer = items[0].issuer
            vm, pair = active_key(repo, self.runtime, issuer)
            args = (pair.seed, vm, did_document(repo, issuer), issuer.default_suite, created)
            if pool is None:
                yield from zip(items, sign_chunk(*args, [i.credential for i in items]), strict=True)
                continue
            size = max(8, len(items) // (workers * 4))
            chunks = [items[i : i + size] for i in range(0, len(items), size)]
            futures = [pool.submit(sign_chunk, *args, [i.credential for i in chunk]) for chunk in chunks]
            for chunk, future in zip(chunks, futures, strict=True):
                yield from zip(chunk, future.result(), strict=True)

    # -- job records -----------------------------------------------------------
    def _start_job(self, path: Path, actor: str, organisation_id: int | None) -> str:
        job_id = str(uuid.uuid4())
        with self.runtime.db.transaction() as repo:
            repo.add(
                models.BulkJob(
                    id=job_id,
                    organisation_id=organisation_id,
                    source=path.name[:500],
                    state="running",
                    total=None,
                    processed=0,
                    issued=0,
                    skipped=0,
                    failed=0,
                    message=None,
                    started_at=self.runtime.clock.now(),
                    finished_at=None,
                )
            )
            self.runtime.audit(repo, actor, "bulk.start", None, job_id, source=path.name)
        return job_id

    def _save_job(self, progress: BulkProgress, errors_file: _ErrorsFile) -> None:
        with self.runtime.db.transaction() as repo:
            job = repo.bulk_job(progress.job_id)
            assert job is not None
            job.total, job.processed, job.issued, job.skipped, job.failed = (
                progress.total,
                progress.processed,
                progress.issued,
                progress.skipped,
                progress.failed,
            )
            for error in progress.errors:
                repo.add(
                    models.BulkJobError(
                        job_id=progress.job_id, line=error.line, reason=error.reason[:2000], row=error.raw[:4000]
                    )
                )
        errors_file.write(progress.errors)
        progress.errors = []

    def _finish_job(self, progress: BulkProgress, state: str, message: str | None, errors_file: _ErrorsFile) -> None:
        self._save_job(progress, errors_file)
        with self.runtime.db.transaction() as repo:
            job = repo.bulk_job(progress.job_id)
            assert job is not None
            job.state, job.message, job.finished_at = state, message, self.runtime.clock.now()
            self.runtime.audit(
                repo,
                "cli",
                f"bulk.{state}",
                None,
                progress.job_id,
                issued=progress.issued,
                skipped=progress.skipped,
                failed=progress.failed,
            )


class _NoPool:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _executor(workers: int) -> Any:
    if workers <= 1:
        return _NoPool()
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


class _ErrorsFile:
    """The errors file, written as rows fail (so memory stays flat however many fail)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._handle: Any = None
        self._writer: Any = None

    def __enter__(self) -> _ErrorsFile:
        if self.path is not None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "reason", "row"])
        return self

    def write(self, errors: list[RowError]) -> None:
        if self._writer is not None:
            for error in sorted(errors, key=lambda e: e.line):
                self._writer.writerow([error.line, error.reason, error.raw])
            self._handle.flush()

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
