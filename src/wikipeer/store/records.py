"""Read-side records the store hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wikipeer.model.cid import cid_to_str


@dataclass(frozen=True, slots=True)
class ParentText:
    """The text a revision's text may travel against: its first parent's (net/wire.py)."""

    rev: bytes  # the revision's CID
    base_id: int  # the parent's text: its id and CID
    base: bytes
    parent_id: int  # the parent revision's id


@dataclass(frozen=True, slots=True)
class SigInfo:
    """A verified signature held for some object."""

    key: str
    role: str
    cid: bytes


@dataclass(slots=True)
class RevInfo:
    """A revision as views need it: its record plus store ids and signatures."""

    id: int
    cid: bytes
    page: int
    parents: tuple[bytes, ...]
    text: bytes
    ts: int
    size: int
    comment: str = ""
    model: str = "wikitext"
    format: str | None = None
    author: str | None = None
    minor: bool = False
    origin: dict[str, Any] = field(default_factory=dict)
    sigs: list[SigInfo] = field(default_factory=list)

    @property
    def cid_str(self) -> str:
        return cid_to_str(self.cid)

    def signers(self) -> set[str]:
        return {s.key for s in self.sigs}


@dataclass(slots=True)
class FileInfo:
    """A file version as views need it: its record plus store ids and signatures."""

    id: int
    cid: bytes
    page: int
    sha256: str
    sha1: str
    size: int
    mime: str
    width: int | None
    height: int | None
    ts: int
    chunks: tuple[bytes, ...]
    author: str | None = None
    comment: str = ""
    desc: bytes | None = None
    sigs: list[SigInfo] = field(default_factory=list)
    origin: dict[str, Any] = field(default_factory=dict)
    """Provenance of an imported version (a dump's or a MediaWiki's upload record)."""

    @property
    def cid_str(self) -> str:
        return cid_to_str(self.cid)


@dataclass(frozen=True, slots=True)
class PageRow:
    """A page the store holds."""

    id: int
    cid: bytes
    wiki: str
    ns: int
    title: str


@dataclass(frozen=True, slots=True)
class WikiStats:
    """Counts for one wiki, as `wikipeer stats` prints them."""

    wiki: str
    pages: int
    revisions: int
    blocks: int
    bytes: int


@dataclass(frozen=True, slots=True)
class HeldStats:
    """What one source left waiting in the held table."""

    source: str
    objects: int
    bytes: int
    since: int
    """When the oldest of them was held (unix seconds)."""


@dataclass(frozen=True, slots=True)
class DanglingRow:
    """An index row that points at an object the store lacks (fsck reports it)."""

    problem: str
    id: int
    cid: bytes | None
    """The CID of the object the row belongs to, when that object is held."""
