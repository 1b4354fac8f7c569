"""The store's tables, created on first open.

``objects.id`` doubles as the local change log: ids are handed out in the
order objects are accepted and never reused (AUTOINCREMENT), so "everything
since N" is ``id > N``.
"""

import hashlib
import sqlite3
from collections.abc import Callable

KIND_TEXT, KIND_PAGE, KIND_REV, KIND_SIG, KIND_PROFILE, KIND_BAN, KIND_TRUST, KIND_BLOCKLIST, KIND_FILE, KIND_CHUNK = range(10)
NOTICE_KINDS = (KIND_PROFILE, KIND_BAN, KIND_TRUST, KIND_BLOCKLIST)

SCHEMA_VERSION = "18"
"""Every table is created IF NOT EXISTS, so an older store is brought up to date by running the schema again."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wikis(name TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid BLOB NOT NULL,             -- unique: ingest never stores a CID it holds
    kind INTEGER NOT NULL,
    data BLOB                      -- block bytes; NULL for texts and signatures, and for revisions 0x00
                                   -- + the fields that are not links, all rebuilt from their tables
);
-- Eight bytes of the digest find a CID; a UNIQUE index would store every CID a second time.
CREATE INDEX IF NOT EXISTS objects_by_cid ON objects(substr(cid, 5, 8));
CREATE TABLE IF NOT EXISTS texts(
    id INTEGER PRIMARY KEY,        -- = objects.id of the raw block
    base INTEGER,                  -- text whose bytes are the zstd dictionary; NULL: stands alone
    depth INTEGER NOT NULL,        -- length of the dictionary chain below this text
    data BLOB NOT NULL,
    dict INTEGER                   -- text_dicts.id it was compressed with (only texts without a base); NULL: none
);
-- zstd dictionaries trained from a wiki's own texts (schema 15): a text that stands alone is compressed
-- with its wiki's newest one and names it, so retraining never makes an older text unreadable.
CREATE TABLE IF NOT EXISTS text_dicts(
    id INTEGER PRIMARY KEY, wiki TEXT NOT NULL,
    texts INTEGER NOT NULL,        -- texts standing alone the wiki had when it was trained
    data BLOB NOT NULL
);
-- Strings that would repeat on many rows (sites and user names of imported revisions), kept once.
CREATE TABLE IF NOT EXISTS strings(id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS pages(
    id INTEGER PRIMARY KEY,        -- = objects.id of the page block
    wiki TEXT NOT NULL, ns INTEGER NOT NULL, title TEXT NOT NULL,
    UNIQUE(wiki, ns, title)
);
CREATE TABLE IF NOT EXISTS revisions(
    id INTEGER PRIMARY KEY,        -- = objects.id of the rev block
    page INTEGER NOT NULL, text INTEGER NOT NULL, ts INTEGER NOT NULL, size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS revisions_by_page ON revisions(page, ts);
CREATE TABLE IF NOT EXISTS parents(
    child INTEGER NOT NULL, pos INTEGER NOT NULL, parent INTEGER NOT NULL, PRIMARY KEY(child, pos)
) WITHOUT ROWID;
-- Parents a shallow copy of a page's history does not hold (fetched to a chosen depth):
-- the link is kept by CID and becomes a parents row if the parent ever arrives.
CREATE TABLE IF NOT EXISTS shallow(
    child INTEGER NOT NULL, pos INTEGER NOT NULL, cid BLOB NOT NULL, PRIMARY KEY(child, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS shallow_by_cid ON shallow(substr(cid, 5, 8));
CREATE TABLE IF NOT EXISTS heads(
    page INTEGER NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY(page, rev)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sigs(
    target INTEGER NOT NULL, sig INTEGER NOT NULL, key INTEGER NOT NULL, role TEXT NOT NULL,
    value BLOB NOT NULL,           -- the 64 signature bytes
    ts INTEGER,
    PRIMARY KEY(target, sig)
) WITHOUT ROWID;
-- Reading a signature back by its own id (the change log, sync) must not scan the table.
CREATE INDEX IF NOT EXISTS sigs_by_sig ON sigs(sig);
CREATE TABLE IF NOT EXISTS origins(    -- imported revisions by their id on the site they came from
    site INTEGER NOT NULL,         -- strings.id of the site (schema 15; its text before)
    rev_id INTEGER NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY(site, rev_id)
) WITHOUT ROWID;
-- Blocks waiting for something that has not come (see ingest), by whoever sent them first,
-- since when (unix seconds): bounded per source and expired after a while.
CREATE TABLE IF NOT EXISTS held(
    cid BLOB PRIMARY KEY, data BLOB NOT NULL, waiting BLOB NOT NULL, source TEXT NOT NULL,
    held_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS held_by_waiting ON held(waiting);
CREATE INDEX IF NOT EXISTS held_by_source ON held(source);
CREATE INDEX IF NOT EXISTS held_by_time ON held(held_at);
-- Peers (store/peers.py): cursors are positions in this store's log.
CREATE TABLE IF NOT EXISTS peers(
    url TEXT PRIMARY KEY,
    key TEXT,                      -- the peer's node key, once its descriptor was read
    added INTEGER NOT NULL,
    banned TEXT,                   -- why, when banned
    pull_cursor INTEGER NOT NULL DEFAULT 0,
    push_cursor INTEGER NOT NULL DEFAULT 0,
    gave INTEGER NOT NULL DEFAULT 0,          -- objects it sent that we accepted
    duplicates INTEGER NOT NULL DEFAULT 0,    -- objects it sent that we had
    we_refused INTEGER NOT NULL DEFAULT 0,    -- objects it sent that we rejected
    forgeries INTEGER NOT NULL DEFAULT 0,     -- of those, proven lies (bad CID or signature)
    took INTEGER NOT NULL DEFAULT 0,          -- objects we sent that it accepted
    it_refused INTEGER NOT NULL DEFAULT 0,    -- objects we sent that it rejected
    last_sync INTEGER,
    last_error TEXT
);
-- Peers learned by peer exchange (store/peer_candidates.py): named by another node's signed
-- descriptor, not added by the operator, never synced with; used by gossip once their own
-- descriptor showed the key at the address. Times in milliseconds.
CREATE TABLE IF NOT EXISTS peer_candidates(
    url TEXT PRIMARY KEY, key TEXT NOT NULL, via TEXT NOT NULL, learned INTEGER NOT NULL,
    verified INTEGER,              -- when its own descriptor last showed this key at this address
    tries INTEGER NOT NULL DEFAULT 0,  -- contacts failed since the last that worked
    dead INTEGER                   -- when it was given up (tries reached the limit, or another key answered)
);
CREATE INDEX IF NOT EXISTS peer_candidates_by_key ON peer_candidates(key);
-- When this node last read each peer's list of peers (net/exchange.py).
CREATE TABLE IF NOT EXISTS peer_exchanges(url TEXT PRIMARY KEY, at INTEGER NOT NULL);
-- side 'ours': positions of our log that came from the peer (never pushed back to it);
-- side 'theirs': positions of its log that came from us (never pulled back from it).
CREATE TABLE IF NOT EXISTS peer_ranges(
    url TEXT NOT NULL, side TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS peer_ranges_by_url ON peer_ranges(url, side, last);
-- MediaWiki peers (store/mw_peers.py): a live wiki followed through its Action API. The cursors are
-- MediaWiki's own continuation positions (JSON), the push cursor a position of this store's log.
CREATE TABLE IF NOT EXISTS mw_peers(
    url TEXT PRIMARY KEY,          -- its api.php
    wiki TEXT NOT NULL,            -- the wiki on this node its pages go into
    namespaces TEXT,               -- JSON list of namespace numbers; NULL: all
    since TEXT,                    -- MediaWiki timestamp the first pull starts at; NULL: the beginning
    rev_cursor TEXT,               -- JSON: where list=allrevisions resumes
    log_cursor TEXT,               -- JSON: where list=logevents resumes
    user TEXT,                     -- the account edits are pushed with
    push_cursor INTEGER NOT NULL DEFAULT 0,
    secret BLOB,                   -- the account's password, encrypted (mediawiki/credentials.py)
    rate REAL NOT NULL DEFAULT 10, -- requests per second at most
    added INTEGER NOT NULL,
    pulled INTEGER NOT NULL DEFAULT 0,        -- revisions taken from it that were new here
    last_sync INTEGER,
    last_error TEXT
);
-- Pages hidden from this node's views while their signed history stays (store/hidden.py): deleted on
-- the MediaWiki they came from. A head newer than ``since`` (the page made again) shows the page again.
CREATE TABLE IF NOT EXISTS hidden_pages(
    page INTEGER PRIMARY KEY, since INTEGER NOT NULL, reason TEXT NOT NULL);
-- Revisions and file versions hidden one by one (schema 14, store/hidden.py): revision deletion or
-- suppression on the MediaWiki they came from, or an operator's `wikipeer hide`. ``item`` is the
-- revision's or file version's object id; its signed history stays.
CREATE TABLE IF NOT EXISTS hidden_items(
    item INTEGER PRIMARY KEY, page INTEGER NOT NULL, reason TEXT NOT NULL, since INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS hidden_items_by_page ON hidden_items(page);
-- A partial node's cache of fetched pages (store/cache.py).
CREATE TABLE IF NOT EXISTS local_pages(
    page INTEGER PRIMARY KEY,
    last_read INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    fetched INTEGER NOT NULL DEFAULT 0   -- came by fetch (evictable), not by following
);
-- Notices (profiles, bans, trust lists, blocklists) by issuer, name and sequence number,
-- to find the newest of each and to refuse an issuer who signs two different ones with one number.
CREATE TABLE IF NOT EXISTS notices(
    kind INTEGER NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, id INTEGER NOT NULL,
    PRIMARY KEY(kind, key, name, seq)
) WITHOUT ROWID;
-- Leech accounting: per node key that pulls from us or pushes to us (a hint the caller gives),
-- the objects we served it and the new objects it gave us.
CREATE TABLE IF NOT EXISTS takers(key TEXT PRIMARY KEY, served INTEGER NOT NULL DEFAULT 0,
                                  given INTEGER NOT NULL DEFAULT 0);
-- Notices this node still has to pass on to other nodes (net/gossip.py).
CREATE TABLE IF NOT EXISTS gossip(id INTEGER PRIMARY KEY, range_lo TEXT NOT NULL, range_hi TEXT NOT NULL);
-- Pages whose search entry is out of date: ingest marks them, the indexer clears them (store/indexer.py).
CREATE TABLE IF NOT EXISTS index_pending(page INTEGER PRIMARY KEY);
-- MediaWiki's SHA-1 of each text (what api.php answers as rvprop=sha1), by the text's object id:
-- computed once, when the text arrives (see migrate_text_sha1 for texts stored before).
CREATE TABLE IF NOT EXISTS text_sha1(text INTEGER PRIMARY KEY, sha1 BLOB NOT NULL);
-- Revisions by time across a wiki: api.php's allrevisions and recentchanges walk it.
CREATE INDEX IF NOT EXISTS revisions_by_ts ON revisions(ts, id);
-- Pages in MediaWiki's title order (it sorts titles with underscores, so "AB" comes before "A b").
CREATE INDEX IF NOT EXISTS pages_by_mw_title ON pages(wiki, ns, replace(title, ' ', '_'));
-- Requests waiting for the next trip of a USB stick (store/wants.py).
CREATE TABLE IF NOT EXISTS wants(
    id INTEGER PRIMARY KEY,
    wiki TEXT,                     -- with titles
    titles TEXT,                   -- JSON list, or NULL for a search
    query TEXT,                    -- a search, or NULL
    top INTEGER NOT NULL DEFAULT 10,
    depth INTEGER NOT NULL DEFAULT 10,
    created INTEGER NOT NULL,
    done INTEGER,                  -- when it was met
    files TEXT                     -- JSON list of the SHA-256 of files asked for, or NULL
);
-- Pushing to MediaWiki peers (store/mw_push.py; the account and cursor are in mw_peers).
-- Our revisions a MediaWiki took, with the revision id and timestamp it gave them.
CREATE TABLE IF NOT EXISTS mw_pushed(
    url TEXT NOT NULL, rev INTEGER NOT NULL, rev_id INTEGER NOT NULL, ts TEXT NOT NULL,
    PRIMARY KEY(url, rev)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mw_pushed_by_id ON mw_pushed(url, rev_id);
-- Our revisions a MediaWiki refused (or that met an edit conflict), with its error code and text.
CREATE TABLE IF NOT EXISTS mw_refused(
    url TEXT NOT NULL, rev INTEGER NOT NULL, code TEXT NOT NULL, info TEXT NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY(url, rev)) WITHOUT ROWID;
-- git as a peer (schema 16, store/gitmap.py, docs/git.md): each revision's commit, built once and kept.
CREATE TABLE IF NOT EXISTS git_commits(rev_cid BLOB PRIMARY KEY, commit_id TEXT NOT NULL) WITHOUT ROWID;
-- Per wiki: the log position its commits are built up to, its newest view commit (refs/heads/main) and the
-- fingerprint of the view that commit follows (a trust change makes every page's shown head be looked at again).
CREATE TABLE IF NOT EXISTS git_state(
    wiki TEXT PRIMARY KEY, built_to INTEGER NOT NULL, main TEXT, view TEXT NOT NULL DEFAULT '');
-- The head each page's file in the newest view commit holds, and whether the page had other heads (forks).
CREATE TABLE IF NOT EXISTS git_shown(page INTEGER PRIMARY KEY, rev INTEGER NOT NULL, forks INTEGER NOT NULL DEFAULT 0);
"""

