"""Texts as deltas on the wire (issue 15, item 5), between real served nodes.

A log response sends a text as a zstd frame against its parent's text when
the caller says it holds that text (``pack=1&holds=N``: it took the peer's
log up to N). The receiver rebuilds the text from its own copy, and the
rebuilt block goes through the ingest door with the CID the delta names.
A caller that does not ask gets the plain CAR of whole blocks it always got.
"""

from __future__ import annotations

import io
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import zstandard
from conftest import start_server, stop_server, store_db

from wikipeer.authoring import edit
from wikipeer.formats.car import CarError, CarReader
from wikipeer.formats.carpack import MAGIC as PACK_MAGIC
from wikipeer.fsck import fsck
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW, cid_codec, cid_to_str, compute_cid
from wikipeer.net.sync import PeerBanned, sync
from wikipeer.net.wire import (CAR_ZSTD, COUNT_HEADER, DELTA_NEXT, NEXT_HEADER, PACK_ZSTD, Base, DeltaPacker, DeltaReader,
                               HoldsNothing, delta_frame, pack_chunks, read_log)
from wikipeer.node import Node
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.store.peers import PeerBook

WIKI = "w"
PAGES = 8


def prose(rng: random.Random, sentences: int) -> str:
    """Lines of pseudo-prose: texts that compress like writing, each sentence different."""
    words = ["river", "stone", "market", "winter", "harbour", "letter", "garden", "tower", "engine", "valley",
             "copper", "signal", "island", "bridge", "forest", "number", "window", "silver", "meadow", "lantern"]
    return "".join(" ".join(rng.choice(words) + str(rng.randrange(1000)) for _ in range(12)) + ".\n"
                   for _ in range(sentences))


