"""Lists of pages and revisions as MediaWiki's API walks them: by title, by time, with a cursor.

Each function asks one range query on an index (pages by (wiki, ns, title),
revisions by (page, ts) or by (ts, id)), so a page of a long list costs the
same as the first one. Cursors are positions, never offsets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from wikipeer.store import revpack
from wikipeer.store.records import PageRow, RevInfo
from wikipeer.store.store import Store


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Revisions between two times (ms, inclusive, None: open), in one direction, after a cursor (ts, id)."""

    newer: bool = False
    start: int | None = None
    end: int | None = None
    cursor: tuple[int, int] | None = None


def _time_where(span: TimeRange, column: str = "r.ts", id_column: str = "r.id") -> tuple[list[str], list]:
    op = ">" if span.newer else "<"
    low, high = (span.start, span.end) if span.newer else (span.end, span.start)
    where, args = [], []
    if low is not None:
        where.append(f"{column} >= ?")
        args.append(low)
    if high is not None:
        where.append(f"{column} <= ?")
        args.append(high)
    if span.cursor is not None:
        where.append(f"({column}, {id_column}) {op}= (?, ?)")
        args += list(span.cursor)
    return where, args


def page_revisions(store: Store, page_id: int, span: TimeRange, limit: int) -> list[int]:
    """Ids of a page's revisions in ``span``, at most ``limit``; the cursor's revision is included."""
    where, args = _time_where(span)
    order = "ASC" if span.newer else "DESC"
    sql = " AND ".join(["r.page = ?", *where])
    return [r[0] for r in store.conn.execute(
        f"SELECT r.id FROM revisions r WHERE {sql} ORDER BY r.ts {order}, r.id {order} LIMIT ?",
        (page_id, *args, limit))]


def _wiki_where(wiki: str, span: TimeRange, namespaces: list[int] | None) -> tuple[list[str], list]:
    where, args = _time_where(span)
    where.append("p.wiki = ?")
    args.append(wiki)
    if namespaces:
        where.append(f"p.ns IN ({','.join('?' * len(namespaces))})")
        args += namespaces
    return where, args


def wiki_revisions(store: Store, wiki: str, span: TimeRange, limit: int,
                   namespaces: list[int] | None = None) -> list[int]:
    """Ids of a wiki's revisions in ``span`` (optionally in some namespaces), by time, at most ``limit``."""
    where, args = _wiki_where(wiki, span, namespaces)
    order = "ASC" if span.newer else "DESC"
    return [r[0] for r in store.conn.execute(
        # CROSS JOIN: walk revisions in time order on their index and stop at the limit, rather than
        # gathering every revision of the wiki to sort them.
        f"SELECT r.id FROM revisions r CROSS JOIN pages p ON p.id = r.page WHERE {' AND '.join(where)} "
        f"ORDER BY r.ts {order}, r.id {order} LIMIT ?", (*args, limit))]


def pages_by_title(store: Store, wiki: str, ns: int, limit: int, start: str | None = None,
                   end: str | None = None, prefix: str | None = None, descending: bool = False) -> list[PageRow]:
    """A namespace's pages in MediaWiki's title order (titles with underscores, compared bytewise) from
    ``start`` (inclusive) to ``end``, with ``prefix``; the three are given with spaces or underscores."""
    key = "replace(p.title, ' ', '_')"
    where, args = ["p.wiki = ?", "p.ns = ?"], [wiki, ns]
    low, high = (end, start) if descending else (start, end)
    if low is not None:
        where.append(f"{key} >= ?")
        args.append(low.replace(" ", "_"))
    if high is not None:
        where.append(f"{key} <= ?")
        args.append(high.replace(" ", "_"))
    if prefix:
        where.append(f"substr({key}, 1, ?) = ?")
        args += [len(prefix), prefix.replace(" ", "_")]
    order = "DESC" if descending else "ASC"
    rows = store.conn.execute(
        f"SELECT p.id, o.cid, p.wiki, p.ns, p.title FROM pages p JOIN objects o ON o.id = p.id "
        f"WHERE {' AND '.join(where)} ORDER BY {key} {order} LIMIT ?", (*args, limit))
    return [PageRow(*r) for r in rows]


