"""The store's log position kept in this process, told of every commit by PostgreSQL's LISTEN/NOTIFY.

A cached page view compares the store's log position (``Store.last_seq``) and a few stamps with those it
was rendered under; on PostgreSQL asking them is a round trip per view. Instead, every write transaction
that adds objects sends ``NOTIFY wikipeer_log, '<last id>'`` before it commits (connection.py; PostgreSQL
delivers it only once the transaction committed, and drops it with a rollback), and each process keeps one
listening connection (``LogListener``). Reading the position is then a ``poll`` of that connection's
socket, no round trip: whatever the server has sent by then is applied before the answer, so a view never
answers from a position older than a notification that reached this process (docs/scale-backends.md,
"The log position without a round trip").

Not a thread: a listening thread would have to win the GIL against the request being served before that
request could see the notification; polling in the caller has no such window. A thread only drains the
connection once per ``DRAIN_SECONDS`` (``_keep``): a process that serves no views for a long time would
otherwise leave its notifications unread, and PostgreSQL keeps every notification until each listener has
read it (its queue, 8 GB by default, would fill under heavy ingest elsewhere and then fail every commit).

The position is asked of the database instead (the caller's query, as before) when there is no
listening connection (it was lost: the server restarted, ``pg_terminate_backend``, a network break), while
it is opened again (at most once per ``RETRY_SECONDS``), and once per ``VERIFY_SECONDS`` in any case, so a
listening connection that dies silently (a middlebox dropping an idle connection) leaves a position at
most that old.
"""

from __future__ import annotations

import os
import select
import threading
import time
import weakref

import psycopg
from psycopg import pq

from wikipeer.store.postgres.connection import CONNECT_SECONDS, KEEPALIVES, LOG_CHANNEL as CHANNEL

CHANGED = "changed"
"""The payload of a change beyond the log (a hide); a writer's is its last object id."""
APPLICATION = "wikipeer log listener"
"""The listening connections' application_name (pg_stat_activity shows one per serving process)."""
VERIFY_SECONDS = 1.0
RETRY_SECONDS = 1.0
DRAIN_SECONDS = 30.0
_INHERITED: list[psycopg.Connection] = []
"""Listening connections a forked child inherited: kept from the garbage collector, whose PQfinish would end
the parent's session on the socket they share."""


class LogListener:
    """This process's view of one PostgreSQL store's log position and change generation (see the module)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None
        self._poll: select.poll | None = None
        self._pid = os.getpid()
        self._position = 0
        self._generation = 0
        self._asked_at = self._tried_at = float("-inf")  # never: the first call listens, then asks

    # -- what the store reads ----------------------------------------------------------------------

    def position(self) -> int | None:
        """The store's last log position as far as commits told this process, or None: ask the database
        (then report the answer with ``asked``)."""
        with self._lock:
            return self._position if self._told() else None

    def generation(self) -> int | None:
        """Goes up with every notification, own commit, re-listen and ask; None while not listening
        (whatever is cached under a generation must then be read again)."""
        with self._lock:
            return self._generation if self._told() else None

    def asked(self, position: int) -> None:
        """The position the database answered: what the notifications missed, if anything, is in it."""
        with self._lock:
            self._position = max(self._position, position)
            self._generation += 1
            self._asked_at = time.monotonic()

    def committed(self, position: int | None) -> None:
        """This process committed (objects up to ``position``, or something beyond the log when None):
        seen here at once, before any notification comes back."""
        with self._lock:
            if position is not None:
                self._position = max(self._position, position)
            self._generation += 1

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- inside ------------------------------------------------------------------------------------

    def _told(self) -> bool:
        """True when what notifications told can be answered: listening, and asked within VERIFY_SECONDS."""
        return self._listening() and time.monotonic() - self._asked_at < VERIFY_SECONDS

    def _listening(self) -> bool:
        """Apply what the listening connection received; open it when there is none (not too often)."""
        if self._pid != os.getpid():
            if self._conn is not None:
                _INHERITED.append(self._conn)  # the parent's: see _INHERITED
            self._conn, self._poll, self._pid = None, None, os.getpid()
            self._asked_at = self._tried_at = float("-inf")
        if self._conn is None and not self._listen():
            return False
        try:
            self._drain()
        except (psycopg.Error, OSError):
            self._drop()
            return False
        return True

    def _listen(self) -> bool:
        now = time.monotonic()
        if now - self._tried_at < RETRY_SECONDS:
            return False
        self._tried_at = now
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_SECONDS,
                                   application_name=APPLICATION, **KEEPALIVES)
        except psycopg.Error:
            return False
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            # After LISTEN: a commit from now on is notified, one before it is in max(id).
            last = conn.execute("SELECT coalesce(max(id), 0) FROM objects").fetchone()[0]
        except psycopg.Error:
            conn.close()
            return False
        self._conn, self._poll = conn, select.poll()
        self._poll.register(conn.pgconn.socket, select.POLLIN)
        threading.Thread(target=_keep, args=(weakref.ref(self), conn), name="wikipeer log drain",
                         daemon=True).start()
        self._position = max(self._position, last)
        self._generation += 1
        self._asked_at = now
        return True

    def _drain(self) -> None:
        assert self._conn is not None and self._poll is not None
        pgconn = self._conn.pgconn
        # Until nothing is left to read: a server ending the session sends its FATAL message first and
        # the end of the stream after it, and only reading the end raises.
        while self._poll.poll(0):
            pgconn.consume_input()
            if pgconn.status != pq.ConnStatus.OK:
                raise psycopg.OperationalError("the listening connection is gone")
            while (note := pgconn.notifies()) is not None:
                payload = note.extra.decode()
                if payload.isdigit():
                    self._position = max(self._position, int(payload))
                self._generation += 1

    def drain_idle(self, conn: psycopg.Connection) -> None:
        """Read what ``conn`` (if still the listening connection) received; the keeper's call."""
        with self._lock:
            if self._conn is conn and self._pid == os.getpid():
                try:
                    self._drain()
                except (psycopg.Error, OSError):
                    self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn, self._poll = None, None


def _keep(listener: weakref.ref[LogListener], conn: psycopg.Connection) -> None:
    """Drain ``conn`` once per DRAIN_SECONDS while it is its listener's connection (see the module)."""
    while not conn.closed:
        time.sleep(DRAIN_SECONDS)
        owner = listener()
        if owner is None or owner._conn is not conn:
            return  # the listener was dropped, or listens on a new connection with a keeper of its own
        owner.drain_idle(conn)
        del owner