def one_sentence_changed(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    lines[len(lines) // 2] = prose(rng, 1).strip()
    return "\n".join(lines)


@pytest.fixture
def served(tmp_path):
    """A source node with PAGES pages of ~5 KB, served by `wikipeer serve`: (node, url, texts by title)."""
    rng = random.Random(7)
    node = Node.init(tmp_path / "source")
    node.user_key()
    node.wiki(WIKI)
    texts = {}
    for i in range(PAGES):
        texts[f"Page {i}"] = prose(rng, 50)
        edit(node, WIKI, f"Page {i}", texts[f"Page {i}"], "first")
    proc, client = start_server(tmp_path / "source")
    try:
        yield node, str(client.base_url).rstrip("/"), texts
    finally:
        stop_server(proc, client)
        node.close()


def receiver(root: Path, name: str, url: str) -> Node:
    node = Node.init(root / name)
    node.user_key()
    PeerBook(node.store).add(url)
    return node


def stored(node: Node) -> dict[bytes, bytes]:
    """Every object of a store, CID -> bytes as the store gives them back."""
    with store_db(node.dir) as conn:
        cids = [bytes(r[0]) for r in conn.execute("SELECT cid FROM objects")]
    return {c: node.store.get_block(c).data for c in cids}


def edit_some(node: Node, texts: dict[str, str], titles: list[str], seed: int = 3) -> None:
    rng = random.Random(seed)
    for title in titles:
        texts[title] = one_sentence_changed(rng, texts[title])
        edit(node, WIKI, title, texts[title], "one sentence")


def log_body(url: str, **params) -> tuple[str, bytes]:
    """A raw log response: (content type, inflated body)."""
    response = httpx.get(f"{url}/api/v1/log?{urlencode(params)}", timeout=30)
    assert response.status_code == 200, response.text
    body = zstandard.ZstdDecompressor().decompressobj().decompress(response.content)
    return response.headers["content-type"], body


def test_an_incremental_sync_sends_deltas_and_stores_what_whole_texts_give(served, tmp_path):
    source, url, texts = served
    node = receiver(tmp_path, "a", url)
    first = sync(node, url)
    assert first.deltas == 0  # a clone holds nothing to send texts against
    cursor = PeerBook(node.store).get(url).pull_cursor

    edit_some(source, texts, [f"Page {i}" for i in range(PAGES)])
    result = sync(node, url)
    assert result.pulled.accepted == 3 * PAGES and result.pulled.rejected == 0, result.pulled.reasons
    assert result.deltas == PAGES

    # The same part of the log as whole blocks (what an older node asks for) is far larger.
    params = {"since": cursor, "limit": 10_000}
    whole = httpx.get(f"{url}/api/v1/log?{urlencode(params)}", timeout=30).content
    assert result.bytes_in * 4 < len(whole), (result.bytes_in, len(whole))

    # A node that took everything whole, after the edits, holds exactly the same.
    other = receiver(tmp_path, "b", url)
    clone = sync(other, url)
    assert clone.deltas == 0
    assert stored(node) == stored(other)
    for title, text in texts.items():
        assert node.store.revision_text(node.store.heads(node.store.page(WIKI, 0, title).id)[0]) == text
    checked, faults = fsck(node.store)
    assert not faults and checked == len(stored(node))


def test_a_peer_that_does_not_ask_gets_whole_texts(served, tmp_path):
    source, url, texts = served
    node = receiver(tmp_path, "a", url)
    sync(node, url)
    cursor = PeerBook(node.store).get(url).pull_cursor
    edit_some(source, texts, ["Page 0", "Page 1"])

    kind, body = log_body(url, since=cursor, limit=100)  # no pack, no holds: as an older node asks
    assert kind == CAR_ZSTD
    blocks = list(CarReader(io.BytesIO(body)))
    new_texts = {b.data.decode() for b in blocks if cid_codec(b.cid) == RAW}
    assert new_texts == {texts["Page 0"], texts["Page 1"]}
    assert all(compute_cid(b.data, cid_codec(b.cid)) == b.cid for b in blocks)

    # Packed but without saying what it holds: no text comes as a delta.
    kind, body = log_body(url, since=cursor, limit=100, pack=1)
    assert kind == PACK_ZSTD
    reader = read_log(io.BytesIO(body), kind, 1 << 24, node.store, MAX_TEXT)
    assert [b.cid for b in reader] == [b.cid for b in blocks]
    assert reader.rebuilt == 0 and reader.unbuilt == []


def test_a_delta_against_a_text_the_receiver_lacks_is_never_sent(served, tmp_path):
    source, url, texts = served
    node = receiver(tmp_path, "a", url)
    sync(node, url)
    cursor = PeerBook(node.store).get(url).pull_cursor
    # Page 0 edited twice: its second text's parent is the first edit, which the receiver lacks.
    edit_some(source, texts, ["Page 0", "Page 1"], seed=3)
    second = texts["Page 0"]
    edit_some(source, texts, ["Page 0"], seed=4)
    asked: list[bytes] = []

    class Asked:
        """The receiver's store, noting which bases (texts, or revisions whose text) the deltas asked for."""

        def raw_bytes(self, cid: bytes) -> bytes | None:
            asked.append(cid)
            return node.store.raw_bytes(cid)

        def revision_text_bytes(self, cid: bytes) -> bytes | None:
            asked.append(cid)
            return node.store.revision_text_bytes(cid)

    kind, body = log_body(url, since=cursor, limit=100, pack=1, holds=cursor)
    reader = DeltaReader(io.BytesIO(body[8:]), 1 << 24, Asked(), MAX_TEXT)
    blocks = list(reader)
    assert reader.rebuilt == 2 and reader.unbuilt == []  # Page 0's first edit and Page 1's
    assert all(node.store.object_id(c) is not None for c in asked)
    assert {b.data.decode() for b in blocks if cid_codec(b.cid) == RAW} == {second, texts["Page 0"], texts["Page 1"]}

    # Claiming to hold less than the bases: everything whole.
    kind, body = log_body(url, since=cursor, limit=100, pack=1, holds=1)
    reader = DeltaReader(io.BytesIO(body[8:]), 1 << 24, Asked(), MAX_TEXT)
    assert len(list(reader)) == len(blocks) and reader.rebuilt == 0 and reader.unbuilt == []

    result = sync(node, url)
    assert result.deltas == 2 and result.pulled.accepted == 9
    assert node.store.revision_text(node.store.heads(node.store.page(WIKI, 0, "Page 0").id)[0]) == texts["Page 0"]


def test_no_delta_against_a_text_taken_without_its_revision(served, tmp_path):
    """A page of the log that ended between a text and its revision left the text waiting at the
    receiver, not stored: though at or before ``holds``, it is no base (found in a 20,000-revision clone)."""
    source, url, texts = served
    head = source.store.heads(source.store.page(WIKI, 0, "Page 5").id)[0]
    cut = source.store.object_id(head.text)  # the caller took the log up to the text, not its revision
    edit_some(source, texts, ["Page 5"])
    kind, body = log_body(url, since=cut, limit=100, pack=1, holds=cut)
    reader = read_log(io.BytesIO(body), kind, 1 << 24, HoldsNothing(), MAX_TEXT)
    blocks = list(reader)
    assert reader.rebuilt == 0 and reader.unbuilt == []  # nothing was sent as a delta
    assert texts["Page 5"].encode() in {b.data for b in blocks}


def test_a_delta_whose_base_is_missing_after_all_is_left_out_not_guessed(served, tmp_path):
    """A receiver whose claim was wrong (here: a new node sending another's cursor) cannot rebuild a
    delta: the text is left out (the revision that needs it waits for it, and it is asked for by
    CID, whole, like any missing block), and what follows still reads right, the text's CID included."""
    source, url, texts = served
    node = receiver(tmp_path, "a", url)
    sync(node, url)
    cursor = PeerBook(node.store).get(url).pull_cursor
    edit_some(source, texts, ["Page 2"])
    head = source.store.heads(source.store.page(WIKI, 0, "Page 2").id)[0]
    fresh = receiver(tmp_path, "b", url)
    kind, body = log_body(url, since=cursor, limit=100, pack=1, holds=cursor)
    reader = read_log(io.BytesIO(body), kind, 1 << 24, fresh.store, MAX_TEXT)
    blocks = list(reader)
    assert reader.unbuilt == [head.text] and reader.rebuilt == 0
    assert [b.cid for b in blocks] == [head.cid, head.sigs[0].cid]  # the revision still names its text
    assert all(compute_cid(b.data, cid_codec(b.cid)) == b.cid for b in blocks)
    with httpx.Client(base_url=url, timeout=30) as client:  # what the receiver then asks for
        answer = client.post("/api/v1/blocks", json={"cids": [cid_to_str(head.text)]})
    got = list(CarReader(io.BytesIO(zstandard.ZstdDecompressor().decompressobj().decompress(answer.content))))
    assert [(b.cid, b.data) for b in got] == [(head.text, texts["Page 2"].encode())]


# -- a peer whose deltas lie ----------------------------------------------------------


class Liar(BaseHTTPRequestHandler):
    """Answers as the real node at ``upstream`` does, but sends one text as a delta that rebuilds other bytes."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    source: Node | None = None
    target: bytes = b""  # the text to lie about
    base_cid: bytes = b""  # its parent's text, which the receiver holds
    rev: bytes | None = None  # the revision that names it (its base then goes unnamed), or None

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/api/v1/log":
            return self._relay(httpx.get(self.upstream + self.path, timeout=30))
        query = {k: v for k, v in parse_qs(parts.query).items() if k not in ("pack", "holds")}
        real = httpx.get(f"{self.upstream}/api/v1/log?{urlencode(query, doseq=True)}", timeout=30)
        blocks = CarReader(io.BytesIO(zstandard.ZstdDecompressor().decompressobj().decompress(real.content)))
        lying = (Block(b.cid, b.data.replace(b"river", b"RIVER")) if b.cid == self.target else b for b in blocks)
        store = self.source.store

        def base(cid: bytes) -> Base | None:
            return Base(self.base_cid, store.raw_bytes(self.base_cid), self.rev) if cid == self.target else None

        body = b"".join(pack_chunks(lying, base))
        self.send_response(200)
        self.send_header("content-type", PACK_ZSTD)
        self.send_header("content-length", str(len(body)))
        self.send_header(NEXT_HEADER, real.headers[NEXT_HEADER])
        self.send_header(COUNT_HEADER, real.headers[COUNT_HEADER])
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self._relay(httpx.post(self.upstream + self.path, content=body, timeout=30,
                               headers={"content-type": self.headers.get("content-type", "")}))

    def _relay(self, response: httpx.Response) -> None:
        self.send_response(response.status_code)
        self.send_header("content-type", response.headers.get("content-type", "application/json"))
        self.send_header("content-length", str(len(response.content)))
        self.end_headers()
        self.wfile.write(response.content)


@pytest.mark.parametrize("base_named", [True, False])
def test_a_delta_that_does_not_rebuild_its_text_is_refused_and_nothing_of_it_stored(served, tmp_path, base_named):
    source, url, texts = served
    node = receiver(tmp_path, "a", url)
    sync(node, url)
    edit_some(source, texts, ["Page 3"])
    page = source.store.page(WIKI, 0, "Page 3").id
    head = source.store.heads(page)[0]
    parent = source.store.revision(head.parents[0])

    handler = type("Handler", (Liar,), {"upstream": url, "source": source, "target": head.text,
                                        "base_cid": parent.text, "rev": None if base_named else head.cid})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    liar = f"http://127.0.0.1:{server.server_port}"
    try:
        PeerBook(node.store).add(liar)
        with pytest.raises(PeerBanned) as failure:
            sync(node, liar)
    finally:
        server.shutdown()
        server.server_close()
    message = str(failure.value)
    target = handler.target
    assert liar in message and cid_to_str(target) in message and "do not hash to this CID" in message, message
    assert node.store.object_id(target) is None
    assert target not in node.store.still_held([target])
    assert node.store.object_id(head.cid) is None
    assert PeerBook(node.store).get(liar).banned
    checked, faults = fsck(node.store)
    assert not faults


def test_a_delta_not_followed_by_the_revision_that_names_it_is_a_broken_stream(served, tmp_path):
    """A 0x03 delta's base is found through the revision after it: anything else there is refused by name."""
    source, _url, _texts = served
    head = source.store.heads(source.store.page(WIKI, 0, "Page 4").id)[0]
    text = source.store.get_block(head.text)
    packer = DeltaPacker(lambda cid: None)
    stream = packer.header([]) + packer._delta(DELTA_NEXT, text.cid, delta_frame(text.data, b"x" * 100))
    stream += packer.section(source.store.get_block(head.sigs[0].cid))  # a signature, not the revision
    reader = DeltaReader(io.BytesIO(stream[len(PACK_MAGIC):]), 1 << 24, source.store, MAX_TEXT)
    with pytest.raises(CarError, match="is not followed by the revision that names its text"):
        list(reader)
