"""``backup verify``: check a target from the target alone (and its key).

Every snapshot must open, authenticate and carry a valid node signature, and
every pack it needs must exist; every pack checked must hash to its name,
decrypt and authenticate, and each of its blocks must hash to its CID. A
snapshot that a later one names as its previous must be on the target unless
``backup forget`` dropped it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from wikipeer.backup import accounts, packs
from wikipeer.backup.affected import Affected
from wikipeer.backup.repository import Repository
from wikipeer.backup.snapshots import DamagedSnapshot, Snapshot
from wikipeer.backup.targets import TargetError
from wikipeer.model.cid import cid_to_str


@dataclass(slots=True)
class Problem:
    """One thing wrong on the target, with what it affects."""

    name: str
    problem: str
    objects: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.name}: {self.problem}"
        if self.pages:
            text += f"; pages affected: {', '.join(self.pages)}"
        if self.files:
            text += f"; files affected: {', '.join(self.files)}"
        if self.objects:
            shown = ", ".join(self.objects[:10]) + (f" and {len(self.objects) - 10} more" if len(self.objects) > 10 else "")
            text += f"; objects affected ({len(self.objects)}): {shown}"
        return text


@dataclass(slots=True)
class VerifyReport:
    """What verify looked at and what it found."""

    snapshots: int = 0
    packs: int = 0
    blocks: int = 0
    problems: list[Problem] = field(default_factory=list)


def verify_target(repo: Repository, sample: float = 1.0,
                  progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Check snapshots and (a ``sample`` fraction of) packs; every problem is named in the report."""
    report = VerifyReport()
    snaps: list[Snapshot] = []
    names = repo.snapshot_names()
    for name in names:
        try:
            snaps.append(repo.load(name))
        except (DamagedSnapshot, TargetError) as exc:
            report.problems.append(Problem(name, f"snapshot cannot be used: {exc}"))
    report.snapshots = len(names)
    held_ids = {s.id for s in snaps} | {n.rsplit("-", 1)[-1] for n in names}
    dropped = repo.forgotten()
    for snap in snaps:
        if snap.previous and snap.previous not in held_ids and snap.previous not in dropped:
            report.problems.append(Problem(f"snapshot {snap.previous}", f"missing (named as the previous snapshot "
                                                                         f"of {snap.id}, never dropped by forget)"))
    on_target = set(repo.target.list(packs.PREFIX))
    needed = sorted({p for s in snaps for p in s.packs})
    missing = [name for name in needed if name not in on_target]
    present = [n for n in needed if n in on_target] + sorted(on_target - set(needed))
    chosen = present if sample >= 1.0 else random.sample(present, max(1, round(len(present) * sample))) if present else []
    affected = Affected(snaps)
    damaged: list[tuple[Problem, set[bytes]]] = []
    for done, name in enumerate(chosen, 1):
        report.packs += 1
        try:
            data = repo.target.get(name)
            _, blocks = packs.read_pack(name, data, repo.sealer)
            report.blocks += len(blocks)
            for _, block in blocks:
                affected.learn(block)
        except (packs.DamagedPack, TargetError) as exc:
            damaged.append(damaged_pack(repo, name, str(exc)))
        if progress:
            progress(done, len(chosen))
    report.problems += name_pages(damaged, affected)
    for digest in sorted({s.accounts for s in snaps if s.accounts}):
        try:
            accounts.fetch(repo.target, repo.sealer, digest)
        except accounts.DamagedAccounts as exc:
            report.problems.append(Problem(accounts.PREFIX + digest, f"account data cannot be read: {exc}; snapshots "
                                           "that name it: " + ", ".join(s.id for s in snaps if s.accounts == digest)))
    if missing:
        report.problems += missing_packs(repo, snaps, missing, affected)
    return report


def missing_packs(repo: Repository, snaps: list[Snapshot], missing: list[str], affected: Affected) -> list[Problem]:
    """A Problem per missing pack, with the pages that lost blocks: those whose page, head revisions or
    revisions and texts linked from what could be read no pack left holds."""
    held = repo.index().cids
    lost = {cid for s in snaps for h in s.heads for cid in (h.page, *h.revs)} | set(affected.page_of)
    lost |= {f.cid for s in snaps for f in s.files} | set(affected.files_of)
    pages, files = affected.pages(lost - held), affected.files(lost - held)
    return [Problem(name, "pack missing; snapshots that need it: "
                    + ", ".join(s.id for s in snaps if name in s.packs), pages=pages, files=files)
            for name in missing]


def damaged_pack(repo: Repository, name: str, problem: str) -> tuple[Problem, set[bytes]]:
    """A Problem for a pack that cannot be read, naming the objects its header says it held, and those CIDs."""
    cids: set[bytes] = set()
    try:
        cids = {e.cid for e in repo.pack_entries(name)}
    except (packs.DamagedPack, TargetError):
        problem += " (its header cannot be read either: which objects it held is unknown)"
    return Problem(name, problem, sorted(cid_to_str(c) for c in cids)), cids


def name_pages(damaged: list[tuple[Problem, set[bytes]]], affected: Affected) -> list[Problem]:
    """The damaged packs' problems, each with the pages its lost blocks belonged to (once all is read)."""
    for problem, cids in damaged:
        problem.pages = affected.pages(cids)
        problem.files = affected.files(cids)
    return [problem for problem, _ in damaged]
