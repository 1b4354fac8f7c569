"""Bundles: a node's changes in one file, to carry where no network reaches.

A bundle is a CAR v1 stream, packed (formats/carpack.py: the CIDs that can
be recomputed are left out) and compressed with zstd (long-distance
matching, so the successive revisions of a page shrink to their
differences). Its root is a signed manifest that says who made it, when,
how many blocks of how many bytes follow, and the SHA-256 of their CAR
sections; the manifest's signature (role "node") comes right after it.
``wikipeer bundle unpack`` writes the plain CAR, which IPLD tools read; a
plain or zstd-compressed plain CAR imports too.

Reading a bundle verifies the whole file before anything is accepted: the
manifest's signature, every block's CID, and that the blocks are exactly
the ones the manifest describes (so a cut-off, padded or altered file is
refused). Only then do the blocks go through the one ingest door.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from wikipeer.errors import Forgery, InvalidObject
from wikipeer.formats.car import CarError, CarReader, header_bytes, section_bytes
from wikipeer.formats.carpack import MAGIC as PACK_MAGIC
from wikipeer.formats.carpack import Packer, PackReader
from wikipeer.formats.compressed import (BrokenStream, CountingReader, StreamTooLarge, ZstdReader, file_chunks,
                                         read_up_to)
from wikipeer.model.block import Block, TamperedBlock, check_block, decode_object, encode_object
from wikipeer.model.keys import sign, verify
from wikipeer.model.objects import Signature, build_signature, parse
from wikipeer.model.schema import Field, check_fields

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LEVEL = 19
WINDOW_LOG = 27  # 128 MiB: a page's whole history fits in the window
MAX_TEXT = 64 * 1024 * 1024
MAX_INFLATED = 1 << 40  # a bundle may be large; its manifest bounds it once read
PROGRESS_EVERY = 256  # blocks between two calls of a progress callback

MANIFEST_RULES = {
    "key": Field("key"), "ts": Field("int"), "blocks": Field("int"), "bytes": Field("int"),
    "digest": Field("str", limit=64),
    "wikis": Field("strs", required=False, limit=1000), "note": Field("str", required=False, limit=4096),
}


class BundleError(InvalidObject):
    """A bundle that cannot be accepted as a whole; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a bundle claims to hold, signed by the node that made it."""

    key: str
    ts: int
    blocks: int
    bytes: int
    digest: str  # SHA-256 of the blocks' CAR sections, in order, hexadecimal
    wikis: tuple[str, ...] = ()
    note: str = ""

    def block(self) -> Block:
        obj = {"t": "bundle", "key": self.key, "ts": self.ts, "blocks": self.blocks, "bytes": self.bytes,
               "digest": self.digest}
        if self.wikis:
            obj["wikis"] = list(self.wikis)
        if self.note:
            obj["note"] = self.note
        return encode_object(obj)


def _manifest(block: Block) -> Manifest:
    obj = decode_object(block)
    if obj.get("t") != "bundle":
        raise BundleError("the bundle's root is not a bundle manifest")
    body = {k: v for k, v in obj.items() if k != "t"}
    try:
        check_fields("bundle manifest", body, MANIFEST_RULES)
    except InvalidObject as exc:
        raise BundleError(str(exc)) from None
    return Manifest(body["key"], body["ts"], body["blocks"], body["bytes"], body["digest"],
                    tuple(body.get("wikis", ())), body.get("note", ""))


def write_bundle(out: BinaryIO, blocks: Iterable[Block], signing_key, key: str, wikis: Iterable[str] = (),
                 note: str = "", progress: Callable[[int, int], None] | None = None) -> Manifest:
    """Write a bundle of ``blocks`` (read twice: once to count, once to write) and return its manifest.

    ``progress(written, total)`` is told how many bytes of blocks are written now and then (compressing them
    is the slow part).
    """
    blocks = list(blocks) if not isinstance(blocks, list) else blocks
    manifest = Manifest(key, int(time.time() * 1000), len(blocks), sum(len(b.data) for b in blocks),
                        _digest(blocks), tuple(sorted(set(wikis))), note)
    root = manifest.block()
    sig = build_signature(Signature(root.cid, "node", key, sign(signing_key, root.cid, "node")))
    params = zstandard.ZstdCompressionParameters.from_level(LEVEL, window_log=WINDOW_LOG, enable_ldm=True,
                                                         write_checksum=True)
    packer = Packer()
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(out, closefd=False) as z:
        z.write(packer.header([root.cid]))
        z.write(packer.section(root))
        z.write(packer.section(sig))
        written = 0
        for number, block in enumerate(blocks, 1):
            z.write(packer.section(block))
            written += len(block.data)
            if progress is not None and (number % PROGRESS_EVERY == 0 or number == len(blocks)):
                progress(written, manifest.bytes)
    return manifest


def _digest(blocks: Iterable[Block]) -> str:
    digest = hashlib.sha256()
    for block in blocks:
        digest.update(section_bytes(block))
    return digest.hexdigest()


@contextmanager
def _open(path: Path) -> Iterator[CarReader]:
    """A reader of the bundle's blocks: zstd or not, packed or a plain CAR."""
    with path.open("rb") as raw:
        stream: BinaryIO = raw
        if raw.read(4) == ZSTD_MAGIC:
            raw.seek(0)
            stream = ZstdReader(file_chunks(raw), MAX_INFLATED, 1 << 62, path.name)
        else:
            raw.seek(0)
        head = read_up_to(stream, len(PACK_MAGIC))
        if head == PACK_MAGIC:
            yield PackReader(stream, max_section=MAX_TEXT)
        else:
            yield CarReader(CountingReader(stream, head), max_section=MAX_TEXT)


