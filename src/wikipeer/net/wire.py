"""CAR streams on the wire: zstd-compressed going out, bounded coming in.

The sender compresses a CAR as it writes it; the receiver reads through a
``formats.compressed.ZstdReader`` that refuses to produce more than a set number of bytes, so an
endless stream or a bomb that inflates a little input into a lot stops with a
clear message instead of filling memory or disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import zstandard

from wikipeer.formats.car import header_bytes, section_bytes
from wikipeer.model.block import Block

CAR_ZSTD = "application/vnd.ipld.car+zstd"
NEXT_HEADER = "x-wikipeer-next"  # the log position a response reaches
COUNT_HEADER = "x-wikipeer-count"  # how many blocks it holds
NODE_HEADER = "x-wikipeer-node"  # the node key of an uploader (a hint only: never trusted)
RANGE_HEADER = "x-wikipeer-range"  # the part of the gossip ring a receiver covers (net/gossip.py)
CHUNK = 64 * 1024


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

