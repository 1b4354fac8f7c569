"""An ingest killed with SIGKILL in the middle of a large batch leaves all or nothing."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli

# Builds 3,000 signed revisions (300 pages x 10 small edits of a ~2 KB text) with
# edit_blocks, writes their CIDs to a file, prints READY, and ingests them in ONE call.
# argv: node dir, CID file, a tag that makes the batch new, SQLite cache size (0: default).
CHILD = r"""
import sys
from pathlib import Path
from wikipeer.authoring import edit_blocks
from wikipeer.ingest import ingest
from wikipeer.model.cid import cid_to_str
from wikipeer.model.objects import Page
from wikipeer.node import Node

node = Node.open(Path(sys.argv[1]))
tag, cache = sys.argv[3], int(sys.argv[4])
if cache:  # a small page cache makes SQLite spill the open transaction into the WAL early
    node.store.conn.execute(f"PRAGMA cache_size={cache}")
identity = node.keyring.get("node")
key = node.keyring.signing_key("node")
blocks = []
for p in range(300):
    parent = ()
    text = f"Bulk page {p} {tag}\n" + "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 36
    for r in range(10):
        text += f"edit {r} of page {p}\n"
        edit = edit_blocks(Page("bulk", 0, f"Page {p} {tag}"), text, parent, f"edit {r}", key, identity.public,
                           1_700_000_000_000 + r)
        blocks += edit if r == 0 else edit[1:]
        parent = (edit[2].cid,)
Path(sys.argv[2]).write_text("\n".join(cid_to_str(b.cid) for b in blocks))
print("READY", flush=True)
report = ingest(node.store, blocks, "bulk")
print("DONE", dict(report.counts()), flush=True)
"""

REVISIONS = 3000
SPILLED = 128 * 1024  # WAL bytes that show the batch's transaction is being written


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _counts(store: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(store)
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("objects", "revisions", "held"))
    finally:
        conn.close()


def _present(store: Path, cids: list[str]) -> int:
    from wikipeer.model.cid import cid_from_str

    conn = sqlite3.connect(store)
    try:
        return sum(conn.execute("SELECT 1 FROM objects WHERE cid = ?", (cid_from_str(c),)).fetchone() is not None
                   for c in cids)
    finally:
        conn.close()


def _wait_for_writer(store: Path, wal: Path | None, child: subprocess.Popen, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and child.poll() is None:
        if wal is not None:
            if _size(wal) >= SPILLED:
                return
        else:
            conn = sqlite3.connect(store, timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc):
                    return
                raise
            finally:
                conn.close()
        time.sleep(0.001)
    raise AssertionError("the batch's transaction was never seen running")


def _start(node: Path, cid_file: Path, tag: str, cache: int = 0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(node), str(cid_file), tag, str(cache)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.sqlite_only  # it watches SQLite's WAL and write lock; PostgreSQL killed mid-write: test_store_postgres
@pytest.mark.parametrize("cache", [0, 20], ids=["default-cache", "spilling-into-wal"])
def test_sigkill_during_a_large_ingest_leaves_all_or_nothing(sample_node, tmp_path, cache):
    store = sample_node / "store.sqlite"
    wal = Path(str(store) + "-wal")
    before = _counts(store)
    cid_file = tmp_path / "cids.txt"
    rng = random.Random()

    child = _start(sample_node, cid_file, "first", cache)
    try:
        assert child.stdout.readline().strip() == "READY", child.stderr.read()
        # Wait until the batch's write transaction is open (the store's write lock is
        # taken), or with a small cache until it has spilled into the WAL; then wait a
        # little longer, at random, and kill it while it is still working.
        _wait_for_writer(store, wal if cache else None, child)
        time.sleep(rng.uniform(0.0, 0.06))
        wal_at_kill = _size(wal)
        assert child.poll() is None, "the batch finished before it could be interrupted; make it larger"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    if cache:
        assert wal_at_kill >= SPILLED, "the open transaction had not reached the WAL when it was killed"

    fsck = run_cli(sample_node, "fsck")
    assert fsck.code == 0 and "no faults" in fsck.out, str(fsck)

    cids = cid_file.read_text().split()
    assert len(cids) == REVISIONS * 3 + 300
    present = _present(store, cids)
    after = _counts(store)
    assert present in (0, len(cids)), f"{present} of {len(cids)} blocks of the batch survived"
    if present == 0:
        assert after == before
    else:
        assert after == (before[0] + len(cids), before[1] + REVISIONS, before[2])

    # The node still works: the same batch, run to the end, goes in whole.
    rerun = _start(sample_node, cid_file, "first")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert "DONE" in out
    assert _present(store, cids) == len(cids)
    assert _counts(store)[1] == before[1] + REVISIONS
    fsck = run_cli(sample_node, "fsck")
    assert fsck.code == 0 and "no faults" in fsck.out, str(fsck)
