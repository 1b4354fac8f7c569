"""Choosing the head a view shows, in SQL: one query per page, or one for many pages.

A view trusts a set of keys. The rule (docs/trust.md, policy/view.py) is: a
head signed or seconded by a trusted key wins; among equals the newest
timestamp wins, and last the smaller CID. Here that rule is an ORDER BY over
the page's rows of ``heads``, with "trusted" an EXISTS on ``sigs`` against a
temporary table of the view's key *ids* (integers, as ``sigs.key`` holds
them), so no key string is read or compared per head.

The temporary table belongs to one connection (one thread). It is filled again
when the view's keys change, when the ``keys`` table grows (a trusted key that
had signed nothing here may arrive later), and after a rollback took the
filling back: a stamp row written with each filling tells which of those
happened, and it is rolled back together with the rows it vouches for.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

_COUNTER = itertools.count(1)
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit

_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS view_keys(id INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS view_stamp(filling INTEGER NOT NULL, known INTEGER NOT NULL)",
)

# Ranking a head: trusted first, then newest, then the smaller CID (BLOBs compare as bytes, as in Python).
_TRUSTED = "EXISTS (SELECT 1 FROM sigs s WHERE s.target = h.rev AND s.key IN (SELECT id FROM temp.view_keys))"
_RANK = f"{_TRUSTED} DESC, r.ts DESC, o.cid ASC"

_STAMP = "(SELECT filling FROM temp.view_stamp WHERE known = (SELECT coalesce(max(id), 0) FROM keys))"

# The stamp comes back with the row, so a page's shown head costs one statement while the view's keys stand.
ONE_PAGE = f"""
SELECT h.rev, o.cid, o.data, r.page, r.ts, r.size, p.cid, t.cid, {_STAMP}
FROM heads h JOIN revisions r ON r.id = h.rev JOIN objects o ON o.id = h.rev
LEFT JOIN objects p ON p.id = r.page LEFT JOIN objects t ON t.id = r.text
WHERE h.page = ? ORDER BY {_RANK} LIMIT 1"""

ONE_PAGE_ORDERED = f"""
SELECT h.rev FROM heads h JOIN revisions r ON r.id = h.rev JOIN objects o ON o.id = h.rev
WHERE h.page = ? ORDER BY {_RANK}"""

_MANY_PAGES = """
SELECT page, rev FROM (
    SELECT h.page AS page, h.rev AS rev, row_number() OVER (PARTITION BY h.page ORDER BY {rank}) AS n
    FROM heads h JOIN revisions r ON r.id = h.rev JOIN objects o ON o.id = h.rev {where})
WHERE n = 1"""


class ViewKeys:
    """The trusted key ids of the last view asked for, in one connection's temporary table.

    Belongs to one connection: a new connection needs a new ViewKeys.
    """

    def __init__(self) -> None:
        self._trusted: frozenset[str] | None = None
        self._filling = 0

    def holds(self, trusted: frozenset[str], stamp: int | None) -> bool:
        """Whether the table holds ``trusted``'s ids, given the stamp read with the keys table as it is now."""
        return stamp is not None and stamp == self._filling and (self._trusted is trusted or self._trusted == trusted)

    def load(self, conn: sqlite3.Connection, trusted: frozenset[str]) -> None:
        """Make temp.view_keys hold the ids of ``trusted`` that this store knows."""
        row = _read(conn, f"SELECT {_STAMP}", ())
        if not row or not self.holds(trusted, row[0]):
            self.fill(conn, trusted)

    def fill(self, conn: sqlite3.Connection, trusted: frozenset[str]) -> None:
        """Put the ids of ``trusted`` in temp.view_keys, and a new stamp naming this filling and the keys table's size."""
        for statement in _TABLES:
            conn.execute(statement)
        known = conn.execute("SELECT coalesce(max(id), 0) FROM keys").fetchone()[0]
        conn.execute("DELETE FROM temp.view_keys")
        conn.execute("DELETE FROM temp.view_stamp")
        keys = sorted(trusted)
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            conn.execute(f"INSERT OR IGNORE INTO temp.view_keys SELECT id FROM keys WHERE key IN "
                         f"({','.join('?' * len(chunk))})", chunk)
        self._filling = next(_COUNTER)
        conn.execute("INSERT INTO temp.view_stamp VALUES (?, ?)", (self._filling, known))
        self._trusted = trusted


def _read(conn: sqlite3.Connection, sql: str, args: tuple) -> tuple | None:
    """The first row of ``sql``: None if there is none, () if this connection has no view tables yet.

    The tables are made on first use; a rollback of the transaction that made
    them takes them away again, so their absence is a normal state, not an error.
    """
    try:
        return conn.execute(sql, args).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table: temp.view_" not in str(exc):
            raise
        return ()


@dataclass(frozen=True, slots=True)
class HeadRow:
    """What one query reads of the head a view shows: enough to build its RevInfo without asking again."""

    id: int
    cid: bytes
    data: bytes
    page: int
    ts: int
    size: int
    page_cid: bytes | None  # None: missing, so the full read reports the damage as it always did
    text_cid: bytes | None


def shown_head_row(conn: sqlite3.Connection, keys: ViewKeys, page_id: int, trusted: frozenset[str]) -> HeadRow | None:
    """The head of ``page_id`` a view trusting ``trusted`` shows; None if the page has none."""
    row = _read(conn, ONE_PAGE, (page_id,))
    if row == () or (row is not None and not keys.holds(trusted, row[-1])):  # no tables yet, another view, new keys, a rollback
        keys.fill(conn, trusted)
        row = conn.execute(ONE_PAGE, (page_id,)).fetchone()
    return None if row is None else HeadRow(*row[:-1])


def ordered_head_ids(conn: sqlite3.Connection, keys: ViewKeys, page_id: int, trusted: frozenset[str]) -> list[int]:
    """The ids of every head of ``page_id``, the shown one first, as the view ranks them."""
    keys.load(conn, trusted)
    return [r[0] for r in conn.execute(ONE_PAGE_ORDERED, (page_id,))]


def shown_head_ids(conn: sqlite3.Connection, keys: ViewKeys, trusted: frozenset[str],
                   page_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{page id: shown head id} for these pages (every page if None), one query per 500 pages."""
    keys.load(conn, trusted)
    if page_ids is None:
        return dict(conn.execute(_MANY_PAGES.format(rank=_RANK, where="")).fetchall())
    ids = list(page_ids)
    out: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        where = f"WHERE h.page IN ({','.join('?' * len(chunk))})"
        out.update(conn.execute(_MANY_PAGES.format(rank=_RANK, where=where), chunk).fetchall())
    return out
