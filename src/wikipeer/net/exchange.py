"""Peer exchange: nodes learn of each other from the peer lists in their signed descriptors.

At a sync (at most every EXCHANGE_EVERY seconds per peer, and at the first)
the peer's descriptor is read and the peers it names become candidates
(store/peer_candidates.py). After the sync, some candidates are checked
(``budget``: VERIFY_PER_SYNC, or a share of those waiting, up to VERIFY_MOST):
their own descriptor must show the key they were named with; that
descriptor's peers are learned in turn. So a node comes to
know the whole network in a few syncs, as gossip's ring needs (net/gossip.py
sends to verified candidates as to peers), while it syncs only with the
peers its operator added. Nothing a candidate says is trusted more than
anything else from the network: candidates bring no content, and only
verified ones are sent notices.
"""

from __future__ import annotations

import time

from wikipeer.net.client import PeerClient, PeerError, PeerLied
from wikipeer.net.descriptor import Descriptor
from wikipeer.node import Node
from wikipeer.store import peer_candidates
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook

EXCHANGE_EVERY = 600.0
VERIFY_PER_SYNC = 8
VERIFY_SECONDS = 30.0  # one call's reading of candidates' descriptors, at most
VERIFY_SHARE = 4  # a sync verifies at least a quarter of the candidates waiting...
VERIFY_MOST = 64  # ...but no more than this many (one descriptor request each)
ADOPT = 2  # candidates a node cut off from all its peers takes as peers


def due(node: Node, url: str, every: float = EXCHANGE_EVERY) -> bool:
    """Whether the peer's list of peers is to be read again (never read, or read ``every`` seconds ago)."""
    last = peer_candidates.last_exchange(node.store, url)
    return last is None or time.time() * 1000 - last >= every * 1000


def learn(node: Node, descriptor: Descriptor, via: str) -> int:
    """Take the peers a checked descriptor names as candidates; returns how many were new."""
    peer_candidates.exchanged(node.store, via)
    if not descriptor.peers:
        return 0
    return peer_candidates.learn(node.store, list(descriptor.peers), via, node.keyring.get(NODE_KEY).public)


def budget(waiting: int) -> int:
    """How many candidates one sync verifies when ``waiting`` wait: VERIFY_PER_SYNC, more when many wait
    (a node that joins a network of 1,000 learns of nearly all at once), never more than VERIFY_MOST."""
    return min(VERIFY_MOST, max(VERIFY_PER_SYNC, -(-waiting // VERIFY_SHARE)))


def verify_some(node: Node, limit: int | None = None, timeout: float = 10.0, announced: bool = False) -> int:
    """Read the descriptors of up to ``limit`` candidates not checked yet (by default the ``budget`` for
    those waiting), for at most VERIFY_SECONDS in all; ``announced``: those that said hello (net/hello.py),
    else those peer exchange named. Returns how many proved good.

    A candidate that answers with another key (or a forged descriptor) is given up at once; one that
    does not answer is tried again later, and given up after peer_candidates.MAX_TRIES failures.
    """
    if limit is None:
        limit = budget(peer_candidates.waiting(node.store))
    good = 0
    ends = time.monotonic() + VERIFY_SECONDS
    for candidate in peer_candidates.unverified(node.store, limit, node.keyring.get(NODE_KEY).public, announced):
        if time.monotonic() > ends:  # candidates that do not answer must not hold up the sync that called
            break
        try:
            with PeerClient(candidate.url, timeout=timeout) as client:
                descriptor = client.descriptor()
        except PeerLied:
            peer_candidates.give_up(node.store, candidate.url)
            continue
        except PeerError:
            peer_candidates.failed(node.store, candidate.url)
            continue
        if descriptor.key != candidate.key:
            peer_candidates.give_up(node.store, candidate.url)
            continue
        peer_candidates.verified(node.store, candidate.url)
        learn(node, descriptor, candidate.url)
        good += 1
    return good


def adopt(node: Node, count: int = ADOPT) -> list[str]:
    """Make up to ``count`` verified candidates peers, the most recently verified first; returns their URLs.

    For a node cut off (every peer it syncs with failed, or it has none): without it, a node whose
    peers all left would never take another edit. What they send is verified at the door as any
    peer's is; the operator sees them in `wikipeer peer list` and may remove them.
    """
    peers = PeerBook(node.store)
    chosen = sorted(peer_candidates.every(node.store), key=lambda c: -(c.verified or 0))
    adopted = []
    for candidate in [c for c in chosen if c.verified is not None and c.dead is None][:count]:
        peers.add(candidate.url)
        peers.set(candidate.url, key=candidate.key)
        peer_candidates.forget(node.store, candidate.url)
        adopted.append(candidate.url)
    return adopted
