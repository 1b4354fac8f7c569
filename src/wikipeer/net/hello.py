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
(store/peer_candidates.announced), never trusted: it reads the descriptor at
that URL (below, or at its next sync before other waiting candidates) and
keeps the candidate only if that descriptor shows the key. Its answer says whether it
knew this node already (a peer, or a verified candidate); a neighbour that
did is not told again for HELLO_AGAIN seconds. Which neighbours said so is
kept in memory: a node that restarts says hello once more to each.

The receiver does not wait for its next sync to verify who said hello:
``welcome_forever`` (a loop of ``serve``, every ``--gossip-every``) reads
the descriptors of up to WELCOME announced candidates a turn, nearest first,
so a node that joined is known to its neighbours seconds after its first
sync, not an interval later. Never from inside the request handler: a hello
costs its receiver a descriptor request, a turn later (tried again, up to
peer_candidates.MAX_TRIES, if it does not answer). Hellos not yet proved good are
bounded on their own (peer_candidates.MAX_ANNOUNCED, one per host and port), and
one naming a loopback or private address is taken only from a caller on such
an address; sync's own verification never waits on them.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from wikipeer.errors import UserError
from wikipeer.net import exchange
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.gossip import ring_members
from wikipeer.net.signing import node_signer
from wikipeer.node import Node
from wikipeer.store import peer_candidates
from wikipeer.store.gossip_queue import position
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import normalize_url

NEIGHBOURS = 2
"""Nodes told on each side of this node's place (the nearest that answer): gossip's last parts end at the
nearest one or two."""
HELLO_AGAIN = 3600.0
"""Seconds before a neighbour that said it knows this node is told again (it may have given it up since)."""
WELCOME = 4
"""Announced candidates verified a turn of ``welcome_forever``."""
MAX_BODY = 4096
PATH = "/api/v1/hello"

_knowing: dict[str, dict[str, float]] = {}
"""By node directory: the neighbours (URL) that answered they know that node, and when (monotonic seconds)."""


class BadHello(UserError):
    """A hello whose body is not ``{"url": "http(s)://..."}``."""

    status = 400


def sides(me: str, members: dict[str, str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(url, key) of the nodes of ``members`` (url -> key) below the place of the key ``me`` on the ring
    and above it, each side nearest first (the ring's ends are not joined: gossip's parts never wrap)."""
    mine = position(me)
    placed = sorted(members.items(), key=lambda m: position(m[1]))
    return ([m for m in reversed(placed) if position(m[1]) < mine], [m for m in placed if position(m[1]) > mine])


def announce(node: Node, url: str, timeout: float = 10.0) -> int:
    """Say hello, as the node other nodes reach at ``url``, to the NEIGHBOURS nearest nodes on each side
    that answer and did not say they know this node (one that does not answer is passed over for the next,
    up to 2 * NEIGHBOURS tried a side); returns how many hellos were answered. A candidate that does not
    answer comes nearer to being given up, as for gossip."""
    knowing = _knowing.setdefault(str(node.dir), {})
    signer = node_signer(node)
    answered = 0
    # A node reached on loopback (the default when serving on 127.0.0.1) is of no use to a node elsewhere.
    members = {u: k for u, k in ring_members(node).items()
               if not _loopback(url) or _loopback(u)}
    for side in sides(node.keyring.get(NODE_KEY).public, members):
        reached = tried = 0
        for peer_url, key in side:
            if reached >= NEIGHBOURS or tried >= 2 * NEIGHBOURS:
                break
            if time.monotonic() - knowing.get(peer_url, -math.inf) < HELLO_AGAIN:
                reached += 1
                continue
            tried += 1
            try:
                with PeerClient(peer_url, timeout=timeout, signer=signer, audience=key) as client:
                    knew = client.hello(url)
            except PeerError:
                peer_candidates.failed(node.store, peer_url)  # nothing for a peer that is not a candidate
                continue
            reached += 1
            answered += 1
            if knew:
                knowing[peer_url] = time.monotonic()
    return answered


def take(node: Node, body: bytes, key: str, caller_host: str | None = None) -> dict:
    """The answer to a hello from the node that proved ``key``, calling from ``caller_host``:
    ``{"known": bool}``, whether this node knew it at that URL already; BadHello for a malformed body, or
    for a URL on a loopback, private or link-local address from a caller that is not on one itself
    (a hello must not make this node call into its own network). Nothing is fetched here: the candidate
    is verified by ``welcome``, a turn later."""
    try:
        data = json.loads(body)
        url = normalize_url(data["url"])
    except (ValueError, TypeError, KeyError, AttributeError, UserError) as exc:
        raise BadHello(f'a hello is {{"url": "http(s)://..."}}, the address the caller is reached at: {exc}') \
            from None
    if _internal(urlsplit(url).hostname) and not _internal(caller_host):
        raise BadHello(f"a hello from {caller_host} names {url}, an address inside this node's network")
    return {"known": peer_candidates.announced(node.store, url, key, node.keyring.get(NODE_KEY).public)}


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    address = _ip(host)
    return host == "localhost" or (address is not None and address.is_loopback)


def _internal(host: str | None) -> bool:
    """Whether ``host`` is loopback, private or link-local (an IP literal, or localhost); names that resolve
    to such addresses are not caught here."""
    if host is None:
        return False
    address = _ip(host)
    if address is None:
        return host.lower() == "localhost" or host.lower().endswith(".localhost")
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def welcome(node: Node, timeout: float = 10.0) -> int:
    """Verify up to WELCOME candidates that said hello (nearest this node first); returns how many proved good."""
    return exchange.verify_some(node, WELCOME, timeout, announced=True)


def welcome_forever(node: Node, every: float, stop: threading.Event,
                    log_error: Callable[[str], object] = print) -> None:
    """Run ``welcome`` every ``every`` seconds until ``stop`` is set (``wikipeer serve`` runs this)."""
    while not stop.wait(every):
        try:
            welcome(node)
        except Exception as exc:  # the thread must outlive any one failure, as gossip's does
            log_error(f"verifying who said hello: {exc}")
