"""Hostile peers: every way a peer can lie or stall, against a real node.

A hostile peer here is a real HTTP server on 127.0.0.1 (a random port, in a
thread) that answers the inter-node API from a real node's store, then
breaks one thing: a block whose bytes do not match its CID, a forged
signature, an endless stream, a 10 GB declared length, slow answers,
malformed JSON-RPC, redirect loops, redirects off this machine. The victim is
a real node (its real SQLite store); it syncs with the real client code.

Each fault must end the exchange cleanly with a message that names the peer;
the victim keeps only verified objects (fsck clean, the bad CID absent); the
peer is banned exactly when the fault is proof of malice (a forgery), and
not for what could be an accident (a slow or broken connection).

Nothing here may connect anywhere but 127.0.0.1: a guard on socket.connect
fails the test at once if any code tries.
"""

from __future__ import annotations

import itertools
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import run_cli

from wikipeer.authoring import edit
from wikipeer.fsck import fsck
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW, cid_codec
from wikipeer.model.keys import sign
from wikipeer.model.objects import Signature, build_signature, build_text, parse
from wikipeer.net import redirects, rpc
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.descriptor import signed_descriptor
from wikipeer.net.fetch import fetch_titles
from wikipeer.net.methods import Api
from wikipeer.net.receive import BATCH_BLOCKS
from wikipeer.net.redirects import MAX_ADDRESSES, RETRIES, ask
from wikipeer.net.sync import PeerBanned, SyncResult, pull, sync
from wikipeer.net.wire import CAR_ZSTD, COUNT_HEADER, NEXT_HEADER, car_chunks
from wikipeer.node import Node
from wikipeer.store import log
from wikipeer.store.peers import PeerBook

TEN_GB = 10 * 1024 ** 3
OFF_MACHINE = "http://203.0.113.7:8080"  # TEST-NET-3: documentation only, and never dialled (see the guard)


# -- the guard: only 127.0.0.1 ------------------------------------------------

@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail any attempt of this process to connect anywhere but 127.0.0.1; only our peers are allowed."""
    attempts: list = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address) -> None:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::ffff:127.0.0.1"):
            attempts.append(address)
            raise AssertionError(f"a test tried to connect to {address}")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setenv("WIKIPEER_ALLOW_HOSTS", "127.0.0.1")
    yield attempts
    assert not attempts, f"connections off this machine were attempted: {attempts}"


# -- a hostile peer --------------------------------------------------------------

Route = Callable[["Handler", dict, bytes], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:  # quiet
        pass

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("content-length") or 0)) if self.command == "POST" else b""
        peer = self.server.peer
        with peer.lock:
            peer.hits[parts.path] += 1
        route = peer.routes.get(parts.path)
        try:
            if route is None:
                self.send_json({"error": "no such route"}, status=404)
            else:
                route(self, parse_qs(parts.query), body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the victim hung up, as it should when it has read enough

    do_GET = do_POST = _dispatch

    def send_json(self, value, status: int = 200, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_stream(self, chunks: Iterable[bytes], headers: dict[str, str] | None = None) -> None:
        """A chunked response, written as the chunks come (an endless iterable never ends by itself)."""
        self.send_response(200)
        self.send_header("content-type", CAR_ZSTD)
        self.send_header("transfer-encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        for chunk in chunks:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    peer: FakePeer


class FakePeer:
    """A peer on 127.0.0.1 that answers from ``source``'s real store through ``routes``, each replaceable."""

    def __init__(self, source: Node | None = None) -> None:
        self.source = source
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends every answer that waits
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.peer = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.tamper: Callable[[list[Block]], Iterable[Block]] = lambda blocks: blocks
        self.routes: dict[str, Route] = {"/api/v1/node": self.node, "/api/v1/log": self.log,
                                         "/api/v1/blocks": self.blocks, "/rpc": self.rpc}
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # Honest answers, read from the source node's store.

    def node(self, h: Handler, query: dict, body: bytes) -> None:
        h.send_json(signed_descriptor(self.source, self.url))

    def log_blocks(self, query: dict) -> tuple[list[int], list[Block]]:
        since, limit = int(query.get("since", ["0"])[0]), int(query.get("limit", ["10000"])[0])
        ids = log.positions(self.source.store, since, limit)
        skip = [tuple(int(x) for x in r.split("-")) for r in query.get("skip", [])]
        return ids, list(log.read(self.source.store, log.outside(ids, skip)))

    def log(self, h: Handler, query: dict, body: bytes) -> None:
        ids, blocks = self.log_blocks(query)
        since = int(query.get("since", ["0"])[0])
        h.send_stream(car_chunks(self.tamper(blocks)),
                      {NEXT_HEADER: str(ids[-1] if ids else since), COUNT_HEADER: str(len(ids))})

    def blocks(self, h: Handler, query: dict, body: bytes) -> None:
        from wikipeer.model.cid import cid_from_str
        found = [self.source.store.get_block(cid_from_str(c)) for c in json.loads(body)["cids"]]
        h.send_stream(car_chunks(self.tamper([b for b in found if b is not None])))

    def rpc(self, h: Handler, query: dict, body: bytes) -> None:
        h.send_json(rpc.handle(Api(self.source).methods(), body))


