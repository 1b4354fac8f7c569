"""Full-text search over each page's shown text and title (SQLite FTS5).

Two contentless indexes, keyed by page id (measurements in docs/search.md):

- ``search_tri``: trigrams, detail=none, for every term of 3+ characters
  outside the scripts written without spaces;
- ``search_short``: short tokens (see segment.py): 1-2 character words, and
  the character bigrams of unspaced scripts (Han, kana, Thai...), which
  answer their terms of any length.

Neither keeps a copy of the text: candidates are checked against the text in
the store, which the snippet needs anyway. ``search_state`` remembers what
was indexed for each page, because a contentless FTS5 row can be removed only
by repeating exactly the values it was indexed with.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wikipeer.store.postgres import search as pg
from wikipeer.store.schema import statements
from wikipeer.store.segment import SEGMENT_VERSION, is_unspaced, short_tokens, spaced_text, unspaced_runs

INDEX_VERSION = f"{SEGMENT_VERSION}/{unicodedata.unidata_version}"
"""What the indexed tokens depend on: removing a row must repeat them exactly, so a change means a rebuild."""

SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_tri USING fts5(
    title, text, tokenize = 'trigram', detail = none, content = '');
CREATE VIRTUAL TABLE IF NOT EXISTS search_short USING fts5(
    title, text, tokenize = "unicode61 remove_diacritics 0 categories 'L* N* M* Co'", detail = none, content = '');
CREATE TABLE IF NOT EXISTS search_state(page INTEGER PRIMARY KEY, rev INTEGER NOT NULL, title TEXT NOT NULL);
"""


def _on_postgres(conn: sqlite3.Connection) -> bool:
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def search_schema(conn: sqlite3.Connection) -> str:
    """The search tables' script for this connection's database (FTS5 on SQLite, pg_trgm on PostgreSQL)."""
    return pg.SEARCH_SCHEMA if _on_postgres(conn) else SEARCH_SCHEMA


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the page's row id and a snippet of its text."""

    page: int
    snippet: str


def _fold(text: str) -> str:
    # Most text is NFC already, and checking is much cheaper than normalising.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.lower()


def _rows(page: int, title: str, text: str) -> tuple[tuple, tuple]:
    return (page, spaced_text(title), spaced_text(text)), (page, short_tokens(_fold(title)), short_tokens(_fold(text)))


def index_page(conn: sqlite3.Connection, page: int, title: str, rev: int, text: str,
               old_text: Callable[[int], str]) -> None:
    """Index a page's shown revision, first removing what was indexed for it before."""
    old = conn.execute("SELECT rev, title FROM search_state WHERE page = ?", (page,)).fetchone()
    if old is not None and old[0] == rev and old[1] == title:
        return
    if _on_postgres(conn):
        pg.index_rows(conn, page, Doc.of(title, text).folded)
        conn.execute("INSERT OR REPLACE INTO search_state VALUES (?, ?, ?)", (page, rev, title))
        return
    unindex_page(conn, page, old_text)
    tri, short = _rows(page, title, text)
    conn.execute("INSERT INTO search_tri(rowid, title, text) VALUES (?, ?, ?)", tri)
    conn.execute("INSERT INTO search_short(rowid, title, text) VALUES (?, ?, ?)", short)
    conn.execute("INSERT OR REPLACE INTO search_state VALUES (?, ?, ?)", (page, rev, title))


def unindex_page(conn: sqlite3.Connection, page: int, old_text: Callable[[int], str]) -> None:
    """Remove what the index holds for a page (contentless tables need the old tokens to delete them)."""
    old = conn.execute("SELECT rev, title FROM search_state WHERE page = ?", (page,)).fetchone()
    if old is None:
        return
    if _on_postgres(conn):
        pg.unindex_rows(conn, page)
        conn.execute("DELETE FROM search_state WHERE page = ?", (page,))
        return
    tri, short = _rows(page, old[1], old_text(old[0]))
    conn.execute("INSERT INTO search_tri(search_tri, rowid, title, text) VALUES ('delete', ?, ?, ?)", tri)
    conn.execute("INSERT INTO search_short(search_short, rowid, title, text) VALUES ('delete', ?, ?, ?)", short)
    conn.execute("DELETE FROM search_state WHERE page = ?", (page,))


def reset(conn: sqlite3.Connection) -> None:
    """Empty both indexes (a change of tokens: the old rows could not be removed one by one any more).

    The caller marks every page, and the indexer fills them again behind (store/indexer.py).
    """
    if _on_postgres(conn):
        return pg.reset(conn)
    conn.execute("DROP TABLE search_tri")
    conn.execute("DROP TABLE search_short")
    conn.execute("DELETE FROM search_state")
    for statement in statements(SEARCH_SCHEMA):
        conn.execute(statement)


