"""Requests between nodes signed by the calling node's key, checked by a real `wikipeer serve`.

A signed sync is credited to the node that signed it; forged, stale, replayed,
misdirected and altered requests are refused with 401 and counted; an
unsigned caller reads as anyone may and is credited with nothing; a banned
node cannot dodge its ban, nor pin what it takes on another node's key.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from conftest import copy_node, run_cli, start_server, stop_server, store_connect
from signed_calls import new_signer, node_key, signed

from wikipeer.authoring import edit, edit_blocks
from wikipeer.model.objects import Page
from wikipeer.net.signing import AUDIENCE, DIGEST, SIGNATURE, SIGNATURE_INPUT, SKEW, RequestSigner
from wikipeer.net.sync import sync
from wikipeer.net.wire import CAR_ZSTD, NODE_HEADER, car_chunks
from wikipeer.node import Node
from wikipeer.store.nonces import PURGE_EVERY, Nonces
from wikipeer.store.peers import PeerBook
from wikipeer.store.store import Store

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL (seen nonces are in the store)

WIKI = "w"
SIGNATURE_HEADERS = (DIGEST, AUDIENCE, SIGNATURE_INPUT, SIGNATURE)
EMPTY = 10**9  # a log position past the end: an answer with no blocks


@pytest.fixture(scope="module")
def served(_sample_template, tmp_path_factory):
    """A served sample node that throttles takers (max_take_ratio 1), so it counts every caller's taking."""
    directory = tmp_path_factory.mktemp("signed") / "node"
    copy_node(_sample_template, directory)
    with closing(Node.open(directory)) as n:
        n.config.max_take_ratio = 1.0
        n.save_config()
    proc, client = start_server(directory)
    try:
        yield directory, client, node_key(client)
    finally:
        stop_server(proc, client)