@dataclass(frozen=True, slots=True)
class Checked:
    """A bundle whose whole file was verified."""

    manifest: Manifest
    path: Path


def verify_bundle(path: Path, progress: Callable[[int, int], None] | None = None) -> Checked:
    """Read the whole bundle and check it; raise BundleError (or a Forgery) naming what is wrong.

    ``progress(checked, total)`` is told how many of the manifest's blocks are checked now and then.
    """
    try:
        with _open(path) as reader:
            blocks = iter(reader)
            manifest = _check_head(reader, blocks)
            count = size = 0
            digest = hashlib.sha256()
            for block in blocks:
                try:
                    check_block(block)
                except TamperedBlock as exc:
                    raise TamperedBlock(f"block {count + 1} of the bundle (byte {reader.offset}): {exc}") from None
                count += 1
                size += len(block.data)
                digest.update(section_bytes(block))
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count, manifest.blocks)
    except (CarError, BrokenStream, StreamTooLarge) as exc:
        raise BundleError(f"{path.name} is damaged or cut off: {exc}") from None
    if (count, size) != (manifest.blocks, manifest.bytes):
        raise BundleError(f"{path.name} holds {count} blocks of {size} bytes, but its manifest says "
                          f"{manifest.blocks} blocks of {manifest.bytes} bytes: cut off or altered")
    if digest.hexdigest() != manifest.digest:
        raise BundleError(f"{path.name}'s blocks are not the ones its manifest describes: altered")
    return Checked(manifest, path)


def _check_head(reader: CarReader, blocks: Iterator[Block]) -> Manifest:
    if len(reader.header.roots) != 1:
        raise BundleError("a bundle has exactly one root, its manifest")
    root, sig_block = next(blocks, None), next(blocks, None)
    if root is None or root.cid != reader.header.roots[0] or sig_block is None:
        raise BundleError("the bundle does not start with its manifest and the manifest's signature")
    try:
        check_block(root)
    except TamperedBlock as exc:
        raise TamperedBlock(f"the bundle's manifest is damaged or altered: {exc}") from None
    manifest = _manifest(root)
    try:
        sig = parse(sig_block, 0)
    except TamperedBlock as exc:
        raise TamperedBlock(f"the manifest's signature is damaged or altered: {exc}") from None
    if not isinstance(sig, Signature) or sig.target != root.cid or sig.key != manifest.key or sig.role != "node":
        raise BundleError("the second block is not the manifest's signature by the node that made it")
    if not verify(sig.key, sig.target, sig.role, sig.sig):
        raise Forgery(f"the manifest's signature by {sig.key} does not verify: the bundle was altered or forged")
    return manifest


def read_blocks(checked: Checked) -> Iterator[Block]:
    """The blocks of a verified bundle, after its manifest and signature."""
    with _open(checked.path) as reader:
        blocks = iter(reader)
        next(blocks), next(blocks)
        yield from blocks


def write_plain_car(path: Path, out: BinaryIO, progress: Callable[[int], None] | None = None) -> int:
    """The bundle as the plain CAR v1 it packs (for IPLD tools); returns the number of blocks.

    ``progress(blocks written)`` is told every ``PROGRESS_EVERY`` blocks and at the end.
    """
    with _open(path) as reader:
        out.write(header_bytes(reader.header.roots))
        count = 0
        for count, block in enumerate(reader, 1):
            out.write(section_bytes(block))
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)
    if progress is not None:
        progress(count)
    return count


def manifest_summary(manifest: Manifest, maker: str = "") -> str:
    """Blocks, bytes, who made the bundle (``maker``: the key's name, else the key) and when."""
    return (f"{manifest.blocks} blocks, {manifest.bytes} bytes, made by {maker or manifest.key} at "
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(manifest.ts / 1000))} UTC")
