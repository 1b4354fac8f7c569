"""``backup forget``: drop snapshots by keep-daily / keep-monthly rules, and prune unneeded packs.

The newest snapshot of each of the last N days that have one, and of each of the
last M months, is kept, and the newest snapshot always. A dropped snapshot
leaves a sealed marker under ``forgotten/`` so verify can tell it from a lost
one. Prune deletes packs that no kept snapshot names, but spares a pack no
snapshot names at all while it is younger than GRACE: it may be one a running
backup just wrote (from another machine, on a target no lock covers), which the
run's snapshot is about to name. Packs an interrupted run left are pruned once
older than that (or named by the next run).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from wikipeer.backup import accounts, packs
from wikipeer.backup.locking import hold
from wikipeer.backup.repository import Repository
from wikipeer.backup.snapshots import FORGOTTEN, DamagedSnapshot, Snapshot
from wikipeer.backup.targets import TargetError
from wikipeer.errors import UserError

GRACE = 24 * 3600  # seconds a pack no snapshot names is spared by prune: a run may be about to name it


@dataclass(slots=True)
class ForgetReport:
    """Which snapshots were kept and dropped, and which packs pruned."""

    kept: list[Snapshot] = field(default_factory=list)
    dropped: list[Snapshot] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    spared: list[str] = field(default_factory=list)  # unnamed and younger than GRACE


def choose(snaps: list[Snapshot], keep_daily: int, keep_monthly: int) -> set[str]:
    """IDs of the snapshots the rules keep (snapshots oldest first)."""
    keep = {snaps[-1].id} if snaps else set()
    for fmt, count in (("%Y-%m-%d", keep_daily), ("%Y-%m", keep_monthly)):
        periods: list[str] = []
        for snap in reversed(snaps):  # newest first: the first seen in a period is its newest
            period = time.strftime(fmt, time.gmtime(snap.time))
            if period not in periods:
                if len(periods) >= count:
                    break
                periods.append(period)
                keep.add(snap.id)
    return keep


def forget(repo: Repository, keep_daily: int, keep_monthly: int, prune: bool,
           node_dir: Path | None = None) -> ForgetReport:
    """Drop the snapshots the rules do not keep; with ``prune``, delete packs no kept snapshot needs.
    Holds the target's lock (backup/locking.py) so no run of this machine or node sends meanwhile."""
    if keep_daily < 0 or keep_monthly < 0:
        raise UserError("--keep-daily and --keep-monthly are counts of 0 or more")
    with hold(repo, node_dir):
        return _forget(repo, keep_daily, keep_monthly, prune)


def _forget(repo: Repository, keep_daily: int, keep_monthly: int, prune: bool) -> ForgetReport:
    snaps = []
    for name in repo.snapshot_names():
        try:
            snaps.append(repo.load(name))
        except (DamagedSnapshot, TargetError) as exc:
            raise UserError(f"{exc}; run 'wikipeer backup verify' and deal with it before forgetting") from None
    keep = choose(snaps, keep_daily, keep_monthly)
    report = ForgetReport()
    for snap in snaps:
        if snap.id in keep:
            report.kept.append(snap)
            continue
        repo.target.put(FORGOTTEN + snap.id, repo.sealer.seal(snap.id.encode("ascii"), b"forgotten"))
        repo.target.delete(snap.name)
        report.dropped.append(snap)
    if prune:
        needed, named = _names(report.kept), _names(snaps)
        for name in repo.target.list(packs.PREFIX) + repo.target.list(accounts.PREFIX):
            if name in needed:
                continue
            if name not in named and _young(repo, name):
                report.spared.append(name)
                continue
            repo.target.delete(name)
            report.pruned.append(name)
    return report


def _names(snaps: list[Snapshot]) -> set[str]:
    """The packs and account data copies ``snaps`` name."""
    return {p for s in snaps for p in s.packs} | {accounts.PREFIX + s.accounts for s in snaps if s.accounts}


def _young(repo: Repository, name: str) -> bool:
    """Written less than GRACE ago (or of an age the target cannot tell: kept, to be safe)."""
    written = repo.target.modified(name)
    return written is None or time.time() - written < GRACE
