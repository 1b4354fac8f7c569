"""Backups of media (issue 14, item 4): file objects and chunks go to backups like every block,
restore rebuilds the packs, single files come out by SHA-256, damage is named by file, and what
the node hides goes only to private targets.

Every test drives the real `wikipeer backup ...` command on real node directories.
"""

from __future__ import annotations

import hashlib
import io
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import CLI, cli_env, run_cli
from PIL import Image
from test_backup import backup, files, restore_ok, snapshot_ids

from wikipeer.backup import packs
from wikipeer.backup import restore as restoring
from wikipeer.backup.repository import load_settings, open_repository
from wikipeer.model import block as block_model
from wikipeer.model.block import Block, CheckedBlock, TamperedBlock, checked, raw_block
from wikipeer.model.cid import RAW
from wikipeer.node import Node
from wikipeer.store.accounts import ACCOUNTS_FILE, Accounts
from wikipeer.store.hidden import hide
from wikipeer.store.store import Store
from wikipeer.uploading import upload

PACKS_1M = {"WIKIPEER_BACKUP_PACK_BYTES": str(1 << 20)}


def photo(megabytes: float, seed: int) -> bytes:
    """A JPEG followed by random bytes: several MB that every reader still takes for a JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed % 256, 80, 160)).save(out, "JPEG")
    return out.getvalue() + random.Random(seed).randbytes(int(megabytes * (1 << 20)))


def media_node(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A node holding a chunked photo, a re-upload of it with one byte changed, an exact duplicate on
    another page and a small PNG; returns it and the files' bytes by title."""
    directory = tmp_path / "node"
    node = Node.init(directory)
    node.wiki("w")
    big = photo(3, 1)
    changed = bytearray(big)
    changed[len(big) // 2] ^= 0xFF
    small = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(small, "PNG")
    made = {"File:Big.jpg": bytes(changed), "File:Copy.jpg": big, "File:Small.png": small.getvalue()}
    try:
        upload(node, "w", "File:Big.jpg", big, "first", ts=1000)
        upload(node, "w", "File:Big.jpg", bytes(changed), "one byte changed", ts=2000)
        upload(node, "w", "File:Copy.jpg", big, "the same bytes again", ts=3000)
        upload(node, "w", "File:Small.png", made["File:Small.png"], "a red square", ts=4000)
    finally:
        node.close()
    return directory, made


def held_files(node: Path) -> dict[str, bytes]:
    """Every file version's bytes on a node, by SHA-256 (read from its packs, checked)."""
    store = Store(node / "store.sqlite")
    try:
        return {sha.hex(): b"".join(store.file_chunks(store.file_by_sha256(sha.hex())))
                for sha, _, _ in store.file_cids()}
    finally:
        store.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_media_round_trip_is_incremental_and_restores_the_packs(tmp_path):
    node, made = media_node(tmp_path)
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    backup(node, "run", str(target), env=PACKS_1M)
    stored = sum(len(b) for b in files(target, "packs").values())
    # Three versions of ~3 MiB (two share all chunks but one, the third is a duplicate): stored once.
    assert 3 << 20 < stored < (3 << 20) + (2 << 20), stored
    backup(node, "run", str(target), env=PACKS_1M)
    before = set(files(target, "packs")), set(files(target, "snapshots"))
    assert (set(files(target, "packs")), set(files(target, "snapshots"))) == before

    restore_ok(node, target, tmp_path / "restored")  # fsck re-hashes every chunk and file
    assert held_files(tmp_path / "restored") == held_files(node)
    assert len(held_files(node)) == 3
    for title, data in made.items():
        assert sha(data) in held_files(tmp_path / "restored"), title


def test_an_unchanged_media_node_writes_nothing_and_a_new_file_only_its_chunks(tmp_path):
    node, _ = media_node(tmp_path)
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    backup(node, "run", str(target), env=PACKS_1M)
    first = files(target, "packs")
    backup(node, "run", str(target), env=PACKS_1M)
    assert files(target, "packs") == first and len(files(target, "snapshots")) == 1

    extra = photo(1.5, 9)
    opened = Node.open(node)
    try:
        upload(opened, "w", "File:Extra.jpg", extra, "new", ts=5000)
    finally:
        opened.close()
    backup(node, "run", str(target), env=PACKS_1M)
    new = {k: v for k, v in files(target, "packs").items() if k not in first}
    assert len(extra) < sum(map(len, new.values())) < len(extra) + 64 * 1024


def test_a_restore_in_small_batches_keeps_each_files_chunks_with_it(tmp_path, monkeypatch):
    """Batches bounded by bytes must not end between a file's chunks and the file (alone, a chunk
    would be taken for a text and refused)."""
    node, made = media_node(tmp_path)
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    backup(node, "run", str(target), env=PACKS_1M)
    monkeypatch.setattr(restoring, "BATCH_BYTES", 300 * 1024)
    repo = open_repository(str(target), load_settings(node)[str(target)].key)
    report = restoring.restore(repo, repo.find(None), tmp_path / "r")
    assert not report.refused and not report.problems and not report.pages_differing, report
    assert held_files(tmp_path / "r") == held_files(node)
    assert run_cli(tmp_path / "r", "fsck").code == 0


def test_single_files_come_out_by_sha256_without_restoring_the_node(tmp_path):
    node, made = media_node(tmp_path)
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    backup(node, "run", str(target), env=PACKS_1M)
    out_dir = tmp_path / "out"
    wanted = [sha(made["File:Small.png"]), sha(made["File:Big.jpg"])[:12]]
    result = run_cli(node, "backup", "restore", str(target), "--files", *wanted, "--to", str(out_dir))
    assert result.code == 0, str(result)
    assert (out_dir / "Small.png").read_bytes() == made["File:Small.png"]
    assert (out_dir / "Big.jpg").read_bytes() == made["File:Big.jpg"]
    assert not (out_dir / "store.sqlite").exists()

    one = run_cli(node, "backup", "restore", str(target), "--files", sha(made["File:Copy.jpg"]), "--to", "-")
    assert one.code == 0 and sha(one.raw_out) == sha(made["File:Copy.jpg"]), one.err

    absent = run_cli(node, "backup", "restore", str(target), "--files", "ab" * 32, "--to", str(out_dir))
    assert absent.code == 1 and "no file with this SHA-256" in absent.err, str(absent)
    bad = run_cli(node, "backup", "restore", str(target), "--files", "not-a-hash", "--to", str(out_dir))
    assert bad.code == 2 and "not a SHA-256" in bad.err and "Traceback" not in bad.err, str(bad)


def file_chunks(node: Path) -> dict[bytes, tuple[str, set[bytes]]]:
    """Every file version's SHA-256 and the CIDs of its file object and chunks, by file object CID."""
    store = Store(node / "store.sqlite")
    try:
        return {cid: (sha.hex(), {cid, *store.file_by_sha256(sha.hex()).chunks}) for sha, cid, _ in store.file_cids()}
    finally:
        store.close()


def split_by(node: Path, lost: set[bytes]) -> tuple[set[str], set[str]]:
    """SHA-256s of the file versions that lose a block in ``lost``, and of the bytes still whole in some version."""
    versions = file_chunks(node).values()
    return {s for s, cids in versions if cids & lost}, {s for s, cids in versions if not cids & lost}


def chunks_of(node: Path, sha256: str) -> set[bytes]:
    return next(cids for s, cids in file_chunks(node).values() if s == sha256)


def test_a_damaged_pack_is_named_by_file_and_the_other_files_restore(tmp_path):
    node, made = media_node(tmp_path)
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    backup(node, "run", str(target), env=PACKS_1M)
    repo = open_repository(str(target), load_settings(node)[str(target)].key)
    first_chunk = sorted(chunks_of(node, sha(made["File:Copy.jpg"])) - {repo.find(None).files[0].cid})[0]
    holder = next(name for name in repo.target.list("packs/")
                  if first_chunk in {e.cid for e in repo.pack_entries(name)})
    lost = {e.cid for e in repo.pack_entries(holder)}
    hit, spared = split_by(node, lost)
    assert sha(made["File:Copy.jpg"]) in hit and sha(made["File:Small.png"]) in spared
    path = target / holder
    data = bytearray(path.read_bytes())
    data[-20] ^= 1  # inside the sealed body: the header still says what it held
    path.write_bytes(bytes(data))

    verify = run_cli(node, "backup", "verify", str(target))
    assert verify.code == 1 and "DAMAGED" in verify.out, str(verify)
    named = verify.out.split("files affected: ")[1].splitlines()[0].split(";")[0]
    assert {part.split()[0] for part in named.split(", ")} == hit, verify.out
    assert "(w:{ns 6}Copy.jpg)" in named

    restored = run_cli(node, "backup", "restore", str(target), "--to", str(tmp_path / "r"))
    assert restored.code == 1 and all(s in restored.out for s in hit), str(restored)
    assert set(held_files(tmp_path / "r")) == spared
    assert run_cli(tmp_path / "r", "fsck").code == 0

    small, copy = sha(made["File:Small.png"]), sha(made["File:Copy.jpg"])
    one = run_cli(node, "backup", "restore", str(target), "--files", copy, small, "--to", str(tmp_path / "out"))
    assert one.code == 1 and f"NOT RESTORED {copy} (Copy.jpg)" in one.err, str(one)
    assert (tmp_path / "out" / "Small.png").read_bytes() == made["File:Small.png"]
    assert not (tmp_path / "out" / "Copy.jpg").exists()


def test_a_hidden_page_its_file_and_accounts_never_reach_a_public_target_and_a_private_one_restores_them(tmp_path):
    node, made = media_node(tmp_path)
    secret = b"the secret words: marmalade-quasar-4471"
    added = run_cli(node, "account", "add", "Zanzibarella", input="a long enough password 1\n")
    assert added.code == 0, str(added)
    edited = run_cli(node, "edit", "w", "Deleted page", "-m", "to be deleted", input=secret)
    assert edited.code == 0, str(edited)
    opened = Node.open(node)
    try:
        upload(opened, "w", "File:Secret.png", _png_with(secret), "a secret picture", ts=6000)
        for ns, name in ((0, "Deleted page"), (6, "Secret.png")):
            hide(opened.store, opened.store.page("w", ns, name).id, 10**13, "deleted on its wiki")
        upload(opened, "w", "File:Twice.png", _png_with(b"suppressed picture: ocelot-9120"), "oops", ts=7000)
        upload(opened, "w", "File:Twice.png", made.setdefault("File:Twice.png", _png_with(b"fine")), "fixed", ts=8000)
    finally:
        opened.close()
    # One revision and one file version of shown pages are hidden (suppressed on their wiki, or by the operator)
    suppressed = b"suppressed words: pangolin-7733"
    first = run_cli(node, "edit", "w", "Kept page", "-m", "with a slip", "-q", input=b"kept page " + suppressed)
    assert first.code == 0 and run_cli(node, "edit", "w", "Kept page", "-m", "slip removed", input="kept page").code == 0
    hid = run_cli(node, "hide", "w", "Kept page", "--revision", first.out.strip(), "--reason", "suppressed")
    assert hid.code == 0, str(hid)
    hid = run_cli(node, "hide", "w", "File:Twice.png", "--file", sha(_png_with(b"suppressed picture: ocelot-9120")))
    assert hid.code == 0, str(hid)
    public, private = tmp_path / "public", tmp_path / "private"
    backup(node, "init", str(public), "--public")
    backup(node, "init", str(private))
    backup(node, "run", str(public), env=PACKS_1M)
    backup(node, "run", str(private), env=PACKS_1M)

    everything = b"".join(p.read_bytes() for p in public.rglob("*") if p.is_file())
    assert b"Small.png" in everything  # a public target is readable: the grep below can fail
    assert secret not in everything and b"Deleted page" not in everything and b"Secret.png" not in everything
    assert b"Zanzibarella" not in everything and not (public / "accounts").exists()
    repo = open_repository(str(public))  # and decompressed, block by block
    blocks = b"".join(b.data for name in repo.target.list("packs/")
                      for _, b in packs.read_pack(name, repo.target.get(name), repo.sealer)[1])
    assert made["File:Small.png"] in blocks
    assert secret not in blocks and b"Deleted page" not in blocks and b"Secret.png" not in blocks
    assert b"kept page" in blocks and b"Kept page" in blocks and made["File:Twice.png"] in blocks  # the pages stay
    assert suppressed not in blocks and b"ocelot-9120" not in blocks and suppressed not in everything
    assert (private / "accounts").is_dir()

    restore_ok(node, public, tmp_path / "from-public")
    restore_ok(node, private, tmp_path / "from-private")
    pub, priv = Store(tmp_path / "from-public" / "store.sqlite"), Store(tmp_path / "from-private" / "store.sqlite")
    try:
        assert pub.page("w", 0, "Deleted page") is None and pub.page("w", 6, "Secret.png") is None
        assert priv.page("w", 0, "Deleted page") is not None
        assert len(priv.history(priv.page("w", 0, "Kept page").id)) == 2
        assert pub.page("w", 0, "Kept page") is not None
    finally:
        pub.close()
        priv.close()
    assert sha(_png_with(secret)) in held_files(tmp_path / "from-private")
    assert sha(_png_with(b"suppressed picture: ocelot-9120")) in held_files(tmp_path / "from-private")
    assert set(held_files(tmp_path / "from-public")) == {sha(d) for d in made.values()}
    assert "Zanzibarella" not in run_cli(tmp_path / "from-public", "account", "list").out
    listed = run_cli(tmp_path / "from-private", "account", "list")
    assert listed.code == 0 and "Zanzibarella" in listed.out, str(listed)
    restored = Node.open(tmp_path / "from-private")
    try:
        assert Accounts(restored.dir / ACCOUNTS_FILE, restored.keyring).check_password(
            "Zanzibarella", "a long enough password 1").name == "Zanzibarella"
    finally:
        restored.close()
    before = files(private, "snapshots")
    backup(node, "run", str(private), env=PACKS_1M)
    assert files(private, "snapshots") == before, "unchanged accounts write nothing"
    kept = files(private, "accounts")
    backup(node, "forget", str(private), "--prune")
    assert files(private, "accounts") == kept and len(kept) == 1, "prune keeps the copy a kept snapshot names"
    assert snapshot_ids(node, str(public))


def _png_with(text: bytes) -> bytes:
    """A PNG carrying ``text`` in a comment chunk (so a grep of a target can find it)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode())
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_a_media_run_killed_mid_way_is_completed_by_the_next_without_sending_twice(tmp_path):
    node, _ = media_node(tmp_path)
    opened = Node.open(node)
    try:  # more to send, so the kill lands between packs though packs are written two at a time
        for n in range(3):
            upload(opened, "w", f"File:More-{n}.jpg", photo(3, 20 + n), "more", ts=6000 + n)
    finally:
        opened.close()
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    proc = subprocess.Popen([*CLI, "--node", str(node), "backup", "run", str(target), "-q"],
                            env=cli_env({"WIKIPEER_BACKUP_PACK_BYTES": str(200 * 1024)}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while _whole_packs(target) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)  # polling for the first packs of another process
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and not files(target, "snapshots"), "killed before its snapshot"
    partial = files(target, "packs")
    assert len(partial) >= 3

    backup(node, "run", str(target), env=PACKS_1M)
    assert set(partial) <= set(files(target, "packs"))
    repo = open_repository(str(target), load_settings(node)[str(target)].key)
    entries = [e.cid for es in repo.index().packs.values() for e in es]
    assert len(entries) == len(set(entries)), "no chunk was sent twice"
    restore_ok(node, target, tmp_path / "r")
    assert held_files(tmp_path / "r") == held_files(node)


def _whole_packs(target: Path) -> int:
    """How many packs are on a directory target under their own names (cheap: names only)."""
    base = target / "packs"
    return sum(1 for p in base.iterdir() if ".tmp-" not in p.name) if base.is_dir() else 0


def test_a_missing_pack_is_named_with_the_files_that_lost_chunks(tmp_path):
    node, made = media_node(tmp_path)
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    backup(node, "run", str(target), env=PACKS_1M)
    repo = open_repository(str(target), load_settings(node)[str(target)].key)
    chunk = sorted(chunks_of(node, sha(made["File:Big.jpg"])) - chunks_of(node, sha(made["File:Copy.jpg"])))
    holder = next(n for n in repo.target.list("packs/") if set(chunk) & {e.cid for e in repo.pack_entries(n)})
    lost = {e.cid for e in repo.pack_entries(holder)}
    hit, spared = split_by(node, lost)
    (target / holder).unlink()

    verify = run_cli(node, "backup", "verify", str(target))
    assert verify.code == 1 and f"DAMAGED {holder}: pack missing" in verify.out, str(verify)
    named = verify.out.split("files affected: ")[1].splitlines()[0].split(";")[0]
    assert {part.split()[0] for part in named.split(", ")} == hit and sha(made["File:Big.jpg"]) in hit, verify.out
    restored = run_cli(node, "backup", "restore", str(target), "--to", str(tmp_path / "r"))
    assert restored.code == 1, str(restored)
    assert set(held_files(tmp_path / "r")) == spared


def test_a_restore_hashes_each_block_once_and_the_door_still_refuses_unchecked_bytes(tmp_path, monkeypatch):
    """The pack reader checks each block against its CID (in its worker thread) and marks it checked; the
    ingest door takes that check instead of hashing the bytes a second time. A block that was not so
    checked is still hashed at the door and refused when its bytes are wrong."""
    node, made = media_node(tmp_path)
    target = tmp_path / "usb"
    backup(node, "init", str(target))
    backup(node, "run", str(target), env=PACKS_1M)
    hashed: Counter[bytes] = Counter()
    real = block_model.compute_cid

    def counting(data: bytes, codec: int) -> bytes:
        cid = real(data, codec)
        hashed[cid] += 1
        return cid

    monkeypatch.setattr(block_model, "compute_cid", counting)
    repo = open_repository(str(target), load_settings(node)[str(target)].key)
    report = restoring.restore(repo, repo.find(None), tmp_path / "r")
    assert not report.refused and not report.problems and not report.pages_differing, report
    chunks = [cid for cid in hashed if cid[1] == RAW]
    assert len(chunks) > 3 and all(hashed[cid] == 1 for cid in chunks), sorted(hashed.values())
    monkeypatch.undo()
    assert held_files(tmp_path / "r") == held_files(node)
    assert run_cli(tmp_path / "r", "fsck").code == 0

    good = raw_block(b"the bytes of a chunk")
    assert type(checked(good)) is CheckedBlock
    with pytest.raises(TamperedBlock):
        checked(Block(good.cid, b"other bytes"))
    buffer = bytearray(good.data)
    kept = checked(Block(good.cid, buffer))
    buffer[0] ^= 1  # a mutable buffer changed after its check does not change what was checked
    assert kept.data == good.data
    opened = Node.open(tmp_path / "r")
    try:
        forged = opened.ingest([Block(good.cid, b"other bytes")], "test")
    finally:
        opened.close()
    assert [s.state for s in forged.statuses] == ["rejected"] and forged.statuses[0].forged