@pytest.fixture
def source(tmp_path) -> Node:
    """A real node with a few pages of signed history: what honest answers are made of."""
    node = Node.init(tmp_path / "source")
    for p in range(4):
        for r in range(3):
            edit(node, "w", f"Page {p}", f"Page {p}, revision {r}: " + "words " * (20 + r), f"r{r}", ts=1_000 + r)
    yield node
    node.close()


@pytest.fixture
def victim(tmp_path) -> Node:
    """The node under attack: real store, real keys."""
    node = Node.init(tmp_path / "victim")
    edit(node, "w", "Victim's own page", "Written here.\n", "mine")
    yield node
    node.close()


@pytest.fixture
def peers():
    made: list[FakePeer] = []

    def make(source: Node | None = None) -> FakePeer:
        made.append(FakePeer(source))
        return made[-1]

    yield make
    for peer in made:
        peer.close()


def cids(node: Node) -> set[bytes]:
    return {r[0] for r in node.store.conn.execute("SELECT cid FROM objects")}


def ban_objects(node: Node) -> set[bytes]:
    """The node's bans and their signatures."""
    bans = {c for c, _ in node.store.bans()}
    ids = [node.store.object_id(c) for c in bans]
    sigs = {r[0] for r in node.store.conn.execute(
        f"SELECT o.cid FROM sigs s JOIN objects o ON o.id = s.sig WHERE s.target IN ({','.join('?' * len(ids))})", ids)}
    return bans | sigs


def assert_clean(node: Node) -> None:
    checked, faults = fsck(node.store)
    assert checked == len(cids(node)) and not faults, faults


def assert_not_banned(node: Node, url: str) -> None:
    assert PeerBook(node.store).get(url).banned is None
    assert not node.store.bans()


def assert_banned(node: Node, url: str, *fragments: str) -> None:
    """Banned in the peer book, and a signed ban object names it; `peer list` says so."""
    record = PeerBook(node.store).get(url)
    assert record.banned and all(f in record.banned for f in fragments), record.banned
    assert record.forgeries >= 1
    bans = [b for _, b in node.store.bans() if b.url == url]
    assert len(bans) == 1
    assert bans[0].key == node.keyring.get("node").public and bans[0].peer == record.key
    listing = run_cli(node.dir, "peer", "list")
    assert listing.code == 0 and f"{url}" in listing.out and "banned:" in listing.out, str(listing)
    with pytest.raises(PeerBanned, match="is banned"):
        sync(node, url)


# -- forgeries: banned ---------------------------------------------------------

def test_a_block_that_lies_about_its_cid_bans_the_peer(source, victim, peers):
    fake = peers(source)
    texts = [b for _, b in source.store.iter_objects() if cid_codec(b.cid) == RAW]
    bad = texts[-1]

    def tamper(blocks: list[Block]) -> Iterator[Block]:
        for b in blocks:
            # One byte changed, the CID kept: the block claims to be what it is not.
            yield Block(b.cid, b.data[:5] + bytes([b.data[5] ^ 1]) + b.data[6:]) if b.cid == bad.cid else b

    fake.tamper = tamper
    PeerBook(victim.store).add(fake.url)
    mine = cids(victim)
    with pytest.raises(PeerBanned) as failure:
        sync(victim, fake.url)
    message = str(failure.value)
    assert fake.url in message and "banned" in message and "do not hash to this CID" in message, message
    assert bad.cid not in cids(victim)
    # What did arrive is genuine: every object is the source's or the victim's own (and the ban).
    assert cids(victim) - mine - ban_objects(victim) <= cids(source)
    assert_clean(victim)
    assert_banned(victim, fake.url, "forgery")
    hits = fake.hits.copy()
    with pytest.raises(PeerBanned):
        sync(victim, fake.url)
    assert fake.hits == hits  # a banned peer is not contacted again


