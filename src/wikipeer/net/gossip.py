"""Gossip: notices (trust lists, blocklists, bans) reach every node in a few rounds.

A node that accepts a new notice, published here or received by gossip,
passes it on once, to at most three peers. Which three is random but
structured: every node has a place on a ring (the hash of its node key), and
each gossip message carries the part of the ring its receiver is to cover.
The receiver cuts its own place out of its part, splits the rest in three
(the larger side of the cut in two) and sends to one random peer in each,
handing over that part. The parts never overlap and never hold a node that
already has the notice, so each node gets it exactly once (n - 1 messages
for n nodes), and the rounds grow with the log of the number of nodes.
(Splitting without the cut handed the receiver's own third to another node,
which could send the notice back: a duplicate that went no further, and the
rest of that part never got it.) A notice that arrives again (from sync,
or a storm of copies) is a duplicate at ingest and goes no further. A node
that is down leaves its part uncovered until the regular sync pulls the
notice anyway. The ring holds the peers this node syncs with and the
candidates peer exchange verified (net/exchange.py): the whole network, once
the exchange has run for a few syncs.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from wikipeer.ingest import ACCEPTED, IngestReport
from wikipeer.model.block import Block
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.node import Node
from wikipeer.store import gossip_queue, peer_candidates
from wikipeer.store.gossip_queue import RING, position
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook
from wikipeer.store.schema import NOTICE_KINDS

FANOUT = 3
RETRIES = 3  # peers tried, one after another, for a part whose first peer is down
WHOLE = (0, RING)


def split(lo: int, hi: int, parts: int = FANOUT) -> list[tuple[int, int]]:
    step = max(1, (hi - lo) // parts)
    bounds = [min(lo + i * step, hi) for i in range(parts)] + [hi]  # never past hi, even for tiny parts
    return [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]


@dataclass(frozen=True, slots=True)
class Target:
    """One gossip message: to whom, and the part of the ring it then covers."""

    peer: str
    lo: int
    hi: int


def parts(me: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) without the position ``me``, in at most three parts: [lo, me) and [me+1, hi), the larger
    of the two split in two. (The proposal of bench/trust_bench.py, which measured the old holes.)"""
    if not lo <= me < hi:
        return split(lo, hi)
    left, right = (lo, me), (me + 1, hi)
    if left[0] >= left[1]:
        return split(*right)
    if right[0] >= right[1]:
        return split(*left)
    if me - lo >= hi - me - 1:
        return split(*left, 2) + [right]
    return [left, *split(*right, 2)]


def targets(me: int, peers: dict[str, int], lo: int, hi: int, rng: random.Random) -> list[Target]:
    """A random peer in each part of [lo, hi) without this node's place, with that part to cover."""
    return [group[0] for group in target_groups(me, peers, lo, hi, rng)]


def target_groups(me: int, peers: dict[str, int], lo: int, hi: int, rng: random.Random) -> list[list[Target]]:
    """For each part, every peer in it in random order: the first is asked, the next if it is down.

    A part in which this node knows no peer is not dropped: it goes with the part beside it on the
    same side of this node's place, whose receiver may know the nodes in it. (Not across that place:
    the receiver could send the notice back here, a duplicate.) A side of [lo, hi) where this node
    knows nobody is left to sync.
    """
    found = []
    for a, b in parts(me, lo, hi):
        candidates = sorted(url for url, pos in peers.items() if a <= pos < b and pos != me)
        rng.shuffle(candidates)
        found.append((a, b, candidates))
    joined = _join_empty(found)
    return [[Target(url, a, b) for url in urls] for a, b, urls in joined if urls]


def _join_empty(found: list[tuple[int, int, list[str]]]) -> list[tuple[int, int, list[str]]]:
    """Parts with no known peer joined to the part beside them, when that part touches them."""
    joined: list[tuple[int, int, list[str]]] = []
    for a, b, urls in found:
        if joined and (not urls or not joined[-1][2]) and joined[-1][1] == a:
            pa, _, purls = joined.pop()
            joined.append((pa, b, purls + urls))
        else:
            joined.append((a, b, urls))
    return joined


