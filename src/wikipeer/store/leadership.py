"""Which process leads a node's background work (search indexer, gossip, the sync loop).

Those loops must run once per store, not once per serving process. A SQLite store is served from one
machine: the leader is the process holding an exclusive ``flock`` on ``serve.lock`` beside the store. A
PostgreSQL store may be served by several machines at once: the leader is the session holding an advisory
lock in the database. Either way the kernel or the server drops the lock when its holder dies, so another
process can take the lead over (web/leader.py asks again every second). A PostgreSQL lock is also lost
while its holder lives, when its connection breaks (a server restart, ``pg_terminate_backend``): the
leader asks ``held()`` every second and steps down when it says no.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Protocol

from wikipeer.store.store import Store

LOCK_FILE = "serve.lock"
LEAD_LOCK = 0x6C656164  # "lead": the session advisory lock of a PostgreSQL store's leader


class Lead(Protocol):
    """Held while this process leads; closing it lets another lead."""

    def held(self) -> bool:
        """Whether the lock is still this process's (False once lost: stop leading)."""
        ...

    def close(self) -> None: ...


class _LockFile:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def held(self) -> bool:
        return True  # a flock lasts as long as the open file, which only close() ends

    def close(self) -> None:
        os.close(self.fd)


def take_lock(path: Path) -> _LockFile | None:
    """The exclusive lock on ``path`` (held while the returned lock stays open), or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return _LockFile(fd)


def take_lead(store: Store) -> Lead | None:
    """This process's lead over ``store``'s background work, or None while another process leads."""
    if store.database is None:
        return take_lock(store.path.parent / LOCK_FILE)
    from wikipeer.store.postgres.connection import session_lock  # psycopg only for a PostgreSQL store

    return session_lock(store.database, LEAD_LOCK)
