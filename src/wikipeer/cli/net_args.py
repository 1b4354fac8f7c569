"""The arguments of the commands that talk to other nodes: peers, sync, fetch, and what a partial node follows and keeps.

Only argparse here: each command names its function as "module:function", which
wikipeer.cli.main imports when that command runs (docs/architecture.md, fast commands).
"""

from __future__ import annotations

import argparse

from wikipeer.cli import dht_args, index_args, report_words
from wikipeer.net.depth import DEFAULT_DEPTH


def add_parsers(sub: argparse._SubParsersAction) -> None:
    peer = sub.add_parser("peer", help="the nodes this node syncs with").add_subparsers(
        dest="peer_command", required=True, metavar="ACTION")
    p = peer.add_parser("add", help="add a peer by its address (http://host:port; lifts a ban), "
                                    "or a MediaWiki to follow (--mediawiki http://host/w/api.php --wiki NAME)")
    p.add_argument("url", nargs="?")
    p.add_argument("--mediawiki", metavar="API_URL", help="follow the MediaWiki whose api.php this is")
    p.add_argument("--wiki", help="MediaWiki: the wiki on this node its pages go into")
    p.add_argument("--namespaces", help="MediaWiki: namespace numbers to follow, e.g. 0,10,828 (default: all)")
    p.add_argument("--since", help="MediaWiki: start at this UTC time, e.g. 2026-01-01T00:00:00Z "
                                   "(default: all history)")
    p.add_argument("--user", help="MediaWiki: the account this node's edits are sent back with (NAME@LABEL: a bot "
                                   "password); its password from $WIKIPEER_MW_PASSWORD or asked for, never an argument")
    p.add_argument("--rate", type=float, default=10.0, help="MediaWiki: requests per second at most (default 10)")
    p.set_defaults(func="wikipeer.cli.net_commands:peer_add")
    p = peer.add_parser("list", aliases=["show"], help="peers with what they gave, took and sent that was refused")
    p.set_defaults(func="wikipeer.cli.net_commands:peer_list")
    p = peer.add_parser("remove", help="forget a peer")
    p.add_argument("url")
    p.set_defaults(func="wikipeer.cli.net_commands:peer_remove")
    p = peer.add_parser("ban", help="stop syncing with a peer and publish a signed ban")
    p.add_argument("url")
    p.add_argument("--reason", default="banned by this node's operator")
    p.set_defaults(func="wikipeer.cli.net_commands:peer_ban")
    dht_args.add_discover(peer)

    p = sub.add_parser("sync", help="exchange changes with peers (all of them unless named)",
                       description="Exchange changes with peers (all of them unless named). One line per peer "
                                   "says what came and what went, and why anything was refused.",
                       epilog=report_words.SYNC, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("peers", nargs="*", metavar="PEER")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--pull", action="store_true", help="only take their changes")
    way.add_argument("--push", action="store_true", help="only send ours")
    p.add_argument("--retry-refused", action="store_true",
                   help="MediaWiki peers: send again the edits MediaWiki refused before (protection, filters...)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line on a terminal")
    index_args.add_index_later(p)
    p.set_defaults(func="wikipeer.cli.net_commands:sync_command")

    p = sub.add_parser("gossip", help="pass new notices (trust lists, blocklists, bans) on to peers now")
    p.set_defaults(func="wikipeer.cli.net_commands:gossip")

    p = sub.add_parser("fetch", help="fetch pages from peers (by title, or the top results of a search) and cache them")
    p.add_argument("wiki", nargs="?")
    p.add_argument("titles", nargs="*", metavar="TITLE")
    p.add_argument("--search", metavar="QUERY", help="fetch the pages a peer finds for this query")
    p.add_argument("--top", type=int, default=10, help="how many search results (default 10)")
    p.add_argument("--depth", type=int, default=DEFAULT_DEPTH, help=f"revisions of history per page (default {DEFAULT_DEPTH})")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(func="wikipeer.cli.net_commands:fetch")

    p = sub.add_parser("follow", help="sync a whole wiki, a namespace, or pages (a partial node follows only these)")
    p.add_argument("wiki")
    p.add_argument("titles", nargs="*", metavar="TITLE")
    p.add_argument("--ns", type=int, help="a namespace number of the wiki")
    p.add_argument("--stop", action="store_true", help="stop following it")
    p.set_defaults(func="wikipeer.cli.net_commands:follow")

    p = sub.add_parser("pin", help="keep a page in the cache whatever the quota")
    p.add_argument("wiki")
    p.add_argument("title")
    p.add_argument("--unpin", action="store_true")
    p.set_defaults(func="wikipeer.cli.net_commands:pin")

    p = sub.add_parser("cache", help="show or set the quota of fetched pages")
    p.add_argument("--quota", help="bytes fetched pages may take (500M, 2G, none)")
    p.set_defaults(func="wikipeer.cli.net_commands:cache")
