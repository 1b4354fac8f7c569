"""Sync benchmark (issue 5): clone, incremental sync and no-op sync against fossil and git, in one run.

The content: the four truncated samples (uk, vi, ja, mr; every complete page,
one revision each) imported with `wikipeer import`, plus synthetic history
(bench/synthetic.py: 5 KB pseudo-prose pages, 10 revisions each, small edits)
up to 20,000 revisions in all. The same texts, in the same order, go into

- fossil, through `fossil wiki create` / `fossil wiki commit`, one call per
  revision (pages named WIKI:NS:TITLE), served by `fossil server`;
- git, one file per page and one commit per revision (`git fast-import`, then
  `git repack -adf`), served by `git daemon`.

Timed, one after the other with nothing else of ours running:

1. full clone: an empty node, `wikipeer peer add`, `wikipeer sync --pull`
   (the CLI, timed whole) against `wikipeer serve`; `fossil clone`; a bare
   `git clone`. Every block we take is verified (CIDs, Ed25519 signatures);
2. the first two-way sync after the pull-only clone (our push cursor catches up);
3. incremental: 100 edits of 100 pages on both sources (the authoring API;
   `fossil wiki commit`), then `sync()` in-process and `fossil sync`; bytes on
   the wire against the zstd-compressed size of the 100 new texts and against
   fossil's (our texts travel as deltas against their parents', issue 15);
4. no-op: `sync()` in-process (median of 20), `wikipeer sync` as a command
   (median of 3, with interpreter start-up), `fossil sync` (median of 5).

Loading fossil takes one `fossil wiki` call per revision, some minutes for
20,000 (10-70 ms a call here, with the machine's load): the first run keeps
the loaded fossil and git sources under bench/out/sync-anchors, keyed by a
digest of every name and text in order and of the tools' versions, and later
runs with the same content copy them. Clones and syncs are always timed on
fresh copies.

Bytes on the wire: ours in-process are counted at the socket (HTTP headers
included); the CLI clone's are the bodies its SyncResult counts (headers of
its few requests are some hundred bytes); fossil's are the "wire bytes" it
reports; git's are the size of the pack the clone received.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import zstandard
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from bench import fossil_repo, git_repo, servers
from bench.synthetic import history, small_edit, vocabulary

ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = ROOT.parent / "shared" / "data" / "wikipedia"
SAMPLES = ["ukwiki", "viwiki", "jawiki", "mrwiki"]
TOTAL = 20_000  # revisions in all
SYNTH_REVISIONS, SYNTH_BYTES = 10, 5000  # per synthetic page
INGEST_BATCH = 500  # revisions per ingest call
EDITS = 100
CACHE = ROOT / "bench" / "out" / "sync-anchors"  # loaded fossil and git sources, by content digest
ANCHOR_FORMAT = 1  # bump when fossil_repo or git_repo change what they build
NOOP_REPEATS, CLI_REPEATS, FOSSIL_NOOP_REPEATS, CLONE_REPEATS = 20, 3, 5, 3

console = Console(stderr=True)


def _cli(node: Path) -> list[str]:
    return [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]


def _progress() -> Progress:
    return Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


@contextmanager
def socket_bytes() -> Iterator[list[int]]:
    """Count what this process writes to and reads from its sockets: [sent, received].

    The peer client speaks HTTP through http.client (net/transport.py), which sends with
    ``sendall`` and reads through ``recv_into``; the server is another process.
    """
    import socket

    counts = [0, 0]
    sendall, recv_into = socket.socket.sendall, socket.socket.recv_into

    def counted_sendall(self, data, *args):
        counts[0] += len(data)
        return sendall(self, data, *args)

    def counted_recv_into(self, buffer, *args):
        n = recv_into(self, buffer, *args)
        counts[1] += n
        return n

    socket.socket.sendall, socket.socket.recv_into = counted_sendall, counted_recv_into
    try:
        yield counts
    finally:
        socket.socket.sendall, socket.socket.recv_into = sendall, recv_into


# -- the content ---------------------------------------------------------------


class Content:
    """The revisions in the order our source holds them: (wiki, ns, title, text)."""

    def __init__(self) -> None:
        self.revisions: list[tuple[str, int, str, str]] = []

    def add(self, wiki: str, ns: int, title: str, text: str) -> None:
        self.revisions.append((wiki, ns, title, text))

    def digest(self) -> str:
        """What the anchors' cached sources are keyed by: every name and text, in order, and the tools' versions."""
        h = hashlib.sha256(f"{ANCHOR_FORMAT}\n{_version(['fossil', 'version'])}\n{_version(['git', 'version'])}\n"
                           .encode())
        for wiki, ns, title, text in self.revisions:
            h.update(f"{wiki}\0{ns}\0{title}\0".encode())
            h.update(text.encode())
            h.update(b"\0")
        return h.hexdigest()


def _version(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def build_source(source: Path, content: Content, progress: Progress) -> dict[str, float]:
    """Our source node: the samples through `wikipeer import`, then synthetic history through the ingest door."""
    from wikipeer.ingest import ingest
    from wikipeer.node import Node

    cli = _cli(source)
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    task = progress.add_task("our source: importing the samples", total=len(SAMPLES))
    start = time.perf_counter()
    for name in SAMPLES:
        result = subprocess.run([*cli, "import", "--quiet", "--wait-index",
                                 str(SAMPLES_DIR / f"{name}-truncated-100k.xml.xz")],
                                capture_output=True, text=True, check=False)
        if result.returncode not in (0, 3):  # 3: the sample is cut off; every complete page was kept
            raise RuntimeError(f"import of {name} failed: {result.stderr[-2000:]}")
        progress.advance(task)
    import_s = time.perf_counter() - start

    node = Node.open(source)
    try:
        rows = node.store.conn.execute(
            "SELECT p.wiki, p.ns, p.title, r.text FROM revisions r JOIN pages p ON p.id = r.page ORDER BY r.id"
        ).fetchall()
        for wiki, ns, title, text_id in rows:
            content.add(wiki, ns, title, node.store.text_bytes(text_id).decode("utf-8"))
        samples = len(rows)
        wanted = TOTAL - samples
        task = progress.add_task("our source: synthetic history", total=wanted)
        items = islice(history(math.ceil(wanted / SYNTH_REVISIONS), SYNTH_REVISIONS, SYNTH_BYTES, seed=5), wanted)
        batch: list = []
        for i, (text, blocks) in enumerate(items):
            content.add("bench", 0, f"Page {i // SYNTH_REVISIONS}", text)
            batch += blocks
            if len(batch) >= INGEST_BATCH * 4:
                _ingest(node, ingest, batch)
                progress.advance(task, len(batch) // 4)
                batch = []
        if batch:
            _ingest(node, ingest, batch)
            progress.advance(task, len(batch) // 4)
        node.wiki("bench")  # the synthetic wiki gets a configuration, as a first local edit would give it
        held = node.store.conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
    finally:
        node.close()
    if held != TOTAL:
        raise RuntimeError(f"the source holds {held} revisions, not {TOTAL}")
    return {"sample revisions": samples, "synthetic revisions": wanted, "sample import s": import_s}


def _ingest(node, ingest, blocks: list) -> None:
    report = ingest(node.store, blocks, "bench")
    if report.counts()["rejected"]:
        raise RuntimeError(f"synthetic blocks refused: {report.rejected()[:3]}")


def edit_sources(source: Path, fossil_src: Path, content: Content) -> list[str]:
    """The same 100 edits (100 distinct pages, a sentence changed in each) on our source and on fossil's."""
    import random

    from wikipeer.authoring import edit
    from wikipeer.node import Node

    rng = random.Random(11)
    words = vocabulary(rng)
    latest: dict[tuple[str, int, str], str] = {}
    for wiki, ns, title, text in content.revisions:
        latest[(wiki, ns, title)] = text
    pages = rng.sample(sorted(page for page, text in latest.items() if text), EDITS)
    node = Node.open(source)
    texts = []
    try:
        for i, (wiki, ns, title) in enumerate(pages):
            text = small_edit(rng, words, latest[(wiki, ns, title)])
            edit(node, wiki, node.wiki_or_default(wiki).full_title(ns, title), text, f"bench edit {i}")
            fossil_repo.commit(fossil_src, fossil_repo.page_name(wiki, ns, title), text, create=False)
            texts.append(text)
    finally:
        node.close()
    return texts


