"""Syncing with every kind of peer: other nodes (net/sync.py) and followed MediaWikis (mediawiki/follow.py
and mediawiki/push.py).

net/ knows nothing of MediaWiki, so the loop over both kinds lives here, for
``wikipeer sync`` and ``serve --sync-every``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from wikipeer.mediawiki.follow import PullResult, pull
from wikipeer.mediawiki.push import push_to
from wikipeer.net import sync as node_sync
from wikipeer.node import Node
from wikipeer.store.mw_peers import MediaWikiPeers


def sync_mediawiki(node: Node, url: str, do_pull: bool = True, do_push: bool = True,
                   retry_refused: bool = False, progress: Callable[[PullResult], None] | None = None) -> PullResult:
    """One sync with one MediaWiki peer: its new revisions and log in (see follow.pull), then this
    node's edits out (see push.push_to; ``pushed`` in the result), when the peer has an account.

    The pull comes first, so edits go up on MediaWiki's newest revisions and conflicts are fewer.
    ``progress`` is told the pull's result so far after each batch taken.
    """
    result = pull(node, url, progress) if do_pull else PullResult(MediaWikiPeers(node.store).get(url).url)
    if do_push:
        result.pushed = push_to(node, url, retry_refused)
    return result


def sync_all(node: Node, log_error: Callable[[str], object] = print,
             url: str | None = None) -> list[node_sync.SyncResult | PullResult]:
    """Sync with every node peer that is not banned, then every MediaWiki peer; one failing stops no other.
    ``url``: this node's address, to say hello to its ring neighbours (net/sync.py's sync_all)."""
    results: list[node_sync.SyncResult | PullResult] = list(node_sync.sync_all(node, log_error, url=url))
    for peer in MediaWikiPeers(node.store).list():
        try:
            results.append(sync_mediawiki(node, peer.url))
        except Exception as exc:  # the loop of `serve --sync-every` must outlive any one failure
            log_error(f"sync with {peer.url}: {exc}")
            continue
        for title, cid, code, info in (results[-1].pushed.refused if results[-1].pushed else []):
            log_error(f"sync with {peer.url}: MediaWiki refused the edit {cid} of {title!r} ({code}: {info}); "
                      "'wikipeer sync --retry-refused' sends it again")
    return results


def sync_forever(node: Node, every: float, stop: threading.Event,
                 log_error: Callable[[str], object] = print, url: str | None = None) -> None:
    """Sync with all peers of both kinds every ``every`` seconds until ``stop`` is set (``serve --sync-every``);
    ``url`` as for sync_all."""
    while not stop.wait(every):
        sync_all(node, log_error, url)
