"""Peer exchange: a node learns of the peers its peers know, from their signed descriptors.

Three `wikipeer serve` processes on 127.0.0.1 in a chain A-B-C: A's operator added B, B's
added C. After one sync A knows C (a verified candidate), and gossip from A reaches both. The
servers' own gossip is off (one round an hour) so the test runs the rounds and counts them.
Then A, which C does not know, says hello to its ring neighbours (B and C: all it knows), and
C verifies it (net/hello.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import start_server, stop_server
from signed_calls import new_signer, signed

from wikipeer.errors import Forgery
from wikipeer.model.block import encode_object
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import key_to_str, sign
from wikipeer.net import exchange, hello
from wikipeer.net.descriptor import _object, check_descriptor, signed_descriptor
from wikipeer.net.gossip import gossip_round
from wikipeer.net.signing import SIGNATURE
from wikipeer.net.sync import sync
from wikipeer.node import Node
from wikipeer.notices import publish_blocklist
from wikipeer.store import peer_candidates
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook
from wikipeer.store.schema import KIND_BLOCKLIST


@dataclass
class Served:
    node: Node
    url: str
    key: str


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """A, B and C served; B's operator added C, C's added B, A's added B; no sync has run."""
    base = tmp_path_factory.mktemp("exchange")
    served, procs = {}, []
    try:
        for name in "abc":
            node = Node.init(base / name)
            node.wiki("w")
            proc, client = start_server(base / name, "--gossip-every", "3600")
            procs.append((proc, client))
            served[name] = Served(node, str(client.base_url).rstrip("/"), node.keyring.get(NODE_KEY).public)
        a, b, c = served["a"], served["b"], served["c"]
        for node, other in ((b, c), (c, b), (a, b)):
            PeerBook(node.node.store).add(other.url)
            PeerBook(node.node.store).set(other.url, key=other.key)
        yield a, b, c
    finally:
        for s in served.values():
            s.node.close()
        for proc, client in procs:
            stop_server(proc, client)


def test_a_learns_of_c_through_b_and_gossip_reaches_both(chain):
    a, b, c = chain
    sync(b.node, c.url)
    assert peer_candidates.every(a.node.store) == []
    sync(a.node, b.url)
    (learned,) = peer_candidates.every(a.node.store)
    assert (learned.url, learned.key, learned.via, learned.tries, learned.dead) == (c.url, c.key, b.url, 0, None)
    assert learned.verified is not None  # C's own descriptor showed its key at its address
    assert peer_candidates.usable(a.node.store) == [(c.url, c.key)]
    # A names both in its own descriptor now: B (a good sync) and C (verified).
    assert set(check_descriptor(signed_descriptor(a.node, a.url)).peers) == {(b.url, b.key), (c.url, c.key)}

    publish_blocklist(a.node, "spam", ("spam words",))
    messages, rounds = 0, 0
    while any(s.node.store.conn.execute("SELECT 1 FROM gossip").fetchone() for s in chain):
        messages += sum(gossip_round(s.node) for s in chain)
        rounds += 1
        assert rounds <= 3
    for s in chain:
        assert s.node.store.conn.execute("SELECT count(*) FROM notices WHERE kind = ?", (KIND_BLOCKLIST,)).fetchone() \
            == (1,), s.url
    assert messages == 2  # each of B and C got it exactly once


def test_the_exchange_waits_between_readings(chain):
    a, b, _ = chain
    sync(a.node, b.url)  # whatever the test before left to push
    before = peer_candidates.last_exchange(a.node.store, b.url)
    assert before is not None and not exchange.due(a.node, b.url)
    assert sync(a.node, b.url).requests == 1  # nothing new: one request, as before peer exchange
    assert peer_candidates.last_exchange(a.node.store, b.url) == before
    assert sync(a.node, b.url, exchange_every=0).requests == 2  # the descriptor again, then the log
    assert peer_candidates.last_exchange(a.node.store, b.url) > before


