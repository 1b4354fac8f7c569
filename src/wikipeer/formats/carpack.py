"""CAR packing: a CAR v1 stream with what can be recomputed left out, for bundles.

In a wiki's history most incompressible bytes are CIDs: each block is named
by one before it in a CAR, and named again wherever another block links to
it (a revision names its page, text and parents; a signature its target).
A packed CAR leaves out a section's CID when it is the hash of the section's
bytes (it is recomputed on reading), and replaces a link inside a DAG-CBOR
block by the number of the earlier section it names. Unpacking gives back
the CAR byte for byte, so a packed bundle still *is* a CAR v1; zstd then
compresses what is left.

    packed  := MAGIC, CAR header, section*
    section := 0x00 varint(len) CID bytes          (verbatim, as in a CAR)
             | 0x01 codec varint(len) packed-bytes (CID = hash of the unpacked bytes)

In packed bytes, a link ``D8 2A 58 25 00 <CID>`` to section n becomes
``D8 2A 58 25 FF varint(n)``. ``FF`` never follows ``D8 2A 58 25`` in a
canonical link, and a block holding that sequence anyway is kept verbatim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from wikipeer.formats.car import CID_LEN, CarError, CarReader, encode_varint, header_bytes
from wikipeer.model.block import Block
from wikipeer.model.cid import DAG_CBOR, RAW

MAGIC = b"WPCARPK1"
LINK = b"\xd8\x2a\x58\x25\x00"
REF = b"\xd8\x2a\x58\x25\xff"
_HASHED = (DAG_CBOR, RAW)


def _cid_of(codec: int, data: bytes) -> bytes:
    return bytes((1, codec, 0x12, 0x20)) + hashlib.sha256(data).digest()


class Packer:
    """Packs blocks one after another; the numbering of sections is its memory."""

    def __init__(self) -> None:
        self.numbers: dict[bytes, int] = {}

    def header(self, roots: list[bytes]) -> bytes:
        return MAGIC + header_bytes(roots)

    def section(self, block: Block) -> bytes:
        number = len(self.numbers)
        self.numbers.setdefault(block.cid, number)
        codec = block.cid[1]
        if codec not in _HASHED or block.cid != _cid_of(codec, block.data) or REF in block.data:
            return b"\x00" + encode_varint(len(block.cid) + len(block.data)) + block.cid + block.data
        packed = self._links(block.data) if codec == DAG_CBOR else block.data
        return b"\x01" + bytes((codec,)) + encode_varint(len(packed)) + packed

    def _links(self, data: bytes) -> bytes:
        out, at = [], 0
        while (found := data.find(LINK, at)) >= 0:
            cid = data[found + len(LINK):found + len(LINK) + CID_LEN]
            number = self.numbers.get(cid)
            if number is None:
                out.append(data[at:found + len(LINK)])
                at = found + len(LINK)
                continue
            out += [data[at:found], REF, encode_varint(number)]
            at = found + len(LINK) + CID_LEN
        out.append(data[at:])
        return b"".join(out)


class PackReader(CarReader):
    """Blocks out of a packed CAR (after its MAGIC), with every CID restored."""

    def __init__(self, stream: BinaryIO, max_section: int) -> None:
        self.cids: list[bytes] = []
        super().__init__(stream, max_section)

    def __iter__(self) -> Iterator[Block]:
        while True:
            start = self.offset
            kind = self.stream.read(1)
            if not kind:
                return
            self.offset += 1
            if kind == b"\x00":
                block = self._verbatim(start)
            elif kind == b"\x01":
                block = self._packed(start)
            else:
                yield from self._other(kind[0], start)
                continue
            self.cids.append(block.cid)
            yield block

    def _other(self, kind: int, start: int) -> Iterator[Block]:
        """A section of a kind only a subclass reads (net/wire.py: texts sent as deltas), which numbers
        what it reads in ``cids``. Bundles hold no such section."""
        raise CarError(f"the packed section at byte {start} has an unknown kind {kind}")

    def _verbatim(self, start: int) -> Block:
        length = self._varint("a section")
        if length is None or not CID_LEN <= length <= self.max_section:
            raise CarError(f"the section at byte {start} declares {length} bytes")
        body = self._read(length, f"the section that starts at byte {start}")
        return Block(body[:CID_LEN], body[CID_LEN:])

    def _packed(self, start: int) -> Block:
        codec = self._read(1, f"the section at byte {start}")[0]
        length = self._varint("a section")
        if codec not in _HASHED or length is None or length > self.max_section:
            raise CarError(f"the packed section at byte {start} is malformed")
        data = self._read(length, f"the section that starts at byte {start}")
        if codec == DAG_CBOR:
            data = self._unlink(data, start)
        return Block(_cid_of(codec, data), data)

    def _unlink(self, data: bytes, start: int) -> bytes:
        out, at = [], 0
        while (found := data.find(REF, at)) >= 0:
            number, end = _varint_at(data, found + len(REF))
            if number >= len(self.cids):
                raise CarError(f"the packed section at byte {start} names section {number}, which has not come")
            out += [data[at:found], LINK, self.cids[number]]
            at = end
        out.append(data[at:])
        return b"".join(out)


def _varint_at(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise CarError("a packed link is cut off")