MEDIA_SCHEMA = """
-- Media (schema 11): file versions, and where their chunks lie in the pack files (store/packs.py).
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,        -- = objects.id of the file block (kept whole in objects.data)
    page INTEGER NOT NULL, sha256 BLOB NOT NULL, size INTEGER NOT NULL, mime TEXT NOT NULL,
    width INTEGER, height INTEGER, ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_page ON files(page, ts);
CREATE INDEX IF NOT EXISTS files_by_sha256 ON files(sha256);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY,        -- = objects.id of the raw block
    pack INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_pack ON chunks(pack, offset);
-- Texts whose compressed bytes lie in the blob store (schema 18: a store whose blobs are a bucket), in
-- records marked TEXT_MAGIC; their texts row holds empty data. Recompression writes new records, leaving the old.
CREATE TABLE IF NOT EXISTS text_places(
    id INTEGER PRIMARY KEY,        -- = texts.id
    pack INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS text_places_by_pack ON text_places(pack, offset);
"""


def add_media_tables(conn: sqlite3.Connection) -> None:
    """The media tables (added in schema 11) (files and the chunk index of the pack files)."""
    for statement in statements(MEDIA_SCHEMA):
        conn.execute(statement)


ADDED_COLUMNS = [("held", "held_at", "INTEGER NOT NULL DEFAULT 0"), ("wants", "files", "TEXT"),
                 ("texts", "dict", "INTEGER")]
