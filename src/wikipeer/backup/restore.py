"""``backup restore``: a new node directory rebuilt from one snapshot.

Every block goes in through the one ingest door, a pack at a time (packs in the
order of the log positions they start at, blocks within a pack in log order), so
memory holds one pack, not the backup. A revision whose parent was lost in a
damaged pack comes in as a shallow history rather than being refused; one that
arrives before its parent is joined to it when the parent comes. What could not
be restored is named: the damaged packs with their objects and pages, and the
pages whose heads are not those of the snapshot.
"""

from __future__ import annotations

import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from wikipeer.backup import accounts, packs
from wikipeer.backup.affected import Affected, page_name
from wikipeer.backup.repository import Repository
from wikipeer.backup.snapshots import Snapshot
from wikipeer.backup.targets import TargetError
from wikipeer.backup.verify import Problem, damaged_pack, name_pages
from wikipeer.errors import UserError
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node
from wikipeer.store.engine import drop_database

BATCH = 2000
BATCH_BYTES = 64 << 20  # media chunks are large: a batch is bounded by bytes too
READERS = 2  # packs read ahead at once, each in its own thread


@dataclass(slots=True)
class RestoreReport:
    """What a restore put in and what it could not."""

    snapshot: Snapshot
    blocks: int = 0
    accepted: int = 0
    held: int = 0  # waiting for a block that was lost (a page or text in a damaged pack)
    refused: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    pages_differing: list[str] = field(default_factory=list)
    accounts: int = 0  # web accounts restored (private targets)


def restore(repo: Repository, snap: Snapshot, directory: Path,
            progress: Callable[[int, int], None] | None = None) -> RestoreReport:
    """Rebuild a node at ``directory`` (new or empty) from ``snap``."""
    if directory.exists() and any(directory.iterdir()):
        raise UserError(f"{directory} is not empty: restore makes a new node directory")
    report = RestoreReport(snap)
    affected = Affected([snap])
    damaged: list[tuple[Problem, set[bytes]]] = []
    order = _pack_order(repo, snap.packs, damaged)
    made: str | None = None
    try:
        node = Node.init(directory)
        made = node.made_database
        try:
            _fill(repo, snap, node, order, damaged, affected, report, progress)
        finally:
            node.close()
    except BaseException:
        _empty(directory)  # a half-restored node would pass for a whole one; it was empty before
        if made is not None:  # its database in PostgreSQL too: a new restore there would open it half-filled
            drop_database(made)
        raise
    report.problems = name_pages(damaged, affected)
    return report


def _fill(repo: Repository, snap: Snapshot, node: Node, order: list[str], damaged: list[tuple[Problem, set[bytes]]],
          affected: Affected, report: RestoreReport, progress: Callable[[int, int], None] | None) -> None:
    """Send the packs' blocks into the new node, in order, and compare its heads with the snapshot's."""
    waiting: list[Block] = []
    for name, config in snap.wikis.items():
        node.store.set_wiki_config(WikiConfig.from_dict({**config, "name": name}))
    for done, (name, blocks) in enumerate(_read_ahead(repo, order), 1):
        if isinstance(blocks, Exception):
            damaged.append(damaged_pack(repo, name, str(blocks)))
            continue
        blocks.sort(key=lambda pair: pair[0])
        for _, block in blocks:
            affected.learn(block)
        waiting += [b for _, b in blocks]
        waiting = _admit(node, waiting, snap, report)
        if progress:
            progress(done, len(order))
    _admit(node, waiting, snap, report, last=True)
    report.pages_differing = _differing(node, snap)
    if snap.accounts:
        try:
            report.accounts = accounts.write_back(accounts.fetch(repo.target, repo.sealer, snap.accounts), node.dir)
        except accounts.DamagedAccounts as exc:
            damaged.append((Problem(accounts.PREFIX + snap.accounts, f"account data cannot be restored: {exc}"), set()))


def _read_pack(repo: Repository, name: str) -> list[tuple[int, Block]] | Exception:
    try:
        return packs.read_pack(name, repo.target.get(name), repo.sealer)[1]
    except (packs.DamagedPack, TargetError) as exc:
        return exc


