"""What users of a disconnected node asked for: pages and searches for the stick to carry."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from wikipeer.errors import UserError
from wikipeer.store.store import Store


@dataclass(frozen=True, slots=True)
class Want:
    """One request: some titles of a wiki, or the top results of a search."""

    id: int
    wiki: str | None
    titles: tuple[str, ...]
    query: str | None
    top: int
    depth: int

    def describe(self) -> str:
        if self.query is not None:
            return f"the top {self.top} results for {self.query!r}"
        return f"{', '.join(self.titles)} ({self.wiki})"

    def to_request(self) -> dict:
        """The request as it goes on the stick."""
        return {"id": self.id, "wiki": self.wiki, "titles": list(self.titles), "query": self.query,
                "top": self.top, "depth": self.depth}


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

    def _add(self, wiki: str | None, titles: str | None, query: str | None, top: int, depth: int) -> Want:
        with self.store.conn:
            cur = self.store.conn.execute(
                "INSERT INTO wants(wiki, titles, query, top, depth, created) VALUES (?, ?, ?, ?, ?, ?)",
                (wiki, titles, query, top, depth, int(time.time())))
        return self.get(cur.lastrowid)

    def get(self, want_id: int) -> Want:
        row = self.store.conn.execute(
            "SELECT id, wiki, titles, query, top, depth FROM wants WHERE id = ?", (want_id,)).fetchone()
        return _want(row)

    def open(self) -> list[Want]:
        rows = self.store.conn.execute(
            "SELECT id, wiki, titles, query, top, depth FROM wants WHERE done IS NULL ORDER BY id")
        return [_want(r) for r in rows]

    def done(self, want_id: int) -> None:
        with self.store.conn:
            self.store.conn.execute("UPDATE wants SET done = ? WHERE id = ?", (int(time.time()), want_id))


def _want(row: tuple) -> Want:
    want_id, wiki, titles, query, top, depth = row
    return Want(want_id, wiki, tuple(json.loads(titles)) if titles else (), query, top, depth)