def compressed_size(texts: list[str]) -> tuple[int, int]:
    """zstd level 3: (each text on its own, summed; all of them as one stream)."""
    compressor = zstandard.ZstdCompressor(level=3)
    each = sum(len(compressor.compress(t.encode())) for t in texts)
    together = len(compressor.compress("".join(texts).encode()))
    return each, together


# -- ours ------------------------------------------------------------------------


def our_clone(clone: Path, url: str) -> dict[str, float]:
    """`wikipeer sync --pull` into an empty node, timed whole; what its report line says.

    The clone returns when the data is in (issue 15); ``--index-later`` keeps the search index it would
    build in the background from running under the measurements that follow."""
    cli = _cli(clone)
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    subprocess.run([*cli, "peer", "add", url], check=True, capture_output=True)
    start = time.perf_counter()
    result = subprocess.run([*cli, "sync", "--pull", "--index-later", url], capture_output=True, text=True,
                            check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"wikipeer sync --pull failed: {result.stdout[-1000:]}{result.stderr[-2000:]}")
    m = re.search(r"(\d+) new, (\d+) already here, (\d+) held, (\d+) refused; .*?(\d+) requests, "
                  r"(\d+) bytes in, (\d+) out", result.stdout)
    if not m:
        raise RuntimeError(f"cannot read the sync report: {result.stdout[-1000:]}")
    new, _dup, held, refused, requests, bytes_in, bytes_out = map(int, m.groups())
    return {"seconds": seconds, "blocks": new, "held": held, "refused": refused, "requests": requests,
            "bytes_in": bytes_in, "bytes_out": bytes_out}