"""Columns added to tables after their first version: CREATE TABLE IF NOT EXISTS cannot add them."""


def add_columns(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Add the ADDED_COLUMNS an older store lacks (before the schema's indexes name them); returns which."""
    added = []
    for table, column, decl in ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if have and column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            added.append((table, column))
    return added


def migrate_text_sha1(conn: sqlite3.Connection, text_bytes: Callable[[int], bytes]) -> int:
    """Schema 11: fill text_sha1 for the texts stored before it existed; returns how many."""
    missing = [r[0] for r in conn.execute(
        "SELECT t.id FROM texts t LEFT JOIN text_sha1 s ON s.text = t.id WHERE s.text IS NULL")]
    for start in range(0, len(missing), 1000):
        conn.executemany("INSERT INTO text_sha1 VALUES (?, ?)",
                         [(i, hashlib.sha1(text_bytes(i)).digest()) for i in missing[start:start + 1000]])
    return len(missing)


def migrate_origins(conn: sqlite3.Connection) -> int:
    """Schema 15: the origins table names its site by a strings id, not its text; returns the rows moved."""
    types = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(origins)")}
    if types.get("site") != "TEXT":
        return 0
    conn.execute("INSERT OR IGNORE INTO strings(value) SELECT DISTINCT site FROM origins")
    conn.execute("ALTER TABLE origins RENAME TO origins_text")
    for statement in statements(SCHEMA):
        if "TABLE IF NOT EXISTS origins(" in statement:
            conn.execute(statement)
    moved = conn.execute("INSERT INTO origins SELECT s.id, o.rev_id, o.rev FROM origins_text o "
                         "JOIN strings s ON s.value = o.site").rowcount
    conn.execute("DROP TABLE origins_text")
    return moved


def migrate_revisions(conn: sqlite3.Connection, repack: Callable[[int, bytes], bytes]) -> int:
    """Schema 15: revisions kept whole or as a CBOR map of their fields rewritten in the compact form
    (store/revpack.py) by ``repack(id, data)``; returns how many."""
    done, since = 0, 0
    while True:
        rows = conn.execute("SELECT id, data FROM objects WHERE kind = ? AND id > ? ORDER BY id LIMIT 1000",
                            (KIND_REV, since)).fetchall()
        if not rows:
            return done
        changed = [(repack(oid, data), oid) for oid, data in rows if not data.startswith(b"\x01")]
        conn.executemany("UPDATE objects SET data = ? WHERE id = ?", changed)
        done += len(changed)
        since = rows[-1][0]


def statements(script: str) -> list[str]:
    """The statements of a script, to run one by one inside a transaction.

    (``executescript`` would commit the transaction it runs in.)
    """
    out: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    return out
