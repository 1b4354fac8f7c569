"""Who signed what: counts of the revisions a key signed as their author (MediaWiki's edit count)."""

from __future__ import annotations

from wikipeer.store.store import Store


def authored_count(store: Store, wiki: str, key: str) -> int:
    """Revisions of ``wiki`` that ``key`` signed as author."""
    row = store.conn.execute(
        "SELECT count(*) FROM sigs s JOIN keys k ON k.id = s.key JOIN revisions r ON r.id = s.target "
        "JOIN pages p ON p.id = r.page WHERE k.key = ? AND s.role = 'author' AND p.wiki = ?", (key, wiki)).fetchone()
    return row[0]
