"""Ingest benchmark: signed synthetic revisions through the one door vs plain SQLite.

The anchor is the same texts written uncompressed into a plain SQLite table
in the same run; we print both and their ratios. The batches go through the
pipeline (pipeline.feed: checks and compression in worker processes, one per
core, the door writing) with the search index deferred, as a transfer does;
the index is then built from what the batches left pending, timed apart.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from bench.synthetic import history
from wikipeer.ingest import ingest
from wikipeer.store import indexer
from wikipeer.pipeline.feed import prepared_batches
from wikipeer.pipeline.pool import worker_count
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.policy.view import View
from wikipeer.store.store import Store

PAGES, REVISIONS, TEXT_BYTES, BATCH = 2000, 10, 5000, 500


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def run() -> dict[str, float]:
    items = list(history(PAGES, REVISIONS, TEXT_BYTES))
    total = len(items)
    with tempfile.TemporaryDirectory() as tmp:
        base_path = Path(tmp) / "baseline.sqlite"
        conn = sqlite3.connect(base_path)
        conn.execute("CREATE TABLE texts(id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        start = time.perf_counter()
        with conn:
            for i in range(0, total, BATCH):
                conn.executemany("INSERT INTO texts(text) VALUES (?)", [(t,) for t, _ in items[i:i + BATCH]])
        base_time = time.perf_counter() - start
        conn.close()
        base_bytes = _size(base_path)

        store_path = Path(tmp) / "store.sqlite"
        store = Store(store_path)
        start = time.perf_counter()
        accepted = 0
        batches = ([b for _, bs in items[i:i + BATCH] for b in bs] for i in range(0, total, BATCH))
        for blocks, prepared in prepared_batches(batches, MAX_TEXT, "bench"):
            accepted += ingest(store, blocks, "bench", prepared=prepared).counts()["accepted"]
        ours_time = time.perf_counter() - start
        start = time.perf_counter()
        indexer.catch_up(store, lambda: View().trusted)
        index_time = time.perf_counter() - start
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        ours_bytes = _size(store_path)
    raw_text = sum(len(t.encode()) for t, _ in items)
    results = {
        "revisions": total,
        "blocks accepted": accepted,
        "raw text MB": raw_text / 1e6,
        "workers": worker_count(),
        "ours rev/s (data in, pipeline)": total / ours_time,
        "index afterwards s": index_time,
        "ours rev/s with the index": total / (ours_time + index_time),
        "baseline rev/s": total / base_time,
        "ours bytes/rev": ours_bytes / total,
        "baseline bytes/rev": base_bytes / total,
        "size ratio (ours/baseline)": ours_bytes / base_bytes,
        "speed ratio (ours/baseline)": (total / ours_time) / (total / base_time),
    }
    return results
