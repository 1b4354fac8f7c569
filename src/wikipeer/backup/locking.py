"""One writer of a target at a time: ``backup run`` and ``backup forget`` hold the target's lock.

A prune that ran while a run was sending would delete the run's new packs (no
snapshot names them yet). A directory target is locked on the directory itself
(``flock``, which every process on the machine sees, whichever node runs it); an
S3 target, which has no locks, by a lock file per target in the node directory,
which serialises one node's runs and prunes. Prune also spares young unnamed
packs (backup/forget.py) for writers these locks cannot see.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wikipeer.backup.repository import Repository
from wikipeer.backup.targets import DirectoryTarget
from wikipeer.errors import UserError


class TargetBusy(UserError):
    """Another run or forget holds the target."""


@contextmanager
def hold(repo: Repository, node_dir: Path | None) -> Iterator[None]:
    """Hold ``repo``'s target for writing until the block ends; TargetBusy at once if another holds it."""
    if isinstance(repo.target, DirectoryTarget):
        fd = os.open(repo.target.root, os.O_RDONLY | os.O_DIRECTORY)
    elif node_dir is not None and node_dir.is_dir():
        fd = os.open(node_dir / f"backup-{repo.descriptor['id']}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    else:
        yield  # nothing shared to lock on: the prune grace is all there is
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TargetBusy(f"a 'backup run' or 'backup forget' of {repo.url} is going on; "
                             "wait for it to end and try again") from None
        yield
    finally:
        os.close(fd)
