"""Backups that prune, rollback or a mirror cannot break (issue 14, item 4 and "Bad input").

A prune racing a run, a run whose packs vanish before its snapshot, a target
whose newest snapshots were deleted, and a read-only HTTP mirror of a target
served by a plain static web server (Python's http.server on 127.0.0.1).
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import assert_user_error, free_port, run_cli
from test_backup import SMALL_PACKS, backup, edit, files, heads, key_of, restore_ok, seaweed, snapshot_ids

from wikipeer.backup import run as running
from wikipeer.backup.forget import GRACE
from wikipeer.backup.repository import load_settings, open_repository
from wikipeer.backup.targets import TargetError
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY

# -- prune against a run ------------------------------------------------------------------


def test_run_and_prune_of_a_target_take_turns(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)  # as a run or forget of this target going on holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert_user_error(run_cli(sample_node, "backup", "forget", str(target), "--prune"), "going on")
        assert_user_error(run_cli(sample_node, "backup", "run", str(target)), "going on")
        assert not files(target, "snapshots")
    finally:
        os.close(fd)
    backup(sample_node, "run", str(target))


def test_prune_spares_young_packs_no_snapshot_names_yet(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target), env=SMALL_PACKS)
    first = set(files(target, "packs"))
    edit(sample_node, "Racing", "a page a run is sending while a prune runs elsewhere")
    backup(sample_node, "run", str(target), env=SMALL_PACKS)
    # The second run's snapshot not written yet: its new packs are whole and named by nothing.
    (second,) = [n for n in files(target, "snapshots") if n.endswith(snapshot_ids(sample_node, str(target))[1])]
    (target / "snapshots" / second).unlink()
    fresh = set(files(target, "packs")) - first
    assert fresh
    out = backup(sample_node, "forget", str(target), "--prune")
    assert set(files(target, "packs")) == first | fresh, "a running backup's packs are not pruned"
    assert f"{len(fresh)} packs no snapshot names kept" in out, out
    # Once older than the grace, what an interrupted run left is pruned.
    old = time.time() - GRACE - 60
    for name in fresh:
        os.utime(target / "packs" / name, (old, old))
    out = backup(sample_node, "forget", str(target), "--prune")
    assert set(files(target, "packs")) == first and f"{len(fresh)} packs pruned" in out, out


def test_a_run_whose_packs_vanish_before_its_snapshot_writes_none(sample_node, tmp_path, monkeypatch):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target), env=SMALL_PACKS)
    first = set(files(target, "packs"))
    edit(sample_node, "Vanishing", "a page whose pack a prune deletes before the snapshot is written")
    needed_packs = running._needed_packs

    def pruned_meanwhile(store, on_target, written):  # a prune (by hand, or unlocked) strikes here
        for name in written:
            (target / name).unlink()
        return needed_packs(store, on_target, written)

    monkeypatch.setattr(running, "_needed_packs", pruned_meanwhile)
    monkeypatch.setenv("WIKIPEER_BACKUP_PACK_BYTES", "2000")
    node = Node.open(sample_node)
    try:
        repo = open_repository(str(target), key_of(sample_node, target))
        with pytest.raises(TargetError, match="vanished while it ran.*no snapshot was written"):
            running.run_backup(node.store, repo, node.keyring.signing_key(NODE_KEY, node.passphrase))
    finally:
        node.close()
    assert len(files(target, "snapshots")) == 1 and set(files(target, "packs")) == first
    monkeypatch.undo()
    backup(sample_node, "run", str(target), env=SMALL_PACKS)  # the next run sends them again
    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 0, str(verify)
    restore_ok(sample_node, target, tmp_path / "r")
    assert heads(tmp_path / "r") == heads(sample_node)


# -- rollback -----------------------------------------------------------------------------


def test_a_target_rolled_back_is_told_by_verify_and_run(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    first_packs = set(files(target, "packs"))
    edit(sample_node, "Rolled back", "a page whose snapshot the target's owner deletes")
    backup(sample_node, "run", str(target))
    first, second = snapshot_ids(sample_node, str(target))
    assert run_cli(sample_node, "backup", "verify", str(target)).code == 0
    # Whoever runs the target deletes the newest snapshot and its packs: what is left is sound on its own.
    for name in files(target, "snapshots"):
        if name.endswith(second):
            (target / "snapshots" / name).unlink()
    for name in set(files(target, "packs")) - first_packs:
        (target / "packs" / name).unlink()

    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 1 and "problems found" in verify.out, str(verify)
    (told,) = [line for line in verify.out.splitlines() if line.startswith("ROLLED BACK")]
    assert f"snapshot {second}" in told and "is missing" in told and f"its newest is {first}" in told, told
    # The key alone (no node record) cannot tell: the target is sound as far as it goes.
    key_file = tmp_path / "key"
    key_file.write_text(key_of(sample_node, target))
    alone = run_cli(None, "backup", "verify", str(target), "--key-file", str(key_file))
    assert alone.code == 0, str(alone)

    run = run_cli(sample_node, "backup", "run", str(target))
    assert run.code == 1 and "ROLLED BACK" in run.out and f"snapshot {second}" in run.out, str(run)
    assert len(snapshot_ids(sample_node, str(target))) == 2, "the run still backs up what the node holds"
    assert run_cli(sample_node, "backup", "verify", str(target)).code == 0, "the new snapshot is the record now"
    restore_ok(sample_node, target, tmp_path / "r")
    assert heads(tmp_path / "r") == heads(sample_node)


def test_forget_is_no_rollback(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    edit(sample_node, "Later", "a second snapshot")
    backup(sample_node, "run", str(target))
    backup(sample_node, "forget", str(target), "--keep-daily", "0", "--keep-monthly", "0", "--prune")
    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 0 and "ROLLED BACK" not in verify.out, str(verify)


def test_on_s3_rollback_is_told_young_packs_are_spared_and_the_node_lock_is_held(sample_node, seaweed):
    client = seaweed["client"]
    env = {k: v for k, v in seaweed.items() if k != "client"}
    url = "s3://wikipeer/guards"
    backup(sample_node, "init", url, env=env)
    backup(sample_node, "run", url, env=env)
    edit(sample_node, "On S3 again", "a page whose snapshot is deleted from the bucket")
    backup(sample_node, "run", url, env=env)
    first, second = snapshot_ids(sample_node, url, env)
    listed = client.list_objects_v2(Bucket="wikipeer", Prefix="guards/snapshots/")["Contents"]
    (newest,) = [o["Key"] for o in listed if o["Key"].endswith(second)]
    client.delete_object(Bucket="wikipeer", Key=newest)  # its new pack is left, named by no snapshot

    verify = run_cli(sample_node, "backup", "verify", url, env=env)
    assert verify.code == 1 and f"ROLLED BACK snapshot {second}" in verify.out, str(verify)
    lock = sample_node / f"backup-{load_settings(sample_node)[url].id}.lock"
    with open(lock, "a") as held:  # as a run of this node to this target going on holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert_user_error(run_cli(sample_node, "backup", "forget", url, "--prune", env=env), "going on")
    out = backup(sample_node, "forget", url, "--prune", env=env)
    assert "0 packs pruned; 1 packs no snapshot names kept" in out, out


# -- a read-only HTTP mirror --------------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator:
    """Serve a directory with Python's http.server on 127.0.0.1; returns its URL."""
    procs: list[subprocess.Popen] = []

    def start(directory: Path) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                                 str(directory), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return f"http://127.0.0.1:{port}/mirror"
            except OSError:
                time.sleep(0.05)  # waiting for the server to listen
        raise AssertionError("http.server did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_public_target_served_over_http_verifies_and_restores(sample_node, tmp_path, serve):
    site = tmp_path / "site"
    target = site / "mirror"
    backup(sample_node, "init", str(target), "--public")
    backup(sample_node, "run", str(target), env=SMALL_PACKS)
    edit(sample_node, "Mirrored", "a page in the second snapshot")
    backup(sample_node, "run", str(target), env=SMALL_PACKS)
    url = serve(site)

    assert snapshot_ids(sample_node, url) == snapshot_ids(sample_node, str(target))
    verify = run_cli(None, "backup", "verify", url)
    count = len(files(target, "packs"))
    assert verify.code == 0 and f"2 snapshots, {count} packs" in verify.out and "all sound" in verify.out, str(verify)
    result = run_cli(None, "backup", "restore", url, "--to", str(tmp_path / "r"))
    assert result.code == 0, str(result)
    assert run_cli(tmp_path / "r", "fsck").code == 0
    assert heads(tmp_path / "r") == heads(sample_node)

    for command in (("run", url), ("forget", url, "--prune"), ("init", url, "--public")):
        assert_user_error(run_cli(sample_node, "backup", *command), "read-only", "directory or S3")
    assert set(files(target, "packs")) and len(files(target, "snapshots")) == 2, "nothing was written or deleted"

    # A mirror is checked like any target: a pack altered on it is named.
    name = sorted(files(target, "packs"))[0]
    (target / "packs" / name).write_bytes(b"altered by the mirror")
    verify = run_cli(None, "backup", "verify", url)
    assert verify.code == 1 and f"DAMAGED packs/{name}" in verify.out, str(verify)


def test_a_private_target_served_over_http_restores_with_its_key(sample_node, tmp_path, serve):
    site = tmp_path / "site"
    target = site / "mirror"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    key_file = tmp_path / "key"
    key_file.write_text(key_of(sample_node, target))
    url = serve(site)
    assert_user_error(run_cli(None, "backup", "verify", url), "encrypted", "--key-file")
    result = run_cli(None, "backup", "restore", url, "--to", str(tmp_path / "r"), "--key-file", str(key_file))
    assert result.code == 0, str(result)
    assert heads(tmp_path / "r") == heads(sample_node)
