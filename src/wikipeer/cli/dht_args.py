"""The arguments of the DHT: `serve --dht PORT ...` (and `--url`, which hello uses too) and `peer discover WIKI`.

Only argparse here, as in the other *_args modules: the functions are imported when a command runs.
"""

from __future__ import annotations

import argparse

DEFAULT_TTL = 3600


def add_serve_options(p: argparse.ArgumentParser) -> None:
    """`serve`'s DHT options."""
    p.add_argument("--dht", type=int, metavar="PORT",
                   help="take part in the DHT on this UDP port (on --host; 0 picks a free one): publish what this "
                        "node holds, and find pages no peer has")
    p.add_argument("--dht-bootstrap", action="append", default=[], metavar="HOST:PORT",
                   help="a DHT participant to join through (repeatable; none: this node starts a DHT)")
    p.add_argument("--url", "--dht-url", dest="url", metavar="URL",
                   help="the address other nodes reach this node at, published in the DHT and said to the "
                        "nodes nearest it on the gossip ring after each sync (default: the address it listens "
                        "on, unless that is every interface)")
    p.add_argument("--dht-ttl", type=float, default=DEFAULT_TTL, metavar="SECONDS",
                   help=f"how long the records published live; they are refreshed at half that (default {DEFAULT_TTL})")


def add_discover(peer: argparse._SubParsersAction) -> None:
    """`peer discover`."""
    p = peer.add_parser("discover", help="list the nodes the DHT says hold a wiki (verified records)")
    p.add_argument("wiki")
    p.add_argument("--bootstrap", action="append", default=[], metavar="HOST:PORT", required=True,
                   help="a DHT participant to ask through (repeatable), e.g. a node serving with --dht")
    p.add_argument("--port", type=int, default=0, help="the UDP port to ask from (default: any free one)")
    p.set_defaults(func="wikipeer.cli.dht_commands:peer_discover")
