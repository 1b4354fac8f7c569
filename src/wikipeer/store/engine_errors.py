"""The database engine's errors, for the few callers above the store that must catch them.

Named as PEP 249 (DB-API 2.0) names them, which every engine's Python driver follows, so a caller
says "the store could not be used" without naming the engine:

- ``Error``: any failure of the engine;
- ``DatabaseError``: the store's data cannot be used (not a database, damaged, missing tables);
- ``OperationalError``: the engine could not do it now (a lock held too long, a full disk, I/O).

A full or failing disk is told apart by ``store.disk_problem``; a lock held by another writer by
``is_busy``.
"""

from __future__ import annotations

import sqlite3

Error = sqlite3.Error
DatabaseError = sqlite3.DatabaseError
OperationalError = sqlite3.OperationalError


def is_busy(exc: BaseException) -> bool:
    """Whether the engine gave up waiting for another writer's lock (so trying again later may work)."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
