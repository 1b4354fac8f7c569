"""Notices waiting to be passed on by gossip, each with the part of the ring to cover."""

from __future__ import annotations

import functools
import hashlib

from wikipeer.model.block import Block
from wikipeer.store.schema import NOTICE_KINDS
from wikipeer.store.store import Store

RING = 1 << 256
"""Positions on the gossip ring run from 0 to RING (net/gossip.py)."""


@functools.lru_cache(maxsize=65536)
def position(key: str) -> int:
    """A node's place on the ring (kept: gossip and peer exchange ask for the same keys again and again)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")


def queue(store: Store, object_id: int, lo: int = 0, hi: int = RING) -> None:
    """Pass the notice at ``object_id`` on once, covering [lo, hi) of the ring (by default all of it)."""
    with store.conn:
        store.conn.execute("INSERT OR IGNORE INTO gossip VALUES (?, ?, ?)", (object_id, hex(lo), hex(hi)))


def pending(store: Store) -> list[tuple[int, int, int]]:
    return [(oid, int(lo, 16), int(hi, 16))
            for oid, lo, hi in store.conn.execute("SELECT id, range_lo, range_hi FROM gossip ORDER BY id")]


def done(store: Store, object_id: int) -> None:
    with store.conn:
        store.conn.execute("DELETE FROM gossip WHERE id = ?", (object_id,))


def is_notice(store: Store, object_id: int) -> bool:
    """Whether the object at ``object_id`` is a notice (a profile, ban, trust list or blocklist)."""
    row = store.conn.execute("SELECT kind FROM objects WHERE id = ?", (object_id,)).fetchone()
    return row is not None and row[0] in NOTICE_KINDS


def notice_blocks(store: Store, object_id: int) -> list[Block]:
    """The notice at ``object_id`` and its signatures' blocks: what passing it on sends."""
    cid = store.conn.execute("SELECT cid FROM objects WHERE id = ?", (object_id,)).fetchone()[0]
    sigs = store.conn.execute("SELECT o.cid FROM sigs s JOIN objects o ON o.id = s.sig WHERE s.target = ?",
                              (object_id,))
    return [b for b in [store.get_block(cid), *(store.get_block(c) for (c,) in sigs)] if b is not None]
