"""The hook ``wikipeer verify-git --install-hook`` puts in a clone: the commits a fetch brings are verified
before its refs move.

It is a ``reference-transaction`` hook (git 2.28 and newer), the one hook that runs on ``git fetch`` (and so
on ``git pull``): in the ``prepared`` state it may still refuse the whole update. It looks only at the refs
a fetch writes (``refs/remotes/...`` and ``refs/forks/...``), so the user's own local commits, which carry
no signature yet, are left alone. It verifies only the commits the existing refs do not reach.
"""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path

from dulwich.repo import Repo

HOOK_NAME = "reference-transaction"
MARK = "# installed by wikipeer verify-git --install-hook"

SCRIPT = """#!/bin/sh
{mark}
# Verifies the commits a fetch brings (wikipeer verify-git) before git moves the refs; refuses the fetch if one
# does not verify. Only refs a fetch writes are looked at: your own commits are left alone.
[ "$1" = prepared ] || exit 0
tips=""
while read -r old new ref; do
    case "$ref" in refs/remotes/*|refs/forks/*) ;; *) continue ;; esac
    case "$new" in *[!0]*) tips="$tips $new" ;; esac
done
[ -n "$tips" ] || exit 0
exec {command} verify-git "$(git rev-parse --absolute-git-dir)" --new $tips
"""


def install_hook(path: Path) -> Path:
    """Write the hook into the repository at ``path``; returns the hook's path. An existing hook that is not
    ours is kept: UserError says so."""
    from wikipeer.errors import UserError
    repo = Repo(str(path))
    hooks = Path(repo.controldir()) / "hooks"
    hooks.mkdir(exist_ok=True)
    hook = hooks / HOOK_NAME
    if hook.exists() and MARK not in hook.read_text(errors="replace"):
        raise UserError(f"{hook} exists and is not wikipeer's: add a call to 'wikipeer verify-git' to it yourself")
    command = f"{shlex.quote(sys.executable)} -m wikipeer.cli.main"
    tmp = hook.with_name(HOOK_NAME + ".tmp")
    tmp.write_text(SCRIPT.format(mark=MARK, command=command))
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    tmp.replace(hook)
    return hook
