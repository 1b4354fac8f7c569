"""Full-text search over each page's shown text and title: what both backends share.

The index itself is the backend's: two contentless FTS5 indexes on SQLite (store/fts5.py), a pg_trgm index
on PostgreSQL (store/postgres/search.py), both modules offering the same functions (``SearchBackend``).
``backend`` picks one by the connection's dialect, in one place, so nothing here asks which database it
is on. Shared: ``search_state`` (what was indexed for each page: its revision and title, and so what to
remove when it changes), the query's terms, the exact check of each candidate against the text in the
store (which the snippet needs anyway), the order of the hits and their snippets.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from wikipeer.store import fts5
from wikipeer.store.postgres import search as pg
from wikipeer.store.segment import SEGMENT_VERSION, fold, fold_page, short_tokens

INDEX_VERSION = f"{SEGMENT_VERSION}/{unicodedata.unidata_version}"
"""What the indexed tokens depend on: removing a row must repeat them exactly, so a change means a rebuild."""


class SearchBackend(Protocol):
    """What a search module offers (store/fts5.py, store/postgres/search.py). ``old`` gives the title and text
    a page was indexed with, for an index that must repeat them to remove its rows."""

    SCHEMA: str

    def put(self, conn: sqlite3.Connection, page: int, title: str, text: str,
            old: Callable[[], tuple[str, str]] | None) -> None: ...

    def remove(self, conn: sqlite3.Connection, page: int, old: Callable[[], tuple[str, str]]) -> None: ...

    def reset(self, conn: sqlite3.Connection) -> None: ...

    def candidates(self, conn: sqlite3.Connection, long: list[str], short: list[str],
                   loose: list[str]) -> list[int]: ...

    def titles(self, conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]: ...


_BACKENDS: dict[str, SearchBackend] = {"sqlite": fts5, "postgresql": pg}


def backend(conn: sqlite3.Connection) -> SearchBackend:
    """The search module for this connection's database (store/postgres's connection says "postgresql",
    sqlite3's says nothing)."""
    return _BACKENDS[getattr(conn, "dialect", "sqlite")]


def search_schema(conn: sqlite3.Connection) -> str:
    """The search tables' script for this connection's database (FTS5 on SQLite, pg_trgm on PostgreSQL)."""
    return backend(conn).SCHEMA


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the page's row id and a snippet of its text."""

    page: int
    snippet: str


def index_page(conn: sqlite3.Connection, page: int, title: str, rev: int, text: str,
               old_text: Callable[[int], str]) -> None:
    """Index a page's shown revision, in place of what was indexed for it before."""
    old = conn.execute("SELECT rev, title FROM search_state WHERE page = ?", (page,)).fetchone()
    if old is not None and old[0] == rev and old[1] == title:
        return
    backend(conn).put(conn, page, title, text, None if old is None else lambda: (old[1], old_text(old[0])))
    conn.execute("INSERT OR REPLACE INTO search_state VALUES (?, ?, ?)", (page, rev, title))


def unindex_page(conn: sqlite3.Connection, page: int, old_text: Callable[[int], str]) -> None:
    """Remove what the index holds for a page (``old_text`` gives a revision's text, for FTS5's sake)."""
    old = conn.execute("SELECT rev, title FROM search_state WHERE page = ?", (page,)).fetchone()
    if old is None:
        return
    backend(conn).remove(conn, page, lambda: (old[1], old_text(old[0])))
    conn.execute("DELETE FROM search_state WHERE page = ?", (page,))


def reset(conn: sqlite3.Connection) -> None:
    """Empty the index (a change of tokens: the old rows could not be removed one by one any more).

    The caller marks every page, and the indexer fills them again behind (store/indexer.py).
    """
    conn.execute("DELETE FROM search_state")
    backend(conn).reset(conn)


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
        # NUL splits like a space: no page's text holds one (ingest refuses it), and PostgreSQL cannot be
        # asked about one (a search for "a\0b" there was a 500).
        for i, part in enumerate(fold(text.replace("\0", " ")).split('"')):
            terms += [part.strip()] if i % 2 else part.split()
        terms = [t for t in dict.fromkeys(terms) if t]
        short = [t for t in terms if len(t) < 3]
        return cls([t for t in terms if len(t) >= 3], [t for t in short if short_tokens(t)],
                   [t for t in short if not short_tokens(t)])

    def matches(self, doc: "Doc") -> bool:
        """The exact check: every long term is a substring (the indexes give pages holding its pieces)."""
        haystack = doc.folded
        return all(t in haystack for t in self.long) and all(t in haystack for t in self.loose)


def candidates(conn: sqlite3.Connection, query: Query) -> list[int]:
    """Page ids the index matches, best first by bm25 on SQLite (in page order on PostgreSQL)."""
    return backend(conn).candidates(conn, query.long, query.short, query.loose)


@dataclass(frozen=True, slots=True)
class Doc:
    """A page as search reads it: its title, its text, and both folded (what terms are matched in)."""

    title: str
    text: str
    folded: str

    @classmethod
    def of(cls, title: str, text: str) -> "Doc":
        return cls(title, text, fold_page(title, text))


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
    # The candidates' titles, for putting title matches first: looked up by id, since reading every indexed
    # title took a fifth of a search on a wiki of 100,000 pages (bench/RESULTS.md).
    titles = backend(conn).titles(conn, ids)
    terms = query.long + query.short + query.loose
    exact = title_key(query_text)
    # Stable: within each group the bm25 order stays.
    ids.sort(key=lambda p: (p not in titled and title_key(titles.get(p, "")) != exact,
                            not all(t in fold(titles.get(p, "")) for t in terms)))
    return list(_checked(ids, query, limit, read, set(titled)))


def title_key(text: str) -> str:
    """A title or query as an exact title match compares them: case-folded, underscores and runs of
    spaces as one space, a query's enclosing quotes and a leading colon left out."""
    return " ".join(fold(unquoted(text)).replace("_", " ").split()).lstrip(":").strip()


def unquoted(query: str) -> str:
    """A query as the title it may be: stripped, and without the quotes of a phrase search ("Main Page")."""
    text = query.strip()
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text


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
