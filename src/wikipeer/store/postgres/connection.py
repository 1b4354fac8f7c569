"""A PostgreSQL connection offering the part of ``sqlite3.Connection`` the store uses.

``execute``/``executemany`` take the store's SQLite statements (translated by translate.py, once per
text), return a cursor with ``fetchone``/``fetchall``/iteration/``rowcount``/``lastrowid``, and raise
sqlite3's exception classes (``IntegrityError``, ``OperationalError``), so the store and its callers
keep one way of handling errors. A server that went away is ``ServerGone``, a one-line user error.

Transactions: autocommit, with the store's own ``BEGIN``/``COMMIT`` as in SQLite. ``BEGIN IMMEDIATE``
(a write) is ``BEGIN`` followed by ``pg_advisory_xact_lock``: one writer at a time across every process
and machine sharing the database, so ids of ``objects`` become visible in the order they were handed
out and "everything since N" stays ``id > N`` (docs/scale-backends.md). A plain ``BEGIN`` (several
reads that must see one state) is a REPEATABLE READ transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import ClientCursor, errors, pq
from psycopg.adapt import Loader

from wikipeer.store.postgres.server import ServerGone, server_name
from wikipeer.store.postgres import translate as tr

CONNECT_SECONDS = 10
LOG_CHANNEL = "wikipeer_log"
"""Where a write that added objects announces its last id as it commits (store/postgres/listen.py)."""


class _Numeric(Loader):
    """sum() and avg() over integers answer NUMERIC: an int when whole, as SQLite's would be."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return int(text) if "." not in text and "e" not in text.lower() and text.lstrip("-").isdigit() else float(text)


def connect(url: str) -> "PgConnection":
    """One connection to the database ``url``; ServerGone in one line if it cannot be reached."""
    try:
        raw = psycopg.connect(url, autocommit=True, cursor_factory=ClientCursor, connect_timeout=CONNECT_SECONDS)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ServerGone(f"cannot open the store at {server_name(url)}: {reason}") from None
    raw.adapters.register_loader("numeric", _Numeric)
    return PgConnection(raw, url)


class PgCursor:
    """The result of one statement, read as sqlite3's cursor is."""

    def __init__(self, cursor: psycopg.Cursor | None, lastrowid: int | None = None, rows: list | None = None) -> None:
        self._cursor = cursor
        self._rows = rows
        self.lastrowid = lastrowid
        self.rowcount = cursor.rowcount if cursor is not None else -1

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor is not None else None

    def fetchone(self) -> tuple | None:
        if self._rows is not None:
            return self._rows.pop(0) if self._rows else None
        if self._cursor is None or self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def fetchall(self) -> list[tuple]:
        if self._rows is not None:
            rows, self._rows = self._rows, []
            return rows
        if self._cursor is None or self._cursor.description is None:
            return []
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())


def _value(value: Any) -> Any:
    # SQLite keeps a bool as 0/1; PostgreSQL refuses a boolean into an integer column.
    return int(value) if isinstance(value, bool) else value


