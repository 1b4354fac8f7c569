"""git as a peer (issue 17): `git clone` from a node against `git clone` from `git daemon` and `wikipeer sync --pull`.

The corpus is the sync benchmark's: 20,000 revisions (the four samples, then synthetic history), on a node
served by `wikipeer serve`. The anchor is the same history as one git repository (bench/git_repo.py, fast-import
and `git repack -adf`), served by `git daemon`. The node serves one repository per wiki, so "a clone from the
node" is the clones of every wiki's repository, one after the other:

- first clone: the node builds every commit (20,000 revision commits and the view commits) while answering;
- warm clone: the same again, the commits kept;
- `git fetch` of 100 new revisions (100 pages of the synthetic wiki edited, one revision each);
- dulwich's pure-Python upload-pack against git's on the synthetic wiki and the smallest sample (why the node
  runs git when present).

Targets: a warm clone within 2x git daemon's time; a fetch of 100 revisions under 1 s.
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import git_repo, servers
from bench.sync_bench import Content, _progress, build_source, console, our_clone
from bench.synthetic import small_edit, vocabulary

REPEATS = 3
EDITS = 100


def _clone(url: str, dest: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["git", "clone", "--bare", "--quiet", url, str(dest)], check=True, capture_output=True)
    return time.perf_counter() - start


def _wikis(node_dir: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(node_dir / "store.sqlite")
    try:
        return [r[0] for r in conn.execute("SELECT DISTINCT wiki FROM pages ORDER BY wiki")]
    finally:
        conn.close()


def _clone_all(url: str, wikis: list[str], into: Path) -> float:
    into.mkdir()
    seconds = sum(_clone(f"{url}/git/{wiki}.git", into / f"{wiki}.git") for wiki in wikis)
    return seconds


def _commits(repo: Path) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "--all"], cwd=repo, capture_output=True, text=True, check=True)
    return int(out.stdout)


def _edit(source: Path, latest: dict[str, str], seed: int) -> None:
    """100 pages of the synthetic wiki edited once each, through the one door (`wikipeer edit`'s path)."""
    from wikipeer.authoring import edit
    from wikipeer.node import Node

    rng = random.Random(seed)
    words = vocabulary(rng)
    node = Node.open(source)
    try:
        for i, title in enumerate(rng.sample(sorted(latest), EDITS)):
            latest[title] = small_edit(rng, words, latest[title])
            edit(node, "bench", title, latest[title], f"bench edit {seed}.{i}")
    finally:
        node.close()


def _dulwich_vs_git(source: Path, wiki: str, git_url: str, tmp: Path) -> dict[str, float]:
    """A warm clone of one wiki served by dulwich's upload-pack (in-process uvicorn) and by git's."""
    import uvicorn
    from fastapi import FastAPI

    from wikipeer.node import Node
    from wikipeer.web import git_http

    node = Node.open(source)
    app = FastAPI()
    app.include_router(git_http.router(node, use_git=False))
    port = servers.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        by_dulwich = _clone(f"http://127.0.0.1:{port}/git/{wiki}.git", tmp / "dulwich.git")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        node.close()
    by_git = _clone(f"{git_url}/git/{wiki}.git", tmp / "git-binary.git")
    commits = _commits(tmp / "git-binary.git")
    shutil.rmtree(tmp / "dulwich.git")
    shutil.rmtree(tmp / "git-binary.git")
    return {f"{wiki} ({commits:,} commits): dulwich upload-pack clone s": by_dulwich,
            f"{wiki}: git upload-pack clone s": by_git, f"{wiki}: dulwich time / git": by_dulwich / by_git}


def run() -> dict[str, float]:
    r: dict[str, float] = {}
    targets: list[tuple[str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="wikipeer-git-bench-") as tmp_name:
        tmp = Path(tmp_name)
        source, git_src = tmp / "source", tmp / "git" / "wiki.git"
        git_src.parent.mkdir()
        content = Content()
        with _progress() as progress:
            build_source(source, content, progress)
            task = progress.add_task("git daemon's repository: fast-import and repack", total=1)
            git_repo.build(git_src, ((git_repo.file_path(w, n, t), x) for w, n, t, x in content.revisions))
            progress.update(task, completed=1)
        wikis = _wikis(source)
        our_port, daemon_port = servers.free_port(), servers.free_port()
        url = f"http://127.0.0.1:{our_port}"
        daemon = subprocess.Popen(git_repo.daemon_command(git_src.parent, daemon_port), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            git_repo.wait_listening(daemon_port, daemon)
            with servers.running(servers.ours_command(source, our_port), url + "/status", tmp / "ours.log"):
                console.print("  timing: first clone from the node (building the commits) ...")
                first = _clone_all(url, wikis, tmp / "first")
                commits = sum(_commits(tmp / "first" / f"{wiki}.git") for wiki in wikis)
                console.print("  timing: warm clones from the node and clones from git daemon ...")
                warm, daemon_runs = [], []
                for i in range(REPEATS):
                    daemon_runs.append(_clone(f"git://127.0.0.1:{daemon_port}/wiki.git", tmp / f"daemon{i}.git"))
                    warm.append(_clone_all(url, wikis, tmp / f"warm{i}"))
                console.print("  timing: wikipeer sync --pull ...")
                synced = our_clone(tmp / "synced", url)
                console.print(f"  timing: git fetch of 100 new revisions ({REPEATS} times) ...")
                latest = {title: text for wiki, _, title, text in content.revisions if wiki == "bench"}
                fetches = []
                for i in range(REPEATS):
                    _edit(source, latest, seed=17 + i)
                    start = time.perf_counter()
                    subprocess.run(["git", "fetch", "--quiet", "origin", "+refs/heads/*:refs/heads/*"],
                                   cwd=tmp / "first" / "bench.git", check=True, capture_output=True)
                    fetches.append(time.perf_counter() - start)
                fetch_s = statistics.median(fetches)
                fetched = _commits(tmp / "first" / "bench.git") - _commits(tmp / "warm0" / "bench.git")
                console.print("  timing: dulwich's upload-pack against git's ...")
                for wiki in ("bench", min((w for w in wikis if w != "bench"),
                                          key=lambda w: _commits(tmp / "first" / f"{w}.git"))):
                    r.update(_dulwich_vs_git(source, wiki, url, tmp))
        finally:
            daemon.terminate()
            daemon.wait(timeout=10)
    warm_s, daemon_s = statistics.median(warm), statistics.median(daemon_runs)
    r.update({
        "wikis (one repository each)": len(wikis),
        "commits cloned (revision + view)": commits,
        "first clone from the node s (building commits)": first,
        f"warm clone from the node s (median of {REPEATS})": warm_s,
        f"git daemon clone s (median of {REPEATS})": daemon_s,
        "wikipeer sync --pull s": synced["seconds"],
        "warm clone / git daemon": warm_s / daemon_s,
        "first clone / git daemon": first / daemon_s,
        "warm clone / sync --pull": warm_s / synced["seconds"],
        f"git fetch of 100 revisions s (median of {REPEATS})": fetch_s,
        "git fetch of 100 revisions s (each)": " ".join(f"{s:.2f}" for s in fetches),
        f"commits the {REPEATS} fetches brought": fetched,
    })
    targets += [("warm clone within 2x git daemon", f"{warm_s / daemon_s:.2f}x", warm_s <= 2 * daemon_s),
                ("fetch of 100 revisions under 1 s", f"{fetch_s:.2f} s", fetch_s < 1.0)]
    print("\n  | target | figure | met |\n  |---|---|---|")
    for name, figure, met in targets:
        print(f"  | {name} | {figure} | {'yes' if met else 'no'} |")
    return r


if __name__ == "__main__":
    for key, value in run().items():
        print(f"  {key:<50} {value:,.3f}" if isinstance(value, float) else f"  {key:<50} {value}")
    sys.exit(0)
