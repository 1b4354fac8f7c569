"""Full-text search over each page's shown text and title (SQLite FTS5).

The layout and how a query becomes SQL are explained, with measurements, in
docs/search.md.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(title, body, tokenize='trigram', detail=none);
"""


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the page's row id and a snippet of its text."""

    page: int
    snippet: str


def index_page(conn: sqlite3.Connection, page: int, title: str, body: str) -> None:
    """Put (or replace) a page's title and text in the index."""
    conn.execute("DELETE FROM search WHERE rowid = ?", (page,))
    conn.execute("INSERT INTO search(rowid, title, body) VALUES (?, ?, ?)", (page, title, body))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _snippet(body: str, terms: list[str], width: int = 80) -> str:
    lower = body.lower()
    at = min((i for i in (lower.find(t.lower()) for t in terms) if i >= 0), default=0)
    start = max(0, at - width // 2)
    text = " ".join(body[start:start + width * 2].split())
    return ("…" if start else "") + text


def search(conn: sqlite3.Connection, query: str, limit: int = 20) -> list[Hit]:
    """Pages whose title or text holds every whitespace-separated term of ``query``.

    Terms match as substrings in any script; pages whose title matches come first.
    """
    terms = [t for t in query.split() if t]
    if not terms:
        return []
    where = " AND ".join("(title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')" for _ in terms)
    params: list[str] = []
    for term in terms:
        pattern = f"%{_escape_like(term)}%"
        params += [pattern, pattern]
    title_rank = " + ".join("(title LIKE ? ESCAPE '\\')" for _ in terms)
    rank_params = [f"%{_escape_like(t)}%" for t in terms]
    sql = (
        f"SELECT rowid, body FROM search WHERE {where} "
        f"ORDER BY ({title_rank}) DESC, length(body) DESC LIMIT ?"
    )
    rows = conn.execute(sql, [*params, *rank_params, limit]).fetchall()
    return [Hit(row[0], _snippet(row[1], terms)) for row in rows]
