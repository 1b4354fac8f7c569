"""A node's signed descriptor: who it is, what it holds, where it answers.

The descriptor is a DAG-CBOR object (never stored) signed by the node key in
the role "node"; anyone can check that the key in it vouches for the rest.
It names the peers the node knows (``peers``: peer exchange, net/exchange.py),
at most LISTED of them; a descriptor from a node older than peer exchange has
none, and is signed without the field.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace
from typing import Any

from wikipeer import __version__
from wikipeer.errors import Forgery, InvalidObject
from wikipeer.model.block import encode_object
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import sign, verify
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peer_candidates import LISTED, recently_good


@dataclass(frozen=True, slots=True)
class Descriptor:
    """Who a node is. ``wikis`` maps each wiki it holds to its configuration
    (namespaces, language, case rule), which a peer needs to show its pages."""

    key: str
    wikis: dict[str, dict]
    address: str
    software: str
    ts: int
    peers: tuple[tuple[str, str], ...] | None = None
    """(url, key) of peers the node knows, as it signed them (not checked: net/exchange.py does)."""


def _object(d: Descriptor) -> dict[str, Any]:
    obj = {"t": "node", "key": d.key, "wikis": d.wikis, "address": d.address, "software": d.software, "ts": d.ts}
    if d.peers is not None:
        obj["peers"] = [list(p) for p in d.peers]
    return obj


def signed_descriptor(node: Node, address: str) -> dict[str, Any]:
    """The JSON a node serves at ``/api/v1/node``."""
    identity = node.keyring.get(NODE_KEY)
    wikis = {name: node.wiki_or_default(name).to_dict() for name in node.store.wikis()}
    d = Descriptor(identity.public, wikis, address, f"wikipeer {__version__}", int(time.time() * 1000),
                   tuple(recently_good(node.store, identity.public, LISTED)))
    block = encode_object(_object(d))
    signature = sign(node.keyring.signing_key(NODE_KEY, node.passphrase), block.cid, "node")
    return {"descriptor": _object(d), "cid": cid_to_str(block.cid), "sig": signature}


def check_descriptor(data: Any) -> Descriptor:
    """The descriptor in a peer's answer, once its signature is checked.

    Its peer list is checked for shape only: malformed entries are left out, and no more than LISTED kept.
    """
    try:
        obj = data["descriptor"]
        d = Descriptor(obj["key"], dict(obj["wikis"]), obj["address"], obj["software"], int(obj["ts"]))
        raw = obj.get("peers")  # signed as sent, whatever it holds
        block = encode_object({**_object(d), **({} if raw is None else {"peers": raw})})
        good = verify(d.key, block.cid, "node", data["sig"])
    except (KeyError, TypeError, ValueError, InvalidObject) as exc:
        raise InvalidObject(f"not a node descriptor: {exc}") from None
    if not good:
        raise Forgery(f"the node descriptor's signature by {d.key} does not verify")
    return d if raw is None else replace(d, peers=_pairs(raw))


def _pairs(raw: object) -> tuple[tuple[str, str], ...]:
    """The [url, key] pairs of a peer list, at most LISTED."""
    entries = raw if isinstance(raw, list) else []
    pairs = (tuple(e) for e in entries if isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e))
    return tuple(itertools.islice(pairs, LISTED))
