"""Pages hidden from this node's views while their signed history stays.

A page deleted on the MediaWiki it came from is hidden here (mediawiki/follow.py):
its revisions and signatures are kept (an operator may purge them; nothing
is forged or lost), but reading, searching and listing pass it by. The record
holds when the page was deleted: a head newer than that (the page made again,
here or there) shows the page again, whatever order the deletion and the new
revision arrived in.
"""

from __future__ import annotations

from dataclasses import dataclass

import libipld

from wikipeer.store.store import Store, rows_in


@dataclass(slots=True)
class Hidden:
    """Why and since when (milliseconds since 1970) a page is hidden."""

    page: int
    since: int
    reason: str


def hide(store: Store, page_id: int, since: int, reason: str) -> None:
    """Hide a page as of ``since``; a later deletion moves the time on, an earlier one is ignored."""
    with store.conn:
        store.conn.execute(
            "INSERT INTO hidden_pages VALUES (?, ?, ?) ON CONFLICT(page) DO UPDATE SET since = excluded.since, "
            "reason = excluded.reason WHERE excluded.since >= hidden_pages.since", (page_id, since, reason[:1000]))


def unhide(store: Store, page_id: int) -> None:
    """Show a page again (restored where it was deleted)."""
    with store.conn:
        store.conn.execute("DELETE FROM hidden_pages WHERE page = ?", (page_id,))


_STILL_HIDDEN = ("NOT EXISTS (SELECT 1 FROM heads h JOIN revisions r ON r.id = h.rev "
                 "WHERE h.page = x.page AND r.ts > x.since)")


def hidden(store: Store, page_id: int) -> Hidden | None:
    """The page's record if it is hidden now (no head is newer than its deletion)."""
    row = store.conn.execute(f"SELECT page, since, reason FROM hidden_pages x WHERE page = ? AND {_STILL_HIDDEN}",
                             (page_id,)).fetchone()
    return Hidden(*row) if row else None


def hidden_pages(store: Store) -> set[int]:
    """The ids of every page hidden now."""
    return {r[0] for r in store.conn.execute(f"SELECT page FROM hidden_pages x WHERE {_STILL_HIDDEN}")}


def hidden_cids(store: Store) -> set[bytes]:
    """CIDs of every object that belongs only to pages hidden now: the page, its revisions and file
    versions, the signatures over them, and texts and chunks no shown page uses as well."""
    pages = hidden_pages(store)
    if not pages:
        return set()
    conn = store.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS hidden_now(page INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM hidden_now")
    conn.executemany("INSERT INTO hidden_now VALUES (?)", [(p,) for p in pages])
    owned = ("SELECT page FROM hidden_now UNION ALL SELECT id FROM revisions WHERE page IN hidden_now "
             "UNION ALL SELECT id FROM files WHERE page IN hidden_now")
    shared = ("SELECT r.text FROM revisions r WHERE r.page IN hidden_now AND r.text NOT IN "
              "(SELECT text FROM revisions WHERE page NOT IN hidden_now)")
    ids = [r[0] for r in conn.execute(f"{owned} UNION ALL {shared} UNION ALL "
                                      f"SELECT sig FROM sigs WHERE target IN ({owned})")]
    cids = {r[0] for r in rows_in(conn, "SELECT cid FROM objects WHERE id IN ({marks})", ids)}
    cids |= _hidden_chunks(store)
    conn.execute("DELETE FROM hidden_now")
    return cids


def _hidden_chunks(store: Store) -> set[bytes]:
    """Chunks of hidden pages' file versions that no shown file version uses."""
    hidden, shown = set(), set()
    for page, data in store.conn.execute("SELECT f.page IN hidden_now, o.data FROM files f JOIN objects o ON o.id = f.id"):
        (hidden if page else shown).update(libipld.decode_dag_cbor(data)["chunks"])
    return hidden - shown
