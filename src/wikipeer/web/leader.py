"""Which of a node's serving processes runs its background work: the one holding the store's lead.

The search indexer, gossip and the sync loop must run once per store, not
once per worker or per machine: two indexers would do the same work twice and
fight for the write lock. Every serving process asks for the lead
(store/leadership.py: a lock file beside a SQLite store, an advisory lock in a
PostgreSQL one); the one that gets it runs the loops, the others ask again
every ``RETRY_SECONDS``, so when the leader dies (its lock goes with it)
another process takes the work over.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from wikipeer.errors import WikipeerError
from wikipeer.store.leadership import take_lead
from wikipeer.store.store import Store

RETRY_SECONDS = 1.0
_HELD: list[object] = []  # the leads this process holds: a lead dropped by the garbage collector is let go


def lead_when_elected(store: Store, stop: threading.Event, start: Callable[[], None]) -> threading.Thread:
    """A thread that calls ``start()`` once this process holds the store's lead (at once, if no one else does).

    The lead stays held until the process exits; ``stop`` ends the waiting. A database that cannot be
    reached is said once and asked again, as a lead held elsewhere is.
    """
    def wait_for_lead() -> None:
        said = False
        while not stop.is_set():
            try:
                lead = take_lead(store)
                if lead is not None:
                    _HELD.append(lead)
                    start()
                    return
            except WikipeerError as exc:
                if not said:
                    print(f"wikipeer: background work waits: {exc}", file=sys.stderr)
                    said = True
            stop.wait(RETRY_SECONDS)

    thread = threading.Thread(target=wait_for_lead, daemon=True, name="leader")
    thread.start()
    return thread
