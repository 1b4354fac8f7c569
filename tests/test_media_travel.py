"""Files travel with every node-to-node channel: sync, fetch, bundles and the stick.

Real `wikipeer serve` processes on 127.0.0.1 and real bundles on disk. Files
are generated here: a JPEG of several MB (a small picture followed by random
bytes, so it is chunked), a re-upload with a small change that shares all
chunks but the one or two around the change, and an exact duplicate on another
page.
"""

from __future__ import annotations

import hashlib
import io
import random
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import run_cli, store_connect
from PIL import Image
from test_media import big_jpeg, image
from test_bad_peers import loopback_only, peers, source, victim  # noqa: F401 - fixtures: a lying peer
from test_stick import small_stick  # noqa: F401 - a fixture: a tmpfs of a given size
from test_sync import WIKI, Served, befriend, heads, make_nodes, object_cids, serve, stop_all

from wikipeer.authoring import edit
from wikipeer.formats.bundle import write_bundle
from wikipeer.formats.summary import Summary
from wikipeer.fsck import fsck
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import sign
from wikipeer.model.media import build_file, chunk_blocks
from wikipeer.model.objects import Page, Signature, build_page, build_signature, parse
from wikipeer.net import receive, stick
from wikipeer.net import sync as sync_module
from wikipeer.net.fetch import fetch_titles
from wikipeer.net.sync import PeerBanned, sync
from wikipeer.net.wire import COUNT_HEADER, NEXT_HEADER, car_chunks
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook
from wikipeer.store.wants import Wants
from wikipeer.uploading import file_blocks, upload

MB = 1 << 20


def changed(data: bytes, at: int) -> bytes:
    """``data`` with a few bytes changed at ``at``: a re-upload with a small change."""
    return data[:at] + bytes(b ^ 0x5A for b in data[at:at + 16]) + data[at + 16:]


def file_bytes(node: Node, title: str) -> bytes:
    info = node.store.current_file(node.store.page(WIKI, 6, title).id)
    return b"".join(node.store.file_chunks(info))


def chunk_count(directory: Path) -> int:
    with store_connect(directory) as conn:
        return conn.execute("SELECT count(*) FROM chunks").fetchone()[0]


def held(directory: Path) -> int:
    with store_connect(directory) as conn:
        return conn.execute("SELECT count(*) FROM held").fetchone()[0]


def assert_sound(*nodes: Served) -> None:
    for s in nodes:
        assert held(s.dir) == 0, f"{s.dir.name} still holds blocks waiting"
        checked, faults = fsck(s.node.store)
        assert faults == [], faults


PHOTO = big_jpeg(6, seed=11)
PHOTO_2 = changed(PHOTO, 3 * MB + 12345)


@pytest.fixture
def pair(tmp_path):
    """Node a with a page that shows a photo of several MB; node b empty; both served, each the other's peer."""
    nodes = make_nodes(tmp_path, 2)
    a = nodes[0]
    edit(a.node, WIKI, "Photos", "A photo: [[File:Photo.jpg|thumb|40px|The photo]]", "photos")
    upload(a.node, WIKI, "File:Photo.jpg", PHOTO, "first version")
    try:
        serve(nodes)
        befriend(nodes)
        yield nodes
    finally:
        stop_all(nodes)


# -- sync ------------------------------------------------------------------------------

