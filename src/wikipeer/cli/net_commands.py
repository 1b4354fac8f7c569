"""The commands that talk to other nodes: peers, sync, fetch, and what a partial node follows and keeps."""

from __future__ import annotations

import argparse
import time

from wikipeer.cli import indexing, mediawiki_commands
from wikipeer.cli.progress import progress_bar, progress_line
from wikipeer.cli.shell import _open, none_yet, out
from wikipeer.errors import UserError
from wikipeer.model.cid import cid_to_str
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.fetch import fetch_search, fetch_titles, follow_scope
from wikipeer.net.gossip import gossip_round
from wikipeer.net.receive import first_causes
from wikipeer.net.sync import NO_REASON, ban, sync
from wikipeer.node import find_page
from wikipeer.store.cache import PageCache
from wikipeer.store.nonces import Nonces
from wikipeer.store.peers import Peer, PeerBook


def peer_add(args: argparse.Namespace) -> int:
    node = _open(args)
    if args.mediawiki:
        if args.url:
            raise UserError("give either a node's address or --mediawiki API_URL, not both")
        return mediawiki_commands.add(node, args)
    if not args.url:
        raise UserError("name the peer: wikipeer peer add URL (a node) or --mediawiki API_URL (a MediaWiki)")
    if args.wiki or args.namespaces or args.since or args.user:
        raise UserError("--wiki, --namespaces, --since and --user are for a MediaWiki peer (--mediawiki API_URL)")
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
    peers = PeerBook(node.store)
    listed, others = peers.list(), mediawiki_commands.list_rows(node)
    refused = Nonces(node.store).refusals()
    if refused:  # requests other nodes signed that this node refused, whoever they claimed to be
        out.print("signed requests refused: " + ", ".join(f"{reason} {count}" for reason, count in refused.items()))
    if not listed and not others:
        none_yet("peers", "'wikipeer peer add URL' adds a node, 'wikipeer peer add --mediawiki API_URL --wiki NAME' a MediaWiki")
        return 0
    out.print(f"{'peer':<32} {'gave':>7} {'took':>7} {'pulled':>7} {'refused':>8} {'forged':>6}  state")
    for p in listed:
        state = _state(p)
        pulled = peers.taker(p.key)[0] if p.key else 0
        out.print(f"{p.url:<32} {p.gave:>7} {p.took:>7} {pulled:>7} {p.we_refused:>8} {p.forgeries:>6}  {state}")
    for row in others:
        out.print(row)
    return 0


def _state(peer: Peer) -> str:
    """How the last sync with a peer went, and when."""
    if peer.banned:
        return f"banned: {peer.banned}"
    if peer.last_sync is None:
        return "failed: " + peer.last_error if peer.last_error else "never synced"
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(peer.last_sync))
    return f"last sync {when}: " + (f"failed: {peer.last_error}" if peer.last_error else "ok")


def peer_remove(args: argparse.Namespace) -> int:
    node = _open(args)
    if mediawiki_commands.is_peer(node, args.url):
        mediawiki_commands.remove(node, args.url)
    else:
        PeerBook(node.store).remove(args.url)
    out.print(f"peer {args.url} removed")
    return 0


def peer_ban(args: argparse.Namespace) -> int:
    node = _open(args)
    peers = PeerBook(node.store)
    peer = peers.add(args.url)
    cid = ban(node, peers, peer.url, args.reason, peer.key)
    out.print(f"peer {peer.url} banned; the signed ban is {cid_to_str(cid)}, shared with the next sync")
    return 0


