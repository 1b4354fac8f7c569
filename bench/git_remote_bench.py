"""git-remote-wikipeer (issue 17, item 2): a push signed on the user's machine against the node's own push route.

One served node (`wikipeer serve`) holding a small wiki and an account. The same kind of push, one commit
adding N new pages, goes once through `git-remote-wikipeer` (the user's key signs here, the blocks go
through the peer upload) and once to the node's receive-pack over HTTP with the account's password (the
node signs with the account's key); each push adds pages of its own, so each does the same work. Times
are the `git push` process's wall time; the receive-pack push also moves the node's main to its own
commits before answering, the helper's push leaves that to the next fetch.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import servers

SIZES = ((1_000, 3), (10_000, 1))  # (pages per push, pushes of each kind)
WIKI = "w"
USER, PASSWORD = "Bench", "a long bench password"


def _env(user_node: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "WIKIPEER_"))}
    env.update({"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
                "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org", "WIKIPEER_NODE": str(user_node)})
    return env


def _git(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


def _nodes(base: Path) -> tuple[Path, Path]:
    """The served node (one page, the account) and the user's node (their key)."""
    from wikipeer import authoring
    from wikipeer.node import Node
    from wikipeer.store.accounts import ACCOUNTS_FILE, Accounts

    server = Node.init(base / "server")
    try:
        authoring.edit(server, WIKI, "Start", "the first page", "start")
        Accounts(base / "server" / ACCOUNTS_FILE, server.keyring).create(USER, PASSWORD)
    finally:
        server.close()
    user = Node.init(base / "user")
    user.user_key()
    user.close()
    return base / "server", base / "user"


def _add_pages(env: dict[str, str], repo: Path, prefix: str, count: int) -> None:
    """One commit on main adding ``count`` pages, made with git fast-import."""
    from wikipeer.gitpeer.layout import page_path
    from wikipeer.model.title import WikiConfig

    config = WikiConfig(WIKI, sitename=WIKI)
    head = _git(env, "rev-parse", "HEAD", cwd=repo).stdout.strip()
    stream = [f"commit refs/heads/main\ncommitter Ada <ada@example.org> 1700000000 +0000\ndata 5\npages\nfrom {head}\n"]
    for i in range(count):
        text = f"Page {i} of {prefix}: a few words of text, as a stub would have.\n"
        stream.append(f'M 100644 inline "{page_path(config, 0, f"{prefix} {i}")}"\ndata {len(text.encode())}\n{text}\n')
    subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=repo, env=env, check=True,
                   input="".join(stream).encode(), capture_output=True)


def _push(env: dict[str, str], base: Path, clone_url: str, push_url: str, name: str, count: int) -> float:
    repo = base / name
    _git(env, "clone", "--quiet", clone_url, str(repo))
    _add_pages(env, repo, name, count)
    start = time.perf_counter()
    _git(env, "push", "--quiet", push_url, "main", cwd=repo)
    return time.perf_counter() - start


def run() -> dict[str, float | str]:
    results: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory(prefix="git-remote-bench-") as tmp:
        base = Path(tmp)
        server, user = _nodes(base)
        env = _env(user)
        port = servers.free_port()
        url = f"http://127.0.0.1:{port}"
        with servers.running(servers.ours_command(server, port), f"{url}/status", base / "serve.log", env=env):
            helper = f"wikipeer::{url}/{WIKI}"
            account = f"http://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}/git/{WIKI}.git"
            for count, repeats in SIZES:
                ours = [_push(env, base, helper, "origin", f"H{count}x{k}", count) for k in range(repeats)]
                anchor = [_push(env, base, account, account, f"R{count}x{k}", count) for k in range(repeats)]
                results[f"helper push, {count} pages (s)"] = statistics.median(ours)
                results[f"receive-pack push, {count} pages (s)"] = statistics.median(anchor)
                results[f"helper / receive-pack, {count}"] = statistics.median(ours) / statistics.median(anchor)
                results[f"helper pages/s, {count}"] = count / statistics.median(ours)
    return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value:,.3f}" if isinstance(value, float) else f"{key:<40} {value}")
