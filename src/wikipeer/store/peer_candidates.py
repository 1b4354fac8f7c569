"""Peers learned by peer exchange: candidates, not peers.

Another node's signed descriptor names the peers it knows (net/exchange.py);
those this node did not know become candidates here. A candidate is never
synced with and never trusted; gossip may send it notices once its own
descriptor showed the key it was named with at its address (``verified``).
A candidate that fails ``MAX_TRIES`` contacts in a row, or answers with
another key, is given up (``dead``) and is not learned again until
``DEAD_FOR`` has passed. The table is bounded (``MAX_CANDIDATES``): past
it, nothing new is learned until the dead are cleared out.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass

from wikipeer.errors import InvalidObject, UserError
from wikipeer.model.keys import key_from_str
from wikipeer.store.gossip_queue import position
from wikipeer.store.peers import normalize_url
from wikipeer.store.store import Store

MAX_CANDIDATES = 10_000
MAX_TRIES = 3
DEAD_FOR = 24 * 3600 * 1000  # ms: a node given up may come back (at the same address) after a day
LISTED = 50
"""Peers a descriptor names: the most recently good ones."""
HELLO = "hello"
"""The ``via`` of a candidate that announced itself (net/hello.py): its signed request proved its key, not its URL."""
MAX_ANNOUNCED = 256
"""Candidates that said hello and are not verified (waiting, or given up less than DEAD_FOR ago), at most."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A peer some other node named."""

    url: str
    key: str
    via: str
    learned: int
    verified: int | None
    tries: int
    dead: int | None


def _now() -> int:
    return int(time.time() * 1000)


def _well_formed(url: object, key: object) -> tuple[str, str] | None:
    """(url, key) when both are what they claim to be; None for anything else a descriptor may hold."""
    if not isinstance(url, str) or not isinstance(key, str) or len(url) > 2048:
        return None
    try:
        key_from_str(key)
        return normalize_url(url), key
    except (InvalidObject, UserError, ValueError):
        return None


def learn(store: Store, named: list[tuple[str, str]], via: str, own_key: str) -> int:
    """Take the peers another node named as candidates; returns how many are new.

    Left out: this node itself, a peer already known (by address or key, banned or not), a
    candidate already held (its key is not replaced), one given up less than DEAD_FOR ago, and
    everything past MAX_CANDIDATES.
    """
    now = _now()
    conn = store.conn
    added = 0
    with conn:
        conn.execute("DELETE FROM peer_candidates WHERE dead IS NOT NULL AND dead < ?", (now - DEAD_FOR,))
        room = MAX_CANDIDATES - conn.execute("SELECT count(*) FROM peer_candidates").fetchone()[0]
        pairs = [e for e in named if isinstance(e, (list, tuple)) and len(e) == 2]
        # Most of a list names nodes held already: passed over before their keys are parsed (the checks
        # made a sync's peer exchange cost more than its log when every descriptor was read).
        held = _held(store, [key for _, key in pairs if isinstance(key, str)])
        for entry in pairs:
            if added >= room:
                break
            found = None if entry[1] in held else _well_formed(*entry)
            if found is None or found[1] == own_key:
                continue
            url, key = found
            # One address per key: a second one named for a key held is not taken.
            added += conn.execute(
                "INSERT OR IGNORE INTO peer_candidates(url, key, via, learned) SELECT ?, ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM peers WHERE url = ?1 OR key = ?2) "
                "AND NOT EXISTS (SELECT 1 FROM peer_candidates WHERE key = ?2)", (url, key, via, now)).rowcount
    return added


def _held(store: Store, keys: list[str], batch: int = 400) -> set[str]:
    """Which of ``keys`` are held already, as a candidate's or a peer's."""
    held: set[str] = set()
    for i in range(0, len(keys), batch):
        part = keys[i:i + batch]
        marks = ",".join("?" * len(part))
        held.update(k for (k,) in store.conn.execute(
            f"SELECT key FROM peer_candidates WHERE key IN ({marks}) UNION SELECT key FROM peers WHERE key IN ({marks})",
            part * 2))
    return held


