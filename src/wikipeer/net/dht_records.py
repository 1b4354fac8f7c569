"""Signed DHT records: who holds a wiki (or some of its namespaces), who holds pages of a GUID prefix.

Pure: no I/O and no clock of its own (every check takes ``now`` in milliseconds), so the
simulation can run it over an in-memory transport. A record is DAG-CBOR ``{"r": body, "s": sig}``;
the signature is the node key's, in the role "dht", over the CID of the body's DAG-CBOR. A record
names who, where and how fresh, never content: a reader fetches the pages themselves from the URL
through the normal verified path.

A DHT value is a *bundle*: a DAG-CBOR list of records, so that several holders of one wiki
coexist under one DHT key (docs/scale-dht.md says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import libipld
import nacl.signing

from wikipeer.errors import InvalidObject
from wikipeer.model.block import encode_object
from wikipeer.model.keys import key_from_str, key_to_str, sign, verify

ROLE = "dht"
WIKI = "dht-wiki"
PAGES = "dht-pages"
MAX_RECORD = 1024
"""Largest record accepted, in bytes (the biggest legitimate one is measured in the tests)."""
MAX_BUNDLE = 7000
"""Largest bundle a node answers or stores with: under rpcudp's 8 KB request limit with its framing."""
MAX_LIFETIME_MS = 24 * 3600 * 1000
"""A record may not claim to live longer than a day: a stolen or stale one dies soon."""
MAX_SKEW_MS = 5 * 60 * 1000
"""How far in the future a record's issue time may be (clocks differ)."""
DEFAULT_TTL_MS = 3600 * 1000
MAX_NAMESPACES = 64
MAX_URL = 256
MAX_WIKI = 64
PREFIX_LEN = 9
"""Characters of a page GUID that name its prefix bucket: 'bafyrei' (the same for every page) and two more,
eight bits of the hash: 256 buckets."""


