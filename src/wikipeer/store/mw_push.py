"""What a node remembers of pushing its edits to MediaWiki peers.

Kept in the store's database, by the peer's api.php address, beside the
peer's record (store/mw_peers.py: the account, its sealed password and the
push cursor):

- ``mw_pushed``: our revisions the MediaWiki took, with the id and timestamp
  it gave them: what later edits name as their base, and what the pull takes
  for ours instead of a second copy.
- ``mw_refused``: our revisions it refused, with its error code and text,
  kept until a retry is asked for and succeeds.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from wikipeer.store.store import Store


@dataclass(frozen=True, slots=True)
class Pushed:
    """One of our revisions as a MediaWiki holds it."""

    rev: int  # our store id
    rev_id: int  # MediaWiki's revision id
    ts: str  # MediaWiki's timestamp, as it writes it (2026-01-02T03:04:05Z)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a MediaWiki did not take one of our revisions."""

    rev: int
    code: str
    info: str
    at: int  # Unix seconds


class PushBook:
    """The push records of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def forget(self, url: str) -> None:
        """Everything about pushing to this peer (when the peer is removed)."""
        with self.conn:
            for table in ("mw_pushed", "mw_refused"):
                self.conn.execute(f"DELETE FROM {table} WHERE url = ?", (url,))

    def revisions_after(self, wiki: str, namespaces: list[int] | None, position: int, limit: int) -> list[int]:
        """Store ids of the revisions of ``wiki`` (in ``namespaces``; None: all) after log position
        ``position``, oldest first."""
        where, args = "", []
        if namespaces is not None:
            where, args = f" AND p.ns IN ({','.join('?' * len(namespaces))})", list(namespaces)
        rows = self.conn.execute(
            f"SELECT r.id FROM revisions r JOIN pages p ON p.id = r.page WHERE r.id > ? AND p.wiki = ?{where} "
            "ORDER BY r.id LIMIT ?", (position, wiki, *args, limit))
        return [row[0] for row in rows]

    # -- what went up ---------------------------------------------------

    def record_pushed(self, url: str, rev: int, rev_id: int, ts: str) -> None:
        """Our revision ``rev`` is MediaWiki's ``rev_id``; a refusal it had is forgotten."""
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO mw_pushed VALUES (?, ?, ?, ?)", (url, rev, rev_id, ts))
            self.conn.execute("DELETE FROM mw_refused WHERE url = ? AND rev = ?", (url, rev))

    def pushed(self, url: str, rev: int) -> Pushed | None:
        row = self.conn.execute("SELECT rev, rev_id, ts FROM mw_pushed WHERE url = ? AND rev = ?",
                                (url, rev)).fetchone()
        return Pushed(*row) if row else None

    def ours(self, url: str, rev_id: int) -> int | None:
        """Our store id of the revision MediaWiki calls ``rev_id``, if it is one we sent."""
        row = self.conn.execute("SELECT rev FROM mw_pushed WHERE url = ? AND rev_id = ?", (url, rev_id)).fetchone()
        return row[0] if row else None

    def our_cid(self, url: str, rev_id: int) -> bytes | None:
        """The CID of our revision that MediaWiki calls ``rev_id``, if it is one we sent."""
        row = self.conn.execute("SELECT o.cid FROM mw_pushed p JOIN objects o ON o.id = p.rev "
                                "WHERE p.url = ? AND p.rev_id = ?", (url, rev_id)).fetchone()
        return row[0] if row else None

    # -- what was refused -----------------------------------------------

    def record_refusal(self, url: str, rev: int, code: str, info: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO mw_refused VALUES (?, ?, ?, ?, ?)",
                              (url, rev, code, info[:2000], int(time.time())))

    def forget_refusal(self, url: str, rev: int) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM mw_refused WHERE url = ? AND rev = ?", (url, rev))

    def is_refused(self, url: str, rev: int) -> bool:
        return self.conn.execute("SELECT 1 FROM mw_refused WHERE url = ? AND rev = ?", (url, rev)).fetchone() is not None

    def refusals(self, url: str) -> list[Refusal]:
        """The revisions this peer refused, oldest first (in the order they were made here)."""
        return [Refusal(*row) for row in self.conn.execute(
            "SELECT rev, code, info, at FROM mw_refused WHERE url = ? ORDER BY rev", (url,))]
