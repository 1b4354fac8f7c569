"""Cluster backend benchmark (issue 18): ingest, search, sync and the web page of the same signed corpus on
PostgreSQL vs SQLite.

The anchor is the embedded store (SQLite) on the same machine in the same run. The corpus goes through
the pipeline as in bench/ingest_bench.py (batches of 500, checks and compression in worker processes),
then the search index is built and 20 searches run. Then a node holding the corpus is served, and an
empty node on each backend clones it (`wikipeer sync --pull`, as bench/sync_bench.py times it); each
clone is served in turn and wrk reads its pages (cached views, as bench/web_bench.py). PostgreSQL is a server of our own (tests/pg_server.py:
initdb in a temporary directory, a Unix socket, fsync off as in the tests), so the figures are the
dialect layer's and the round trips' cost, not a disk's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench import servers
from bench.sync_bench import our_clone
from bench.synthetic import history
from wikipeer.node import Node
from wikipeer.ingest import ingest
from wikipeer.pipeline.feed import prepared_batches
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.policy.view import View
from wikipeer.store import indexer
from wikipeer.store.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import pg_server  # noqa: E402  (tests/ holds the one way of starting a server of our own)

PAGES, REVISIONS, TEXT_BYTES, BATCH = 500, 10, 5000, 500
QUERIES = ["lorem", "ipsum dolor", "page 17", "sit amet", "xyzzy"] * 4
NOTICES = 200
WRK_SECONDS, WRK_CONNECTIONS = 10, 8


def _timed(store: Store, items: list) -> dict[str, float]:
    total = len(items)
    start = time.perf_counter()
    batches = ([b for _, bs in items[i:i + BATCH] for b in bs] for i in range(0, total, BATCH))
    for blocks, prepared in prepared_batches(batches, MAX_TEXT, "bench"):
        ingest(store, blocks, "bench", prepared=prepared)
    ingest_s = time.perf_counter() - start
    start = time.perf_counter()
    indexer.catch_up(store, lambda: View().trusted)
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    found = sum(len(store.search(q)) for q in QUERIES)
    search_s = time.perf_counter() - start
    return {"rev/s": total / ingest_s, "index s": index_s, "search ms": search_s * 1000 / len(QUERIES),
            "hits": found, "seq": store.last_seq()}


def _source(directory: Path, items: list, store: str | None = None) -> Path:
    """A node holding the corpus, its search index built (on SQLite: what the clones pull)."""
    node = Node.init(directory, store=store)
    try:
        _timed(node.store, items)
    finally:
        node.close()
    return directory


def _views(clone: Path, paths: Path, tmp: Path) -> servers.WrkResult:
    """wrk reading every page of ``clone`` served, once every page was read (whole-page cache full: a timed
    warming run left most pages unrendered on a loaded machine, and the slower backend measured renders)."""
    import httpx

    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    with servers.running(servers.ours_command(clone, port), base + "/", tmp / f"{clone.name}.log"):
        with httpx.Client(base_url=base, timeout=60) as client:
            for path in paths.read_text().split():
                client.get(path).raise_for_status()
        servers.wrk(base, paths, 3, WRK_CONNECTIONS)
        return servers.wrk(base, paths, WRK_SECONDS, WRK_CONNECTIONS)


def run_views() -> dict[str, float | str]:
    """Cached views alone (`python -m bench.run cluster-pg-views`): the corpus ingested into a SQLite node and a
    PostgreSQL node (no sync), each served and read as in ``run``."""
    items = list(history(PAGES, REVISIONS, TEXT_BYTES))
    server = pg_server.start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            paths = root / "paths.txt"
            paths.write_text("".join(f"/wiki/bench/{quote(f'Page_{p}')}\n" for p in range(PAGES)))
            lite_node, pg_node = _source(root / "lite", items), _source(root / "pg", items, server.url("{node}"))
            lite, pg = _views(lite_node, paths, root), _views(pg_node, paths, root)
    finally:
        server.stop()
    if lite.bad or pg.bad:
        raise RuntimeError(f"pages not served: {lite.bad} (SQLite), {pg.bad} (PostgreSQL)")
    return {"SQLite cached views/s": lite.requests_per_s, "PostgreSQL cached views/s": pg.requests_per_s,
            "views ratio (pg/sqlite)": pg.requests_per_s / lite.requests_per_s,
            "SQLite view p50 / p99 ms": f"{lite.p50_ms:.2f} / {lite.p99_ms:.2f}",
            "PostgreSQL view p50 / p99 ms": f"{pg.p50_ms:.2f} / {pg.p99_ms:.2f}"}


def _sync_and_web(tmp: Path, items: list, server: pg_server.PgServer) -> dict[str, float]:
    """Clone the served corpus into an empty SQLite node and an empty PostgreSQL node; serve each clone."""
    source = _source(tmp / "source", items)
    paths = tmp / "paths.txt"
    paths.write_text("".join(f"/wiki/bench/{quote(f'Page_{p}')}\n" for p in range(PAGES)))
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}/"
    with servers.running(servers.ours_command(source, port), url, tmp / "source.log"):
        lite = our_clone(tmp / "lite", url)
        os.environ["WIKIPEER_STORE"] = server.url("{node}")  # `wikipeer init` of the clone: a database of its own
        try:
            pg = our_clone(tmp / "pg", url)
        finally:
            del os.environ["WIKIPEER_STORE"]
    assert lite["blocks"] == pg["blocks"], (lite, pg)
    for clone in (tmp / "lite", tmp / "pg"):  # the index the clone left for later, built before reading
        subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(clone), "stats"], check=True,
                       capture_output=True)
    lite_views, pg_views = _views(tmp / "lite", paths, tmp), _views(tmp / "pg", paths, tmp)
    if lite_views.bad or pg_views.bad:
        raise RuntimeError(f"pages not served: {lite_views.bad} (SQLite), {pg_views.bad} (PostgreSQL)")
    return {
        "sync --pull blocks": lite["blocks"],
        "SQLite sync s": lite["seconds"],
        "PostgreSQL sync s": pg["seconds"],
        "sync time ratio (pg/sqlite)": pg["seconds"] / lite["seconds"],
        "SQLite cached views/s": lite_views.requests_per_s,
        "PostgreSQL cached views/s": pg_views.requests_per_s,
        "views ratio (pg/sqlite)": pg_views.requests_per_s / lite_views.requests_per_s,
        "PostgreSQL view p50 / p99 ms": f"{pg_views.p50_ms:.2f} / {pg_views.p99_ms:.2f}",
    }


def _notice_delay(server: pg_server.PgServer) -> dict[str, float | str]:
    """How soon a listening store sees another connection's commit (store/postgres/listen.py): a NOTIFY
    committed, then the listening store read at once and again until it has it, in one thread (no GIL in
    between): the window in which a view right after a commit elsewhere could still answer the old page."""
    import psycopg

    from wikipeer.store.postgres.listen import CHANNEL

    url = server.fresh_database("notices")
    here = Store(Path(tempfile.gettempdir()) / "notices.sqlite", database=url)
    here.listen()
    here.last_seq()
    delays, at_once = [], 0
    with psycopg.connect(url, autocommit=True) as writer:
        for position in range(1, NOTICES + 1):
            writer.execute(f"NOTIFY {CHANNEL}, '{position}'")
            committed = time.perf_counter()
            reads = 0
            while here.last_seq() < position:
                reads += 1
            delays.append((time.perf_counter() - committed) * 1e6)
            at_once += reads == 0
    here.close()
    delays.sort()
    return {"commit seen by a listener: at the first read": f"{at_once} of {NOTICES}",
            "commit seen by a listener: p50 / max us": f"{delays[len(delays) // 2]:.0f} / {delays[-1]:.0f}"}


def run() -> dict[str, float]:
    items = list(history(PAGES, REVISIONS, TEXT_BYTES))
    server = pg_server.start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lite = _timed(Store(Path(tmp) / "store.sqlite"), items)
            pg = _timed(Store(Path(tmp) / "pg.sqlite", database=server.fresh_database("bench")), items)
            served = _sync_and_web(Path(tmp), items, server)
            notices = _notice_delay(server)
    finally:
        server.stop()
    assert lite["seq"] == pg["seq"], (lite, pg)
    return {
        "revisions": len(items),
        "SQLite ingest rev/s": lite["rev/s"],
        "PostgreSQL ingest rev/s": pg["rev/s"],
        "ingest ratio (pg/sqlite)": pg["rev/s"] / lite["rev/s"],
        "SQLite index s": lite["index s"],
        "PostgreSQL index s": pg["index s"],
        "SQLite search ms": lite["search ms"],
        "PostgreSQL search ms": pg["search ms"],
        "search time ratio (pg/sqlite)": pg["search ms"] / lite["search ms"],
        "hits (sqlite, pg)": f"{lite['hits']}, {pg['hits']}",
        **served,
        **notices,
    }
