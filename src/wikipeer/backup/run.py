"""``backup run``: send the blocks a target lacks in whole packs, then a signed snapshot manifest.

Packs go first and the manifest last, so a run that stops anywhere (full disk,
S3 error, killed) leaves at worst whole packs no snapshot names yet; the next
run finds them by their headers, does not send their blocks again, and names
them in its snapshot. An unchanged node writes nothing.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nacl.signing

from wikipeer.backup import accounts, packs, source
from wikipeer.backup.repository import Repository
from wikipeer.backup.snapshots import Head, Snapshot, seal_snapshot
from wikipeer.backup.targets import DirectoryTarget
from wikipeer.model.block import Block
from wikipeer.store.store import Store

PACK_BYTES = 16 * 1024 * 1024
PACK_BYTES_ENV = "WIKIPEER_BACKUP_PACK_BYTES"  # smaller packs, for tests and tiny targets
WRITERS = 2  # packs built and written at once, each in its own thread


@dataclass(slots=True)
class RunReport:
    """What one run wrote."""

    packs: int = 0
    blocks: int = 0
    bytes: int = 0
    snapshot: Snapshot | None = None
    skipped_private: int = 0


def pack_bytes() -> int:
    """Raw bytes gathered per pack (about 16 MiB unless $WIKIPEER_BACKUP_PACK_BYTES says otherwise)."""
    return int(os.environ.get(PACK_BYTES_ENV) or PACK_BYTES)


def current_heads(store: Store) -> list[Head]:
    """Every page's heads as the node has them now."""
    return [Head(p, w, n, t, tuple(r)) for p, w, n, t, r in store.head_cids()]


def run_backup(store: Store, repo: Repository, signing_key: nacl.signing.SigningKey,
               progress: Callable[[int, int], None] | None = None, node_dir: Path | None = None) -> RunReport:
    """Back up what the target lacks; ``progress(blocks, of)`` is called as packs are written. A private
    target also gets the account data of ``node_dir`` (never a public one)."""
    if isinstance(repo.target, DirectoryTarget):
        repo.target.clean_partial()
    report = RunReport()
    latest = repo.latest()
    index = repo.index()
    with store.reading():  # heads and log position of one moment, though the node takes edits meanwhile
        private = source.private_cids(store) if repo.public else set()
        heads = [h for h in current_heads(store) if h.page not in private]
        files = [f for f in source.held_files(store) if f.cid not in private]
        position = store.last_seq()
        wikis = {name: store.wiki_config(name).to_dict() for name in store.wikis()}
    account_copy = accounts.account_data(node_dir) if node_dir is not None and not repo.public else None
    account_digest = accounts.digest(account_copy) if account_copy is not None else None
    whole = latest is not None and all(p in index.packs for p in latest.packs)
    if (whole and latest.position == position and latest.heads == heads and latest.wikis == wikis
            and latest.files == files and latest.accounts == account_digest):
        return report  # unchanged: nothing to write
    # Blocks before the last snapshot's position are on the target when its packs all are; a public
    # target lists everything again, since a page shown again has its skipped blocks to send.
    since = latest.position if whole and not repo.public else 0
    todo = [(seq, cid) for seq, cid in source.held_since(store, since) if seq <= position and cid not in index.cids]
    report.skipped_private = sum(1 for _, cid in todo if cid in private)
    todo = [(seq, cid) for seq, cid in todo if cid not in private]
    written = _send(store, repo, todo, report, progress)
    needed = _needed_packs(store, index.packs, written)
    if account_copy is not None:  # before the snapshot that names it, like packs
        accounts.send(repo.target, repo.sealer, account_copy)
    repo.check_present(needed + ([accounts.PREFIX + account_digest] if account_digest else []))
    snap = Snapshot(round(time.time(), 6), position, heads, needed, latest.id if latest else None, wikis,
                    files=files, accounts=account_digest)
    name, data = seal_snapshot(snap, signing_key, repo.sealer)
    repo.target.put(name, data)
    report.snapshot = snap
    return report


def _send(store: Store, repo: Repository, todo: list[tuple[int, bytes]], report: RunReport,
          progress: Callable[[int, int], None] | None) -> dict[str, list[bytes]]:
    """Write the blocks ``todo`` names in packs of about pack_bytes(); returns each new pack's CIDs.

    Packs are compressed, sealed, hashed and written by WRITERS worker threads
    while the next is read from the node (zstd, libsodium, hashlib and file or
    S3 writes let go of the GIL): at most WRITERS + 1 packs are in memory. Every
    pack is whole on the target before this returns, so the snapshot written
    after names only whole packs; a pack that cannot be written stops the run
    with its error.
    """
    written: dict[str, list[bytes]] = {}
    batch: list[tuple[int, Block]] = []
    size, limit = 0, pack_bytes()
    with ThreadPoolExecutor(max_workers=WRITERS) as writers:
        pending: deque[Future] = deque()
        for done, (seq, cid) in enumerate(todo, 1):
            block = source.read_block(store, cid)
            if block is None:
                continue  # deleted on the node since it was listed
            # A full pack ends before the next object, never between an object and its signatures:
            # each pack then restores on its own, whatever happened to its neighbours.
            if size >= limit and not packs.is_signature(block):
                if len(pending) >= WRITERS:
                    _record(pending.popleft().result(), report, written)
                pending.append(writers.submit(_put_pack, repo, batch))
                batch, size = [], 0
                if progress:
                    progress(done, len(todo))
            batch.append((seq, block))
            size += len(block.data)
        if batch:
            pending.append(writers.submit(_put_pack, repo, batch))
        while pending:
            _record(pending.popleft().result(), report, written)
    if progress:
        progress(len(todo), len(todo))
    return written


@dataclass(frozen=True, slots=True)
class _Put:
    """One pack written: its name, stored size and the CIDs of its blocks."""

    name: str
    size: int
    cids: list[bytes]


def _put_pack(repo: Repository, batch: list[tuple[int, Block]]) -> _Put:
    data = packs.build_pack(batch, repo.sealer)
    name = packs.pack_name(data)
    repo.target.put(name, data)
    return _Put(name, len(data), [b.cid for _, b in batch])


def _record(put: _Put, report: RunReport, written: dict[str, list[bytes]]) -> None:
    """Count a written pack (in the calling thread: the workers share nothing)."""
    report.packs += 1
    report.blocks += len(put.cids)
    report.bytes += put.size
    written[put.name] = put.cids


def _needed_packs(store: Store, on_target: dict[str, list[packs.Entry]], written: dict[str, list[bytes]]) -> list[str]:
    """The packs holding the blocks the node holds now: what a restore of this snapshot reads.

    A pack none of whose blocks the node still holds (they were all deleted on the
    node) is not named, so once no kept snapshot names it, prune can delete it.
    """
    where: dict[bytes, str] = {}
    for name in sorted(on_target):
        for entry in on_target[name]:
            where.setdefault(entry.cid, name)
    for name, cids in written.items():
        for cid in cids:
            where.setdefault(cid, name)
    return sorted({where[cid] for _, cid in source.held_since(store, 0) if cid in where})
