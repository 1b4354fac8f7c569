"""`wikipeer peer discover`, and the DHT participant `wikipeer serve --dht` runs beside the web server."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable

from wikipeer.cli.shell import out
from wikipeer.errors import UserError
from wikipeer.net.dht_node import Participant, holder_urls, parse_address, publish_forever
from wikipeer.net.dht_publish import node_records
from wikipeer.net.dht_records import Holder
from wikipeer.net.dht_storage import now_ms
from wikipeer.net.fetch import Finder
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY


def peer_discover(args: argparse.Namespace) -> int:
    """List the holders of a wiki the DHT knows, their records verified."""
    bootstrap = [parse_address(a) for a in args.bootstrap]
    participant = Participant(args.port, bootstrap=bootstrap, lookup_only=True)
    try:
        if not participant.knows_others():
            raise UserError(f"no DHT participant answered at {', '.join(args.bootstrap)}")
        holders = participant.wiki_holders(args.wiki)
        refused = dict(participant.server.read_refused)
    finally:
        participant.stop()
    if not holders:
        out.print(f"no node in the DHT says it holds {args.wiki!r}")
    else:
        out.print(f"{'node key':<52} {'url':<32} {'namespaces':<12} {'position':>8} {'age':>6}")
        for h in holders:
            out.print(f"{h.key:<52} {h.url:<32} {_namespaces(h):<12} {h.position:>8} {_age(h):>6}")
    if refused:
        out.print("refused: " + ", ".join(f"{n} {reason}" for reason, n in sorted(refused.items())))
    return 0


def _namespaces(h: Holder) -> str:
    return "all" if h.namespaces is None else ",".join(map(str, h.namespaces))


def _age(h: Holder) -> str:
    return f"{max(0, now_ms() - h.ts) // 1000}s"


def join_dht(args: argparse.Namespace) -> Participant | None:
    """Under `serve --dht`: listen on the UDP port and join through the bootstrap nodes (None without --dht)."""
    if args.dht is None:
        return None
    if args.dht_ttl < 2:
        raise UserError("--dht-ttl is at least 2 seconds (records are refreshed at half their lifetime)")
    if args.host in ("0.0.0.0", "::") and not args.dht_url:
        raise UserError(f"serving on every interface ({args.host}), give --dht-url: the address other nodes "
                        "reach this node at, to publish in the DHT")
    bootstrap = [parse_address(a) for a in args.dht_bootstrap]
    return Participant(args.dht, host=args.host, bootstrap=bootstrap)


def serve_dht(participant: Participant | None, args: argparse.Namespace, node: Node, address: str,
              stop: threading.Event, warn: Callable[[str], None]) -> Finder | None:
    """Publish this node's records until ``stop``; the finder fetch-on-demand asks (None without --dht)."""
    if participant is None:
        return None
    url = args.dht_url or address
    out.print(f"in the DHT on udp {args.host}:{participant.port}, as {url}")
    threading.Thread(target=publish_forever, daemon=True, name="dht-publish",
                     args=(participant, lambda now, ttl: node_records(node, url, now, ttl), stop, warn,
                           int(args.dht_ttl * 1000))).start()
    return holder_urls(participant, node.keyring.get(NODE_KEY).public)
