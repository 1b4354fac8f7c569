"""The DHT: signed records, the bounded storage that merges them, real kademlia participants on
127.0.0.1 UDP ports, and real `wikipeer serve --dht` processes that publish, discover and fetch."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import libipld
import nacl.signing
import pytest
from kademlia.network import Server
from kademlia.node import Node as Contact
from kademlia.utils import digest

from wikipeer.authoring import edit
from wikipeer.cli.main import main
from wikipeer.errors import InvalidObject, UserError
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import key_to_str
from wikipeer.model.objects import Page, build_page
from wikipeer.net import dht_storage
from wikipeer.net.dht_node import Participant, holder_urls, parse_address, publish_forever
from wikipeer.net.dht_publish import node_records
from wikipeer.net.dht_records import (MAX_BUNDLE, MAX_NAMESPACES, MAX_RECORD, MAX_URL, MAX_WIKI, PAGES, WIKI,
                                      Holder, check_record, decode_bundle, encode_bundle, guid_prefix,
                                      pages_key, pages_record, wiki_key, wiki_record)
from wikipeer.net.dht_storage import RecordStorage, now_ms
from wikipeer.node import Node

from conftest import assert_user_error, run_cli, spawn_server, stop_server, wait_serving

URL = "http://127.0.0.1:8080/"
WIKI_NAME = "dhtwiki"


def keys(n: int) -> list[nacl.signing.SigningKey]:
    return [nacl.signing.SigningKey.generate() for _ in range(n)]


def until(check, what: str, seconds: float = 20.0):
    """Poll ``check`` until it returns something true (the network settles in its own time)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.2)


# -- records ---------------------------------------------------------------------------------


def test_a_record_says_who_holds_what_and_the_biggest_fits_with_room():
    signer = keys(1)[0]
    now = now_ms()
    holder = check_record(wiki_record(signer, "enwiki", URL, 42, now, (0, 10)), now, wiki_key("enwiki"))
    assert (holder.kind, holder.wiki, holder.url, holder.position, holder.namespaces) == (WIKI, "enwiki", URL, 42,
                                                                                         (0, 10))
    assert holder.key == key_to_str(bytes(signer.verify_key)) and holder.covers(10) and not holder.covers(1)
    prefix = guid_prefix(cid_to_str(build_page(Page("enwiki", 0, "Paris")).cid))
    pages = check_record(pages_record(signer, prefix, URL, now), now, pages_key(prefix))
    assert (pages.kind, pages.prefix) == (PAGES, prefix)
    biggest = wiki_record(signer, "w" * MAX_WIKI, "http://" + "h" * (MAX_URL - 8) + "/", 2 ** 62, now,
                          tuple(range(100_000, 100_000 + MAX_NAMESPACES)))
    print(f"biggest record: {len(biggest)} bytes")
    assert len(biggest) <= MAX_RECORD < 8192 // 4 and check_record(biggest, now).position == 2 ** 62
    with pytest.raises(InvalidObject):  # one namespace more is no record
        wiki_record(signer, "w", URL, 0, now, tuple(range(MAX_NAMESPACES + 1)))


def _forged(record: bytes, **changes) -> bytes:
    outer = libipld.decode_dag_cbor(record)
    outer["r"].update(changes)
    return libipld.encode_dag_cbor(outer)


