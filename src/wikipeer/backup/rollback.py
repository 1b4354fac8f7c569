"""Rollback: a target whose newest snapshots were deleted, told from the node's own record.

Whoever runs a target can delete its newest snapshots and their packs; what is
left is still a sound, older backup, so the target alone cannot tell. The node
keeps, per target in ``backup.json``, the ID, time and log position of the last
snapshot it wrote there; a target that no longer holds it and holds nothing as
new was rolled back.
"""

from __future__ import annotations

import time
from pathlib import Path

from wikipeer.backup.repository import Repository, TargetSettings, load_settings, save_settings
from wikipeer.backup.snapshots import Snapshot, snapshot_id


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def record(node_dir: Path, url: str, snap: Snapshot) -> None:
    """Remember ``snap`` as the last snapshot this node wrote to the target at ``url``."""
    settings = load_settings(node_dir)
    known = settings.get(url)
    if known is None:
        return  # a target the node was not set up with keeps no record
    known.last_snapshot, known.last_time, known.last_position = snap.id, snap.time, snap.position
    save_settings(node_dir, settings)


def rolled_back(repo: Repository, settings: TargetSettings | None) -> str | None:
    """What is missing when the target's newest snapshot is older than the last one the node wrote, else None."""
    if settings is None or settings.last_snapshot is None or settings.last_time is None:
        return None
    names = repo.snapshot_names()
    if settings.last_snapshot in {snapshot_id(n) for n in names}:
        return None
    newest = repo.latest()
    if newest is not None and newest.time >= settings.last_time:
        return None  # superseded by a later snapshot (which forget keeps over it)
    now = (f"its newest is {newest.id} of {_when(newest.time)} at log position {newest.position}"
           if newest is not None else "it holds no readable snapshot")
    return (f"snapshot {settings.last_snapshot} of {_when(settings.last_time)} (log position "
            f"{settings.last_position}), the last this node wrote there, is missing and {now}: the target "
            "was rolled back or its newest snapshots deleted; what the node did after the target's newest "
            "snapshot is not on it")