def unverified(store: Store, limit: int, own_key: str, announced: bool | None = None) -> list[Candidate]:
    """Candidates whose own descriptor has not been read yet (nor given up): first those that announced
    themselves nearest this node on the gossip ring (its new neighbours there, whom gossip's smallest
    parts need), then half the nearest (whose lists name its neighbours there), half the newest (a node
    that just joined is named by its peers first: it is known soon, before the backlog).
    ``announced``: True, only those that announced themselves; False, none of them (anyone may say hello,
    so what sync verifies must not wait on them: net/hello.py's own loop does); None, all."""
    which = "" if announced is None else (" AND via = ?" if announced else " AND via != ?")
    rows = [Candidate(*r) for r in store.conn.execute(
        f"SELECT * FROM peer_candidates WHERE verified IS NULL AND dead IS NULL{which} ORDER BY learned DESC, url",
        () if announced is None else (HELLO,))]
    me = position(own_key)
    announced = _nearest([c for c in rows if c.via == HELLO], me, limit // 2, lambda c: c.key)
    chosen = _nearest(rows, me, limit // 2, lambda c: c.key)
    return list(dict.fromkeys([*announced, *chosen, *rows]))[:limit]


def waiting(store: Store) -> int:
    """How many candidates peer exchange named wait to be verified (net/exchange.py's budget grows with it)."""
    return store.conn.execute(
        "SELECT count(*) FROM peer_candidates WHERE verified IS NULL AND dead IS NULL AND via != ?",
        (HELLO,)).fetchone()[0]


def announced(store: Store, url: str, key: str, own_key: str) -> bool:
    """A node proved ``key`` by a signed hello naming ``url``: a candidate like any other (never trusted:
    its descriptor at ``url`` must show the key). It takes the place of a candidate given up at ``url``
    under another key (a stranger's hello naming this URL must not keep the node there out for a day),
    or under this key after failed contacts (its hello says it is back); not of one under this key given
    up because another key answered there. Returns whether this node knew the key already (a peer, not
    banned, or a verified candidate, at any address); learning is bounded as ``learn``'s."""
    found = _well_formed(url, key)
    if found is None or found[1] == own_key:
        return False
    url, key = found
    conn = store.conn
    if conn.execute("SELECT 1 FROM peers WHERE key = ? AND banned IS NULL UNION ALL SELECT 1 FROM peer_candidates "
                    "WHERE key = ? AND verified IS NOT NULL AND dead IS NULL", (key, key)).fetchone():
        return True  # at this address or another: one address per key, the first (as learn keeps it)
    with conn:
        conn.execute("DELETE FROM peer_candidates WHERE url = ? AND dead IS NOT NULL AND (key != ? OR tries >= ?)",
                     (url, key, MAX_TRIES))
    if not _room_for_hello(store, url):
        return False
    learn(store, [(url, key)], HELLO, own_key)
    return False


def _room_for_hello(store: Store, url: str) -> bool:
    """Whether a hello naming ``url`` may become a candidate: keys cost nothing, so hellos not (yet) proved
    good are bounded on their own (MAX_ANNOUNCED, dead ones until DEAD_FOR has passed), one per origin
    (scheme, host and port: a flood naming many paths of one host must not make this node call it often),
    and never crowd out what peer exchange learns."""
    origin = _origin(url)
    waiting, same = store.conn.execute(
        "SELECT count(*), sum(CASE WHEN url = ? OR substr(url, 1, ?) = ? THEN 1 ELSE 0 END) FROM peer_candidates "
        "WHERE via = ? AND verified IS NULL", (origin, len(origin) + 1, origin + "/", HELLO)).fetchone()
    return waiting < MAX_ANNOUNCED and not same


def _origin(url: str) -> str:
    """scheme://host:port of a normalized URL."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def usable(store: Store) -> list[tuple[str, str]]:
    """(url, key) of the candidates gossip may send to: verified and not given up."""
    return list(store.conn.execute(
        "SELECT url, key FROM peer_candidates WHERE verified IS NOT NULL AND dead IS NULL ORDER BY url"))


def every(store: Store) -> list[Candidate]:
    return [Candidate(*r) for r in store.conn.execute("SELECT * FROM peer_candidates ORDER BY url")]


def verified(store: Store, url: str) -> None:
    """The candidate at ``url`` answered (its descriptor, or a gossip message): good now."""
    with store.conn:
        store.conn.execute("UPDATE peer_candidates SET verified = ?, tries = 0 WHERE url = ?", (_now(), url))


def failed(store: Store, url: str) -> None:
    """A contact with the candidate at ``url`` failed; the MAX_TRIES-th in a row gives it up."""
    with store.conn:
        store.conn.execute("UPDATE peer_candidates SET tries = tries + 1, "
                           "dead = CASE WHEN tries + 1 >= ? THEN ? ELSE dead END WHERE url = ?",
                           (MAX_TRIES, _now(), url))


def forget(store: Store, url: str) -> None:
    """The candidate at ``url`` is one no more (it became a peer)."""
    with store.conn:
        store.conn.execute("DELETE FROM peer_candidates WHERE url = ?", (url,))


def give_up(store: Store, url: str) -> None:
    """The candidate at ``url`` is not who it was said to be (another key answered there)."""
    with store.conn:
        store.conn.execute("UPDATE peer_candidates SET dead = ? WHERE url = ?", (_now(), url))


def recently_good(store: Store, own_key: str, limit: int = LISTED) -> list[tuple[str, str]]:
    """The peers a descriptor names, good ones (peers this node syncs with whose last sync worked, and
    candidates that last answered): half the nearest to this node on the gossip ring, on either side
    (so nodes find their neighbours there, which gossip's smallest parts need), half the most recent."""
    rows = list(store.conn.execute(
        "SELECT url, key, last_sync * 1000 AS good FROM peers "
        "WHERE key IS NOT NULL AND banned IS NULL AND last_sync IS NOT NULL AND last_error IS NULL "
        "UNION ALL SELECT url, key, verified FROM peer_candidates WHERE verified IS NOT NULL AND dead IS NULL "
        "ORDER BY good DESC, url"))
    near = _nearest(rows, position(own_key), limit // 2, lambda r: r[1])
    return [(url, key) for url, key, _ in dict.fromkeys([*near, *rows])][:limit]


def _nearest(rows: list, me: int, count: int, key_of) -> list:
    """The ``count`` rows whose keys are nearest ``me`` on the ring, half below it and half above."""
    placed = sorted(rows, key=lambda r: position(key_of(r)))
    split = bisect.bisect_left([position(key_of(r)) for r in placed], me)
    below, above = placed[max(0, split - count // 2):split], placed[split:split + count - count // 2]
    return [*below, *above]


def last_exchange(store: Store, url: str) -> int | None:
    """When this node last read the peer list of the peer at ``url`` (ms)."""
    row = store.conn.execute("SELECT at FROM peer_exchanges WHERE url = ?", (url,)).fetchone()
    return row[0] if row else None


def exchanged(store: Store, url: str) -> None:
    with store.conn:
        store.conn.execute("INSERT OR REPLACE INTO peer_exchanges VALUES (?, ?)", (url, _now()))
