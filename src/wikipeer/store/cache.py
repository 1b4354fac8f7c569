"""A partial node's cache of pages: what readers opened, what they pinned, what may go.

Pages a partial node fetched (``fetched``) count against a quota of bytes;
when the cache is over it, the least recently read fetched pages are evicted
until it fits again. Pages a user pinned, and pages with a revision signed by
one of this node's own keys, are never evicted. A whole page goes at once:
its revisions, texts (unless another page shares them), signatures and
index entries, in one transaction, so an evicted page leaves nothing behind
that fsck would call broken.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from wikipeer.store import search as fts
from wikipeer.store.store import Store

_TEXT_BYTES = "coalesce(sum(length(t.data) + coalesce(tp.length, 0)), 0) + count(r.id) * 200"
"""A page's texts as stored (in the texts table, or in the blob store's packs), plus a share for its records."""
_TEXT_JOINS = "LEFT JOIN texts t ON t.id = r.text LEFT JOIN text_places tp ON tp.id = r.text"


@dataclass(frozen=True, slots=True)
class Evicted:
    page: int
    title: str
    bytes: int


class PageCache:
    """Read times, pins and eviction for one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def touch(self, page_id: int) -> None:
        """A reader opened the page now: it moves to the back of the eviction queue.

        Only fetched pages are evictable, so only they are written to: reading
        a followed page never waits for the store's write lock. A read time that
        cannot be written (a full disk) is let go: it only orders evictions, and
        the reader must still get the page.
        """
        conn = self.store.conn
        if conn.execute("SELECT 1 FROM local_pages WHERE page = ? AND fetched = 1", (page_id,)).fetchone():
            try:
                with conn:
                    conn.execute("UPDATE local_pages SET last_read = ? WHERE page = ?",
                                 (int(time.time() * 1000), page_id))
            except sqlite3.OperationalError:
                pass

    def pin(self, page_id: int, pinned: bool = True) -> None:
        with self.store.conn:
            self.store.conn.execute(
                "INSERT INTO local_pages(page, pinned) VALUES (?, ?) ON CONFLICT(page) DO UPDATE SET pinned = ?",
                (page_id, int(pinned), int(pinned)))

    def mark_fetched(self, page_id: int) -> None:
        with self.store.conn:
            self.store.conn.execute(
                "INSERT INTO local_pages(page, fetched, last_read) VALUES (?, 1, ?) "
                "ON CONFLICT(page) DO UPDATE SET fetched = 1, last_read = excluded.last_read",
                (page_id, int(time.time() * 1000)))

    def page_bytes(self, page_id: int) -> int:
        row = self.store.conn.execute(
            f"SELECT {_TEXT_BYTES} FROM revisions r {_TEXT_JOINS} WHERE r.page = ?", (page_id,)).fetchone()
        return row[0]

    def cached_bytes(self) -> int:
        """Bytes the evictable pages take (texts as stored, plus a share for their records)."""
        row = self.store.conn.execute(
            f"SELECT {_TEXT_BYTES} FROM local_pages l JOIN revisions r ON r.page = l.page {_TEXT_JOINS} "
            "WHERE l.fetched = 1").fetchone()
        return row[0]

    def evictable(self, local_keys: frozenset[str]) -> list[int]:
        """Fetched pages that are not pinned and carry no local signature, least recently read first."""
        rows = self.store.conn.execute(
            "SELECT page FROM local_pages WHERE fetched = 1 AND pinned = 0 "
            # A File: page holding file versions stays: eviction does not yet remove files and their chunks.
            "AND page NOT IN (SELECT page FROM files) ORDER BY last_read, page").fetchall()
        return [p for (p,) in rows if not self._written_here(p, local_keys)]

    def _written_here(self, page_id: int, local_keys: frozenset[str]) -> bool:
        keys = {k for (k,) in self.store.conn.execute(
            "SELECT DISTINCT k.key FROM revisions r JOIN sigs s ON s.target = r.id JOIN keys k ON k.id = s.key "
            "WHERE r.page = ?", (page_id,))}
        return bool(keys & local_keys)

    def enforce(self, quota: int, local_keys: frozenset[str], keep: frozenset[int] = frozenset()) -> list[Evicted]:
        """Evict least recently read pages until the cache fits ``quota`` bytes.

        ``keep``: pages just fetched for a reader, which stay even over the quota.
        """
        evicted = []
        over = self.cached_bytes() - quota
        for page_id in self.evictable(local_keys):
            if over <= 0:
                break
            if page_id in keep:
                continue
            size = self.page_bytes(page_id)
            row = self.store.page_by_id(page_id)
            evict_page(self.store, page_id)
            evicted.append(Evicted(page_id, row.title, size))
            over -= size
        return evicted


def evict_page(store: Store, page_id: int) -> None:
    """Remove a page and everything only it uses, in one transaction."""
    conn = store.conn
    with store.write() as writer:
        revs = [r for (r,) in conn.execute("SELECT id FROM revisions WHERE page = ?", (page_id,))]
        marks = ",".join("?" * len(revs)) or "NULL"
        texts = {t for (t,) in conn.execute(f"SELECT DISTINCT text FROM revisions WHERE id IN ({marks})", revs)}
        shared = {t for (t,) in conn.execute(
            f"SELECT DISTINCT text FROM revisions WHERE page != ? AND text IN ({','.join('?' * len(texts)) or 'NULL'})",
            (page_id, *texts))}
        sigs = [s for (s,) in conn.execute(f"SELECT sig FROM sigs WHERE target IN ({marks})", revs)]
        fts.unindex_page(conn, page_id, writer._revision_text)
        gone_texts = texts - shared
        # A text kept for another page must not lose the dictionary it was compressed against.
        for text_id in sorted(gone_texts):
            if conn.execute("SELECT 1 FROM texts WHERE base = ? AND id NOT IN "
                            f"({','.join('?' * len(gone_texts))})", (text_id, *gone_texts)).fetchone():
                gone_texts.discard(text_id)
        conn.execute(f"DELETE FROM parents WHERE child IN ({marks})", revs)
        conn.execute(f"DELETE FROM shallow WHERE child IN ({marks})", revs)
        conn.execute(f"DELETE FROM origins WHERE rev IN ({marks})", revs)
        conn.execute(f"DELETE FROM sigs WHERE target IN ({marks})", revs)
        conn.execute("DELETE FROM heads WHERE page = ?", (page_id,))
        conn.execute("DELETE FROM revisions WHERE page = ?", (page_id,))
        conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
        conn.execute("DELETE FROM local_pages WHERE page = ?", (page_id,))
        conn.execute("DELETE FROM index_pending WHERE page = ?", (page_id,))
        text_marks = ",".join("?" * len(gone_texts)) or "NULL"
        conn.execute(f"DELETE FROM texts WHERE id IN ({text_marks})", sorted(gone_texts))
        # Their records in a bucket's packs stay, named by nothing (packs are never rewritten).
        conn.execute(f"DELETE FROM text_places WHERE id IN ({text_marks})", sorted(gone_texts))
        conn.execute(f"DELETE FROM text_sha1 WHERE text IN ({text_marks})", sorted(gone_texts))
        gone = [page_id, *revs, *sigs, *sorted(gone_texts)]
        conn.execute(f"DELETE FROM objects WHERE id IN ({','.join('?' * len(gone))})", gone)
