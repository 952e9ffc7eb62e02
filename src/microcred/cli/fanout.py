"""One command over many files, on every core: `sign` and `verify` fan out to forked workers.

Signing and verifying are pure computation on one process; over hundreds of files a 2-core machine
sat half idle. Workers are forked after the first file is done in this process, so they start with the
contexts loaded and the caches warm (a fork costs milliseconds; a fresh interpreter would re-import
everything). This process works too: every process takes the next chunk of items from one shared
counter, so a busy or slow one simply takes fewer, and there is no extra process competing with the
workers for the cores (a multiprocessing pool, with its parent and its threads, got 1.3-1.5x of two
cores). Results come back in input order and the command writes them, so its output is what one
process would write: the same files, the same order, and nothing past the first input that fails.

Forking is used only where it is safe: on platforms that have it, when the work holds no database
connection or network client (the callers say so), and for enough files to pay for itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import multiprocessing
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from microcred.errors import MicrocredError

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS = 24  # below this, forking costs more than it saves
_CHUNK = 8
_PIPE_BYTES = 1 << 20  # room for a worker to run well ahead of the writer
_FRAME = struct.Struct("<Q")
_INDEX = struct.Struct("<I")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ordered(
    job: Callable[[Item], Result], items: Sequence[Item], *, parallel: bool = True, workers: int | None = None
) -> Iterator[Result]:
    """job(item) for each item, in order; a MicrocredError is raised where its item comes, as a loop
    would raise it. `workers` processes share the work (this one included) when `parallel` and the
    items are many."""
    workers = workers or cores()
    if not (parallel and workers > 1 and len(items) >= MIN_ITEMS and _can_fork()):
        yield from map(job, items)
        return
    yield job(items[0])  # in this process: loads what the workers will inherit, fails early
    yield from _Shared(job, items[1:], workers).results()


def _can_fork() -> bool:
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


Outcome = tuple[bool, list[Any]]  # (all done, the results so far); a failure is the last result


class _Shared:
    """Chunks of the items, taken in turn by this process and its forked workers from one pipe that
    holds every chunk's number (a pipe, not a lock in shared memory: a worker killed while taking
    cannot leave the others waiting forever); each worker sends its chunks' outcomes back through a
    pipe of its own."""

    def __init__(self, job: Callable[[Any], Any], items: Sequence[Any], workers: int) -> None:
        self.job = job
        self.workers = workers
        self.tasks, write = os.pipe()
        try:
            capacity = _INDEX.size * 1024  # the smallest pipe POSIX allows: 4 KB
            with contextlib.suppress(OSError):
                capacity = fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
            size = max(_CHUNK, -(-len(items) * _INDEX.size // capacity))  # every number fits at once
            self.chunks = [items[i : i + size] for i in range(0, len(items), size)]
            os.write(write, b"".join(_INDEX.pack(n) for n in range(len(self.chunks))))
        finally:
            os.close(write)  # once the numbers are read, a read gets end of file

    def take(self) -> int | None:
        """The next chunk's number, or None when every chunk has been taken."""
        data = os.read(self.tasks, _INDEX.size)  # a read of 4 bytes takes one whole number
        return _INDEX.unpack(data)[0] if data else None

    def run_chunk(self, index: int) -> Outcome:
        done: list[Any] = []
        for item in self.chunks[index]:
            try:
                done.append(self.job(item))
            except MicrocredError as exc:
                done.append(exc)
                return False, done
        return True, done

    def results(self) -> Iterator[Any]:
        # Frozen objects are never traversed by the collector, so the workers do not copy every page
        # of the heap they inherit the first time they collect.
        gc.freeze()
        children: dict[int, int] = {}  # read end -> pid
        try:
            for _ in range(self.workers - 1):
                read, pid = self._fork()
                children[read] = pid
            yield from self._collect(children)
        finally:
            gc.unfreeze()
            os.close(self.tasks)
            for read, pid in children.items():
                os.close(read)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

    def _fork(self) -> tuple[int, int]:
        read, write = os.pipe()
        with contextlib.suppress(OSError):  # a bigger pipe is an optimisation, not a need
            fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 1
            try:
                os.close(read)
                self._work(write)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        os.set_blocking(read, False)
        return read, pid

    def _work(self, write: int) -> None:
        while (index := self.take()) is not None:
            try:
                outcome = self.run_chunk(index)
                frame = pickle.dumps((index, outcome), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # a bug: raised in the command, as in one process
                frame = pickle.dumps((index, (False, [_picklable(exc)])), pickle.HIGHEST_PROTOCOL)
            data = memoryview(_FRAME.pack(len(frame)) + frame)
            while data:
                data = data[os.write(write, data) :]

    def _collect(self, children: dict[int, int]) -> Iterator[Any]:
        finished: dict[int, Outcome] = {}
        buffers = {read: bytearray() for read in children}
        for wanted in range(len(self.chunks)):
            while wanted not in finished:
                self._drain(buffers, finished, wait=False)
                if wanted in finished:
                    break
                index = self.take()
                if index is not None:
                    finished[index] = self.run_chunk(index)
                elif not buffers:
                    raise MicrocredError("a worker process stopped before it finished its part of the work")
                else:
                    self._drain(buffers, finished, wait=True)
            complete, done = finished.pop(wanted)
            if not complete:
                yield from done[:-1]
                raise done[-1]
            yield from done

    @staticmethod
    def _drain(buffers: dict[int, bytearray], finished: dict[int, Outcome], *, wait: bool) -> None:
        """Read what the workers have sent; with `wait`, block until one sends or ends."""
        readable = select.select(list(buffers), [], [])[0] if wait else list(buffers)
        for read in readable:
            buffer = buffers[read]
            while True:
                try:
                    data = os.read(read, _PIPE_BYTES)
                except BlockingIOError:
                    break
                if not data:  # the worker ended; what it finished has been read
                    del buffers[read]
                    break
                buffer += data
            while len(buffer) >= _FRAME.size:
                (size,) = _FRAME.unpack_from(buffer)
                if len(buffer) < _FRAME.size + size:
                    break
                # from our own forked worker, over a pipe no one else holds
                index, outcome = pickle.loads(buffer[_FRAME.size : _FRAME.size + size])  # noqa: S301
                del buffer[: _FRAME.size + size]
                finished[index] = outcome


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.dumps(exc)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
