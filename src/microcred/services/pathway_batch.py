"""Evaluating every learner against every pathway at once (after a pathway is created or changed,
or to catch up): awards are streamed from the database ordered by learner, each learner is
evaluated only against the pathways their credentials count toward, in worker processes when
asked, and the learners who newly satisfy a pathway are settled (roll-up issued or queued)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microcred.domain.pathway_progress import evaluate
from microcred.domain.pathways import Holding, LeafKey, PartInfo, Pathway

CHUNK = 2_000
Row = tuple[Any, ...]  # (email, version id, issued_at, valid_until, revoked, suspended, award id)


@dataclass
class BatchResult:
    learners: int = 0
    evaluations: int = 0
    satisfied: int = 0
    newly_satisfied: int = 0
    settled: int = 0


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Everything a worker needs, sent once: pathways, parts by version, the leaf index."""

    pathways: dict[str, Pathway]
    parts: dict[LeafKey, PartInfo]
    versions: dict[int, tuple[LeafKey, PartInfo]]
    index: dict[LeafKey, set[str]]
    base_url: str
    at: datetime


_CATALOGUE: Catalogue | None = None
_MEMO: dict[int, dict[Any, Any]] = {}  # per catalogue: results of leaves nobody holds (a catalogue outlives its memo)


def _init(catalogue: Catalogue) -> None:
    global _CATALOGUE
    _CATALOGUE = catalogue
    _MEMO.clear()


def evaluate_chunk(learners: list[tuple[str, list[Row]]], catalogue: Catalogue | None = None) -> list[Any]:
    """(email, pathway id, satisfied) for every relevant pair of a chunk of learners."""
    cat = catalogue or _CATALOGUE
    assert cat is not None
    memo = _MEMO.setdefault(id(cat), {})
    out = []
    for email, rows in learners:
        held = []
        for _email, version_id, issued_at, valid_until, revoked, suspended, award_id in rows:
            found = cat.versions.get(version_id)
            if found is None:
                continue  # a version created after the run began: the award's own re-evaluation covers it
            key, info = found
            state = "revoked" if revoked else "suspended" if suspended else "active"
            held.append(Holding(key, f"{cat.base_url}/credentials/{award_id}", issued_at, valid_until, state,
                                info.ects, info.hours, info.skills, "", info.name))  # fmt: skip
        relevant: set[str] = set()
        for holding in held:
            relevant |= cat.index.get(holding.key, set())
        for pathway_id in sorted(relevant):
            progress = evaluate(
                cat.pathways[pathway_id], held, cat.at, cat.parts, cat.pathways, explain=False, memo=memo
            )
            out.append((email, pathway_id, progress.satisfied))
    return out


def by_learner(rows: Iterator[Row]) -> Iterator[tuple[str, list[Row]]]:
    for email, group in itertools.groupby(rows, key=lambda row: row[0]):
        yield email, list(group)


def run(
    catalogue: Catalogue,
    rows: Iterator[Row],
    known: set[tuple[str, str]],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[BatchResult, list[tuple[str, str]]]:
    """Evaluate everyone; the (email, pathway) pairs satisfied now and not settled before come back."""
    result, fresh = BatchResult(), []
    chunks = _chunks(by_learner(rows), result)
    if workers > 1:
        with ProcessPoolExecutor(workers, initializer=_init, initargs=(catalogue,)) as pool:
            fresh = _collect(_bounded(pool, chunks, 2 * workers), known, result, progress)
    else:
        fresh = _collect((evaluate_chunk(c, catalogue) for c in chunks), known, result, progress)
    return result, fresh


def _bounded(pool: ProcessPoolExecutor, chunks: Iterator[list[Any]], window: int) -> Iterator[list[Any]]:
    """Results in order, with at most `window` chunks in flight (pool.map would read every row first)."""
    pending: deque[Future[list[Any]]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(evaluate_chunk, chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _chunks(learners: Iterator[tuple[str, list[Row]]], result: BatchResult) -> Iterator[list[Any]]:
    while True:
        chunk = list(itertools.islice(learners, CHUNK))
        if not chunk:
            return
        result.learners += len(chunk)
        yield chunk


def _collect(
    outcomes: Any, known: set[tuple[str, str]], result: BatchResult, progress: Callable[[int], None] | None
) -> list[tuple[str, str]]:
    fresh = []
    for outcome in outcomes:
        for email, pathway_id, satisfied in outcome:
            result.evaluations += 1
            if satisfied:
                result.satisfied += 1
                if (pathway_id, email) not in known:
                    fresh.append((email, pathway_id))
        if progress is not None:
            progress(result.learners)
    result.newly_satisfied = len(fresh)
    return fresh