def sync_command(args: argparse.Namespace) -> int:
    node = _open(args)
    peers = PeerBook(node.store)
    if args.peers:
        wikis = [u for u in args.peers if mediawiki_commands.is_peer(node, u)]
        urls = [peers.get(u).url for u in args.peers if u not in wikis]
    else:
        wikis = mediawiki_commands.urls(node)
        urls = [p.url for p in peers.list() if not p.banned]
    if not urls and not wikis:
        raise UserError("no peers to sync with: add one with 'wikipeer peer add URL' "
                        "or 'wikipeer peer add --mediawiki API_URL --wiki NAME'")
    failed = sum(not mediawiki_commands.sync(node, url, not args.push, not args.pull, args.retry_refused, args.quiet)
                 for url in wikis)
    for url in urls:
        try:
            with progress_line(f"syncing with {url}", args.quiet) as show:
                r = sync(node, url, do_pull=not args.push, do_push=not args.pull,
                         progress=lambda r: show(f"{r.pulled.accepted} new, sent {r.sent}"))
        except PeerError as exc:
            out.print(f"{url}: {exc}")
            failed += 1
            continue
        p = r.pulled
        out.print(f"{url}: {p.accepted} new, {p.duplicates} already here, {p.held} held, {p.rejected} refused; "
                  f"sent {r.sent} ({r.pushed} new there, {r.push_duplicates} already there, {r.push_held} held "
                  f"there, {r.push_refused} refused there); {r.requests} requests, "
                  f"{r.bytes_in} bytes in, {r.bytes_out} out")
        # What was refused and why (a file names its SHA-256): the causes before what fell with them.
        for reason in _first_causes(p.reasons, p.rejected):
            out.print(f"{url}: refused {reason}")
        for reason in _first_causes(r.push_reasons, r.push_refused):
            out.print(f"{url}: refused there: {reason}")
        # Our edits that did not arrive are a failure the caller must see; what we refused of theirs is our
        # policy at work (reported above, not an error).
        failed += bool(r.push_refused)
    indexing.catch_up(node, quiet=args.quiet, later=args.index_later, wait=args.wait_index)
    return 1 if failed else 0


def _first_causes(reasons: list[str], refused: int) -> list[str]:
    """receive.first_causes; a peer too old to give reasons gets no "... and N more" either."""
    return first_causes(reasons, refused) if reasons != [NO_REASON] else reasons


def fetch(args: argparse.Namespace) -> int:
    node = _open(args)
    if not args.search and (not args.wiki or not args.titles):
        raise UserError("name a wiki and titles (wikipeer fetch WIKI TITLE...) or use --search")
    with progress_bar("fetching", None if args.search else len(args.titles), args.quiet, "pages") as bar:
        if args.search:
            result = fetch_search(node, args.search, args.top, args.depth, lambda done, of: bar(done, total=of))
        else:
            result = fetch_titles(node, args.wiki, args.titles, args.depth, lambda done, of: bar(done))
    for error in result.errors:
        out.print(f"note: {error}")
    files = f", with {len(result.files)} files ({', '.join(result.files[:10])})" if result.files else ""
    out.print(f"{len(result.pages)} pages and {result.revisions} objects fetched{files}"
              + (f"; nobody had {len(result.missing)}: {', '.join(result.missing[:10])}" if result.missing else "")
              + (f"; {len(result.evicted)} least recently read pages evicted to fit the cache quota"
                 if result.evicted else ""))
    return 1 if result.missing and not result.pages else 0


def follow(args: argparse.Namespace) -> int:
    node = _open(args)
    c = node.config
    if args.titles:
        names = [f"{args.wiki}/{t}" for t in args.titles]
        c.follow_pages = sorted(set(c.follow_pages) | set(names)) if not args.stop else \
            [p for p in c.follow_pages if p not in names]
    elif args.ns is not None:
        pair = [args.wiki, args.ns]
        c.follow_namespaces = [n for n in c.follow_namespaces if n != pair] + ([] if args.stop else [pair])
    else:
        c.follow_wikis = [w for w in c.follow_wikis if w != args.wiki] + ([] if args.stop else [args.wiki])
    node.save_config()
    scope = follow_scope(node)
    out.print("this node follows everything" if scope.everything else
              f"this node follows {len(scope.wikis)} wikis, {len(scope.namespaces)} namespaces, "
              f"{len(scope.pages)} pages")
    return 0


def pin(args: argparse.Namespace) -> int:
    node = _open(args)
    page = find_page(node, args.wiki, args.title)
    PageCache(node.store).pin(page.id, not args.unpin)
    out.print(f"{args.title}: {'unpinned' if args.unpin else 'pinned: never evicted'}")
    return 0


def cache(args: argparse.Namespace) -> int:
    node = _open(args)
    if args.quota is not None:
        node.config.cache_quota = _size(args.quota)
        node.save_config()
    quota = node.config.cache_quota
    out.print(f"fetched pages take {PageCache(node.store).cached_bytes()} bytes; "
              f"quota {'none' if quota is None else f'{quota} bytes'}")
    return 0


def _size(text: str) -> int | None:
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    text = text.strip().lower().removesuffix("b")
    if text in ("none", "off", ""):
        return None
    number, unit = (text[:-1], text[-1]) if text[-1] in units else (text, "")
    try:
        return int(float(number) * units[unit])
    except ValueError:
        raise UserError(f"not a size: {text!r} (say 500M, 2G or none)") from None


def gossip(args: argparse.Namespace) -> int:
    node = _open(args)
    sent = gossip_round(node)
    out.print(f"{sent} gossip messages sent")
    return 0
