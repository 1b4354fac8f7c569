"""The object types and their records: page, rev, sig, text blobs, and the notices
an issuer signs (profile, ban, trust, blocklist).

``build_*`` functions make blocks from records; ``parse`` turns any checked
block into its record after validating its schema. Records hold CIDs as bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block, check_block, decode_object, encode_object, raw_block
from wikipeer.model.cid import RAW
from wikipeer.model.keys import ROLES
from wikipeer.model.schema import Field, check_fields
from wikipeer.model.title import check_title_text, clean_title

MAX_PARENTS = 16
MAX_COMMENT = 4096
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot carry even escaped; MediaWiki never stores them, so neither do we."""
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D))
_WIKI_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}\Z")

PAGE_RULES = {"wiki": Field("str", limit=64), "ns": Field("int"), "title": Field("str", limit=255)}
REV_RULES = {
    "page": Field("link"),
    "parents": Field("links", limit=MAX_PARENTS),
    "text": Field("link"),
    "size": Field("int"),
    "model": Field("str", limit=64),
    "format": Field("str", required=False, limit=64),
    "comment": Field("str", required=False, limit=MAX_COMMENT),
    "ts": Field("int"),
    "author": Field("key", required=False),
    "minor": Field("bool", required=False),
    "origin": Field("map", required=False, limit=1024),
}
SIG_RULES = {"target": Field("link"), "role": Field("str", limit=16), "key": Field("key"), "sig": Field("sig"), "ts": Field("int", required=False)}
BAN_RULES = {"key": Field("key"), "peer": Field("key", required=False), "url": Field("str", required=False, limit=1024),
             "reason": Field("str", limit=1024), "ts": Field("int")}
TRUST_RULES = {"key": Field("key"), "community": Field("str", limit=64), "seq": Field("int"), "ts": Field("int"),
               "members": Field("rolemap", limit=100_000), "includes": Field("strs", required=False, limit=100)}
BLOCKLIST_RULES = {"key": Field("key"), "name": Field("str", limit=64), "seq": Field("int"), "ts": Field("int"),
                   "patterns": Field("strs", limit=10_000)}
PROFILE_RULES = {"key": Field("key"), "name": Field("str", limit=255), "about": Field("str", required=False, limit=4096), "ts": Field("int")}


@dataclass(frozen=True, slots=True)
class Page:
    """A page's identity; its CID is the page GUID."""

    wiki: str
    ns: int
    title: str


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision of a page: its text, parents and provenance."""

    page: bytes
    parents: tuple[bytes, ...]
    text: bytes
    size: int
    ts: int
    model: str = "wikitext"
    comment: str = ""
    author: str | None = None
    minor: bool = False
    format: str | None = None
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature by ``key`` over the object ``target`` in ``role``."""

    target: bytes
    role: str
    key: str
    sig: str
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A public identity: a key and the name its holder goes by."""

    key: str
    name: str
    ts: int
    about: str = ""


@dataclass(frozen=True, slots=True)
class Ban:
    """A node's signed notice that it banned a peer (by node key, address, or both), and why."""

    key: str
    reason: str
    ts: int
    peer: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Trust:
    """A community's list of the keys it trusts, each with a role, issued and signed by ``key``.

    A list with a higher ``seq`` from the same issuer and community supersedes
    a lower one. ``includes`` names other communities as "ISSUER_KEY/community":
    their members are trusted too.
    """

    key: str
    community: str
    seq: int
    ts: int
    members: dict[str, str]
    includes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Blocklist:
    """Patterns of bad content (RE2 regular expressions), issued and signed by ``key``; newer ``seq`` supersedes."""

    key: str
    name: str
    seq: int
    ts: int
    patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Text:
    """A text blob: the UTF-8 bytes of a revision's content."""

    data: bytes


Record = Union[Page, Revision, Signature, Profile, Ban, Trust, Blocklist, Text]
Notice = Union[Profile, Ban, Trust, Blocklist]
"""Records an issuer signs with its own key and may supersede: they spread by gossip."""


def _drop_empty(obj: dict[str, Any]) -> dict[str, Any]:
    """Leave out optional fields at their defaults so equal records encode equally."""
    return {k: v for k, v in obj.items() if not (v is None or v is False or v == "" or v == {})}


def build_page(page: Page) -> Block:
    """The page object whose CID is the page's GUID."""
    return encode_object({"t": "page", "wiki": page.wiki, "ns": page.ns, "title": page.title})


def build_revision(rev: Revision) -> Block:
    obj = {
        "t": "rev", "page": rev.page, "parents": list(rev.parents), "text": rev.text, "size": rev.size,
        "ts": rev.ts, "model": rev.model, "comment": rev.comment, "author": rev.author,
        "minor": rev.minor, "format": rev.format, "origin": rev.origin,
    }
    return encode_object(_drop_empty(obj))


def build_signature(sig: Signature) -> Block:
    return encode_object(_drop_empty({"t": "sig", "target": sig.target, "role": sig.role, "key": sig.key, "sig": sig.sig, "ts": sig.ts}))


def build_profile(profile: Profile) -> Block:
    return encode_object(_drop_empty({"t": "profile", "key": profile.key, "name": profile.name, "about": profile.about, "ts": profile.ts}))


def build_ban(ban: Ban) -> Block:
    return encode_object(_drop_empty({"t": "ban", "key": ban.key, "peer": ban.peer, "url": ban.url,
                                      "reason": ban.reason, "ts": ban.ts}))


def build_trust(trust: Trust) -> Block:
    obj = {"t": "trust", "key": trust.key, "community": trust.community, "seq": trust.seq, "ts": trust.ts,
           "members": dict(trust.members)}  # kept even when empty: an emptied list is still a list
    if trust.includes:
        obj["includes"] = list(trust.includes)
    return encode_object(obj)


