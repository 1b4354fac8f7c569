"""The command line's side of following a MediaWiki: ``peer add --mediawiki``, its rows in
``peer list``, and its part of ``sync``."""

from __future__ import annotations

import argparse
import time

from wikipeer.cli.commands import out
from wikipeer.errors import UserError
from wikipeer.mediawiki.follow import check_since
from wikipeer.mediawiki.peer_sync import sync_mediawiki
from wikipeer.mediawiki.remote import MediaWikiError
from wikipeer.model.objects import check_wiki_name
from wikipeer.node import Node
from wikipeer.store.mw_peers import MediaWikiPeer, MediaWikiPeers


def add(node: Node, args: argparse.Namespace) -> int:
    """``peer add --mediawiki URL --wiki NAME [--namespaces 0,10] [--since TS] [--user NAME] [--rate N]``."""
    if not args.wiki:
        raise UserError("name the wiki its pages go into on this node: --wiki NAME")
    check_wiki_name(args.wiki)
    if args.rate <= 0:
        raise UserError(f"--rate is requests per second, more than 0, not {args.rate}")
    peer = MediaWikiPeers(node.store).add(args.mediawiki, args.wiki, _namespaces(args.namespaces),
                                          check_since(args.since) if args.since else None, args.user, args.rate)
    _account(node, peer)
    ns = "all namespaces" if peer.namespaces is None else "namespaces " + ", ".join(map(str, peer.namespaces))
    out.print(f"MediaWiki {peer.url} added: its {ns} go into wiki {peer.wiki!r}"
              + (f" from {peer.since} on" if peer.since else "") + "; 'wikipeer sync' pulls from it")
    return 0


def _account(node: Node, peer: MediaWikiPeer) -> None:
    """The single place where a MediaWiki account's password is asked for and kept (``--user``):
    mediawiki/credentials.py (sending edits back, issue 12 item 2) is called from here."""


def _namespaces(text: str | None) -> list[int] | None:
    if text is None or text.strip() in ("", "all"):
        return None
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise UserError(f"--namespaces takes namespace numbers separated by commas (0,10,828), not {text!r}") from None


def list_rows(node: Node) -> list[str]:
    """One line per MediaWiki peer for ``peer list``."""
    rows = []
    for p in MediaWikiPeers(node.store).list():
        if p.last_sync is None:
            state = "failed: " + p.last_error if p.last_error else "never synced"
        else:
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(p.last_sync))
            state = f"last sync {when}: " + (f"failed: {p.last_error}" if p.last_error else "ok")
        rows.append(f"{p.url:<32} MediaWiki -> wiki {p.wiki}, {p.pulled} revisions pulled"
                    + (f", account {p.user}" if p.user else "") + f"  {state}")
    return rows


def is_peer(node: Node, url: str) -> bool:
    return MediaWikiPeers(node.store).find(url) is not None


def urls(node: Node) -> list[str]:
    return [p.url for p in MediaWikiPeers(node.store).list()]


def remove(node: Node, url: str) -> None:
    MediaWikiPeers(node.store).remove(url)


def sync(node: Node, url: str, do_pull: bool, do_push: bool) -> bool:
    """Sync with one MediaWiki peer and print what it did; False when it failed (the message says why)."""
    try:
        r = sync_mediawiki(node, url, do_pull, do_push)
    except MediaWikiError as exc:
        out.print(f"{url}: {exc}; the next sync resumes where this one stopped")
        return False
    out.print(f"{url}: {r.revisions} revisions read, {r.new} new, {r.duplicates} already here, {r.refused} pages "
              f"refused, {r.copied} copied under a new title, {r.hidden} pages hidden, {r.shown} shown again; "
              f"{r.requests} requests, {r.bytes_in} bytes in")
    for warning in r.warnings:
        out.print(f"  warning: {warning}")
    return True
