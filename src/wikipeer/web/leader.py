"""Which of a node's serving processes runs its background work: the one holding ``DIR/serve.lock``.

The search indexer, gossip and the sync loop must run once per node, not
once per worker: two indexers would do the same work twice and fight for the
write lock. Every worker asks for an exclusive ``flock`` on the lock file;
the one that gets it runs the loops, the others ask again every
``RETRY_SECONDS``, so when the leader dies (the kernel drops its lock with
it) another worker takes the work over. A lock file covers the processes of
one machine: several machines on one cluster store each elect their own
leader, so each runs the loops (docs/scale-workers.md).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path

LOCK_FILE = "serve.lock"
RETRY_SECONDS = 1.0


def take_lock(path: Path) -> int | None:
    """An open descriptor holding the exclusive lock on ``path`` (kept open while held), or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def lead_when_elected(node_dir: Path, stop: threading.Event, start: Callable[[], None]) -> threading.Thread:
    """A thread that calls ``start()`` once this process holds the node's lock (at once, if no one else does).

    The lock stays held until the process exits; ``stop`` ends the waiting.
    """
    def wait_for_lock() -> None:
        while not stop.is_set():
            if take_lock(node_dir / LOCK_FILE) is not None:
                start()
                return
            stop.wait(RETRY_SECONDS)

    thread = threading.Thread(target=wait_for_lock, daemon=True, name="leader")
    thread.start()
    return thread