def test_sync_carries_files_whose_chunks_span_log_pages_and_batches(pair, monkeypatch):
    a, b = pair
    # Log pages of 3 objects and ingest batches of 2 blocks or 1 MiB: a 6 MB file's chunks are
    # spread over many pages and batches, the file object in a later one than most of them.
    monkeypatch.setattr(sync_module, "LOG_LIMIT", 3)
    monkeypatch.setattr(receive, "BATCH_BLOCKS", 2)
    monkeypatch.setattr(receive, "BATCH_BYTES", MB)
    assert len(chunk_blocks(PHOTO)) >= 4
    first = sync(b.node, a.url)
    assert first.pulled.rejected == 0, first.pulled.reasons
    got = file_bytes(b.node, "Photo.jpg")
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(PHOTO).hexdigest()
    assert object_cids(a.dir) == object_cids(b.dir) and heads(a.dir) == heads(b.dir)

    # A re-upload with a small change, and the same bytes again on another page: only the
    # chunks around the change travel; the duplicate costs its file object alone.
    upload(a.node, WIKI, "File:Photo.jpg", PHOTO_2, "a small change")
    upload(a.node, WIKI, "File:Copy of photo.jpg", PHOTO, "the same photo")
    old = {c.cid for c in chunk_blocks(PHOTO)}
    new_bytes = sum(len(c.data) for c in chunk_blocks(PHOTO_2) if c.cid not in old)
    assert 0 < new_bytes < len(PHOTO_2) // 2
    chunks_before = chunk_count(b.dir)
    second = sync(b.node, a.url)
    assert second.pulled.rejected == 0, second.pulled.reasons
    assert chunk_count(b.dir) - chunks_before == len({c.cid for c in chunk_blocks(PHOTO_2)} - old)
    assert second.bytes_in < new_bytes + 64 * 1024, (second.bytes_in, new_bytes)
    assert hashlib.sha256(file_bytes(b.node, "Photo.jpg")).digest() == hashlib.sha256(PHOTO_2).digest()
    assert file_bytes(b.node, "Copy of photo.jpg") == PHOTO
    assert object_cids(a.dir) == object_cids(b.dir)
    assert_sound(a, b)

    # The receiver's page shows the image, and the image loads.
    page = b.client.get("/wiki/w/Photos").text
    found = re.search(r"<img src=\"(/thumb/w/40/Photo\.jpg\?v=[0-9a-f]{16})\"", page)
    assert found, page
    src = found.group(1)
    assert src.endswith(hashlib.sha256(PHOTO_2).hexdigest()[:16])
    thumb = b.client.get(src)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size[0] == 40
    original = b.client.get("/file/w/Photo.jpg")
    assert hashlib.sha256(original.content).hexdigest() == hashlib.sha256(PHOTO_2).hexdigest()


def test_push_carries_files_too_in_uploads_of_bounded_size(pair, monkeypatch):
    a, b = pair
    other = big_jpeg(2, seed=13)
    upload(a.node, WIKI, "File:Other.jpg", other, "another")
    monkeypatch.setattr(sync_module, "PUSH_BYTES", MB)
    result = sync(a.node, b.url, do_pull=False)
    assert result.push_refused == 0 and result.pushed > 0
    assert result.requests >= 3  # the descriptor, then uploads that each end after a file
    assert file_bytes(b.node, "Photo.jpg") == PHOTO and file_bytes(b.node, "Other.jpg") == other
    assert_sound(a, b)


# -- fetch: a partial node ------------------------------------------------------------

def test_a_partial_node_fetches_a_page_with_its_files(pair, tmp_path):
    a, _ = pair
    upload(a.node, WIKI, "File:Small.png", image("PNG", (40, 30)), "a small one")
    edit(a.node, WIKI, "Gallery", "<gallery>\nFile:Small.png|small\nNot here.png\n</gallery>", "g")
    c = make_nodes(tmp_path / "partial", 1, "c")[0]
    try:
        PeerBook(c.node.store).add(a.url)
        got = fetch_titles(c.node, WIKI, ["Photos"])
        assert got.pages == ["Photos"] and got.files == ["File:Photo.jpg"], got
        assert file_bytes(c.node, "Photo.jpg") == PHOTO
        again = fetch_titles(c.node, WIKI, ["Photos"])
        assert again.files == [] and not again.errors  # held already: nothing is asked twice
        gallery = fetch_titles(c.node, WIKI, ["Gallery"])
        assert gallery.files == ["File:Small.png"] and "File:Not here.png" in gallery.missing
        own = fetch_titles(c.node, WIKI, ["File:Small.png"])
        assert own.pages == ["File:Small.png"] and not own.errors
        assert_sound(c)
    finally:
        c.node.close()


