"""CAR streams on the wire: zstd-compressed going out, bounded coming in.

The sender compresses a CAR as it writes it; the receiver reads through a
``formats.compressed.ZstdReader`` that refuses to produce more than a set number of bytes, so an
endless stream or a bomb that inflates a little input into a lot stops with a
clear message instead of filling memory or disk.

A log response to a caller that asks for it (``pack=1``) is a packed CAR
(formats/carpack.py: the CIDs that can be recomputed left out) in which a text
whose parent's text the caller holds may come as a *delta section*:

    0x02 varint(len) CID(text) CID(base) zstd-frame
    0x03 varint(len) CID(text) zstd-frame    (the base: the text of the first parent
                                              of the revision in the very next section)

the text's bytes are the frame (its 4-byte magic number left out) decompressed
with the base text's bytes as a raw-content dictionary. The receiver rebuilds
the text from its own copy of the base; the rebuilt block goes through the
ingest door with the CID the section names, so a wrong delta is refused there
like any block whose bytes do not match its CID. See docs/protocol.md,
"Texts as deltas".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, Protocol

import libipld
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


def _zstd_chunks(parts: Iterable[bytes], level: int) -> Iterator[bytes]:
    """``parts`` zstd-compressed as one stream, in chunks of about CHUNK bytes of input, produced as read."""
    compressor = zstandard.ZstdCompressor(level=level).compressobj()
    pending: list[bytes] = []
    size = 0
    for part in parts:
        pending.append(part)
        size += len(part)
        if size >= CHUNK:
            out = compressor.compress(b"".join(pending))
            pending, size = [], 0
            if out:
                yield out
    yield compressor.compress(b"".join(pending)) + compressor.flush()


def car_chunks(blocks: Iterable[Block], roots: Iterable[bytes] = (), level: int = 3) -> Iterator[bytes]:
    """A zstd-compressed CAR of ``blocks``, in chunks, produced as it is read."""
    yield from _zstd_chunks(chain([header_bytes(roots)], map(section_bytes, blocks)), level)


DELTA = 0x02  # 0x02 varint(len) CID(text) CID(base) frame
DELTA_NEXT = 0x03  # 0x03 varint(len) CID(text) frame: the base is the text of the next section's first parent
DELTA_LEVEL = 9  # measured on one-sentence edits of 5 KB texts: 80 bytes a frame at 6-9, 90 at 12-19, 98 at 3
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # left out of a delta's frame: every frame starts with it
_RAW_CID = bytes((1, RAW, 0x12, 0x20))


@dataclass(frozen=True, slots=True)
class Base:
    """What a text may be sent against: the base text's CID and bytes. ``rev``: the revision that names
    the text, whose first parent's text the base is (the receiver holds that parent too); the base
    then goes unnamed if that revision comes right after the text (DELTA_NEXT)."""

    cid: bytes
    data: bytes
    rev: bytes | None = None


Bases = Callable[[bytes], Base | None]
"""For a text's CID: the text the receiver holds that it may be sent against, or None."""


class HeldTexts(Protocol):
    """The receiver's texts, as a delta's base (the store is one)."""

    def raw_bytes(self, cid: bytes) -> bytes | None:
        """The text ``cid``, or None."""

    def revision_text_bytes(self, cid: bytes) -> bytes | None:
        """The text of the revision ``cid``, or None."""


class HoldsNothing:
    """The receiver of a log that asked for no deltas: a delta it gets anyway cannot be rebuilt."""

    def raw_bytes(self, cid: bytes) -> None:
        return None

    def revision_text_bytes(self, cid: bytes) -> None:
        return None


def _dictionary(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def delta_frame(text: bytes, base: bytes) -> bytes:
    """``text`` as a zstd frame against ``base``: its size written, no dictionary id, no magic number."""
    compressor = zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=_dictionary(base),
                                          write_content_size=True, write_dict_id=False)
    return compressor.compress(text)[len(ZSTD_MAGIC):]


class DeltaPacker(Packer):
    """A packer that writes a text as a delta section when ``bases`` names a base for it and that is smaller.

    A text whose base can go unnamed waits for the next block: if that is the
    revision that names the text, the delta is a DELTA_NEXT section.
    """

    def __init__(self, bases: Bases) -> None:
        super().__init__()
        self.bases = bases
        self.deltas = 0
        self.pending: tuple[bytes, bytes, Base] | None = None  # (text CID, frame, base)

    def section(self, block: Block) -> bytes:
        out = self.finish(block.cid)
        base = self.bases(block.cid) if block.cid[:4] == _RAW_CID else None
        if base is not None:
            frame = delta_frame(block.data, base.data)
            if len(frame) + CID_LEN < len(block.data):
                if base.rev is not None:
                    self.pending = (block.cid, frame, base)
                    return out
                return out + self._delta(DELTA, block.cid, base.cid + frame)
        return out + super().section(block)

    def finish(self, next_cid: bytes | None = None) -> bytes:
        """The delta still waiting, before the block ``next_cid`` (None: the stream ends)."""
        if self.pending is None:
            return b""
        cid, frame, base = self.pending
        self.pending = None
        if next_cid is not None and next_cid == base.rev:
            return self._delta(DELTA_NEXT, cid, frame)
        return self._delta(DELTA, cid, base.cid + frame)

    def _delta(self, kind: int, cid: bytes, rest: bytes) -> bytes:
        self.numbers.setdefault(cid, len(self.numbers))
        self.deltas += 1
        body = cid + rest
        return bytes((kind,)) + encode_varint(len(body)) + body


