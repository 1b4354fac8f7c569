"""``backup restore``: a new node directory rebuilt from one snapshot.

Every block goes in through the one ingest door, in the order the node first
accepted them (their log positions), in batches; a revision whose parent was in
a damaged pack comes in as a shallow history rather than being lost. What could
not be restored is named: the damaged packs, and the pages whose heads are not
those of the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wikipeer.backup import packs
from wikipeer.backup.repository import Repository
from wikipeer.backup.snapshots import Snapshot
from wikipeer.backup.targets import TargetError
from wikipeer.backup.verify import Problem, _title, damaged_pack
from wikipeer.errors import UserError
from wikipeer.model.block import Block
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node

BATCH = 2000


@dataclass(slots=True)
class RestoreReport:
    """What a restore put in and what it could not."""

    snapshot: Snapshot
    blocks: int = 0
    accepted: int = 0
    refused: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    pages_differing: list[str] = field(default_factory=list)


def restore(repo: Repository, snap: Snapshot, directory: Path,
            progress: Callable[[int, int], None] | None = None) -> RestoreReport:
    """Rebuild a node at ``directory`` (new or empty) from ``snap``."""
    if directory.exists() and any(directory.iterdir()):
        raise UserError(f"{directory} is not empty: restore makes a new node directory")
    report = RestoreReport(snap)
    found: list[tuple[int, Block]] = []
    for done, name in enumerate(snap.packs, 1):
        try:
            _, blocks = packs.read_pack(name, repo.target.get(name), repo.sealer)
            found += blocks
        except (packs.DamagedPack, TargetError) as exc:
            report.problems.append(damaged_pack(repo, name, str(exc), [snap]))
        if progress:
            progress(done, len(snap.packs))
    found.sort(key=lambda pair: pair[0])
    node = Node.init(directory)
    try:
        for name, config in snap.wikis.items():
            node.store.set_wiki_config(WikiConfig.from_dict({**config, "name": name}))
        for start in range(0, len(found), BATCH):
            chunk = [b for _, b in found[start:start + BATCH]]
            result = node.ingest(chunk, f"backup:{snap.id}", shallow=True, defer_index=True)
            report.blocks += len(chunk)
            report.accepted += result.counts()["accepted"]
            report.refused += [str(s) for s in result.rejected()]
        node.index_pending()
        report.pages_differing = _differing(node, snap)
    finally:
        node.close()
    return report


def _differing(node: Node, snap: Snapshot) -> list[str]:
    """Pages of the snapshot whose heads on the restored node are not the snapshot's."""
    now = {p: set(revs) for p, _, _, _, revs in node.store.head_cids()}
    return sorted(_title(h) for h in snap.heads if now.get(h.page) != set(h.revs))