def test_a_batch_never_ends_between_raw_blocks_and_the_object_after_them():
    from wikipeer.model.block import raw_block
    from wikipeer.model.objects import Page, build_page

    chunks = [raw_block(bytes([0xFF, n]) * 50) for n in range(5)]  # binary: no UTF-8
    page = build_page(Page(WIKI, 6, "X.jpg"))
    got = list(receive.batches([page, page, *chunks, page], size=2, max_bytes=150))
    # Full after two blocks, and past 150 bytes amid the chunks: it ends only after the object that follows them.
    assert [len(b) for b in got] == [2, 6] and got[1][-1] == page
    texts = [raw_block(b"text %d" % n) for n in range(4)]  # texts may wait for their revision: cut anywhere
    assert [len(b) for b in receive.batches(texts, size=2)] == [2, 2]


# -- bundles ----------------------------------------------------------------------------

# Bundles are compressed hard (zstd level 19): a lighter photo, still several chunks, keeps these tests fast.
LIGHT = big_jpeg(2.5, seed=12)
LIGHT_2 = changed(LIGHT, 2 * MB - 1000)

@pytest.fixture
def with_photo(tmp_path):
    """A node (not served) whose page shows a photo of some MB in two versions, and a page that shows none."""
    node = make_nodes(tmp_path / "src", 1, "a")[0]
    edit(node.node, WIKI, "Photos", "A photo: [[File:Photo.jpg|thumb|40px|The photo]]", "photos")
    edit(node.node, WIKI, "Plain", "no files here", "plain")
    upload(node.node, WIKI, "File:Photo.jpg", LIGHT, "first version")
    upload(node.node, WIKI, "File:Photo.jpg", LIGHT_2, "a small change")
    node.node.close()
    yield node.dir


def store_rows(directory: Path) -> tuple[int, int, int]:
    with store_connect(directory) as conn:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("objects", "files", "chunks"))


def fresh(directory: Path) -> Path:
    assert run_cli(directory, "init").code == 0
    return directory


def test_a_bundle_carries_files_and_a_bundle_of_pages_their_files(with_photo, tmp_path):
    whole, pages = tmp_path / "whole.car", tmp_path / "pages.car"
    assert run_cli(with_photo, "bundle", "create", "-o", str(whole)).code == 0
    made = run_cli(with_photo, "bundle", "create", "--wiki", WIKI, "--pages", "Photos", "-o", str(pages))
    assert made.code == 0, str(made)
    for bundle in (whole, pages):
        target = fresh(tmp_path / bundle.stem)
        result = run_cli(target, "bundle", "import", str(bundle))
        assert result.code == 0 and "0 refused" in result.out, str(result)
        node = Node.open(target)
        try:
            assert file_bytes(node, "Photo.jpg") == LIGHT_2
            versions = node.store.file_versions(node.store.page(WIKI, 6, "Photo.jpg").id)
            assert [hashlib.sha256(b"".join(node.store.file_chunks(v))).hexdigest() for v in versions] == \
                [hashlib.sha256(LIGHT_2).hexdigest(), hashlib.sha256(LIGHT).hexdigest()]
            assert (node.store.page(WIKI, 0, "Plain") is None) == (bundle == pages)
            assert fsck(node.store)[1] == []
        finally:
            node.close()
    assert store_rows(tmp_path / "whole")[1:] == store_rows(with_photo)[1:]  # every version, each chunk once