def test_forged_expired_future_oversized_misplaced_and_replayed_records_are_refused_and_counted():
    good, other = keys(2)
    now = now_ms()
    storage = RecordStorage(clock=lambda: now)
    dkey = digest(wiki_key("w"))
    fresh = wiki_record(good, "w", URL, 5, now)
    assert storage.put(dkey, encode_bundle([fresh]), "10.0.0.1") == 1
    refused = {
        "forged": _forged(wiki_record(other, "w", URL, 5, now), url="http://evil.example/"),
        "expired": wiki_record(other, "w", URL, 5, now - 7200_000),
        "future": wiki_record(other, "w", URL, 5, now + 3600_000),
        "oversized": fresh + b"\0" * MAX_RECORD,
        "misplaced": wiki_record(other, "elsewhere", URL, 5, now),
        "replayed": wiki_record(good, "w", "http://old.example/", 4, now - 1000),
        "malformed": libipld.encode_dag_cbor({"r": {"t": "dht-wiki"}, "s": "x"}),
    }
    for reason, record in refused.items():
        assert storage.put(dkey, encode_bundle([record]), "10.0.0.2") == 0, reason
    storage.put(dkey, b"\x01not a bundle", "10.0.0.2")
    counts = storage.counts()
    assert {r: counts.get(r) for r in refused} == {r: 1 for r in refused} | {"malformed": 2}
    assert [check_record(r, now).url for r in decode_bundle(storage.get(dkey))] == [URL]
    assert counts["held"] == 1


def test_flooding_one_key_or_from_one_address_is_refused_beyond_the_bounds_and_memory_stays_bounded():
    now = now_ms()
    storage = RecordStorage(clock=lambda: now)
    dkey = digest(wiki_key("w"))
    signers = keys(1000)
    own_wikis = [(digest(wiki_key(f"w{i}")), wiki_record(k, f"w{i}", URL, i, now)) for i, k in enumerate(signers)]
    taken = sum(storage.put(d, encode_bundle([r]), "10.9.9.9") for d, r in own_wikis)  # a thousand keys, one address
    assert taken == dht_storage.MAX_KEYS_PER_ADDRESS
    assert storage.refused["address_full"] == 1000 - dht_storage.MAX_KEYS_PER_ADDRESS
    one_key = [wiki_record(k, "w", URL, i, now) for i, k in enumerate(signers)]  # a thousand holders of one key
    taken = sum(storage.put(dkey, encode_bundle([r]), f"10.1.{i // 250}.{i % 250}") for i, r in enumerate(one_key))
    assert taken == dht_storage.MAX_HOLDERS and len(storage.keys[dkey]) == dht_storage.MAX_HOLDERS
    assert storage.refused["key_full"] == 1000 - dht_storage.MAX_HOLDERS
    answer = storage.get(dkey)
    assert len(answer) <= MAX_BUNDLE and len(decode_bundle(answer)) < dht_storage.MAX_HOLDERS
    one = signers[0]  # one node key filing under ever more keys
    for i in range(dht_storage.MAX_KEYS_PER_NODE + 20):
        prefix = f"bafyrei{i:02x}"[:9]
        storage.put(digest(pages_key(prefix)), encode_bundle([pages_record(one, prefix, URL, now)]), "10.2.0.1")
    assert storage.refused["node_full"] >= 20
    assert storage.counts()["held"] <= dht_storage.MAX_RECORDS


def test_a_node_publishes_its_wikis_whole_its_followed_namespaces_or_the_prefixes_of_its_pages(tmp_path):
    node = Node.init(tmp_path / "n")
    node.wiki("w")
    for title in ("Paris", "Lyon", "Talk:Paris"):
        edit(node, "w", title, f"about {title}", "new")
    now = now_ms()

    def published() -> list[Holder]:
        return [check_record(record, now, dht_key) for dht_key, record in node_records(node, URL, now)]

    whole = published()
    assert [(h.kind, h.wiki, h.namespaces, h.position) for h in whole] == [(WIKI, "w", None, node.store.last_seq())]
    node.config.follow_namespaces = [["w", 1], ["w", 0]]
    assert [(h.kind, h.namespaces) for h in published()] == [(WIKI, (0, 1))]
    node.config.follow_namespaces, node.config.follow_pages = [], ["w/Paris"]
    prefixes = {guid_prefix(cid_to_str(build_page(Page("w", ns, t)).cid)) for ns, t in ((0, "Paris"), (0, "Lyon"),
                                                                                         (1, "Paris"))}
    pages = published()
    assert {h.kind for h in pages} == {PAGES} and {h.prefix for h in pages} == prefixes
    node.close()


