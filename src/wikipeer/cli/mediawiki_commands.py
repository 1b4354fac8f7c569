"""The command line's side of following a MediaWiki: ``peer add --mediawiki``, its rows in
``peer list``, and its part of ``sync``."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from wikipeer.cli.shell import out
from wikipeer.errors import UserError
from wikipeer.node import Node
from wikipeer.store.mw_peers import MediaWikiPeers, normalize_api_url
from wikipeer.store.mw_push import PushBook

if TYPE_CHECKING:
    from wikipeer.mediawiki.push import PushResult


def add(node: Node, args: argparse.Namespace) -> int:
    """``peer add --mediawiki URL --wiki NAME [--namespaces 0,10] [--since TS] [--user NAME] [--rate N]``."""
    from wikipeer.mediawiki.credentials import read_password, store_password
    from wikipeer.mediawiki.follow import check_since
    from wikipeer.model.objects import check_wiki_name
    if not args.wiki:
        raise UserError("name the wiki its pages go into on this node: --wiki NAME")
    check_wiki_name(args.wiki)
    if args.rate <= 0:
        raise UserError(f"--rate is requests per second, more than 0, not {args.rate}")
    # The password is asked for first: a missing one leaves no peer behind that could not push.
    password = read_password(args.user, normalize_api_url(args.mediawiki)) if args.user else None
    peer = MediaWikiPeers(node.store).add(args.mediawiki, args.wiki, _namespaces(args.namespaces),
                                          check_since(args.since) if args.since else None, args.user, args.rate)
    if password is not None:
        store_password(node, peer.url, args.user, password)
    ns = "all namespaces" if peer.namespaces is None else "namespaces " + ", ".join(map(str, peer.namespaces))
    out.print(f"MediaWiki {peer.url} added: its {ns} go into wiki {peer.wiki!r}"
              + (f" from {peer.since} on" if peer.since else "") + "; 'wikipeer sync' pulls from it"
              + (f" and sends this node's edits back as {args.user}" if args.user else ""))
    return 0


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
        refused = len(PushBook(node.store).refusals(p.url))
        rows.append(f"{p.url:<32} MediaWiki -> wiki {p.wiki}, {p.pulled} revisions pulled"
                    + (f", account {p.user}" if p.user else "")
                    + (f", {refused} edits refused (sync --retry-refused)" if refused else "") + f"  {state}")
    return rows


def is_peer(node: Node, url: str) -> bool:
    return MediaWikiPeers(node.store).find(url) is not None


def urls(node: Node) -> list[str]:
    return [p.url for p in MediaWikiPeers(node.store).list()]


def remove(node: Node, url: str) -> None:
    peer = MediaWikiPeers(node.store).get(url)
    MediaWikiPeers(node.store).remove(peer.url)
    PushBook(node.store).forget(peer.url)


def sync(node: Node, url: str, do_pull: bool, do_push: bool, retry_refused: bool = False,
         quiet: bool = False) -> bool:
    """Sync with one MediaWiki peer and print what it did; False when it failed (the message says why)
    or when MediaWiki refused edits this time (each is listed; the others went up). A progress line on a
    terminal meanwhile, unless ``quiet``."""
    from wikipeer.cli.progress import progress_line
    from wikipeer.mediawiki.peer_sync import sync_mediawiki
    from wikipeer.mediawiki.remote import MediaWikiError
    try:
        with progress_line(f"syncing with {url}", quiet) as show:
            r = sync_mediawiki(node, url, do_pull, do_push, retry_refused,
                               lambda so_far: show(f"{so_far.revisions} revisions read, {so_far.new} new"))
    except MediaWikiError as exc:
        out.print(f"{url}: {exc}; the next sync resumes where this one stopped")
        return False
    if do_pull:
        out.print(f"{url}: {r.revisions} revisions read, {r.new} new, {r.duplicates} already here, {r.refused} "
                  f"pages refused, {r.copied} copied under a new title, {r.hidden} pages hidden, {r.shown} shown "
                  f"again, {r.late} found saved late, {r.new_files} file versions taken ({r.files_refused} files "
                  f"refused); {r.requests} requests, {r.bytes_in} bytes in")
    for warning in r.warnings:
        out.print(f"  warning: {warning}")
    return _report_push(node, url, r.pushed) if r.pushed is not None else True


def _report_push(node: Node, url: str, pushed: PushResult) -> bool:
    """Print what a push did; False when MediaWiki refused something this time."""
    if pushed.no_account:
        return True
    out.print(f"{url}: sent {pushed.sent} edits ({pushed.unchanged} changed nothing there), "
              f"{len(pushed.conflicts)} edit conflicts, {len(pushed.refused)} refused"
              + (f", {pushed.retried} refused before tried again" if pushed.retried else "")
              + f"; {pushed.requests} requests")
    for title, cid, code, info in pushed.refused:
        out.print(f"  refused: {title} ({cid}): {code}: {info}")
    for title, cid in pushed.conflicts:
        out.print(f"  edit conflict: {title} ({cid}): MediaWiki's newer revision is here now, beside ours; "
                  "merge the two heads (the page's merge form) and sync again")
    if pushed.stopped:
        out.print(f"  stopped sending: {pushed.stopped}; the rest goes at the next sync")
    waiting = len(PushBook(node.store).refusals(url))
    if waiting:
        out.print(f"  {waiting} refused edits wait; 'wikipeer sync --retry-refused' sends them again")
    return not pushed.refused
