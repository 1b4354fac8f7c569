"""Cluster backend benchmark (issue 18): ingest and search of the same signed corpus on PostgreSQL vs SQLite.

The anchor is the embedded store (SQLite) on the same machine in the same run. The corpus goes through
the pipeline as in bench/ingest_bench.py (batches of 500, checks and compression in worker processes),
then the search index is built and 20 searches run. PostgreSQL is a server of our own (tests/pg_server.py:
initdb in a temporary directory, a Unix socket, fsync off as in the tests), so the figures are the
dialect layer's and the round trips' cost, not a disk's.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.synthetic import history
from wikipeer.ingest import ingest
from wikipeer.pipeline.feed import prepared_batches
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.policy.view import View
from wikipeer.store import indexer
from wikipeer.store.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import pg_server  # noqa: E402  (tests/ holds the one way of starting a server of our own)

PAGES, REVISIONS, TEXT_BYTES, BATCH = 500, 10, 5000, 500
QUERIES = ["lorem", "ipsum dolor", "page 17", "sit amet", "xyzzy"] * 4


def _timed(store: Store, items: list) -> dict[str, float]:
    total = len(items)
    start = time.perf_counter()
    batches = ([b for _, bs in items[i:i + BATCH] for b in bs] for i in range(0, total, BATCH))
    for blocks, prepared in prepared_batches(batches, MAX_TEXT, "bench"):
        ingest(store, blocks, "bench", prepared=prepared)
    ingest_s = time.perf_counter() - start
    start = time.perf_counter()
    indexer.catch_up(store, lambda: View().trusted)
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    found = sum(len(store.search(q)) for q in QUERIES)
    search_s = time.perf_counter() - start
    return {"rev/s": total / ingest_s, "index s": index_s, "search ms": search_s * 1000 / len(QUERIES),
            "hits": found, "seq": store.last_seq()}


def run() -> dict[str, float]:
    items = list(history(PAGES, REVISIONS, TEXT_BYTES))
    server = pg_server.start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lite = _timed(Store(Path(tmp) / "store.sqlite"), items)
            pg = _timed(Store(Path(tmp) / "pg.sqlite", database=server.fresh_database("bench")), items)
    finally:
        server.stop()
    assert lite["seq"] == pg["seq"], (lite, pg)
    return {
        "revisions": len(items),
        "SQLite ingest rev/s": lite["rev/s"],
        "PostgreSQL ingest rev/s": pg["rev/s"],
        "ingest ratio (pg/sqlite)": pg["rev/s"] / lite["rev/s"],
        "SQLite index s": lite["index s"],
        "PostgreSQL index s": pg["index s"],
        "SQLite search ms": lite["search ms"],
        "PostgreSQL search ms": pg["search ms"],
        "search time ratio (pg/sqlite)": pg["search ms"] / lite["search ms"],
        "hits (sqlite, pg)": f"{lite['hits']}, {pg['hits']}",
    }
