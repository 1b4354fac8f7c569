"""Worker processes that run pure functions on jobs, results handed back in the order given.

The workers start by "forkserver" (the server runs threads, and a process
with threads must not fork) and there are as many as the cores this process
may use. At most ``ahead`` jobs are in flight, so memory stays bounded
however long the stream. A worker that dies (a decoder bug, the OOM killer,
a signal) breaks the pool: the job it held is run again alone in a fresh
process that reports each item before it starts on it, so the error names
the item it died on; nothing of that job reached the door.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from wikipeer.errors import WikipeerError

WORKERS_ENV = "WIKIPEER_WORKERS"
START_METHOD = "forkserver"
R = TypeVar("R")


class WorkerDied(WikipeerError):
    """A worker process died on a job: the message names the item (block, dump page) and its source."""

    exit_code = 3

    def __init__(self, message: str, item: str | None = None) -> None:
        super().__init__(message)
        self.item = item
        """The item it died on when a rerun died on it too (None: it did not die again)."""


def _succeeded(future: Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


@dataclass(slots=True)
class Job(Generic[R]):
    """One call of ``fn(*args, progress=...)`` in a worker; ``describe(i)`` names its item ``i`` in errors,
    ``what`` the whole job (used when a rerun does not die again)."""

    fn: Callable[..., R]
    args: tuple
    describe: Callable[[int], str]
    what: str
    tag: Any = None
    """Whatever the caller needs back with the result (it stays in this process)."""


def worker_count() -> int:
    """WIKIPEER_WORKERS if set, else the cores this process may run on."""
    env = os.environ.get(WORKERS_ENV)
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise WikipeerError(f"{WORKERS_ENV} must be a whole number of worker processes, not {env!r}") from None
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13
    if counter is not None:
        return counter() or 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _start_worker(parent: int) -> None:
    """In each worker: Ctrl-C is the parent's to handle, and a worker outlives no parent (even a SIGKILLed one)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        # The workers hold the forkserver's lifeline, so it ends only when they do: they must notice the
        # parent's death themselves, even while it is an unreaped zombie whose pipes are still read.
        while _alive(parent):
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: only whether it exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


class Pool:
    """A lazily started pool of worker processes (see the module's docstring)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or worker_count()
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context(START_METHOD)
                # Workers fork from a server that has the checks loaded already: each starts in milliseconds.
                context.set_forkserver_preload(["wikipeer.pipeline.prepared"])
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker,
                                                     initargs=(os.getpid(),))
            return self._executor

    def ordered(self, jobs: Iterable[Job[R]], ahead: int | None = None) -> Iterator[tuple[Job[R], R]]:
        """Run ``jobs`` in the workers, at most ``ahead`` at once; yield each with its result, in order.

        Raises WorkerDied when a worker dies on one; jobs not yet handed back are cancelled
        when the caller stops early.
        """
        ahead = ahead or self.workers + 1
        executor = self.executor()
        pending: deque[tuple[Job[R], Future]] = deque()
        try:
            for job in jobs:
                pending.append((job, executor.submit(job.fn, *job.args)))
                while len(pending) >= ahead:
                    job, future = pending.popleft()
                    yield job, future.result()
            while pending:
                job, future = pending.popleft()
                yield job, future.result()
        except BrokenProcessPool:
            self.reset()
            # ``job``: the one whose result broke, or the one that could not be handed over.
            raise self._culprit([job, *(j for j, f in pending if j is not job and not _succeeded(f))]) from None
        finally:
            for _, future in pending:
                future.cancel()

    @staticmethod
    def _culprit(jobs: list[Job]) -> WorkerDied:
        """Which of the jobs a broken pool held the dead worker was on: each run again alone, in order,
        until one dies (any of them may have been the one)."""
        first: WorkerDied | None = None
        for job in jobs:
            died = diagnose(job)
            if died.item is not None:
                return died
            first = first or died
        return first

    def reset(self) -> None:
        """Drop a broken pool; the next job starts a new one."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.reset()


def _rerun(conn: Any, fn: Callable[..., Any], args: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fn(*args, progress=conn.send)
    conn.send(-1)


def diagnose(job: Job) -> WorkerDied:
    """Run ``job`` again alone, item by item reported, and say what the worker died on."""
    context = multiprocessing.get_context(START_METHOD)
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_rerun, args=(send, job.fn, job.args), daemon=True)
    try:
        process.start()
    except OSError as exc:  # the forkserver itself is gone (killed with the worker?)
        return WorkerDied(f"a worker process died while checking {job.what}, and no new one could be started "
                          f"to find out on what ({exc}); nothing of that batch was stored: run the command again")
    send.close()
    last = None
    while True:
        try:
            last = receive.recv()
        except EOFError:
            break
        if last == -1:
            break
    process.join()
    receive.close()
    if last == -1 or last is None:
        return WorkerDied(f"a worker process died while checking {job.what}; run again alone it did not die, "
                          "so something outside killed it (out of memory?); nothing of that batch was stored: "
                          "run the command again")
    how = f"killed by signal {-process.exitcode}" if (process.exitcode or 0) < 0 else f"exit code {process.exitcode}"
    item = job.describe(last)
    return WorkerDied(f"a worker process died ({how}) on {item}: a bug in wikipeer's decoding of it; "
                      "nothing of that batch was stored; please report it with that block", item)


_shared: Pool | None = None
_shared_lock = threading.Lock()


def shared() -> Pool:
    """The process's pool, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Pool()
            atexit.register(_shared.close)
        return _shared
