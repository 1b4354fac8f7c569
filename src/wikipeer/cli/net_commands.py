"""The commands that talk to other nodes: peer add/list/remove/ban and sync."""

from __future__ import annotations

import argparse

from wikipeer.cli.commands import _open, out
from wikipeer.errors import UserError
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.sync import ban, sync
from wikipeer.store.peers import PeerBook


def peer_add(args: argparse.Namespace) -> int:
    node = _open(args)
    peers = PeerBook(node.store)
    peer = peers.add(args.url)
    if peer.banned:
        peers.set(peer.url, banned=None)
        out.print(f"ban on {peer.url} lifted")
    try:
        with PeerClient(peer.url, timeout=10) as client:
            key = client.descriptor().key
        peers.set(peer.url, key=key)
        out.print(f"peer {peer.url} added (node key {key})")
    except PeerError as exc:
        out.print(f"peer {peer.url} added; not reachable now ({exc}): its key is learned at the first sync")
    return 0


def peer_list(args: argparse.Namespace) -> int:
    node = _open(args)
    out.print(f"{'peer':<32} {'gave':>7} {'took':>7} {'refused':>8} {'forged':>6}  state")
    for p in PeerBook(node.store).list():
        state = f"banned: {p.banned}" if p.banned else (f"error: {p.last_error}" if p.last_error else "ok")
        out.print(f"{p.url:<32} {p.gave:>7} {p.took:>7} {p.we_refused:>8} {p.forgeries:>6}  {state}")
    return 0


def peer_remove(args: argparse.Namespace) -> int:
    node = _open(args)
    PeerBook(node.store).remove(args.url)
    out.print(f"peer {args.url} removed")
    return 0


def peer_ban(args: argparse.Namespace) -> int:
    node = _open(args)
    peers = PeerBook(node.store)
    peer = peers.add(args.url)
    cid = ban(node, peers, peer.url, args.reason, peer.key)
    out.print(f"peer {peer.url} banned; the signed ban is {cid.hex()[:16]}…, shared with the next sync")
    return 0


def sync_command(args: argparse.Namespace) -> int:
    node = _open(args)
    peers = PeerBook(node.store)
    urls = [peers.get(u).url for u in args.peers] if args.peers else [p.url for p in peers.list() if not p.banned]
    if not urls:
        raise UserError("no peers to sync with: add one with 'wikipeer peer add URL'")
    failed = 0
    for url in urls:
        try:
            r = sync(node, url, do_pull=not args.push, do_push=not args.pull)
        except PeerError as exc:
            out.print(f"{url}: {exc}")
            failed += 1
            continue
        p = r.pulled
        out.print(f"{url}: {p.accepted} new, {p.duplicates} already here, {p.held} held, {p.rejected} refused; "
                  f"sent {r.pushed} ({r.push_refused} refused there); {r.requests} requests, "
                  f"{r.bytes_in} bytes in, {r.bytes_out} out")
    return 1 if failed else 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    peer = sub.add_parser("peer", help="the nodes this node syncs with").add_subparsers(
        dest="peer_command", required=True, metavar="ACTION")
    p = peer.add_parser("add", help="add a peer by its address (http://host:port); lifts a ban")
    p.add_argument("url")
    p.set_defaults(func=peer_add)
    p = peer.add_parser("list", help="peers with what they gave, took and sent that was refused")
    p.set_defaults(func=peer_list)
    p = peer.add_parser("remove", help="forget a peer")
    p.add_argument("url")
    p.set_defaults(func=peer_remove)
    p = peer.add_parser("ban", help="stop syncing with a peer and publish a signed ban")
    p.add_argument("url")
    p.add_argument("--reason", default="banned by this node's operator")
    p.set_defaults(func=peer_ban)

    p = sub.add_parser("sync", help="exchange changes with peers (all of them unless named)")
    p.add_argument("peers", nargs="*", metavar="PEER")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--pull", action="store_true", help="only take their changes")
    way.add_argument("--push", action="store_true", help="only send ours")
    p.set_defaults(func=sync_command)