def test_a_truncated_bundle_or_one_with_a_bad_chunk_is_refused_whole(with_photo, tmp_path):
    whole = tmp_path / "whole.car"
    assert run_cli(with_photo, "bundle", "create", "-o", str(whole)).code == 0
    cut = tmp_path / "cut.car"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    target = fresh(tmp_path / "target")
    before = store_rows(target)
    result = run_cli(target, "bundle", "import", str(cut))
    assert result.code != 0 and "cut.car" in result.err and "Traceback" not in result.err, str(result)
    assert store_rows(target) == before and list((target / "store.packs").glob("*.pack")) == []

    # A chunk whose bytes are not those its CID names, in a bundle signed by a real node.
    node = Node.open(with_photo)
    try:
        info = node.store.current_file(node.store.page(WIKI, 6, "Photo.jpg").id)
        blocks = [node.store.get_block(c) for c in info.chunks]
        blocks[1] = type(blocks[1])(blocks[1].cid, blocks[1].data[:-1] + b"\x00")
        bad = tmp_path / "bad-chunk.car"
        with bad.open("wb") as f:
            write_bundle(f, [*blocks, node.store.get_block(info.cid)], node.keyring.signing_key(NODE_KEY),
                         node.keyring.get(NODE_KEY).public)
    finally:
        node.close()
    result = run_cli(target, "bundle", "import", str(bad))
    assert result.code != 0 and "bad-chunk.car" in result.err and "block 2" in result.err, str(result)
    assert store_rows(target) == before
    assert fsck(Node.open(target).store)[1] == []


def test_a_file_whose_chunks_do_not_make_its_sha256_is_refused_from_a_bundle(tmp_path):
    node = make_nodes(tmp_path / "maker", 1, "m")[0].node
    try:
        key, me = node.keyring.signing_key(node.user_key().name), node.user_key().public
        good = file_blocks(Page(WIKI, 6, "Photo.jpg"), LIGHT, 1_000, key, me, "photo")
        other = chunk_blocks(LIGHT_2)
        record = parse(good[-2], 1 << 30)
        forged = build_file(replace(record, chunks=tuple(c.cid for c in other)))  # LIGHT_2's chunks, LIGHT's hash
        sig = build_signature(Signature(forged.cid, "author", me, sign(key, forged.cid, "author")))
        bundle = tmp_path / "wrong-list.car"
        with bundle.open("wb") as f:
            write_bundle(f, [build_page(Page(WIKI, 6, "Photo.jpg")), *other, forged, sig],
                         node.keyring.signing_key(NODE_KEY), node.keyring.get(NODE_KEY).public)
    finally:
        node.close()
    target = fresh(tmp_path / "target")
    before = store_rows(target)
    result = run_cli(target, "bundle", "import", str(bundle))
    assert result.code == 1 and "wrong-list.car" in result.out, str(result)
    assert f"not the {len(LIGHT)} bytes with SHA-256 {hashlib.sha256(LIGHT).hexdigest()}" in result.out, str(result)
    assert store_rows(target)[1:] == before[1:] == (0, 0)  # no file, no chunk: nothing half-written
    assert list((target / "store.packs").glob("*.pack")) == [] or all(
        p.stat().st_size == 0 for p in (target / "store.packs").glob("*.pack"))
    assert fsck(Node.open(target).store)[1] == []


# -- the stick ---------------------------------------------------------------------------