def revision_pages(store: Store, rev_ids: list[int]) -> dict[int, int]:
    """The page of each of these revision ids that the store holds."""
    marks = ",".join("?" * len(rev_ids)) or "NULL"
    return dict(store.conn.execute(f"SELECT id, page FROM revisions WHERE id IN ({marks})", rev_ids))


def holds_wiki(store: Store, wiki: str) -> bool:
    """Whether the store has a configuration or a page of ``wiki`` (two index lookups, not a list of wikis)."""
    return bool(store.conn.execute("SELECT EXISTS (SELECT 1 FROM wikis WHERE name = ?1) "
                                   "OR EXISTS (SELECT 1 FROM pages WHERE wiki = ?1)", (wiki,)).fetchone()[0])


def revision_page_ts(store: Store, rev_id: int) -> tuple[int, int] | None:
    """The page and timestamp of the revision ``rev_id``, or None when it is not a revision held."""
    row = store.conn.execute("SELECT page, ts FROM revisions WHERE id = ?", (rev_id,)).fetchone()
    return (row[0], row[1]) if row else None


def revisions_after(store: Store, position: int) -> int:
    """How many revisions arrived after log position ``position``."""
    return store.conn.execute("SELECT count(*) FROM revisions WHERE id > ?", (position,)).fetchone()[0]


def revision_count(store: Store, page_id: int) -> int:
    return store.conn.execute("SELECT count(*) FROM revisions WHERE page = ?", (page_id,)).fetchone()[0]


def first_revision(store: Store, page_id: int) -> int | None:
    """The id of the page's oldest revision."""
    row = store.conn.execute("SELECT id FROM revisions WHERE page = ? ORDER BY ts, id LIMIT 1", (page_id,)).fetchone()
    return row[0] if row else None


def text_sha1(store: Store, rev_id: int) -> bytes:
    """MediaWiki's SHA-1 of a revision's text, stored when the text arrived."""
    row = store.conn.execute("SELECT s.sha1 FROM revisions r JOIN text_sha1 s ON s.text = r.text WHERE r.id = ?",
                             (rev_id,)).fetchone()
    if row is not None:
        return row[0]
    # Only a text stored by a program that bypassed the writer lacks one; answer it all the same.
    text_id = store.conn.execute("SELECT text FROM revisions WHERE id = ?", (rev_id,)).fetchone()[0]
    return hashlib.sha1(store.text_bytes(text_id)).digest()


@dataclass(frozen=True, slots=True)
class ParentInfo:
    """A revision's first parent as lists of changes show it: its id and size."""

    id: int
    size: int


_REV_ROW = ("SELECT r.id, o.cid, r.page, r.ts, r.size, o.data, t.cid FROM revisions r {join}"
            "JOIN objects o ON o.id = r.id JOIN objects t ON t.id = r.text WHERE {where}")


def revisions_by_ids(store: Store, rev_ids: list[int]) -> list[RevInfo]:
    """Revisions in the order of ``rev_ids``, read in a few queries (not a few per revision).

    For lists of many revisions: their signatures are not read (``sigs`` is empty).
    """
    if not rev_ids:
        return []
    rows = {row[0]: row for row in _fetch(store, _REV_ROW.format(join="", where="r.id IN ({marks})"), rev_ids)}
    return _rev_infos(store, [rows[rev_id] for rev_id in rev_ids])


