"""`wikipeer peer discover`, and the DHT participant `wikipeer serve --dht` runs beside the web server."""

from __future__ import annotations

import argparse
import socket
import threading
from collections.abc import Callable

from wikipeer.cli.shell import out
from wikipeer.errors import UserError
from wikipeer.net import dht_serve
from wikipeer.net.dht_node import Participant, parse_address
from wikipeer.net.dht_records import Holder
from wikipeer.net.dht_serve import publish_node
from wikipeer.net.dht_storage import now_ms
from wikipeer.net.fetch import Finder
from wikipeer.node import Node


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


def check_dht_options(args: argparse.Namespace) -> list[tuple[str, int]]:
    """Under `serve --dht`: the options checked (before "serving", with or without workers); the bootstrap
    addresses."""
    if args.dht_ttl < 2:
        raise UserError("--dht-ttl is at least 2 seconds (records are refreshed at half their lifetime)")
    if args.host in ("0.0.0.0", "::") and not args.url:
        raise UserError(f"serving on every interface ({args.host}), give --url (or --dht-url): the address other nodes "
                        "reach this node at, to publish in the DHT")
    return [parse_address(a) for a in args.dht_bootstrap]


def join_dht(args: argparse.Namespace) -> Participant | None:
    """Under `serve --dht`: listen on the UDP port and join through the bootstrap nodes (None without --dht)."""
    if args.dht is None:
        return None
    return Participant(args.dht, host=args.host, bootstrap=check_dht_options(args))


def serve_dht(participant: Participant | None, args: argparse.Namespace, node: Node, address: str,
              stop: threading.Event, warn: Callable[[str], None]) -> Finder | None:
    """Publish this node's records until ``stop``; the finder fetch-on-demand asks (None without --dht)."""
    if participant is None:
        return None
    url = args.url or address
    out.print(f"in the DHT on udp {args.host}:{participant.port}, as {url}")
    return publish_node(participant, node, url, stop, warn, int(args.dht_ttl * 1000))


def check_dht_port(args: argparse.Namespace) -> None:
    """Under `serve --workers N --dht PORT`: the UDP port is free now (said before "serving", as without
    workers); the worker elected to lead takes it, and takes it again if another worker takes the lead over."""
    check_dht_options(args)
    if args.dht == 0:
        raise UserError("--dht 0 with --workers: give a port number (the workers reach their DHT participant at it)")
    probe = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind((args.host, args.dht))
    except OSError as exc:
        raise UserError(f"cannot listen for the DHT on UDP {args.host}:{args.dht}: {exc.strerror or exc}") from None
    finally:
        probe.close()


def lead_dht(args: argparse.Namespace, node: Node, address: str, stop: threading.Event,
             warn: Callable[[str], None]) -> None:
    """In the elected worker of several: the node's DHT participant, publishing until ``stop``."""
    try:
        serve_dht(join_dht(args), args, node, address, stop, warn)
    except UserError as exc:  # the port was taken between the check and the election
        warn(f"no DHT participant: {exc}")


def worker_finder(args: argparse.Namespace, node: Node) -> Finder:
    """Fetch-on-demand in one of several workers (net/dht_serve.py), through the elected worker's participant."""
    return dht_serve.worker_finder(node, "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host, args.dht)
