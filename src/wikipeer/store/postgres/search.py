"""Full-text search on PostgreSQL: pg_trgm in place of SQLite's FTS5 (store/fts5.py). store/search.py picks
this module for a PostgreSQL connection and keeps what both backends share; both offer the same functions.

``search_text`` holds each indexed page's folded title and text (what ``Query.matches`` checks) under a
GIN trigram index, so a term of 3+ characters is a ``LIKE '%term%'`` the index answers; a short term
(1-2 characters) must stand as a word, as FTS5's short-token index gives it, unless it is from a script
written without spaces (there it is a substring). ``search_state`` is the same table as on SQLite.
Candidates come in page order: PostgreSQL has no bm25 over trigrams (docs/scale-backends.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from wikipeer.store.segment import fold_page, is_unspaced

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE IF NOT EXISTS search_state(page INTEGER PRIMARY KEY, rev INTEGER NOT NULL, title TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS search_text(page INTEGER PRIMARY KEY, folded TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS search_text_trigrams ON search_text USING gin (folded gin_trgm_ops);
"""


def put(conn: Any, page: int, title: str, text: str, old: Callable[[], tuple[str, str]] | None) -> None:
    """Replace what the trigram index holds for ``page`` by its folded title and text (in one statement: what
    was indexed before, ``old``, is not needed)."""
    conn.execute("INSERT INTO search_text VALUES (?, ?) ON CONFLICT(page) DO UPDATE SET folded = excluded.folded",
                 (page, fold_page(title, text)))


def remove(conn: Any, page: int, old: Callable[[], tuple[str, str]]) -> None:
    """Remove ``page`` from the index (by its id alone)."""
    conn.execute("DELETE FROM search_text WHERE page = ?", (page,))


def reset(conn: Any) -> None:
    """Empty the index."""
    conn.execute("DELETE FROM search_text")


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def candidates(conn: Any, long: list[str], short: list[str], loose: list[str]) -> list[int]:
    """Page ids whose folded text holds every long and loose term, and every short term as a word."""
    where, args = [], []
    for term in long + loose:
        where.append("folded LIKE ?")
        args.append(_like(term))
    for term in short:
        if is_unspaced(term):
            where.append("folded LIKE ?")
            args.append(_like(term))
        else:
            where.append("folded ~ ?")
            args.append(r"(^|[^[:alnum:]])" + re.escape(term) + r"([^[:alnum:]]|$)")
    if not where:
        return []
    return [r[0] for r in conn.execute(f"SELECT page FROM search_text WHERE {' AND '.join(where)} ORDER BY page",
                                       args)]


def titles(conn: Any, ids: list[int]) -> dict[int, str]:
    """The indexed titles of these pages."""
    if not ids:
        return {}
    return dict(conn.execute(f"SELECT page, title FROM search_state WHERE page IN ({','.join('?' * len(ids))})",
                             ids))