def test_a_forged_signature_bans_the_peer(source, victim, peers):
    fake = peers(source)
    stranger = Node.init(victim.dir.parent / "stranger")
    try:
        key = stranger.keyring.signing_key("node")
    finally:
        stranger.close()
    revs = [cid for (cid,) in source.store.conn.execute("SELECT o.cid FROM revisions r JOIN objects o ON o.id = r.id")]
    target = revs[len(revs) // 2]
    forged: list[bytes] = []

    def tamper(blocks: list[Block]) -> Iterator[Block]:
        for b in blocks:
            record = parse(b, 1 << 20) if cid_codec(b.cid) != RAW else None
            if isinstance(record, Signature) and record.target == target:
                # The author's key, a signature made by another key: a well-formed block that lies.
                fake_sig = build_signature(Signature(target, record.role, record.key,
                                                     sign(key, target, record.role), record.ts))
                forged.append(fake_sig.cid)
                yield fake_sig
            else:
                yield b

    fake.tamper = tamper
    PeerBook(victim.store).add(fake.url)
    with pytest.raises(PeerBanned) as failure:
        sync(victim, fake.url)
    assert fake.url in str(failure.value) and "does not verify" in str(failure.value)
    assert forged and forged[0] not in cids(victim) and target not in cids(victim)
    assert_clean(victim)
    assert_banned(victim, fake.url, "forgery", "does not verify")


def test_a_forged_node_descriptor_bans_the_peer(source, victim, peers):
    fake = peers(source)

    def lying_descriptor(h: Handler, query: dict, body: bytes) -> None:
        answer = signed_descriptor(source, fake.url)
        answer["descriptor"]["address"] = "http://127.0.0.1:1"  # changed after signing
        h.send_json(answer)

    fake.routes["/api/v1/node"] = lying_descriptor
    PeerBook(victim.store).add(fake.url)
    before = cids(victim)
    with pytest.raises(PeerBanned, match="signature .* does not verify"):
        sync(victim, fake.url)
    assert cids(victim) - before == ban_objects(victim)
    assert fake.hits["/api/v1/log"] == 0  # nothing taken from a peer that lied about who it is
    record = PeerBook(victim.store).get(fake.url)
    assert record.banned and victim.store.bans()[0][1].url == fake.url


# -- faults that prove nothing: a clear message, no ban, the next sync recovers --

def endless_texts() -> Iterator[Block]:
    """Well-formed, distinct, barely compressible text blocks, forever."""
    rng = random.Random(5)
    while True:
        yield build_text(rng.randbytes(1500).hex())


def test_an_endless_stream_stops_at_the_byte_limit(source, victim, peers):
    fake = peers(source)
    sent = Counter()

    def endless(h: Handler, query: dict, body: bytes) -> None:
        def counted():
            for chunk in car_chunks(endless_texts()):
                sent["bytes"] += len(chunk)
                yield chunk
        h.send_stream(counted(), {NEXT_HEADER: "999999", COUNT_HEADER: "10000"})

    fake.routes["/api/v1/log"] = endless
    book = PeerBook(victim.store)
    book.add(fake.url)
    before = cids(victim)
    limit = 1024 * 1024
    started = time.monotonic()
    with PeerClient(fake.url, max_stream=limit) as client:
        with pytest.raises(PeerError, match=f"{fake.url}.* longer than {limit} bytes: stopped reading"):
            pull(victim, book, client, fake.url, log.Scope(), SyncResult(fake.url))
        assert limit < client.bytes_in <= limit + 256 * 1024  # read up to the limit, and not much past it
    assert time.monotonic() - started < 20
    assert cids(victim) == before
    # Nothing was accepted. The texts of the batches that completed before the limit
    # wait in the held table (quarantine, not objects) for a revision that never comes,
    # under the peer's own bound, until they expire (tests/test_held.py); it holds nothing else.
    held = victim.store.conn.execute("SELECT cid, waiting FROM held").fetchall()
    assert all(cid == waiting and cid_codec(cid) == RAW for cid, waiting in held)
    assert book.get(fake.url).pull_cursor == 0  # the cursor moves only past what committed
    assert_not_banned(victim, fake.url)
    # Once it answers honestly, the next sync takes everything.
    fake.routes["/api/v1/log"] = fake.log
    sync(victim, fake.url, do_push=False)
    assert cids(source) <= cids(victim)
    assert_clean(victim)


def test_a_peer_that_sends_more_than_may_wait_fails_its_sync_and_keeps_only_its_bound(source, victim, peers):
    fake = peers(source)
    texts = list(itertools.islice(endless_texts(), 3 * BATCH_BLOCKS))  # 3 KB each, nothing uses them

    def orphans(h: Handler, query: dict, body: bytes) -> None:
        h.send_stream(car_chunks(texts), {NEXT_HEADER: "999999", COUNT_HEADER: str(len(texts))})

    fake.routes["/api/v1/log"] = orphans
    victim.config.max_held = BATCH_BLOCKS + 10  # one batch fits, the second does not
    victim._policy = None  # the policy is built again from the changed settings
    book = PeerBook(victim.store)
    book.add(fake.url)
    with pytest.raises(PeerError, match=f"{fake.url} sent too much that waits .* at most {BATCH_BLOCKS + 10} objects"):
        sync(victim, fake.url, do_push=False)
    assert victim.store.held_by(f"peer:{fake.url}")[0] == BATCH_BLOCKS  # the refused batch left nothing
    assert "sent too much that waits" in book.get(fake.url).last_error
    assert_not_banned(victim, fake.url)


def test_a_stream_that_trickles_past_the_deadline_is_cut(source, victim, peers):
    fake = peers(source)
    whole = b"".join(car_chunks(b for _, b in source.store.iter_objects()))

    def trickle(h: Handler, query: dict, body: bytes) -> None:
        def slowly():
            for i in range(len(whole)):
                if fake.release.wait(0.05):
                    return
                yield whole[i:i + 1]
        h.send_stream(slowly(), {NEXT_HEADER: "999", COUNT_HEADER: "10"})

    fake.routes["/api/v1/log"] = trickle
    book = PeerBook(victim.store)
    book.add(fake.url)
    before = cids(victim)
    started = time.monotonic()
    with (PeerClient(fake.url, timeout=5, deadline=1.0) as client,
          pytest.raises(PeerError, match=f"{fake.url} took longer than 1 s to send one answer")):
        pull(victim, book, client, fake.url, log.Scope(), SyncResult(fake.url))
    assert time.monotonic() - started < 4
    assert cids(victim) == before
    assert_not_banned(victim, fake.url)


def test_a_declared_10_gb_answer_is_refused_before_reading(source, victim, peers):
    fake = peers(source)

    def huge(h: Handler, query: dict, body: bytes) -> None:
        h.send_response(200)
        h.send_header("content-type", CAR_ZSTD)
        h.send_header("content-length", str(TEN_GB))
        h.send_header(NEXT_HEADER, "5")
        h.send_header(COUNT_HEADER, "5")
        h.end_headers()
        h.wfile.write(b"\x28\xb5\x2f\xfd")  # the start of a zstd frame; the rest never comes
        h.wfile.flush()
        fake.release.wait(30)

    fake.routes["/api/v1/log"] = huge
    run_cli(victim.dir, "peer", "add", fake.url, env={"WIKIPEER_ALLOW_HOSTS": "127.0.0.1"})
    before = cids(victim)
    started = time.monotonic()
    result = run_cli(victim.dir, "sync", env={"WIKIPEER_ALLOW_HOSTS": "127.0.0.1"})
    elapsed = time.monotonic() - started
    assert result.code == 1, str(result)
    assert f"{fake.url}: {fake.url} announces {TEN_GB} bytes, more than the" in result.out, str(result)
    assert "Traceback" not in result.err
    assert elapsed < 10  # had it waited for the body, it would have sat out the 30 s timeout
    assert cids(victim) == before
    assert_not_banned(victim, fake.url)
    assert "announces" in PeerBook(victim.store).get(fake.url).last_error


def test_a_slow_peer_is_given_up_with_a_clear_message(source, victim, peers):
    fake = peers(source)

    def slow(h: Handler, query: dict, body: bytes) -> None:
        fake.release.wait(3)  # far past the victim's timeout
        fake.node(h, query, body)

    fake.routes["/api/v1/node"] = slow
    PeerBook(victim.store).add(fake.url)
    started = time.monotonic()
    with pytest.raises(PeerError, match=f"{fake.url} is too slow: no answer within the timeout"):
        sync(victim, fake.url, timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert_not_banned(victim, fake.url)
    assert "too slow" in PeerBook(victim.store).get(fake.url).last_error


def test_a_peer_that_goes_silent_mid_answer(source, victim, peers):
    fake = peers(source)
    whole = b"".join(car_chunks(b for _, b in source.store.iter_objects()))

    def stall(h: Handler, query: dict, body: bytes) -> None:
        def half():
            yield whole[: len(whole) // 2]
            fake.release.wait(5)
        h.send_stream(half(), {NEXT_HEADER: "999", COUNT_HEADER: "10"})

    fake.routes["/api/v1/log"] = stall
    PeerBook(victim.store).add(fake.url)
    before = cids(victim)
    with pytest.raises(PeerError, match=f"{fake.url} stopped sending in the middle of an answer"):
        sync(victim, fake.url, timeout=0.5)
    assert cids(victim) == before
    assert PeerBook(victim.store).get(fake.url).pull_cursor == 0
    assert_not_banned(victim, fake.url)


@pytest.mark.parametrize("body, fragment", [
    (b"\x00\x01 this is not zstd", "not a valid zstd stream"),
    (None, "ends at byte"),  # a genuine stream, cut short
])
def test_a_broken_stream_is_refused_without_a_ban(source, victim, peers, body, fragment):
    fake = peers(source)
    whole = b"".join(car_chunks(b for _, b in source.store.iter_objects()))
    cut = whole[: len(whole) * 2 // 3] if body is None else body
    # zstd decompresses what it has: cut the *inflated* stream instead, re-compressed whole.
    if body is None:
        import zstandard
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(whole)
        cut = zstandard.ZstdCompressor().compress(raw[: len(raw) - 7])

    def broken(h: Handler, query: dict, body_: bytes) -> None:
        h.send_stream([cut], {NEXT_HEADER: "999", COUNT_HEADER: "10"})

    fake.routes["/api/v1/log"] = broken
    PeerBook(victim.store).add(fake.url)
    with pytest.raises(PeerError, match=fragment) as failure:
        sync(victim, fake.url)
    assert fake.url in str(failure.value)
    assert_clean(victim)
    assert_not_banned(victim, fake.url)
    assert PeerBook(victim.store).get(fake.url).pull_cursor == 0


# -- malformed JSON-RPC ----------------------------------------------------------

MALFORMED = {
    "not JSON": (b"<html>oops</html>", "did not answer with JSON"),
    "wrong version": (json.dumps({"jsonrpc": "1.0", "result": "x", "id": 1}).encode(), "malformed JSON-RPC answer"),
    "no result": (json.dumps({"jsonrpc": "2.0", "id": 1}).encode(), "neither result nor error"),
    "wrong id": (json.dumps({"jsonrpc": "2.0", "result": "x", "id": 77}).encode(), "malformed JSON-RPC answer"),
    "bad redirect": (json.dumps({"jsonrpc": "2.0", "result": None, "id": 1, "redirect": "everywhere"}).encode(),
                     "malformed redirect list"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_json_rpc_on_lookup(source, victim, peers, case):
    body, fragment = MALFORMED[case]
    fake = peers(source)
    fake.routes["/rpc"] = lambda h, q, b: h.send_json(None, raw=body)
    PeerBook(victim.store).add(fake.url)
    before = cids(victim)
    result = fetch_titles(victim, "w", ["Page 1"])
    assert result.pages == [] and result.missing == ["Page 1"]
    assert any(fake.url in e and fragment in e for e in result.errors), result.errors
    assert 1 <= fake.hits["/rpc"] <= RETRIES
    assert cids(victim) == before
    assert_not_banned(victim, fake.url)


def test_malformed_changes_while_fetching_is_a_clear_message(source, victim, peers):
    fake = peers(source)

    def half_honest(h: Handler, query: dict, body: bytes) -> None:
        call = json.loads(body)
        if call["method"] == "changes":
            h.send_json({"jsonrpc": "2.0", "result": {"not": "a list"}, "id": call["id"]})
        else:
            fake.rpc(h, query, body)

    fake.routes["/rpc"] = half_honest
    PeerBook(victim.store).add(fake.url)
    result = run_cli(victim.dir, "fetch", "w", "Page 2", env={"WIKIPEER_ALLOW_HOSTS": "127.0.0.1"})
    assert result.code == 1, str(result)
    assert f"note: {fake.url} answered changes with something that is not a list of changes" in result.out
    assert "nobody had 1: Page 2" in result.out and "Traceback" not in result.err
    assert victim.store.page("w", 0, "Page 2") is None


# -- redirects -----------------------------------------------------------------

def redirecting(fake: FakePeer, to: Callable[[], list[str]], busy: bool = False) -> None:
    """Make ``fake`` answer every call with no result (or busy) and a redirect list."""
    def answer(h: Handler, query: dict, body: bytes) -> None:
        listed = [{"address": a} for a in to()]
        if busy:
            h.send_json({"jsonrpc": "2.0", "error": {"code": rpc.BUSY, "message": "busy"}, "id": None,
                         "redirect": listed}, status=503)
        else:
            h.send_json({"jsonrpc": "2.0", "result": None, "id": json.loads(body)["id"], "redirect": listed})
    fake.routes["/rpc"] = answer


def test_a_redirect_loop_asks_each_node_once(peers):
    x, y = peers(), peers()
    redirecting(x, lambda: [y.url])
    redirecting(y, lambda: [x.url + "/", x.url, y.url])  # back to x (spelt two ways) and to itself
    slept: list[float] = []
    outcome = ask([x.url], "lookup", ["w/Anything", "page"], good=lambda r: isinstance(r, str), sleep=slept.append)
    assert outcome.url is None and outcome.result is None
    assert outcome.asked == [x.url, y.url]
    assert x.hits["/rpc"] == 1 and y.hits["/rpc"] == 1
    assert slept == []


def test_a_redirect_chain_stops_after_twenty_nodes(peers):
    chain = [peers() for _ in range(MAX_ADDRESSES + 3)]
    for here, there in itertools.pairwise(chain):
        redirecting(here, lambda there=there: [there.url])
    outcome = ask([chain[0].url], "lookup", ["w/Anything", "page"], good=lambda r: isinstance(r, str),
                  sleep=lambda s: None)
    assert len(outcome.asked) == MAX_ADDRESSES
    assert [p.hits["/rpc"] for p in chain] == [1] * MAX_ADDRESSES + [0] * 3


def test_a_busy_node_naming_others_is_not_asked_again(source, peers):
    busy, helper = peers(), peers(source)
    redirecting(busy, lambda: [helper.url], busy=True)
    outcome = ask([busy.url], "lookup", ["w/Page 1", "page"], good=lambda r: isinstance(r, str), sleep=lambda s: None)
    assert outcome.url == helper.url and isinstance(outcome.result, str)
    assert busy.hits["/rpc"] == 1 and helper.hits["/rpc"] == 1
    assert any("busy" in e for e in outcome.errors)


def test_a_busy_node_naming_nobody_is_retried_with_back_off(peers):
    busy = peers()
    redirecting(busy, list, busy=True)
    slept: list[float] = []
    outcome = ask([busy.url], "lookup", ["w/Page 1", "page"], good=lambda r: isinstance(r, str), sleep=slept.append)
    assert outcome.url is None and busy.hits["/rpc"] == RETRIES
    assert slept == [redirects.BACKOFF * 2 ** i for i in range(RETRIES - 1)]


def test_a_redirect_off_this_machine_is_not_followed(loopback_only, source, victim, peers):
    x = peers()
    redirecting(x, lambda: [OFF_MACHINE, "http://localhost:9/"])
    outcome = ask([x.url], "lookup", ["w/Page 1", "page"], good=lambda r: isinstance(r, str), sleep=lambda s: None)
    assert outcome.url is None and outcome.asked == [x.url]
    assert f"{OFF_MACHINE}: not an allowed peer address, not asked" in outcome.errors
    assert "http://localhost:9: not an allowed peer address, not asked" in outcome.errors
    assert loopback_only == []  # the guard saw no attempt
    # The same through a whole fetch: nothing is taken, the reason is given.
    PeerBook(victim.store).add(x.url)
    result = fetch_titles(victim, "w", ["Page 1"])
    assert result.missing == ["Page 1"]
    assert any(OFF_MACHINE in e and "not an allowed peer address" in e for e in result.errors)
    with pytest.raises(PeerError, match="not an allowed peer address"):
        PeerClient(OFF_MACHINE)
    # A peer added at such an address is kept, but never contacted.
    added = run_cli(victim.dir, "peer", "add", OFF_MACHINE, env={"WIKIPEER_ALLOW_HOSTS": "127.0.0.1"})
    assert added.code == 0 and "not an allowed peer address" in added.out, str(added)
