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
from collections.abc import Iterator
from pathlib import Path

import pg_server
import pytest
from conftest import run_cli, sqlite_store, start_server, stop_server
from mw_populate import write_dump
from weed_server import Weed, s3_env, weed  # noqa: F401 - fixtures the module uses

from wikipeer.formats.dump_import import import_dump
from wikipeer.fsck import fsck as check_store
from wikipeer.model.cid import RAW, cid_to_str, compute_cid
from wikipeer.node import Node
from wikipeer.store.cache import evict_page
from wikipeer.store.integrity import dead_record_bytes
from wikipeer.store.packs import TEXT_MAGIC
from wikipeer.store import store as store_module
from wikipeer.store.store import Store, StoreUnwritable

BUCKET = "wikipeer"


@pytest.fixture(scope="module")
def postgres() -> Iterator[pg_server.PgServer]:
    server = pg_server.start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cluster_node(tmp_path_factory, weed, postgres) -> Path:
    """A sample node migrated to PostgreSQL + S3 (`--switch`), then edited, then given an import (in this
    process, with TRAIN_AFTER lowered to 20, so the import trains its wiki's dictionary and recompresses)."""
    node = tmp_path_factory.mktemp("cluster") / "node"
    assert run_cli(node, "init", "--sample").code == 0
    assert run_cli(node, "edit", "wikipeer", "Second", "-m", "first", input="Second: the first text").code == 0
    url, blobs = postgres.url("texts"), f"s3://{BUCKET}/texts?endpoint={weed.endpoint}"
    result = run_cli(node, "migrate", "--to", url, "--blobs", blobs, "--switch", env=weed.env, timeout=120)
    assert result.code == 0 and "no faults" in result.out, str(result)
    edit = run_cli(node, "edit", "wikipeer", "Second", "-m", "again", input="Second: the first text, edited\n" * 3,
                   env=weed.env)  # compressed against the text before it, which the migrate put in the bucket
    assert edit.code == 0, str(edit)
    dump = node.parent / "bulk.xml"
    write_dump(dump, pages=150, revisions=2)  # 150 texts of 100 B: enough to train
    with pytest.MonkeyPatch.context() as patch:
        for name, value in weed.env.items():
            patch.setenv(name, value)
        patch.setattr(store_module, "TRAIN_AFTER", 20)
        opened = Node.open(node)
        try:
            summary = import_dump(opened, str(dump), "bulk", None, None)
        finally:
            opened.close()
    assert summary.error is None and summary.new_revisions == 300, summary
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
        assert total > 300 and in_table == 0 and placed == total
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
    assert shown.code == 0 and shown.out.count("edited") == 3, str(shown)
    shown = run_cli(cluster_node, "show", "bulk", "Bulk 149", env=weed.env)
    assert shown.code == 0 and "Line 1 of page 149" in shown.out, str(shown)


def test_training_writes_recompressed_texts_to_new_records(cluster_node, weed):
    store = Node.open(cluster_node).store
    try:
        dicts = store.conn.execute("SELECT count(*) FROM text_dicts WHERE wiki = 'bulk'").fetchone()[0]
        with_dict = store.conn.execute("SELECT count(*) FROM texts t JOIN text_places p ON p.id = t.id "
                                       "WHERE t.dict IS NOT NULL").fetchone()[0]
        assert dicts == 1 and with_dict >= 20
        # The records the recompressed texts had first are garbage no row names: a header and bytes each.
        dead = dead_record_bytes(store)
        assert dead > 45 * with_dict
        text = store.revision_text(store.heads(store.page("bulk", 0, "Bulk 3").id)[0])
        assert text.startswith("Line 0 of page 3")
    finally:
        store.close()


def test_migrate_back_to_a_sqlite_file_keeps_the_texts_in_its_table(cluster_node, tmp_path, weed):
    target = tmp_path / "back.sqlite"
    result = run_cli(cluster_node, "migrate", "--to", str(target), env=weed.env, timeout=120)
    assert result.code == 0 and "no faults" in result.out, str(result)
    back, source = sqlite_store(target), Node.open(cluster_node).store
    try:
        total, in_table, placed = texts_where(back)
        assert total == texts_where(source)[0] and in_table == total and placed == 0
        assert {c for _, c in back.log_cids()} == {c for _, c in source.log_cids()}
        page = back.page("wikipeer", 0, "Second")
        assert "edited" in back.revision_text(back.heads(page.id)[0])
    finally:
        back.close()
        source.close()


