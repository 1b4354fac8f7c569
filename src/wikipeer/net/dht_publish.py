"""The records a node publishes in the DHT: what it holds, where it answers.

A node that follows everything (no ``follow_*`` settings) holds each of its wikis whole. A
partial node holds whole the wikis it follows, the namespaces it follows, and, for the rest,
only some pages: those it publishes by GUID prefix, the fullest prefixes first, at most
``MAX_PREFIXES`` of them (a reader looking for a page asks the page's prefix key).
"""

from __future__ import annotations

from collections import Counter

from wikipeer.model.cid import cid_to_str
from wikipeer.net.dht_records import DEFAULT_TTL_MS, guid_prefix, pages_key, pages_record, wiki_key, wiki_record
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY

MAX_PREFIXES = 64
"""Page-prefix records one node publishes (the storage's per-node bound leaves room for its wikis)."""


def held_namespaces(node: Node, wiki: str) -> tuple[int, ...] | None | bool:
    """What of ``wiki`` the node holds in full: None (all of it), some namespaces, or False (only pages)."""
    c = node.config
    if not (c.follow_wikis or c.follow_namespaces or c.follow_pages) or wiki in c.follow_wikis:
        return None
    namespaces = tuple(sorted({int(n) for w, n in c.follow_namespaces if w == wiki}))
    return namespaces or False


def node_records(node: Node, url: str, now: int, ttl: int = DEFAULT_TTL_MS) -> list[tuple[str, bytes]]:
    """Every (DHT key, signed record) the node publishes now."""
    signer = node.keyring.signing_key(NODE_KEY, node.passphrase)
    position = node.store.last_seq()
    records, prefixes = [], Counter()
    for wiki in node.store.wikis():
        held = held_namespaces(node, wiki)
        if held is False:
            prefixes.update(guid_prefix(cid_to_str(row.cid)) for row in node.store.pages(wiki))
        else:
            records.append((wiki_key(wiki), wiki_record(signer, wiki, url, position, now, held, ttl)))
    for prefix, _ in prefixes.most_common(MAX_PREFIXES):
        records.append((pages_key(prefix), pages_record(signer, prefix, url, now, ttl)))
    return records
