"""CAR v1: the IPLD archive format in which blocks travel between nodes.

A CAR is a header (a varint length, then DAG-CBOR ``{"roots": [CID...],
"version": 1}``) followed by sections, each a varint length, the binary CID
and the block's bytes. Sync streams and USB-stick bundles are CARs, so any
IPLD tool can list what they hold.

Reading never trusts a length it is given: a section longer than the largest
block a node accepts is refused before it is read, and a stream that ends in
the middle of a section is reported with the byte offset where it stopped.
A stream cut exactly between two sections reads as a shorter CAR: whoever
needs to know the whole arrived must say how much to expect (a bundle's
manifest does).
Whether a block's bytes match its CID is checked later, by the ingest door.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import libipld

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block

CID_LEN = 36  # CIDv1, sha2-256: version, codec, hash code, hash length, 32 bytes
MAX_SECTION = CID_LEN + 8 * 1024 * 1024  # larger than any block a node would accept
MAX_HEADER = 64 * 1024


class CarError(InvalidObject):
    """A CAR stream that is not well formed; the message names the byte offset."""


@dataclass(frozen=True, slots=True)
class CarHeader:
    roots: list[bytes]


def encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def header_bytes(roots: Iterable[bytes] = ()) -> bytes:
    """The header of a CAR with these root CIDs."""
    data = libipld.encode_dag_cbor({"roots": list(roots), "version": 1})
    return encode_varint(len(data)) + data


def section_bytes(block: Block) -> bytes:
    return encode_varint(len(block.cid) + len(block.data)) + block.cid + block.data


def write_car(out: BinaryIO, blocks: Iterable[Block], roots: Iterable[bytes] = ()) -> int:
    """Write a whole CAR; return the number of bytes written."""
    written = out.write(header_bytes(roots))
    for block in blocks:
        written += out.write(section_bytes(block))
    return written


class CarReader:
    """Blocks out of a CAR stream, read incrementally from any binary file object."""

    def __init__(self, stream: BinaryIO, max_section: int = MAX_SECTION) -> None:
        self.stream, self.max_section = stream, max_section
        self.offset = 0
        self.header = self._read_header()

    def _read(self, n: int, what: str) -> bytes:
        data = self.stream.read(n)
        while len(data) < n:  # streams from sockets may return short reads
            more = self.stream.read(n - len(data))
            if not more:
                raise CarError(f"the CAR stream ends at byte {self.offset + len(data)}, in the middle of {what}")
            data += more
        self.offset += n
        return data

    def _varint(self, what: str) -> int | None:
        """A varint, or None at a clean end of stream."""
        value = shift = 0
        start = self.offset
        while True:
            byte = self.stream.read(1)
            if not byte:
                if self.offset == start:
                    return None
                raise CarError(f"the CAR stream ends at byte {self.offset}, in the middle of {what}'s length")
            self.offset += 1
            value |= (byte[0] & 0x7F) << shift
            if not byte[0] & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise CarError(f"bad length at byte {start}: the varint does not end")

    def _read_header(self) -> CarHeader:
        length = self._varint("the header")
        if length is None:
            raise CarError("the CAR stream is empty: no header")
        if not 0 < length <= MAX_HEADER:
            raise CarError(f"the CAR header declares {length} bytes (at most {MAX_HEADER})")
        try:
            header = libipld.decode_dag_cbor(self._read(length, "the header"))
        except CarError:
            raise
        except Exception as exc:
            raise CarError(f"the CAR header is not DAG-CBOR: {exc}") from None
        if not isinstance(header, dict) or header.get("version") != 1 or not isinstance(header.get("roots"), list):
            raise CarError("the CAR header is not a CAR v1 header (version 1 with a list of roots)")
        roots = header["roots"]
        if not all(isinstance(r, bytes) for r in roots):
            raise CarError("the CAR header's roots are not all CIDs")
        return CarHeader(roots)

    def __iter__(self) -> Iterator[Block]:
        while True:
            start = self.offset
            length = self._varint("a section")
            if length is None:
                return
            if not CID_LEN <= length <= self.max_section:
                raise CarError(f"the section at byte {start} declares {length} bytes, "
                               f"outside {CID_LEN}..{self.max_section}")
            body = self._read(length, f"the section that starts at byte {start}")
            cid, data = body[:CID_LEN], body[CID_LEN:]
            if cid[:1] != b"\x01" or cid[2:4] != b"\x12\x20":
                raise CarError(f"the section at byte {start} does not start with a CIDv1 sha2-256")
            yield Block(cid, data)
