"""What a node keeps in its store beside the objects, copied to another store (``wikipeer migrate``).

The objects reach the target through the ingest door (migration.py); this module copies, after them, the
node's own state that a moved node must keep: its peers (addresses, keys, bans, counters, cursors and
the ranges not to send back), the candidates peer exchange learned, leech accounting, the MediaWikis it
follows and what it pushed to them, what it hides, the notices gossip still has to pass on, the requests
waiting for the USB stick, a partial node's pins and read times, how far each wiki's git repository is
built, blocks held waiting for what they need, and a few settings kept in ``meta`` (the text chain,
search switched off per wiki, a dump import's resume point, a MediaWiki's files still to fetch).

Each table of the target is replaced whole by the source's (held blocks are added to the target's), in
one transaction: a second run leaves one copy of each row, never two, and a run that fails leaves the
target's earlier copy as it was.

Object ids and log positions differ between the two stores (the target numbers objects as its door takes
them), so they are translated by CID:

- a column naming an object (a hidden page, a pushed revision, a notice to gossip) gets the target's id
  of the same CID; a row whose object the target lacks is left out (counted in ``skipped``);
- a cursor into this node's log ("the peer has everything up to N") becomes the highest target position
  below which every object came from source positions up to N: never past what the peer was sent, at
  worst a little before it (objects sent again, taken as duplicates);
- a range of this node's log the peer sent us becomes the runs of target positions of its objects.

Positions in a peer's log (pull cursors, ranges on its side) and MediaWiki's own cursors are the other
side's, and copied as they stood when the copy of the objects began (``Pulled``): what the node pulled
while it was copied is pulled again by the target, not skipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice

from wikipeer.store.indexer import OFF_KEY
from wikipeer.model.block import Block
from wikipeer.store.store import Store, Writer, rows_in

BATCH = 5000
COPIED_META = ("chain", OFF_KEY)
"""Settings copied by name; keys starting with COPIED_META_PREFIXES are copied too."""
COPIED_META_PREFIXES = ("import:", "mw-files:")
_HIDDEN_CHANGES = "hidden_changes"  # store/hidden.py's counter: cached pages depend on it


@dataclass(slots=True)
class StateCopied:
    """Rows copied per table, and rows left out because the target lacks the object they name."""

    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pulled:
    """How far the source had taken others' changes when the copy of its objects began. The state copied
    after the objects says no more: a node that goes on serving while it is copied pulls in between, and a
    cursor copied as it then stands would be past objects the copy never got (after ``--switch``, never
    pulled again). Taken again, they are duplicates."""

    peers: dict[str, int]  # url -> pull cursor
    theirs: frozenset[tuple[str, str, int, int]]  # ranges of peers' logs they sent
    mediawikis: dict[str, tuple[str | None, str | None]]  # url -> (rev_cursor, log_cursor)


def pulled(source: Store) -> Pulled:
    """The source's pull cursors now (``migrate`` asks before it copies the objects)."""
    conn = source.conn
    return Pulled(dict(conn.execute("SELECT url, pull_cursor FROM peers")),
                  frozenset(conn.execute("SELECT url, side, first, last FROM peer_ranges WHERE side != 'ours'")),
                  {url: (rev, log) for url, rev, log in conn.execute("SELECT url, rev_cursor, log_cursor FROM mw_peers")})


def copy_node_state(source: Store, target: Store, before: Pulled | None = None) -> StateCopied:
    """Replace ``target``'s node state (everything but objects, indexes and caches) with ``source``'s,
    object ids and log positions translated, pull cursors no further than ``before`` (default: now); the
    target must hold the source's objects already."""
    before = before or pulled(source)
    ids = IdMap(source, target)
    ids.cursors(_log_positions(source))  # one walk of the log for all of them, before the write lock is taken
    report = StateCopied()
    with target.write() as writer:
        conn = writer.conn
        for copy in (partial(_peers, before=before), _candidates, partial(_mediawikis, before=before), _hidden,
                     _queues, _git, _meta):
            copy(source, conn, ids, report)
        _held(source, writer, report)
    return report