def wiki_revision_infos(store: Store, wiki: str, span: TimeRange, limit: int,
                        namespaces: list[int] | None = None) -> list[RevInfo]:
    """What ``revisions_by_ids(wiki_revisions(...))`` gives, the rows read by the range query itself
    (one query fewer, and no list of ids sent back); without signatures."""
    where, args = _wiki_where(wiki, span, namespaces)
    order = "ASC" if span.newer else "DESC"
    rows = store.conn.execute(
        _REV_ROW.format(join="CROSS JOIN pages p ON p.id = r.page ", where=" AND ".join(where))
        + f" ORDER BY r.ts {order}, r.id {order} LIMIT ?", (*args, limit)).fetchall()
    return _rev_infos(store, rows)


def _rev_infos(store: Store, rows: list[tuple]) -> list[RevInfo]:
    """RevInfos of revision rows (id, cid, page, ts, size, data, text cid), their parents read in one query."""
    if not rows:
        return []
    ids = [row[0] for row in rows]
    parents: dict[int, list[tuple[int, bytes]]] = {}
    linked = _fetch(store, "SELECT x.child, x.pos, o.cid FROM parents x JOIN objects o ON o.id = x.parent "
                           "WHERE x.child IN ({marks}) UNION ALL "
                           "SELECT child, pos, cid FROM shallow WHERE child IN ({marks})", ids, twice=True)
    for child, pos, cid in linked:
        parents.setdefault(child, []).append((pos, cid))
    out = []
    for oid, cid, page, ts, size, data, text in rows:
        obj = revpack.unpack(data, ts, size, store.unpacker(oid))
        author = obj.get("author")
        held = parents.get(oid)
        if held is None:
            links: tuple[bytes, ...] = ()
        else:
            links = (held[0][1],) if len(held) == 1 else tuple(c for _, c in sorted(held))
        # Positional: lists build hundreds of these, and keywords cost a third of the call.
        out.append(RevInfo(oid, cid, page, links, text, ts, size, obj.get("comment", ""), obj["model"],
                           obj.get("format"), author, obj.get("minor", False), obj.get("origin", {})))
    return out


def _fetch(store: Store, sql: str, values: list, per_query: int = 500, twice: bool = False) -> list[tuple]:
    """The rows of ``sql`` whose ``{marks}`` stands for ``values``, a few hundred values a query, as one list
    (fetched whole: these lists are read row by row in the API's hot paths). ``twice``: ``sql`` has two
    ``{marks}`` (a UNION), each given the values."""
    rows: list[tuple] = []
    for start in range(0, len(values), per_query):
        chunk = values[start:start + per_query]
        marks = ",".join("?" * len(chunk))
        rows += store.conn.execute(sql.format(marks=marks), chunk * 2 if twice else chunk).fetchall()
    return rows


def first_parents(store: Store, rev_ids: list[int]) -> dict[int, ParentInfo]:
    """The first parent held of each of these revisions, by the child's id."""
    return {child: ParentInfo(parent, size) for child, parent, size in _fetch(store, (
        "SELECT x.child, x.parent, r.size FROM parents x JOIN revisions r ON r.id = x.parent "
        "WHERE x.pos = 0 AND x.child IN ({marks})"), rev_ids)}


def head_origins(store: Store, page_ids: list[int]) -> dict[int, list[dict]]:
    """The ``origin`` of every head of these pages, by page id: one query, no other field decoded."""
    out: dict[int, list[dict]] = {}
    rows = _fetch(store, "SELECT h.page, o.data, h.rev FROM heads h JOIN objects o ON o.id = h.rev "
                         "WHERE h.page IN ({marks})", page_ids)
    for page, data, rev in rows:
        obj = revpack.unpack(data, 0, 0, store.unpacker(rev))
        out.setdefault(page, []).append(obj.get("origin", {}))
    return out


def pages_by_ids(store: Store, page_ids: list[int]) -> dict[int, PageRow]:
    return {r[0]: PageRow(*r) for r in _fetch(store, (
        "SELECT p.id, o.cid, p.wiki, p.ns, p.title FROM pages p JOIN objects o ON o.id = p.id "
        "WHERE p.id IN ({marks})"), list(dict.fromkeys(page_ids)))}
