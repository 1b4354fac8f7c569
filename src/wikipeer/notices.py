"""Publishing notices (profiles, trust lists, blocklists) and seconding revisions, signed here.

A notice is superseded by a newer one from the same issuer and name: each
change here publishes the whole list again with the next number, so any
node that holds the newest knows the list exactly, whatever order they came.
"""

from __future__ import annotations

import time

from wikipeer.errors import NotFound, UserError
from wikipeer.ingest import REJECTED, IngestReport
from wikipeer.model.block import Block
from wikipeer.model.keys import sign
from wikipeer.model.objects import (Blocklist, Profile, Signature, Trust, build_blocklist, build_profile, build_signature,
                                    build_trust)
from wikipeer.node import Node
from wikipeer.store import gossip_queue
from wikipeer.store.keyring import Identity
from wikipeer.store.schema import KIND_BLOCKLIST, KIND_TRUST


def _now() -> int:
    return int(time.time() * 1000)


def _identity(node: Node, key_name: str | None) -> Identity:
    return node.keyring.get(key_name) if key_name else node.user_key()


def _signed(node: Node, identity: Identity, block: Block, role: str = "author") -> list[Block]:
    key = node.keyring.signing_key(identity.name, node.passphrase)
    sig = build_signature(Signature(block.cid, role, identity.public, sign(key, block.cid, role), _now()))
    return [block, sig]


def _publish(node: Node, blocks: list[Block]) -> IngestReport:
    """Take a notice in here and queue it for gossip (net/gossip.py passes it on)."""
    report = node.ingest(blocks, "local")
    for status in report.statuses:
        if status.state == REJECTED:
            raise UserError(f"not published: {status.reason}")
    gossip_queue.queue(node.store, node.store.object_id(blocks[0].cid))  # the whole ring: it starts here
    return report


def current_trust(node: Node, issuer: str, community: str) -> Trust | None:
    found = node.store.current_notices(KIND_TRUST, issuer, community)
    return found[0][1] if found else None


def publish_trust(node: Node, community: str, members: dict[str, str] | None = None,
                  includes: tuple[str, ...] | None = None, key_name: str | None = None) -> Trust:
    """Publish the next version of a community's trust list, issued by ``key_name`` (default: the user's key)."""
    identity = _identity(node, key_name)
    old = current_trust(node, identity.public, community)
    trust = Trust(identity.public, community, (old.seq + 1) if old else 1, _now(),
                  members if members is not None else (dict(old.members) if old else {}),
                  includes if includes is not None else (old.includes if old else ()))
    _publish(node, _signed(node, identity, build_trust(trust)))
    return trust


def current_blocklist(node: Node, issuer: str, name: str) -> Blocklist | None:
    found = node.store.current_notices(KIND_BLOCKLIST, issuer, name)
    return found[0][1] if found else None


def publish_blocklist(node: Node, name: str, patterns: tuple[str, ...], key_name: str | None = None) -> Blocklist:
    """Publish the next version of a blocklist with exactly these patterns."""
    identity = _identity(node, key_name)
    old = current_blocklist(node, identity.public, name)
    blocklist = Blocklist(identity.public, name, (old.seq + 1) if old else 1, _now(), tuple(dict.fromkeys(patterns)))
    _publish(node, _signed(node, identity, build_blocklist(blocklist)))
    return blocklist


def publish_profile(node: Node, name: str, about: str = "", key_name: str | None = None) -> Profile:
    """Publish the name a key goes by, signed by that key: other nodes show it (as a claim) for its edits."""
    if not name.strip():
        raise UserError("a profile needs a name: the name others should see for your edits")
    identity = _identity(node, key_name)
    profile = Profile(identity.public, name.strip(), _now(), about)
    _publish(node, _signed(node, identity, build_profile(profile)))
    return profile


def second(node: Node, rev_cid: bytes, key_name: str | None = None) -> bytes:
    """Sign an existing revision in the role "second"; returns the signature's CID."""
    try:
        node.store.revision(rev_cid)
    except NotFound:
        raise UserError("this node holds no such revision to second") from None
    identity = _identity(node, key_name)
    key = node.keyring.signing_key(identity.name, node.passphrase)
    sig = build_signature(Signature(rev_cid, "second", identity.public, sign(key, rev_cid, "second"), _now()))
    report = node.ingest([sig], "local")
    if report.statuses[0].state == REJECTED:
        raise UserError(f"not seconded: {report.statuses[0].reason}")
    return sig.cid
