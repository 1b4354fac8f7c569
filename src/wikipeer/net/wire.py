"""CAR streams on the wire: zstd-compressed going out, bounded coming in.

The sender compresses a CAR as it writes it; the receiver reads through a
``formats.compressed.ZstdReader`` that refuses to produce more than a set number of bytes, so an
endless stream or a bomb that inflates a little input into a lot stops with a
clear message instead of filling memory or disk.

A log response to a caller that asks for it (``pack=1``) is a packed CAR
(formats/carpack.py: the CIDs that can be recomputed left out) in which a text
whose parent's text the caller holds may come as a *delta section*:

    0x02 varint(len) CID(text) CID(base) zstd-frame

the text's bytes are the frame decompressed with the base text's bytes as a
raw-content dictionary. The receiver rebuilds the text from its own copy of
the base; the rebuilt block goes through the ingest door with the CID the
section names, so a wrong delta is refused there like any block whose bytes
do not match its CID. See docs/protocol.md, "Texts as deltas".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import zstandard

from wikipeer.formats.car import CID_LEN, CarError, CarReader, encode_varint, header_bytes, section_bytes
from wikipeer.formats.carpack import MAGIC as PACK_MAGIC
from wikipeer.formats.carpack import Packer, PackReader
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW, cid_to_str

CAR_ZSTD = "application/vnd.ipld.car+zstd"
PACK_ZSTD = "application/vnd.wikipeer.carpack+zstd"  # a packed CAR, with texts as deltas (see above)
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



DELTA = 0x02  # the kind of a delta section in a packed CAR
DELTA_LEVEL = 19  # a delta is a few hundred bytes at most levels: the highest costs ~1 ms a text
_RAW_CID = bytes((1, RAW, 0x12, 0x20))

Bases = Callable[[bytes], "tuple[bytes, bytes] | None"]
"""For a text's CID: (CID, bytes) of the text the receiver holds that it may be sent against, or None."""


def _dictionary(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def delta_frame(text: bytes, base: bytes) -> bytes:
    """``text`` as a zstd frame against ``base`` (its size written in the frame, no dictionary id)."""
    compressor = zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=_dictionary(base),
                                          write_content_size=True, write_dict_id=False)
    return compressor.compress(text)


class DeltaPacker(Packer):
    """A packer that writes a text as a delta section when ``bases`` names a base for it and that is smaller."""

    def __init__(self, bases: Bases) -> None:
        super().__init__()
        self.bases = bases
        self.deltas = 0

    def section(self, block: Block) -> bytes:
        base = self.bases(block.cid) if block.cid[:4] == _RAW_CID else None
        if base is not None:
            frame = delta_frame(block.data, base[1])
            if len(frame) + CID_LEN < len(block.data):
                self.numbers.setdefault(block.cid, len(self.numbers))
                self.deltas += 1
                body = block.cid + base[0] + frame
                return bytes((DELTA,)) + encode_varint(len(body)) + body
        return super().section(block)


def pack_chunks(blocks: Iterable[Block], bases: Bases, level: int = 3) -> Iterator[bytes]:
    """A zstd-compressed packed CAR of ``blocks`` (texts as deltas where ``bases`` allows), in chunks."""
    compressor = zstandard.ZstdCompressor(level=level).compressobj()
    packer = DeltaPacker(bases)
    pending = [packer.header([])]
    size = len(pending[0])
    for block in blocks:
        section = packer.section(block)
        pending.append(section)
        size += len(section)
        if size >= CHUNK:
            out = compressor.compress(b"".join(pending))
            pending, size = [], 0
            if out:
                yield out
    yield compressor.compress(b"".join(pending)) + compressor.flush()


class DeltaReader(PackReader):
    """Blocks out of a packed CAR whose texts may be deltas, rebuilt against the receiver's own texts.

    ``base``: the bytes of a text the receiver holds, by CID, or None. A delta
    whose base is not held yields nothing: its CID is in ``unbuilt``, and the
    revision that needs it waits for the text, asked for whole like any
    missing block. A frame that does not decompress, or inflates past
    ``max_text``, is a malformed stream (CarError naming the text).
    """

    def __init__(self, stream: BinaryIO, max_section: int, base: Callable[[bytes], bytes | None],
                 max_text: int) -> None:
        self.base, self.max_text = base, max_text
        self.unbuilt: list[bytes] = []
        self.rebuilt = 0
        super().__init__(stream, max_section)

    def _other(self, kind: int, start: int) -> tuple[bytes, Block | None]:
        if kind != DELTA:
            return super()._other(kind, start)
        length = self._varint("a section")
        if length is None or not 2 * CID_LEN < length <= self.max_section:
            raise CarError(f"the delta section at byte {start} declares {length} bytes")
        body = self._read(length, f"the delta section that starts at byte {start}")
        cid, base_cid, frame = body[:CID_LEN], body[CID_LEN:2 * CID_LEN], body[2 * CID_LEN:]
        if cid[:4] != _RAW_CID or base_cid[:4] != _RAW_CID:
            raise CarError(f"the delta section at byte {start} names something other than two texts")
        base = self.base(base_cid)
        if base is None:
            self.unbuilt.append(cid)
            return cid, None
        return cid, Block(cid, self._rebuild(cid, base_cid, base, frame))

    def _rebuild(self, cid: bytes, base_cid: bytes, base: bytes, frame: bytes) -> bytes:
        what = f"the delta for text {cid_to_str(cid)} against {cid_to_str(base_cid)}"
        try:
            size = zstandard.frame_content_size(frame)
        except zstandard.ZstdError as exc:
            raise CarError(f"{what} is not a zstd frame: {exc}") from None
        if not 0 <= size <= self.max_text:
            raise CarError(f"{what} does not declare a size of at most {self.max_text} bytes")
        try:
            text = zstandard.ZstdDecompressor(dict_data=_dictionary(base)).decompress(frame, max_output_size=size)
        except zstandard.ZstdError as exc:
            raise CarError(f"{what} does not decompress: {exc}") from None
        self.rebuilt += 1
        return text


def read_log(stream: BinaryIO, content_type: str, max_section: int, base: Callable[[bytes], bytes | None],
             max_text: int) -> CarReader:
    """The reader of a log response, a plain or (``PACK_ZSTD``) packed CAR, once inflated into ``stream``."""
    if not content_type.startswith(PACK_ZSTD):
        return CarReader(stream, max_section)
    magic = stream.read(len(PACK_MAGIC))
    if magic != PACK_MAGIC:
        raise CarError("a packed log does not start with the packed CAR's magic bytes")
    return DeltaReader(stream, max_section, base, max_text)