def test_the_stick_carries_files_and_a_stick_with_room_only_for_text_says_so(tmp_path, small_stick):
    village, town = (n.node for n in make_nodes(tmp_path, 2, ["village", "town"]))
    try:
        small = image("PNG", (40, 30), seed=3)
        edit(town, WIKI, "Photos", "[[File:Photo.jpg|thumb|40px|The photo]] and [[File:Small.png]]", "photos")
        upload(town, WIKI, "File:Photo.jpg", PHOTO, "a big photo")
        upload(town, WIKI, "File:Other.png", image("PNG", (20, 10), seed=4), "asked for by its hash")
        upload(town, WIKI, "File:Small.png", small, "a small one")
        other = town.store.current_file(town.store.page(WIKI, 6, "Other.png").id).sha256
        upload(village, WIKI, "File:Village.png", image("PNG", (30, 20), seed=5), "made in the village")
        Wants(village.store).add_titles(WIKI, ["Photos"])
        Wants(village.store).add_files([other])

        # Room for the text and the small files, not for a photo of several MB.
        tight = small_stick("tight", "2m")
        stick.init_stick(tight)
        stick.home(village, tight)
        served = stick.serve(town, tight)
        if not falsely_held(tight, town, "Photo.jpg", whole=True):  # else not tried, so not left (1 in 2,000)
            assert served.files_left == 1 and served.file_bytes_left == len(PHOTO), served
            assert "1 files (6.3 MB) left for the next trip (no room)" in served.sentence(), served.sentence()
            assert any("no room on the stick for 1 files" in p and "all the text went" in p for p in served.problems)
        # A file home's summary falsely says it holds (one query in 2,000) waits a trip: formats/summary.py.
        lagging = {title for title in ("Small.png", "Other.png") if falsely_held(tight, town, title)}
        back = stick.home(village, tight)
        assert village.store.page(WIKI, 0, "Photos") is not None  # all the text came
        assert "Small.png" in lagging or file_bytes(village, "Small.png") == small
        assert "Other.png" in lagging or village.store.file_by_sha256(other) is not None
        assert village.store.page(WIKI, 6, "Photo.jpg") is None or \
            village.store.current_file(village.store.page(WIKI, 6, "Photo.jpg").id) is None
        other_late = "Other.png" in lagging
        assert back.met == 1 - other_late and len(Wants(village.store).open()) == 1 + other_late  # Photos again
        assert town.store.page(WIKI, 6, "Village.png") is not None  # the village's upload went out
        assert b"".join(town.store.file_chunks(town.store.current_file(
            town.store.page(WIKI, 6, "Village.png").id))) == image("PNG", (30, 20), seed=5)

        # A larger stick on the next trip brings the photo (and what a false "holds" kept back).
        roomy = small_stick("roomy", "20m")
        stick.init_stick(roomy)
        stick.home(village, roomy)
        again = stick.serve(town, roomy)
        assert again.files_left == 0 and again.files_out == 1 + len(lagging), again  # only what home lacks
        assert stick.home(village, roomy).met == 1 + ("Other.png" in lagging)
        assert file_bytes(village, "Photo.jpg") == PHOTO
        assert file_bytes(village, "Small.png") == small and village.store.file_by_sha256(other) is not None
        assert Wants(village.store).open() == []
        for node in (village, town):
            assert fsck(node.store)[1] == []
    finally:
        village.close()
        town.close()


def test_a_chunk_the_summary_falsely_claims_keeps_the_request_open_until_a_trip_brings_it(tmp_path, small_stick,
                                                                                          monkeypatch):
    """A false "home holds this chunk" sends the file without it; the page's request stays open (it used to
    count as met, and the file never came), and the next trip, with a new summary, brings the whole file."""
    village, town = (n.node for n in make_nodes(tmp_path, 2, ["village", "town"]))
    try:
        edit(town, WIKI, "Photos", "[[File:Photo.jpg|thumb|40px|The photo]]", "photos")
        upload(town, WIKI, "File:Photo.jpg", PHOTO, "a big photo")
        Wants(village.store).add_titles(WIKI, ["Photos"])
        chunk = town.store.current_file(town.store.page(WIKI, 6, "Photo.jpg").id).chunks[1]
        honest = Summary.__contains__
        monkeypatch.setattr(Summary, "__contains__", lambda summary, cid: cid == chunk or honest(summary, cid))
        roomy = small_stick("roomy", "20m")
        stick.init_stick(roomy)
        stick.home(village, roomy)
        assert stick.serve(town, roomy).files_out == 1  # without that chunk
        assert stick.home(village, roomy).met == 0 and len(Wants(village.store).open()) == 1
        monkeypatch.setattr(Summary, "__contains__", honest)  # the next trip's summary has a new salt
        assert stick.serve(town, roomy).files_out == 1
        assert stick.home(village, roomy).met == 1 and Wants(village.store).open() == []
        assert file_bytes(village, "Photo.jpg") == PHOTO
    finally:
        village.close()
        town.close()