# -- real participants on 127.0.0.1 ---------------------------------------------------------


@pytest.fixture(scope="module")
def network():
    """Eight real DHT participants on loopback UDP ports, joined through the first."""
    first = Participant(0)
    members = [first] + [Participant(0, bootstrap=[("127.0.0.1", first.port)]) for _ in range(7)]
    yield members
    for member in members:
        member.stop()


def test_several_holders_of_one_wiki_coexist_and_any_participant_finds_them_all(network):
    signers = keys(3)
    now = now_ms()
    for i, signer in enumerate(signers):
        record = wiki_record(signer, "coexist", f"http://127.0.0.1:{9000 + i}/", 10 + i, now, None if i else (0,))
        assert network[i + 1].publish([(wiki_key("coexist"), record)]) == 1
    for asker in (network[0], network[-1]):
        found = asker.wiki_holders("coexist")
        assert [(h.url, h.position) for h in found] == [(f"http://127.0.0.1:{9000 + i}/", 10 + i)
                                                         for i in (2, 1, 0)]
        assert found[-1].namespaces == (0,) and found[0].namespaces is None
    guid = cid_to_str(build_page(Page("partial", 0, "Paris")).cid)
    record = pages_record(signers[0], guid_prefix(guid), "http://127.0.0.1:9100/", now)
    network[4].publish([(pages_key(guid_prefix(guid)), record)])
    assert [h.url for h in network[6].page_holders("partial", 0, "Paris")] == ["http://127.0.0.1:9100/"]


def test_a_forged_record_sent_over_udp_is_refused_by_every_participant_and_counted(network):
    signer = keys(1)[0]
    now = now_ms()
    forged = _forged(wiki_record(signer, "forgedwiki", URL, 1, now), url="http://evil.example/")
    before = sum(m.storage.refused["forged"] for m in network)
    dkey = digest(wiki_key("forgedwiki"))

    async def send() -> None:
        protocol = network[1].server.protocol
        await asyncio.gather(*(protocol.call_store(Contact(m.server.node.id, "127.0.0.1", m.port), dkey,
                                                   encode_bundle([forged]))
                               for m in network[2:]))
    asyncio.run_coroutine_threadsafe(send(), network[1].loop).result(10)
    assert sum(m.storage.refused["forged"] for m in network) - before == len(network) - 2
    assert network[0].wiki_holders("forgedwiki") == []


def test_a_lying_participant_that_keeps_forged_records_is_caught_by_the_reader():
    """A participant running the package's plain storage keeps anything; the reader verifies and counts."""
    signer = keys(1)[0]
    now = now_ms()
    reader = Participant(0)
    liar = Server()
    try:
        asyncio.run_coroutine_threadsafe(liar.listen(0, interface="127.0.0.1"), reader.loop).result(10)
        asyncio.run_coroutine_threadsafe(liar.bootstrap([("127.0.0.1", reader.port)]), reader.loop).result(10)
        stale = wiki_record(signer, "liarwiki", URL, 1, now - 7200_000)
        forged = _forged(wiki_record(signer, "liarwiki", URL, 1, now), pos=10 ** 6)
        liar.storage[digest(wiki_key("liarwiki"))] = encode_bundle([stale, forged])
        assert reader.wiki_holders("liarwiki") == []
        assert reader.server.read_refused["forged"] == 1 and reader.server.read_refused["expired"] == 1
    finally:
        reader.loop.call_soon_threadsafe(liar.stop)
        reader.stop()


