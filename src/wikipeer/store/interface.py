"""The store's interface: what the rest of wikipeer calls on a store, so a second backend knows what to fill.

``Store`` (store.py, SQLite and local packs) satisfies these protocols; a cluster backend (PostgreSQL
and S3) is a class that satisfies them too. Like dulwich's ``BaseObjectStore``, the protocols list
what callers may rely on, and nothing of how it is kept: no connection, no SQL, no table. A caller
above store/ types its parameter with these, or with ``Store``, and uses nothing else of it;
tests/test_store_interface.py checks that the SQLite classes fill every member with the same
signature, and that callers ask a store for nothing outside the protocols.

Three protocols:

- ``StoreReader``: reads; every one sees committed data only, unless inside ``reading()`` (one state).
- ``StoreBackend``: a reader that can also be written to: ``write()`` (one transaction, a
  ``StoreWriter``), the few small settings written on their own, and ``close()``.
- ``StoreWriter``: what ingest does inside one transaction (only ingest holds one: the one door).

The store modules' functions (log, revlists, hidden, page_sets, ...) take a ``Store`` and are part of
the interface too: docs/scale-interface.md lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

from wikipeer.model.block import Block
from wikipeer.model.media import File
from wikipeer.model.objects import Notice, Page, Revision, Signature
from wikipeer.model.title import WikiConfig
from wikipeer.store.blobs import BlobStore
from wikipeer.store.records import FileInfo, HeldStats, PageRow, ParentText, RevInfo, WikiStats
from wikipeer.store.store import StoreDamage


@runtime_checkable
class StoreReader(Protocol):
    """Reads of a store: objects, pages, revisions, files, notices, held blocks, search and counts."""

    path: Path
    """Where the store's data lives on this machine; disk problems are reported naming it."""
    database: str | None
    """The PostgreSQL URL the store's metadata is in; None for SQLite (docs/scale-backends.md)."""
    blobs: BlobStore
    """Where the store's media chunks live (store/blobs: local packs or an S3 bucket; docs/scale-blobs.md)."""
    index_trusted: Callable[[], frozenset[str]]
    """The keys of the view whose shown heads the search index holds (a Node sets its default view's)."""

    # -- objects and the log
    def object_id(self, cid: bytes) -> int | None:
        """The log position (object id) of ``cid``, or None when it is not held."""
        ...

    def existing(self, cids: list[bytes]) -> set[bytes]:
        """Which of ``cids`` the store holds."""
        ...

    def get_block(self, cid: bytes) -> Block | None:
        """The block named ``cid``, rebuilt exactly as it arrived, or None."""
        ...

    def raw_bytes(self, cid: bytes) -> bytes | None:
        """The bytes of a raw block held as a chunk or a text, or None."""
        ...

    def iter_readable(self, since: int = 0, limit: int | None = None) -> Iterator[tuple[int, Block | StoreDamage]]:
        """Blocks in log order after ``since``; one that cannot be read back comes as a StoreDamage, in its place."""
        ...

    def reading(self) -> AbstractContextManager[None]:
        """Several reads that see one state of the store (a read transaction: writers go on, unseen)."""
        ...

    def log_cids(self, since: int = 0) -> Iterator[tuple[int, bytes]]:
        """(log position, CID) of every object held, in log order after ``since``, without reading its bytes."""
        ...

    def head_cids(self) -> list[tuple[bytes, str, int, str, list[bytes]]]:
        """Every page's (CID, wiki, namespace, title, head revision CIDs)."""
        ...

    def last_seq(self) -> int:
        """The last log position handed out (0 for an empty store); after ``listen``, as commits told this process."""
        ...

    def listen(self) -> None:
        """Follow every process's commits in this one, so ``last_seq`` and ``followed_meta`` ask no server."""
        ...

    def followed_meta(self, key: str) -> str | None:
        """``meta`` of a setting whose changes are announced (``announce_change``): cached while none came."""
        ...

    def text_bytes(self, text_id: int) -> bytes:
        """A text's bytes, by its object id."""
        ...

    def meta(self, key: str) -> str | None:
        """A setting kept with the store, or None."""
        ...

    # -- held blocks (waiting for what they need)
    def held_stats(self) -> list[HeldStats]:
        """What waits, by source, the most bytes first."""
        ...

    def held_waiting(self) -> list[bytes]:
        """The CIDs held objects wait for."""
        ...

    def held_waiting_on(self, cids: list[bytes]) -> list[Block]:
        """The held blocks that wait for any of ``cids``."""
        ...

    def still_held(self, cids: list[bytes]) -> set[bytes]:
        """Which of ``cids`` are held now (not released into the store, not dropped)."""
        ...

    # -- media
    def file_versions(self, page_id: int) -> list[FileInfo]:
        """A File: page's file versions, newest first (the first is the one pages show)."""
        ...

    def current_file(self, page_id: int) -> FileInfo | None:
        """The file version a File: page shows, or None."""
        ...

    def file_info(self, cid: bytes) -> FileInfo | None:
        """The file version whose object is ``cid``, or None."""
        ...

    def file_by_sha256(self, sha256: str) -> FileInfo | None:
        """A file version with these bytes (any of them, if several pages hold the same bytes)."""
        ...

    def file_chunks(self, info: FileInfo) -> Iterator[bytes]:
        """A file's bytes, chunk by chunk in order; StoreDamage for a chunk missing or not matching its CID."""
        ...

    def file_cids(self) -> list[tuple[bytes, bytes, bytes]]:
        """(SHA-256, file object CID, page CID) of every file version held, in log order."""
        ...

    def files_stats(self) -> tuple[int, int, int]:
        """(file versions, their bytes, bytes of chunks stored: what is stored once)."""
        ...

    # -- imports from MediaWiki
    def origin_revision(self, site: str, rev_id: int) -> bytes | None:
        """The CID of the revision imported from ``site`` with id ``rev_id``, if held."""
        ...

    def origin_revision_page(self, site: str, rev_id: int) -> tuple[bytes, int] | None:
        """The CID and page id of the revision imported from ``site`` with id ``rev_id``, if held."""
        ...

    # -- wikis and pages
    def wiki_config(self, name: str) -> WikiConfig | None:
        """A wiki's configuration, or None."""
        ...

    def wikis(self) -> list[str]:
        """Every wiki the store has a configuration or a page of, by name."""
        ...

    def page(self, wiki: str, ns: int, title: str) -> PageRow | None:
        """The page of this (normalised) title, or None."""
        ...

    def page_by_id(self, page_id: int) -> PageRow:
        """The page ``page_id``; NotFound when there is none."""
        ...

    def pages(self, wiki: str) -> list[PageRow]:
        """Every page of ``wiki``, by namespace and title."""
        ...

    def pages_changed_since(self, wiki: str, seq: int) -> list[PageRow]:
        """The pages of ``wiki`` that got a revision or a file version after log position ``seq``."""
        ...

    def forked_pages(self, wiki: str) -> list[PageRow]:
        """The pages of ``wiki`` with more than one head."""
        ...

    def existing_pages(self, wiki: str, names: list[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (namespace, title) pairs the store holds."""
        ...

    def random_page(self, wiki: str, ns: int = 0) -> PageRow | None:
        """A page picked at random, without reading the whole list."""
        ...

    # -- revisions and heads
    def revision(self, cid: bytes) -> RevInfo:
        """The revision ``cid``; NotFound when it is not held."""
        ...

    def revision_by_id(self, oid: int) -> RevInfo:
        """The revision at log position ``oid``."""
        ...

    def parent_texts(self, rev_ids: list[int]) -> dict[bytes, ParentText]:
        """For those of ``rev_ids`` with a parent here, by their text's CID: the first parent's text."""
        ...

    def revision_text_bytes(self, cid: bytes) -> bytes | None:
        """The text of the revision ``cid``, or None when that revision is not here."""
        ...

    def revision_text(self, rev: RevInfo) -> str:
        """A revision's text, decoded."""
        ...

    def heads(self, page_id: int) -> list[RevInfo]:
        """Every head of a page (a fork has several)."""
        ...

    def shown_head(self, page_id: int, trusted: frozenset[str]) -> RevInfo | None:
        """The head of a page a view trusting ``trusted`` shows (as View.choose over heads)."""
        ...

    def ordered_heads(self, page_id: int, trusted: frozenset[str]) -> list[RevInfo]:
        """Every head of a page, the one a view trusting ``trusted`` shows first (as View.order)."""
        ...

    def shown_head_ids(self, trusted: frozenset[str], page_ids: Iterable[int] | None = None) -> dict[int, int]:
        """{page id: id of the head a view trusting ``trusted`` shows}, for these pages or all."""
        ...

    def history(self, page_id: int) -> list[RevInfo]:
        """Every revision of a page, newest first."""
        ...

    def history_page(self, page_id: int, limit: int, offset: tuple[int, int] | None = None,
                     older: bool = True) -> list[RevInfo]:
        """At most ``limit`` revisions of a page, newest first, next to a position (ts, id) in its history."""
        ...

    def recent(self, limit: int = 50, wiki: str | None = None) -> list[RevInfo]:
        """The revisions this node received last, across the node or in one wiki (arrival order)."""
        ...

    # -- notices
    def notice_at(self, kind: int, key: str, name: str, seq: int) -> bytes | None:
        """The CID of the notice an issuer published under this name and number, if held."""
        ...

    def current_notices(self, kind: int, key: str | None = None, name: str | None = None) -> list[tuple[bytes, Notice]]:
        """The newest notice of each (issuer, name), optionally of one issuer or one name."""
        ...

    def notices_version(self) -> int:
        """Goes up whenever a notice arrives: views and blocklists built from notices compare it."""
        ...

    # -- search and counts
    def search(self, query: str, limit: int = 20) -> list[tuple[PageRow, str]]:
        """Pages whose shown text or title holds every term of ``query``, with a snippet of wikitext each."""
        ...

    def index_lag(self) -> int:
        """How many pages wait to be indexed: the search index is that far behind."""
        ...

    def indexed_text(self, page: int) -> str:
        """The text the search index holds for ``page``; empty when the page left the index."""
        ...

    def counts(self) -> list[tuple[str, int, int]]:
        """Per wiki: (wiki, pages, revisions), cheap enough for a status page."""
        ...

    def stats(self) -> list[WikiStats]:
        """Per wiki: pages, revisions, blocks and the bytes those blocks take."""
        ...

    def file_size(self) -> int:
        """Bytes the store takes on this machine's disk."""
        ...


@runtime_checkable
class StoreWriter(Protocol):
    """One write transaction: everything added commits together when ``StoreBackend.write()`` ends, or nothing."""

    touched_pages: set[int]
    """The pages this transaction gave a revision or a file version (ingest re-indexes them)."""
    packed: dict[tuple[bytes, bytes], bytes]
    """Texts a pipeline worker already compressed, by (text CID, the base text's bytes or b"")."""

    @property
    def positions(self) -> tuple[int, int] | None:
        """The log positions this transaction filled, first and last (one transaction: no gaps)."""
        ...

    def flush(self) -> None:
        """Write what is buffered; reads through the store see it afterwards, inside this transaction."""
        ...

    def add_page(self, block: Block, page: Page) -> int:
        """A page object; its id."""
        ...

    def add_text(self, cid: bytes, text: bytes, base_id: int | None, wiki: str | None = None) -> int:
        """A text, stored against the text ``base_id`` when the backend chooses to; its id."""
        ...

    def add_chunk(self, block: Block) -> int:
        """A media chunk (its bytes go to the packs or object storage); its id."""
        ...

    def add_file(self, block: Block, record: File, page_id: int) -> int:
        """A file version of the page ``page_id``; its id."""
        ...

    def add_revision(self, block: Block, rev: Revision, page_id: int, text_id: int,
                     parent_ids: list[int | None]) -> int:
        """A revision, made a head of its page in place of its parents (None: a parent not held); its id."""
        ...

    def add_signature(self, block: Block, sig: Signature, target_id: int) -> int:
        """A signature over the object ``target_id``; its id."""
        ...

    def add_notice(self, block: Block, record: Notice) -> int:
        """A profile, ban, trust list or blocklist, indexed by issuer, name and number; its id."""
        ...

    def text(self, text_id: int) -> bytes:
        """A text's bytes, this transaction's included."""
        ...

    def raw(self, oid: int, cid: bytes) -> bytes:
        """A raw block's bytes (a chunk or a text), this transaction's included."""
        ...

    def wiki_of_page(self, page_id: int) -> str:
        """The wiki a page belongs to."""
        ...

    def text_of_revision(self, rev_id: int) -> int:
        """The id of a revision's text."""
        ...

    def page_of_revision(self, rev_id: int) -> int | None:
        """The id of a revision's page, or None when ``rev_id`` is not a revision."""
        ...

    def hold(self, block: Block, waiting: bytes, source: str, now: int) -> None:
        """Keep a block aside until ``waiting`` comes (a block held already keeps its first source and time)."""
        ...

    def held_by(self, source: str | None = None) -> tuple[int, int]:
        """(objects, bytes) held, from one source or (None) from all, this transaction's included."""
        ...

    def held_waiting_for(self, cids: list[bytes]) -> list[tuple[Block, str]]:
        """The held blocks (with their sources) that wait for any of ``cids``."""
        ...

    def held_block(self, cid: bytes) -> tuple[Block, str] | None:
        """A held block and its source, or None."""
        ...

    def release(self, cid: bytes) -> None:
        """A held block went into the store: it waits no more."""
        ...

    def purge_held(self, before: int) -> int:
        """Forget blocks held since before ``before`` (unix seconds); how many."""
        ...


@runtime_checkable
class StoreBackend(StoreReader, Protocol):
    """A store that can be written to: the reads, one-transaction writes, and a few settings written alone."""

    def write(self) -> AbstractContextManager[StoreWriter]:
        """One write transaction; everything in it commits together or not at all."""
        ...

    def announce_change(self) -> None:
        """Tell the processes following this store that a setting read by ``followed_meta`` changed."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Keep a setting with the store."""
        ...

    def set_wiki_config(self, config: WikiConfig) -> None:
        """Add or replace a wiki's configuration."""
        ...

    def drop_held(self, source: str) -> int:
        """Forget what a source left waiting (it was banned); how many objects."""
        ...

    def close(self) -> None:
        """Let go of this thread's connection (the next read opens one again)."""
        ...
