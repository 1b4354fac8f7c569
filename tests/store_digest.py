"""What "the same store" means for the crash tests: a digest of everything a node holds.

Two stores are identical when they hold the same objects by CID with the same
bytes, in the same log order (the pipeline keeps the order of its input), with
the same heads, nothing held, no import left half-recorded, and fsck finds
no fault in either.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from wikipeer.fsck import fsck
from wikipeer.store.store import Store


@dataclass(frozen=True)
class StoreDigest:
    """The parts of a store that must match (see the module docstring)."""

    log: tuple[tuple[bytes, str], ...]
    """Every object's CID and the SHA-256 of its block's bytes, in log order."""
    heads: tuple[tuple[bytes, bytes], ...]
    """(page CID, head revision CID), sorted."""
    held: int
    faults: tuple[str, ...]


def store_digest(path: Path) -> StoreDigest:
    """The digest of the store at ``path`` (a node's store.sqlite)."""
    store = Store(path)
    try:
        cids = [cid for (cid,) in store.conn.execute("SELECT cid FROM objects ORDER BY id")]
        log = tuple((cid, hashlib.sha256(store.get_block(cid).data).hexdigest()) for cid in cids)
        heads = tuple(sorted(store.conn.execute(
            "SELECT p.cid, r.cid FROM heads h JOIN objects p ON p.id = h.page JOIN objects r ON r.id = h.rev")))
        held = store.conn.execute("SELECT count(*) FROM held").fetchone()[0]
        _, faults = fsck(store)
        return StoreDigest(log, heads, held, tuple(str(f) for f in faults))
    finally:
        store.close()