class PgConnection:
    """See the module docstring."""

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection, url: str) -> None:
        self.raw, self.url = raw, url
        self._tables: dict[str, tuple[list[str], list[str], str | None]] = {}
        self._writing = False
        self._objects_added = False
        self._timeout_ms = 60_000
        self._trace: Callable[[str], None] | None = None
        self.on_commit: Callable[[int | None], None] | None = None
        """Told after a commit: the last object id it added, or None when it added none but ``changed()``."""
        self._changed = False
        """Told the last object id once a write that added objects committed (the store's log listener)."""

    # -- sqlite3.Connection's interface ------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR,
                                                    pq.TransactionStatus.ACTIVE)

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def execute(self, sql: str, params: Sequence | dict = ()) -> PgCursor:
        t = tr.translate(sql)
        if t.kind == "begin_write":
            self._begin_write()
            return PgCursor(None)
        if t.kind == "begin_read":
            self._run(t.sql, ())
            return PgCursor(None)
        if t.kind == "noop":
            return PgCursor(None, rows=[(t.arg or None,)])
        if t.kind == "busy_timeout":
            if t.arg:
                self._timeout_ms = int(t.arg)
                self._run(f"SET lock_timeout = {int(t.arg)}", ())
            return PgCursor(None, rows=[(self._timeout_ms,)])
        if t.kind == "pragma_table_info":
            return self._run(t.sql, (t.arg,))
        statement = t.sql.upper()
        if statement == "COMMIT" and (self._writing or self._changed):
            last = self._before_commit() if self._writing else None
            changed, self._writing, self._changed = self._changed, False, False
            cursor = self._run(t.sql, ())
            if (last is not None or changed) and self.on_commit is not None:
                self.on_commit(last)
            return cursor
        if statement in ("COMMIT", "ROLLBACK"):
            self._writing = self._changed = False
        args = self._args(t, params)
        text = self._finish(t)
        lastrowid = None
        identity = self._returning(text, args)
        if identity:
            cursor = self._run(f"{text} RETURNING {identity}", args)
            row = cursor.fetchone()
            lastrowid = row[0] if row else None
            return PgCursor(cursor._cursor, lastrowid, rows=[])
        if text.startswith("INSERT INTO objects"):
            self._objects_added = True
        if "pg_temp." in text and self.in_transaction:
            return self._guarded(text, args)
        return self._run(text, args)

    def executemany(self, sql: str, seq: Iterable[Sequence]) -> PgCursor:
        t = tr.translate(sql)
        text = self._finish(t)
        rows = [self._args(t, params) for params in seq]
        if not rows:
            return PgCursor(None)
        if text.startswith("INSERT INTO objects"):
            self._objects_added = True
        if self._trace is not None:
            self._trace(text)
        try:
            cursor = self.raw.cursor()
            cursor.executemany(text, rows)
        except psycopg.Error as exc:
            raise self._error(exc, text) from exc
        return PgCursor(cursor)

    def set_trace_callback(self, callback: Callable[[str], None] | None) -> None:
        """Call ``callback`` with each statement sent to the server (as sqlite3's does)."""
        self._trace = callback

    def executescript(self, script: str) -> None:
        from wikipeer.store.schema import statements
        for statement in statements(script):
            self.execute(statement)

    def changed(self) -> None:
        """The open transaction changes something beyond the log that other processes follow (a hide): its
        commit is told to ``on_commit`` even if it adds no object."""
        self._changed = True

    def commit(self) -> None:
        if self.in_transaction:
            self.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> "PgConnection":
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: Any) -> None:
        if not self.in_transaction:
            return
        self.execute("ROLLBACK" if kind is not None else "COMMIT")

    # -- inside ------------------------------------------------------------------------------------

    def _args(self, t: tr.Translated, params: Sequence | dict) -> tuple:
        values = tuple(_value(v) for v in params)
        return tuple(values[i] for i in t.order) if t.order is not None else values

    def _finish(self, t: tr.Translated) -> str:
        if t.upsert_table is None:
            return t.sql
        key, columns, _ = self._table(t.upsert_table)
        return tr.upsert(t.sql, key, columns)

    def _table(self, name: str) -> tuple[list[str], list[str], str | None]:
        """(primary key columns, all columns, identity column) of a table, read once per connection."""
        known = self._tables.get(name)
        if known is None:
            columns = [r[0] for r in self._run(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s ORDER BY ordinal_position", (name,)).fetchall()]
            key = [r[0] for r in self._run(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = (current_schema() || '.' || %s)::regclass "
                "AND i.indisprimary", (name,)).fetchall()] if columns else []
            identity = self._run(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s AND is_identity = 'YES'", (name,)).fetchone()
            known = (key, columns, identity[0] if identity else None)
            if columns:
                self._tables[name] = known
        return known

    def _returning(self, text: str, args: tuple) -> str | None:
        """The identity column a single-row INSERT ... VALUES can return (what lastrowid reads)."""
        if not text.startswith("INSERT INTO ") or " VALUES " not in text or " ON CONFLICT " in text:
            return None
        if "), (" in text.split(" VALUES ", 1)[1]:
            return None  # several rows
        name = text[len("INSERT INTO "):].split("(")[0].split()[0]
        return self._table(name)[2]

    def _begin_write(self) -> None:
        """SQLite's ``BEGIN IMMEDIATE``: a transaction holding the write lock, or none at all. A lock not had
        in time ends the transaction it began (as a busy ``BEGIN IMMEDIATE`` leaves none open): left open and
        aborted, it failed every later statement of this thread's connection."""
        self._run("BEGIN", ())
        try:
            self._run(f"SET LOCAL lock_timeout = {int(self._timeout_ms)}", ())
            self._run("SELECT pg_advisory_xact_lock(%s)", (tr.WRITE_LOCK,))
        except sqlite3.Error:
            if not self.raw.closed:
                self._run("ROLLBACK", ())
            raise
        self._writing, self._objects_added = True, False

    def _before_commit(self) -> int | None:
        """Objects' ids are given by the writer (``max(seq) FROM sqlite_sequence``): keep the sequence that
        stands for sqlite_sequence at the highest id ever used, as AUTOINCREMENT does when rows are deleted.
        In the same statement, tell every listening process the new last id (delivered once this commits).
        Returns that id, or None when the transaction added no objects."""
        if not self._objects_added:
            return None
        row = self._run("SELECT m, setval(pg_get_serial_sequence('objects', 'id'), m), pg_notify(%s, m::text) "
                        "FROM (SELECT max(id) AS m FROM objects) x WHERE m IS NOT NULL", (LOG_CHANNEL,)).fetchone()
        return row[0] if row else None

    def _guarded(self, text: str, args: tuple) -> PgCursor:
        """A statement on a temporary table inside a transaction: its failure (the table not made yet)
        must not abort the transaction, as it would not in SQLite."""
        self._run("SAVEPOINT temp_guard", ())
        try:
            cursor = self._run(text, args)
        except sqlite3.Error:
            self._run("ROLLBACK TO SAVEPOINT temp_guard", ())
            raise
        self._run("RELEASE SAVEPOINT temp_guard", ())
        return cursor

    def _run(self, text: str, args: Sequence) -> PgCursor:
        if self._trace is not None:
            self._trace(text)
        try:
            cursor = self.raw.cursor()
            cursor.execute(text, tuple(args))  # () too: %% must become %
        except psycopg.Error as exc:
            raise self._error(exc, text) from exc
        return PgCursor(cursor)

    def _error(self, exc: psycopg.Error, text: str) -> BaseException:
        """The sqlite3 exception the store expects, or ServerGone for a lost server."""
        message = " ".join(str(exc).split())
        if isinstance(exc, errors.IntegrityError):
            return sqlite3.IntegrityError(message)
        if isinstance(exc, errors.LockNotAvailable):
            busy = sqlite3.OperationalError(f"database is locked ({message})")
            busy.sqlite_errorcode = sqlite3.SQLITE_BUSY  # what engine_errors.is_busy reads
            return busy
        if isinstance(exc, errors.UndefinedTable):
            name = message.split('"')[1] if '"' in message else message
            return sqlite3.OperationalError(f"no such table: {name.replace('pg_temp.', 'temp.')} ({message})")
        if self.raw.closed or isinstance(exc, (errors.AdminShutdown, errors.CrashShutdown, errors.CannotConnectNow)) \
                or (isinstance(exc, psycopg.OperationalError) and self.raw.info.status != pq.ConnStatus.OK):
            self.raw.close()
            return ServerGone(f"lost the store's server {server_name(self.url)}: {message}")
        return sqlite3.OperationalError(f"{message} (in: {text[:200]})")


KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
"""For connections held open and idle (a lock's, a listener's): a network cut that sends no reset is found
in about 25 s, not when TCP gives up (minutes to hours)."""


class SessionLock:
    """A session advisory lock, held while its own connection lives."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def held(self) -> bool:
        try:  # a session lock lasts as long as its session: a connection that still answers still holds it
            self.conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def close(self) -> None:
        self.conn.close()


def session_lock(url: str, key: int) -> SessionLock | None:
    """The session advisory lock ``key`` on a connection of its own (held while it stays open: the server
    drops it when the connection or its process dies), or None while another session holds it."""
    conn = None
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_SECONDS, **KEEPALIVES)
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            return SessionLock(conn)
    except psycopg.Error as exc:
        if conn is not None:
            conn.close()
        raise ServerGone(f"cannot reach the store at {server_name(url)}: {' '.join(str(exc).split())}") from None
    conn.close()
    return None
