"""What a node remembers of its peers: addresses, keys, cursors, counts and bans.

Kept in the store's database (its own tables), beside the change log whose
positions the cursors are. A cursor moves only after the whole answer it
covers has been taken in, so a crash in between costs that answer (at most
10,000 objects) fetched again, taken as duplicates, never a gap.

- ``pull_cursor``: the last position of the peer's log we have taken.
- ``push_cursor``: the last position of our log the peer has taken from us.
- ``peer_ranges``: ranges of our log that came from the peer, never sent back,
  and ranges of its log that came from us, never fetched back.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from wikipeer.errors import NotFound, UserError
from wikipeer.store.store import Store


_COUNTS = ("gave", "duplicates", "we_refused", "forgeries", "took", "it_refused")


@dataclass(slots=True)
class Peer:
    """One peer's record."""

    url: str
    key: str | None
    added: int
    banned: str | None
    pull_cursor: int
    push_cursor: int
    gave: int
    duplicates: int
    we_refused: int
    forgeries: int
    took: int
    it_refused: int
    last_sync: int | None  # when the last sync ended (Unix seconds), whether it worked or not
    last_error: str | None  # why it failed; None when it worked


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UserError(f"a peer is an http:// or https:// address, not {url!r}")
    return url


class PeerBook:
    """The peers of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def add(self, url: str) -> Peer:
        url = normalize_url(url)
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO peers(url, added) VALUES (?, ?)", (url, int(time.time())))
        return self.get(url)

    def get(self, url: str) -> Peer:
        row = self.conn.execute("SELECT * FROM peers WHERE url = ?", (normalize_url(url),)).fetchone()
        if row is None:
            raise NotFound(f"no peer {url!r} (see 'wikipeer peer list')")
        return Peer(*row)

    def find_key(self, key: str) -> Peer | None:
        row = self.conn.execute("SELECT * FROM peers WHERE key = ?", (key,)).fetchone()
        return Peer(*row) if row else None

    def list(self) -> list[Peer]:
        return [Peer(*r) for r in self.conn.execute("SELECT * FROM peers ORDER BY url")]

    def remove(self, url: str) -> None:
        url = self.get(url).url
        with self.conn:
            self.conn.execute("DELETE FROM peers WHERE url = ?", (url,))
            self.conn.execute("DELETE FROM peer_ranges WHERE url = ?", (url,))

    def set(self, url: str, **fields: object) -> None:
        """Change some fields of a peer's record (names from the table)."""
        unknown = set(fields) - set(Peer.__slots__)
        if unknown:
            raise ValueError(f"no peer field {sorted(unknown)[0]}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.conn:
            self.conn.execute(f"UPDATE peers SET {assignments} WHERE url = ?", (*fields.values(), normalize_url(url)))

    def count(self, url: str, **deltas: int) -> None:
        """Add to a peer's counters (gave, duplicates, we_refused, forgeries, took, it_refused)."""
        if set(deltas) - set(_COUNTS):
            raise ValueError(f"no peer counter {sorted(set(deltas) - set(_COUNTS))[0]}")
        if deltas:
            assignments = ", ".join(f"{name} = {name} + ?" for name in deltas)
            with self.conn:
                self.conn.execute(f"UPDATE peers SET {assignments} WHERE url = ?", (*deltas.values(), normalize_url(url)))

    def add_range(self, url: str, first: int, last: int, side: str = "ours") -> None:
        """Log positions first..last (of our log, or with side 'theirs' of the peer's) the other side has."""
        if first <= last:
            with self.conn:
                self.conn.execute("INSERT INTO peer_ranges VALUES (?, ?, ?, ?)", (normalize_url(url), side, first, last))

    def ranges(self, url: str, since: int, side: str = "ours", forget: bool = True) -> list[tuple[int, int]]:
        """The ranges that end after ``since``; with ``forget`` older ones are deleted (``since`` is
        the cursor they belong to, which is past them). Without it (``since`` is another cursor) they stay."""
        url = normalize_url(url)
        if forget:
            with self.conn:
                self.conn.execute("DELETE FROM peer_ranges WHERE url = ? AND side = ? AND last <= ?", (url, side, since))
        return list(self.conn.execute(
            "SELECT first, last FROM peer_ranges WHERE url = ? AND side = ? AND last > ? ORDER BY first",
            (url, side, since)))

    # -- leech accounting ---------------------------------------------------

    def count_taker(self, key: str, served: int = 0, given: int = 0) -> None:
        """Count what a node (by the key it names) took from us and gave us."""
        with self.conn:
            self.conn.execute("INSERT INTO takers(key, served, given) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
                              "SET served = served + excluded.served, given = given + excluded.given",
                              (key, served, given))

    def taker(self, key: str) -> tuple[int, int]:
        """(served, given) for a node key."""
        row = self.conn.execute("SELECT served, given FROM takers WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else (0, 0)
