"""A DHT participant beside a node's other work: its asyncio loop in a thread of its own.

`wikipeer serve --dht PORT` runs one for as long as it serves, publishing the node's records
and refreshing them before they expire; `wikipeer peer discover` runs one for a single lookup;
fetch-on-demand asks it for the holders of a page no configured peer has.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

from wikipeer.errors import InvalidObject, UserError
from wikipeer.model.cid import cid_to_str
from wikipeer.model.objects import Page, build_page
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.dht_records import DEFAULT_TTL_MS, Holder, guid_prefix, pages_key, wiki_key
from wikipeer.net.dht_server import RecordServer, start, udp_port
from wikipeer.net.dht_storage import RecordStorage, now_ms
from wikipeer.net.fetch import MAX_FOUND

LOOKUP_SECONDS = 30.0
REPORT_SECONDS = 60.0
REJOIN_SECONDS = 2.0
CHECK_SECONDS = 5.0
"""How long a found node may take to say who it is."""


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` as the (IP, port) the kademlia package wants; UserError naming what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"bad DHT address {text!r}: write HOST:PORT, e.g. 127.0.0.1:4000")
    try:
        ip = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_DGRAM)[0][4][0]
    except socket.gaierror as exc:
        raise UserError(f"cannot resolve the DHT address {text!r}: {exc.strerror}") from None
    return ip, int(port)


class Participant:
    """A DHT participant whose loop runs in a daemon thread; its methods block until done."""

    def __init__(self, port: int, host: str = "127.0.0.1", bootstrap: list[tuple[str, int]] | None = None,
                 storage: RecordStorage | None = None, lookup_only: bool = False) -> None:
        self.bootstrap = bootstrap or []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="dht")
        self.thread.start()
        try:
            self.server: RecordServer = self._run(start(port, host, self.bootstrap, storage, lookup_only))
        except OSError as exc:
            self._halt()
            raise UserError(f"cannot listen for the DHT on UDP {host}:{port}: {exc.strerror or exc}") from None

    def _run(self, coro, timeout: float = LOOKUP_SECONDS):  # noqa: ANN001, ANN202 (any coroutine's result)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def port(self) -> int:
        return udp_port(self.server)

    @property
    def storage(self) -> RecordStorage:
        return self.server.storage

    def knows_others(self) -> bool:
        """Whether this participant knows any other (its routing table is read on its own loop)."""
        async def known() -> bool:
            return bool(self.server.protocol.router.find_neighbors(self.server.node))
        return self._run(known())

    def refused(self) -> Counter[str]:
        """What this participant's storage refused, by reason (copied on its own loop)."""
        async def copy() -> Counter[str]:
            return Counter(self.storage.refused)
        return self._run(copy())

    def rejoin(self) -> bool:
        """When no other participant is known (the bootstrap nodes were not up yet, or all left), try the
        bootstrap nodes again; True if this one now knows others."""
        if not self.knows_others() and self.bootstrap:
            self._run(self.server.bootstrap(self.bootstrap))
        return self.knows_others()

    def publish(self, records: list[tuple[str, bytes]]) -> int:
        """File each (DHT key, record); how many reached at least one node."""
        async def all_of() -> list[bool]:
            return await asyncio.gather(*(self.server.publish(k, r) for k, r in records))
        return sum(self._run(all_of()))

    def holders(self, dht_key: str) -> list[Holder]:
        """The verified holders filed under ``dht_key``."""
        return self._run(self.server.holders(dht_key))

    def wiki_holders(self, wiki: str) -> list[Holder]:
        return self.holders(wiki_key(wiki))

    def page_holders(self, wiki: str, ns: int, title: str) -> list[Holder]:
        """Who holds a page: holders of its wiki covering its namespace, then of its GUID's prefix."""
        guid = cid_to_str(build_page(Page(wiki, ns, title)).cid)
        found = [h for h in self.wiki_holders(wiki) if h.covers(ns)]
        return found + self.holders(pages_key(guid_prefix(guid)))

    def _halt(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()

    def stop(self) -> None:
        """Stop listening, end what the loop still runs, and end the thread."""
        async def close() -> None:
            self.server.stop()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await asyncio.sleep(0)  # the transport finishes closing on the loop's next turn
        try:
            self._run(close(), timeout=5)
        finally:
            self._halt()


def publish_forever(participant: Participant, records: Callable[[int, int], list[tuple[str, bytes]]],
                    stop: threading.Event, warn: Callable[[str], None], ttl: int = DEFAULT_TTL_MS) -> None:
    """Publish ``records(now, ttl)`` now and again at half their lifetime, until ``stop`` is set; say
    (through ``warn``, at most once a minute) what the participant refused since it last said. A
    participant that knows no other tries its bootstrap nodes again every few seconds, and publishes
    as soon as it has joined."""
    due, told, alone = 0.0, Counter(), False
    while not stop.is_set():
        try:
            if alone and participant.rejoin():
                alone, due = False, 0.0  # joined at last: publish there now
            if time.monotonic() >= due:
                due = time.monotonic() + ttl / 2000
                participant.publish(records(now_ms(), ttl))
                alone = not participant.rejoin()
            refused = participant.refused()
        except Exception as exc:  # a failed round is retried next round; the node keeps serving
            warn(f"publishing to the DHT failed: {exc}")
            refused = told
        news = refused - told
        if news:
            warn("the DHT participant refused " + ", ".join(f"{n} {why}" for why, n in sorted(news.items()))
                 + f" (since it started: {sum(refused.values())})")
            told = refused
        stop.wait(REJOIN_SECONDS if alone else min(max(due - time.monotonic(), 0.5), REPORT_SECONDS))


def holder_urls(participant: Participant, own_key: str, most: int = MAX_FOUND) -> Callable[[str, int, str], list[str]]:
    """A finder for fetch-on-demand: the addresses of at most ``most`` holders of a page, this node's own left
    out, each one's node asked who it is first: a record anyone may sign cannot send fetches to another node's
    address."""
    def finder(wiki: str, ns: int, title: str) -> list[str]:
        try:
            holders = participant.page_holders(wiki, ns, title)
        except TimeoutError:  # the DHT did not answer in time: the reader gets the page's 404, not a 500
            return []
        found: dict[str, None] = {}
        for h in holders:
            if h.key != own_key and h.url not in found and len(found) < most and _answers_as(h):
                found[h.url] = None
        return list(found)
    return finder


def _answers_as(holder: Holder) -> bool:
    """Whether the node at a holder's URL is the node whose key signed the record."""
    try:
        with PeerClient(holder.url, timeout=CHECK_SECONDS) as client:
            return client.descriptor().key == holder.key
    except (PeerError, InvalidObject):
        return False
