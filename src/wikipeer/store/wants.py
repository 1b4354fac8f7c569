"""What users of a disconnected node asked for: pages, searches and files for the stick to carry.

A page comes with the files it shows; a file can also be asked for by its
SHA-256 alone (``wikipeer want --file HEX``), whatever page holds it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from wikipeer.errors import UserError
from wikipeer.store.store import Store

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Want:
    """One request: some titles of a wiki, the top results of a search, or files by SHA-256."""

    id: int
    wiki: str | None
    titles: tuple[str, ...]
    query: str | None
    top: int
    depth: int
    files: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.files:
            hashes = ", ".join(f"SHA-256 {f[:16]}…" for f in self.files)
            return ("the files " if len(self.files) > 1 else "the file ") + hashes
        if self.query is not None:
            return f"the top {self.top} results for {self.query!r}"
        return f"{', '.join(self.titles)} ({self.wiki})"

    def to_request(self) -> dict:
        """The request as it goes on the stick."""
        return {"id": self.id, "wiki": self.wiki, "titles": list(self.titles), "query": self.query,
                "top": self.top, "depth": self.depth, "files": list(self.files)}


class Wants:
    """The open requests of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_titles(self, wiki: str, titles: list[str], depth: int = 10) -> Want:
        if not titles:
            raise UserError("name at least one page to ask for")
        return self._add(wiki, json.dumps(titles), None, 0, depth)

    def add_search(self, query: str, top: int = 10, depth: int = 10) -> Want:
        if not query.strip():
            raise UserError("say what to search for")
        if not 0 < top <= 500:
            raise UserError("--top is a number from 1 to 500")
        return self._add(None, None, query.strip(), top, depth)

    def add_files(self, sha256s: list[str]) -> Want:
        """Ask for files by the SHA-256 of their bytes (64 hex digits each)."""
        wanted = [s.strip().lower() for s in sha256s]
        bad = [s for s in wanted if not _SHA256.fullmatch(s)]
        if not wanted or bad:
            named = bad[0] if bad else "none"
            raise UserError(f"a file is asked for by its SHA-256, 64 hex digits; {named!r} is not one")
        return self._add(None, None, None, 0, 1, json.dumps(list(dict.fromkeys(wanted))))

    def _add(self, wiki: str | None, titles: str | None, query: str | None, top: int, depth: int,
             files: str | None = None) -> Want:
        with self.store.conn:
            cur = self.store.conn.execute(
                "INSERT INTO wants(wiki, titles, query, top, depth, created, files) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (wiki, titles, query, top, depth, int(time.time()), files))
        return self.get(cur.lastrowid)

    def get(self, want_id: int) -> Want:
        row = self.store.conn.execute(
            "SELECT id, wiki, titles, query, top, depth, files FROM wants WHERE id = ?", (want_id,)).fetchone()
        return _want(row)

    def open(self) -> list[Want]:
        rows = self.store.conn.execute(
            "SELECT id, wiki, titles, query, top, depth, files FROM wants WHERE done IS NULL ORDER BY id")
        return [_want(r) for r in rows]

    def done(self, want_id: int) -> None:
        with self.store.conn:
            self.store.conn.execute("UPDATE wants SET done = ? WHERE id = ?", (int(time.time()), want_id))


def _want(row: tuple) -> Want:
    want_id, wiki, titles, query, top, depth, files = row
    return Want(want_id, wiki, tuple(json.loads(titles)) if titles else (), query, top, depth,
                tuple(json.loads(files)) if files else ())
