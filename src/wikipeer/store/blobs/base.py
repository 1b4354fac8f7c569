"""Where chunk bytes live: a small interface over stores of packs, after dulwich's object_store.py.

A pack is a run of self-describing records (store/packs.py: ``MAGIC``, CID,
length, bytes) named by a number; the SQLite ``chunks`` table says in which
pack, at which offset, each chunk lies, and on a bucket ``text_places`` says
the same of each text's compressed bytes (records marked ``TEXT_MAGIC``).
Two kinds of place hold packs:

- a local directory (blobs/local.py), where a write transaction appends to the
  newest pack and fsyncs it before the rows naming it commit (the format every
  existing store has);
- a bucket (blobs/bucket.py), where objects cannot be appended to: a write
  transaction's chunks are gathered into packs of at most ``pack_size`` bytes,
  each uploaded whole, all before the transaction commits; reads are ranged GETs.

As in dulwich (BaseObjectStore, DiskObjectStore, BucketBasedObjectStore), the
store above sees only this interface: ``read`` a chunk, a ``writer`` for one
transaction, and the few whole-pack operations fsck and migrate need.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from wikipeer.errors import ServiceGone, WikipeerError
from wikipeer.store.packs import MAGIC, ChunkPlace

IndexedEnd = Callable[[], tuple[int, int]]
"""The newest pack the chunk index names and the end of its last indexed chunk ((0, 0) when none)."""


class BlobError(WikipeerError):
    """A blob store refused or failed a request (a bucket that is down, refuses, or does not exist)."""

    exit_code = 2


class BucketGone(BlobError, ServiceGone):
    """A read the bucket did not answer (refused connection, timeout, a server error): it may answer again.
    A pack the bucket answers is not there, or too short, is PackError: damage, not an outage."""


class PackWriter(Protocol):
    """Where one write transaction puts its chunks; nothing it wrote counts until the rows naming it commit."""

    def append(self, cid: bytes, data: bytes, magic: bytes = MAGIC) -> ChunkPlace:
        """Take one chunk (or, with TEXT_MAGIC, a compressed text); its place is final (it may reach the store
        only at ``sync``)."""

    def sync(self) -> None:
        """Make every chunk taken durable in the store: called before the transaction commits."""

    def close(self) -> None:
        """End the transaction's use of the writer (after a commit or a rollback)."""


class BlobStore(ABC):
    """The packs of one store."""

    url: str
    """Where the packs are, as a user names it (a directory, or s3://bucket/prefix)."""
    pack_size: int
    holds_texts: bool = False
    """Whether a write's compressed texts go into packs here too (a bucket) rather than into the texts table
    (local packs: the database file is as local as they are, and one read of a row beats a second file)."""

    def check(self) -> None:
        """BlobError if the store cannot be reached or used (checked when a store is first pointed at it)."""

    @abstractmethod
    def read(self, place: ChunkPlace) -> bytes:
        """The bytes of one chunk; PackError if its pack is missing, too short or cannot be reached."""

    def read_many(self, places: Sequence[ChunkPlace]) -> Iterator[bytes]:
        """The bytes of each chunk in turn (a store may read neighbouring chunks at once)."""
        for place in places:
            yield self.read(place)

    @abstractmethod
    def writer(self, indexed_end: IndexedEnd) -> PackWriter:
        """A writer for one write transaction (the store's write lock is held while it is used)."""

    @abstractmethod
    def pack_sizes(self) -> dict[int, int]:
        """Every pack the store holds, by number, with its size in bytes."""

    @abstractmethod
    def delete(self, pack: int) -> None:
        """Remove a pack (one no chunk row names: what a failed write left)."""
