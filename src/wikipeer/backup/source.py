"""The seam between backups and the store: what the node holds since a point, and a block's bytes.

Everything the store names by CID is listed and read the same way, whatever it
is (revision, text, signature, notice); media chunks, kept in pack files outside
SQLite, join by listing and reading through these two functions as well.
"""

from __future__ import annotations

from collections.abc import Iterator

from wikipeer.backup.snapshots import FileEntry
from wikipeer.model.block import Block
from wikipeer.store.hidden import hidden_cids
from wikipeer.store.store import Store


def held_since(store: Store, since: int = 0) -> Iterator[tuple[int, bytes]]:
    """(log position, CID) of every block the node holds after log position ``since``."""
    return store.log_cids(since)


def read_block(store: Store, cid: bytes) -> Block | None:
    """The block named ``cid`` exactly as it arrived, or None if the node no longer holds it."""
    return store.get_block(cid)


def held_files(store: Store) -> list[FileEntry]:
    """Every media file version the node holds: its SHA-256, file object CID and page CID."""
    return [FileEntry(sha, cid, page) for sha, cid, page in store.file_cids()]


def private_cids(store: Store) -> set[bytes]:
    """The blocks that may go only to private targets.

    Private is what the node does not show to everyone: pages hidden now (deleted
    on their wiki, store/hidden.py) with their revisions and file versions; single
    revisions and file versions hidden on their own (deleted or suppressed on
    their wiki, or `wikipeer hide`); the signatures over them, and texts and
    chunks that nothing shown uses as well.
    Account data (accounts.sqlite) is outside the store and is not backed up.
    """
    return hidden_cids(store)
