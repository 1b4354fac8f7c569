"""Notices waiting to be passed on by gossip, each with the part of the ring to cover."""

from __future__ import annotations

import functools
import hashlib

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
