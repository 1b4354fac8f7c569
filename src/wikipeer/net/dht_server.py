"""The kademlia package's server, changed as little as records need.

Three changes: a store request's records go to RecordStorage with the sender's address (for the
per-address bound); a value lookup merges the bundles of every node that answered, with this
node's own, instead of taking the most common one (several holders per key); and what a lookup
brings is verified here, the refused counted in ``read_refused``.
"""

from __future__ import annotations

import logging
from collections import Counter

from kademlia.crawling import ValueSpiderCrawl
from kademlia.network import Server
from kademlia.node import Node
from kademlia.protocol import KademliaProtocol
from kademlia.utils import digest

from wikipeer.net.dht_records import BadRecord, Holder, check_record, decode_bundle, encode_bundle, fitting
from wikipeer.net.dht_storage import RecordStorage, now_ms

KEY_BYTES = 20
WAIT_SECONDS = 2.0
"""How long a request waits for its answer (the package waits 5 s): a participant that left, such as a
`peer discover` done, costs each lookup that still meets it this long, once."""
# A peer that does not answer is routine in a DHT, not something to print on every serve's terminal.
logging.getLogger("kademlia").setLevel(logging.CRITICAL)
logging.getLogger("rpcudp").setLevel(logging.CRITICAL)
LOOKUP_ONLY = bytes(KEY_BYTES)
"""The node id of a participant that only looks up (`peer discover`): others answer it but never add it to
their routing tables, where it would stay, gone, until a request to it timed out."""


class RecordProtocol(KademliaProtocol):
    """Kademlia's protocol whose store requests are merged, verified and bounded by RecordStorage."""

    storage: RecordStorage

    def __init__(self, source_node: Node, storage: RecordStorage, ksize: int) -> None:
        super().__init__(source_node, storage, ksize)
        self._wait_timeout = WAIT_SECONDS

    def welcome_if_new(self, node: Node) -> None:
        if node.id != LOOKUP_ONLY:
            super().welcome_if_new(node)

    def rpc_store(self, sender: tuple[str, int], nodeid: bytes, key: bytes, value: object) -> bool:
        if not isinstance(nodeid, bytes) or len(nodeid) != KEY_BYTES or not isinstance(key, bytes) \
                or len(key) != KEY_BYTES:
            self.storage.refused["malformed"] += 1
            return False
        self.welcome_if_new(Node(nodeid, sender[0], sender[1]))
        return self.storage.put(key, value, sender[0]) > 0


class MergingCrawl(ValueSpiderCrawl):
    """A value lookup that keeps every bundle found in the round that found any."""

    async def _handle_found_values(self, values: list) -> list:
        merged: list[bytes] = []
        for value in values:
            try:
                merged += decode_bundle(value)
            except BadRecord:
                merged.append(b"")  # counted as malformed when read
        peer = self.nearest_without_value.popleft()
        sound = _sound(merged, self.node.id)
        if peer and sound:  # as the package does: the nearest node that lacked the key is given what was found
            await self.protocol.call_store(peer, self.node.id, encode_bundle(fitting(sound)))
        return merged


def _sound(records: list[bytes], dkey: bytes) -> list[bytes]:
    """The records that pass every check, under their own key: only those are passed on (a node that
    handed on another's forgery would be counted, and bounded, for it)."""
    now, sound = now_ms(), []
    for data in records:
        try:
            if digest(check_record(data, now).dht_key) == dkey:
                sound.append(data)
        except BadRecord:
            pass
    return sound


class RecordServer(Server):
    """A DHT participant holding wikipeer's signed records."""

    protocol_class = RecordProtocol

    def __init__(self, storage: RecordStorage | None = None, ksize: int = 20, alpha: int = 3,
                 node_id: bytes | None = None) -> None:
        super().__init__(ksize=ksize, alpha=alpha, node_id=node_id, storage=storage or RecordStorage())
        self.read_refused: Counter[str] = Counter()

    async def publish(self, dht_key: str, record: bytes) -> bool:
        """File one signed record under ``dht_key`` here and on the nodes nearest it.

        Kept here whether or not this node is near the key (the package keeps it only if near): the first
        node of a DHT has no one to file with, and hands its records on to each node that joins."""
        value = encode_bundle([record])
        kept = self.storage.put(digest(dht_key), value) > 0
        return await self.set_digest(digest(dht_key), value) or kept

    async def holders(self, dht_key: str) -> list[Holder]:
        """Every verified holder filed under ``dht_key`` that this node and the network know, newest
        record per node key."""
        dkey = digest(dht_key)
        found = list(self.storage.records(dkey))
        nearest = self.protocol.router.find_neighbors(Node(dkey))
        if nearest:
            crawled = await MergingCrawl(self.protocol, Node(dkey), nearest, self.ksize, self.alpha).find()
            found += crawled or []
        return self._verified(found, dht_key)

    def _verified(self, records: list[bytes], dht_key: str) -> list[Holder]:
        now, best = now_ms(), {}
        for data in dict.fromkeys(records):
            try:
                holder = check_record(data, now, dht_key)
            except BadRecord as exc:
                self.read_refused[exc.reason] += 1
                continue
            if holder.key not in best or best[holder.key].ts < holder.ts:
                best[holder.key] = holder
        return sorted(best.values(), key=lambda h: (-h.position, -h.ts))


async def start(port: int, host: str, bootstrap: list[tuple[str, int]],
                storage: RecordStorage | None = None, lookup_only: bool = False) -> RecordServer:
    """A participant listening on UDP ``host``:``port`` (0: any free port), joined through ``bootstrap``;
    ``lookup_only``: one that asks and is never asked (see LOOKUP_ONLY)."""
    server = RecordServer(storage, node_id=LOOKUP_ONLY if lookup_only else None)
    await server.listen(port, interface=host)
    if bootstrap:
        await server.bootstrap(bootstrap)
    return server


def udp_port(server: RecordServer) -> int:
    """The UDP port a participant listens on."""
    return server.transport.get_extra_info("sockname")[1]

