"""DHT: discovering a wiki's holders over 20 real participants on loopback UDP (issue 18).

Anchor: the kademlia package as it comes (its own storage, one value per key) looking up one
value of the same size over 20 of its own servers in the same run, with the same crawl (not its
shortcut of answering from its own storage). With 20 nodes and k = 20 every node is among the
nearest to every key, so both are one round of alpha = 3 requests. The ratio is what signed,
merged, verified records cost a lookup. Also the sizes of records and of a full answer.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import nacl.signing
from kademlia.crawling import ValueSpiderCrawl
from kademlia.network import Server
from kademlia.node import Node
from kademlia.utils import digest

from wikipeer.net.dht_node import Participant
from wikipeer.net.dht_records import MAX_NAMESPACES, encode_bundle, pages_record, wiki_key, wiki_record
from wikipeer.net.dht_storage import now_ms

NODES = 20
HOLDERS = 10
LOOKUPS = 200


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95)] * 1000


def _wikipeer(value_size: list[int]) -> list[float]:
    first = Participant(0)
    members = [first] + [Participant(0, bootstrap=[("127.0.0.1", first.port)]) for _ in range(NODES - 1)]
    try:
        now = now_ms()
        for i in range(HOLDERS):
            signer = nacl.signing.SigningKey.generate()
            members[i].publish([(wiki_key("bench"), wiki_record(signer, "bench", f"http://10.0.0.{i}:8080/", i, now))])
        value_size.append(len(members[-1].storage.get(next(iter(members[-1].storage.keys)), b"")))
        times = []
        for n in range(LOOKUPS):
            asker = members[n % NODES]
            start = time.perf_counter()
            found = asker.wiki_holders("bench")
            times.append(time.perf_counter() - start)
            assert len(found) == HOLDERS, len(found)
        return times
    finally:
        for m in members:
            m.stop()


async def _crawl(server: Server, key: str) -> object:
    """The package's lookup without its shortcut (a server holding the key answers from memory): what
    `holders` does, so both cross the network."""
    node = Node(digest(key))
    nearest = server.protocol.router.find_neighbors(node)
    return await ValueSpiderCrawl(server.protocol, node, nearest, server.ksize, server.alpha).find()


class _Plain:
    """One of the package's own servers on a loop in a thread of its own, as a Participant is."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = Server()
        self.run(self.server.listen(0, interface="127.0.0.1"))

    def run(self, coro):  # noqa: ANN001, ANN202
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _plain(size: int) -> list[float]:
    """The package's own servers: set one value of ``size`` bytes, look it up from each in turn."""
    servers = [_Plain() for _ in range(NODES)]
    try:
        port = servers[0].server.transport.get_extra_info("sockname")[1]
        for s in servers[1:]:
            s.run(s.server.bootstrap([("127.0.0.1", port)]))
        servers[1].run(servers[1].server.set("bench", b"x" * size))
        times = []
        for n in range(LOOKUPS):
            asker = servers[n % NODES]
            start = time.perf_counter()
            value = asker.run(_crawl(asker.server, "bench"))
            times.append(time.perf_counter() - start)
            assert value is not None
        return times
    finally:
        for s in servers:
            s.stop()


def run() -> dict[str, float | int | str]:
    signer = nacl.signing.SigningKey.generate()
    now = now_ms()
    typical = wiki_record(signer, "enwiki", "https://wiki.example.org/", 123_456_789, now)
    biggest = wiki_record(signer, "w" * 64, "https://" + "h" * 240 + "/", 2 ** 62, now,
                          tuple(range(100_000, 100_000 + MAX_NAMESPACES)))
    pages = pages_record(signer, "bafyreiab", "https://wiki.example.org/", now)
    sizes: list[int] = []
    ours = _wikipeer(sizes)
    anchor = _plain(sizes[0])
    ours_median, ours_p95 = _ms(ours)
    anchor_median, anchor_p95 = _ms(anchor)
    return {
        "record: typical wiki holder (B)": len(typical),
        "record: biggest wiki holder (B)": len(biggest),
        "record: page-prefix holder (B)": len(pages),
        f"answer: {HOLDERS} holders (B)": sizes[0],
        "answer: bundle of 10 typical (B)": len(encode_bundle([typical] * 10)),
        f"discover over {NODES} nodes, median (ms)": ours_median,
        f"discover over {NODES} nodes, p95 (ms)": ours_p95,
        "anchor: plain kademlia get, median (ms)": anchor_median,
        "anchor: plain kademlia get, p95 (ms)": anchor_p95,
        "ratio: discover / plain get (median)": ours_median / anchor_median,
    }


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<45} {v:,.3f}" if isinstance(v, float) else f"{k:<45} {v}")
