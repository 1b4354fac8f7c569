"""Append-only pack files for file chunks, beside the SQLite file.

A node with 100 GB of media keeps its database small: chunk bytes go to pack
files of about ``PACK_SIZE`` bytes each, and SQLite holds only where each
chunk lies (the ``chunks`` table: pack number, offset, length). A record in a
pack is ``MAGIC``, the chunk's CID, its length (4 bytes, big-endian) and its
bytes, so a pack describes itself and could be re-indexed or carried alone.

Crash safety: chunks are appended during the ingest transaction and fsynced
before it commits, so every committed index row points at bytes on disk.
Bytes past the last indexed record (a crash mid-append, a rolled-back batch)
belong to nothing: the next writer truncates the pack to its indexed end
before appending, under the store's write lock, so a torn tail never grows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PACK_SIZE = 16 << 20
MAGIC = b"WPK1"
TEXT_MAGIC = b"WPT1"
"""Marks a record holding a text's zstd-compressed bytes (texts go to packs on a bucket store): its CID is the
text's, which those bytes do not hash to, so whoever walks a pack must tell the two kinds apart."""
HEADER = len(MAGIC) + 36 + 4


def record(cid: bytes, data: bytes, magic: bytes = MAGIC) -> bytes:
    """One pack record: ``magic`` (a chunk's MAGIC or a compressed text's TEXT_MAGIC), CID, length, bytes."""
    assert len(cid) == 36 and len(magic) == len(MAGIC), "pack records hold 36-byte CIDs"
    return magic + cid + len(data).to_bytes(4, "big") + data


@dataclass(frozen=True, slots=True)
class ChunkPlace:
    """Where a chunk's bytes lie: pack number, offset of the bytes, their length."""

    pack: int
    offset: int
    length: int


class PackError(OSError):
    """A pack cannot be read where the index says a chunk lies."""


def whole(pack: str, place: ChunkPlace, data: bytes) -> bytes:
    """``data``, read from ``pack`` at ``place``, if it is all there; else PackError."""
    if len(data) != place.length:
        raise PackError(f"pack {pack} ends before the chunk at offset {place.offset} "
                        f"(wanted {place.length} bytes, found {len(data)})")
    return data


class Packs:
    """The pack files of one store: reads for anyone, appends for the one writer."""

    def __init__(self, directory: Path, pack_size: int = PACK_SIZE,
                 indexed_end: Callable[[], tuple[int, int]] | None = None) -> None:
        self.directory = directory
        self.pack_size = pack_size
        self.indexed_end = indexed_end  # the writer's: the newest pack the chunk index names, and its end
        self._fd: int | None = None
        self._pack = 0
        self._end = 0
        self._dirty: set[int] = set()
        self._new_file = False

    def path(self, pack: int) -> Path:
        return self.directory / f"{pack:08d}.pack"

    def read(self, place: ChunkPlace) -> bytes:
        """The bytes of one chunk; PackError if the pack is missing or too short."""
        try:
            with open(self.path(place.pack), "rb") as handle:
                handle.seek(place.offset)
                data = handle.read(place.length)
        except OSError as exc:
            raise PackError(f"pack {self.path(place.pack).name} cannot be read: {exc.strerror or exc}") from None
        return whole(self.path(place.pack).name, place, data)

    # -- the writer's side (inside the store's write transaction) ---------

    def append(self, cid: bytes, data: bytes, magic: bytes = MAGIC) -> ChunkPlace:
        """Append one record to the current pack (a new one when it is full); fsync comes at ``sync``."""
        if self._fd is None:
            self._open_current()
        if self._end >= self.pack_size:
            self._start(self._pack + 1, 0)
        assert self._fd is not None
        packed = record(cid, data, magic)
        view, at = memoryview(packed), self._end
        while view:  # a write may be short (a nearly full disk): go on until it fails or all is written
            written = os.pwrite(self._fd, view, at)
            view, at = view[written:], at + written
        place = ChunkPlace(self._pack, self._end + HEADER, len(data))
        self._end += len(packed)
        self._dirty.add(self._fd)
        return place

    def _open_current(self) -> None:
        """Open the newest pack at the end of what the index names, cutting off anything past it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        assert self.indexed_end is not None, "a Packs that appends is made with indexed_end"
        pack, end = self.indexed_end()
        on_disk = sorted(int(p.stem) for p in self.directory.glob("*.pack") if p.stem.isdigit())
        for later in (n for n in on_disk if n > pack):  # packs no committed row names: torn or rolled back
            self.path(later).unlink()
        self._start(pack, end)

    def _start(self, pack: int, end: int) -> None:
        self.close()
        path = self.path(pack)
        self._new_file = self._new_file or not path.exists()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size != end:
            os.ftruncate(self._fd, end)
        self._pack, self._end = pack, end

    def sync(self) -> None:
        """Make every append of this transaction durable (before the index rows commit)."""
        for fd in self._dirty:
            os.fsync(fd)
        if self._new_file:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._dirty.clear()
        self._new_file = False

    def close(self) -> None:
        """Forget the open pack: the next transaction finds its end again from the index."""
        if self._fd is not None:
            if self._fd in self._dirty:
                os.fsync(self._fd)
                self._dirty.discard(self._fd)
            os.close(self._fd)
            self._fd = None
