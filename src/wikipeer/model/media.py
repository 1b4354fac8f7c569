"""Media files as objects: a ``file`` object per file version, its bytes in raw blocks.

A file version is a DAG-CBOR ``file`` object naming its ``File:`` page, the
whole file's SHA-256 (its identity, in hex), MediaWiki's SHA-1 (hex, as the
Action API gives it; ``sha1_base36`` turns it into the form MediaWiki's tables
and dumps use), its size, its media type and size in pixels as found in the
bytes, and its content: one raw block when the file fits in ``SINGLE_BLOCK``
bytes, else content-defined chunks (FastCDC, about 512 KiB each), so two
versions that differ a little share most chunks. A chunk is an ordinary raw
block named by its CID. The object is signed like a revision: by its author,
or by a node for an imported or anonymous upload.

``desc`` optionally names the description revision of the File: page the
upload came with; a page's file versions are its ``file`` objects in time
order (``ts``), the newest shown.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block, encode_object, raw_block
from wikipeer.model.cid import RAW
from wikipeer.model.schema import Field, check_fields

SINGLE_BLOCK = 1 << 20
"""A file up to this size is one raw block; a larger one is chunked."""
CHUNK_AVERAGE, CHUNK_MIN, CHUNK_CUT_MAX = 512 << 10, 128 << 10, 2 << 20
"""FastCDC's target sizes for the chunks this node cuts from a large file. Smaller than
restic's (1 MiB average, 512 KiB - 8 MiB): a file re-uploaded with a small change stores
again only the chunk around the change, and on the media benchmark's corpus (10% such
re-uploads) these sizes store 1.8% less than 1 MiB / 256 KiB - 4 MiB did."""
CHUNK_MAX = 4 << 20
"""Largest chunk accepted: chunks cut with the earlier sizes (up to 4 MiB) stay valid."""
MAX_CHUNKS = 20_000
"""Chunks one file may list: its object stays far below the 1 MiB block limit (~37 bytes a chunk)."""
NS_FILE = 6

_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_HEX40 = re.compile(r"^[0-9a-f]{40}\Z")
_MIME = re.compile(r"^[a-z]+/[a-z0-9.+-]+\Z")

FILE_RULES = {
    "page": Field("link"),
    "desc": Field("link", required=False),
    "sha256": Field("str", limit=64),
    "sha1": Field("str", limit=40),
    "size": Field("int"),
    "mime": Field("str", limit=64),
    "width": Field("int", required=False),
    "height": Field("int", required=False),
    "chunks": Field("chain", limit=MAX_CHUNKS),
    "ts": Field("int"),
    "author": Field("key", required=False),
    "comment": Field("str", required=False, limit=4096),
    "origin": Field("map", required=False, limit=1024),
}


@dataclass(frozen=True, slots=True)
class File:
    """One version of a media file: what it is, and the raw blocks that hold its bytes, in order."""

    page: bytes
    sha256: str
    sha1: str
    size: int
    mime: str
    chunks: tuple[bytes, ...]
    ts: int
    width: int | None = None
    height: int | None = None
    desc: bytes | None = None
    author: str | None = None
    comment: str = ""
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A raw block that holds (part of) a file's bytes."""

    data: bytes


def build_file(record: File) -> Block:
    obj = {"t": "file", "page": record.page, "desc": record.desc, "sha256": record.sha256, "sha1": record.sha1,
           "size": record.size, "mime": record.mime, "width": record.width, "height": record.height,
           "chunks": list(record.chunks), "ts": record.ts, "author": record.author, "comment": record.comment,
           "origin": record.origin}
    return encode_object({k: v for k, v in obj.items() if not (v is None or v == "" or v == {})})


def parse_file(obj: dict[str, Any]) -> File:
    """The record of a decoded ``file`` object, its fields checked (not yet its bytes: see ingest)."""
    check_fields("file", obj, FILE_RULES)
    if not _HEX64.match(obj["sha256"]):
        raise InvalidObject("file.sha256 must be 64 lowercase hex digits")
    if not _HEX40.match(obj["sha1"]):
        raise InvalidObject("file.sha1 must be 40 lowercase hex digits")
    if not _MIME.match(obj["mime"]):
        raise InvalidObject(f"file.mime {obj['mime']!r} is not a media type")
    chunks = obj["chunks"]
    if not chunks or any(c[1] != RAW for c in chunks):
        raise InvalidObject("file.chunks must list one or more raw blocks")
    if obj["size"] <= SINGLE_BLOCK and len(chunks) != 1:
        raise InvalidObject(f"a file of {obj['size']} bytes is one block, not {len(chunks)} chunks")
    if obj["size"] == 0:
        raise InvalidObject("file.size is 0: an empty file is no file")
    return File(page=obj["page"], sha256=obj["sha256"], sha1=obj["sha1"], size=obj["size"], mime=obj["mime"],
                chunks=tuple(chunks), ts=obj["ts"], width=obj.get("width"), height=obj.get("height"),
                desc=obj.get("desc"), author=obj.get("author"), comment=obj.get("comment", ""),
                origin=obj.get("origin", {}))


def parse_chunk(block: Block, max_chunk: int = CHUNK_MAX) -> Chunk:
    """A raw block used as file content: any bytes, up to a bound."""
    if len(block.data) > max(max_chunk, SINGLE_BLOCK):
        raise InvalidObject(f"{block}: a file chunk of {len(block.data)} bytes exceeds the limit of {max_chunk}")
    return Chunk(block.data)


def chunk_blocks(data: bytes) -> list[Block]:
    """The raw blocks that hold ``data``: one block, or FastCDC chunks for a large file."""
    if len(data) <= SINGLE_BLOCK:
        return [raw_block(data)]
    from pyfastcdc import FastCDC  # imported here: only large files need it

    chunker = FastCDC(CHUNK_AVERAGE, min_size=CHUNK_MIN, max_size=CHUNK_CUT_MAX)
    return [raw_block(bytes(c.data)) for c in chunker.cut_buf(data)]


def digests(parts: Iterable[bytes]) -> tuple[str, str, int]:
    """(SHA-256 hex, SHA-1 hex, size) of the bytes ``parts`` make together."""
    sha256, sha1, size = hashlib.sha256(), hashlib.sha1(), 0  # noqa: S324 - SHA-1 only to match MediaWiki
    for part in parts:
        sha256.update(part)
        sha1.update(part)
        size += len(part)
    return sha256.hexdigest(), sha1.hexdigest(), size


def sha1_base36(sha1_hex: str) -> str:
    """MediaWiki's form of a SHA-1 (``img_sha1``, dumps' ``<sha1>``): base 36, padded to 31 digits."""
    value, digits = int(sha1_hex, 16), ""
    while value:
        value, rest = divmod(value, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return digits.rjust(31, "0")
