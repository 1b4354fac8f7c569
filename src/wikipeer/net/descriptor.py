"""A node's signed descriptor: who it is, what it holds, where it answers.

The descriptor is a DAG-CBOR object (never stored) signed by the node key in
the role "node"; anyone can check that the key in it vouches for the rest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from wikipeer import __version__
from wikipeer.errors import Forgery, InvalidObject
from wikipeer.model.block import encode_object
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import sign, verify
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY


@dataclass(frozen=True, slots=True)
class Descriptor:
    """Who a node is. ``wikis`` maps each wiki it holds to its configuration
    (namespaces, language, case rule), which a peer needs to show its pages."""

    key: str
    wikis: dict[str, dict]
    address: str
    software: str
    ts: int


def _object(d: Descriptor) -> dict[str, Any]:
    return {"t": "node", "key": d.key, "wikis": d.wikis, "address": d.address, "software": d.software, "ts": d.ts}


def signed_descriptor(node: Node, address: str) -> dict[str, Any]:
    """The JSON a node serves at ``/api/v1/node``."""
    identity = node.keyring.get(NODE_KEY)
    wikis = {name: node.wiki_or_default(name).to_dict() for name in node.store.wikis()}
    d = Descriptor(identity.public, wikis, address, f"wikipeer {__version__}", int(time.time() * 1000))
    block = encode_object(_object(d))
    signature = sign(node.keyring.signing_key(NODE_KEY, node.passphrase), block.cid, "node")
    return {"descriptor": _object(d), "cid": cid_to_str(block.cid), "sig": signature}


def check_descriptor(data: Any) -> Descriptor:
    """The descriptor in a peer's answer, once its signature is checked."""
    try:
        obj = data["descriptor"]
        d = Descriptor(obj["key"], dict(obj["wikis"]), obj["address"], obj["software"], int(obj["ts"]))
        block = encode_object(_object(d))
        good = verify(d.key, block.cid, "node", data["sig"])
    except (KeyError, TypeError, ValueError, InvalidObject) as exc:
        raise InvalidObject(f"not a node descriptor: {exc}") from None
    if not good:
        raise Forgery(f"the node descriptor's signature by {d.key} does not verify")
    return d
