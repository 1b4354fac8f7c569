"""Blocks: the bytes of one object together with the CID that names them.

Decoding a block checks, in order, that its CID is one we accept, that the CID
is the hash of the bytes, and (for DAG-CBOR) that the bytes are the canonical
encoding of what they decode to. After that the bytes can be rebuilt from the
decoded value, which is what lets the store keep objects in any form it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libipld

from wikipeer.errors import Forgery, InvalidObject
from wikipeer.model.cid import DAG_CBOR, RAW, cid_codec, cid_to_str, compute_cid

MAX_BLOCK = 1 << 20
"""Largest DAG-CBOR block accepted (1 MiB); texts are raw blocks with their own limit."""


@dataclass(frozen=True, slots=True)
class Block:
    """One content-addressed block."""

    cid: bytes
    data: bytes

    @property
    def codec(self) -> int:
        return self.cid[1]

    def __str__(self) -> str:
        return cid_to_str(self.cid)


def encode_object(obj: dict[str, Any]) -> Block:
    """Encode a DAG-CBOR object and name it."""
    data = libipld.encode_dag_cbor(obj)
    return Block(compute_cid(data, DAG_CBOR), data)


def raw_block(data: bytes) -> Block:
    """Name a raw block (a text blob)."""
    return Block(compute_cid(data, RAW), data)


class TamperedBlock(Forgery):
    """The bytes do not hash to the CID they came with.

    This says nothing about the object the CID names: its genuine bytes may
    still arrive, so nothing that refers to the CID is refused for it.
    """


@dataclass(frozen=True, slots=True)
class CheckedBlock(Block):
    """A block whose bytes ``checked`` has hashed and found to match its CID.

    Its bytes are immutable, so the check still holds wherever it goes: the
    ingest door does not hash them a second time (a backup restore checks each
    block as its pack is read, in a worker thread, and the door then trusts that).
    Only ``checked`` makes one.
    """


def checked(block: Block) -> CheckedBlock:
    """``block`` after check_block (the same check the ingest door makes), marked so it is not hashed again."""
    if type(block.data) is not bytes:  # a mutable buffer could change after the check
        block = Block(block.cid, bytes(block.data))
    check_block(block)
    return CheckedBlock(block.cid, block.data)


def check_block(block: Block) -> None:
    """Raise InvalidObject unless the CID is ours and names exactly these bytes."""
    codec = cid_codec(block.cid)
    if type(block) is CheckedBlock:
        return  # hashed by checked(); the CID's form was checked again just above
    if compute_cid(block.data, codec) != block.cid:
        raise TamperedBlock(f"{block}: the bytes do not hash to this CID (tampered or corrupted)")


def decode_object(block: Block) -> dict[str, Any]:
    """Decode a checked DAG-CBOR block, insisting on canonical encoding.

    libipld turns any byte string that parses as a CID into a link when it
    encodes, so re-encoding also catches a link smuggled in as plain bytes.
    """
    if block.codec != DAG_CBOR:
        raise InvalidObject(f"{block}: expected a DAG-CBOR block")
    if len(block.data) > MAX_BLOCK:
        raise InvalidObject(f"{block}: block of {len(block.data)} bytes exceeds {MAX_BLOCK}")
    try:
        obj = libipld.decode_dag_cbor(block.data)
    except Exception as exc:
        raise InvalidObject(f"{block}: not valid DAG-CBOR ({exc})") from exc
    if not isinstance(obj, dict):
        raise InvalidObject(f"{block}: an object must be a map, not {type(obj).__name__}")
    if libipld.encode_dag_cbor(obj) != block.data:
        raise InvalidObject(f"{block}: non-canonical DAG-CBOR encoding")
    return obj