def falsely_held(path: Path, server: Node, title: str, whole: bool = False) -> bool:
    """Whether the summary of home on the stick at ``path`` says home holds the file ``title`` of ``server``
    (``whole``: the file itself, which is then not sent at all), or else one of its chunks (the file goes
    without it), when home holds none of them: a Bloom filter's false positive."""
    summary = Summary.from_bytes((path / "requests" / stick.SUMMARY).read_bytes())
    info = server.store.current_file(server.store.page(WIKI, 6, title).id)
    return info.cid in summary or (not whole and any(c in summary for c in info.chunks))


# -- bad input from a peer ------------------------------------------------------------------

def media_rows(node: Node) -> tuple[int, int, int]:
    count = node.store.conn.execute
    return tuple(count(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("files", "chunks", "held"))


def test_a_peer_that_sends_a_chunk_that_does_not_match_is_banned_and_nothing_of_the_file_kept(source, victim, peers):
    upload(source, "w", "File:Photo.jpg", PHOTO, "a photo")
    chunks = source.store.current_file(source.store.page("w", 6, "Photo.jpg").id).chunks
    fake = peers(source)

    def tamper(blocks: list[Block]) -> Iterator[Block]:
        for b in blocks:
            yield Block(b.cid, b.data[:-1] + bytes([b.data[-1] ^ 1])) if b.cid == chunks[1] else b

    fake.tamper = tamper
    PeerBook(victim.store).add(fake.url)
    with pytest.raises(PeerBanned) as failure:
        sync(victim, fake.url, do_push=False)
    message = str(failure.value)
    assert fake.url in message and cid_to_str(chunks[1]) in message and "do not hash to this CID" in message, message
    assert media_rows(victim) == (0, 0, 0)  # the file waited for the genuine chunk; the ban dropped it
    assert fsck(victim.store)[1] == []


def test_a_file_whose_chunks_do_not_make_its_sha256_is_refused_from_a_peer(source, victim, peers):
    fake = peers(source)
    stranger = Node.init(victim.dir.parent / "stranger")
    try:
        key, me = stranger.keyring.signing_key(NODE_KEY), stranger.keyring.get(NODE_KEY).public
    finally:
        stranger.close()
    made = file_blocks(Page("w", 6, "Photo.jpg"), PHOTO, 1_000, key, me)
    other = chunk_blocks(PHOTO_2)
    forged = build_file(replace(parse(made[-2], 1 << 30), chunks=tuple(c.cid for c in other), author=None))
    sig = build_signature(Signature(forged.cid, "node", me, sign(key, forged.cid, "node")))
    blocks = [build_page(Page("w", 6, "Photo.jpg")), *other, forged, sig]

    def wrong_list(h, query: dict, body: bytes) -> None:
        since = int(query.get("since", ["0"])[0])
        h.send_stream(car_chunks(blocks if since == 0 else []),
                      {NEXT_HEADER: str(len(blocks)), COUNT_HEADER: str(len(blocks) if since == 0 else 0)})

    fake.routes["/api/v1/log"] = wrong_list
    PeerBook(victim.store).add(fake.url)
    result = run_cli(victim.dir, "sync", "--pull")
    reasons = result.out.replace("\n", " ")
    assert result.code == 0 and f"{fake.url}: refused {cid_to_str(forged.cid)}: rejected" in reasons, str(result)
    assert f"not the {len(PHOTO)} bytes with SHA-256 {hashlib.sha256(PHOTO).hexdigest()}" in reasons, reasons
    assert PeerBook(victim.store).get(fake.url).we_refused >= 1 and PeerBook(victim.store).get(fake.url).banned is None
    assert media_rows(victim) == (0, 0, 0) and victim.store.page("w", 6, "Photo.jpg") is None
    assert fsck(victim.store)[1] == []


def test_want_asks_for_a_file_by_its_sha256(node_dir):
    bad = run_cli(node_dir, "want", "--file", "not-a-hash")
    assert bad.code == 2 and "64 hex digits" in bad.err and "Traceback" not in bad.err, str(bad)
    sha = hashlib.sha256(PHOTO).hexdigest()
    made = run_cli(node_dir, "want", "--file", sha.upper())
    assert made.code == 0 and f"SHA-256 {sha[:16]}" in made.out, str(made)
    node = Node.open(node_dir)
    try:
        assert [w.files for w in Wants(node.store).open()] == [(sha,)]
    finally:
        node.close()


def test_a_scoped_log_carries_the_files_of_its_pages_each_chunk_once(node):
    from wikipeer.store import log

    upload(node, "w", "File:Photo.jpg", PHOTO, "one")
    upload(node, "w", "File:Photo.jpg", PHOTO_2, "two")
    edit(node, "w", "Elsewhere", "no files", "x")
    file_page = node.store.page("w", 6, "Photo.jpg")
    ids = log.positions(node.store, 0, 10_000, log.Scope(pages=(file_page.cid,)))
    blocks = list(log.read(node.store, ids))
    got = {b.cid for b in blocks}
    versions = node.store.file_versions(file_page.id)
    assert {v.cid for v in versions} <= got and all(s.cid in got for v in versions for s in v.sigs)
    wanted = {c for v in versions for c in v.chunks}
    assert wanted <= got and len([b for b in blocks if b.cid in wanted]) == len(wanted)  # each chunk once
    assert node.store.page("w", 0, "Elsewhere").cid not in got
    for v in versions:  # every chunk before the file that names it
        position = [b.cid for b in blocks].index(v.cid)
        assert all([b.cid for b in blocks].index(c) < position for c in v.chunks)
    # A page of the log never ends between a file's chunks and the file.
    whole = log.positions(node.store, 0, 10_000)
    first_chunk = node.store.object_id(versions[-1].chunks[0])
    page = log.positions(node.store, first_chunk - 1, 1)
    start = whole.index(first_chunk)
    assert node.store.object_id(versions[-1].cid) in page and page == whole[start:start + len(page)]


def test_query_describes_files_and_a_binary_chunk_without_failing(node):
    from wikipeer.net import rpc
    from wikipeer.net.methods import Api

    upload(node, "w", "File:Photo.jpg", PHOTO, "one")
    info = node.store.current_file(node.store.page("w", 6, "Photo.jpg").id)
    page = node.store.page("w", 6, "Photo.jpg")

    def query(*params) -> list:
        answer = rpc.handle(Api(node).methods(), json.dumps({"jsonrpc": "2.0", "method": "query",
                                                             "params": list(params), "id": 1}).encode())
        assert "result" in answer, answer
        return answer["result"]

    assert query([cid_to_str(page.cid)], ["files"])[0]["files"] == [info.cid_str]
    described = query([info.cid_str])[0]
    assert described["type"] == "file" and described["sha256"] == info.sha256
    assert described["chunks"] == [cid_to_str(c) for c in info.chunks]
    assert [s["id"] for s in described["signatures"]] == [cid_to_str(s.cid) for s in info.sigs]
    chunk = query([cid_to_str(info.chunks[0])], ["data", "size"])[0]
    assert chunk["type"] == "text" and "data" not in chunk and chunk["size"] > 0


def test_a_chunk_that_reads_as_text_cut_from_its_file_waits_and_is_taken_with_it(node):
    filler = "".join(random.Random(5).choices("abcdefghij klmnop\n", k=int(1.5 * MB)))
    svg = (f'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
           f'<desc>{filler}</desc><rect width="20" height="10" fill="#36c"/></svg>').encode()
    key, me = node.keyring.signing_key(node.user_key().name), node.user_key().public
    made = file_blocks(Page("w", 6, "Big.svg"), svg, 1_000, key, me, "a large drawing")
    chunks, rest = made[:-2], made[-2:]
    assert len(chunks) >= 2 and all(b.data.decode("utf-8") for b in chunks)
    first = node.ingest([build_page(Page("w", 6, "Big.svg")), *chunks], "peer:x")
    assert {s.state for s in first.statuses} == {"held"}  # texts, as far as this batch can tell
    node.ingest(rest, "peer:x")
    assert file_bytes(node, "Big.svg") == svg
    assert media_rows(node)[2] == 0 and fsck(node.store)[1] == []