def queue_accepted(node: Node, report: IngestReport, lo: int = 0, hi: int = RING) -> int:
    """Queue the notices ``report`` accepted, to be passed on once; returns how many."""
    queued = 0
    for status in report.statuses:
        oid = node.store.object_id(status.cid) if status.state == ACCEPTED else None
        row = node.store.conn.execute("SELECT kind FROM objects WHERE id = ?", (oid,)).fetchone() if oid else None
        if row and row[0] in NOTICE_KINDS:
            gossip_queue.queue(node.store, oid, lo, hi)
            queued += 1
    return queued


def _notice_blocks(node: Node, oid: int) -> list[Block]:
    cid = node.store.conn.execute("SELECT cid FROM objects WHERE id = ?", (oid,)).fetchone()[0]
    sigs = node.store.conn.execute("SELECT o.cid FROM sigs s JOIN objects o ON o.id = s.sig WHERE s.target = ?", (oid,))
    return [b for b in [node.store.get_block(cid), *(node.store.get_block(c) for (c,) in sigs)] if b is not None]


def gossip_round(node: Node, rng: random.Random | None = None, timeout: float = 10.0) -> int:
    """Pass on every queued notice once; returns the number of messages sent."""
    rng = rng or random.Random()
    rows = gossip_queue.pending(node.store)
    if not rows:
        return 0
    me_key = node.keyring.get(NODE_KEY).public
    peers = {p.url: position(p.key) for p in PeerBook(node.store).list() if p.key and not p.banned}
    candidates = {url: position(key) for url, key in peer_candidates.usable(node.store) if url not in peers}
    sent = 0
    for oid, lo, hi in rows:
        blocks = _notice_blocks(node, oid)
        for group in target_groups(position(me_key), peers | candidates, lo, hi, rng):
            sent += _send_to_one(node, group[:RETRIES], blocks, me_key, timeout, candidates)
        gossip_queue.done(node.store, oid)
    return sent


def _send_to_one(node: Node, group: list[Target], blocks: list[Block], me_key: str, timeout: float,
                 candidates: dict[str, int]) -> int:
    """Hand a part of the ring to the first peer in it that answers; returns the messages that arrived.

    If none does, that part waits for its nodes' next sync. A candidate that does not answer
    comes nearer to being given up (store/peer_candidates.py).
    """
    for target in group:
        try:
            with PeerClient(target.peer, timeout=timeout) as client:
                client.gossip(blocks, target.lo, target.hi, me_key)
            return 1
        except PeerError:
            if target.peer in candidates:
                peer_candidates.failed(node.store, target.peer)
            continue
    return 0


def parse_range(text: str | None) -> tuple[int, int]:
    """A ring part from its header, "LO-HI" in hexadecimal; the whole ring when absent or malformed."""
    try:
        lo, hi = (int(x, 16) for x in (text or "").split("-", 1))
    except ValueError:
        return WHOLE
    return (lo, hi) if 0 <= lo < hi <= RING else WHOLE


def only_notices(blocks: Iterable[Block], limit: int = 64) -> list[Block]:
    """A gossip message is a notice and its signatures: a few blocks, never a bulk transfer."""
    out = []
    for block in blocks:
        out.append(block)
        if len(out) > limit:
            raise PeerError(f"a gossip message of more than {limit} blocks")
    return out


def gossip_forever(node: Node, every: float, stop: threading.Event, log_error=print) -> None:
    """Run gossip rounds until ``stop`` is set (``wikipeer serve`` runs this beside the web page).

    A failed round (a full disk, a store error) is reported and the next round
    tries again: the queue keeps what was not passed on.
    """
    while not stop.wait(every):
        try:
            gossip_round(node)
        except Exception as exc:  # the thread must outlive any one failure, as sync's does
            log_error(f"gossip: {exc}")