def build_blocklist(blocklist: Blocklist) -> Block:
    return encode_object({"t": "blocklist", "key": blocklist.key, "name": blocklist.name, "seq": blocklist.seq,
                          "ts": blocklist.ts, "patterns": list(blocklist.patterns)})


def build_text(text: str | bytes) -> Block:
    return raw_block(text.encode("utf-8") if isinstance(text, str) else text)


def check_wiki_name(name: str) -> None:
    """InvalidObject unless ``name`` can name a wiki (letters, digits, _ . -; at most 64)."""
    if not _WIKI_NAME.match(name):
        raise InvalidObject(f"bad wiki name {name!r} (letters, digits, _ . - only, at most 64)")


def _parse_page(obj: dict[str, Any]) -> Page:
    check_fields("page", obj, PAGE_RULES)
    if not _WIKI_NAME.match(obj["wiki"]):
        raise InvalidObject(f"page: bad wiki name {obj['wiki']!r} (letters, digits, _ . - only)")
    title = obj["title"]
    # A title in another form of the same name (NFD, underscores, a directional mark)
    # would be a second GUID for one page: only the normal form is a page object.
    normal = clean_title(title)
    if normal != title:
        raise InvalidObject(f"page: title {title!r} is not normalised (expected {normal!r}: NFC, no underscores, "
                            "stray spaces, directional marks or character references)")
    check_title_text(title, title)
    return Page(obj["wiki"], obj["ns"], title)


def _check_xml_chars(where: str, text: str) -> None:
    bad = _NOT_IN_XML.search(text)
    if bad:
        raise InvalidObject(f"{where} holds the control character U+{ord(bad.group()):04X} at index {bad.start()}, "
                            "which wiki text may not contain")


def _parse_rev(obj: dict[str, Any]) -> Revision:
    check_fields("rev", obj, REV_RULES)
    for name in ("comment", "model", "format"):
        if isinstance(obj.get(name), str):
            _check_xml_chars(f"rev.{name}", obj[name])
    for key, value in obj.get("origin", {}).items():
        if isinstance(value, str):
            _check_xml_chars(f"rev.origin.{key}", value)
    if obj["text"][1] != RAW:
        raise InvalidObject("rev.text must link a raw text blob")
    return Revision(
        page=obj["page"], parents=tuple(obj["parents"]), text=obj["text"], size=obj["size"], ts=obj["ts"],
        model=obj["model"], comment=obj.get("comment", ""), author=obj.get("author"),
        minor=obj.get("minor", False), format=obj.get("format"), origin=obj.get("origin", {}),
    )


def _parse_sig(obj: dict[str, Any]) -> Signature:
    check_fields("sig", obj, SIG_RULES)
    if obj["role"] not in ROLES:
        raise InvalidObject(f"sig: unknown role {obj['role']!r} (one of {', '.join(ROLES)})")
    return Signature(obj["target"], obj["role"], obj["key"], obj["sig"], obj.get("ts"))


def _parse_profile(obj: dict[str, Any]) -> Profile:
    check_fields("profile", obj, PROFILE_RULES)
    return Profile(obj["key"], obj["name"], obj["ts"], obj.get("about", ""))


def _parse_ban(obj: dict[str, Any]) -> Ban:
    check_fields("ban", obj, BAN_RULES)
    if "peer" not in obj and "url" not in obj:
        raise InvalidObject("ban: names no peer: give its node key (peer), its address (url), or both")
    return Ban(obj["key"], obj["reason"], obj["ts"], obj.get("peer"), obj.get("url"))


def _parse_trust(obj: dict[str, Any]) -> Trust:
    check_fields("trust", obj, TRUST_RULES)
    for community in obj.get("includes", []):
        issuer, sep, name = community.partition("/")
        if not sep or not name:
            raise InvalidObject(f"trust.includes: {community!r} is not 'ISSUER_KEY/community'")
        check_fields("trust.includes", {"key": issuer}, {"key": Field("key")})
    return Trust(obj["key"], obj["community"], obj["seq"], obj["ts"], dict(obj["members"]),
                 tuple(obj.get("includes", ())))


def _parse_blocklist(obj: dict[str, Any]) -> Blocklist:
    check_fields("blocklist", obj, BLOCKLIST_RULES)
    return Blocklist(obj["key"], obj["name"], obj["seq"], obj["ts"], tuple(obj["patterns"]))


_PARSERS = {"page": _parse_page, "rev": _parse_rev, "sig": _parse_sig, "profile": _parse_profile, "ban": _parse_ban,
            "trust": _parse_trust, "blocklist": _parse_blocklist}


def parse(block: Block, max_text: int) -> Record:
    """Check a block's CID and schema and return its record, or raise InvalidObject."""
    check_block(block)
    if block.codec == RAW:
        if len(block.data) > max_text:
            raise InvalidObject(f"{block}: text of {len(block.data)} bytes exceeds the limit of {max_text}")
        try:
            text = block.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidObject(f"{block}: text is not valid UTF-8 (byte offset {exc.start})") from None
        # Fast path on the bytes: in UTF-8 a control character is always a lone byte below 0x20.
        if len(block.data.translate(None, _CONTROL_BYTES)) != len(block.data) or b"\xef\xbf\xbe" in block.data \
                or b"\xef\xbf\xbf" in block.data:
            _check_xml_chars(f"{block}: text", text)
        return Text(block.data)
    obj = decode_object(block)
    kind = obj.get("t")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise InvalidObject(f"{block}: unknown object type {kind!r}")
    try:
        return parser(obj)
    except InvalidObject as exc:
        raise InvalidObject(f"{block}: {exc}") from None