def test_an_evicted_page_leaves_its_text_records_dead_and_the_rest_readable(cluster_node, weed):
    store = Node.open(cluster_node).store
    try:
        page = store.page("bulk", 0, "Bulk 7")
        before, dead = texts_where(store), dead_record_bytes(store)
        evict_page(store, page.id)
        assert store.page("bulk", 0, "Bulk 7") is None
        after = texts_where(store)
        assert after[0] == after[2] == before[0] - 2 and after[1] == 0  # its two texts and their places
        assert dead_record_bytes(store) > dead
        other = store.page("bulk", 0, "Bulk 8")
        assert store.revision_text(store.heads(other.id)[0]).startswith("Line 0 of page 8")
    finally:
        store.close()


def test_a_page_whose_text_the_bucket_does_not_answer_is_a_503_until_it_is_back(cluster_node, weed):
    """An outage, not damage: a reader is asked to try again, and the page reads once the bucket is back."""
    proc, client = start_server(cluster_node)
    try:
        weed.stop()
        try:
            down = client.get("/wiki/bulk/Bulk_42", timeout=60)
            shown = run_cli(cluster_node, "show", "bulk", "Bulk 43", env=weed.env)
        finally:
            weed.start()
        assert down.status_code == 503 and "try again" in down.text, down.text[:300]
        assert shown.code == 2 and "cannot be read just now" in shown.err and f"s3://{BUCKET}/texts" in shown.err
        assert "Traceback" not in shown.err and len(shown.err.strip().splitlines()) == 1, str(shown)
        back = client.get("/wiki/bulk/Bulk_42", timeout=60)
        assert back.status_code == 200 and "Line 1 of page 42" in back.text
    finally:
        stop_server(proc, client)


def test_seaweedfs_killed_mid_write_leaves_no_text_row_and_the_next_write_works(cluster_node, weed, monkeypatch):
    """Last of the tests on cluster_node: it leaves a text no revision uses (waiting, for migrate)."""
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
    fsck = run_cli(cluster_node, "fsck", env=weed.env)  # every text read back from the bucket and checked
    assert fsck.code == 0 and "no faults" in fsck.out and f"note: {len(orphans)} packs" in fsck.out, str(fsck)
    assert "bytes of records in the packs" in fsck.out, str(fsck)  # what the dictionary's training left

    # The text written once the bucket was back reads from a new opening; damaged in the bucket, it is a
    # fault naming it.
    store = Store(cluster_node / "store.sqlite", database=store.database)
    try:
        assert store.text_bytes(oid) == texts[0]
        pack, offset, length, cid = store.conn.execute(
            "SELECT p.pack, p.offset, p.length, o.cid FROM text_places p JOIN objects o ON o.id = p.id "
            "WHERE p.id = ?", (oid,)).fetchone()
        key = f"texts/packs/{pack:016x}.pack"
        body = bytearray(weed.client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        body[offset + length // 2] ^= 0x55
        weed.client.put_object(Bucket=BUCKET, Key=key, Body=bytes(body))
    finally:
        store.close()
    store = Store(cluster_node / "store.sqlite", database=store.database)
    try:
        _, faults = check_store(store)
        assert cid_to_str(cid) in {fault.cid for fault in faults}, faults
    finally:
        store.close()


def test_a_bucket_store_of_schema_17_keeps_reading_its_texts_from_the_table_and_writes_new_ones_to_the_bucket(
        tmp_path, weed):
    """SQLite + S3 (the combination works too). A store made before schema 18 kept its texts in the table:
    made here by writing with ``holds_texts`` off, then taking away what schema 18 added."""
    path = tmp_path / "store.sqlite"
    old_text, new_text = b"a text from before schema 18", b"a text written after"
    store = Store(path, blobs=f"s3://{BUCKET}/old?endpoint={weed.endpoint}")
    store.blobs.holds_texts = False
    with store.write() as writer:
        old = writer.add_text(compute_cid(old_text, RAW), old_text, None)
    with store.conn:
        store.conn.execute("DROP TABLE text_places")
        store.conn.execute("UPDATE meta SET value = '17' WHERE key = 'schema'")
    store.close()

    store = Store(path)
    try:
        assert store.meta("schema") == "18" and store.text_bytes(old) == old_text
        with store.write() as writer:
            new = writer.add_text(compute_cid(new_text, RAW), new_text, None)
        assert texts_where(store) == (2, 1, 1)
    finally:
        store.close()
    store = Store(path)
    try:
        assert store.text_bytes(old) == old_text and store.text_bytes(new) == new_text
        assert check_store(store)[1] == []
    finally:
        store.close()
