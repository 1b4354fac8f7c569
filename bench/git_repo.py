"""Git as the sync benchmark's second anchor: the same history as a repository, cloned over git://.

One file per page (``WIKI/NS/TITLE``), one commit per revision, in the order
given, written with `git fast-import` and repacked once (`git repack -adf`, as
`git gc` would) so the server sends deltas as a git host would. The server is
`git daemon` on 127.0.0.1 and a free port; clones are bare (no checkout:
neither fossil's clone nor ours writes the pages out as files).
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

AUTHOR = b"bench <bench@wikipeer.invalid>"


def file_path(wiki: str, ns: int, title: str) -> str:
    """A path for a page that no other page's path can collide with ("A" beside "A/B", long names)."""
    name = title.replace("%", "%25").replace("/", "%2F")
    if len(name.encode()) > 200 or name in (".", "..") or name.startswith(".git"):
        name = f"{name[:40]}~{hashlib.sha1(title.encode()).hexdigest()[:16]}"
    return f"{wiki}/{ns}/{name}"


def _quoted(path: str) -> bytes:
    return b'"' + path.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def build(repo: Path, revisions: Iterable[tuple[str, str]], start_ts: int = 1_700_000_000) -> int:
    """A bare repository with one commit per (path, text), in order; returns the commit count."""
    subprocess.run(["git", "init", "--bare", "--quiet", "--initial-branch=main", str(repo)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=repo, stdin=subprocess.PIPE)
    count = 0
    try:
        assert proc.stdin is not None
        write = proc.stdin.write
        for count, (path, text) in enumerate(revisions, 1):
            data, message = text.encode(), f"revision {count}".encode()
            when = b"%d +0000" % (start_ts + count)
            write(b"commit refs/heads/main\ncommitter " + AUTHOR + b" " + when + b"\n"
                  b"data %d\n" % len(message) + message + b"\n")
            write(b"M 100644 inline " + _quoted(path) + b"\ndata %d\n" % len(data) + data + b"\n\n")
        write(b"done\n")
        proc.stdin.close()
    finally:
        if proc.wait() != 0:
            raise RuntimeError(f"git fast-import exited with {proc.returncode}")
    subprocess.run(["git", "repack", "-a", "-d", "-f", "-q"], cwd=repo, check=True)
    return count


def daemon_command(base: Path, port: int) -> list[str]:
    return ["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", f"--port={port}",
            f"--base-path={base}", str(base)]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"git daemon exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"git daemon not listening on {port} after {timeout:.0f} s")


def clone(url: str, dest: Path) -> tuple[float, int]:
    """Seconds of a bare `git clone`, and the bytes of the pack it received."""
    start = time.perf_counter()
    result = subprocess.run(["git", "clone", "--bare", "--quiet", url, str(dest)], capture_output=True, text=True,
                            check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"git clone failed: {result.stderr[-1000:]}")
    pack = sum(p.stat().st_size for p in (dest / "objects" / "pack").glob("*.pack"))
    return seconds, pack


def commit_count(repo: Path) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "main"], cwd=repo, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())

