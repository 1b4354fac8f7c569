"""Texts in the bucket (issue 18, item 1): ingest and page reads on PostgreSQL + S3 with the texts' compressed
bytes in the bucket's packs, against the same store keeping them in PostgreSQL's texts table (the anchor:
what a bucket store did before), same corpus, same run.

The corpus is bench/synthetic.py's signed history (pseudo-prose pages of 5 KB edited a little at a time),
through the pipeline in batches of 500 as bench/cluster_bench.py sends it. Then each store is opened again
(an empty text cache) and every page's shown text is read: the head of a chain of up to ``REVISIONS``
texts, each compressed against the one before; the reads' ranged GETs are counted. PostgreSQL is
tests/pg_server.py's (fsync off), SeaweedFS is `weed mini` on 127.0.0.1 (bench/servers.py's starter): both on
this machine, so the figures are round trips and work, not a network's or a disk's.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from bench.servers import S3_ENV, Weed
from bench.synthetic import history
from wikipeer.ingest import ingest
from wikipeer.pipeline.feed import prepared_batches
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.store.blobs.bucket import BucketBlobs
from wikipeer.store.packs import ChunkPlace
from wikipeer.store.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import pg_server  # noqa: E402  (tests/ holds the one way of starting a server of our own)

PAGES, REVISIONS, TEXT_BYTES, BATCH = 300, 10, 5000, 500
ROUNDS = 2


def _ingest_and_read(store: Store, items: list, reopen: Callable[[], Store]) -> tuple[float, float, int, int, int]:
    """(revisions ingested per second, pages read per second from a new opening, bytes of text read, ranged GETs
    of the reads, the database's size in bytes)."""
    start = time.perf_counter()
    batches = ([b for _, bs in items[i:i + BATCH] for b in bs] for i in range(0, len(items), BATCH))
    for blocks, prepared in prepared_batches(batches, MAX_TEXT, "bench"):
        ingest(store, blocks, "bench", prepared=prepared)
    ingest_s = time.perf_counter() - start
    size = store.file_size()
    store.close()
    store = reopen()
    gets = 0
    original = BucketBlobs.read

    def counted(blobs: BucketBlobs, place: ChunkPlace) -> bytes:
        nonlocal gets
        gets += 1
        return original(blobs, place)

    try:
        with mock.patch.object(BucketBlobs, "read", counted):
            start = time.perf_counter()
            read = sum(len(store.revision_text(store.heads(page.id)[0])) for page in store.pages("bench"))
            read_s = time.perf_counter() - start
    finally:
        store.close()
    return len(items) / ingest_s, PAGES / read_s, read, gets, size


def run() -> dict[str, float | str]:
    items = list(history(PAGES, REVISIONS, TEXT_BYTES))
    server = pg_server.start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="blob-texts-bench-") as tmp:
            root = Path(tmp)
            (root / "weed").mkdir()
            with Weed(root / "weed", bucket="bench") as weed, mock.patch.dict(os.environ, {**S3_ENV,
                                                                            "WIKIPEER_S3_ENDPOINT": weed.endpoint}):
                runs: dict[str, list] = {"table": [], "bucket": []}
                # Each mode twice, taking turns, the better run kept: the first run of all also starts the
                # pipeline's workers and warms PostgreSQL, which favoured the mode that came second.
                for turn, mode in enumerate(["table", "bucket"] * ROUNDS):
                    name = f"{mode}{turn}"
                    database = server.fresh_database(name)

                    def reopen(name: str = name, database: str = database) -> Store:
                        return Store(root / f"{name}.sqlite", database=database)

                    store = Store(root / f"{name}.sqlite", database=database, blobs=f"s3://bench/{name}")
                    store.blobs.holds_texts = mode == "bucket"  # the anchor keeps its texts in the table
                    runs[mode].append(_ingest_and_read(store, items, reopen))
    finally:
        server.stop()
    table, bucket = (tuple(max(column) for column in zip(*runs[mode])) for mode in ("table", "bucket"))
    assert table[2] == bucket[2], (table, bucket)
    return {
        "revisions": len(items),
        "pages read (shown text, chains of up to 10)": PAGES,
        "ingest rev/s: texts in PostgreSQL": table[0],
        "ingest rev/s: texts in the bucket": bucket[0],
        "ingest ratio (bucket/table)": f"{bucket[0] / table[0]:.2f}x",
        "page reads/s, new opening: texts in PostgreSQL": table[1],
        "page reads/s, new opening: texts in the bucket": bucket[1],
        "read ratio (bucket/table)": f"{bucket[1] / table[1]:.2f}x",
        "ranged GETs per page read: texts in the bucket": bucket[3] / PAGES,
        "PostgreSQL database MB: texts in PostgreSQL": table[4] / 1e6,
        "PostgreSQL database MB: texts in the bucket": bucket[4] / 1e6,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<50} {value:,.2f}" if isinstance(value, float) else f"{key:<50} {value}")
