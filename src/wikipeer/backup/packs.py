"""Pack files: many blocks, compressed with zstd, then sealed, named by the SHA-256 of their bytes.

    b"WPK1" | u32 header length | sealed header | sealed body

The header (zstd DAG-CBOR) lists each block's log position, CID, offset and
length in the body, so a target's index of CIDs is rebuilt from headers alone;
the body is the blocks' bytes, concatenated and compressed.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import libipld
import zstandard

from wikipeer.backup.sealing import Sealer, Unsealable
from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block, checked
from wikipeer.model.cid import DAG_CBOR

MAGIC = b"WPK1"
PREFIX = "packs/"
HEADER_GUESS = 64 * 1024  # bytes read first for a header; more when it is larger


class DamagedPack(Exception):
    """A pack that cannot be read back whole; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One block in a pack: where the node's log had it, its CID, and where its bytes are in the body."""

    seq: int
    cid: bytes
    offset: int
    length: int


def pack_name(data: bytes) -> str:
    """A pack's name on the target: the SHA-256 of its stored bytes (any mirror can check it)."""
    return PREFIX + hashlib.sha256(data).hexdigest()


def build_pack(blocks: list[tuple[int, Block]], sealer: Sealer) -> bytes:
    """The stored bytes of a pack holding these (log position, block) pairs."""
    entries, offset = [], 0
    for seq, block in blocks:
        entries.append([seq, block.cid, offset, len(block.data)])
        offset += len(block.data)
    compressor = zstandard.ZstdCompressor(level=3)
    header = sealer.seal(compressor.compress(libipld.encode_dag_cbor({"v": 1, "entries": entries})), b"pack-header")
    body = sealer.seal(compressor.compress(b"".join(b.data for _, b in blocks)), b"pack-body")
    return MAGIC + struct.pack(">I", len(header)) + header + body


def _header_end(head: bytes) -> int:
    if len(head) < 8 or head[:4] != MAGIC:
        raise DamagedPack("not a wikipeer pack (no pack header)")
    return 8 + struct.unpack(">I", head[4:8])[0]


def parse_header(data: bytes, sealer: Sealer) -> list[Entry]:
    """The entries of a pack from its first bytes (at least through the header)."""
    end = _header_end(data)
    if len(data) < end:
        raise DamagedPack("the pack is cut off inside its header")
    try:
        fields = libipld.decode_dag_cbor(zstandard.ZstdDecompressor().decompress(
            sealer.open(data[8:end], b"pack-header")))
        return [Entry(*e) for e in fields["entries"]]
    except Unsealable as exc:
        raise DamagedPack(f"its header {exc}") from None
    except (zstandard.ZstdError, ValueError, KeyError, TypeError) as exc:
        raise DamagedPack(f"its header cannot be decoded ({exc})") from None


def header_length(head: bytes) -> int:
    """How many bytes from the start hold the header (given the first eight at least)."""
    return _header_end(head)


def read_pack(name: str, data: bytes, sealer: Sealer) -> tuple[list[Entry], list[tuple[int, Block]]]:
    """Every entry and block of a whole pack, each block checked against its CID (and marked so, see
    model.block.CheckedBlock); DamagedPack if any is wrong."""
    if PREFIX + hashlib.sha256(data).hexdigest() != name:
        raise DamagedPack("its bytes do not hash to its name (tampered, truncated or corrupted)")
    entries = parse_header(data, sealer)
    try:
        body = zstandard.ZstdDecompressor().decompress(sealer.open(data[_header_end(data):], b"pack-body"),
                                                       max_output_size=1 << 34)
    except Unsealable as exc:
        raise DamagedPack(f"its body {exc}") from None
    except zstandard.ZstdError as exc:
        raise DamagedPack(f"its body cannot be decompressed ({exc})") from None
    blocks = []
    for e in entries:
        try:
            # checked once here, in the reader: the ingest door trusts a CheckedBlock and does not hash it again
            blocks.append((e.seq, checked(Block(e.cid, body[e.offset:e.offset + e.length]))))
        except InvalidObject as exc:
            raise DamagedPack(str(exc)) from None
    return entries, blocks


def is_signature(block: Block) -> bool:
    """Whether a block is a signature object (which must travel with the object it signs)."""
    if block.codec != DAG_CBOR:
        return False
    try:
        return libipld.decode_dag_cbor(block.data).get("t") == "sig"
    except (ValueError, AttributeError):
        return False