def _read_ahead(repo: Repository, order: list[str]) -> Iterator[tuple[str, list[tuple[int, Block]] | Exception]]:
    """Each pack's blocks (or why it cannot be read), in order. The next READERS packs are fetched, decrypted,
    decompressed and checked in worker threads while the caller ingests this one (libsodium, zstd and hashlib
    let go of the GIL, so they run beside the ingest): at most READERS + 1 packs are in memory."""
    with ThreadPoolExecutor(max_workers=READERS) as readers:
        pending: deque[Future] = deque(readers.submit(_read_pack, repo, name) for name in order[:READERS])
        for position, name in enumerate(order):
            result = pending.popleft().result()
            if position + READERS < len(order):
                pending.append(readers.submit(_read_pack, repo, order[position + READERS]))
            yield name, result


def _empty(directory: Path) -> None:
    """Remove what a failed restore wrote into ``directory`` (it was empty or absent before)."""
    if not directory.exists():
        return
    for path in directory.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _pack_order(repo: Repository, names: list[str], damaged: list[tuple[Problem, set[bytes]]]) -> list[str]:
    """The snapshot's packs by the first log position each holds; a pack whose header is unreadable is
    recorded as damaged (its body cannot be placed or trusted without it)."""
    first: dict[str, int] = {}
    for name in names:
        try:
            entries = repo.pack_entries(name)
            first[name] = min((e.seq for e in entries), default=0)
        except (packs.DamagedPack, TargetError) as exc:
            damaged.append(damaged_pack(repo, name, str(exc)))
    return sorted(first, key=lambda n: (first[n], n))


def _admit(node: Node, blocks: list[Block], snap: Snapshot, report: RestoreReport, last: bool = False) -> list[Block]:
    """Ingest ``blocks`` in batches; returns the tail kept for the next call.

    A batch never ends between an object and the signatures after it (ingest
    refuses an object whose signature did not come with it), nor between raw
    blocks and the object after them (a file's chunks are chunks only in the
    batch of the file that names them; alone they would be taken for texts).
    Packs are cut the
    same way, but one written by an older version, or a block sent again after
    damage, may not be: the tail after the last object that may still be waiting
    for signatures waits for the next pack.
    """
    while len(blocks) >= BATCH or (last and blocks) or sum(len(b.data) for b in blocks) >= BATCH_BYTES:
        cut = len(blocks) if last and len(blocks) <= BATCH else _cut(blocks, min(BATCH, _within_bytes(blocks)))
        if cut == 0:
            if not last:
                return blocks
            cut = len(blocks)
        chunk, blocks = blocks[:cut], blocks[cut:]
        result = node.ingest(chunk, f"backup:{snap.id}", shallow=True)
        counts = result.counts()
        report.blocks += len(chunk)
        report.accepted += counts["accepted"] + result.released
        report.held += counts["held"] - result.released
        report.refused += [str(s) for s in result.rejected()]
    return blocks


def _within_bytes(blocks: list[Block]) -> int:
    """How many blocks from the start fit in BATCH_BYTES (at most all but the last, at least one)."""
    total = 0
    for count, block in enumerate(blocks[:-1]):
        total += len(block.data)
        if total > BATCH_BYTES:
            return max(1, count)
    return len(blocks) - 1


def _cut(blocks: list[Block], at_most: int) -> int:
    """The largest position up to ``at_most`` that starts neither a signature nor follows a raw block
    (0 if there is none)."""
    for position in range(at_most, 0, -1):
        if blocks[position - 1].codec != RAW and not packs.is_signature(blocks[position]):
            return position
    return 0


def _differing(node: Node, snap: Snapshot) -> list[str]:
    """Pages of the snapshot whose heads on the restored node are not the snapshot's."""
    now = {p: set(revs) for p, _, _, _, revs in node.store.head_cids()}
    return sorted(page_name(h.wiki, h.ns, h.title) for h in snap.heads if now.get(h.page) != set(h.revs))