def revisions_in(node_dir: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(node_dir / "store.sqlite")
    try:
        return conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
    finally:
        conn.close()


def timed_sync(node, url: str):
    """One in-process two-way sync: (seconds, SyncResult, socket bytes sent, received)."""
    from wikipeer.net.sync import sync

    with socket_bytes() as counts:
        start = time.perf_counter()
        result = sync(node, url)
        seconds = time.perf_counter() - start
    return seconds, result, counts[0], counts[1]


def cli_sync(clone: Path, url: str) -> float:
    start = time.perf_counter()
    subprocess.run([*_cli(clone), "sync", url], check=True, capture_output=True)
    return time.perf_counter() - start


# -- the anchors' sources ---------------------------------------------------------


def anchor_sources(content: Content, fossil_src: Path, git_src: Path, progress: Progress) -> dict[str, float]:
    """fossil's and git's source repositories of ``content``, from the cache when it holds this very content.

    Loading fossil takes one `fossil wiki` call per revision (minutes for 20,000), so the loaded
    repositories are kept under bench/out, keyed by a digest of every name and text in order and
    of the tools' versions; what is timed (clones, syncs) always runs on fresh copies.
    """
    key = content.digest()[:24]
    cached = CACHE / key
    info: dict[str, float] = {"anchor sources from cache": 0}
    if (cached / "complete").exists():
        shutil.copyfile(cached / "source.fossil", fossil_src)
        shutil.copytree(cached / "wiki.git", git_src)
        info["anchor sources from cache"] = 1
        info.update(json.loads((cached / "complete").read_text()))
        return info
    # Loaded in memory where there is a tmpfs (its fsyncs cost nothing), then copied beside the others.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None) as load_dir:
        loading = Path(load_dir) / "source.fossil"
        fossil_repo.init(loading)
        fossil_task = progress.add_task("fossil: one `fossil wiki` call per revision", total=len(content.revisions))
        loader = fossil_repo.Loader(loading, lambda: progress.advance(fossil_task))
        loader.start()
        for wiki, ns, title, text in content.revisions:
            loader.put(fossil_repo.page_name(wiki, ns, title), text)
        loader.close()
        _build_git(content, git_src, progress, info)
        loader.join()
        shutil.copyfile(loading, fossil_src)
    if loader.error is not None:
        raise RuntimeError(f"loading fossil failed: {loader.error}")
    info["fossil load s"] = loader.seconds
    fossil_count = fossil_repo.wiki_count(fossil_src)
    count = git_repo.commit_count(git_src)
    if fossil_count != len(content.revisions) or count != len(content.revisions):
        raise RuntimeError(f"fossil holds {fossil_count} wiki versions and git {count} commits, "
                           f"not {len(content.revisions)}")
    shutil.rmtree(CACHE, ignore_errors=True)  # one cached content at a time
    partial = CACHE / f"{key}.partial"
    partial.mkdir(parents=True)
    shutil.copyfile(fossil_src, partial / "source.fossil")
    shutil.copytree(git_src, partial / "wiki.git")
    (partial / "complete").write_text(json.dumps({k: v for k, v in info.items() if k.endswith(" s")}))
    partial.rename(cached)
    return info


def _build_git(content: Content, git_src: Path, progress: Progress, info: dict) -> None:
    task = progress.add_task("git: fast-import and repack", total=1)
    start = time.perf_counter()
    git_repo.build(git_src, ((git_repo.file_path(w, n, t), x) for w, n, t, x in content.revisions))
    info["git build s"] = time.perf_counter() - start
    progress.update(task, completed=1)


# -- the run ---------------------------------------------------------------------


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    targets: list[tuple[str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="wikipeer-sync-bench-") as tmp_name:
        tmp = Path(tmp_name)
        source, clone = tmp / "source", tmp / "clone"
        fossil_src = tmp / "source.fossil"
        git_src = tmp / "git" / "wiki.git"
        git_src.parent.mkdir()

        # 1. the same content on three sources
        started = time.perf_counter()
        content = Content()
        with _progress() as progress:
            prep = build_source(source, content, progress)
            anchors = anchor_sources(content, fossil_src, git_src, progress)
        raw_mb = sum(len(r[3].encode()) for r in content.revisions) / 1e6
        fossil_load = anchors.get("fossil load s", 0.0)
        print(f"  content: {prep['sample revisions']:,} sample revisions + {prep['synthetic revisions']:,} "
              f"synthetic = {TOTAL:,}, {raw_mb:.1f} MB of text; prepared in {time.perf_counter() - started:.0f} s "
              f"(sample import {prep['sample import s']:.0f} s; fossil load {fossil_load:.0f} s = "
              f"{fossil_load / TOTAL * 1000:.1f} ms per `fossil wiki` call"
              + (", in an earlier run: the loaded repositories came from bench/out" if anchors["anchor sources from cache"]
                 else "") + ")")
        results.update({"revisions": TOTAL, "sample revisions": prep["sample revisions"],
                        "synthetic revisions": prep["synthetic revisions"], "raw text MB": raw_mb,
                        "fossil load ms per `fossil wiki` call": fossil_load / TOTAL * 1000})

        our_port, fossil_port, git_port = servers.free_port(), servers.free_port(), servers.free_port()
        our_url, fossil_url = f"http://127.0.0.1:{our_port}", f"http://127.0.0.1:{fossil_port}/"
        git_url = f"git://127.0.0.1:{git_port}/wiki.git"
        with open(tmp / "git-daemon.log", "wb") as git_log:
            git_proc = subprocess.Popen(git_repo.daemon_command(git_src.parent, git_port), stdout=subprocess.DEVNULL,
                                        stderr=git_log, start_new_session=True)
        try:
            git_repo.wait_listening(git_port, git_proc)
            with servers.running(servers.ours_command(source, our_port), our_url + "/api/v1/node", tmp / "ours.log"), \
                 servers.running(fossil_repo.server_command(fossil_src, fossil_port), fossil_url, tmp / "fossil.log",
                                 env=fossil_repo.env()):
                results.update(_timed(tmp, source, clone, our_url, fossil_src, fossil_url, git_url, content, targets))
        finally:
            if git_proc.poll() is None:
                git_proc.terminate()
                try:
                    git_proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    git_proc.kill()
                    git_proc.wait()

    print("\n  | target | figure | met |\n  |---|---|---|")
    for name, figure, met in targets:
        print(f"  | {name} | {figure} | {'yes' if met else 'no'} |")
    return results


def _anchor_clones(tmp: Path, fossil_url: str, git_url: str, fossil_runs: list, git_runs: list) -> None:
    i = len(fossil_runs)
    fossil_runs.append(fossil_repo.clone(fossil_url, tmp / f"copy{i}.fossil"))
    git_runs.append(git_repo.clone(git_url, tmp / f"copy{i}.git"))
    if i:
        (tmp / f"copy{i - 1}.fossil").unlink()
        shutil.rmtree(tmp / f"copy{i - 1}.git")


def _timed(tmp: Path, source: Path, clone: Path, our_url: str, fossil_src: Path, fossil_url: str, git_url: str,
           content: Content, targets: list) -> dict[str, float]:
    from wikipeer.node import Node

    r: dict[str, float] = {}

    # 1. full clones: one of each anchor before ours, the others after (the machine's load drifts)
    fossil_runs: list = []
    git_runs: list = []
    console.print("  timing: fossil clone, git clone ...")
    _anchor_clones(tmp, fossil_url, git_url, fossil_runs, git_runs)
    console.print("  timing: our clone (wikipeer sync --pull) ...")
    ours = our_clone(clone, our_url)
    console.print("  timing: fossil clone, git clone ...")
    for _ in range(CLONE_REPEATS - 1):
        _anchor_clones(tmp, fossil_url, git_url, fossil_runs, git_runs)
    fossil_copy = tmp / f"copy{len(fossil_runs) - 1}.fossil"
    if fossil_repo.wiki_count(fossil_copy) != TOTAL or git_repo.commit_count(tmp / f"copy{len(git_runs) - 1}.git") != TOTAL:
        raise RuntimeError("a fossil or git clone does not hold every revision")
    got = revisions_in(clone)
    fossil_clone_s = statistics.median(s for s, _, _ in fossil_runs)
    fossil_clone_bytes = fossil_runs[-1][1] + fossil_runs[-1][2]
    git_clone_s = statistics.median(s for s, _ in git_runs)
    git_clone_bytes = git_runs[-1][1]
    our_bytes = ours["bytes_in"] + ours["bytes_out"]
    r.update({
        "clone: ours s": ours["seconds"],
        "clone: ours revisions/s": TOTAL / ours["seconds"],
        "clone: ours blocks taken": ours["blocks"],
        "clone: ours blocks held (waiting)": ours["held"],
        "clone: ours blocks refused": ours["refused"],
        "clone: revisions missing from our clone": TOTAL - got,
        "clone: ours requests": ours["requests"],
        "clone: ours MB on the wire": our_bytes / 1e6,
        "clone: ours MB/s on the wire": our_bytes / 1e6 / ours["seconds"],
        f"clone: fossil s (median of {CLONE_REPEATS})": fossil_clone_s,
        "clone: fossil MB on the wire": fossil_clone_bytes / 1e6,
        f"clone: git s (median of {CLONE_REPEATS})": git_clone_s,
        "clone: git pack MB": git_clone_bytes / 1e6,
        "clone: fossil time / ours (>1: ours faster)": fossil_clone_s / ours["seconds"],
        "clone: git time / ours (>1: ours faster)": git_clone_s / ours["seconds"],
        "clone: ours bytes / fossil": our_bytes / fossil_clone_bytes,
        "clone: ours bytes / git": our_bytes / git_clone_bytes,
    })
    if got != TOTAL:
        print(f"  note: our clone holds {got:,} of {TOTAL:,} revisions ({ours['refused']} blocks refused, "
              f"{ours['held']} held)")
    targets.append(("full clone faster than fossil clone of the same content",
                    (f"ours {ours['seconds']:.1f} s, fossil {fossil_clone_s:.1f} s "
                     f"({fossil_clone_s / ours['seconds']:.2f}x)"), ours["seconds"] < fossil_clone_s))

    node = Node.open(clone)
    try:
        # 2. the first two-way sync after a pull-only clone, on both
        seconds, result, sent, received = timed_sync(node, our_url)
        first_fossil = fossil_repo.sync(fossil_copy)
        r.update({"first 2-way sync after clone: ours ms": seconds * 1000,
                  "first 2-way sync after clone: fossil ms": first_fossil[0] * 1000})

        # 3. incremental
        console.print(f"  timing: incremental sync after {EDITS} edits ...")
        texts = edit_sources(source, fossil_src, content)
        each, together = compressed_size(texts)
        seconds, result, sent, received = timed_sync(node, our_url)
        f_seconds, f_sent, f_received = fossil_repo.sync(fossil_copy)
        ours_inc = sent + received
        r.update({
            "incremental: ours ms": seconds * 1000,
            "incremental: ours blocks taken (3 per edit)": result.pulled.accepted,
            "incremental: ours requests": result.requests,
            "incremental: ours bytes on the wire": ours_inc,
            "incremental: ours bodies (SyncResult)": result.bytes_in + result.bytes_out,
            "incremental: ours texts sent as deltas": getattr(result, "deltas", 0),
            "incremental: fossil ms": f_seconds * 1000,
            "incremental: fossil bytes on the wire": f_sent + f_received,
            "incremental: changed texts zstd bytes (each)": each,
            "incremental: changed texts zstd bytes (together)": together,
            "incremental: fossil time / ours (>1: ours faster)": f_seconds / seconds,
            "incremental: ours bytes / fossil": ours_inc / (f_sent + f_received),
            "incremental: ours bytes / zstd texts (each)": ours_inc / each,
            "incremental: ours bytes / zstd texts (together)": ours_inc / together,
        })
        targets.append((f"incremental transfer within 1.5x the zstd size of the {EDITS} changed texts",
                        (f"{ours_inc:,} bytes = {ours_inc / each:.2f}x of {each:,} (each text alone), "
                         f"{ours_inc / together:.2f}x of {together:,} (one stream)"), ours_inc <= 1.5 * each))
        targets.append((f"incremental sync of {EDITS} one-sentence edits in no more bytes than fossil's (issue 15)",
                        f"ours {ours_inc:,} bytes, fossil {f_sent + f_received:,} ({ours_inc / (f_sent + f_received):.2f}x)",
                        ours_inc <= f_sent + f_received))

        # 4. no-op
        console.print("  timing: no-op syncs ...")
        noop = []
        for _ in range(NOOP_REPEATS):
            seconds, result, sent, received = timed_sync(node, our_url)
            if result.pulled.accepted or result.pushed:
                raise RuntimeError("a no-op sync moved blocks")
            noop.append(seconds)
        noop_bytes = sent + received
        noop_requests = result.requests
    finally:
        node.close()
    cli_noop = statistics.median(cli_sync(clone, our_url) for _ in range(CLI_REPEATS))
    fossil_noop = [fossil_repo.sync(fossil_copy) for _ in range(FOSSIL_NOOP_REPEATS)]
    fossil_noop_s = statistics.median(s for s, _, _ in fossil_noop)
    ours_noop = statistics.median(noop)
    r.update({
        f"no-op: ours in-process ms (median of {NOOP_REPEATS})": ours_noop * 1000,
        "no-op: ours in-process ms (min)": min(noop) * 1000,
        "no-op: ours requests": noop_requests,
        "no-op: ours bytes on the wire": noop_bytes,
        f"no-op: ours CLI ms (median of {CLI_REPEATS}, with start-up)": cli_noop * 1000,
        f"no-op: fossil ms (median of {FOSSIL_NOOP_REPEATS})": fossil_noop_s * 1000,
        "no-op: fossil bytes on the wire": fossil_noop[-1][1] + fossil_noop[-1][2],
        "no-op: fossil time / ours in-process": fossil_noop_s / ours_noop,
        "no-op: fossil time / ours CLI": fossil_noop_s / cli_noop,
    })
    targets.append(("no-op sync under 10 ms",
                    (f"{ours_noop * 1000:.1f} ms in-process (median of {NOOP_REPEATS}), "
                     f"{cli_noop * 1000:.0f} ms as a command"), ours_noop < 0.010))
    return r
