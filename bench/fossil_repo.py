"""Fossil as the sync benchmark's anchor: wiki pages loaded through `fossil wiki`, cloned and synced.

Every revision is one `fossil wiki create` (a page's first) or `fossil wiki
commit` (the rest), in the order given, with the text on standard input; at
about 10 ms a call, 20,000 revisions take some minutes, so the loader runs in
a thread beside the rest of the preparation. The server is `fossil server
--localhost` on a free port; anonymous users may clone, pull and push, so
`fossil sync` needs no password.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import subprocess
import threading
import time
from pathlib import Path

USER = "bench"
_WIRE = re.compile(r"wire bytes sent: (\d+)\s+received: (\d+)")


def env() -> dict[str, str]:
    """Fossil wants a user name for every artifact it writes."""
    return {**os.environ, "USER": USER, "FOSSIL_USER": USER}


def page_name(wiki: str, ns: int, title: str) -> str:
    """A well-formed fossil wiki name for a page (at most 100 bytes, no double spaces, no control
    characters); long or odd titles become a hash, which is unique all the same."""
    name = f"{wiki}:{ns}:{title}"
    odd = len(name.encode()) > 90 or "  " in name or name != name.strip() or any(ord(c) < 32 for c in name)
    return f"{wiki}:{ns}:#{hashlib.sha1(title.encode()).hexdigest()[:20]}" if odd else name


def init(repo: Path) -> None:
    subprocess.run(["fossil", "init", str(repo), "--admin-user", USER], check=True, capture_output=True, env=env())
    for user in ("nobody", "anonymous"):  # clone (g), pull (o), push (i), read wiki (j)
        subprocess.run(["fossil", "user", "capabilities", user, "gioj", "-R", str(repo)], check=True,
                       capture_output=True, env=env())


def commit(repo: Path, name: str, text: str, create: bool) -> None:
    result = subprocess.run(["fossil", "wiki", "create" if create else "commit", name, "-R", str(repo)],
                            input=text.encode(), capture_output=True, env=env(), check=False)
    if result.returncode != 0:
        raise RuntimeError(f"fossil wiki {'create' if create else 'commit'} {name!r} failed: "
                           f"{result.stderr.decode(errors='replace')[-500:]}")


class Loader(threading.Thread):
    """Commits (name, text) pairs put in its queue, in order, until it is closed; ``done`` counts them
    and ``on_commit`` (if set) is called after each."""

    def __init__(self, repo: Path, on_commit=None) -> None:
        super().__init__(daemon=True)
        self.repo, self.queue, self.on_commit = repo, queue.Queue(), on_commit
        self.done, self.error, self.seconds = 0, None, 0.0
        self.names: set[str] = set()

    def put(self, name: str, text: str) -> None:
        if self.error is not None:
            raise RuntimeError(f"fossil loader stopped: {self.error}")
        self.queue.put((name, text))

    def close(self) -> None:
        self.queue.put(None)

    def run(self) -> None:
        start = time.perf_counter()
        try:
            while (item := self.queue.get()) is not None:
                name, text = item
                commit(self.repo, name, text, create=name not in self.names)
                self.names.add(name)
                self.done += 1
                if self.on_commit is not None:
                    self.on_commit()
        except Exception as exc:  # noqa: BLE001 -- reported by put() and by the benchmark after join()
            self.error = exc
            while self.queue.get() is not None:  # drain so the producer never blocks
                pass
        self.seconds = time.perf_counter() - start


def server_command(repo: Path, port: int) -> list[str]:
    return ["fossil", "server", "--localhost", "--port", str(port), str(repo)]


def wire_bytes(output: str) -> tuple[int, int]:
    """(sent, received) as fossil reports them at the end of a clone or sync."""
    found = _WIRE.findall(output)
    if not found:
        raise RuntimeError(f"no wire byte count in fossil's output: {output[-500:]}")
    return int(found[-1][0]), int(found[-1][1])


def clone(url: str, repo: Path) -> tuple[float, int, int]:
    """Seconds of `fossil clone` (with the rebuild it does), and its wire bytes sent and received."""
    start = time.perf_counter()
    result = subprocess.run(["fossil", "clone", url, str(repo)], capture_output=True, env=env(),
                            stdin=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - start
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise RuntimeError(f"fossil clone failed: {output[-1000:]}")
    return (seconds, *wire_bytes(output))


def sync(repo: Path) -> tuple[float, int, int]:
    """Seconds of `fossil sync` with the remote the clone remembers, and its wire bytes."""
    start = time.perf_counter()
    result = subprocess.run(["fossil", "sync", "-R", str(repo)], capture_output=True, env=env(),
                            stdin=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - start
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    if result.returncode != 0 or "Error" in output:
        raise RuntimeError(f"fossil sync failed: {output[-1000:]}")
    return (seconds, *wire_bytes(output))


def wiki_count(repo: Path) -> int:
    """Wiki artifacts in a repository (every version of every page)."""
    sql = "SELECT count(*) FROM tag JOIN tagxref USING(tagid) WHERE tagname GLOB 'wiki-*'"
    result = subprocess.run(["fossil", "sql", "-R", str(repo), sql], capture_output=True, text=True,
                            env=env(), check=True)
    return int(result.stdout.strip() or 0)
