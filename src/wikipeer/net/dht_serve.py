"""A serving node in the DHT: publishing its records while it serves, and the finder fetch-on-demand asks.

`wikipeer serve --dht` runs one participant beside the web server (``publish_node``). With several
workers, the elected worker runs it, and every worker asks it through a lookup-only participant of its
own (``worker_finder``): a participant is a thread and a UDP port, and neither may cross a fork.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from wikipeer.errors import UserError
from wikipeer.net.dht_node import Participant, holder_urls, publish_forever
from wikipeer.net.dht_publish import node_records
from wikipeer.net.fetch import Finder
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY


def publish_node(participant: Participant, node: Node, url: str, stop: threading.Event,
                 warn: Callable[[str], None], ttl_ms: int) -> Finder:
    """Publish ``node``'s records (reached at ``url``) until ``stop``, in a thread; the finder that asks
    ``participant`` who holds a page."""
    threading.Thread(target=publish_forever, daemon=True, name="dht-publish",
                     args=(participant, lambda now, ttl: node_records(node, url, now, ttl), stop, warn,
                           ttl_ms)).start()
    return holder_urls(participant, node.keyring.get(NODE_KEY).public)


def worker_finder(node: Node, host: str, dht_port: int) -> Finder:
    """Fetch-on-demand in one of several workers: a lookup-only participant of its own (made at the first
    page no peer has), joined through the node's participant at ``host``:``dht_port``, which the elected
    worker runs. It joins again whenever it knows no one (it was made before the leader's participant was
    up, or the lead moved)."""
    made: list[tuple[Participant, Finder]] = []
    lock = threading.Lock()

    def finder(wiki: str, ns: int, title: str) -> list[str]:
        try:
            with lock:
                if not made:
                    participant = Participant(0, host=host, bootstrap=[(host, dht_port)], lookup_only=True)
                    made.append((participant, holder_urls(participant, node.keyring.get(NODE_KEY).public)))
                participant, find = made[0]
                if not participant.rejoin():
                    return []
        except (TimeoutError, UserError):  # no participant to ask now: the reader gets the page's 404
            return []
        return find(wiki, ns, title)
    return finder