def _descriptor_naming(node: Node, peers: list) -> dict:
    """``node``'s descriptor, signed, with ``peers`` as its list whatever they hold."""
    good = check_descriptor(signed_descriptor(node, "http://127.0.0.1:1"))
    obj = {**_object(good), "peers": peers}
    block = encode_object(obj)
    return {"descriptor": obj, "cid": cid_to_str(block.cid),
            "sig": sign(node.keyring.signing_key(NODE_KEY), block.cid, "node")}


def _key(i: int) -> str:
    return key_to_str(i.to_bytes(32, "big"))


def test_a_descriptor_keeps_well_formed_peers_up_to_the_bound(tmp_path):
    node = Node.init(tmp_path / "n")
    try:
        listed = [[f"http://10.0.0.{i}:8080", _key(i)] for i in range(80)]
        d = check_descriptor(_descriptor_naming(node, ["junk", [1, 2], ["only one"], *listed]))
        assert d.peers == tuple(tuple(p) for p in listed[:peer_candidates.LISTED])
        forged = _descriptor_naming(node, listed[:3])
        forged["descriptor"]["peers"][0][0] = "http://evil:1"  # the list is signed with the rest
        with pytest.raises(Forgery, match="does not verify"):
            check_descriptor(forged)
        old = signed_descriptor(node, "http://127.0.0.1:1")
        del old["descriptor"]["peers"]  # a node from before peer exchange: no list, and signed without one
        obj = old["descriptor"]
        old["cid"] = cid_to_str(encode_object(obj).cid)
        old["sig"] = sign(node.keyring.signing_key(NODE_KEY), encode_object(obj).cid, "node")
        assert check_descriptor(old).peers is None
    finally:
        node.close()


def test_learning_is_bounded_and_skips_self_known_banned_and_given_up(tmp_path):
    node = Node.init(tmp_path / "n")
    store, me = node.store, node.keyring.get(NODE_KEY).public
    try:
        peers = PeerBook(store)
        peers.add("http://known:1")
        peers.set("http://known:1", key=_key(1))
        peers.add("http://banned:1")
        peers.set("http://banned:1", key=_key(2), banned="sent a forgery")
        named = [("http://me:1", me), ("http://elsewhere:1", _key(1)), ("http://banned:1", _key(99)),
                 ("http://other-banned:1", _key(2)), ("ftp://x", _key(3)), ("http://bad-key:1", "nope"),
                 ("http://new:1", _key(4)), ("http://new:1", _key(5)), ("http://second-address:1", _key(4))]
        assert peer_candidates.learn(store, named, "http://via", me) == 1
        assert [(c.url, c.key) for c in peer_candidates.every(store)] == [("http://new:1", _key(4))]

        for _ in range(peer_candidates.MAX_TRIES):
            peer_candidates.failed(store, "http://new:1")
        assert peer_candidates.every(store)[0].dead is not None and peer_candidates.usable(store) == []
        assert peer_candidates.learn(store, [("http://new:1", _key(4))], "http://via2", me) == 0  # not re-added

        many = [(f"http://n{i}:1", _key(1000 + i)) for i in range(peer_candidates.MAX_CANDIDATES + 500)]
        assert peer_candidates.learn(store, many, "http://via", me) == peer_candidates.MAX_CANDIDATES - 1
        assert len(peer_candidates.every(store)) == peer_candidates.MAX_CANDIDATES
    finally:
        node.close()


def test_a_hello_takes_the_place_of_a_candidate_given_up_at_its_url_unless_another_key_answered(tmp_path):
    node = Node.init(tmp_path / "n")
    store, me = node.store, node.keyring.get(NODE_KEY).public
    try:
        peer_candidates.learn(store, [("http://x:1", _key(1))], "http://via", me)
        peer_candidates.give_up(store, "http://x:1")  # key 2 answered where key 1 was named
        assert peer_candidates.announced(store, "http://x:1/", _key(2), me) is False
        (c,) = peer_candidates.every(store)
        assert (c.url, c.key, c.via, c.dead) == ("http://x:1", _key(2), peer_candidates.HELLO, None)
        for _ in range(peer_candidates.MAX_TRIES):
            peer_candidates.failed(store, "http://x:1")
        peer_candidates.announced(store, "http://x:1", _key(2), me)  # back after failures
        assert [(c.key, c.tries, c.dead) for c in peer_candidates.every(store)] == [(_key(2), 0, None)]
        peer_candidates.verified(store, "http://x:1")
        assert peer_candidates.announced(store, "http://x:1", _key(2), me) is True
        peer_candidates.give_up(store, "http://x:1")  # another key answered for key 2: it stays given up
        peer_candidates.announced(store, "http://x:1", _key(2), me)
        assert peer_candidates.every(store)[0].dead is not None
        assert peer_candidates.announced(store, "http://me:1", me, me) is False and len(peer_candidates.every(store)) == 1
    finally:
        node.close()


