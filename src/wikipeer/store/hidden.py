"""Pages, revisions and file versions hidden from this node's views while their signed history stays.

A page deleted on the MediaWiki it came from is hidden here (mediawiki/follow.py):
its revisions and signatures are kept (an operator may purge them; nothing
is forged or lost), but reading, searching and listing pass it by. The record
holds when the page was deleted: a head newer than that (the page made again,
here or there) shows the page again, whatever order the deletion and the new
revision arrived in.

One revision or one file version is hidden the same way (``hide_item``):
revision deletion or suppression on MediaWiki, or an operator's ``wikipeer
hide``. The page stays; the hidden revision's text and the hidden version's
bytes are shown to no one, its place in the history shows it was hidden, and
backups send it only to private targets.
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


def changes(store: Store) -> int:
    """How many times what is hidden has changed: what a cached page depends on beyond the store's log
    (a hide adds no block, and may come from another process: `wikipeer hide` while the node serves)."""
    return int(store.followed_meta(_CHANGES) or 0)


def _changed(store: Store) -> None:
    store.conn.execute(f"INSERT INTO meta VALUES ('{_CHANGES}', '1') ON CONFLICT(key) DO UPDATE SET "
                       "value = CAST(value AS INTEGER) + 1")
    store.announce_change()


_CHANGES = "hidden_changes"


def hide(store: Store, page_id: int, since: int, reason: str) -> None:
    """Hide a page as of ``since``; a later deletion moves the time on, an earlier one is ignored."""
    with store.conn:
        store.conn.execute(
            "INSERT INTO hidden_pages VALUES (?, ?, ?) ON CONFLICT(page) DO UPDATE SET since = excluded.since, "
            "reason = excluded.reason WHERE excluded.since >= hidden_pages.since", (page_id, since, reason[:1000]))
        _changed(store)


def unhide(store: Store, page_id: int) -> None:
    """Show a page again (restored where it was deleted)."""
    with store.conn:
        store.conn.execute("DELETE FROM hidden_pages WHERE page = ?", (page_id,))
        _changed(store)


@dataclass(slots=True)
class HiddenItem:
    """One hidden revision or file version: its object id, its page, why and since when."""

    item: int
    page: int
    reason: str
    since: int


def hide_item(store: Store, item_id: int, page_id: int, since: int, reason: str) -> None:
    """Hide one revision or file version (by object id); hiding it again updates the reason."""
    with store.conn:
        store.conn.execute("INSERT INTO hidden_items VALUES (?, ?, ?, ?) ON CONFLICT(item) DO UPDATE SET "
                           "reason = excluded.reason, since = excluded.since", (item_id, page_id, reason[:1000], since))
        _changed(store)


def unhide_item(store: Store, item_id: int) -> bool:
    """Show a revision or file version again; False if it was not hidden."""
    with store.conn:
        gone = store.conn.execute("DELETE FROM hidden_items WHERE item = ?", (item_id,)).rowcount > 0
        _changed(store)
        return gone


def hidden_items(store: Store, page_id: int) -> dict[int, HiddenItem]:
    """The page's hidden revisions and file versions, by object id."""
    rows = store.conn.execute("SELECT item, page, reason, since FROM hidden_items WHERE page = ?", (page_id,))
    return {r[0]: HiddenItem(*r) for r in rows}


def is_hidden_item(store: Store, item_id: int) -> bool:
    """True when this one revision or file version is hidden."""
    return store.conn.execute("SELECT 1 FROM hidden_items WHERE item = ?", (item_id,)).fetchone() is not None


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
    """CIDs of every object that belongs only to what is hidden now: a hidden page, its revisions and
    file versions; a hidden revision or file version of a shown page; the signatures over them, and
    texts and chunks nothing shown uses as well."""
    pages = hidden_pages(store)
    items = store.conn.execute("SELECT 1 FROM hidden_items LIMIT 1").fetchone() is not None
    if not pages and not items:
        return set()
    conn = store.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS hidden_now(page INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM hidden_now")
    conn.executemany("INSERT INTO hidden_now VALUES (?)", [(p,) for p in pages])
    # A revision or file version is hidden with its page or on its own (hidden_items).
    hidden_revs = "(SELECT id FROM revisions WHERE page IN hidden_now OR id IN (SELECT item FROM hidden_items))"
    owned = (f"SELECT page FROM hidden_now UNION ALL SELECT id FROM revisions WHERE id IN {hidden_revs} "
             "UNION ALL SELECT id FROM files WHERE page IN hidden_now OR id IN (SELECT item FROM hidden_items)")
    shared = (f"SELECT r.text FROM revisions r WHERE r.id IN {hidden_revs} AND r.text NOT IN "
              f"(SELECT text FROM revisions WHERE id NOT IN {hidden_revs})")
    ids = [r[0] for r in conn.execute(f"{owned} UNION ALL {shared} UNION ALL "
                                      f"SELECT sig FROM sigs WHERE target IN ({owned})")]
    cids = {r[0] for r in rows_in(conn, "SELECT cid FROM objects WHERE id IN ({marks})", ids)}
    cids |= _hidden_chunks(store)
    conn.execute("DELETE FROM hidden_now")
    return cids


def _hidden_chunks(store: Store) -> set[bytes]:
    """Chunks of hidden file versions (their page's or their own) that no shown file version uses."""
    hidden, shown = set(), set()
    rows = store.conn.execute("SELECT f.page IN hidden_now OR f.id IN (SELECT item FROM hidden_items), o.data "
                              "FROM files f JOIN objects o ON o.id = f.id")
    for page, data in rows:
        (hidden if page else shown).update(libipld.decode_dag_cbor(data)["chunks"])
    return hidden - shown