def test_a_publisher_refreshes_its_records_before_they_expire_and_reports_what_was_refused(network):
    signer = keys(1)[0]
    stop = threading.Event()
    ttl = 2000
    said: list[str] = []

    def records(now: int, ttl: int) -> list[tuple[str, bytes]]:
        return [(wiki_key("refreshed"), wiki_record(signer, "refreshed", URL, 1, now, ttl=ttl))]

    thread = threading.Thread(target=publish_forever, args=(network[2], records, stop, said.append, ttl))
    thread.start()
    try:
        first = until(lambda: network[5].wiki_holders("refreshed"), "the first record")[0]
        later = until(lambda: [h for h in network[5].wiki_holders("refreshed") if h.ts > first.expires - ttl // 2],
                      "a refreshed record")
        assert later[0].expires > first.expires
        forged = _forged(records(now_ms(), ttl)[0][1], url="http://evil.example/")
        before = len(said)  # what other tests' forgeries made this participant refuse is told already
        network[2].storage.put(digest(wiki_key("refreshed")), encode_bundle([forged]), "10.0.0.9")
        until(lambda: any(line.startswith("the DHT participant refused 1 forged (") for line in said[before:]),
              "the refusal reported")
    finally:
        stop.set()
        thread.join()


def test_a_node_started_before_its_bootstrap_node_joins_when_it_comes_and_publishes_there():
    signer = keys(1)[0]
    port = free_udp_port()
    early = Participant(0, bootstrap=[("127.0.0.1", port)])  # nothing listens there yet
    stop = threading.Event()

    def records(now: int, ttl: int) -> list[tuple[str, bytes]]:
        return [(wiki_key("early"), wiki_record(signer, "early", URL, 7, now, ttl=ttl))]

    thread = threading.Thread(target=publish_forever, args=(early, records, stop, print))
    thread.start()
    late = None
    try:
        assert not early.knows_others()
        late = Participant(port)
        found = until(lambda: late.storage.records(digest(wiki_key("early"))), "the early node's record arrives")
        assert check_record(found[0], now_ms()).position == 7
    finally:
        stop.set()
        thread.join()
        early.stop()
        if late is not None:
            late.stop()


# -- real `wikipeer serve --dht` processes ------------------------------------------------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Two nodes holding one wiki (A a page, B another of its own) and an empty node, each serving with --dht,
    joined through the first. The empty node serves with two workers: the elected one runs its participant,
    and each worker finds holders through a lookup-only participant of its own joined through it."""
    base = tmp_path_factory.mktemp("dht")
    dirs = [base / "a", base / "b", base / "empty"]
    for d, title in ((dirs[0], "Only on A"), (dirs[1], "Only on B")):
        holder = Node.init(d)
        holder.wiki(WIKI_NAME)
        edit(holder, WIKI_NAME, title, f"{title[-1]}'s own page", "first")
        holder.close()
    Node.init(dirs[2]).close()
    ports = [free_udp_port() for _ in dirs]
    servers = []
    try:
        # All three start at once (each start costs seconds); B and C join through A whenever A is up.
        servers += [spawn_server(d, "--dht", str(p), *(["--dht-bootstrap", f"127.0.0.1:{ports[0]}"] if i else []),
                                 *(["--workers", "2"] if i == 2 else []))
                    for i, (d, p) in enumerate(zip(dirs, ports))]
        for proc, client in servers:
            wait_serving(proc, client, time.monotonic() + 60)
        yield dirs, ports, servers
    finally:
        for proc, client in servers:
            stop_server(proc, client)


def _discover(port: int, wiki: str = WIKI_NAME):
    return run_cli(None, "peer", "discover", wiki, "--bootstrap", f"127.0.0.1:{port}")


def test_peer_discover_lists_the_serving_nodes_that_hold_a_wiki(served):
    dirs, ports, servers = served
    urls = [str(client.base_url).rstrip("/") + "/" for _, client in servers[:2]]
    found = until(lambda: (r := _discover(ports[2])).code == 0 and all(u in r.out for u in urls) and r,
                  "both holders discovered")
    lines = [line for line in found.out.splitlines() if line.startswith("ed25519:")]
    assert len(lines) == 2 and all(" all " in line for line in lines), found.out
    key_a = run_cli(dirs[0], "key", "export", "node").out.strip()
    assert any(line.startswith(key_a) and urls[0] in line for line in lines), found.out
    assert str(servers[2][1].base_url) not in found.out  # the empty node holds no wiki and says none


def test_a_reader_of_the_empty_node_gets_a_page_no_peer_has_through_a_node_the_dht_found(served):
    dirs, ports, servers = served
    empty = servers[2][1]
    asker = Participant(0, bootstrap=[("127.0.0.1", ports[2])], lookup_only=True)
    try:
        until(lambda: len(asker.wiki_holders(WIKI_NAME)) == 2, "both holders published")
    finally:
        asker.stop()
    page = empty.get(f"/wiki/{WIKI_NAME}/Only_on_B")
    assert page.status_code == 200 and "own page" in page.text
    shown = run_cli(dirs[2], "show", WIKI_NAME, "Only on B")
    assert shown.code == 0 and shown.out.strip() == "B's own page"
    assert empty.get(f"/wiki/{WIKI_NAME}/Nobody_has_this").status_code == 404


def test_a_record_naming_another_nodes_address_sends_no_fetch_there(served):
    dirs, ports, servers = served
    a_url = str(servers[0][1].base_url).rstrip("/") + "/"
    a_key = run_cli(dirs[0], "key", "export", "node").out.strip()
    impostor = keys(1)[0]  # signs "I hold dhtwiki, at A's address"
    asker = Participant(0, bootstrap=[("127.0.0.1", ports[2])], lookup_only=True)
    try:
        asker.publish([(wiki_key("misdirected"), wiki_record(impostor, "misdirected", a_url, 99, now_ms()))])
        assert [h.url for h in asker.wiki_holders("misdirected")] == [a_url]  # the record is genuine
        finder = holder_urls(asker, own_key="ed25519:none")
        assert finder("misdirected", 0, "Only on A") == []  # but A is not the impostor
        until(lambda: a_url in finder(WIKI_NAME, 0, "Only on A"), "A's own record found")
        assert any(h.key == a_key for h in asker.wiki_holders(WIKI_NAME))
    finally:
        asker.stop()


def test_peer_discover_and_serve_say_what_is_wrong_with_a_bad_address_or_a_taken_port(tmp_path, capsys):
    assert_user_error(run_cli(None, "peer", "discover", "w", "--bootstrap", "nonsense"), "HOST:PORT")
    with pytest.raises(UserError, match="write HOST:PORT"):
        parse_address("nonsense:")
    Node.init(tmp_path / "n").close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        code = main(["--node", str(tmp_path / "n"), "serve", "--port", "0", "--dht", str(port)])
    said = capsys.readouterr()
    assert code == 2 and said.err == f"wikipeer: cannot listen for the DHT on UDP 127.0.0.1:{port}: Address already in use\n"
    assert "serving" not in said.out  # said before the server says it serves
    assert main(["--node", str(tmp_path / "n"), "serve", "--host", "0.0.0.0", "--port", "0", "--dht", "0"]) == 2
    assert "give --url" in capsys.readouterr().err  # http://0.0.0.0:PORT/ would reach no one
    assert main(["peer", "discover", "w", "--bootstrap", f"127.0.0.1:{free_udp_port()}"]) == 2  # in-process: quicker
    assert capsys.readouterr().err.startswith("wikipeer: no DHT participant answered at 127.0.0.1:")


def test_a_lookup_only_participant_finds_holders_and_leaves_no_trace_in_routing_tables(network):
    signer = keys(1)[0]
    network[3].publish([(wiki_key("traceless"), wiki_record(signer, "traceless", URL, 1, now_ms()))])
    contacts = [len(m.server.protocol.router.find_neighbors(m.server.node, k=100)) for m in network]
    asker = Participant(0, bootstrap=[("127.0.0.1", network[0].port)], lookup_only=True)
    try:
        assert [h.url for h in asker.wiki_holders("traceless")] == [URL]
    finally:
        asker.stop()
    assert [len(m.server.protocol.router.find_neighbors(m.server.node, k=100)) for m in network] == contacts
