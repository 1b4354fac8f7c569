"""The change log, whole or narrowed to some wikis, namespaces or pages.

Positions are object ids: handed out in the order objects were accepted, so
"what came after position N" is ``id > N``, and every object comes after
what it needs (a page and text before their revision, a revision before its
signatures, a file's chunks before the file). A reader that takes the log in
order can ingest it in order.

Files travel like revisions: a scoped log carries the file versions of the
pages in scope, their signatures and their chunks; a page of the log never
ends between a file's chunks and the file, so a reader never sees raw chunk
bytes without the file object that says they are chunks (see docs/media.md,
"How files travel").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libipld

from wikipeer.model.block import Block
from wikipeer.store.schema import KIND_BAN, KIND_CHUNK, KIND_FILE, KIND_PROFILE
from wikipeer.store.store import Store

BATCH = 1000


@dataclass(frozen=True, slots=True)
class Scope:
    """Which part of the log a partial node follows: whole wikis, namespaces of a
    wiki, or single pages (a page in any of them is in scope). Empty: everything."""

    wikis: tuple[str, ...] = ()
    namespaces: tuple[tuple[str, int], ...] = ()  # (wiki, namespace number)
    pages: tuple[bytes, ...] = ()  # page CIDs

    @property
    def everything(self) -> bool:
        return not (self.wikis or self.namespaces or self.pages)

    def page_filter(self) -> tuple[str, list]:
        """An SQL condition on ``pages`` (aliased pg) and its arguments."""
        conds, args = [], []
        if self.wikis:
            conds.append(f"pg.wiki IN ({','.join('?' * len(self.wikis))})")
            args += self.wikis
        for wiki, ns in self.namespaces:
            conds.append("(pg.wiki = ? AND pg.ns = ?)")
            args += [wiki, ns]
        if self.pages:
            conds.append(f"pg.id IN (SELECT id FROM objects WHERE cid IN ({','.join('?' * len(self.pages))}))")
            args += self.pages
        return " OR ".join(conds) or "1", args


def outside(ids: list[int], ranges: list[tuple[int, int]]) -> list[int]:
    """The positions that fall in none of the (first, last) ranges."""
    return [i for i in ids if not any(first <= i <= last for first, last in ranges)] if ranges else ids


def positions(store: Store, since: int, limit: int, scope: Scope = Scope()) -> list[int]:
    """Log positions after ``since`` (about ``limit``) of the objects in ``scope``.

    A page of the log never ends between an object and the signatures that
    follow it (a reader that ingests page by page would refuse the object as
    unsigned), nor between a file's chunks and the file (the reader would take
    the chunks for texts). So a full page runs on over those.
    """
    ids = _positions(store, since, limit, scope)
    if len(ids) < limit:
        return ids
    # Only what follows the page one after another: the next page starts after
    # the last position given, so nothing in between may be left out.
    tail = set(ids[-64:])
    last_kind = store.conn.execute("SELECT kind FROM objects WHERE id = ?", (ids[-1],)).fetchone()[0]
    while True:
        rows = store.conn.execute(
            "SELECT o.id, o.kind, s.target FROM objects o LEFT JOIN sigs s ON s.sig = o.id WHERE o.id > ? "
            "ORDER BY o.id LIMIT 64", (ids[-1],)).fetchall()
        for oid, kind, target in rows:
            if last_kind != KIND_CHUNK and target not in tail:
                return ids
            ids.append(oid)
            tail.add(oid)
            last_kind = kind
        if len(rows) < 64:
            return ids


def _positions(store: Store, since: int, limit: int, scope: Scope) -> list[int]:
    if scope.everything:
        rows = store.conn.execute("SELECT id FROM objects WHERE id > ? ORDER BY id LIMIT ?", (since, limit))
        return [r[0] for r in rows]
    where, args = scope.page_filter()
    sql = f"""
        WITH p(id) AS (SELECT pg.id FROM pages pg WHERE {where})
        SELECT o.id FROM objects o WHERE o.id > ? AND (
            o.kind IN ({KIND_PROFILE}, {KIND_BAN})
            OR o.id IN (SELECT id FROM p)
            OR o.id IN (SELECT r.id FROM revisions r WHERE r.page IN (SELECT id FROM p))
            OR o.id IN (SELECT r.text FROM revisions r WHERE r.page IN (SELECT id FROM p))
            OR o.id IN (SELECT s.sig FROM sigs s JOIN revisions r ON r.id = s.target WHERE r.page IN (SELECT id FROM p))
            OR o.id IN (SELECT f.id FROM files f WHERE f.page IN (SELECT id FROM p))
            OR o.id IN (SELECT s.sig FROM sigs s JOIN files f ON f.id = s.target WHERE f.page IN (SELECT id FROM p)))
        ORDER BY o.id LIMIT ?"""
    ids = [r[0] for r in store.conn.execute(sql, (*args, since, limit))]
    chunks = file_chunk_ids(store, ids, since)
    return sorted(set(ids) | chunks) if chunks else ids


def file_chunk_ids(store: Store, ids: list[int], since: int = 0) -> set[int]:
    """The positions after ``since`` of the chunks that the file objects among ``ids`` name.

    A chunk is one object however many files name it, so it has one position:
    a chunk at or before ``since`` went with an earlier page of the log.
    """
    out: set[int] = set()
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        rows = store.conn.execute(f"SELECT data FROM objects WHERE kind = {KIND_FILE} AND id IN "
                                  f"({','.join('?' * len(part))})", part).fetchall()
        cids = list({c for (data,) in rows for c in libipld.decode_dag_cbor(data)["chunks"]})
        for first in range(0, len(cids), 500):
            named = cids[first:first + 500]
            wanted = set(named)
            # By the indexed CID prefix (as Store.object_id), then the whole CID.
            out.update(oid for oid, cid in store.conn.execute(
                f"SELECT id, cid FROM objects WHERE substr(cid, 5, 8) IN ({','.join('?' * len(named))}) "
                f"AND kind = {KIND_CHUNK} AND id > ?", (*(c[4:12] for c in named), since)) if cid in wanted)
    return out


def read(store: Store, ids: list[int]) -> Iterator[Block]:
    """The blocks at these positions, in the order given."""
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = store.conn.execute(
            f"SELECT id, cid, kind, data FROM objects WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        by_id = {row[0]: row for row in rows}
        for oid in chunk:
            if oid in by_id:  # evicted meanwhile: skip
                yield store.block_at(*by_id[oid])


def object_count(store: Store) -> int:
    """How many objects the store holds (fewer than its last position once fetched pages were evicted)."""
    return store.conn.execute("SELECT count(*) FROM objects").fetchone()[0]


def object_cids(store: Store) -> Iterator[bytes]:
    """The CID of every object held, in no promised order, read in one pass (half the time of log_cids)."""
    return (c for (c,) in store.conn.execute("SELECT cid FROM objects"))


def signed_by(store: Store, since: int, keys: frozenset[str]) -> list[int]:
    """Positions after ``since`` of what these keys signed, with what it needs to travel.

    For a revision signed (authored, or seconded) by one of ``keys``: its page,
    its text, the revision and all its signatures; for a file version: its
    page, its chunks (all of them: the other side may lack a shared one), the
    file and its signatures; also profiles and bans the keys issued. This is
    "the changes made here" a USB stick carries out.
    """
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    conn = store.conn
    sigs = conn.execute(
        f"SELECT s.target, s.sig FROM sigs s JOIN keys k ON k.id = s.key WHERE k.key IN ({marks}) AND s.sig > ?",
        (*keys, since)).fetchall()
    targets = sorted({t for t, _ in sigs})
    ids = {s for _, s in sigs} | set(targets)
    for start in range(0, len(targets), 500):
        chunk = targets[start:start + 500]
        qs = ",".join("?" * len(chunk))
        for page, text in conn.execute(f"SELECT page, text FROM revisions WHERE id IN ({qs})", chunk):
            ids.update((page, text))
        ids.update(page for (page,) in conn.execute(f"SELECT page FROM files WHERE id IN ({qs})", chunk))
        ids.update(s for (s,) in conn.execute(f"SELECT sig FROM sigs WHERE target IN ({qs})", chunk))
    ids |= file_chunk_ids(store, targets)
    for oid, data in conn.execute(f"SELECT id, data FROM objects WHERE id > ? AND kind IN ({KIND_PROFILE}, {KIND_BAN})",
                                  (since,)):
        if libipld.decode_dag_cbor(data).get("key") in keys:
            ids.add(oid)
    return sorted(ids)
