"""``backup restore --files SHA256...``: single media files out of a snapshot, without restoring the node.

The snapshot lists every file version by SHA-256 with its file object's CID;
the target's pack headers say which pack holds that object and each of its
chunks. Only those packs are read; every block is checked against its CID (as
every pack read is) and the assembled bytes against the SHA-256 before a file
is written, under a temporary name renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wikipeer.backup import packs
from wikipeer.backup.repository import Repository
from wikipeer.backup.snapshots import FileEntry, Snapshot
from wikipeer.backup.targets import TargetError
from wikipeer.errors import InvalidObject, UserError
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.media import File
from wikipeer.model.objects import parse

_HEX = re.compile(r"[0-9a-f]{8,64}")


@dataclass(slots=True)
class Extracted:
    """What became of the files asked for: written paths, and one line per file that could not be."""

    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def find_entries(snap: Snapshot, wanted: list[str]) -> tuple[list[FileEntry], list[str]]:
    """The snapshot's file versions for each SHA-256 (or unique start of one, 8 digits at least)."""
    found, problems = [], []
    for text in wanted:
        digits = text.lower()
        if not _HEX.fullmatch(digits):
            raise UserError(f"{text!r} is not a SHA-256 (64 hex digits, or a unique start of 8 or more)")
        matches = {f.sha256: f for f in snap.files if f.sha256.hex().startswith(digits)}
        if len(matches) == 1:
            found.append(next(iter(matches.values())))
        elif matches:
            problems.append(f"{text}: names {len(matches)} files in snapshot {snap.id}; give more of it")
        else:
            problems.append(f"{text}: no file with this SHA-256 in snapshot {snap.id}")
    return found, problems


def file_name(snap: Snapshot, entry: FileEntry) -> str:
    """The name a file is written under: its page's title without "File:", safe as a file name."""
    titles = {h.page: h.title for h in snap.heads}
    title = titles.get(entry.page, "")
    name = title.split(":", 1)[-1].replace("/", "_").replace("\0", "").strip(". ")
    return name or entry.sha256.hex()


class _Blocks:
    """Blocks read from the snapshot's packs on demand, each pack read once."""

    def __init__(self, repo: Repository, snap: Snapshot) -> None:
        self.repo = repo
        self.where: dict[bytes, str] = {}
        for name in snap.packs:
            try:
                for entry in repo.pack_entries(name):
                    self.where.setdefault(entry.cid, name)
            except (packs.DamagedPack, TargetError):
                continue  # its blocks are reported missing when asked for
        self.cache: dict[str, dict[bytes, bytes]] = {}

    def get(self, cid: bytes) -> bytes:
        name = self.where.get(cid)
        if name is None:
            raise LookupError(f"block {cid_to_str(cid)} is in no readable pack of the snapshot")
        if name not in self.cache:
            try:
                _, blocks = packs.read_pack(name, self.repo.target.get(name), self.repo.sealer)
            except (packs.DamagedPack, TargetError) as exc:
                raise LookupError(f"{name}: {exc}") from None
            self.cache = {name: {b.cid: b.data for _, b in blocks}}  # one pack in memory at a time
        return self.cache[name][cid]


def extract(repo: Repository, snap: Snapshot, wanted: list[str], out: Path | Callable[[bytes], None]) -> Extracted:
    """Write each wanted file into directory ``out`` (or pass its bytes to ``out``); name what fails."""
    entries, problems = find_entries(snap, wanted)
    report = Extracted(problems=problems)
    blocks = _Blocks(repo, snap)
    for entry in entries:
        try:
            data = _assemble(blocks, entry)
        except (LookupError, InvalidObject) as exc:
            report.problems.append(f"{entry.sha256.hex()} ({file_name(snap, entry)}): cannot be restored: {exc}")
            continue
        if callable(out):
            out(data)
            continue
        path = out / file_name(snap, entry)
        if path.exists() and hashlib.sha256(path.read_bytes()).digest() != entry.sha256:
            path = out / entry.sha256.hex()
        _write(path, data)
        report.written.append(path)
    return report


def _assemble(blocks: _Blocks, entry: FileEntry) -> bytes:
    """A file's bytes from its file object and chunks, checked against its SHA-256."""
    record = parse(Block(entry.cid, blocks.get(entry.cid)), 1 << 20)
    if not isinstance(record, File):
        raise InvalidObject(f"{cid_to_str(entry.cid)} is not a file object")
    data = b"".join(blocks.get(cid) for cid in record.chunks)
    if hashlib.sha256(data).digest() != entry.sha256:
        raise InvalidObject("its chunks do not give its SHA-256")
    return data


def _write(path: Path, data: bytes) -> None:
    """Write whole or not at all (temporary name, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
