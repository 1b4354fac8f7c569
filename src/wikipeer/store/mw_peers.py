"""What a node remembers of the MediaWikis it follows: address, wiki, cursors, account, last sync.

A table beside ``peers`` (store/peers.py). The store knows nothing of HTTP:
the cursors are kept as MediaWiki gave them (JSON), and mediawiki/follow.py
gives them meaning. A cursor moves only after the batch it covers is in the
store, so a sync killed anywhere resumes with duplicates at most.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from wikipeer.errors import NotFound, UserError
from wikipeer.store.store import Store

_FIELDS = ("url", "wiki", "namespaces", "since", "rev_cursor", "log_cursor", "user", "push_cursor", "secret",
           "rate", "added", "pulled", "last_sync", "last_error")


@dataclass(slots=True)
class MediaWikiPeer:
    """One followed MediaWiki."""

    url: str                         # its api.php
    wiki: str                        # the wiki on this node its pages go into
    namespaces: list[int] | None     # None: every namespace
    since: str | None                # ISO timestamp the first pull starts at
    rev_cursor: dict[str, Any] | None
    log_cursor: dict[str, Any] | None
    user: str | None
    push_cursor: int
    secret: bytes | None
    rate: float                      # requests per second at most
    added: int
    pulled: int
    last_sync: int | None
    last_error: str | None


def normalize_api_url(url: str) -> str:
    """The api.php address as kept; a user error if it is not an http(s) address."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise UserError(f"a MediaWiki is named by its api.php address (http://HOST/w/api.php), not {url!r}")
    return url


def _row(row: sqlite3.Row | tuple) -> MediaWikiPeer:
    values = dict(zip(_FIELDS, row, strict=True))
    for name in ("namespaces", "rev_cursor", "log_cursor"):
        values[name] = json.loads(values[name]) if values[name] is not None else None
    return MediaWikiPeer(**values)


class MediaWikiPeers:
    """The MediaWiki peers of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def add(self, url: str, wiki: str, namespaces: list[int] | None = None, since: str | None = None,
            user: str | None = None, rate: float = 10.0) -> MediaWikiPeer:
        """Add a MediaWiki, or change how an existing one is followed (its cursors stay)."""
        url = normalize_api_url(url)
        ns = json.dumps(sorted(set(namespaces))) if namespaces is not None else None
        with self.conn:
            self.conn.execute(
                "INSERT INTO mw_peers(url, wiki, namespaces, since, user, rate, added) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET wiki = excluded.wiki, namespaces = excluded.namespaces, "
                "since = excluded.since, user = excluded.user, rate = excluded.rate",
                (url, wiki, ns, since, user, rate, int(time.time())))
        return self.get(url)

    def get(self, url: str) -> MediaWikiPeer:
        row = self.conn.execute(f"SELECT {', '.join(_FIELDS)} FROM mw_peers WHERE url = ?",
                                (normalize_api_url(url),)).fetchone()
        if row is None:
            raise NotFound(f"no MediaWiki peer {url!r} (see 'wikipeer peer list')")
        return _row(row)

    def find(self, url: str) -> MediaWikiPeer | None:
        try:
            return self.get(url)
        except (NotFound, UserError):
            return None

    def list(self) -> list[MediaWikiPeer]:
        return [_row(r) for r in self.conn.execute(f"SELECT {', '.join(_FIELDS)} FROM mw_peers ORDER BY url")]

    def remove(self, url: str) -> None:
        url = self.get(url).url
        with self.conn:
            self.conn.execute("DELETE FROM mw_peers WHERE url = ?", (url,))

    def set(self, url: str, **fields: Any) -> None:
        """Change some fields (names from MediaWikiPeer); cursors and namespaces are given as Python values."""
        unknown = set(fields) - set(_FIELDS) | ({"url", "added"} & set(fields))
        if unknown:
            raise ValueError(f"no settable MediaWiki peer field {sorted(unknown)[0]}")
        for name in ("namespaces", "rev_cursor", "log_cursor"):
            if name in fields and fields[name] is not None:
                fields[name] = json.dumps(fields[name], sort_keys=True)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.conn:
            self.conn.execute(f"UPDATE mw_peers SET {assignments} WHERE url = ?",
                              (*fields.values(), normalize_api_url(url)))

    def count_pulled(self, url: str, new: int) -> None:
        with self.conn:
            self.conn.execute("UPDATE mw_peers SET pulled = pulled + ? WHERE url = ?", (new, normalize_api_url(url)))
