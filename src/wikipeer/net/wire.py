"""CAR streams on the wire: zstd-compressed going out, bounded coming in.

The sender compresses a CAR as it writes it; the receiver reads through a
decompressor that refuses to produce more than a set number of bytes, so an
endless stream or a bomb that inflates a little input into a lot stops with a
clear message instead of filling memory or disk.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import zstandard

from wikipeer.errors import InvalidObject
from wikipeer.formats.car import header_bytes, section_bytes
from wikipeer.model.block import Block

CAR_ZSTD = "application/vnd.ipld.car+zstd"
NEXT_HEADER = "x-wikipeer-next"  # the log position a response reaches
COUNT_HEADER = "x-wikipeer-count"  # how many blocks it holds
NODE_HEADER = "x-wikipeer-node"  # the node key of an uploader (a hint only: never trusted)
CHUNK = 64 * 1024


class StreamTooLarge(InvalidObject):
    """A peer's stream went past what this node agreed to read."""


def car_chunks(blocks: Iterable[Block], roots: Iterable[bytes] = (), level: int = 3) -> Iterator[bytes]:
    """A zstd-compressed CAR of ``blocks``, in chunks, produced as it is read."""
    compressor = zstandard.ZstdCompressor(level=level).compressobj()
    pending = [header_bytes(roots)]
    size = len(pending[0])
    for block in blocks:
        section = section_bytes(block)
        pending.append(section)
        size += len(section)
        if size >= CHUNK:
            out = compressor.compress(b"".join(pending))
            pending, size = [], 0
            if out:
                yield out
    yield compressor.compress(b"".join(pending)) + compressor.flush()


class BoundedReader(io.RawIOBase):
    """A file-like reader of decompressed bytes from an iterator of compressed chunks.

    ``max_bytes`` bounds what is decompressed; ``max_raw`` what is taken from the wire.
    """

    def __init__(self, chunks: Iterator[bytes], max_bytes: int, max_raw: int, peer: str = "the peer") -> None:
        self.chunks, self.max_bytes, self.max_raw, self.peer = chunks, max_bytes, max_raw, peer
        self.decompressor = zstandard.ZstdDecompressor().decompressobj()
        self.buffer = bytearray()
        self.raw_bytes = self.out_bytes = 0
        self.ended = False

    def readable(self) -> bool:
        return True

    def _fill(self, n: int) -> None:
        while len(self.buffer) < n and not self.ended:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.ended = True
                return
            self.raw_bytes += len(chunk)
            if self.raw_bytes > self.max_raw:
                raise StreamTooLarge(f"{self.peer} sent more than {self.max_raw} bytes: stopped reading")
            try:
                out = self.decompressor.decompress(chunk)
            except zstandard.ZstdError as exc:
                raise InvalidObject(f"{self.peer} sent a stream that is not zstd: {exc}") from None
            self.out_bytes += len(out)
            if self.out_bytes > self.max_bytes:
                raise StreamTooLarge(f"{self.peer}'s stream inflates past {self.max_bytes} bytes: stopped reading")
            self.buffer += out

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = self.max_bytes
        self._fill(n)
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out
