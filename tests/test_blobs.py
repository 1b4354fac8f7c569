"""Blob stores (issue 18, item 1): media chunks in an S3 bucket (a real SeaweedFS) or in local packs.

Upload and read back on S3, a new process and a served node reading the chunks again,
SeaweedFS killed in the middle of a write (the write fails whole, the next one works,
in packs of bounded size), fsck, and `wikipeer migrate` to a new store with its chunks
in a bucket.
"""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CLI, assert_user_error, cli_env, run_cli, sqlite_store, start_server, stop_server, store_connect
from test_media import big_jpeg
from weed_server import Weed, s3_env, weed  # noqa: F401 - fixtures the module uses

from wikipeer.errors import UserError
from wikipeer.node import Node
from wikipeer.store.store import Store

BUCKET = "wikipeer"


def keys(weed: Weed, prefix: str) -> dict[str, int]:
    listed = weed.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: o["Size"] for o in listed}


def s3_node(sample_node: Path, weed: Weed, prefix: str) -> Path:
    """The sample node (a copy of the session's) with its chunks from now on in the bucket under ``prefix``."""
    Node.init(sample_node, blobs=f"s3://{BUCKET}/{prefix}?endpoint={weed.endpoint}").close()
    return sample_node


def file_bytes(node_dir: Path, title: str) -> bytes:
    node = Node.open(node_dir)
    try:
        page = node.store.page("wikipeer", 6, title)
        assert page is not None
        info = node.store.file_versions(page.id)[0]
        return b"".join(node.store.file_chunks(info))
    finally:
        node.close()


def chunk_rows(node_dir: Path) -> int:
    with store_connect(node_dir) as conn:
        return conn.execute("SELECT count(*) FROM chunks").fetchone()[0]