def from_address(client: httpx.Client, address: str) -> httpx.Client:
    """A client of the same server whose connections come from ``address`` (one of 127.0.0.0/8)."""
    return httpx.Client(base_url=client.base_url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def read(directory: Path, sql: str, *args: object) -> list[tuple]:
    with store_connect(directory) as conn:
        return conn.execute(sql, args).fetchall()


def taker(directory: Path, key: str) -> tuple[int, int]:
    """(served, given) the node counted for ``key`` (a node key, or ``caller:ADDRESS``)."""
    rows = read(directory, "SELECT served, given FROM takers WHERE key = ?", key)
    return rows[0] if rows else (0, 0)


def refusals(directory: Path) -> dict[str, int]:
    try:
        return dict(read(directory, "SELECT reason, count FROM request_refusals"))
    except sqlite3.OperationalError:  # no signed request refused yet
        return {}


def refused(response: httpx.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert reason in response.json()["error"], response.text


def test_a_signed_sync_works_and_is_credited_to_the_node_that_signed_it(served, tmp_path):
    directory, client, key = served
    local = Node.init(tmp_path / "local")
    try:
        local.user_key()
        me = local.keyring.get("node").public
        with closing(Node.open(directory)) as provider:  # it knows the local node: what came from it stays
            PeerBook(provider.store).add("http://local.invalid")
            PeerBook(provider.store).set("http://local.invalid", key=me)
        url = str(client.base_url).rstrip("/")
        PeerBook(local.store).add(url)  # its key unknown: the client learns it from the descriptor to sign
        pulled = sync(local, url, do_push=False).pulled.accepted
        assert pulled > 100
        edit(local, WIKI, "Signed page", "pushed by a node that proved its key\n", "signed")
        assert sync(local, url, do_pull=False).pushed == 4  # page, text, revision, signature
        again = sync(local, url)
        assert (again.pulled.accepted, again.pulled.duplicates, again.sent) == (0, 0, 0)  # nothing came back
        assert taker(directory, me) == (pulled, 4)
        # Asked without its skip ranges, the provider itself leaves out the four objects that came from it.
        whole = client.send(signed(client, RequestSigner(local.keyring.signing_key("node")), key, "GET",
                                   "/api/v1/log", params={"since": 0}))
        assert whole.status_code == 200
        assert taker(directory, me) == (pulled + int(whole.headers["x-wikipeer-count"]) - 4, 4)
    finally:
        local.close()
    assert read(directory, "SELECT count(*) FROM pages WHERE title = 'Signed page'") == [(1,)]


def exchange(client: httpx.Client, raw: bytes) -> bytes:
    """Send ``raw`` bytes as they are to the server and read its whole answer."""
    with socket.create_connection((client.base_url.host, client.base_url.port), timeout=30) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def as_bytes(request: httpx.Request, host: str) -> bytes:
    head = [f"{request.method} {request.url.raw_path.decode()} HTTP/1.1", f"host: {host}", "connection: close",
            *(f"{name}: {request.headers[name]}" for name in SIGNATURE_HEADERS)]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def test_forged_stale_misdirected_replayed_and_altered_requests_are_refused_and_counted(served):
    directory, client, key = served
    me, other = new_signer(), new_signer()
    before = refusals(directory)

    def log_request(signer=me, audience=key, **kwargs) -> httpx.Request:
        return signed(client, signer, audience, "GET", "/api/v1/log", params={"since": EMPTY}, **kwargs)

    assert client.send(log_request()).status_code == 200  # the request as signed passes

    forged = log_request()
    value = forged.headers[SIGNATURE]
    forged.headers[SIGNATURE] = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    refused(client.send(forged), 401, "bad signature: the signature does not verify")

    wrong_key = log_request()  # signed by me, naming another node's key
    wrong_key.headers[SIGNATURE_INPUT] = wrong_key.headers[SIGNATURE_INPUT].replace(me.public, other.public)
    refused(client.send(wrong_key), 401, f"bad signature: the signature does not verify for key {other.public}")

    for offset in (-SKEW - 60, SKEW + 60):  # too old, and from too far ahead
        refused(client.send(log_request(created=int(time.time()) + offset)), 401, "stale date")

    refused(client.send(log_request(audience=other.public)), 401, "wrong node")  # meant for another node

    request = signed(client, me, key, "POST", "/api/v1/blocks", content=b'{"cids": []}')
    altered = client.build_request("POST", "/api/v1/blocks", content=b'{"cids": [], "more": 1}',
                                   headers={name: request.headers[name] for name in SIGNATURE_HEADERS})
    refused(client.send(altered), 401, "digest mismatch")

    captured = as_bytes(log_request(), f"{client.base_url.host}:{client.base_url.port}")
    assert exchange(client, captured).startswith(b"HTTP/1.1 200")
    again = exchange(client, captured)  # the exact same bytes, once more
    assert again.startswith(b"HTTP/1.1 401") and b"replayed nonce" in again, again

    expected = {"bad signature": 2, "stale date": 2, "wrong node": 1, "digest mismatch": 1, "replayed nonce": 1}
    deadline = time.monotonic() + 10  # counted in memory, written within a second (store/nonces.py)
    while (counted := {reason: count - before.get(reason, 0) for reason, count in refusals(directory).items()}) \
            != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counted == expected
    listed = run_cli(directory, "peer", "list")
    assert listed.code == 0, str(listed)
    assert "signed requests refused: bad signature " in listed.out and "replayed nonce " in listed.out


def test_a_nonce_one_serving_process_saw_is_refused_by_another_on_the_same_store(served):
    directory, client, key = served
    proc, second = start_server(directory)
    try:
        request = signed(client, new_signer(), key, "GET", "/api/v1/log", params={"since": EMPTY})
        assert client.send(request).status_code == 200
        replay = second.build_request("GET", request.url.raw_path.decode(),
                                      headers={name: request.headers[name] for name in SIGNATURE_HEADERS})
        refused(second.send(replay), 401, "replayed nonce")
    finally:
        stop_server(proc, second)


def test_an_anonymous_reader_reads_but_is_credited_with_nothing(served):
    directory, client, key = served
    someone = new_signer()
    blocks = edit_blocks(Page(WIKI, 0, "Anonymous upload"), "sent without a signature\n", (), "anon",
                         someone.key, someone.public, 1_000)
    upload = b"".join(car_chunks(blocks))
    with from_address(client, "127.0.0.5") as anonymous:
        read_log = anonymous.get("/api/v1/log", params={"since": 0})
        assert read_log.status_code == 200 and int(read_log.headers["x-wikipeer-count"]) > 100
        served_count = int(read_log.headers["x-wikipeer-count"])
        # The old header names a node, but proves nothing: the read is anonymous all the same.
        named = {NODE_HEADER: someone.public}
        assert anonymous.get("/api/v1/log", params={"since": 0}, headers=named).status_code == 200
        refused(anonymous.post("/api/v1/car", content=upload, headers={"content-type": CAR_ZSTD, **named}),
                401, "an upload must be signed by the sending node's key")
    assert taker(directory, someone.public) == (0, 0)
    assert taker(directory, "caller:127.0.0.5") == (2 * served_count, 0)  # counted by its address, giving nothing
    assert read(directory, "SELECT count(*) FROM pages WHERE title = 'Anonymous upload'") == [(0,)]


def test_a_banned_node_cannot_dodge_its_ban_nor_pin_its_taking_on_another(served):
    directory, client, key = served
    banned, victim = new_signer(), new_signer()
    with closing(Node.open(directory)) as n:
        peers = PeerBook(n.store)
        for url, who in (("http://banned.invalid", banned), ("http://victim.invalid", victim)):
            peers.add(url)
            peers.set(url, key=who.public)
        peers.set("http://banned.invalid", banned="sent a forgery")
    upload = b"".join(car_chunks([]))
    with from_address(client, "127.0.0.6") as c:
        refused(c.send(signed(c, banned, key, "GET", "/api/v1/log", params={"since": 0})), 403,
                f"this node banned {banned.public} (sent a forgery)")
        refused(c.send(signed(c, banned, key, "POST", "/api/v1/car", content=upload,
                              headers={"content-type": CAR_ZSTD})), 403, "banned")
        refused(c.send(signed(c, banned, key, "POST", "/api/v1/gossip", content=upload,
                              headers={"content-type": CAR_ZSTD})), 403, "banned")
        # Dropping the signature: an anonymous reader, which may not upload.
        refused(c.post("/api/v1/car", content=upload, headers={"content-type": CAR_ZSTD}), 401, "must be signed")
        # Claiming the victim's key, in the old header or in the signature: anonymous, or refused.
        assert c.get("/api/v1/log", params={"since": 0}, headers={NODE_HEADER: victim.public}).status_code == 200
        claimed = signed(c, banned, key, "GET", "/api/v1/log", params={"since": 0})
        claimed.headers[SIGNATURE_INPUT] = claimed.headers[SIGNATURE_INPUT].replace(banned.public, victim.public)
        refused(c.send(claimed), 401, "bad signature")
        # The victim's own signed read is served and counted against the victim alone.
        mine = c.send(signed(c, victim, key, "GET", "/api/v1/log", params={"since": 0}))
        assert mine.status_code == 200
    assert taker(directory, banned.public) == (0, 0)
    assert taker(directory, victim.public) == (int(mine.headers["x-wikipeer-count"]), 0)


def test_nonces_are_kept_until_their_window_ends_then_forgotten(node):
    nonces = Nonces(node.store)
    now = 1_800_000_000.0
    assert nonces.first_use("ed25519:a", "n1", int(now) + SKEW, now=now)
    assert not nonces.first_use("ed25519:a", "n1", int(now) + SKEW, now=now + 10)  # a replay
    assert nonces.first_use("ed25519:b", "n1", int(now) + SKEW, now=now + 10)  # another key's nonce is its own
    later = now + SKEW + PURGE_EVERY + 1  # past the window: the next one purges what expired
    assert nonces.first_use("ed25519:a", "n2", int(later) + SKEW, now=later)
    assert node.store.conn.execute("SELECT nonce FROM request_nonces").fetchall() == [("ed25519:a n2",)]


def test_a_flood_of_refusals_is_counted_in_a_few_writes(tmp_path, monkeypatch):
    """Each forged request costs a signature check, not a write transaction: counts go to the store at most
    once a second, all of them."""
    store = Store(tmp_path / "store.sqlite")
    nonces = Nonces(store)
    writes: list[int] = []
    write_counts = Nonces._write_counts
    monkeypatch.setattr(Nonces, "_write_counts", lambda self: (writes.append(1), write_counts(self)))
    try:
        for n in range(3000):
            nonces.count_refusal("bad signature" if n % 3 else "stale date")
        deadline = time.monotonic() + 10
        while nonces.refusals() != {"bad signature": 2000, "stale date": 1000} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert nonces.refusals() == {"bad signature": 2000, "stale date": 1000}
        assert 1 <= len(writes) <= 3
    finally:
        store.close()
