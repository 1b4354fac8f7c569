"""Signed requests' nonces, and counts of the signed requests refused, kept in the store.

In the store, not in a process: with several serving processes on one store
(``serve --workers N``) a nonce one worker saw must be refused by the others
too. A nonce is kept until its request could no longer pass the date check
(``expires``); expired ones are deleted as new ones come, at most once a
minute per process, so the table holds about one row per signed request of
the last few minutes. Only requests whose signature verified get here: a
stranger cannot fill it with made-up nonces.

Refusals are counted in memory and written at most once per ``COUNT_EVERY``
seconds (a timer writes what a burst left): a flood of forged requests costs
a signature check each, not a write transaction each.

The tables are made on first use (their own ``CREATE TABLE IF NOT EXISTS``),
so a store from before signed requests needs no migration.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from wikipeer.errors import WikipeerError
from wikipeer.store.store import Store

_TABLES = (
    "CREATE TABLE IF NOT EXISTS request_nonces(nonce TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS request_nonces_by_expiry ON request_nonces(expires)",
    "CREATE TABLE IF NOT EXISTS request_refusals(reason TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID",
)
PURGE_EVERY = 60.0
COUNT_EVERY = 1.0


class Nonces:
    """The nonces and refusal counts of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._made = False
        self._purged = 0.0
        self._lock = threading.Lock()
        self._uncounted: dict[str, int] = {}
        self._timer: threading.Timer | None = None

    def _conn(self) -> sqlite3.Connection:
        conn = self.store.conn
        if not self._made:
            with conn:
                for statement in _TABLES:
                    conn.execute(statement)
            self._made = True
        return conn

    def first_use(self, key: str, nonce: str, expires: int, now: float | None = None) -> bool:
        """Remember ``key``'s ``nonce`` until ``expires`` (Unix seconds); False when it was seen already."""
        now = time.time() if now is None else now
        conn = self._conn()
        with conn:
            if now - self._purged > PURGE_EVERY:
                with self._lock:
                    self._purged = now
                conn.execute("DELETE FROM request_nonces WHERE expires < ?", (int(now),))
            added = conn.execute("INSERT OR IGNORE INTO request_nonces VALUES (?, ?)", (f"{key} {nonce}", expires))
        return added.rowcount == 1

    def count_refusal(self, reason: str) -> None:
        """Count one signed request refused for ``reason`` (in the store within COUNT_EVERY seconds)."""
        with self._lock:
            self._uncounted[reason] = self._uncounted.get(reason, 0) + 1
            if self._timer is None:
                self._timer = threading.Timer(COUNT_EVERY, self._write_counts)
                self._timer.daemon = True
                self._timer.start()

    def _write_counts(self) -> None:
        with self._lock:
            counts, self._uncounted, self._timer = self._uncounted, {}, None
        try:
            conn = self._conn()
            try:
                with conn:
                    for reason, n in counts.items():
                        conn.execute("INSERT INTO request_refusals VALUES (?, ?) ON CONFLICT(reason) "
                                     "DO UPDATE SET count = count + excluded.count", (reason, n))
            finally:
                conn.close()  # the timer's thread ends here: its connection with it
        except (sqlite3.Error, WikipeerError):  # busy, or the server away: written with the next refusals
            with self._lock:
                for reason, n in counts.items():
                    self._uncounted[reason] = self._uncounted.get(reason, 0) + n

    def refusals(self) -> dict[str, int]:
        """How many signed requests were refused, by reason."""
        try:  # read without making the tables: a node that never served has none
            return dict(self.store.conn.execute("SELECT reason, count FROM request_refusals ORDER BY reason"))
        except sqlite3.OperationalError:
            return {}
