"""Bundles: a node's changes in one file, to carry where no network reaches.

A bundle is a CAR v1 stream compressed with zstd (long-distance matching,
so the successive revisions of a page shrink to their differences). Its
root is a signed manifest that says who made it, when, and how many blocks
of how many bytes follow; the manifest's signature (role "node") comes
right after it. ``zstd -d`` gives the plain CAR, which IPLD tools read.

Reading a bundle verifies the whole file before anything is accepted: the
manifest's signature, every block's CID, and that the blocks are exactly as
many and as large as the manifest says (so a cut-off or padded file is
refused). Only then do the blocks go through the one ingest door.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from wikipeer.errors import Forgery, InvalidObject
from wikipeer.formats.car import CarError, CarReader, header_bytes, section_bytes
from wikipeer.formats.compressed import BrokenStream, StreamTooLarge, ZstdReader, file_chunks
from wikipeer.model.block import Block, TamperedBlock, check_block, decode_object, encode_object
from wikipeer.model.keys import sign, verify
from wikipeer.model.objects import Signature, build_signature, parse
from wikipeer.model.schema import Field, check_fields

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LEVEL = 19
WINDOW_LOG = 27  # 128 MiB: a page's whole history fits in the window
MAX_TEXT = 64 * 1024 * 1024
MAX_INFLATED = 1 << 40  # a bundle may be large; its manifest bounds it once read

MANIFEST_RULES = {
    "key": Field("key"), "ts": Field("int"), "blocks": Field("int"), "bytes": Field("int"),
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
    wikis: tuple[str, ...] = ()
    note: str = ""

    def block(self) -> Block:
        obj = {"t": "bundle", "key": self.key, "ts": self.ts, "blocks": self.blocks, "bytes": self.bytes}
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
    return Manifest(body["key"], body["ts"], body["blocks"], body["bytes"], tuple(body.get("wikis", ())),
                    body.get("note", ""))


def write_bundle(out: BinaryIO, blocks: Iterable[Block], signing_key, key: str, wikis: Iterable[str] = (),
                 note: str = "") -> Manifest:
    """Write a bundle of ``blocks`` (read twice: once to count, once to write) and return its manifest."""
    blocks = list(blocks) if not isinstance(blocks, list) else blocks
    manifest = Manifest(key, int(time.time() * 1000), len(blocks), sum(len(b.data) for b in blocks),
                        tuple(sorted(set(wikis))), note)
    root = manifest.block()
    sig = build_signature(Signature(root.cid, "node", key, sign(signing_key, root.cid, "node")))
    params = zstandard.ZstdCompressionParameters.from_level(LEVEL, window_log=WINDOW_LOG, enable_ldm=True,
                                                         write_checksum=True)
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(out, closefd=False) as z:
        z.write(header_bytes([root.cid]))
        z.write(section_bytes(root))
        z.write(section_bytes(sig))
        for block in blocks:
            z.write(section_bytes(block))
    return manifest


@contextmanager
def _open(path: Path) -> Iterator[BinaryIO]:
    """The bundle's CAR bytes, decompressed on the fly when the file is zstd (it always is when we write it)."""
    with path.open("rb") as raw:
        if raw.read(4) != ZSTD_MAGIC:
            raw.seek(0)
            yield raw
        else:
            raw.seek(0)
            yield ZstdReader(file_chunks(raw), MAX_INFLATED, 1 << 62, path.name)


@dataclass(frozen=True, slots=True)
class Checked:
    """A bundle whose whole file was verified."""

    manifest: Manifest
    path: Path


def verify_bundle(path: Path) -> Checked:
    """Read the whole bundle and check it; raise BundleError (or a Forgery) naming what is wrong."""
    try:
        with _open(path) as stream:
            reader = CarReader(stream, max_section=MAX_TEXT)
            blocks = iter(reader)
            manifest = _check_head(reader, blocks)
            count = size = 0
            for block in blocks:
                try:
                    check_block(block)
                except TamperedBlock as exc:
                    raise TamperedBlock(f"block {count + 1} of the bundle (byte {reader.offset}): {exc}") from None
                count += 1
                size += len(block.data)
    except (CarError, BrokenStream, StreamTooLarge) as exc:
        raise BundleError(f"{path.name} is damaged or cut off: {exc}") from None
    if (count, size) != (manifest.blocks, manifest.bytes):
        raise BundleError(f"{path.name} holds {count} blocks of {size} bytes, but its manifest says "
                          f"{manifest.blocks} blocks of {manifest.bytes} bytes: cut off or altered")
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
    with _open(checked.path) as stream:
        blocks = iter(CarReader(stream, max_section=MAX_TEXT))
        next(blocks), next(blocks)
        yield from blocks


def manifest_summary(manifest: Manifest) -> str:
    return (f"{manifest.blocks} blocks, {manifest.bytes} bytes, made by {manifest.key[:20]}… at "
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(manifest.ts / 1000))} UTC")