class IdMap:
    """Source object ids and log positions as the target's."""

    def __init__(self, source: Store, target: Store) -> None:
        self.source, self.target = source, target
        self._cursors: dict[int, int] = {}

    def objects(self, source_ids: Iterable[int]) -> dict[int, int]:
        """The target's id of each source object it holds."""
        cids = dict(rows_in(self.source.conn, "SELECT id, cid FROM objects WHERE id IN ({marks})",
                            sorted(set(source_ids))))
        there = self._target_ids(list(cids.values()))
        return {sid: there[cid] for sid, cid in cids.items() if cid in there}

    def _target_ids(self, cids: list[bytes]) -> dict[bytes, int]:
        wanted = set(cids)
        rows = rows_in(self.target.conn, "SELECT cid, id FROM objects WHERE substr(cid, 5, 8) IN ({marks})",
                       [c[4:12] for c in cids])
        return {cid: oid for cid, oid in rows if cid in wanted}

    def cursors(self, positions: Iterable[int]) -> dict[int, int]:
        """Each source log position N as the highest target position P such that every target object up to P
        is the copy of a source object at or before N (so a peer that had our log up to N has the target's up
        to P). One walk of the source's log backwards, down to the lowest position asked and not known yet."""
        asked = set(positions)
        out = {p: self._cursors[p] for p in asked if p in self._cursors}
        asked -= set(out)
        out |= {p: 0 for p in asked if p <= 0}
        todo = sorted((p for p in asked if p > 0), reverse=True)
        lowest = self.target.last_seq() + 1  # the lowest target id of the source objects walked so far
        below = None
        while todo:
            rows = self.source.conn.execute(
                "SELECT id, cid FROM objects WHERE id < ? ORDER BY id DESC LIMIT ?",
                (below if below is not None else self.source.last_seq() + 1, BATCH)).fetchall()
            if not rows:
                break
            there = self._target_ids([cid for _, cid in rows])
            for sid, cid in rows:
                while todo and sid <= todo[0]:
                    out[todo.pop(0)] = lowest - 1
                lowest = min(lowest, there.get(cid, lowest))
            below = rows[-1][0]
        out.update({p: lowest - 1 for p in todo})
        self._cursors.update(out)
        return out

    def runs(self, first: int, last: int) -> list[tuple[int, int]]:
        """The source log's positions first..last as runs of consecutive target positions."""
        found: list[int] = []
        since = first - 1
        while True:
            rows = self.source.conn.execute("SELECT id, cid FROM objects WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                                            (since, last, BATCH)).fetchall()
            if not rows:
                break
            found.extend(self._target_ids([cid for _, cid in rows]).values())
            since = rows[-1][0]
        return list(_runs(sorted(found)))


def _log_positions(source: Store) -> set[int]:
    """Every position of the source's log its state names: push cursors, git's built positions."""
    return {row[0] for sql in ("SELECT push_cursor FROM peers", "SELECT push_cursor FROM mw_peers",
                               "SELECT built_to FROM git_state") for row in source.conn.execute(sql)}


def _runs(numbers: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted numbers as (first, last) runs of consecutive ones."""
    start = prev = None
    for n in numbers:
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            yield start, prev
        start = prev = n
    if start is not None:
        yield start, prev


Change = Callable[[list[tuple]], list[tuple]]


def _copy(source: Store, conn: sqlite3.Connection, table: str, columns: tuple[str, ...], order: str,
          report: StateCopied, change: Change | None = None, into: tuple[str, ...] | None = None) -> None:
    """The target's ``table`` emptied and filled with the source's rows, read and written BATCH at a time (a
    table such as git_commits has a row per revision), each batch passed through ``change``; ``into``: the
    target's columns when ``change`` leaves some out."""
    into = into or columns
    insert = f"INSERT INTO {table}({', '.join(into)}) VALUES ({', '.join('?' * len(into))})"
    conn.execute(f"DELETE FROM {table}")
    rows = iter(source.conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"))
    copied = 0
    while batch := list(islice(rows, BATCH)):
        batch = change(batch) if change else batch
        if batch:
            conn.executemany(insert, batch)
        copied += len(batch)
    report.rows[table] = copied


def _objects(at: tuple[int, ...], ids: IdMap, table: str, report: StateCopied) -> Change:
    """Rows with the object ids at columns ``at`` made the target's; rows naming an object the target lacks
    are left out (counted in ``report.skipped``)."""
    def change(rows: list[tuple]) -> list[tuple]:
        mapping = ids.objects(row[i] for row in rows for i in at)
        out = [tuple(mapping[v] if i in at else v for i, v in enumerate(row))
               for row in rows if all(row[i] in mapping for i in at)]
        if len(out) < len(rows):
            report.skipped[table] = report.skipped.get(table, 0) + len(rows) - len(out)
        return out
    return change


def _cursor(at: int, ids: IdMap) -> Change:
    """Rows with the position of this node's log at column ``at`` made a position of the target's."""
    def change(rows: list[tuple]) -> list[tuple]:
        cursors = ids.cursors(row[at] for row in rows)
        return [(*row[:at], cursors[row[at]], *row[at + 1:]) for row in rows]
    return change


# -- the tables -------------------------------------------------------------------------------------------

_PEER = ("url", "key", "added", "banned", "pull_cursor", "push_cursor", "gave", "duplicates", "we_refused",
         "forgeries", "took", "it_refused", "last_sync", "last_error")


def _peers(source: Store, conn: sqlite3.Connection, ids: IdMap, report: StateCopied, before: Pulled) -> None:
    """Peers (push cursors translated, pull cursors as ``before``), the ranges not to send back, and leech
    accounting by caller's key."""
    push, pull = _cursor(_PEER.index("push_cursor"), ids), _PEER.index("pull_cursor")

    def peers(rows: list[tuple]) -> list[tuple]:
        return [(*row[:pull], before.peers.get(row[0], 0), *row[pull + 1:]) for row in push(rows)]
    _copy(source, conn, "peers", _PEER, "url", report, peers)

    def ranges(rows: list[tuple]) -> list[tuple]:
        out = []
        for url, side, first, last in rows:
            if side == "ours":  # positions of our log: the target's runs of the same objects
                out.extend((url, side, lo, hi) for lo, hi in ids.runs(first, last))
            elif (url, side, first, last) in before.theirs:  # positions of the peer's log, taken before
                out.append((url, side, first, last))
        return out
    _copy(source, conn, "peer_ranges", ("url", "side", "first", "last"), "url, side, first", report, ranges)
    _copy(source, conn, "takers", ("key", "served", "given"), "key", report)


def _candidates(source: Store, conn: sqlite3.Connection, ids: IdMap, report: StateCopied) -> None:
    """Peers learned by peer exchange, and when each peer's list was last read."""
    _copy(source, conn, "peer_candidates", ("url", "key", "via", "learned", "verified", "tries", "dead"), "url",
          report)
    _copy(source, conn, "peer_exchanges", ("url", "at"), "url", report)


_MW_PEER = ("url", "wiki", "namespaces", "since", "rev_cursor", "log_cursor", "user", "push_cursor", "secret",
            "rate", "added", "pulled", "last_sync", "last_error")


def _mediawikis(source: Store, conn: sqlite3.Connection, ids: IdMap, report: StateCopied, before: Pulled) -> None:
    """Followed MediaWikis (their cursors are theirs, as ``before``; the push cursor is ours) and what was
    pushed to them."""
    push, rev = _cursor(_MW_PEER.index("push_cursor"), ids), _MW_PEER.index("rev_cursor")  # log_cursor follows

    def mediawikis(rows: list[tuple]) -> list[tuple]:
        return [(*row[:rev], *before.mediawikis.get(row[0], (None, None)), *row[rev + 2:]) for row in push(rows)]
    _copy(source, conn, "mw_peers", _MW_PEER, "url", report, mediawikis)
    _copy(source, conn, "mw_pushed", ("url", "rev", "rev_id", "ts"), "url, rev", report,
          _objects((1,), ids, "mw_pushed", report))
    _copy(source, conn, "mw_refused", ("url", "rev", "code", "info", "at"), "url, rev", report,
          _objects((1,), ids, "mw_refused", report))


def _hidden(source: Store, conn: sqlite3.Connection, ids: IdMap, report: StateCopied) -> None:
    """Hidden pages, revisions and file versions (store/hidden.py), by the target's ids; its cached pages
    are told (the counter they depend on moves)."""
    _copy(source, conn, "hidden_pages", ("page", "since", "reason"), "page", report,
          _objects((0,), ids, "hidden_pages", report))
    _copy(source, conn, "hidden_items", ("item", "page", "reason", "since"), "item", report,
          _objects((0, 1), ids, "hidden_items", report))
    conn.execute(f"INSERT INTO meta VALUES ('{_HIDDEN_CHANGES}', '1') ON CONFLICT(key) DO UPDATE SET "
                 "value = CAST(value AS INTEGER) + 1")


_WANT = ("id", "wiki", "titles", "query", "top", "depth", "created", "done", "files")


def _queues(source: Store, conn: sqlite3.Connection, ids: IdMap, report: StateCopied) -> None:
    """Notices still to gossip, requests waiting for the stick, and a partial node's pins and read times."""
    _copy(source, conn, "gossip", ("id", "range_lo", "range_hi"), "id", report, _objects((0,), ids, "gossip", report))
    # The target numbers wants itself (on PostgreSQL an id given here would not move its sequence on).
    _copy(source, conn, "wants", _WANT, "id", report, lambda rows: [row[1:] for row in rows], into=_WANT[1:])
    _copy(source, conn, "local_pages", ("page", "last_read", "pinned", "fetched"), "page", report,
          _objects((0,), ids, "local_pages", report))


def _git(source: Store, conn: sqlite3.Connection, ids: IdMap, report: StateCopied) -> None:
    """git as a peer (store/gitmap.py): commits by revision CID as they are; how far each wiki is built and
    the heads its view commit holds, translated (so the repository in the node's folder goes on from there)."""
    _copy(source, conn, "git_commits", ("rev_cid", "commit_id"), "rev_cid", report)
    _copy(source, conn, "git_state", ("wiki", "built_to", "main", "view"), "wiki", report, _cursor(1, ids))
    _copy(source, conn, "git_shown", ("page", "rev", "forks"), "page", report,
          _objects((0, 1), ids, "git_shown", report))


def _meta(source: Store, conn: sqlite3.Connection, ids: IdMap, report: StateCopied) -> None:
    """The settings and resume points kept in ``meta`` (not the target's own: schema, blobs, search version)."""
    rows = [(key, value) for key, value in source.conn.execute("SELECT key, value FROM meta ORDER BY key")
            if key in COPIED_META or key.startswith(COPIED_META_PREFIXES)]
    for key, value in rows:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        conn.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
    report.rows["meta"] = len(rows)


def _held(source: Store, writer: Writer, report: StateCopied) -> None:
    """Blocks held waiting for something that has not come, with their sender and time: the pull cursors
    copied above are past them, so their peers would not send them again. Added, not replaced (a block the
    target holds already keeps its first sender and time, as the door's ``hold`` does); they enter the
    target's objects only through its door, checked again, when what they wait for arrives."""
    rows = iter(source.conn.execute("SELECT cid, data, waiting, source, held_at FROM held ORDER BY cid"))
    copied = 0
    while batch := list(islice(rows, BATCH)):
        for cid, data, waiting, sender, held_at in batch:
            writer.hold(Block(cid, data), waiting, sender, held_at)
        copied += len(batch)
    report.rows["held"] = copied
