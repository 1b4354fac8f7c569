"""Receiving a push: dulwich's receive-pack, with the pack kept in a quarantine and no ref set from it.

The pack goes into a temporary object store beside the node's repository
(``quarantine/`` inside it, with the repository as its alternate, so thin
packs resolve their bases). A taker turns the new commits into revisions
(changes.py, push.py) and answers with one line per file, sent back as
``remote:`` sideband lines, and the ref's status: ``ok`` when every file was
taken, else ``ng`` with a short reason. The quarantine is removed whatever
happens: the pushed commits are never kept, the node's main moves to the
node's own commits for the revisions taken (``git pull --rebase`` then drops
the pusher's commits as already applied).
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dulwich.object_store import BaseObjectStore, DiskObjectStore
from dulwich.protocol import (
    CAPABILITY_OFS_DELTA, CAPABILITY_QUIET, CAPABILITY_REPORT_STATUS, CAPABILITY_SIDE_BAND_64K,
    SIDE_BAND_CHANNEL_PROGRESS, ZERO_SHA)
from dulwich.server import ReceivePackHandler

from wikipeer.gitpeer.changes import PushTooLarge

QUARANTINE = "quarantine"
BODY_PREFIX = "body-"
"""Request bodies are spooled under QUARANTINE with this prefix (web/git_push.py)."""
MAIN_REF = b"refs/heads/main"
MAX_PUSH_OBJECTS = 50_000
"""Objects one pack may hold, read from its header before any is unpacked: 10,000 page files in sharded
trees need about 20,000; a push over it is refused whole at once (push in parts)."""


@dataclass(slots=True)
class RefAnswer:
    """What a taker made of one ref's update: the lines to show the pusher and the problem, if any."""

    problem: str | None
    lines: list[str] = field(default_factory=list)


Taker = Callable[[BaseObjectStore, bytes, bytes], RefAnswer]
"""(quarantine object store, old commit id, new commit id) -> the answer; called once per push of main."""


STALE_BODY_SECONDS = 3600


def sweep(repo_path: Path) -> None:
    """Remove what a killed process left behind (call it holding the wiki's push lock): every quarantine, and
    request bodies not written to for an hour (a live push's body is being written, or is read under the lock)."""
    root = Path(repo_path) / QUARANTINE
    for stale in root.glob("push-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for body in root.glob(BODY_PREFIX + "*"):
        try:
            if time.time() - body.stat().st_mtime > STALE_BODY_SECONDS:
                body.unlink()
        except FileNotFoundError:
            pass


class Quarantine:
    """A temporary object store for one push, removed on exit."""

    def __init__(self, repo_path: Path) -> None:
        self.repo_path = Path(repo_path)

    def __enter__(self) -> DiskObjectStore:
        root = self.repo_path / QUARANTINE
        root.mkdir(exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="push-", dir=root))
        store = DiskObjectStore.init(self.path)
        store.add_alternate_path(os.path.abspath(self.repo_path / "objects"))
        return store

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class _HeaderCheck:
    """Reads the pack through, refusing it from its header when it holds too many objects."""

    def __init__(self, read: Callable[[int], bytes], max_objects: int) -> None:
        self.read_raw, self.max_objects, self.seen = read, max_objects, b""

    def read(self, size: int) -> bytes:
        data = self.read_raw(size)
        if len(self.seen) < 12:
            self.seen += data[:12 - len(self.seen)]
            if len(self.seen) == 12 and self.seen[:4] == b"PACK":
                count = struct.unpack(">L", self.seen[8:12])[0]
                if count > self.max_objects:
                    raise PushTooLarge(f"the push sends {count} objects, more than the {self.max_objects} one push "
                                       "may hold: push the commits in parts")
        return data


class WikiReceivePack(ReceivePackHandler):
    """receive-pack for a node's wiki repository: only main takes pushes, and only as revisions."""

    def __init__(self, backend, args, proto, take: Taker, stateless_rpc: bool = True,
                 advertise_refs: bool = False, max_objects: int = MAX_PUSH_OBJECTS) -> None:
        super().__init__(backend, args, proto, stateless_rpc=stateless_rpc, advertise_refs=advertise_refs)
        self.take, self.max_objects = take, max_objects

    @classmethod
    def capabilities(cls) -> Iterable[bytes]:
        # No delete-refs: a push deletes nothing here.
        return [CAPABILITY_REPORT_STATUS, CAPABILITY_QUIET, CAPABILITY_OFS_DELTA, CAPABILITY_SIDE_BAND_64K]

    def say(self, line: str) -> None:
        """A line the pusher's git shows as ``remote: ...``."""
        if self.has_capability(CAPABILITY_SIDE_BAND_64K):
            self.proto.write_sideband(SIDE_BAND_CHANNEL_PROGRESS, line.encode("utf-8") + b"\n")

    def _apply_pack(self, refs: list[tuple[bytes, bytes, bytes]]) -> Iterator[tuple[bytes, bytes]]:
        if all(new == ZERO_SHA for _, new, _ in refs):
            yield b"unpack", b"ok"
            yield from ((ref, b"deleting refs is not allowed here") for _, _, ref in refs)
            return
        with Quarantine(Path(self.repo.path)) as store:
            try:
                store.add_thin_pack(_HeaderCheck(self.proto.read, self.max_objects).read, None)
            except PushTooLarge as exc:
                self.say(str(exc))
                yield b"unpack", b"ok"
                yield from ((ref, b"push too large: push in parts") for _, _, ref in refs)
                return
            except Exception as exc:  # a truncated or corrupt pack: nothing of it is kept
                yield b"unpack", " ".join(str(exc).split()).encode("utf-8")[:200] or b"bad pack"
                yield from ((ref, b"unpack failed") for _, _, ref in refs)
                return
            yield b"unpack", b"ok"
            for old, new, ref in refs:
                yield ref, self._update(store, old, new, ref)

    def _update(self, store: BaseObjectStore, old: bytes, new: bytes, ref: bytes) -> bytes:
        if ref != MAIN_REF:
            return b"only refs/heads/main takes pushes (it follows the node's view of the wiki)"
        if new == ZERO_SHA:
            return b"deleting main is not allowed"
        answer = self.take(store, old, new)
        for line in answer.lines:
            self.say(line)
        return b"ok" if answer.problem is None else answer.problem.encode("utf-8")