def test_a_candidate_that_answers_with_another_key_is_given_up(chain, tmp_path):
    a, b, c = chain
    node = Node.init(tmp_path / "n")
    me = node.keyring.get(NODE_KEY).public
    try:
        # B's address named with C's key (a lie, or a node that moved), and an address nobody answers at.
        assert peer_candidates.learn(node.store, [(b.url, c.key), ("http://127.0.0.1:9", _key(7))], "x", me) == 2
        assert exchange.verify_some(node, timeout=2) == 0
        state = {x.url: (x.verified, x.tries, x.dead is not None) for x in peer_candidates.every(node.store)}
        assert state == {b.url: (None, 0, True), "http://127.0.0.1:9": (None, 1, False)}
    finally:
        node.close()


def test_exchange_budget_grows_with_the_candidates_waiting():
    assert [exchange.budget(n) for n in (0, 8, 40, 100, 256, 10_000)] == [8, 8, 10, 25, 64, 64]


def _hello(client: httpx.Client, signer, audience: str, url: str) -> httpx.Response:
    return client.send(signed(client, signer, audience, "POST", hello.PATH, json.dumps({"url": url}).encode(),
                              headers={"content-type": "application/json"}))


def test_a_node_says_hello_to_its_ring_neighbours_and_they_verify_it(chain):
    a, b, c = chain
    sync(b.node, c.url)  # (as the first test left it) B names C in its descriptor
    assert a.key not in {key for _, key in peer_candidates.usable(c.node.store)}  # C never heard of A
    sync(a.node, b.url)  # A learns C through B, then says hello as sync_all does after its syncs
    exchange.verify_some(a.node, timeout=30)  # (C, if the sync's 10 s were too short on a loaded machine)
    assert hello.announce(a.node, a.url, timeout=30) == 2  # to B and C, its nearest on each side
    (told,) = [x for x in peer_candidates.every(c.node.store) if x.key == a.key]
    assert (told.url, told.via, told.verified) == (a.url, peer_candidates.HELLO, None)  # a candidate, unverified
    assert hello.welcome(c.node, timeout=30) == 1  # serve's loop: C reads A's descriptor a second later
    assert (a.url, a.key) in peer_candidates.usable(c.node.store)
    # C answers that it knows A now: told no more. B has not verified A yet: told again, once a sync.
    assert hello.announce(a.node, a.url, timeout=30) == 2 and hello.announce(a.node, a.url, timeout=30) == 1
    hello.welcome(b.node, timeout=30)  # B's loop reads A's descriptor (sync itself leaves hellos alone)
    assert hello.announce(a.node, a.url, timeout=30) == 1 and hello.announce(a.node, a.url, timeout=30) == 0


