"""One command over many files, on every core: `sign` and `verify` fan out to forked workers.

Signing and verifying are pure computation on one process; over hundreds of files a 2-core machine
sat half idle. Workers are forked after the first file is done in this process, so they start with the
contexts loaded and the caches warm (a fork costs milliseconds; a fresh interpreter would re-import
everything). Results come back in input order and the command writes them, so its output is what
one process would write: the same files, the same order, and nothing past the first input that fails.

Forking is used only where it is safe: on platforms that have it, when the work holds no database
connection or network client (the callers say so), and for enough files to pay for itself.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from microcred.errors import MicrocredError

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS = 24  # below this, forking costs more than it saves
_CHUNK = 8

_job: Callable[[Any], Any] | None = None  # set before forking: the workers inherit it


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ordered(
    job: Callable[[Item], Result], items: Sequence[Item], *, parallel: bool = True, workers: int | None = None
) -> Iterator[Result]:
    """job(item) for each item, in order; a MicrocredError is raised where its item comes, as a loop
    would raise it. Workers are used when `parallel` and the items are many."""
    workers = workers or cores()
    if not (parallel and workers > 1 and len(items) >= MIN_ITEMS and _can_fork()):
        yield from map(job, items)
        return
    yield job(items[0])  # in this process: loads what the workers will inherit, fails early
    yield from _forked(job, items[1:], workers)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _forked(job: Callable[[Item], Result], items: Sequence[Item], workers: int) -> Iterator[Result]:
    global _job
    _job = job
    # Frozen objects are never traversed by the collector, so the workers do not copy every page of
    # the heap they inherit the first time they collect.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for ok, value in pool.imap(_run, items, chunksize=_CHUNK):
                if not ok:
                    raise value
                yield value
    finally:
        _job = None
        gc.unfreeze()


def _run(item: Any) -> tuple[bool, Any]:
    assert _job is not None, "fanout workers are forked with a job"
    try:
        return True, _job(item)
    except MicrocredError as exc:
        return False, exc
