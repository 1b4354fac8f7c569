"""Sets of page ids selected by one property of the page, each bounded (the inter-node API's search criteria).

Every function answers at most ``limit`` ids, so a criterion can never make the node walk more rows.
"""

from __future__ import annotations

from wikipeer.store.store import Store


def _ids(store: Store, sql: str, *args: object) -> set[int]:
    return {r[0] for r in store.conn.execute(sql, args)}


def any_pages(store: Store, limit: int) -> set[int]:
    """Up to ``limit`` pages, any (what NOT takes its complement in)."""
    return _ids(store, "SELECT id FROM pages LIMIT ?", limit)


def pages_of_wiki(store: Store, wiki: str, limit: int) -> set[int]:
    return _ids(store, "SELECT id FROM pages WHERE wiki = ? LIMIT ?", wiki, limit)


def pages_in_namespace(store: Store, ns: int, limit: int) -> set[int]:
    """Pages of namespace ``ns`` in any wiki."""
    return _ids(store, "SELECT id FROM pages WHERE ns = ? LIMIT ?", ns, limit)


def pages_titled(store: Store, title: str, limit: int) -> set[int]:
    """Pages whose title (without its namespace) is ``title`` exactly, in any wiki and namespace."""
    return _ids(store, "SELECT id FROM pages WHERE title = ? LIMIT ?", title, limit)


def pages_title_containing(store: Store, part: str, limit: int) -> set[int]:
    """Pages whose title holds ``part``, case-folded."""
    return _ids(store, "SELECT id FROM pages WHERE instr(lower(title), lower(?)) LIMIT ?", part, limit)


def pages_authored_by(store: Store, key: str, limit: int) -> set[int]:
    """Pages with a revision that ``key`` signed as its author."""
    return _ids(store, "SELECT DISTINCT r.page FROM sigs s JOIN keys k ON k.id = s.key JOIN revisions r ON r.id = s.target "
                       "WHERE k.key = ? AND s.role = 'author' LIMIT ?", key, limit)
