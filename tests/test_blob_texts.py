"""Texts in the blob store (issue 18, item 1): on a store whose blobs are a bucket (a real SeaweedFS) the
compressed texts go into its packs, as chunks do, and the texts table names where.

A node on PostgreSQL + S3 takes edits and an import (its texts then lie in the bucket, not in the table),
a new process reads them, training a dictionary writes the recompressed texts to new records, fsck reads
every text back from the bucket, SeaweedFS killed in the middle of a write leaves nothing half-applied, and
`wikipeer migrate` copies the node to PostgreSQL + S3 and back to a SQLite file (texts in its table).
"""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

import pg_server
import pytest
from conftest import run_cli
from mw_populate import write_dump
from weed_server import Weed

from wikipeer.model.cid import RAW, compute_cid
from wikipeer.node import Node
from wikipeer.store.packs import TEXT_MAGIC
from wikipeer.store.store import Store, StoreUnwritable

BUCKET = "wikipeer"


@pytest.fixture(scope="module")
def weed(tmp_path_factory) -> Weed:
    server = Weed(tmp_path_factory.mktemp("weed"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres() -> pg_server.PgServer:
    server = pg_server.start_server()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def s3_env(monkeypatch, weed) -> None:
    """The credentials and endpoint in this process too (tests open stores in-process)."""
    for name, value in weed.env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def cluster_node(tmp_path_factory, weed, postgres) -> Path:
    """A sample node migrated to PostgreSQL + S3 (`--switch`), then edited and given an import that trains
    its wiki's dictionary (210 texts standing alone: more than TRAIN_AFTER)."""
    node = tmp_path_factory.mktemp("cluster") / "node"
    assert run_cli(node, "init", "--sample").code == 0
    assert run_cli(node, "edit", "wikipeer", "Second", "-m", "first", input="Second: the first text").code == 0
    url, blobs = postgres.url("texts"), f"s3://{BUCKET}/texts?endpoint={weed.endpoint}"
    result = run_cli(node, "migrate", "--to", url, "--blobs", blobs, "--switch", env=weed.env, timeout=120)
    assert result.code == 0 and "no faults" in result.out, str(result)
    for n in range(3):  # a chain of texts, each compressed against the one before
        assert run_cli(node, "edit", "wikipeer", "Second", "-m", f"edit {n}",
                       input=f"Second: the first text, and edit {n}\n" * (n + 1), env=weed.env).code == 0
    dump = node.parent / "bulk.xml"
    write_dump(dump, pages=210, revisions=2)
    result = run_cli(node, "import", str(dump), "--wiki", "bulk", "-q", env=weed.env, timeout=120)
    assert result.code == 0, str(result)
    return node


def texts_where(store: Store) -> tuple[int, int, int]:
    """(texts, texts with bytes in the table, texts with a place in the blob store)."""
    return (store.conn.execute("SELECT count(*) FROM texts").fetchone()[0],
            store.conn.execute("SELECT count(*) FROM texts WHERE length(data) > 0").fetchone()[0],
            store.conn.execute("SELECT count(*) FROM text_places").fetchone()[0])


def bucket_packs(weed: Weed, prefix: str) -> dict[str, int]:
    listed = weed.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: o["Size"] for o in listed}


def test_texts_of_edits_and_an_import_lie_in_the_bucket_and_a_new_process_reads_them(cluster_node, weed):
    node = Node.open(cluster_node)
    try:
        store = node.store
        assert store.database is not None and store.blobs.holds_texts
        total, in_table, placed = texts_where(store)
        assert total > 420 and in_table == 0 and placed == total
        # Every place is a TEXT_MAGIC record in a pack that is in the bucket, under the text's own CID.
        oid, pack, offset, length = store.conn.execute(
            "SELECT id, pack, offset, length FROM text_places ORDER BY id DESC LIMIT 1").fetchone()
        cid = store.conn.execute("SELECT cid FROM objects WHERE id = ?", (oid,)).fetchone()[0]
        key = f"texts/packs/{pack:016x}.pack"
        assert key in bucket_packs(weed, "texts/packs/")
        head = weed.client.get_object(Bucket=BUCKET, Key=key, Range=f"bytes={offset - 44}-{offset - 1}")["Body"].read()
        assert head == TEXT_MAGIC + cid + length.to_bytes(4, "big")
        text = store.text_bytes(oid)
        assert compute_cid(text, RAW) == cid
    finally:
        node.close()
    shown = run_cli(cluster_node, "show", "wikipeer", "Second", env=weed.env)  # another process: ranged GETs
    assert shown.code == 0 and shown.out.count("edit 2") == 3, str(shown)
    shown = run_cli(cluster_node, "show", "bulk", "Bulk 209", env=weed.env)
    assert shown.code == 0 and "Line 1 of page 209" in shown.out, str(shown)


def test_training_writes_recompressed_texts_to_new_records_and_fsck_reads_every_text(cluster_node, weed):
    store = Node.open(cluster_node).store
    try:
        dicts = store.conn.execute("SELECT count(*) FROM text_dicts WHERE wiki = 'bulk'").fetchone()[0]
        with_dict = store.conn.execute("SELECT count(*) FROM texts t JOIN text_places p ON p.id = t.id "
                                       "WHERE t.dict IS NOT NULL").fetchone()[0]
        assert dicts == 1 and with_dict >= 200
        # The records the recompressed texts had first are garbage no row names: more text bytes in the
        # packs than the rows name.
        named = store.conn.execute("SELECT sum(length) FROM text_places").fetchone()[0]
        in_packs = sum(store.blobs.pack_sizes().values())
        chunks = store.conn.execute("SELECT coalesce(sum(length), 0) FROM chunks").fetchone()[0]
        assert in_packs - chunks > named + 44 * with_dict
        text = store.revision_text(store.heads(store.page("bulk", 0, "Bulk 3").id)[0])
        assert text.startswith("Line 0 of page 3")
    finally:
        store.close()
    fsck = run_cli(cluster_node, "fsck", env=weed.env)
    assert fsck.code == 0 and "no faults" in fsck.out, str(fsck)


def test_migrate_back_to_a_sqlite_file_keeps_the_texts_in_its_table(cluster_node, tmp_path, weed):
    target = tmp_path / "back.sqlite"
    result = run_cli(cluster_node, "migrate", "--to", str(target), env=weed.env, timeout=120)
    assert result.code == 0 and "no faults" in result.out, str(result)
    back, source = Store(target), Node.open(cluster_node).store
    try:
        total, in_table, placed = texts_where(back)
        assert total == texts_where(source)[0] and in_table == total and placed == 0
        assert {c for _, c in back.log_cids()} == {c for _, c in source.log_cids()}
        page = back.page("wikipeer", 0, "Second")
        assert "edit 2" in back.revision_text(back.heads(page.id)[0])
    finally:
        back.close()
        source.close()


def test_seaweedfs_killed_mid_write_leaves_no_text_row_and_the_next_write_works(cluster_node, weed, monkeypatch):
    """Last in the module: it leaves a text no revision uses (waiting, for migrate)."""
    monkeypatch.setenv("WIKIPEER_BLOB_PACK_BYTES", str(16 << 10))  # a pack per few texts: uploads amid the write
    node = Node.open(cluster_node)
    store = node.store
    before = texts_where(store)
    packs_before = set(bucket_packs(weed, "texts/packs/"))
    # 12.8 KB of hex digits each, 6-7 KB compressed: a pack uploaded every third text or so.
    texts = ["".join(hashlib.sha256(f"{n} {i}".encode()).hexdigest() for i in range(200)).encode() for n in range(40)]
    try:
        with pytest.raises(StoreUnwritable, match="nothing of this change was kept"):
            with store.write() as writer:
                for n, text in enumerate(texts):
                    if n == 20:
                        weed.stop(signal.SIGKILL)
                    writer.add_text(compute_cid(text, RAW), text, None)
    finally:
        weed.start()
    try:
        assert texts_where(store) == before  # no row names a record that is not in the bucket
        orphans = set(bucket_packs(weed, "texts/packs/")) - packs_before
        assert len(orphans) >= 5
        with store.write() as writer:
            oid = writer.add_text(compute_cid(texts[0], RAW), texts[0], None)
    finally:
        node.close()
    store = Store(cluster_node / "store.sqlite", database=store.database)
    try:
        assert store.text_bytes(oid) == texts[0]
    finally:
        store.close()
    fsck = run_cli(cluster_node, "fsck", env=weed.env)
    assert fsck.code == 0 and "no faults" in fsck.out and f"note: {len(orphans)} packs" in fsck.out, str(fsck)
