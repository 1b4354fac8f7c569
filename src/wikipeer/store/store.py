"""The SQLite store: one file, WAL mode, one writer, many readers.

Reads go through ``Store``; all writes happen inside ``Store.write()``, one
transaction that either commits whole or leaves nothing behind. The store
holds blocks and indexes; what is allowed in is decided above it, in ingest.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import libipld

import zstandard

from wikipeer.errors import NotFound, UserError, WikipeerError
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW, compute_cid
from wikipeer.model.keys import b64, unb64
from wikipeer.model.objects import Ban, Blocklist, Notice, Page, Revision, Signature, Trust, build_signature, parse
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title
from wikipeer.store import indexer
from wikipeer.store.postgres.server import ServerGone
from wikipeer.store import search as fts
from wikipeer.store import shown
from wikipeer.store import revpack, textcodec
from wikipeer.model.media import File
from wikipeer.store.blobs import BlobError, BlobStore, check_location, open_blobs
from wikipeer.store.packs import TEXT_MAGIC, ChunkPlace, PackError
from wikipeer.store.records import FileInfo, HeldStats, PageRow, ParentText, RevInfo, SigInfo, WikiStats
from wikipeer.store.schema import (KIND_BAN, KIND_BLOCKLIST, KIND_CHUNK, KIND_FILE, KIND_PAGE, KIND_PROFILE, KIND_REV,
                                   KIND_SIG, KIND_TEXT, KIND_TRUST, SCHEMA, SCHEMA_VERSION, add_columns, add_media_tables,
                                   migrate_origins, migrate_revisions, migrate_text_sha1,
                                   statements)

if TYPE_CHECKING:
    from wikipeer.store.postgres.listen import LogListener

DEFAULT_CHAIN = 16
PACKED = revpack.PACKED
DOC_CACHE_CHARS = 32_000_000  # folded page texts search keeps in memory (two copies each)
TRAIN_AFTER = 200
"""Texts standing alone a wiki holds before its first dictionary is trained (fewer train a poor one)."""
RETRAIN_GROWTH = 8
RECOMPRESS_AT_MOST = 2000
"""Texts stored before a wiki's first dictionary compressed again with it, at most: more (a store migrated
from schema 14) would make one batch of a sync take minutes, so those keep their form."""
SAMPLE_BYTES = 8_000_000
TEXT_CACHE_BYTES = 16_000_000
"""Decoded texts kept in memory, by their bytes: a text is stored as a change from an older one, so reading
one whose chain is not in memory costs a decompression per link (up to ``chain``). A bound by count
(256) made a reader cycling through a few hundred pages miss every time."""


# The wikis that have pages, one index lookup each (a loose index scan).
_PAGE_WIKIS = ("WITH RECURSIVE w(name) AS (SELECT (SELECT min(wiki) FROM pages) UNION ALL "
               "SELECT (SELECT min(wiki) FROM pages WHERE wiki > w.name) FROM w WHERE w.name IS NOT NULL) "
               "SELECT name FROM w WHERE name IS NOT NULL")


class StoreDamage(WikipeerError):
    """Stored bytes that can no longer be read back."""

    def __init__(self, cid: bytes, problem: str) -> None:
        super().__init__(problem)
        self.cid = cid


class StoreUnwritable(WikipeerError):
    """The disk refused a write to the store (it is full, or failed); nothing of that write was kept."""

    exit_code = 2

    def __init__(self, message: str, full: bool) -> None:
        super().__init__(message)
        self.full = full


FULL_BELOW = 1024 * 1024  # free bytes under which an I/O error is taken for a full disk


def disk_problem(exc: BaseException, path: Path, doing: str = "write to") -> StoreUnwritable | None:
    """A one-line StoreUnwritable for a SQLite error that a full or failing disk caused, else None.

    ``path``: the database file (or the node directory, when which file is not known).

    SQLite says "database or disk is full" when a write finds no room, but only "disk I/O error"
    when it cannot even size its shared-memory file: free space tells the two causes apart.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or code is None or code & 0xFF not in (sqlite3.SQLITE_FULL,
                                                                              sqlite3.SQLITE_IOERR):
        return None
    full = code & 0xFF == sqlite3.SQLITE_FULL or _free_bytes(path if path.is_dir() else path.parent) < FULL_BELOW
    cause = "the disk is full" if full else "the disk reported an I/O error"
    kept = "nothing of this change was kept; " if doing == "write to" else ""
    advice = "free some space, then try again" if full else "check the disk"
    return StoreUnwritable(f"cannot {doing} {path}: {cause} ({exc}); {kept}{advice}", full)


def pack_failure(exc: OSError, directory: Path) -> StoreUnwritable:
    """A one-line StoreUnwritable for a pack file the disk would not write."""
    full = exc.errno == errno.ENOSPC
    cause = "the disk is full" if full else f"the disk failed ({exc.strerror or exc})"
    advice = "free some space, then try again" if full else "check the disk"
    return StoreUnwritable(f"cannot write to {directory}: {cause}; nothing of this change was kept; {advice}", full)


def blob_failure(exc: OSError | BlobError, blobs: BlobStore) -> StoreUnwritable:
    """A one-line StoreUnwritable for chunks the blob store would not take (a full disk, a bucket down)."""
    if isinstance(exc, BlobError):
        return StoreUnwritable(str(exc), full=False)
    return pack_failure(exc, Path(blobs.url))


def _free_bytes(directory: Path) -> int:
    try:
        stat = os.statvfs(directory)
    except OSError:
        return FULL_BELOW  # cannot tell: do not claim the disk is full
    return stat.f_bavail * stat.f_frsize


_EXISTING_PAGES = ("WITH wanted(ns, title) AS (VALUES {}) SELECT p.ns, p.title FROM wanted "
                   "JOIN pages p ON p.wiki = ? AND p.ns = wanted.ns AND p.title = wanted.title")
"""One lookup in the (wiki, ns, title) index per name asked. ``wiki = ? AND ((ns = ? AND title = ?) OR ...)``
read every page of the wiki instead (0.9 s a first render on a million-page node, bench/RESULTS.md)."""