class BadRecord(InvalidObject):
    """A DHT record that is refused; ``reason`` is the counter it goes to."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Holder:
    """A verified record: node ``key`` answers at ``url`` for ``wiki`` (``namespaces`` None: all of it)
    or for pages whose GUIDs start with ``prefix``; ``position`` is its log position then."""

    kind: str
    key: str
    url: str
    ts: int
    expires: int
    wiki: str = ""
    namespaces: tuple[int, ...] | None = None
    position: int = 0
    prefix: str = ""

    @property
    def dht_key(self) -> str:
        return wiki_key(self.wiki) if self.kind == WIKI else pages_key(self.prefix)

    def covers(self, ns: int) -> bool:
        """Whether this holder holds pages of namespace ``ns`` of its wiki."""
        return self.namespaces is None or ns in self.namespaces


def wiki_key(wiki: str) -> str:
    """The DHT key under which holders of ``wiki`` publish."""
    return f"wikipeer:wiki:{wiki}"


def pages_key(prefix: str) -> str:
    """The DHT key under which holders of pages whose GUIDs start with ``prefix`` publish."""
    return f"wikipeer:pages:{prefix}"


def guid_prefix(guid: str) -> str:
    """The prefix bucket of a page GUID (its string form)."""
    return guid[:PREFIX_LEN]


def _body(h: Holder) -> dict[str, Any]:
    body: dict[str, Any] = {"t": h.kind, "key": h.key, "url": h.url, "ts": h.ts, "exp": h.expires}
    if h.kind == WIKI:
        body.update(wiki=h.wiki, ns=None if h.namespaces is None else list(h.namespaces), pos=h.position)
    else:
        body["prefix"] = h.prefix
    return body


def sign_record(signing_key: nacl.signing.SigningKey, holder: Holder) -> bytes:
    """The wire form of ``holder``, signed by ``signing_key`` (which must be the holder's key)."""
    if key_to_str(bytes(signing_key.verify_key)) != holder.key:
        raise InvalidObject("a DHT record is signed by the key it names, not another")
    body = _body(holder)
    _check_fields(holder)
    data = libipld.encode_dag_cbor({"r": body, "s": sign(signing_key, encode_object(body).cid, ROLE)})
    if len(data) > MAX_RECORD:
        raise BadRecord("oversized", f"a DHT record of {len(data)} bytes is over the {MAX_RECORD}-byte limit")
    return data


def wiki_record(signing_key: nacl.signing.SigningKey, wiki: str, url: str, position: int, now: int,
                namespaces: tuple[int, ...] | None = None, ttl: int = DEFAULT_TTL_MS) -> bytes:
    """'This node holds ``wiki`` (whole, or ``namespaces``) at ``url``, log position ``position``.'"""
    key = key_to_str(bytes(signing_key.verify_key))
    return sign_record(signing_key, Holder(WIKI, key, url, now, now + ttl, wiki=wiki, namespaces=namespaces,
                                           position=position))


def pages_record(signing_key: nacl.signing.SigningKey, prefix: str, url: str, now: int,
                 ttl: int = DEFAULT_TTL_MS) -> bytes:
    """'This node holds pages whose GUIDs start with ``prefix``, at ``url``.'"""
    key = key_to_str(bytes(signing_key.verify_key))
    return sign_record(signing_key, Holder(PAGES, key, url, now, now + ttl, prefix=prefix))


def _check_fields(h: Holder) -> None:
    key_from_str(h.key)
    parts = urlsplit(h.url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(h.url) > MAX_URL:
        raise InvalidObject(f"a DHT record's URL must be http(s) and at most {MAX_URL} characters: {h.url[:60]!r}")
    if h.kind == WIKI:
        if not h.wiki or len(h.wiki) > MAX_WIKI or h.position < 0:
            raise InvalidObject(f"a DHT record names a bad wiki {h.wiki[:70]!r} or log position {h.position}")
        if h.namespaces is not None and len(h.namespaces) > MAX_NAMESPACES:
            raise InvalidObject(f"a DHT record names more than {MAX_NAMESPACES} namespaces")
    elif h.kind == PAGES:
        if len(h.prefix) != PREFIX_LEN:
            raise InvalidObject(f"a page prefix is {PREFIX_LEN} characters of a GUID, not {h.prefix!r}")
    else:
        raise InvalidObject(f"unknown DHT record type {h.kind!r}")


def _holder(body: Any) -> Holder:
    if not isinstance(body, dict):
        raise InvalidObject("a DHT record's body is not a map")
    kind = body["t"]
    ns = body.get("ns")
    holder = Holder(kind, body["key"], body["url"], int(body["ts"]), int(body["exp"]), wiki=body.get("wiki", ""),
                    namespaces=None if ns is None else tuple(int(n) for n in ns), position=int(body.get("pos", 0)),
                    prefix=body.get("prefix", ""))
    if not all(isinstance(v, str) for v in (holder.kind, holder.key, holder.url, holder.wiki, holder.prefix)):
        raise InvalidObject("a DHT record's names are not text")
    _check_fields(holder)
    if _body(holder) != body:
        raise InvalidObject("a DHT record carries fields it should not")
    return holder


def check_record(data: bytes, now: int, dht_key: str | None = None) -> Holder:
    """The holder a record names, once its size, form, signature, times and DHT key are checked.

    Raises BadRecord with the reason it is refused: oversized, malformed, forged, expired, future,
    or misplaced (filed under a DHT key other than its own).
    """
    if not isinstance(data, bytes) or len(data) > MAX_RECORD:
        raise BadRecord("oversized", f"a DHT record over {MAX_RECORD} bytes (or not bytes) is refused")
    try:
        outer = libipld.decode_dag_cbor(data)
        body, signature = outer["r"], outer["s"]
        holder = _holder(body)
        block = encode_object(body)
    except (KeyError, TypeError, ValueError, InvalidObject) as exc:
        raise BadRecord("malformed", f"not a DHT record: {exc}") from None
    if not isinstance(signature, str) or not verify(holder.key, block.cid, ROLE, signature):
        raise BadRecord("forged", f"a DHT record's signature by {holder.key} does not verify")
    if holder.expires <= now:
        raise BadRecord("expired", f"a DHT record of {holder.key} expired")
    if holder.ts > now + MAX_SKEW_MS or holder.expires - holder.ts > MAX_LIFETIME_MS:
        raise BadRecord("future", f"a DHT record of {holder.key} claims a time too far ahead")
    if dht_key is not None and holder.dht_key != dht_key:
        raise BadRecord("misplaced", f"a DHT record for {holder.dht_key!r} was filed under {dht_key!r}")
    return holder


def fitting(records: list[bytes]) -> list[bytes]:
    """The first of ``records`` (duplicates left out) that fit one bundle of at most MAX_BUNDLE bytes."""
    chosen, size = [], 8  # a list's header and each item's, generously
    for data in dict.fromkeys(records):
        if size + len(data) + 3 > MAX_BUNDLE:
            break
        chosen.append(data)
        size += len(data) + 3
    return chosen


def encode_bundle(records: list[bytes]) -> bytes:
    """Several records as one DHT value."""
    return libipld.encode_dag_cbor(list(records))


def decode_bundle(value: Any) -> list[bytes]:
    """The records in a DHT value; a value that is not a bundle is malformed as a whole."""
    if not isinstance(value, bytes) or len(value) > MAX_BUNDLE + 64:
        raise BadRecord("oversized", "a DHT value over the bundle limit (or not bytes) is refused")
    try:
        records = libipld.decode_dag_cbor(value)
    except (TypeError, ValueError) as exc:
        raise BadRecord("malformed", f"not a DHT bundle: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(r, bytes) for r in records):
        raise BadRecord("malformed", "a DHT bundle is a list of records")
    return records

