"""The seam between backups and the store: what the node holds since a point, and a block's bytes.

Everything the store names by CID is listed and read the same way, whatever it
is (revision, text, signature, notice); media chunks, kept in pack files outside
SQLite, join by listing and reading through these two functions as well.
"""

from __future__ import annotations

from collections.abc import Iterator

from wikipeer.model.block import Block
from wikipeer.store.store import Store


def held_since(store: Store, since: int = 0) -> Iterator[tuple[int, bytes]]:
    """(log position, CID) of every block the node holds after log position ``since``."""
    return store.log_cids(since)


def read_block(store: Store, cid: bytes) -> Block | None:
    """The block named ``cid`` exactly as it arrived, or None if the node no longer holds it."""
    return store.get_block(cid)


def is_private(store: Store, cid: bytes) -> bool:
    """Whether a block may go only to private targets.

    The store marks nothing hidden or suppressed yet, and account data lives
    outside it (web/accounts.sqlite), so every block it holds is public for now;
    when a mark exists, this is where it is read.
    """
    return False
