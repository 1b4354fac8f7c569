"""Full-text search on SQLite: two contentless FTS5 indexes (store/search.py picks this module for a SQLite
connection and keeps what both backends share).

Two contentless indexes, keyed by page id (measurements in docs/search.md):

- ``search_tri``: trigrams, detail=none, for every term of 3+ characters
  outside the scripts written without spaces;
- ``search_short``: short tokens (see segment.py): 1-2 character words, and
  the character bigrams of unspaced scripts (Han, kana, Thai...), which
  answer their terms of any length.

Neither keeps a copy of the text: candidates are checked against the text in
the store, which the snippet needs anyway. A contentless FTS5 row can be
removed only by repeating exactly the values it was indexed with, hence the
``old`` (title, text) the callers give.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from wikipeer.store.schema import statements
from wikipeer.store.segment import fold, is_unspaced, short_tokens, spaced_text, unspaced_runs

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_tri USING fts5(
    title, text, tokenize = 'trigram', detail = none, content = '');
CREATE VIRTUAL TABLE IF NOT EXISTS search_short USING fts5(
    title, text, tokenize = "unicode61 remove_diacritics 0 categories 'L* N* M* Co'", detail = none, content = '');
CREATE TABLE IF NOT EXISTS search_state(page INTEGER PRIMARY KEY, rev INTEGER NOT NULL, title TEXT NOT NULL);
"""


def _rows(page: int, title: str, text: str) -> tuple[tuple, tuple]:
    return (page, spaced_text(title), spaced_text(text)), (page, short_tokens(fold(title)), short_tokens(fold(text)))


def put(conn: sqlite3.Connection, page: int, title: str, text: str,
        old: Callable[[], tuple[str, str]] | None) -> None:
    """Index ``page``'s title and text, first removing the rows ``old()`` (the title and text indexed before,
    if any) gave."""
    if old is not None:
        remove(conn, page, old)
    tri, short = _rows(page, title, text)
    conn.execute("INSERT INTO search_tri(rowid, title, text) VALUES (?, ?, ?)", tri)
    conn.execute("INSERT INTO search_short(rowid, title, text) VALUES (?, ?, ?)", short)


def remove(conn: sqlite3.Connection, page: int, old: Callable[[], tuple[str, str]]) -> None:
    """Remove ``page``'s rows: contentless tables delete a row given exactly the values it holds (``old()``)."""
    tri, short = _rows(page, *old())
    conn.execute("INSERT INTO search_tri(search_tri, rowid, title, text) VALUES ('delete', ?, ?, ?)", tri)
    conn.execute("INSERT INTO search_short(search_short, rowid, title, text) VALUES ('delete', ?, ?, ?)", short)


def reset(conn: sqlite3.Connection) -> None:
    """Empty both indexes by making them anew (the old rows could not be removed one by one any more)."""
    conn.execute("DROP TABLE search_tri")
    conn.execute("DROP TABLE search_short")
    for statement in statements(SCHEMA):
        conn.execute(statement)


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def tri_match(long: list[str]) -> str:
    """The trigrams of the long terms' parts outside unspaced scripts (those of 3+ characters)."""
    parts = [p for t in long for p in unspaced_runs(t)[1] if len(p) >= 3]
    grams = dict.fromkeys(p[i:i + 3] for p in parts for i in range(len(p) - 2))
    return " AND ".join(_quoted(g) for g in grams)


def short_match(short: list[str], long: list[str]) -> str:
    """The short terms, and the bigrams of the long terms' unspaced runs (a lone character as a prefix)."""
    tokens = [_quoted(t) + "*" if len(t) == 1 and is_unspaced(t) else _quoted(t) for t in short]
    for run in (r for t in long for r in unspaced_runs(t)[0]):
        tokens += [_quoted(run[i:i + 2]) for i in range(len(run) - 1)] if len(run) > 1 else [_quoted(run) + "*"]
    return " AND ".join(dict.fromkeys(tokens))


def candidates(conn: sqlite3.Connection, long: list[str], short: list[str], loose: list[str]) -> list[int]:
    """Page ids the indexes match, best first by bm25; every indexed page for loose terms alone."""
    tri, shorts = tri_match(long), short_match(short, long)
    if tri and shorts:
        sql = ("SELECT rowid FROM search_tri WHERE search_tri MATCH ? AND +rowid IN "
               "(SELECT rowid FROM search_short WHERE search_short MATCH ?) ORDER BY bm25(search_tri)")
        args: tuple = (tri, shorts)
    elif tri:
        sql, args = "SELECT rowid FROM search_tri WHERE search_tri MATCH ? ORDER BY bm25(search_tri)", (tri,)
    elif shorts:
        sql, args = "SELECT rowid FROM search_short WHERE search_short MATCH ? ORDER BY bm25(search_short)", (shorts,)
    elif loose:
        sql, args = "SELECT page FROM search_state ORDER BY page", ()
    else:
        return []
    return [r[0] for r in conn.execute(sql, args)]


def titles(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]:
    """The indexed titles of these pages (one statement whatever their number)."""
    return dict(conn.execute("SELECT page, title FROM search_state WHERE page IN (SELECT value FROM json_each(?))",
                             (json.dumps(ids),)))