def test_an_unsigned_or_forged_hello_is_refused_and_one_naming_another_keys_url_given_up(chain):
    a, _, c = chain
    before = len(peer_candidates.every(c.node.store))
    with httpx.Client(base_url=c.url) as client:
        unsigned = client.post(hello.PATH, json={"url": "http://127.0.0.1:9"})
        assert unsigned.status_code == 401 and "must be signed" in unsigned.json()["error"]
        stranger = new_signer()
        forged = signed(client, stranger, c.key, "POST", hello.PATH, b'{"url": "http://127.0.0.1:9"}')
        value = forged.headers[SIGNATURE]
        forged.headers[SIGNATURE] = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
        assert client.send(forged).status_code == 401
        assert _hello(client, stranger, c.key, "ftp://nowhere").status_code == 400
        assert len(peer_candidates.every(c.node.store)) == before
        # The stranger's key named at an address where A answers (A's, by another name): learned, then
        # given up when A's descriptor shows A's key there.
        there = a.url.replace("127.0.0.1", "localhost")
        assert _hello(client, stranger, c.key, there).json() == {"known": False}
    (named,) = [x for x in peer_candidates.every(c.node.store) if x.key == stranger.public]
    assert (named.url, named.via) == (there, peer_candidates.HELLO)
    exchange.verify_some(c.node, timeout=30)  # sync's verification leaves those that said hello alone
    (named,) = [x for x in peer_candidates.every(c.node.store) if x.key == stranger.public]
    assert named.dead is None and named.verified is None
    hello.welcome(c.node, timeout=30)  # the loop that verifies them
    (named,) = [x for x in peer_candidates.every(c.node.store) if x.key == stranger.public]
    assert named.dead is not None and named.verified is None


def test_hellos_are_bounded_by_themselves_one_per_host_and_none_into_this_nodes_network(tmp_path):
    node = Node.init(tmp_path / "n")
    store, me = node.store, node.keyring.get(NODE_KEY).public
    try:
        # Keys cost nothing: a flood of hellos fills its own share, not the candidates peer exchange learns.
        for i in range(peer_candidates.MAX_ANNOUNCED + 20):
            peer_candidates.announced(store, f"http://h{i}.example:80/", _key(5000 + i), me)
        assert len(peer_candidates.every(store)) == peer_candidates.MAX_ANNOUNCED
        assert peer_candidates.waiting(store) == 0  # sync's budget does not grow with them
        assert peer_candidates.learn(store, [("http://named.example:1", _key(1))], "http://via", me) == 1
        # Many paths of one host: one candidate (this node would call that host for each).
        peer_candidates.forget(store, "http://h0.example:80")
        for i in range(3):
            peer_candidates.announced(store, f"http://h0.example/wiki{i}", _key(9000 + i), me)
        assert [c.url for c in peer_candidates.every(store) if c.url.startswith("http://h0.")] == ["http://h0.example/wiki0"]
        # A hello from outside naming an address inside this node's network is refused; from inside, taken.
        body = json.dumps({"url": "http://169.254.169.254/latest"}).encode()
        with pytest.raises(hello.BadHello, match="inside this node's network"):
            hello.take(node, body, _key(3), "93.184.216.34")
        for inside in ("http://127.0.0.1:8080", "http://10.1.2.3:80", "http://[::1]:80", "http://localhost:1"):
            with pytest.raises(hello.BadHello):
                hello.take(node, json.dumps({"url": inside}).encode(), _key(4), "8.8.4.4")
        peer_candidates.forget(store, "http://h1.example:80")
        assert hello.take(node, json.dumps({"url": "http://10.1.2.3:80"}).encode(), _key(4), "10.1.2.4") == {"known": False}
    finally:
        node.close()


def test_serve_says_hello_after_its_syncs_from_the_address_it_listens_on(chain, tmp_path):
    _, b, _ = chain
    node = Node.init(tmp_path / "d")
    node.wiki("w")
    PeerBook(node.store).add(b.url)
    PeerBook(node.store).set(b.url, key=b.key)
    me = node.keyring.get(NODE_KEY).public
    proc, client = start_server(tmp_path / "d", "--sync-every", "0.2", "--gossip-every", "3600")
    try:
        deadline = time.monotonic() + 60

        def told() -> list:
            return [x for x in peer_candidates.every(b.node.store) if x.key == me]
        while not told() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)  # D's sync loop runs in its own process: nothing here to wait on
        # Only D's hello could have named it to B, its peer (B runs no sync), at the address D listens on.
        assert [(x.url, x.via) for x in told()] == [(str(client.base_url).rstrip("/"), peer_candidates.HELLO)]
    finally:
        stop_server(proc, client)
        node.close()