class Store:
    """A node's object store in one SQLite file, or (``database``) in a PostgreSQL database."""

    def __init__(self, path: Path | str, chain: int | None = None, blobs: str | None = None,
                 database: str | None = None) -> None:
        """``path``: the SQLite file; with ``database`` (a postgresql:// URL) only where the packs lie beside.
        ``blobs``: where media chunks go (store/blobs: s3://...); None keeps the store's own choice,
        recorded when it was made (the pack directory beside the file, unless it was made with one)."""
        if blobs is not None:
            check_location(blobs)  # before a new file is made
        self.path = Path(path)
        self.database = database
        self._local = threading.local()
        self._texts: OrderedDict[int, bytes] = OrderedDict()
        self._texts_size = 0
        self._docs: OrderedDict[tuple, fts.Doc] = OrderedDict()
        self._docs_size = 0
        self._lock = threading.Lock()
        self._key_names: dict[int, str] = {}  # ids stay bound to their value once committed (cleared on rollback)
        self._strings: dict[int, str] = {}
        self._dicts: dict[int, bytes] = {}  # trained dictionaries, by id: never changed once stored
        self._listener: LogListener | None = None  # PostgreSQL, once listen() was called
        self._followed_meta: dict[str, tuple[int, str | None]] = {}
        self.index_trusted: Callable[[], frozenset[str]] = frozenset
        """The keys of the view whose shown heads the search index holds (a Node sets its default view's)."""
        self.blobs = open_blobs(None, self.path)  # until the store's own choice is read below
        conn = self.conn
        # Only a new store is written to on open: readers must not wait for a writer's lock.
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
            with self._transaction():
                for statement in statements(SCHEMA + fts.search_schema(conn)):
                    conn.execute(statement)
                add_media_tables(conn)
                conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                conn.execute("INSERT INTO meta VALUES ('search', ?)", (fts.INDEX_VERSION,))
        elif self.meta("schema") != SCHEMA_VERSION:
            with self._transaction():  # an older store: add the tables and columns it lacks
                if ("held", "held_at") in add_columns(conn):
                    # Blocks held before expiry existed start their clock now, not in 1970.
                    conn.execute("UPDATE held SET held_at = ?", (int(time.time()),))
                for statement in statements(SCHEMA):
                    conn.execute(statement)
                add_media_tables(conn)
                migrate_text_sha1(conn, self.text_bytes)
                migrate_origins(conn)
                migrate_revisions(conn, Writer(self, conn).repack)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        self.blobs = self._blob_store(blobs)
        if chain is not None:
            self.set_meta("chain", str(chain))
        if self.meta("search") != fts.INDEX_VERSION:
            self._reset_search()
        row = conn.execute("SELECT value FROM meta WHERE key = 'chain'").fetchone()
        self.chain = int(row[0]) if row else DEFAULT_CHAIN

    def _blob_store(self, asked: str | None) -> BlobStore:
        """The blob store this store keeps its chunks in: recorded in meta when first chosen, never silently
        changed (chunks already stored elsewhere would be lost to it: ``wikipeer migrate`` moves them)."""
        from wikipeer.store.blobs.bucket import same_bucket

        recorded = self.meta("blobs")
        if asked is None or asked == recorded:
            return open_blobs(recorded, self.path) if recorded else self.blobs
        if recorded is not None and not same_bucket(asked, recorded):
            raise UserError(f"{self.path} keeps its chunks in {recorded}, not {asked}: "
                            "'wikipeer migrate' copies a store to other blobs")
        if recorded is None and self.conn.execute("SELECT EXISTS (SELECT 1 FROM chunks)").fetchone()[0]:
            raise UserError(f"{self.path} keeps its chunks in {self.blobs.url}, not {asked}: "
                            "'wikipeer migrate' copies a store to other blobs")
        blobs = open_blobs(asked, self.path)
        blobs.check()  # a bucket that is not there is named now, not at the first upload
        self.set_meta("blobs", asked)  # a new endpoint for the same bucket and prefix is kept too
        return blobs

    @property
    def packs(self) -> BlobStore:
        """The blob store (its old name: the local pack directory was all there was)."""
        return self.blobs

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections must not cross threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self.database is not None and conn.closed:
            conn = None  # the server went away: the next use connects again
        if conn is None and self.database is not None:
            from wikipeer.store.postgres.connection import connect  # psycopg only for a PostgreSQL store

            conn = self._local.conn = connect(self.database)
            conn.on_commit = self._committed
            self._local.view_keys = None
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            try:
                # Takes effect only when the file is created (before WAL is on): compressed
                # texts of 1-2 KB leave a third of each 4 KiB page empty, much less of 8 KiB.
                conn.execute("PRAGMA page_size=8192")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=OFF")
            except sqlite3.Error as exc:
                conn.close()
                problem = disk_problem(exc, self.path, doing="open")
                if problem is not None:
                    raise problem from exc
                raise
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            self._local.view_keys = None  # its temporary tables went with the connection
        if self._listener is not None:
            self._listener.close()  # opened again by the next last_seq(), should one come

    # -- writing ---------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; on any error, a rollback and the error that caused it.

        A disk that is full or failing is reported as StoreUnwritable, in one line.
        """
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            # After some errors (a full disk among them) SQLite has rolled back already: a second
            # ROLLBACK would fail with "no transaction is active" and hide the real cause.
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    self.close()  # closing rolls back; the error that made us roll back is the one to report
            with self._lock:
                self._texts.clear()
                self._texts_size = 0
                # Ids handed out in the rolled-back transaction may be handed out again for other values.
                self._key_names.clear()
                self._strings.clear()
                self._dicts.clear()
            problem = disk_problem(exc, self.path)
            if isinstance(exc, ServerGone):
                self.close()
                problem = StoreUnwritable(f"{exc}; nothing of this change was kept; try again once the server is "
                                          "back", full=False)
            if problem is not None:
                raise problem from exc
            raise

    @contextmanager
    def write(self) -> Iterator["Writer"]:
        """One write transaction; everything in it commits together or not at all."""
        with self._transaction() as conn:
            writer = Writer(self, conn)
            try:
                yield writer
                writer.flush()
                writer.train_dictionaries()
                try:
                    writer.packs.sync()  # chunk bytes stored before the rows that name them commit
                except (OSError, BlobError) as exc:
                    raise blob_failure(exc, self.blobs) from exc
            finally:
                writer.packs.close()

    # -- objects ---------------------------------------------------------

    def object_id(self, cid: bytes) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM objects WHERE substr(cid, 5, 8) = ? AND cid = ?", (cid[4:12], cid)).fetchone()
        return row[0] if row else None

    def existing(self, cids: list[bytes]) -> set[bytes]:
        """Which of ``cids`` the store holds (one query per few hundred)."""
        rows = rows_in(self.conn, "SELECT cid FROM objects WHERE substr(cid, 5, 8) IN ({marks})",
                       [c[4:12] for c in cids])
        return {r[0] for r in rows} & set(cids)

    def held_by(self, source: str) -> tuple[int, int]:
        """(objects, bytes) a source left waiting."""
        return held_by(self.conn, source)

    def held_stats(self) -> list[HeldStats]:
        """What waits in the held table, by source, the most bytes first."""
        rows = self.conn.execute(
            "SELECT source, count(*), coalesce(sum(length(data)), 0), min(held_at) FROM held "
            "GROUP BY source ORDER BY 3 DESC, 1")
        return [HeldStats(*row) for row in rows]

    def drop_held(self, source: str) -> int:
        """Forget what a source left waiting (it was banned); returns how many objects."""
        with self.conn:
            return self.conn.execute("DELETE FROM held WHERE source = ?", (source,)).rowcount

    def held_waiting(self) -> list[bytes]:
        """The CIDs held objects wait for (not texts and pages waiting for a revision to use them)."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT waiting FROM held WHERE waiting != cid")]

    def held_waiting_on(self, cids: list[bytes]) -> list[Block]:
        """The held blocks that wait for any of ``cids``."""
        if not cids or self.conn.execute("SELECT NOT EXISTS (SELECT 1 FROM held)").fetchone()[0]:
            return []
        return [Block(c, d) for c, d in rows_in(self.conn, "SELECT cid, data FROM held WHERE waiting IN ({marks})", cids)]

    def still_held(self, cids: list[bytes]) -> set[bytes]:
        """Which of ``cids`` are held now (not released into the store, not dropped)."""
        return {r[0] for r in rows_in(self.conn, "SELECT cid FROM held WHERE cid IN ({marks})", cids)}

    def get_block(self, cid: bytes) -> Block | None:
        """The block named ``cid``, rebuilt exactly as it arrived, or None."""
        oid = self.object_id(cid)
        if oid is None:
            return None
        kind, data = self.conn.execute("SELECT kind, data FROM objects WHERE id = ?", (oid,)).fetchone()
        return self.block_at(oid, cid, kind, data)

    def block_at(self, oid: int, cid: bytes, kind: int, data: bytes | None) -> Block:
        """A stored object's block from its ``objects`` row, rebuilt from its table where its bytes are not kept whole."""
        if kind == KIND_TEXT:
            return Block(cid, self.text_bytes(oid))
        if kind == KIND_SIG:
            return Block(cid, self._signature_bytes(oid))
        if kind == KIND_REV:
            return Block(cid, self._revision_bytes(oid, data))
        if kind == KIND_CHUNK:
            return Block(cid, self.chunk_bytes(oid))
        return Block(cid, data)

    # -- media -------------------------------------------------------------

    def chunk_place(self, oid: int) -> ChunkPlace:
        row = self.conn.execute("SELECT pack, offset, length FROM chunks WHERE id = ?", (oid,)).fetchone()
        if row is None:
            raise NotFound(f"chunk #{oid} has no row in the chunk index")
        return ChunkPlace(*row)

    def chunk_bytes(self, oid: int) -> bytes:
        """A chunk's bytes from its pack (not checked against its CID: fsck and readers of files do that)."""
        try:
            return self.blobs.read(self.chunk_place(oid))
        except PackError as exc:
            raise NotFound(str(exc)) from None

    def raw_bytes(self, cid: bytes) -> bytes | None:
        """The bytes of a raw block held as a chunk or a text, or None."""
        block = self.get_block(cid)
        return block.data if block is not None else None

    _FILES = ("SELECT f.id, o.cid, o.data, f.page, f.sha256, f.size, f.mime, f.width, f.height, f.ts "
              "FROM files f JOIN objects o ON o.id = f.id")

    def _file_info(self, row: tuple) -> FileInfo:
        oid, cid, data, page, sha256, size, mime, width, height, ts = row
        obj = libipld.decode_dag_cbor(data)
        return FileInfo(id=oid, cid=cid, page=page, sha256=sha256.hex(), sha1=obj["sha1"], size=size, mime=mime,
                        width=width, height=height, ts=ts, chunks=tuple(obj["chunks"]), author=obj.get("author"),
                        comment=obj.get("comment", ""), desc=obj.get("desc"), sigs=self.signatures(oid),
                        origin=obj.get("origin", {}))

    def file_versions(self, page_id: int) -> list[FileInfo]:
        """A File: page's file versions, newest first (the first is the one pages show)."""
        rows = self.conn.execute(f"{self._FILES} WHERE f.page = ? ORDER BY f.ts DESC, f.id DESC", (page_id,))
        return [self._file_info(r) for r in rows.fetchall()]

    def current_file(self, page_id: int) -> FileInfo | None:
        row = self.conn.execute(f"{self._FILES} WHERE f.page = ? ORDER BY f.ts DESC, f.id DESC LIMIT 1",
                                (page_id,)).fetchone()
        return self._file_info(row) if row else None

    def file_info(self, cid: bytes) -> FileInfo | None:
        """The file version whose object is ``cid``, or None."""
        row = self.conn.execute(f"{self._FILES} WHERE o.cid = ?", (cid,)).fetchone()
        return self._file_info(row) if row else None

    def file_by_sha256(self, sha256: str) -> FileInfo | None:
        """A file version with these bytes (any of them, if several pages hold the same bytes)."""
        row = self.conn.execute(f"{self._FILES} WHERE f.sha256 = ? ORDER BY f.id LIMIT 1",
                                (bytes.fromhex(sha256),)).fetchone()
        return self._file_info(row) if row else None

    def file_chunks(self, info: FileInfo) -> Iterator[bytes]:
        """A file's bytes, chunk by chunk in order; StoreDamage for a chunk missing or not matching its CID.

        Chunks stored side by side are read together (one ranged GET for a run of them on S3)."""
        rows = [self.conn.execute("SELECT c.pack, c.offset, c.length FROM objects o JOIN chunks c ON c.id = o.id "
                                  "WHERE substr(o.cid, 5, 8) = ? AND o.cid = ?", (cid[4:12], cid)).fetchone()
                for cid in info.chunks]
        found = self.blobs.read_many([ChunkPlace(*row) for row in rows]) if all(rows) else None
        for cid in info.chunks:
            try:
                data = next(found) if found is not None else self.raw_bytes(cid)
            except (PackError, NotFound):
                data = None
            if data is None or compute_cid(data, RAW) != cid:
                raise StoreDamage(cid, f"a chunk of file {info.sha256} is missing or damaged")
            yield data

    def file_cids(self) -> list[tuple[bytes, bytes, bytes]]:
        """(SHA-256, file object CID, page CID) of every file version held, in log order."""
        return self.conn.execute("SELECT f.sha256, o.cid, po.cid FROM files f JOIN objects o ON o.id = f.id "
                                 "JOIN objects po ON po.id = f.page ORDER BY f.id").fetchall()

    def files_stats(self) -> tuple[int, int, int]:
        """(file versions, their bytes, bytes the pack index holds: what is stored once)."""
        files, size = self.conn.execute("SELECT count(*), coalesce(sum(size), 0) FROM files").fetchone()
        stored = self.conn.execute("SELECT coalesce(sum(length), 0) FROM chunks").fetchone()[0]
        return files, size, stored

    def _revision_bytes(self, oid: int, data: bytes) -> bytes:
        """A revision's block, re-encoded from its fields when it is kept packed."""
        return data if _whole(data) else libipld.encode_dag_cbor(self._revision_fields(oid, data))

    def _revision_fields(self, oid: int, data: bytes, links: tuple[bytes, bytes, int, int] | None = None) -> dict:
        """A revision's decoded object; for a packed one, links, ts, size and names come from the tables.

        ``links``: the page's and text's CIDs, ts and size when the caller read them already.
        """
        if _whole(data):
            return libipld.decode_dag_cbor(data)
        row = links or self.conn.execute(
            "SELECT p.cid, t.cid, r.ts, r.size FROM revisions r JOIN objects p ON p.id = r.page "
            "JOIN objects t ON t.id = r.text WHERE r.id = ?", (oid,)).fetchone()
        if row is None:
            raise NotFound(f"revision #{oid} has no row in the revision table")
        obj = revpack.unpack(data, row[2], row[3], self.unpacker(oid))
        obj.update(t="rev", page=row[0], text=row[1], parents=[r[1] for r in self.conn.execute(
            "SELECT x.pos, o.cid FROM parents x JOIN objects o ON o.id = x.parent WHERE x.child = ? "
            "UNION ALL SELECT pos, cid FROM shallow WHERE child = ? ORDER BY 1", (oid, oid))])
        return obj

    def unpacker(self, rev_id: int) -> revpack.Unpacker:
        """What revpack.unpack needs to rebuild the revision ``rev_id``'s fields."""
        return revpack.Unpacker(self.key_name, self.string, lambda: self._rev_text_sha1(rev_id))

    def key_name(self, key_id: int) -> str:
        """The key string of a key id."""
        name = self._key_names.get(key_id)
        if name is None:
            row = self.conn.execute("SELECT key FROM keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                raise NotFound(f"key #{key_id} is not in the key table")
            name = self._key_names[key_id] = row[0]
        return name

    def string(self, string_id: int) -> str:
        """A string kept once in the strings table (sites, user names of imported revisions)."""
        value = self._strings.get(string_id)
        if value is None:
            row = self.conn.execute("SELECT value FROM strings WHERE id = ?", (string_id,)).fetchone()
            if row is None:
                raise NotFound(f"string #{string_id} is not in the string table")
            value = self._strings[string_id] = row[0]
        return value

    def _rev_text_sha1(self, rev_id: int) -> bytes:
        row = self.conn.execute("SELECT s.sha1 FROM revisions r JOIN text_sha1 s ON s.text = r.text WHERE r.id = ?",
                                (rev_id,)).fetchone()
        if row is None:
            raise NotFound(f"revision #{rev_id} has no SHA-1 of its text")
        return row[0]

    def _signature_bytes(self, oid: int) -> bytes:
        # Only canonical blocks are accepted, so rebuilding from the fields gives the same bytes.
        row = self.conn.execute(
            "SELECT o.cid, s.role, k.key, s.value, s.ts FROM sigs s JOIN keys k ON k.id = s.key "
            "JOIN objects o ON o.id = s.target WHERE s.sig = ?", (oid,)).fetchone()
        if row is None:
            raise NotFound(f"signature #{oid} has no row in the signature table")
        target, role, key, value, ts = row
        return build_signature(Signature(target, role, key, b64(value), ts)).data

    def iter_objects(self, since: int = 0, limit: int | None = None) -> Iterator[tuple[int, Block]]:
        """Blocks in log order after sequence number ``since``, read a page at a time."""
        for oid, block in self.iter_readable(since, limit):
            if isinstance(block, StoreDamage):
                raise block
            yield oid, block

    def iter_readable(self, since: int = 0, limit: int | None = None) -> Iterator[tuple[int, "Block | StoreDamage"]]:
        """Like iter_objects, but an object that cannot be read back comes as a StoreDamage, in its place."""
        left = limit if limit is not None else -1
        while left != 0:
            step = 1000 if left < 0 else min(left, 1000)
            rows = self.conn.execute(
                "SELECT id, cid, kind, data FROM objects WHERE id > ? ORDER BY id LIMIT ?", (since, step)).fetchall()
            if not rows:
                return
            for oid, cid, kind, data in rows:
                try:
                    block: Block | StoreDamage = self.block_at(oid, cid, kind, data)
                except (zstandard.ZstdError, NotFound, PackError) as exc:
                    block = StoreDamage(cid, f"stored object cannot be read back: {exc}")
                yield oid, block
            since = rows[-1][0]
            left = left - len(rows) if left > 0 else left

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Several reads that see one state of the store (a read transaction: writers go on, unseen)."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def log_cids(self, since: int = 0) -> Iterator[tuple[int, bytes]]:
        """(sequence number, CID) of every object held, in log order after ``since``, without reading its bytes."""
        while True:
            rows = self.conn.execute("SELECT id, cid FROM objects WHERE id > ? ORDER BY id LIMIT 5000",
                                     (since,)).fetchall()
            if not rows:
                return
            yield from rows
            since = rows[-1][0]

    def head_cids(self) -> list[tuple[bytes, str, int, str, list[bytes]]]:
        """Every page's (CID, wiki, namespace, title, head revision CIDs), in one query."""
        heads: dict[int, tuple[bytes, str, int, str, list[bytes]]] = {}
        for pid, pcid, wiki, ns, title, rcid in self.conn.execute(
                "SELECT p.id, po.cid, p.wiki, p.ns, p.title, ro.cid FROM heads h JOIN pages p ON p.id = h.page "
                "JOIN objects po ON po.id = p.id JOIN objects ro ON ro.id = h.rev ORDER BY p.id, ro.cid"):
            heads.setdefault(pid, (pcid, wiki, ns, title, []))[4].append(rcid)
        return list(heads.values())

    def last_seq(self) -> int:
        """The last log position; after ``listen()`` on PostgreSQL, as commits told this process (no round trip)."""
        known = self._listener.position() if self._listener is not None else None
        if known is not None:
            return known
        row = self.conn.execute("SELECT max(id) FROM objects").fetchone()
        if self._listener is not None:
            self._listener.asked(row[0] or 0)
        return row[0] or 0

    def listen(self) -> None:
        """Keep the log position in this process, told of every commit (any process's), so that
        ``last_seq`` and ``followed_meta`` cost no round trip: PostgreSQL's LISTEN/NOTIFY on a connection
        of its own (store/postgres/listen.py). SQLite answers them with a local query: nothing to do."""
        if self.database is not None and self._listener is None:
            from wikipeer.store.postgres.listen import LogListener

            self._listener = LogListener(self.database)

    def followed_meta(self, key: str) -> str | None:
        """``meta(key)`` for a setting whose every change is followed by ``announce_change()``: after
        ``listen()``, read again only once a notification or the periodic check says it may have changed."""
        generation = self._listener.generation() if self._listener is not None else None
        seen = self._followed_meta.get(key)
        if generation is not None and seen is not None and seen[0] == generation:
            return seen[1]
        value = self.meta(key)
        if generation is not None:
            self._followed_meta[key] = (generation, value)
        return value

    def announce_change(self) -> None:
        """Tell the processes that listen (this one as soon as the change commits) that a setting read by
        ``followed_meta`` changed."""
        if self.database is not None:
            from wikipeer.store.postgres.listen import CHANGED, CHANNEL

            self.conn.execute("SELECT pg_notify(?, ?)", (CHANNEL, CHANGED))
            self.conn.changed()  # this process sees it when it commits (_committed), not before

    def _committed(self, last: int | None) -> None:
        if self._listener is not None:
            self._listener.committed(last)

    _TEXT_CHAIN = (
        "WITH RECURSIVE chain(id, base, data, dict, pack, offset, length, n) AS ("
        " SELECT t.id, t.base, t.data, t.dict, p.pack, p.offset, p.length, 0 FROM texts t"
        " LEFT JOIN text_places p ON p.id = t.id WHERE t.id = ?"
        " UNION ALL SELECT t.id, t.base, t.data, t.dict, p.pack, p.offset, p.length, c.n + 1 FROM chain c"
        " JOIN texts t ON t.id = c.base LEFT JOIN text_places p ON p.id = t.id WHERE c.n < 10000)"
        " SELECT id, base, data, dict, pack, offset, length FROM chain ORDER BY n")
    """A text and the texts below it in its chain (at most the store's chain setting), in one statement: a
    row per link asked one at a time cost a round trip each on PostgreSQL. Never more than 10,000 links
    (far more than any chain setting makes; the setting is not known yet while an old store is upgraded): a
    damaged store whose bases loop must not make the server recurse without end."""

    def text_bytes(self, text_id: int) -> bytes:
        """A text's bytes, following its dictionary chain (with a small cache).

        The chain's rows are read first (one statement), down to a text in the cache or one standing alone;
        the compressed bytes of those whose records lie in the blob store are then read together (an import
        packs a page's texts side by side: one ranged GET for the run), and decompressed from the bottom up.
        """
        base = self._cached_text(text_id)
        if base is not None:
            return base
        chain = []
        for row in self.conn.execute(self._TEXT_CHAIN, (text_id,)).fetchall():
            chain.append(row)
            if row[1] is not None and (base := self._cached_text(row[1])) is not None:
                break  # the rest of the chain is not needed
        if not chain or (chain[-1][1] is not None and base is None):
            missing = chain[-1][1] if chain else text_id
            raise NotFound(f"text #{missing} is not in the store")
        chain.reverse()
        placed = self.blobs.read_many([ChunkPlace(*row[4:]) for row in chain if row[4] is not None])
        for oid, _, data, dict_id, pack, _, _ in chain:
            compressed = next(placed) if pack is not None else data
            base = textcodec.decompress(compressed, base, self.dictionary(dict_id) if dict_id is not None else None)
            self._remember(oid, base)
        assert base is not None
        return base

    def _cached_text(self, text_id: int) -> bytes | None:
        with self._lock:
            cached = self._texts.get(text_id)
            if cached is not None:
                self._texts.move_to_end(text_id)
            return cached

    def dictionary(self, dict_id: int) -> bytes:
        """A trained text dictionary's bytes, by its id (texts name the one they were compressed with)."""
        data = self._dicts.get(dict_id)
        if data is None:
            row = self.conn.execute("SELECT data FROM text_dicts WHERE id = ?", (dict_id,)).fetchone()
            if row is None:
                raise NotFound(f"text dictionary #{dict_id} is not in the store")
            data = self._dicts[dict_id] = row[0]
        return data

    def _remember(self, text_id: int, text: bytes) -> None:
        with self._lock:
            old = self._texts.pop(text_id, None)
            self._texts_size += len(text) - (len(old) if old is not None else 0)
            self._texts[text_id] = text
            while self._texts_size > TEXT_CACHE_BYTES and len(self._texts) > 1:
                self._texts_size -= len(self._texts.popitem(last=False)[1])

    def origin_revision(self, site: str, rev_id: int) -> bytes | None:
        """The CID of the revision imported from ``site`` with id ``rev_id``, if held."""
        row = self.conn.execute(
            "SELECT o.cid FROM origins x JOIN strings s ON s.id = x.site JOIN objects o ON o.id = x.rev "
            "WHERE s.value = ? AND x.rev_id = ?",
            (site, rev_id)).fetchone()
        return row[0] if row else None

    def origin_revision_page(self, site: str, rev_id: int) -> tuple[bytes, int] | None:
        """The CID and page id of the revision imported from ``site`` with id ``rev_id``, if held."""
        row = self.conn.execute(
            "SELECT o.cid, r.page FROM origins x JOIN strings s ON s.id = x.site JOIN objects o ON o.id = x.rev "
            "JOIN revisions r ON r.id = x.rev WHERE s.value = ? AND x.rev_id = ?", (site, rev_id)).fetchone()
        return (row[0], row[1]) if row else None

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- wikis and pages -------------------------------------------------

    def wiki_config(self, name: str) -> WikiConfig | None:
        row = self.conn.execute("SELECT config FROM wikis WHERE name = ?", (name,)).fetchone()
        return WikiConfig.from_dict(json.loads(row[0])) if row else None

    def wikis(self) -> list[str]:
        """Every wiki the store has a configuration or a page of, by name.

        Every web page lists them: the pages' wikis are found by hopping along the (wiki, ns, title) index,
        one lookup per wiki, because DISTINCT reads the whole index (110 ms at a million pages).
        """
        names = {r[0] for r in self.conn.execute("SELECT name FROM wikis")}
        names |= {r[0] for r in self.conn.execute(_PAGE_WIKIS)}
        return sorted(names)

    def set_wiki_config(self, config: WikiConfig) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO wikis VALUES (?, ?)", (config.name, json.dumps(config.to_dict())))

    _PAGES = "SELECT p.id, o.cid, p.wiki, p.ns, p.title FROM pages p JOIN objects o ON o.id = p.id"

    def page(self, wiki: str, ns: int, title: str) -> PageRow | None:
        row = self.conn.execute(f"{self._PAGES} WHERE wiki = ? AND ns = ? AND title = ?", (wiki, ns, title)).fetchone()
        return PageRow(*row) if row else None

    def page_by_id(self, page_id: int) -> PageRow:
        row = self.conn.execute(f"{self._PAGES} WHERE p.id = ?", (page_id,)).fetchone()
        if row is None:
            raise NotFound(f"page #{page_id} is not in the store")
        return PageRow(*row)

    def pages(self, wiki: str) -> list[PageRow]:
        rows = self.conn.execute(f"{self._PAGES} WHERE wiki = ? ORDER BY ns, title", (wiki,))
        return [PageRow(*r) for r in rows]

    def pages_changed_since(self, wiki: str, seq: int) -> list[PageRow]:
        """The pages of ``wiki`` that got a revision or a file version after log position ``seq``."""
        rows = self.conn.execute(
            f"{self._PAGES} WHERE wiki = ? AND p.id IN (SELECT page FROM revisions WHERE id > ? "
            "UNION SELECT page FROM files WHERE id > ?) ORDER BY ns, title", (wiki, seq, seq))
        return [PageRow(*r) for r in rows]

    def forked_pages(self, wiki: str) -> list[PageRow]:
        """The pages of ``wiki`` with more than one head: the only ones whose shown head depends on trust."""
        rows = self.conn.execute(
            f"{self._PAGES} WHERE wiki = ? AND p.id IN (SELECT page FROM heads GROUP BY page HAVING count(*) > 1) "
            "ORDER BY ns, title", (wiki,))
        return [PageRow(*r) for r in rows]

    def existing_pages(self, wiki: str, names: list[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (namespace, title) pairs the store holds, asked in one query per 500."""
        found: set[tuple[int, str]] = set()
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            found.update(self.conn.execute(_EXISTING_PAGES.format(", ".join("(?, ?)" for _ in chunk)),
                                           [*(x for pair in chunk for x in pair), wiki]))
        return found

    def random_page(self, wiki: str, ns: int = 0) -> PageRow | None:
        """A page picked at random, without reading the whole list."""
        row = self.conn.execute(
            f"{self._PAGES} WHERE wiki = ? AND ns = ? AND p.id >= "
            "(SELECT abs(random()) % (max(id) + 1) FROM pages) ORDER BY p.id LIMIT 1", (wiki, ns)).fetchone()
        row = row or self.conn.execute(f"{self._PAGES} WHERE wiki = ? AND ns = ? LIMIT 1", (wiki, ns)).fetchone()
        return PageRow(*row) if row else None

    # -- revisions -------------------------------------------------------

    def _rev_info(self, oid: int, cid: bytes, data: bytes, row: shown.HeadRow | None = None) -> RevInfo:
        """The revision ``oid`` in full; ``row``: its revisions row and links, when the caller read them already."""
        obj = self._revision_fields(oid, data, (row.page_cid, row.text_cid, row.ts, row.size) if row else None)
        page, ts, size = (row.page, row.ts, row.size) if row else self.conn.execute(
            "SELECT page, ts, size FROM revisions WHERE id = ?", (oid,)).fetchone()
        return RevInfo(
            id=oid, cid=cid, page=page, parents=tuple(obj["parents"]), text=obj["text"], ts=ts, size=size,
            comment=obj.get("comment", ""), model=obj["model"], format=obj.get("format"), author=obj.get("author"), minor=obj.get("minor", False),
            origin=obj.get("origin", {}), sigs=self.signatures(oid),
        )

    def revision(self, cid: bytes) -> RevInfo:
        oid = self.object_id(cid)
        row = self.conn.execute("SELECT data FROM objects WHERE id = ? AND kind = ?", (oid, KIND_REV)).fetchone()
        if row is None:
            raise NotFound("no such revision in this store")
        return self._rev_info(oid, cid, row[0])

    def revision_by_id(self, oid: int) -> RevInfo:
        cid, data = self.conn.execute("SELECT cid, data FROM objects WHERE id = ?", (oid,)).fetchone()
        return self._rev_info(oid, cid, data)

    def parent_texts(self, rev_ids: list[int]) -> dict[bytes, ParentText]:
        """For the revisions among ``rev_ids`` that have a parent here, by their text's CID: the first
        parent's text (what a log response may send the text against, net/wire.py)."""
        sql = ("SELECT t.cid, o.cid, pr.text, pt.cid, pr.id FROM revisions r "
               "JOIN parents p ON p.child = r.id AND p.pos = 0 JOIN revisions pr ON pr.id = p.parent "
               "JOIN objects o ON o.id = r.id JOIN objects t ON t.id = r.text JOIN objects pt ON pt.id = pr.text "
               "WHERE r.id IN ({marks}) AND r.text != pr.text")
        return {text: ParentText(rev, base_id, base, parent_id)
                for text, rev, base_id, base, parent_id in rows_in(self.conn, sql, rev_ids)}

    def revision_text_bytes(self, cid: bytes) -> bytes | None:
        """The text of the revision ``cid``, or None when that revision is not here."""
        oid = self.object_id(cid)
        row = self.conn.execute("SELECT text FROM revisions WHERE id = ?", (oid,)).fetchone() if oid else None
        return self.text_bytes(row[0]) if row else None

    def heads(self, page_id: int) -> list[RevInfo]:
        ids = [r[0] for r in self.conn.execute("SELECT rev FROM heads WHERE page = ?", (page_id,))]
        return [self.revision_by_id(i) for i in ids]

    def _view_keys(self) -> shown.ViewKeys:
        keys = getattr(self._local, "view_keys", None)
        if keys is None:  # one per connection: the temporary table it fills is the connection's
            keys = self._local.view_keys = shown.ViewKeys()
        return keys

    def shown_head(self, page_id: int, trusted: frozenset[str]) -> RevInfo | None:
        """The head of a page a view trusting ``trusted`` shows (as View.choose over heads), in one query.

        Only the chosen head is read in full; None if the page has no head.
        """
        row = shown.shown_head_row(self.conn, self._view_keys(), page_id, trusted)
        return None if row is None else self._rev_info(row.id, row.cid, row.data,
                                                         row if row.page_cid and row.text_cid else None)

    def ordered_heads(self, page_id: int, trusted: frozenset[str]) -> list[RevInfo]:
        """Every head of a page, the one a view trusting ``trusted`` shows first (as View.order)."""
        return [self.revision_by_id(i) for i in shown.ordered_head_ids(self.conn, self._view_keys(), page_id, trusted)]

    def shown_head_ids(self, trusted: frozenset[str], page_ids: Iterable[int] | None = None) -> dict[int, int]:
        """{page id: id of the head a view trusting ``trusted`` shows}, for these pages or all, in one query per 500."""
        return shown.shown_head_ids(self.conn, self._view_keys(), trusted, page_ids)

    def history(self, page_id: int) -> list[RevInfo]:
        """Every revision of a page, newest first."""
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM revisions WHERE page = ? ORDER BY ts DESC, id DESC", (page_id,))]
        return [self.revision_by_id(i) for i in ids]

    def history_page(self, page_id: int, limit: int, offset: tuple[int, int] | None = None,
                     older: bool = True) -> list[RevInfo]:
        """At most ``limit`` revisions of a page, newest first, next to a position (ts, id) in its history.

        ``older``: those after ``offset`` going back in time (from the newest if None); else those
        before it going forward (from the oldest if None). One range query on the page's index,
        so a page of 10,000 revisions costs no more than one of 50.
        """
        op, order = ("<", "DESC") if older else (">", "ASC")
        where, args = "page = ?", [page_id]
        if offset is not None:
            where, args = f"page = ? AND (ts, id) {op} (?, ?)", [page_id, *offset]
        ids = [r[0] for r in self.conn.execute(
            f"SELECT id FROM revisions WHERE {where} ORDER BY ts {order}, id {order} LIMIT ?", (*args, limit))]
        revs = [self.revision_by_id(i) for i in ids]
        return revs if older else revs[::-1]

    def bans(self) -> list[tuple[bytes, Ban]]:
        """Every ban notice held (each verified at ingest), oldest first."""
        rows = self.conn.execute("SELECT cid, data FROM objects WHERE kind = ? ORDER BY id", (KIND_BAN,))
        return [(cid, Ban(**{k: v for k, v in libipld.decode_dag_cbor(data).items() if k != "t"})) for cid, data in rows]

    def notice_at(self, kind: int, key: str, name: str, seq: int) -> bytes | None:
        """The CID of the notice an issuer published under this name and number, if held."""
        row = self.conn.execute("SELECT o.cid FROM notices n JOIN objects o ON o.id = n.id "
                                "WHERE n.kind = ? AND n.key = ? AND n.name = ? AND n.seq = ?", (kind, key, name, seq)).fetchone()
        return row[0] if row else None

    def current_notices(self, kind: int, key: str | None = None, name: str | None = None) -> list[tuple[bytes, Notice]]:
        """The newest notice of each (issuer, name), optionally of one issuer or one name."""
        rows = self.conn.execute(
            "SELECT o.cid, o.data FROM notices n JOIN objects o ON o.id = n.id WHERE n.kind = ?1 "
            "AND (?2 IS NULL OR n.key = ?2) AND (?3 IS NULL OR n.name = ?3) AND n.seq = "
            "(SELECT max(seq) FROM notices m WHERE m.kind = n.kind AND m.key = n.key AND m.name = n.name) "
            "ORDER BY n.key, n.name", (kind, key, name))
        return [(cid, parse(Block(cid, data), 0)) for cid, data in rows]

    def notices_version(self) -> int:
        """Goes up whenever a notice arrives: views and blocklists built from notices compare it."""
        return self.conn.execute("SELECT count(*) FROM notices").fetchone()[0]

    def recent(self, limit: int = 50, wiki: str | None = None) -> list[RevInfo]:
        """The revisions this node received last, across the node or in one wiki.

        Arrival order, not timestamp: it walks the log backwards on the primary
        key, so it costs the same on a store of millions of revisions.
        """
        if wiki is None:
            rows = self.conn.execute("SELECT id FROM revisions ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.conn.execute(
                "SELECT r.id FROM revisions r JOIN pages p ON p.id = r.page WHERE p.wiki = ? "
                "ORDER BY r.id DESC LIMIT ?", (wiki, limit))
        return [self.revision_by_id(r[0]) for r in rows.fetchall()]

    def revision_text(self, rev: RevInfo) -> str:
        text_id = self.conn.execute("SELECT text FROM revisions WHERE id = ?", (rev.id,)).fetchone()[0]
        return self.text_bytes(text_id).decode("utf-8")

    def signatures(self, target_id: int) -> list[SigInfo]:
        rows = self.conn.execute(
            "SELECT k.key, s.role, o.cid FROM sigs s JOIN keys k ON k.id = s.key JOIN objects o ON o.id = s.sig "
            "WHERE s.target = ? ORDER BY s.sig", (target_id,))
        return [SigInfo(*r) for r in rows]

    # -- search and stats -------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[tuple[PageRow, str]]:
        """Pages whose shown text or title holds every term of ``query``, with a snippet of wikitext each
        (wikipeer.snippets makes what a reader is shown); the page titled as the query comes first.

        What waits to be indexed is indexed first when it is little (store/indexer.py); otherwise the
        answer comes from the index as it is, ``index_lag()`` pages behind. Pages of wikis whose search
        is off are left out.
        """
        indexer.catch_up_before_search(self, self.index_trusted)
        off = indexer.search_off(self)
        hits = fts.search(self.conn, query, limit, self._indexed, self._titled(query))
        rows = [(self.page_by_id(hit.page), hit.snippet) for hit in hits]
        return [(row, snippet) for row, snippet in rows if row.wiki not in off] if off else rows

    def _titled(self, query: str) -> list[int]:
        """The pages, in any wiki, whose title is ``query`` normalised as that wiki normalises titles."""
        text = fts.unquoted(query)
        found = []
        # The configured wikis only: listing the wikis of the pages table reads all of it.
        for wiki, config in self.conn.execute("SELECT name, config FROM wikis"):
            try:
                title = normalize_title(WikiConfig.from_dict(json.loads(config)), text)
            except BadTitle:
                continue
            row = self.page(wiki, title.ns, title.text)
            if row is not None:
                found.append(row.id)
        return found

    def index_lag(self) -> int:
        """How many pages wait to be indexed: the search index is that far behind."""
        return indexer.lag(self)

    def _reset_search(self) -> None:
        """Empty the index and mark every page: the tokens of this Python differ from those it holds,
        and the indexer fills it again behind."""
        with self.write() as writer:
            fts.reset(writer.conn)
            writer.conn.execute("INSERT OR IGNORE INTO index_pending SELECT id FROM pages")
            writer.conn.execute("INSERT OR REPLACE INTO meta VALUES ('search', ?)", (fts.INDEX_VERSION,))

    def indexed_text(self, page: int) -> str:
        """The text of the revision the search index holds for ``page`` (what a result's snippet is cut from);
        empty when the page left the index since it was found."""
        if self.conn.execute("SELECT 1 FROM search_state WHERE page = ?", (page,)).fetchone() is None:
            return ""
        return self._indexed(page).text

    def _indexed(self, page: int) -> fts.Doc:
        """The indexed revision of a page as search reads it; recently read ones come from memory,
        since folding a long text costs more than finding it."""
        rev, title = self.conn.execute("SELECT rev, title FROM search_state WHERE page = ?", (page,)).fetchone()
        with self._lock:
            doc = self._docs.get((page, rev, title))
            if doc is not None:
                self._docs.move_to_end((page, rev, title))
                return doc
        text_id = self.conn.execute("SELECT text FROM revisions WHERE id = ?", (rev,)).fetchone()[0]
        doc = fts.Doc.of(title, self.text_bytes(text_id).decode("utf-8"))
        with self._lock:
            self._docs[(page, rev, title)] = doc
            self._docs_size += len(doc.text)
            while self._docs_size > DOC_CACHE_CHARS:
                _, old = self._docs.popitem(last=False)
                self._docs_size -= len(old.text)
        return doc

    def counts(self) -> list[tuple[str, int, int]]:
        """Per wiki: (wiki, pages, revisions), cheap enough for a status page."""
        pages = dict(self.conn.execute("SELECT wiki, count(*) FROM pages GROUP BY wiki"))
        revs = dict(self.conn.execute(
            "SELECT p.wiki, count(*) FROM revisions r JOIN pages p ON p.id = r.page GROUP BY p.wiki"))
        return [(w, pages.get(w, 0), revs.get(w, 0)) for w in self.wikis()]

    def stats(self) -> list[WikiStats]:
        """Per wiki: pages, revisions, blocks and the bytes those blocks take on disk."""
        out = []
        for wiki in self.wikis():
            pages, revs = self.conn.execute(
                "SELECT count(DISTINCT p.id), count(r.id) FROM pages p LEFT JOIN revisions r ON r.page = p.id "
                "WHERE p.wiki = ?", (wiki,)).fetchone()
            blocks, size = self.conn.execute(
                """
                WITH mine(id) AS (
                    SELECT id FROM pages WHERE wiki = ?1
                    UNION SELECT r.id FROM revisions r JOIN pages p ON p.id = r.page WHERE p.wiki = ?1
                    UNION SELECT r.text FROM revisions r JOIN pages p ON p.id = r.page WHERE p.wiki = ?1
                    UNION SELECT s.sig FROM sigs s JOIN revisions r ON r.id = s.target
                          JOIN pages p ON p.id = r.page WHERE p.wiki = ?1)
                SELECT count(*), coalesce(sum(coalesce(length(o.data), length(t.data) + coalesce(tp.length, 0),
                                                       length(s.value)) + length(o.cid)), 0)
                FROM mine m JOIN objects o ON o.id = m.id LEFT JOIN texts t ON t.id = m.id
                LEFT JOIN text_places tp ON tp.id = m.id LEFT JOIN sigs s ON s.sig = m.id
                """, (wiki,)).fetchone()
            out.append(WikiStats(wiki, pages, revs, blocks, size))
        return out

    def file_size(self) -> int:
        """Bytes the store takes on disk, WAL included (on PostgreSQL: the database's size)."""
        if self.database is not None:
            return self.conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))


class Writer:
    """Writes inside one transaction; only ingest should hold one.

    Rows are buffered and written with one ``executemany`` per table when the
    batch ends (``flush``); ids are handed out here, in acceptance order, so
    they are known before the rows reach SQLite.
    """

    def __init__(self, store: Store, conn: sqlite3.Connection) -> None:
        self.store = store
        self.conn = conn
        self.touched_pages: set[int] = set()
        self._next_id = (conn.execute("SELECT max(seq) FROM sqlite_sequence WHERE name = 'objects'").fetchone()[0] or 0) + 1
        self.first_id = self._next_id
        self._rows: dict[str, list[tuple]] = defaultdict(list)
        self._heads_added: set[tuple[int, int]] = set()
        self._heads_removed: set[tuple[int, int]] = set()
        self._key_ids: dict[str, int] = {}
        self._string_ids: dict[str, int] = {}
        self._sha1: dict[int, bytes] = {}
        self._plain: dict[str, list[int]] = defaultdict(list)  # texts standing alone added, by wiki
        self._wiki_dicts: dict[str, int | None] = {}
        self._page_wikis: dict[int, str] = {}
        self._text_of_rev: dict[int, int] = {}
        self._page_of_rev: dict[int, int] = {}
        self._depth: dict[int, int] = {}
        self._new_texts: dict[int, bytes] = {}
        self._new_chunks: dict[int, bytes] = {}
        self.packed: dict[tuple[bytes, bytes], bytes] = {}
        """Texts a pipeline worker already compressed, by (text CID, the base text's bytes or b""): the
        very textcodec.compress(text, base) this writer would call, used when it picks the same base."""
        self.packs = store.blobs.writer(self._indexed_end)
        # Held blocks and shallow histories are rare; when there are none, skip every lookup of them.
        self.any_held = conn.execute("SELECT EXISTS (SELECT 1 FROM held)").fetchone()[0] == 1
        self.any_shallow = conn.execute("SELECT EXISTS (SELECT 1 FROM shallow)").fetchone()[0] == 1

    _INSERTS = {
        "objects": "INSERT INTO objects(id, cid, kind, data) VALUES (?, ?, ?, ?)",
        "texts": "INSERT INTO texts(id, base, depth, data, dict) VALUES (?, ?, ?, ?, ?)",
        "text_places": "INSERT INTO text_places VALUES (?, ?, ?, ?)",
        "text_sha1": "INSERT INTO text_sha1 VALUES (?, ?)",
        "pages": "INSERT INTO pages VALUES (?, ?, ?, ?)",
        "revisions": "INSERT INTO revisions VALUES (?, ?, ?, ?, ?)",
        "parents": "INSERT INTO parents VALUES (?, ?, ?)",
        "sigs": "INSERT INTO sigs VALUES (?, ?, ?, ?, ?, ?)",
        "origins": "INSERT OR IGNORE INTO origins VALUES (?, ?, ?)",
        "shallow": "INSERT INTO shallow VALUES (?, ?, ?)",
        "files": "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    }

    def flush(self) -> None:
        """Write the buffered rows; reads through the store see them afterwards."""
        for table, sql in self._INSERTS.items():
            if self._rows[table]:
                self.conn.executemany(sql, self._rows[table])
        self.conn.executemany("DELETE FROM heads WHERE page = ? AND rev = ?", sorted(self._heads_removed))
        self.conn.executemany("INSERT INTO heads VALUES (?, ?)", sorted(self._heads_added))
        self._rows.clear()
        self._heads_added.clear()
        self._heads_removed.clear()

    @property
    def positions(self) -> tuple[int, int] | None:
        """The log positions this transaction filled, first and last (one transaction: no gaps)."""
        return (self.first_id, self._next_id - 1) if self._next_id > self.first_id else None

    def add_object(self, cid: bytes, kind: int, data: bytes | None) -> int:
        oid = self._next_id
        self._next_id += 1
        self._rows["objects"].append((oid, cid, kind, data))
        return oid

    def text(self, text_id: int) -> bytes:
        """A text's bytes, including texts added in this batch and not yet flushed."""
        new = self._new_texts.get(text_id)
        return new if new is not None else self.store.text_bytes(text_id)

    def add_text(self, cid: bytes, text: bytes, base_id: int | None, wiki: str | None = None) -> int:
        """Store a text, compressed against the text ``base_id`` while the chain is short enough.

        A text that stands alone is compressed with the newest dictionary trained from ``wiki``'s texts,
        if it has one; a wiki's first texts train it when the batch ends (``train_dictionaries``).
        """
        base = None
        depth = 0
        if base_id is not None:
            base_depth = self._depth.get(base_id)
            if base_depth is None:
                base_depth = self.conn.execute("SELECT depth FROM texts WHERE id = ?", (base_id,)).fetchone()[0]
            if base_depth + 1 < self.store.chain:
                base, depth = self.text(base_id), base_depth + 1
        oid = self.add_object(cid, KIND_TEXT, None)
        dict_id = None
        if base is None and wiki is not None:
            self._plain[wiki].append(oid)
            dict_id = self._dictionary_of(wiki)
        # A worker compressed it without a dictionary: usable unless this text takes the wiki's dictionary.
        data = self.packed.get((cid, base or b"")) if dict_id is None else None
        if data is None:
            data = textcodec.compress(text, base, self.store.dictionary(dict_id) if dict_id is not None else None)
        self._rows["texts"].append((oid, base_id if base is not None else None, depth, self._place_text(oid, cid, data),
                                    dict_id))
        sha1 = self._sha1[oid] = hashlib.sha1(text).digest()  # MediaWiki's, for api.php
        self._rows["text_sha1"].append((oid, sha1))
        self._depth[oid] = depth
        self._new_texts[oid] = text
        return oid

    def _place_text(self, oid: int, cid: bytes, data: bytes) -> bytes:
        """What the texts row holds of a text compressed to ``data``: ``data`` itself, or, on a store whose blob
        store holds texts, empty bytes, with ``data`` appended to this transaction's pack and a text_places row."""
        if not self.store.blobs.holds_texts:
            return data
        try:
            place = self.packs.append(cid, data, TEXT_MAGIC)
        except (OSError, BlobError) as exc:  # the transaction rolls back; what was uploaded is an orphan
            raise blob_failure(exc, self.store.blobs) from exc
        self._rows["text_places"].append((oid, place.pack, place.offset, place.length))
        return b""

    def add_chunk(self, block: Block) -> int:
        """Append a chunk to the pack files and index it (the index row commits with the batch)."""
        try:
            place = self.packs.append(block.cid, block.data)
        except (OSError, BlobError) as exc:  # the transaction rolls back; the next writer cuts off what was appended
            raise blob_failure(exc, self.store.blobs) from exc
        oid = self.add_object(block.cid, KIND_CHUNK, None)
        self.conn.execute("INSERT INTO chunks VALUES (?, ?, ?, ?)", (oid, place.pack, place.offset, place.length))
        self._new_chunks[oid] = block.data
        return oid

    def _indexed_end(self) -> tuple[int, int]:
        """The newest pack the chunk index names and the end of its last chunk: where local packs go on."""
        row = self.conn.execute("SELECT pack, max(offset + length) FROM chunks "
                                "WHERE pack = (SELECT max(pack) FROM chunks) GROUP BY pack").fetchone()
        return (row[0], row[1]) if row and row[0] is not None else (0, 0)

    def raw(self, oid: int, cid: bytes) -> bytes:
        """A raw block's bytes (a chunk or a text), including those of this batch not yet flushed."""
        for new in (self._new_chunks, self._new_texts):
            if oid in new:
                return new[oid]
        self.flush()
        data = self.store.raw_bytes(cid)
        if data is None:
            raise NotFound(f"raw block #{oid} is not in the store")
        return data

    def add_file(self, block: Block, record: File, page_id: int) -> int:
        """A file version: its block kept whole, its facts in the files table."""
        oid = self.add_object(block.cid, KIND_FILE, block.data)
        self._rows["files"].append((oid, page_id, bytes.fromhex(record.sha256), record.size, record.mime,
                                    record.width, record.height, record.ts))
        self.touched_pages.add(page_id)
        return oid

    def add_notice(self, block: Block, record: Notice) -> int:
        """A profile, ban, trust list or blocklist: kept whole, and indexed by issuer, name and number."""
        kind, name, seq = notice_identity(record)
        oid = self.add_object(block.cid, kind, block.data)
        self.flush()  # the notice row must see its object (and a second notice of the batch, this one)
        self.conn.execute("INSERT INTO notices VALUES (?, ?, ?, ?, ?)", (kind, record.key, name, seq, oid))
        return oid

    def add_page(self, block: Block, page: Page) -> int:
        oid = self.add_object(block.cid, KIND_PAGE, block.data)
        self._rows["pages"].append((oid, page.wiki, page.ns, page.title))
        self._page_wikis[oid] = page.wiki
        return oid

    def add_revision(self, block: Block, rev: Revision, page_id: int, text_id: int,
                     parent_ids: list[int | None]) -> int:
        """Store a revision and make it a head of its page in place of its parents.

        A parent id of None is a parent a shallow copy does not hold: the link
        is kept by CID. A revision that shallow copies were missing joins the
        history below its children and does not become a head.
        """
        oid = self.add_object(block.cid, KIND_REV, self._pack_revision(block, text_id))
        self._rows["revisions"].append((oid, page_id, text_id, rev.ts, rev.size))
        self._text_of_rev[oid] = text_id
        self._page_of_rev[oid] = page_id
        for pos, (parent, parent_cid) in enumerate(zip(parent_ids, rev.parents, strict=True)):
            if parent is None:
                self._rows["shallow"].append((oid, pos, parent_cid))
                self.any_shallow = True
                continue
            self._rows["parents"].append((oid, pos, parent))
            if (page_id, parent) in self._heads_added:
                self._heads_added.discard((page_id, parent))
            else:
                self._heads_removed.add((page_id, parent))
        if not self._join_children(block.cid, oid):
            self._heads_added.add((page_id, oid))
        self.touched_pages.add(page_id)
        if "site" in rev.origin and "rev_id" in rev.origin:
            site = rev.origin["site"]
            if isinstance(site, str):
                self._rows["origins"].append((self.string_id(site), rev.origin["rev_id"], oid))
        return oid

    def _join_children(self, cid: bytes, oid: int) -> bool:
        """Link children that were waiting for this revision as a shallow parent; True if there were any."""
        if not self.any_shallow:
            return False
        buffered = [row for row in self._rows["shallow"] if row[2] == cid]
        self._rows["shallow"] = [row for row in self._rows["shallow"] if row[2] != cid]
        stored = self.conn.execute("SELECT child, pos, cid FROM shallow WHERE substr(cid, 5, 8) = ? AND cid = ?",
                                   (cid[4:12], cid)).fetchall()
        for child, pos, _ in buffered + stored:
            self.conn.execute("DELETE FROM shallow WHERE child = ? AND pos = ?", (child, pos))
            self._rows["parents"].append((child, pos, oid))
        return bool(buffered or stored)

    def _pack_revision(self, block: Block, text_id: int) -> bytes:
        """The fields of a revision block that its tables do not hold, in revpack's compact form."""
        return revpack.pack(libipld.decode_dag_cbor(block.data),
                            revpack.Packer(self.key_id, self.string_id, lambda: self._text_sha1(text_id)))

    def repack(self, oid: int, data: bytes) -> bytes:
        """A stored revision's ``objects.data`` in the compact form (the schema 15 migration)."""
        text_id = self.conn.execute("SELECT text FROM revisions WHERE id = ?", (oid,)).fetchone()[0]
        obj = self.store._revision_fields(oid, data)
        return revpack.pack(obj, revpack.Packer(self.key_id, self.string_id, lambda: self._text_sha1(text_id)))

    def wiki_of_page(self, page_id: int) -> str:
        """The wiki a page belongs to (its texts are compressed with that wiki's dictionary)."""
        wiki = self._page_wikis.get(page_id)
        if wiki is None:
            wiki = self._page_wikis[page_id] = self.conn.execute(
                "SELECT wiki FROM pages WHERE id = ?", (page_id,)).fetchone()[0]
        return wiki

    def _dictionary_of(self, wiki: str) -> int | None:
        if wiki not in self._wiki_dicts:
            row = self.conn.execute("SELECT max(id) FROM text_dicts WHERE wiki = ?", (wiki,)).fetchone()
            self._wiki_dicts[wiki] = row[0]
        return self._wiki_dicts[wiki]

    def train_dictionaries(self) -> None:
        """Train a wiki's text dictionary when it is due, and compress this batch's texts of it with the new one.

        Due: once the wiki holds TRAIN_AFTER texts standing alone, and again each time it holds RETRAIN_GROWTH
        times as many as at the last training (so a wiki whose texts change keeps a fitting dictionary, for a
        training cost that stays a small share of the import). Texts stored before keep the dictionary they
        name; this batch's are compressed again, and at a wiki's first training the few hundred stored
        before it too (so no wiki keeps its first texts without the dictionary), unless there are more
        than RECOMPRESS_AT_MOST (a store that held the wiki before schema 15).
        """
        for wiki, added in self._plain.items():
            row = self.conn.execute("SELECT texts FROM text_dicts WHERE wiki = ? ORDER BY id DESC LIMIT 1",
                                    (wiki,)).fetchone()
            held = int(self.store.meta(f"plain_texts:{wiki}") or 0) + len(added)
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"plain_texts:{wiki}", str(held)))
            if held < (TRAIN_AFTER if row is None else row[0] * RETRAIN_GROWTH):
                continue
            new = set(added)
            stored = [r[0] for r in self.conn.execute(
                "SELECT t.id FROM texts t JOIN revisions r ON r.text = t.id JOIN pages p ON p.id = r.page "
                "WHERE p.wiki = ? AND t.base IS NULL", (wiki,)) if r[0] not in new]
            data = textcodec.train(self._dictionary_samples(added + stored))
            if data is None:
                continue
            dict_id = self.conn.execute("INSERT INTO text_dicts(wiki, texts, data) VALUES (?, ?, ?)",
                                        (wiki, held, data)).lastrowid
            self._wiki_dicts[wiki] = dict_id
            again = added + (stored if row is None and len(stored) <= RECOMPRESS_AT_MOST else [])
            self._recompressed({oid: textcodec.compress(self.text(oid), None, data) for oid in again}, dict_id)
        self._plain.clear()

    def _recompressed(self, texts: dict[int, bytes], dict_id: int) -> None:
        """Store texts compressed again with the dictionary ``dict_id``. In a blob store they go to new records
        (a pack cannot be rewritten): the old records are garbage no row names."""
        cids = dict(rows_in(self.conn, "SELECT id, cid FROM objects WHERE id IN ({marks})", sorted(texts)))
        rows = [(self._place_text(oid, cids[oid], data), dict_id, oid) for oid, data in texts.items()]
        self.conn.executemany("UPDATE texts SET data = ?, dict = ? WHERE id = ?", rows)
        self.conn.executemany("INSERT OR REPLACE INTO text_places VALUES (?, ?, ?, ?)",
                              self._rows.pop("text_places", []))

    def _dictionary_samples(self, ids: list[int]) -> list[bytes]:
        """A spread of these texts to train from, SAMPLE_BYTES at most."""
        samples, size = [], 0
        for text_id in ids[::max(1, len(ids) // 2000)]:
            sample = self.text(text_id)
            samples.append(sample)
            size += len(sample)
            if size > SAMPLE_BYTES:
                break
        return samples

    def _text_sha1(self, text_id: int) -> bytes:
        sha1 = self._sha1.get(text_id)
        if sha1 is None:
            sha1 = self._sha1[text_id] = self.conn.execute(
                "SELECT sha1 FROM text_sha1 WHERE text = ?", (text_id,)).fetchone()[0]
        return sha1

    def string_id(self, value: str) -> int:
        """The id of a string kept once in the strings table, added if new."""
        string_id = self._string_ids.get(value)
        if string_id is None:
            self.conn.execute("INSERT OR IGNORE INTO strings(value) VALUES (?)", (value,))
            string_id = self.conn.execute("SELECT id FROM strings WHERE value = ?", (value,)).fetchone()[0]
            self._string_ids[value] = string_id
        return string_id

    def key_id(self, key: str) -> int:
        key_id = self._key_ids.get(key)
        if key_id is None:
            self.conn.execute("INSERT OR IGNORE INTO keys(key) VALUES (?)", (key,))
            key_id = self.conn.execute("SELECT id FROM keys WHERE key = ?", (key,)).fetchone()[0]
            self._key_ids[key] = key_id
        return key_id

    def add_signature(self, block: Block, sig: Signature, target_id: int) -> int:
        oid = self.add_object(block.cid, KIND_SIG, None)
        key_id = self.key_id(sig.key)
        self._rows["sigs"].append((target_id, oid, key_id, sig.role, unb64(sig.sig), sig.ts))
        return oid

    def text_of_revision(self, rev_id: int) -> int:
        text_id = self._text_of_rev.get(rev_id)
        if text_id is None:
            text_id = self.conn.execute("SELECT text FROM revisions WHERE id = ?", (rev_id,)).fetchone()[0]
        return text_id

    def page_of_revision(self, rev_id: int) -> int | None:
        page = self._page_of_rev.get(rev_id)
        if page is None:
            row = self.conn.execute("SELECT page FROM revisions WHERE id = ?", (rev_id,)).fetchone()
            page = row[0] if row else None
        return page

    def hold(self, block: Block, waiting: bytes, source: str, now: int) -> None:
        """Keep a block aside until ``waiting`` comes.

        A block held already keeps its first source and time and only changes
        what it waits for: sending it again neither moves it to another
        source's account nor postpones its expiry.
        """
        self.any_held = True
        self.conn.execute("INSERT INTO held VALUES (?, ?, ?, ?, ?) ON CONFLICT(cid) DO UPDATE SET waiting = excluded.waiting",
                          (block.cid, block.data, waiting, source, now))

    def held_by(self, source: str | None = None) -> tuple[int, int]:
        """(objects, bytes) held, from one source or (None) from all, this transaction's included."""
        return held_by(self.conn, source)

    def purge_held(self, before: int) -> int:
        """Forget blocks held since before ``before`` (unix seconds): what they wait for never came."""
        if not self.any_held:
            return 0
        return self.conn.execute("DELETE FROM held WHERE held_at < ?", (before,)).rowcount

    def release(self, cid: bytes) -> None:
        if self.any_held:
            self.conn.execute("DELETE FROM held WHERE cid = ?", (cid,))

    def held_waiting_for(self, cids: list[bytes]) -> list[tuple[Block, str]]:
        out: list[tuple[Block, str]] = []
        if not self.any_held:
            return out
        for cid in cids:
            rows = self.conn.execute("SELECT cid, data, source FROM held WHERE waiting = ?", (cid,)).fetchall()
            out += [(Block(c, d), s) for c, d, s in rows]
        return out

    def held_block(self, cid: bytes) -> tuple[Block, str] | None:
        if not self.any_held:
            return None
        row = self.conn.execute("SELECT data, source FROM held WHERE cid = ?", (cid,)).fetchone()
        return (Block(cid, row[0]), row[1]) if row else None

    def index_page(self, page_id: int, title: str, rev_id: int) -> None:
        """Make ``rev_id`` the revision the search index holds for its page."""
        fts.index_page(self.conn, page_id, title, rev_id, self._revision_text(rev_id), self._revision_text)

    def unindex_page(self, page_id: int) -> None:
        """Take a page out of the search index (its wiki's search is off, or it shows no revision)."""
        fts.unindex_page(self.conn, page_id, self._revision_text)

    def _revision_text(self, rev_id: int) -> str:
        return self.text(self.text_of_revision(rev_id)).decode("utf-8")


def _whole(data: bytes) -> bool:
    """Whether a revision's objects.data is its whole block (a CBOR map), not a packed form."""
    return not data.startswith((revpack.PACKED, revpack.COMPACT))


def rows_in(conn: sqlite3.Connection, sql: str, values: list, per_query: int = 500) -> Iterator[tuple]:
    """The rows of ``sql`` whose ``{marks}`` stands for ``values``, asked a few hundred at a time
    (SQLite bounds the parameters of one statement)."""
    for start in range(0, len(values), per_query):
        chunk = values[start:start + per_query]
        yield from conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)


def held_by(conn: sqlite3.Connection, source: str | None) -> tuple[int, int]:
    """(objects, bytes) in the held table, from one source or (None) from all."""
    where, args = ("WHERE source = ?", (source,)) if source is not None else ("", ())
    row = conn.execute(f"SELECT count(*), coalesce(sum(length(data)), 0) FROM held {where}", args).fetchone()
    return row[0], row[1]


def notice_identity(record: Notice) -> tuple[int, str, int]:
    """(kind, name, sequence number) of a notice; with its issuer key, what a newer one supersedes."""
    if isinstance(record, Trust):
        return KIND_TRUST, record.community, record.seq
    if isinstance(record, Blocklist):
        return KIND_BLOCKLIST, record.name, record.seq
    if isinstance(record, Ban):
        return KIND_BAN, record.peer or record.url or "", record.ts
    return KIND_PROFILE, "", record.ts
