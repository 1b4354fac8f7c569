"""Running the git binary: arguments in, its output or a clear error out."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TextIO

from wikipeer.errors import UserError


class GitFailed(UserError):
    """A git command failed; the message names it and carries what git said."""


def run_git(args: list[str], git_dir: Path | None = None, stdout: int | TextIO | None = subprocess.PIPE,
            check: bool = True, show_stderr: bool = False) -> subprocess.CompletedProcess:
    """Run ``git ARGS`` (in ``git_dir`` when given) with no input; stdout as text when piped.

    On failure (with ``check``) a GitFailed naming the command and git's last
    words; with ``show_stderr`` git speaks to our stderr itself (its progress).
    """
    env = dict(os.environ)
    if git_dir is not None:
        env["GIT_DIR"] = str(git_dir)
    try:
        proc = subprocess.run(["git", *args], stdin=subprocess.DEVNULL, stdout=stdout,
                              stderr=None if show_stderr else subprocess.PIPE, env=env, text=True)
    except FileNotFoundError:
        raise GitFailed("git is not installed (no 'git' on PATH)") from None
    if check and proc.returncode != 0:
        said = " ".join((proc.stderr or "").strip().splitlines()[-3:]) or f"exit {proc.returncode}"
        raise GitFailed(f"'git {args[0]}' failed: {said}")
    return proc


def git_config(git_dir: Path, name: str) -> str | None:
    """A repository's setting (``git config --get NAME``), or None when unset."""
    value = run_git(["config", "--get", name], git_dir, check=False).stdout.strip()
    return value or None