@dataclass(frozen=True, slots=True)
class Query:
    """A user's query cut into terms: long ones (3+ characters, substrings) and short ones."""

    long: list[str]
    short: list[str]
    loose: list[str]

    @classmethod
    def parse(cls, text: str) -> "Query":
        """Split on spaces, a quoted part being one term; short punctuation is 'loose'.

        A loose term (``%``, ``:)``) has no letters for the short index to
        hold, so it is only checked on the candidates of the other terms, or
        on every page when it stands alone.
        """
        terms: list[str] = []
        for i, part in enumerate(_fold(text).split('"')):
            terms += [part.strip()] if i % 2 else part.split()
        terms = [t for t in dict.fromkeys(terms) if t]
        short = [t for t in terms if len(t) < 3]
        return cls([t for t in terms if len(t) >= 3], [t for t in short if short_tokens(t)],
                   [t for t in short if not short_tokens(t)])

    def tri_match(self) -> str:
        """The trigrams of the long terms' parts outside unspaced scripts (those of 3+ characters)."""
        parts = [p for t in self.long for p in unspaced_runs(t)[1] if len(p) >= 3]
        grams = dict.fromkeys(p[i:i + 3] for p in parts for i in range(len(p) - 2))
        return " AND ".join(_quoted(g) for g in grams)

    def short_match(self) -> str:
        """The short terms, and the bigrams of the long terms' unspaced runs (a lone character as a prefix)."""
        tokens = [_quoted(t) + "*" if len(t) == 1 and is_unspaced(t) else _quoted(t) for t in self.short]
        for run in (r for t in self.long for r in unspaced_runs(t)[0]):
            tokens += [_quoted(run[i:i + 2]) for i in range(len(run) - 1)] if len(run) > 1 else [_quoted(run) + "*"]
        return " AND ".join(dict.fromkeys(tokens))

    def matches(self, doc: "Doc") -> bool:
        """The exact check: every long term is a substring (the indexes give pages holding its pieces)."""
        haystack = doc.folded
        return all(t in haystack for t in self.long) and all(t in haystack for t in self.loose)


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def candidates(conn: sqlite3.Connection, query: Query) -> list[int]:
    """Page ids the indexes match, best first by bm25 (in page order on PostgreSQL)."""
    if _on_postgres(conn):
        return pg.candidates(conn, query.long, query.short, query.loose)
    tri, short = query.tri_match(), query.short_match()
    if tri and short:
        sql = ("SELECT rowid FROM search_tri WHERE search_tri MATCH ? AND +rowid IN "
               "(SELECT rowid FROM search_short WHERE search_short MATCH ?) ORDER BY bm25(search_tri)")
        args: tuple = (tri, short)
    elif tri:
        sql, args = "SELECT rowid FROM search_tri WHERE search_tri MATCH ? ORDER BY bm25(search_tri)", (tri,)
    elif short:
        sql, args = "SELECT rowid FROM search_short WHERE search_short MATCH ? ORDER BY bm25(search_short)", (short,)
    elif query.loose:
        sql, args = "SELECT page FROM search_state ORDER BY page", ()
    else:
        return []
    return [r[0] for r in conn.execute(sql, args)]


@dataclass(frozen=True, slots=True)
class Doc:
    """A page as search reads it: its title, its text, and both folded (what terms are matched in)."""

    title: str
    text: str
    folded: str

    @classmethod
    def of(cls, title: str, text: str) -> "Doc":
        return cls(title, text, _fold(title) + "\n" + _fold(text))


def snippet(doc: Doc, query: Query, width: int = 80) -> str:
    """A piece of the page's wikitext around the first place a term occurs (what callers without a
    renderer get; the web page, the CLI and api.php show wikipeer.snippets' plain text instead)."""
    folded = doc.folded[doc.folded.index("\n") + 1:]
    places = [i for i in (folded.find(t) for t in query.long + query.short + query.loose) if i >= 0]
    start = max(0, min(places, default=0) - width // 2)
    body = " ".join(doc.text[start:start + width * 2].split())
    return ("…" if start else "") + body


def search(conn: sqlite3.Connection, query_text: str, limit: int, read: Callable[[int], Doc],
           titled: list[int] = ()) -> list[Hit]:
    """Pages matching every term, the exact title match first, then those whose title holds every term;
    ``read`` gives a page's Doc. ``titled``: pages whose title is the query normalised as titles are
    (``Foo_bar`` for "Foo bar"), first whether or not their text matches the terms."""
    query = Query.parse(query_text)
    titled = [p for p in titled if conn.execute("SELECT 1 FROM search_state WHERE page = ?", (p,)).fetchone()]
    ids = candidates(conn, query)
    if titled:
        ids = titled + [p for p in ids if p not in titled]
    titles = _titles(conn, ids)
    terms = query.long + query.short + query.loose
    exact = title_key(query_text)
    # Stable: within each group the bm25 order stays.
    ids.sort(key=lambda p: (p not in titled and title_key(titles.get(p, "")) != exact,
                            not all(t in _fold(titles.get(p, "")) for t in terms)))
    return list(_checked(ids, query, limit, read, set(titled)))


def title_key(text: str) -> str:
    """A title or query as an exact title match compares them: case-folded, underscores and runs of
    spaces as one space, a query's enclosing quotes and a leading colon left out."""
    return " ".join(_fold(unquoted(text)).replace("_", " ").split()).lstrip(":").strip()


def unquoted(query: str) -> str:
    """A query as the title it may be: stripped, and without the quotes of a phrase search ("Main Page")."""
    text = query.strip()
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text


def _titles(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]:
    """The candidates' titles, for putting title matches first: looked up by id, since reading every
    indexed title took a fifth of a search on a wiki of 100,000 pages (bench/RESULTS.md)."""
    if _on_postgres(conn):
        return pg.titles(conn, ids)
    return dict(conn.execute("SELECT page, title FROM search_state WHERE page IN (SELECT value FROM json_each(?))",
                             (json.dumps(ids),)))


def _checked(ids: list[int], query: Query, limit: int, read: Callable[[int], Doc],
             titled: set[int]) -> Iterator[Hit]:
    found = 0
    for page in ids:
        if found >= limit:
            return
        doc = read(page)
        if page in titled or query.matches(doc):
            found += 1
            yield Hit(page, snippet(doc, query))
