"""``backup forget``: drop snapshots by keep-daily / keep-monthly rules, and prune unneeded packs.

The newest snapshot of each of the last N days that have one, and of each of the
last M months, is kept, and the newest snapshot always. A dropped snapshot
leaves a sealed marker under ``forgotten/`` so verify can tell it from a lost
one. Prune deletes packs that no kept snapshot names (packs an interrupted run
left and no snapshot names yet are among them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from wikipeer.backup import accounts, packs
from wikipeer.backup.repository import Repository
from wikipeer.backup.snapshots import FORGOTTEN, DamagedSnapshot, Snapshot
from wikipeer.backup.targets import TargetError
from wikipeer.errors import UserError


@dataclass(slots=True)
class ForgetReport:
    """Which snapshots were kept and dropped, and which packs pruned."""

    kept: list[Snapshot] = field(default_factory=list)
    dropped: list[Snapshot] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


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


def forget(repo: Repository, keep_daily: int, keep_monthly: int, prune: bool) -> ForgetReport:
    """Drop the snapshots the rules do not keep; with ``prune``, delete packs no kept snapshot needs."""
    if keep_daily < 0 or keep_monthly < 0:
        raise UserError("--keep-daily and --keep-monthly are counts of 0 or more")
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
        needed = {p for s in report.kept for p in s.packs} | {accounts.PREFIX + s.accounts for s in report.kept
                                                              if s.accounts}
        for name in repo.target.list(packs.PREFIX) + repo.target.list(accounts.PREFIX):
            if name not in needed:
                repo.target.delete(name)
                report.pruned.append(name)
    return report
