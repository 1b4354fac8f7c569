"""The default blob store: a directory of append-only pack files beside the SQLite file (store/packs.py)."""

from __future__ import annotations

from pathlib import Path

from wikipeer.store.blobs.base import BlobStore, IndexedEnd, PackWriter
from wikipeer.store.packs import PACK_SIZE, ChunkPlace, Packs


class LocalBlobs(BlobStore):
    """``STORE.packs/00000000.pack`` ...: the on-disk format every store made before issue 18 has."""

    def __init__(self, directory: Path, pack_size: int = PACK_SIZE) -> None:
        self.directory = directory
        self.pack_size = pack_size
        self.url = str(directory)
        self._reader = Packs(directory, pack_size)

    def read(self, place: ChunkPlace) -> bytes:
        return self._reader.read(place)

    def writer(self, indexed_end: IndexedEnd) -> PackWriter:
        return Packs(self.directory, self.pack_size, indexed_end)

    def pack_sizes(self) -> dict[int, int]:
        return {int(p.stem): p.stat().st_size for p in self.directory.glob("*.pack") if p.stem.isdigit()}

    def delete(self, pack: int) -> None:
        self._reader.path(pack).unlink(missing_ok=True)
