"""`git push` to a served node (issue 17, item 2): what a push costs beside the door it goes through.

A node holding wiki ``demo`` with one page and an account is served by
`wikipeer serve`; a clone gets one commit of N new page files (made with git
fast-import), then a second commit editing all of them; each is pushed with
the real git binary and timed from `git push` to its answer (receive, the
changes, signing, one ingest call, the node's own commits built for them).
Anchor in the same run: the same N edits signed and ingested in one
``authoring.save_edits`` call on a fresh in-process node (the door alone).
Also timed: a push of 100,000 files, refused whole from its pack header.

``python -m bench.git_push_bench [N]`` (default 1,000).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.servers import free_port, running
from wikipeer.authoring import edit, edit_blocks, save_edits, signer
from wikipeer.gitpeer.layout import page_path
from wikipeer.model.objects import Page
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node
from wikipeer.store.accounts import ACCOUNTS_FILE, Accounts

WIKI, USER, PASSWORD = "demo", "Bench", "a long enough bench password"
CONFIG = WikiConfig(WIKI)


def _text(i: int, round_: int) -> str:
    return f"Page {i}, version {round_}. " * 40 + "\n"


def _git(cwd: Path, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0"})
    done = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, env=env)
    if done.returncode != 0 and args[0] != "push":
        raise RuntimeError(f"git {args[0]}: {done.stderr.decode(errors='replace')}")
    return done


def _commit_files(work: Path, n: int, round_: int, names=lambda i: f"Page {i}") -> None:
    """One commit on main over the clone's main, holding n files, made with git fast-import."""
    head = _git(work, "rev-parse", "main").stdout.decode().strip()
    parts = [f"commit refs/heads/main\ncommitter B <b@example.org> {1_700_000_000 + round_} +0000\n"
             f"data 6\nround{round_}\nfrom {head}\n".encode()]
    for i in range(n):
        data = _text(i, round_).encode()
        parts.append(f"M 100644 inline {page_path(CONFIG, 0, names(i))}\n".encode() + b"data %d\n" % len(data)
                     + data + b"\n")
    _git(work, "fast-import", "--quiet", "--force", data=b"".join(parts))


def _on_the_nodes_main(work: Path) -> None:
    """Main as `git pull --rebase` leaves it after a push that was all taken: the node's main."""
    _git(work, "fetch", "-q", "origin")
    _git(work, "update-ref", "refs/heads/main", "refs/remotes/origin/main")


def _timed_push(work: Path, url: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = _git(work, "push", url, "main")
    return time.perf_counter() - start, done.stderr.decode(errors="replace")


def _door_alone(root: Path, n: int) -> float:
    """The same n new pages, signed and ingested in one save_edits call (no git, no HTTP)."""
    node = Node.init(root / "door")
    try:
        edit(node, WIKI, "Start", "start\n", "start")
        key, public = signer(node)
        start = time.perf_counter()
        edits = [edit_blocks(Page(WIKI, 0, f"Page {i}"), _text(i, 1), (), "round1", key, public, 1_700_000_001_000)
                 for i in range(n)]
        save_edits(node, WIKI, edits, "bench")
        return time.perf_counter() - start
    finally:
        node.close()


def run(n: int = 1000) -> dict[str, float | str]:
    root = Path(tempfile.mkdtemp(prefix="git-push-bench-"))
    try:
        node = Node.init(root / "node")
        edit(node, WIKI, "Start", "start\n", "start")
        Accounts(root / "node" / ACCOUNTS_FILE, node.keyring).create(USER, PASSWORD)
        node.close()
        port = free_port()
        cmd = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(root / "node"), "serve", "--port", str(port)]
        with running(cmd, f"http://127.0.0.1:{port}/status", root / "serve.log"):
            url = f"http://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}/git/{WIKI}.git"
            _git(root, "clone", "-q", url, "work")
            work = root / "work"
            _commit_files(work, n, 1)
            new_pages, said = _timed_push(work, url)
            assert said.count("remote: taken") == n, said[-2000:]
            _on_the_nodes_main(work)
            _commit_files(work, n, 2)
            edits, said = _timed_push(work, url)
            assert said.count("remote: taken") == n, said[-2000:]
            _on_the_nodes_main(work)
            _commit_files(work, 100_000, 3, names=lambda i: f"Many {i}")
            refused, said = _timed_push(work, url)
            assert "push too large" in said, said[-2000:]
        door = _door_alone(root, n)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        f"push of {n:,} new pages (s)": new_pages,
        f"push of {n:,} edits (s)": edits,
        f"door alone: {n:,} new pages (s)": door,
        "new pages: push / door": new_pages / door,
        "edits: push / door": edits / door,
        "files per second (edits)": n / edits,
        "push of 100,000 files, refused (s)": refused,
    }


if __name__ == "__main__":
    for key, value in run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000).items():
        print(f"  {key:<40} {value:,.3f}")
