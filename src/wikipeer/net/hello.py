"""A node says hello to its neighbours on the gossip ring, so that gossip reaches it soon after it joins.

Gossip (net/gossip.py) hands the smallest parts of the ring to the nodes
nearest each place there: a node its ring neighbours do not know lies in a
part no one covers. Peer exchange alone makes a new node known only as its
name spreads from descriptor to descriptor, which can take longer than the
next notice. So after each sync_all (net/sync.py) a node that knows the
address other nodes reach it at (``serve --url``) says hello to the
NEIGHBOURS known nodes nearest its place on each side that did not yet say
they know it: ``POST /api/v1/hello`` with ``{"url": URL}``, signed by its
node key. The receiver takes (URL, the proven caller's key) as a candidate
(store/peer_candidates.announced), never trusted: at its next sync it reads
the descriptor at that URL, before other waiting candidates, and keeps the
candidate only if that descriptor shows the key. Its answer says whether it
knew this node already (a peer, or a verified candidate); a neighbour that
did is not told again for HELLO_AGAIN seconds. Which neighbours said so is
kept in memory: a node that restarts says hello once more to each.
"""

from __future__ import annotations

import json
import math
import time

from wikipeer.errors import UserError
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.gossip import ring_members
from wikipeer.net.signing import node_signer
from wikipeer.node import Node
from wikipeer.store import peer_candidates
from wikipeer.store.gossip_queue import position
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import normalize_url

NEIGHBOURS = 2
"""Nodes told on each side of this node's place: gossip's last parts end at the nearest one or two."""
HELLO_AGAIN = 3600.0
"""Seconds before a neighbour that said it knows this node is told again (it may have given it up since)."""
MAX_BODY = 4096
PATH = "/api/v1/hello"

_knowing: dict[str, dict[str, float]] = {}
"""By node directory: the neighbours (URL) that answered they know that node, and when (monotonic seconds)."""


class BadHello(UserError):
    """A hello whose body is not ``{"url": "http(s)://..."}``."""

    status = 400


def neighbours(me: str, members: dict[str, str], count: int = NEIGHBOURS) -> list[tuple[str, str]]:
    """(url, key) of the ``count`` nodes of ``members`` (url -> key) nearest below the place of the key
    ``me`` on the ring, and as many above (the ring's ends are not joined: gossip's parts never wrap)."""
    return peer_candidates.nearest(list(members.items()), position(me), 2 * count, lambda m: m[1])


def announce(node: Node, url: str, timeout: float = 10.0) -> int:
    """Say hello, as the node other nodes reach at ``url``, to the neighbours that did not say they know
    this node; returns how many hellos were answered. A neighbour that is a candidate and does not
    answer comes nearer to being given up, as for gossip."""
    me = node.keyring.get(NODE_KEY).public
    knowing = _knowing.setdefault(str(node.dir), {})
    now = time.monotonic()
    signer = node_signer(node)
    answered = 0
    for peer_url, key in neighbours(me, ring_members(node)):
        if now - knowing.get(peer_url, -math.inf) < HELLO_AGAIN:
            continue
        try:
            with PeerClient(peer_url, timeout=timeout, signer=signer, audience=key) as client:
                knew = client.hello(url)
        except PeerError:
            peer_candidates.failed(node.store, peer_url)  # nothing for a peer that is not a candidate
            continue
        answered += 1
        if knew:
            knowing[peer_url] = now
    return answered


def take(node: Node, body: bytes, key: str) -> dict:
    """The answer to a hello from the node that proved ``key``: ``{"known": bool}``, whether this node
    knew it at that URL already; BadHello for a malformed body. Nothing is fetched here: the candidate
    is verified at the next sync."""
    try:
        data = json.loads(body)
        url = normalize_url(data["url"])
    except (ValueError, TypeError, KeyError, AttributeError, UserError) as exc:
        raise BadHello(f'a hello is {{"url": "http(s)://..."}}, the address the caller is reached at: {exc}') \
            from None
    return {"known": peer_candidates.announced(node.store, url, key, node.keyring.get(NODE_KEY).public)}
