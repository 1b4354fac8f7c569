"""Pull and push: exchanging changes with a peer, in proportion to what changed.

Pull takes the peer's log after the last position we took (its cursor in our
peer record), then asks for the parents still missing. Push sends our log
after the peer's cursor, leaving out what came from that peer. When nothing
changed, a pull is one small request and a push none.

A peer that sends a forgery (a block whose bytes do not match its CID, a
signature that does not verify) is banned at once, and the ban is recorded
as a signed ``ban`` object that travels like any other.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from wikipeer.errors import WikipeerError
from wikipeer.ingest import HeldLimit
from wikipeer.model.keys import sign
from wikipeer.model.objects import Ban, Signature, build_ban, build_signature
from wikipeer.net.client import PeerClient, PeerError, PeerLied
from wikipeer.net import exchange, hello
from wikipeer.net.descriptor import Descriptor
from wikipeer.net.fetch import follow_scope
from wikipeer.net.receive import MAX_REASONS, Tally, batches, take
from wikipeer.net.signing import node_signer
from wikipeer.node import Node
from wikipeer.store import engine_errors, gossip_queue, log
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook
from wikipeer.store.store import disk_problem

LOG_LIMIT = 10_000
NO_REASON = "no reason given"
PUSH_BYTES = 64 << 20
"""One upload carries about this many bytes: media goes in several. An upload never ends inside a file's
chunks (see receive.batches), so one holding a large file is as large as the file (server.MAX_UPLOAD allows it)."""
PARENT_ROUNDS = 20
ADOPT_BELOW = 8
HELD_ASK = 5_000

Progress = Callable[["SyncResult"], None]
"""Told the result so far as a sync goes on (the command's progress line)."""


class PeerBanned(PeerError):
    """The peer is banned: nothing is taken from it or sent to it."""


@dataclass(slots=True)
class SyncResult:
    """What one sync with one peer did."""

    url: str
    pulled: Tally = field(default_factory=Tally)
    sent: int = 0  # blocks uploaded to the peer
    pushed: int = 0  # of those, the ones the peer took as new
    push_duplicates: int = 0
    push_held: int = 0
    push_refused: int = 0
    push_reasons: list[str] = field(default_factory=list)
    """The peer's reasons for what it refused; NO_REASON for refusals a peer (older than reasons) did not explain."""
    requests: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    deltas: int = 0  # texts that came as deltas against a text we held


def ban(node: Node, peers: PeerBook, url: str, reason: str, key: str | None = None) -> bytes:
    """Ban a peer and record the ban as a signed object; returns its CID."""
    peers.set(url, banned=reason)
    node.store.drop_held(f"peer:{url}")
    issuer = node.keyring.get(NODE_KEY).public
    block = build_ban(Ban(issuer, reason[:1024], int(time.time() * 1000), peer=key, url=url))
    sig = build_signature(Signature(block.cid, "author", issuer,
                                    sign(node.keyring.signing_key(NODE_KEY, node.passphrase), block.cid, "author")))
    node.ingest([block, sig], "local")
    gossip_queue.queue(node.store, node.store.object_id(block.cid))
    return block.cid


def _descriptor(node: Node, peers: PeerBook, client: PeerClient, url: str, result: SyncResult) -> Descriptor:
    """The peer's signed descriptor; its node key is learned on first contact and must not change."""
    peer = peers.get(url)
    try:
        descriptor = client.descriptor()
    except PeerLied as exc:
        ban(node, peers, url, str(exc), peer.key)
        raise PeerBanned(f"{url} banned: {exc}") from None
    result.requests += 1
    if peer.key is None:
        peers.set(url, key=descriptor.key)
    elif peer.key != descriptor.key:
        raise PeerError(f"{url} now answers with node key {descriptor.key}, not {peer.key}: "
                        "remove and add the peer again if it really changed")
    return descriptor


def _adopt_configs(node: Node, peers: PeerBook, client: PeerClient, url: str, result: SyncResult) -> None:
    """Wikis that arrived without a configuration take the one the peer signed for them."""
    unknown = [w for w in node.store.wikis() if node.store.wiki_config(w) is None]
    if unknown:
        offered = _descriptor(node, peers, client, url, result).wikis
        refused = node.adopt_wiki_configs({w: offered[w] for w in unknown if w in offered})
        if refused:
            raise PeerError(f"{url} describes wiki {refused[0][0]!r} wrongly: {refused[0][1]}")


def _take_from(node: Node, peers: PeerBook, url: str, blocks, result: SyncResult) -> None:
    try:
        part = take(node, blocks, f"peer:{url}")
    except HeldLimit as exc:  # a peer's failure, recorded with the peer like any other
        raise PeerError(f"{url} sent too much that waits for what it did not send: {exc}") from None
    result.pulled.extend(part)
    peers.count(url, gave=part.accepted, duplicates=part.duplicates, we_refused=part.rejected,
                forgeries=part.forgeries)
    for first, last in part.ranges:
        peers.add_range(url, first, last)
    if part.forgeries:
        reason = f"sent a forgery: {part.forgery or 'bad block'}"
        ban(node, peers, url, reason, peers.get(url).key)
        raise PeerBanned(f"{url} banned: it {reason}")


def pull(node: Node, peers: PeerBook, client: PeerClient, url: str, scope: log.Scope, result: SyncResult,
         progress: Progress | None = None) -> None:
    """Take the peer's log after our cursor, then the parents we still lack.

    The next page of the log is fetched while the last one is stored; our
    cursor moves past a page only once all of it is in.
    """
    me = node.keyring.get(NODE_KEY).public
    for page in _log_pages(node, peers, client, url, scope, me):
        result.requests += 1
        _take_from(node, peers, url, page.blocks, result)
        if progress is not None:
            progress(result)
        if page.error is not None:
            raise page.error
        peers.set(url, pull_cursor=page.next_cursor)
    fetch_missing(node, peers, client, url, result)
    result.pulled.recount_held(node.store)  # what the log held, the fetched parents may have released


@dataclass(slots=True)
class _LogPage:
    """One response of the peer's log as read; ``error``: what cut it short (raised once what came is stored)."""

    next_cursor: int
    blocks: list
    error: BaseException | None = None


def _log_pages(node: Node, peers: PeerBook, client: PeerClient, url: str, scope: log.Scope,
               me: str) -> Iterator[_LogPage]:
    """The peer's log after our cursor, page by page, each read by a thread while the one before is stored.

    At most one page waits read (the queue holds one), so memory is bounded by two pages. Each request
    says we hold the peer's texts up to our committed cursor (``holds``), not up to the page asked
    for: the pages read ahead are not stored yet, and a delta is rebuilt from our stored copy.
    """
    pages: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    cursor = peers.get(url).pull_cursor

    def hand_over(item: _LogPage | None) -> bool:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch(cursor: int) -> None:
        try:
            while True:
                blocks: list = []
                error = None
                with client.log(cursor, LOG_LIMIT, scope, peers.ranges(url, cursor, side="theirs"), sender=me,
                                holds=peers.get(url).pull_cursor, held=node.store) as batch:
                    try:
                        blocks.extend(batch.blocks)
                    except Exception as exc:  # what came before the fault is still stored
                        error = exc
                if not hand_over(_LogPage(batch.next_cursor, blocks, error)) or error is not None:
                    return
                if batch.count < LOG_LIMIT or batch.next_cursor == cursor:
                    break
                cursor = batch.next_cursor
            hand_over(None)
        except BaseException as exc:  # the request itself failed: raised in the caller
            hand_over(_LogPage(cursor, [], exc))

    reader = threading.Thread(target=fetch, args=(cursor,), name="log-pages", daemon=True)
    reader.start()
    try:
        while (page := pages.get()) is not None:
            yield page
            if page.error is not None:
                return
    finally:
        stop.set()
        # Done, it has ended; cut short (Ctrl-C, a ban), it may be inside a long answer: it stops at its
        # next hand-over, or when the client closes under it, without holding the caller up.
        reader.join(timeout=1.0)


def fetch_missing(node: Node, peers: PeerBook, client: PeerClient, url: str, result: SyncResult) -> None:
    """Ask the peer for what held objects wait for, until nothing new arrives."""
    asked: set[bytes] = set()
    for _ in range(PARENT_ROUNDS):
        wanted = [c for c in node.store.held_waiting() if c not in asked][:HELD_ASK]
        if not wanted:
            return
        asked.update(wanted)
        with client.blocks(wanted) as blocks:
            result.requests += 1
            _take_from(node, peers, url, blocks, result)


def push(node: Node, peers: PeerBook, client: PeerClient, url: str, result: SyncResult,
         progress: Progress | None = None) -> None:
    """Send our log after the peer's cursor, without what came from the peer, in uploads of about PUSH_BYTES."""
    sender = node.keyring.get(NODE_KEY).public
    while True:
        cursor = peers.get(url).push_cursor
        if node.store.last_seq() <= cursor:
            return
        ids = log.positions(node.store, cursor, LOG_LIMIT)
        send = log.outside(ids, peers.ranges(url, cursor))
        for part in batches(log.read(node.store, send), LOG_LIMIT, PUSH_BYTES):
            answer = client.push(part, sender)
            result.requests += 1
            result.sent += len(part)
            _record_push(peers, url, answer, result)
            if progress is not None:
                progress(result)
        peers.set(url, push_cursor=ids[-1])


def _record_push(peers: PeerBook, url: str, answer: dict, result: SyncResult) -> None:
    try:
        accepted, refused = int(answer.get("accepted", 0)), int(answer.get("rejected", 0))
        duplicates, held = int(answer.get("duplicates", 0)), int(answer.get("held", 0))
        ranges = [(int(a), int(b)) for a, b in answer.get("ranges", [])][:1000]
    except (TypeError, ValueError):
        raise PeerError(f"{url} answered an upload with a malformed tally") from None
    result.pushed += accepted
    result.push_duplicates += duplicates
    result.push_held += held
    result.push_refused += refused
    result.push_reasons += _reasons(answer.get("reasons"), refused)[:MAX_REASONS - len(result.push_reasons)]
    peers.count(url, took=accepted, it_refused=refused)
    for first, last in ranges:
        peers.add_range(url, first, last, side="theirs")


def _reasons(value: object, refused: int) -> list[str]:
    """The reasons an upload's answer gives for what it refused, each cut to a line's length.

    A peer from before reasons were sent (or one that sends none) leaves its refusals unexplained.
    """
    given = [r[:500] for r in value if isinstance(r, str)] if isinstance(value, list) else []
    return given or ([NO_REASON] if refused else [])


def sync(node: Node, url: str, do_pull: bool = True, do_push: bool = True, scope: log.Scope | None = None,
         timeout: float = 30.0, progress: Progress | None = None,
         exchange_every: float = exchange.EXCHANGE_EVERY) -> SyncResult:
    """One sync with one peer; the peer record keeps when it ran and what went wrong.

    ``scope``: what to pull; by default what the node follows (everything, unless it is partial).
    ``progress`` is called with the result so far after each page of the log taken and each upload.
    ``exchange_every``: seconds between two readings of the peer's list of peers (net/exchange.py).
    """
    scope = follow_scope(node) if scope is None else scope
    peers = PeerBook(node.store)
    peer = peers.get(url)
    if peer.banned:
        raise PeerBanned(f"{peer.url} is banned ({peer.banned}); 'wikipeer peer add' it again to lift the ban")
    result = SyncResult(peer.url)
    try:
        with PeerClient(peer.url, timeout=timeout, signer=node_signer(node), audience=peer.key) as client:
            if peer.key is None or exchange.due(node, peer.url, exchange_every):
                exchange.learn(node, _descriptor(node, peers, client, peer.url, result), peer.url)
            if do_pull:
                pull(node, peers, client, peer.url, scope, result, progress)
                _adopt_configs(node, peers, client, peer.url, result)
            if do_push:
                push(node, peers, client, peer.url, result, progress)
            result.bytes_in, result.bytes_out, result.deltas = client.bytes_in, client.bytes_out, client.deltas_in
    except Exception as exc:
        # Whatever failed (the peer, or our own store: a full disk), `peer list` must not say "ok".
        problem = disk_problem(exc, node.store.path)
        _record_failure(peers, peer.url, str(problem or exc) or type(exc).__name__)
        if problem is not None:
            raise problem from exc
        raise
    peers.set(peer.url, last_sync=int(time.time()), last_error=None)
    exchange.verify_some(node, timeout=min(timeout, 10.0))
    return result


def _record_failure(peers: PeerBook, url: str, message: str) -> None:
    """Keep when a sync failed and why; a store that cannot take even that (the full disk that
    made the sync fail) loses only the record, not the error the caller is given."""
    try:
        peers.set(url, last_sync=int(time.time()), last_error=message[:1000])
    except (engine_errors.Error, WikipeerError):
        pass


def sync_all(node: Node, log_error=print, timeout: float = 30.0,
             exchange_every: float = exchange.EXCHANGE_EVERY, url: str | None = None) -> list[SyncResult]:
    """Sync with every peer that is not banned; a failing peer does not stop the others.

    A node that synced with none (its peers all failed, or it has none) takes a few candidates
    that peer exchange verified as peers (exchange.adopt) and syncs with them; not one with
    ADOPT_BELOW peers or more, whose failures are more likely its own network's than churn.
    ``url``: the address other nodes reach this node at; with it, the node then says hello to its
    neighbours on the gossip ring that do not know it yet (net/hello.py).
    """
    urls = [peer.url for peer in PeerBook(node.store).list() if not peer.banned]
    results = _sync_each(node, urls, log_error, timeout, exchange_every)
    if not results and len(urls) < ADOPT_BELOW:
        results = _sync_each(node, exchange.adopt(node), log_error, timeout, exchange_every)
    if url is not None:
        try:
            hello.announce(node, url, timeout=min(timeout, 10.0))
        except Exception as exc:  # as a sync's: the loop of `serve --sync-every` must outlive it
            log_error(f"hello to the ring neighbours: {exc}")
    return results


def _sync_each(node: Node, urls: list[str], log_error, timeout: float, exchange_every: float) -> list[SyncResult]:
    results = []
    for url in urls:
        try:
            results.append(sync(node, url, timeout=timeout, exchange_every=exchange_every))
        except Exception as exc:  # the loop of `serve --sync-every` must outlive any one failure
            log_error(f"sync with {url}: {exc}")
    return results


def sync_forever(node: Node, every: float, stop: threading.Event, log_error=print, url: str | None = None) -> None:
    """Sync with all peers every ``every`` seconds until ``stop`` is set (for ``serve --sync-every``);
    ``url`` as for sync_all."""
    while not stop.wait(every):
        sync_all(node, log_error, url=url)
