"""Rendered pages kept per revision in their own SQLite file (``DIR/cache.sqlite``), apart from the object store.

A cache only: deleting the file loses nothing but time. A file that cannot be read or written
raises the engine's OperationalError (store/engine_errors.py), which web/rendering.py takes for
"no cache". What an entry holds besides its HTML (the template heads and links it depended on) is
web/rendering.py's business; here it is a JSON map.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rendered (
    rev BLOB PRIMARY KEY,
    html TEXT NOT NULL,
    meta TEXT NOT NULL   -- categories, redirect, errors, and the template heads used
);
"""


class RenderedFile:
    """Rendered revisions by CID: their HTML and a JSON map of what the rendering depended on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections must not cross threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=OFF")  # a lost entry is only rendered again
                conn.executescript(_SCHEMA)
            except sqlite3.Error:
                conn.close()  # tried again at the next read: the disk may have room by then
                raise
            self._local.conn = conn
        return conn

    def stored(self, rev: bytes) -> tuple[str, dict] | None:
        """The HTML and the map kept for the revision ``rev``, or None."""
        row = self.conn.execute("SELECT html, meta FROM rendered WHERE rev = ?", (rev,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def keep(self, rev: bytes, html: str, meta: dict) -> None:
        """Keep (or replace) the rendering of ``rev``."""
        self.conn.execute("INSERT OR REPLACE INTO rendered VALUES (?, ?, ?)", (rev, html, json.dumps(meta)))
