"""The store's own consistency, as fsck asks it: the engine's check, and index rows that point nowhere.

fsck (above the store) recomputes CIDs and checks signatures from blocks; what only the tables can
answer is asked here, so fsck sees no SQL.
"""

from __future__ import annotations

from wikipeer.store.packs import HEADER
from wikipeer.store.records import DanglingRow
from wikipeer.store.store import Store

_DANGLING = {
    "revision without its page": "SELECT r.id FROM revisions r LEFT JOIN pages p ON p.id = r.page WHERE p.id IS NULL",
    "revision without its text": "SELECT r.id FROM revisions r LEFT JOIN texts t ON t.id = r.text WHERE t.id IS NULL",
    "revision whose parent is missing": "SELECT x.child FROM parents x LEFT JOIN revisions r ON r.id = x.parent WHERE r.id IS NULL",
    "head that is not a revision": "SELECT h.rev FROM heads h LEFT JOIN revisions r ON r.id = h.rev WHERE r.id IS NULL",
    "head that has a child": "SELECT h.rev FROM heads h JOIN parents x ON x.parent = h.rev",
    "page without a head": "SELECT p.id FROM pages p WHERE EXISTS (SELECT 1 FROM revisions r WHERE r.page = p.id) AND NOT EXISTS (SELECT 1 FROM heads h WHERE h.page = p.id)",
    "file without its page": "SELECT f.id FROM files f LEFT JOIN pages p ON p.id = f.page WHERE p.id IS NULL",
    "chunk index row without its object": "SELECT c.id FROM chunks c LEFT JOIN objects o ON o.id = c.id WHERE o.id IS NULL",
    "text compressed against a missing text": "SELECT t.id FROM texts t LEFT JOIN texts b ON b.id = t.base WHERE t.base IS NOT NULL AND b.id IS NULL",
    "text place without its text": "SELECT x.id FROM text_places x LEFT JOIN texts t ON t.id = x.id WHERE t.id IS NULL",
    "text with neither bytes nor a place": "SELECT t.id FROM texts t LEFT JOIN text_places x ON x.id = t.id "
                                           "WHERE length(t.data) = 0 AND x.id IS NULL",
    "text compressed with a missing dictionary": "SELECT t.id FROM texts t LEFT JOIN text_dicts d ON d.id = t.dict WHERE t.dict IS NOT NULL AND d.id IS NULL",
}


def engine_check(store: Store) -> str:
    """The database engine's own integrity check of the store file: "ok" when sound, else what it found."""
    return store.conn.execute("PRAGMA integrity_check").fetchone()[0]


def chunk_ids(store: Store) -> set[int]:
    """The ids of the objects held as media chunks (raw blocks that are not texts)."""
    return {r[0] for r in store.conn.execute("SELECT id FROM chunks")}


def orphan_packs(store: Store) -> dict[int, int]:
    """Packs in the store's blob store that no chunk or text row names, with their sizes: what failed writes
    left (harmless; fsck lists them apart from faults)."""
    named = {r[0] for r in store.conn.execute("SELECT DISTINCT pack FROM chunks "
                                              "UNION SELECT DISTINCT pack FROM text_places")}
    return {pack: size for pack, size in store.blobs.pack_sizes().items() if pack not in named}


def dead_record_bytes(store: Store) -> int:
    """Bytes in packs some row names that no chunk or text row names: the first records of texts compressed
    again with a trained dictionary, and texts of evicted pages (packs are never rewritten; harmless)."""
    named = dict(store.conn.execute(
        f"SELECT pack, sum(length + {HEADER}) FROM (SELECT pack, length FROM chunks "
        "UNION ALL SELECT pack, length FROM text_places) AS placed GROUP BY pack").fetchall())
    return sum(size - named[pack] for pack, size in store.blobs.pack_sizes().items() if pack in named)


def pages_with_files(store: Store) -> list[int]:
    """The ids of the pages that have at least one file version."""
    return [r[0] for r in store.conn.execute("SELECT DISTINCT page FROM files").fetchall()]


def dangling_rows(store: Store) -> list[DanglingRow]:
    """Index rows that point at objects the store lacks, each with what is wrong."""
    conn = store.conn
    out = []
    for problem, sql in _DANGLING.items():
        for (oid,) in conn.execute(sql):
            row = conn.execute("SELECT cid FROM objects WHERE id = ?", (oid,)).fetchone()
            out.append(DanglingRow(problem, oid, row[0] if row else None))
    return out
