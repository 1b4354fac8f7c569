"""The search index as derived data, built behind the writers (issue 15, item 2).

Ingest only marks the pages it touched, in ``index_pending`` and in the
same transaction as the data, so a mark exists exactly when the data does.
The indexer takes the marks a batch at a time: in one transaction it
indexes each marked page's shown head (store/search.py) and clears that
page's mark. A process killed at any moment leaves either the whole batch
done or the marks still there, and the next run does what they name: the
index then equals a full rebuild's. Readers go on meanwhile (WAL), and
what the index lags behind is the number of marks (``lag``).

A wiki can have search turned off (``set_search``): its pages are then
removed from the index, and searches of it are refused with a message
that names the setting.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from wikipeer.errors import NotFound, UserError
from wikipeer.model.title import WikiConfig

if TYPE_CHECKING:
    from wikipeer.store.store import Store, Writer

BATCH_PAGES = 100
"""Pages per transaction: a batch commits in well under a second on the real samples, so edits and
other writers wait little for the indexer, and a kill loses at most one batch of work."""
SEARCH_CATCH_UP = 100
"""A search first indexes what waits when no more than this many pages wait (one batch): edits made a
moment ago are found, and a search never does a long catch-up (it reports the lag instead)."""
SEARCH_WAIT_MS = 200
"""How long that catch-up waits for another writer before the search goes on with the index as it is."""
IDLE_SECONDS = 0.5
"""How often an idle indexer (``follow``) looks for new marks."""
OFF_KEY = "search_off"


class SearchOff(UserError):
    """Search is turned off for a wiki on this node (a setting, not a fault)."""

    def __init__(self, wikis: list[str]) -> None:
        names = ", ".join(wikis)
        super().__init__(f"search is turned off for {'wiki' if len(wikis) == 1 else 'wikis'} {names} on this node "
                         f"(turn it on with 'wikipeer index --on {wikis[0]}')")
        self.wikis = wikis


def lag(store: Store) -> int:
    """How many pages wait to be indexed (0: the index is up to date)."""
    return store.conn.execute("SELECT count(*) FROM index_pending").fetchone()[0]


def lag_at_most(store: Store, bound: int) -> int | None:
    """The lag if it is at most ``bound`` (cheap on a long backlog: it stops counting), else None."""
    count = store.conn.execute("SELECT count(*) FROM (SELECT 1 FROM index_pending LIMIT ?)",
                               (bound + 1,)).fetchone()[0]
    return count if count <= bound else None


def reported_lag(store: Store) -> int:
    """The lag a search reports: 0 when it is no more than a search catches up by itself.

    Such a lag is gone within moments (the search, or a server's indexer, takes it), so a search answer
    does not change with every edit made elsewhere on the node meanwhile.
    """
    return 0 if lag_at_most(store, SEARCH_CATCH_UP) is not None else lag(store)


def mark(writer: Writer, pages: set[int] | list[int]) -> None:
    """Record, in the writer's transaction, that these pages' index entries are out of date."""
    writer.conn.executemany("INSERT OR IGNORE INTO index_pending VALUES (?)", [(p,) for p in pages])


def index_batch(store: Store, trusted: frozenset[str], batch: int = BATCH_PAGES) -> int:
    """Index up to ``batch`` marked pages in one transaction and clear their marks; returns how many."""
    with store.write() as writer:
        # Read inside the transaction: no writer can mark or change these pages until it commits.
        pages = [p for (p,) in writer.conn.execute("SELECT page FROM index_pending ORDER BY page LIMIT ?", (batch,))]
        if pages:
            reindex(store, writer, pages, trusted)
            writer.conn.executemany("DELETE FROM index_pending WHERE page = ?", [(p,) for p in pages])
    return len(pages)


def reindex(store: Store, writer: Writer, pages: list[int], trusted: frozenset[str]) -> None:
    """Put each page's shown head (under a view trusting ``trusted``) into the index, or take the page out
    of it when search is off for its wiki."""
    off = search_off(store)
    configs: dict[str, WikiConfig] = {}
    shown = store.shown_head_ids(trusted, pages)  # one query per 500 pages; only ids are needed
    for page_id in pages:
        try:
            page = store.page_by_id(page_id)
        except NotFound:  # evicted from a partial node's cache since it was marked: nothing to index
            continue
        head_id = shown.get(page_id)
        if page.wiki in off or head_id is None:
            writer.unindex_page(page_id)
            continue
        if page.wiki not in configs:
            configs[page.wiki] = store.wiki_config(page.wiki) or WikiConfig(page.wiki)
        writer.index_page(page_id, configs[page.wiki].full_title(page.ns, page.title), head_id)


def catch_up(store: Store, trusted: Callable[[], frozenset[str]], progress: Callable[[int], None] | None = None,
             stop: threading.Event | None = None, limit: int | None = None) -> int:
    """Index marked pages a batch per transaction until none is left (or ``limit`` pages, or ``stop``).

    ``trusted`` is asked before each batch: a key trusted meanwhile counts from the next batch on.
    ``progress`` gets the pages done so far after each batch. Returns how many pages were indexed.
    """
    done = 0
    while (limit is None or done < limit) and not (stop is not None and stop.is_set()):
        size = BATCH_PAGES if limit is None else min(BATCH_PAGES, limit - done)
        count = index_batch(store, trusted(), size)
        if not count:
            break
        done += count
        if progress is not None:
            progress(done)
    return done


def catch_up_before_search(store: Store, trusted: Callable[[], frozenset[str]]) -> None:
    """Index what waits if it is little (SEARCH_CATCH_UP), waiting at most SEARCH_WAIT_MS for another writer.

    A search must not stall behind an import holding the write lock: it then answers from the index as
    it is, and the caller reports the lag.
    """
    pending = lag_at_most(store, SEARCH_CATCH_UP)
    if not pending:
        return
    with _busy_timeout(store.conn, SEARCH_WAIT_MS):
        try:
            index_batch(store, trusted(), SEARCH_CATCH_UP)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise


@contextmanager
def _busy_timeout(conn: sqlite3.Connection, ms: int) -> Iterator[None]:
    before = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout = {int(ms)}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(before)}")


def follow(store: Store, trusted: Callable[[], frozenset[str]], stop: threading.Event,
           warn: Callable[[str], None] | None = None, idle: float = IDLE_SECONDS) -> None:
    """Keep the index caught up until ``stop`` is set: a server's (or ``wikipeer index --wait``'s) indexer.

    An error in one round (a full disk, say) is reported and the round tried again later: nothing of a
    failed batch was kept, its marks still name its pages.
    """
    while not stop.is_set():
        try:
            catch_up(store, trusted, stop=stop)
        except Exception as exc:  # noqa: BLE001 - a background thread must report and go on, not die
            if warn is not None:
                warn(f"search indexer: {exc}; trying again")
            stop.wait(max(idle, 5.0))
            continue
        stop.wait(idle)


# -- search off per wiki -------------------------------------------------------------


def search_off(store: Store) -> frozenset[str]:
    """The wikis whose pages this node does not index."""
    raw = store.meta(OFF_KEY)
    return frozenset(json.loads(raw)) if raw else frozenset()


def set_search(store: Store, wiki: str, on: bool) -> int:
    """Turn search on or off for ``wiki``; its pages are marked, so the indexer adds or removes them.

    Returns how many pages were marked.
    """
    with store.write() as writer:
        off = set(search_off(store))
        (off.discard if on else off.add)(wiki)
        writer.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (OFF_KEY, json.dumps(sorted(off))))
        return writer.conn.execute("INSERT OR IGNORE INTO index_pending SELECT id FROM pages WHERE wiki = ?",
                                   (wiki,)).rowcount