def pack_chunks(blocks: Iterable[Block], bases: Bases, level: int = 3) -> Iterator[bytes]:
    """A zstd-compressed packed CAR of ``blocks`` (texts as deltas where ``bases`` allows), in chunks."""
    packer = DeltaPacker(bases)

    def parts() -> Iterator[bytes]:
        yield packer.header([])
        yield from map(packer.section, blocks)
        yield packer.finish()  # a delta may wait for the next block: none comes

    yield from _zstd_chunks(parts(), level)


class DeltaReader(PackReader):
    """Blocks out of a packed CAR whose texts may be deltas, rebuilt against the receiver's own texts.

    A delta whose base the receiver does not hold yields nothing: its CID is
    in ``unbuilt``, and the revision that needs it waits for the text, asked
    for whole like any missing block. A frame that does not decompress, or
    inflates past ``max_text``, is a malformed stream (CarError naming the text).
    """

    def __init__(self, stream: BinaryIO, max_section: int, held: HeldTexts, max_text: int) -> None:
        self.held, self.max_text = held, max_text
        self.unbuilt: list[bytes] = []
        self.rebuilt = 0
        super().__init__(stream, max_section)

    def _other(self, kind: int, start: int) -> Iterator[Block]:
        if kind not in (DELTA, DELTA_NEXT):
            yield from super()._other(kind, start)
            return
        named = CID_LEN if kind == DELTA else 0
        length = self._varint("a section")
        if length is None or not CID_LEN + named < length <= self.max_section:
            raise CarError(f"the delta section at byte {start} declares {length} bytes")
        body = self._read(length, f"the delta section that starts at byte {start}")
        cid, base_cid, frame = body[:CID_LEN], body[CID_LEN:CID_LEN + named], body[CID_LEN + named:]
        if cid[:4] != _RAW_CID or (named and base_cid[:4] != _RAW_CID):
            raise CarError(f"the delta section at byte {start} names something other than texts")
        self.cids.append(cid)
        if kind == DELTA:
            base = self.held.raw_bytes(base_cid)
            yield from self._rebuilt(cid, base, f"against {cid_to_str(base_cid)}", frame)
            return
        revision = self._next_revision(cid, start)
        base = self.held.revision_text_bytes(revision.parent)
        yield from self._rebuilt(cid, base, f"against the text of {cid_to_str(revision.parent)}", frame)
        self.cids.append(revision.block.cid)
        yield revision.block

    def _next_revision(self, cid: bytes, start: int) -> "_Revision":
        """The section after a DELTA_NEXT: the revision that names the text ``cid``, with a parent."""
        at = self.offset
        kind = self._read(1, f"the section after the delta at byte {start}")
        block = self._verbatim(at) if kind == b"\x00" else self._packed(at) if kind == b"\x01" else None
        try:
            obj = libipld.decode_dag_cbor(block.data) if block is not None else None
        except (ValueError, TypeError):
            obj = None
        parents = obj.get("parents") if isinstance(obj, dict) and obj.get("text") == cid else None
        if not parents or not isinstance(parents, list) or not isinstance(parents[0], bytes):
            raise CarError(f"the delta at byte {start} is not followed by the revision that names its text")
        return _Revision(block, parents[0])

    def _rebuilt(self, cid: bytes, base: bytes | None, against: str, frame: bytes) -> Iterator[Block]:
        if base is None:
            self.unbuilt.append(cid)
            return
        what = f"the delta for text {cid_to_str(cid)} {against}"
        frame = ZSTD_MAGIC + frame
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
        yield Block(cid, text)


@dataclass(frozen=True, slots=True)
class _Revision:
    block: Block
    parent: bytes  # its first parent's CID


def read_log(stream: BinaryIO, content_type: str, max_section: int, held: HeldTexts, max_text: int) -> CarReader:
    """The reader of a log response, a plain or (``PACK_ZSTD``) packed CAR, once inflated into ``stream``."""
    if not content_type.startswith(PACK_ZSTD):
        return CarReader(stream, max_section)
    magic = stream.read(len(PACK_MAGIC))
    if magic != PACK_MAGIC:
        raise CarError("a packed log does not start with the packed CAR's magic bytes")
    return DeltaReader(stream, max_section, held, max_text)
