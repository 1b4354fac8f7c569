"""`wikipeer serve --workers N`: N processes answering on one listening socket, kept at N until stopped.

The socket is bound once, before the workers are forked: each inherits it and
the kernel hands every new connection to one of them. The supervisor (the
process the user started) forks after the modules are imported, so a worker
starts without importing them again and shares their pages with the others
(it still opens the node and builds the app: about a second on a loaded machine); it opens
nothing of the node itself before forking (``run_worker`` opens the node in
the child: no SQLite connection crosses a fork) and runs no threads, so a
replacement forked later inherits no lock some thread held.

Signals are taken synchronously (``sigwaitinfo`` on a blocked set), not in
handlers: SIGINT or SIGTERM stops every worker (SIGTERM, then SIGKILL for one
that has not stopped within ``STOP_SECONDS``), SIGCHLD replaces a worker that
died. Workers run in a process group of their own, so a Ctrl-C on the
terminal reaches the supervisor alone, which stops them gracefully once; and
they ask the kernel for SIGTERM should the supervisor itself die, so no
worker outlives it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STOP_SECONDS = 10.0
"""How long stopping workers may take to finish their requests before they are killed."""
QUICK_DEATH_SECONDS = 2.0
QUICK_DEATHS = 3
"""A worker that dies this soon after it started, this many times in a row, cannot start: give up, do not loop."""
WORKER_HEADER = b"x-wikipeer-worker"

_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}
_PR_SET_PDEATHSIG = 1


class WorkerHeader:
    """ASGI middleware: every response names the worker process that made it (``x-wikipeer-worker: PID``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (WORKER_HEADER, str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, named)


@dataclass(slots=True)
class _Worker:
    slot: int
    started: float


class Supervisor:
    """Forks ``count`` workers running ``run_worker(slot)``, replaces those that die, stops them all on a signal."""

    def __init__(self, count: int, run_worker: Callable[[int], int],
                 say: Callable[[str], None] = lambda message: print(f"wikipeer: {message}", file=sys.stderr)) -> None:
        self.count, self.run_worker, self.say = count, run_worker, say
        self.workers: dict[int, _Worker] = {}
        self.quick_deaths = 0

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM (exit 0), or until workers cannot start (exit 1)."""
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            for slot in range(self.count):
                self._fork(slot, old_mask)
            code = self._watch(old_mask)
            self._stop_all()
            return code
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def _watch(self, old_mask: set) -> int:
        while True:
            info = signal.sigwaitinfo(_SIGNALS)
            if info.si_signo != signal.SIGCHLD:
                return 0
            for pid, worker, status in self._reaped():
                if not self._replace(worker, pid, status, old_mask):
                    return 1

    def _reaped(self) -> list[tuple[int, _Worker, int]]:
        """Every worker that exited since the last look (one SIGCHLD may stand for several), no longer counted."""
        gone = []
        while self.workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid in self.workers:
                gone.append((pid, self.workers.pop(pid), status))
        return gone

    def _replace(self, worker: _Worker, pid: int, status: int, old_mask: set) -> bool:
        """Fork a worker in place of one that died; False when workers die as they start (give up)."""
        quick = time.monotonic() - worker.started < QUICK_DEATH_SECONDS
        self.quick_deaths = self.quick_deaths + 1 if quick else 0
        how = _how_it_ended(status)
        if self.quick_deaths >= QUICK_DEATHS:
            self.say(f"worker {pid} {how} as it started, {QUICK_DEATHS} times in a row: stopping (its error is above)")
            return False
        new = self._fork(worker.slot, old_mask)
        self.say(f"worker {pid} {how}; worker {new} serves in its place")
        return True

    def _fork(self, slot: int, old_mask: set) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os._exit(_child(slot, parent, old_mask, self.run_worker))
        self.workers[pid] = _Worker(slot, time.monotonic())
        return pid

    def _stop_all(self) -> None:
        """SIGTERM to every worker, then SIGKILL to those still there after STOP_SECONDS (or a second
        SIGINT/SIGTERM); every one reaped before this returns."""
        self._send_all(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while True:
            self._reaped()
            if not self.workers:
                return
            left = deadline - time.monotonic()
            info = signal.sigtimedwait(_SIGNALS, left) if left > 0 else None
            if info is None or info.si_signo != signal.SIGCHLD:  # out of time, or asked again: no more waiting
                self._send_all(signal.SIGKILL)
                deadline = time.monotonic() + 3600  # SIGKILL cannot be refused: they go at once

    def _send_all(self, signum: int) -> None:
        for pid in self.workers:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass  # exited meanwhile: reaped at the next look


def _child(slot: int, parent: int, old_mask: set, run_worker: Callable[[int], int]) -> int:
    """A worker's life after the fork: its own process group and signal mask, gone with its parent."""
    try:
        os.setpgid(0, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        _die_with_parent()
        if os.getppid() != parent:  # the supervisor died before the request above took effect
            return 1
        return run_worker(slot) or 0
    except KeyboardInterrupt:
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - a forked child must never return into the parent's code
        print(f"wikipeer: worker {os.getpid()}: {exc}", file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _die_with_parent() -> None:
    """Ask Linux for SIGTERM when the supervisor dies (elsewhere there is no such request: skip it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"
