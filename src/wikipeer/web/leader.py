"""Which of a node's serving processes runs its background work: the one holding the store's lead.

The search indexer, gossip and the sync loop must run once per store, not
once per worker or per machine: two indexers would do the same work twice and
fight for the write lock. Every serving process asks for the lead
(store/leadership.py: a lock file beside a SQLite store, an advisory lock in a
PostgreSQL one); the one that gets it runs the loops, the others ask again
every ``RETRY_SECONDS``, so when the leader dies (its lock goes with it)
another process takes the work over. The leader checks its lock as often: a
PostgreSQL lock whose connection broke while the process lived is lost (another
process may hold it now), so the leader stops its loops and asks again, as the
others do (docs/scale-workers.md).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from wikipeer.errors import WikipeerError
from wikipeer.store.leadership import Lead, take_lead
from wikipeer.store.store import Store

RETRY_SECONDS = 1.0


def lead_when_elected(store: Store, stop: threading.Event,
                      start: Callable[[threading.Event], None]) -> threading.Thread:
    """A thread that calls ``start(ended)`` each time this process takes the store's lead (at once, if no one
    else holds it). ``ended`` is set when the lead is lost or ``stop`` is set: the loops ``start`` began end
    with it. A database that cannot be reached is said once and asked again, as a lead held elsewhere is.
    """
    def elect() -> None:
        said = False
        while not stop.is_set():
            try:
                lead = take_lead(store)
            except WikipeerError as exc:
                lead = None
                if not said:
                    print(f"wikipeer: background work waits: {exc}", file=sys.stderr)
                    said = True
            try:
                if lead is not None and not _lead(lead, stop, start):
                    # Lost, not let go: another candidate gets the first turn (its connection just broke).
                    stop.wait(RETRY_SECONDS)
            except Exception as exc:  # loops that failed to start: let the lead go and ask again, never die
                print(f"wikipeer: background work failed to start: {exc}", file=sys.stderr)
            stop.wait(RETRY_SECONDS)

    thread = threading.Thread(target=elect, daemon=True, name="leader")
    thread.start()
    return thread


def _lead(lead: Lead, stop: threading.Event, start: Callable[[threading.Event], None]) -> bool:
    """Run ``start``'s loops while ``lead`` is held and ``stop`` is not set; then end them and let the lead go.
    False when the lead was lost."""
    ended = threading.Event()
    try:
        start(ended)
        while not stop.wait(RETRY_SECONDS):
            if not lead.held():
                print("wikipeer: lost the lead over the store (its lock's connection broke): background work "
                      "stops here and waits for the lead again", file=sys.stderr)
                return False
        return True
    finally:
        ended.set()
        lead.close()