def test_media_on_s3_is_stored_in_the_bucket_and_read_back_by_a_new_process(tmp_path, sample_node, weed):
    node = sample_node
    result = run_cli(node, "init", "--blobs", f"s3://{BUCKET}/one?endpoint={weed.endpoint}", env=weed.env)
    assert result.code == 0, str(result)
    photo = tmp_path / "big.jpg"
    photo.write_bytes(big_jpeg(3))
    result = run_cli(node, "upload", str(photo), "--title", "File:Big.jpg", env=weed.env)
    assert result.code == 0, str(result)
    packs = keys(weed, "one/packs/")
    assert len(packs) == 1 and sum(packs.values()) > 3 << 20, packs
    assert not (node / "store.packs").exists()  # nothing went to local packs
    assert '"blobs": "s3://wikipeer/one' in (node / "config.json").read_text()

    assert file_bytes(node, "Big.jpg") == photo.read_bytes()  # another opening of the store: ranged GETs
    proc, client = start_server(node)  # a served node reads them too
    try:
        response = client.get("/file/wikipeer/Big.jpg")
        assert response.status_code == 200 and response.content == photo.read_bytes()
    finally:
        stop_server(proc, client)
    fsck = run_cli(node, "fsck", env=weed.env)
    assert fsck.code == 0 and "no faults" in fsck.out and "note:" not in fsck.out, str(fsck)

    # A damaged pack in the bucket is a fault fsck names.
    key = next(iter(packs))
    body = bytearray(weed.client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    body[len(body) // 2] ^= 1
    weed.client.put_object(Bucket=BUCKET, Key=key, Body=bytes(body))
    fsck = run_cli(node, "fsck", env=weed.env)
    assert fsck.code == 1 and "fault:" in fsck.out, str(fsck)


def test_a_bucket_that_is_not_there_is_named_and_nothing_is_made(tmp_path, weed):
    node = tmp_path / "node"
    result = run_cli(node, "init", "--blobs", f"s3://no-such-bucket/x?endpoint={weed.endpoint}", env=weed.env)
    assert_user_error(result, "s3://no-such-bucket/x")
    assert not node.exists()
    assert_user_error(run_cli(node, "init", "--blobs", "ftp://host/x"), "s3://BUCKET/PREFIX")


def test_a_store_keeps_its_blob_store(sample_node, weed):
    node = s3_node(sample_node, weed, "kept")
    store = Store(node / "store.sqlite")  # no blobs named: the store's own choice
    try:
        assert store.blobs.url.startswith("s3://wikipeer/kept")
    finally:
        store.close()
    with pytest.raises(UserError, match="migrate"):
        Store(node / "store.sqlite", blobs=f"s3://{BUCKET}/elsewhere?endpoint={weed.endpoint}")


def test_seaweedfs_killed_mid_write_fails_it_whole_and_the_next_write_works(tmp_path, sample_node, weed):
    tiny = {"WIKIPEER_BLOB_PACK_BYTES": str(64 << 10)}  # hundreds of uploads: time to stop SeaweedFS amid them
    node = s3_node(sample_node, weed, "killed")
    photo = tmp_path / "big.jpg"
    photo.write_bytes(big_jpeg(16, seed=5))
    before = chunk_rows(node)
    proc = subprocess.Popen([*CLI, "--node", str(node), "upload", str(photo), "--title", "File:Killed.jpg"],
                            env=cli_env({**weed.env, **tiny}), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(keys(weed, "killed/packs/")) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # polling another process's progress
        assert proc.poll() is None, f"the upload ended before SeaweedFS could be stopped: {proc.communicate()}"
        weed.stop(signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        weed.start()
    message = err.decode().strip()
    assert proc.returncode == 2 and len(message.splitlines()) == 1, message
    assert "s3://wikipeer/killed" in message and "nothing of this change was kept" in message
    assert "Traceback" not in message
    assert chunk_rows(node) == before  # no row names a pack that is not there
    orphans = keys(weed, "killed/packs/")
    assert len(orphans) >= 3

    fsck = run_cli(node, "fsck", env=weed.env)
    assert fsck.code == 0 and "no faults" in fsck.out and f"note: {len(orphans)} packs" in fsck.out, str(fsck)
    small = {"WIKIPEER_BLOB_PACK_BYTES": str(2 << 20)}
    result = run_cli(node, "upload", str(photo), "--title", "File:Killed.jpg", env={**weed.env, **small})
    assert result.code == 0, str(result)
    packs = {k: size for k, size in keys(weed, "killed/packs/").items() if k not in orphans}
    assert len(packs) >= 4 and max(packs.values()) < (2 << 20) + (4 << 20), packs  # bounded: one chunk past
    assert file_bytes(node, "Killed.jpg") == photo.read_bytes()
    assert run_cli(node, "fsck", env=weed.env).code == 0


def test_a_seaweedfs_whose_port_was_taken_starts_on_new_ports_and_restarts_on_its_own(tmp_path):
    server = Weed(tmp_path)
    with socket.socket() as squatter:  # another process took a chosen port before weed could bind it
        squatter.bind(("127.0.0.1", server.ports["admin.port"]))
        squatter.listen()
        taken = dict(server.ports)
        server.start()
        try:
            assert server.ports != taken and server.endpoint.endswith(f":{server.ports['s3.port']}")
            moved = dict(server.ports)
            server.stop()
            server.start()  # a restart keeps its ports: stores opened on the endpoint still reach it
            assert server.ports == moved and keys(server, "") == {"ready": 1}
        finally:
            server.stop()


def test_migrate_copies_a_node_to_a_new_store_with_its_chunks_in_a_bucket(tmp_path, sample_node, weed):
    node = sample_node
    photo = tmp_path / "big.jpg"
    photo.write_bytes(big_jpeg(2, seed=9))
    assert run_cli(node, "upload", str(photo), "--title", "File:Moved.jpg").code == 0
    target = tmp_path / "moved.sqlite"
    url = f"s3://{BUCKET}/moved?endpoint={weed.endpoint}"

    result = run_cli(node, "migrate", "--to", str(target), "--blobs", url, env=weed.env)
    assert result.code == 0 and "no faults" in result.out and "0 were there already" in result.out, str(result)
    source, moved = Store(node / "store.sqlite"), sqlite_store(target)
    try:
        assert {c for _, c in moved.log_cids()} == {c for _, c in source.log_cids()}
        assert moved.blobs.url == url and keys(weed, "moved/packs/")
        assert {p for p, *_ in moved.head_cids()} == {p for p, *_ in source.head_cids()}
        assert moved.wiki_config("wikipeer") == source.wiki_config("wikipeer")
    finally:
        source.close()
        moved.close()

    assert run_cli(node, "edit", "wikipeer", "After", "-m", "later", input="one more page").code == 0
    again = run_cli(node, "migrate", "--to", str(target), "--blobs", url, env=weed.env)
    assert again.code == 0 and "no faults" in again.out, str(again)
    assert " 0 objects copied" not in again.out and "were there already" in again.out, str(again)
    own = json.loads((node / "config.json").read_text()).get("store") or str(node / "store.sqlite")
    assert_user_error(run_cli(node, "migrate", "--to", own), "own store")
    refused = run_cli(node, "migrate", "--to", str(tmp_path / "none.sqlite"), "--blobs",
                      f"s3://no-such-bucket/x?endpoint={weed.endpoint}", env=weed.env)
    assert_user_error(refused, "s3://no-such-bucket/x")
    assert not (tmp_path / "none.sqlite").exists()


def test_migrate_to_postgresql_with_chunks_in_a_bucket_and_the_node_switched_to_it(tmp_path, sample_node, weed):
    """The cluster backend's way in: a SQLite node copied to PostgreSQL plus S3, checked there, then served
    from it (`--switch`): the same objects, its file read back from the bucket, fsck clean."""
    import pg_server

    server = pg_server.start_server()
    try:
        node = sample_node
        photo = tmp_path / "big.jpg"
        photo.write_bytes(big_jpeg(2, seed=11))
        assert run_cli(node, "upload", str(photo), "--title", "File:Clustered.jpg").code == 0
        url, blobs = server.url("migrated"), f"s3://{BUCKET}/cluster?endpoint={weed.endpoint}"
        assert_user_error(run_cli(node, "migrate", "--to", url), "--blobs")  # packs beside no machine's store

        result = run_cli(node, "migrate", "--to", url, "--blobs", blobs, "--switch", env=weed.env)
        assert result.code == 0 and "no faults" in result.out and "now uses" in result.out, str(result)
        old = Store(node / "store.sqlite")
        before = {c for _, c in old.log_cids()}
        old.close()
        switched = Node.open(node)
        try:
            assert switched.config.store == url and switched.store.database == url
            assert {c for _, c in switched.store.log_cids()} == before
            info = switched.store.file_by_sha256(hashlib.sha256(photo.read_bytes()).hexdigest())
            assert info is not None and b"".join(switched.store.file_chunks(info)) == photo.read_bytes()
        finally:
            switched.store.close()
        assert run_cli(node, "fsck", env=weed.env).code == 0
        assert_user_error(run_cli(node, "migrate", "--to", url, "--blobs", blobs, env=weed.env), "own store")
    finally:
        server.stop()
