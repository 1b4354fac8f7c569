"""Gossip: notices (trust lists, blocklists, bans) reach every node in a few rounds.

A node that accepts a new notice, published here or received by gossip,
passes it on once, to at most three peers. Which three is random but
structured: every node has a place on a ring (the hash of its node key), and
each gossip message carries the part of the ring its receiver is to cover.
The receiver cuts its own place out of its part, splits the rest in three
holding as many known peers each (never across its own place) and sends to
one random peer in each, handing over that part. The parts never overlap
and never hold a node that already has the notice, so each node gets it
exactly once (n - 1 messages for n nodes), and the rounds grow with the log
of the number of nodes.
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
from wikipeer.net.signing import RequestSigner, node_signer
from wikipeer.node import Node
from wikipeer.store import gossip_queue, peer_candidates
from wikipeer.store.gossip_queue import RING, position
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook

FANOUT = 3
RETRIES = 3  # peers tried, one after another, for a part whose first peer is down
WHOLE = (0, RING)


@dataclass(frozen=True, slots=True)
class Target:
    """One gossip message: to whom, and the part of the ring it then covers."""

    peer: str
    lo: int
    hi: int


def targets(me: int, peers: dict[str, int], lo: int, hi: int, rng: random.Random) -> list[Target]:
    """A random peer in each part of [lo, hi) without this node's place, with that part to cover."""
    return [group[0] for group in target_groups(me, peers, lo, hi, rng)]


def target_groups(me: int, peers: dict[str, int], lo: int, hi: int, rng: random.Random) -> list[list[Target]]:
    """For each part, every peer in it in random order: the first is asked, the next if it is down.

    The parts are cut by the peers this node knows in [lo, hi), not by the ring's length: each holds
    as many of them as can be (``balanced_parts``), so the rounds grow with log3 of the nodes however
    unevenly their places fall (cut by length, 1,000 nodes took 10-11 rounds; by count, 8).
    """
    known = sorted(pos for pos in peers.values() if lo <= pos < hi and pos != me)
    groups = []
    for a, b in balanced_parts(me, known, lo, hi):
        candidates = sorted(url for url, pos in peers.items() if a <= pos < b and pos != me)
        rng.shuffle(candidates)
        groups.append([Target(url, a, b) for url in candidates])
    return groups


def balanced_parts(me: int, known: list[int], lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) without the place ``me``, in at most FANOUT parts each holding about as many of the
    ``known`` places (sorted) as the others, never across ``me`` (the receiver of a part that held
    this node could send the notice back: a duplicate). A side of ``me`` where no place is known is
    left out: its nodes, if any, take the notice at their next sync. Every part holds a known place."""
    inside = lo <= me < hi
    sides = [(lo, me, [p for p in known if p < me]), (me + 1, hi, [p for p in known if p > me])] if inside \
        else [(lo, hi, known)]
    sides = [side for side in sides if side[2]]
    counts = [FANOUT]
    if len(sides) == 2:
        below, above = len(sides[0][2]), len(sides[1][2])
        share = min(FANOUT - 1, max(1, round(FANOUT * below / (below + above))))
        counts = [share, FANOUT - share]
    out = []
    for (a, b, places), k in zip(sides, counts):
        k = min(k, len(places))
        bounds = [a, *(places[i * len(places) // k] for i in range(1, k)), b]
        out += [(bounds[i], bounds[i + 1]) for i in range(k)]
    return out


def queue_accepted(node: Node, report: IngestReport, lo: int = 0, hi: int = RING) -> int:
    """Queue the notices ``report`` accepted, to be passed on once; returns how many."""
    queued = 0
    for status in report.statuses:
        oid = node.store.object_id(status.cid) if status.state == ACCEPTED else None
        if oid and gossip_queue.is_notice(node.store, oid):
            gossip_queue.queue(node.store, oid, lo, hi)
            queued += 1
    return queued


def ring_members(node: Node) -> dict[str, str]:
    """The nodes gossip sends to, url -> key: the peers with a known key, not banned, and the verified
    candidates (store/peer_candidates.py)."""
    keys = {p.url: p.key for p in PeerBook(node.store).list() if p.key and not p.banned}
    keys.update((url, key) for url, key in peer_candidates.usable(node.store) if url not in keys)
    return keys


def gossip_round(node: Node, rng: random.Random | None = None, timeout: float = 10.0) -> int:
    """Pass on every queued notice once; returns the number of messages sent."""
    rng = rng or random.Random()
    rows = gossip_queue.pending(node.store)
    if not rows:
        return 0
    me_key = node.keyring.get(NODE_KEY).public
    keys = ring_members(node)
    peers = {url: position(key) for url, key in keys.items()}
    signer = node_signer(node)
    sent = 0
    for oid, lo, hi in rows:
        blocks = gossip_queue.notice_blocks(node.store, oid)
        for group in target_groups(position(me_key), peers, lo, hi, rng):
            sent += _send_to_one(node, group[:RETRIES], blocks, me_key, timeout, signer, keys)
        gossip_queue.done(node.store, oid)
    return sent


def _send_to_one(node: Node, group: list[Target], blocks: list[Block], me_key: str, timeout: float,
                 signer: RequestSigner | None = None, keys: dict[str, str] | None = None) -> int:
    """Hand a part of the ring to the first peer in it that answers; returns the messages that arrived.

    If none does, that part waits for its nodes' next sync. With ``signer`` the message is signed
    for the peer's key (``keys``, by address). A candidate (store/peer_candidates.py) that does not
    answer comes nearer to being given up.
    """
    for target in group:
        try:
            with PeerClient(target.peer, timeout=timeout, signer=signer,
                            audience=(keys or {}).get(target.peer)) as client:
                client.gossip(blocks, target.lo, target.hi, me_key)
            return 1
        except PeerError:
            peer_candidates.failed(node.store, target.peer)  # nothing for a peer that is not a candidate
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
