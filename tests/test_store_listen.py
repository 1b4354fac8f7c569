"""The log position without a round trip on PostgreSQL (store/postgres/listen.py): a cached view of the app
sends no statement; commits of another connection reach ``last_seq`` and the hidden-changes stamp through
LISTEN/NOTIFY, asking the server nothing; a lost listening connection falls back to asking and listens
again; a served node of two workers shows an edit taken by one worker on the other's next cached view.
A server of this module's own, in both runs."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import select
import time
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from wikipeer.ingest import ingest
from wikipeer.node import Node
from wikipeer.store import hidden
from wikipeer.store.postgres import listen
from wikipeer.store.store import Store
from wikipeer.web.app import create_app

import pg_server
from conftest import Author, run_cli, start_server, stop_server
from test_serve_workers import Served, edit_shown_by_the_other_worker


@pytest.fixture(scope="module")
def server() -> Iterator[pg_server.PgServer]:
    srv = pg_server.start_server()
    yield srv
    srv.stop()


@pytest.fixture
def pair(server, tmp_path, request) -> Iterator[tuple[Store, Store]]:
    """Two stores of one database: ``here`` listens, ``there`` is another connection writing."""
    database = server.fresh_database(request.node.name[:40].lower())
    here, there = Store(tmp_path / "a.sqlite", database=database), Store(tmp_path / "b.sqlite", database=database)
    here.listen()
    yield here, there
    here.close()
    there.close()


def _run(coroutine):
    """``asyncio.run`` in a thread of its own: another test in this worker may have left a loop running here."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def traced(store: Store) -> list[str]:
    """The statements this thread's connection of ``store`` sends from now on."""
    sent: list[str] = []
    store.conn.set_trace_callback(sent.append)
    return sent


def listeners(database: str) -> list[int]:
    """The server processes of the listening connections on the database ``database``."""
    with psycopg.connect(database, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                                           "AND datname = current_database()", (listen.APPLICATION,))]


def eventually(read: Callable[[], int], expected: int) -> int:
    """``read()`` once it answers ``expected`` (a notification is delivered after the commit, not with it)."""
    deadline = time.monotonic() + 30
    while (value := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return value


def test_a_commit_of_another_connection_reaches_last_seq_without_a_query(pair, node, monkeypatch) -> None:
    monkeypatch.setattr(listen, "VERIFY_SECONDS", 3600.0)  # the periodic check would ask, on a slow machine
    here, there = pair
    me = Author(node)
    assert here.last_seq() == 0  # opens the listening connection
    sent = traced(here)
    ingest(there, me.edit("Apple", "written by the other connection"), "test")
    assert eventually(here.last_seq, 4) == there.last_seq() == 4
    ingest(there, me.edit("Pear", "and another"), "test")
    assert eventually(here.last_seq, 8) == 8
    assert sent == []


def test_this_process_sees_its_own_commit_at_once(pair, node, monkeypatch) -> None:
    """The writer's own process does not wait for its notification to come back."""
    monkeypatch.setattr(listen, "VERIFY_SECONDS", 3600.0)
    here, _ = pair
    assert here.last_seq() == 0
    ingest(here, Author(node).edit("Mine", "written here"), "test")
    sent = traced(here)
    assert here.last_seq() == 4 and sent == []


def test_a_hide_elsewhere_changes_the_stamp_read_once(pair, node, monkeypatch) -> None:
    monkeypatch.setattr(listen, "VERIFY_SECONDS", 3600.0)
    here, there = pair
    ingest(there, Author(node).edit("Secret", "to be hidden"), "test")
    assert eventually(here.last_seq, 4) == 4
    before = hidden.changes(here)
    sent = traced(here)
    assert hidden.changes(here) == before and sent == []  # nothing changed since: asked nothing
    hidden.hide(there, there.page("w", 0, "Secret").id, 1, "test")
    assert eventually(lambda: hidden.changes(here), before + 1) == before + 1
    assert len(sent) == 1 and "meta" in sent[0]  # read again once, when told


def test_the_position_is_asked_again_once_a_period(pair, monkeypatch) -> None:
    """A listening connection that died without a word leaves a position at most VERIFY_SECONDS old."""
    monkeypatch.setattr(listen, "VERIFY_SECONDS", 0.0)
    here, _ = pair
    here.last_seq()
    sent = traced(here)
    here.last_seq()
    here.last_seq()
    assert sum("max(id)" in s for s in sent) == 2


def test_a_dropped_listening_connection_falls_back_to_asking_and_listens_again(pair, node, monkeypatch) -> None:
    monkeypatch.setattr(listen, "VERIFY_SECONDS", 3600.0)
    monkeypatch.setattr(listen, "RETRY_SECONDS", 0.0)
    here, there = pair
    me = Author(node)
    assert here.last_seq() == 0
    [pid] = listeners(here.database)
    with psycopg.connect(here.database, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    assert eventually(lambda: len(listeners(here.database)), 0) == 0  # its backend is gone, the socket closed
    ingest(there, me.edit("Meanwhile", "written while nobody listened"), "test")
    sent = traced(here)
    assert here.last_seq() == 4  # the listening connection found gone: asked
    assert sum("max(id)" in s for s in sent) == 1
    assert here.last_seq() == 4 and len(listeners(here.database)) == 1  # listening again
    ingest(there, me.edit("After", "told again"), "test")
    sent.clear()
    assert eventually(here.last_seq, 8) == 8 and sent == []


def test_a_listener_that_serves_nothing_still_reads_its_notifications(pair, node, monkeypatch) -> None:
    """PostgreSQL keeps a notification until every listener read it: an idle process's are drained for it."""
    monkeypatch.setattr(listen, "DRAIN_SECONDS", 0.2)
    here, there = pair
    assert here.last_seq() == 0  # listening from now on; nothing in this test asks ``here`` again
    sock = select.poll()
    sock.register(here._listener._conn.pgconn.socket, select.POLLIN)
    ingest(there, Author(node).edit("Unread", "told to a process that serves nothing"), "test")
    assert eventually(lambda: here._listener._position, 4) == 4  # read by the drain: nothing asked or viewed
    assert not sock.poll(0)


def test_a_cached_view_on_postgresql_sends_the_server_nothing(server, tmp_path, monkeypatch) -> None:
    """The app's whole-page cache checks its token (log position, hides, settings) with no statement: the
    app runs here, in this thread, so this thread's connection is the one its token would use."""
    monkeypatch.setattr(listen, "VERIFY_SECONDS", 3600.0)
    node_dir = tmp_path / "n"
    assert run_cli(node_dir, "init", "--store", server.url("{node}")).code == 0
    assert run_cli(node_dir, "edit", "w", "Here", "-m", "first", input="a page in PostgreSQL").code == 0
    node = Node.open(node_dir)
    try:
        app = create_app(node)

        async def views(count: int) -> list[str]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
                return [(await client.get("/wiki/w/Here")).text for _ in range(count)]

        first = _run(views(2))  # rendered, then from the cache
        sent = traced(node.store)
        again = _run(views(20))
        assert "a page in PostgreSQL" in first[0] and again == [first[1]] * 20
        assert sent == []
    finally:
        node.close()


@pytest.fixture(scope="module")
def served_pg(server, tmp_path_factory) -> Iterator[Served]:
    """A node on this module's PostgreSQL served by `wikipeer serve --workers 2`."""
    node_dir = tmp_path_factory.mktemp("pgworkers") / "node"
    assert run_cli(node_dir, "init", "--store", server.url("{node}")).code == 0
    proc, client = start_server(node_dir, "--workers", "2", "--rate-limit", "login=off")
    try:
        yield Served(node_dir, str(client.base_url).rstrip("/"), proc)
    finally:
        stop_server(proc, client)


def test_an_edit_on_one_worker_is_shown_by_the_other_on_its_next_view(served_pg) -> None:
    """On PostgreSQL the reader's worker learns of the edit from a notification (its cache's token asks no
    server): its next view, from the same worker, shows the edit."""
    edit_shown_by_the_other_worker(served_pg)
    store = json.loads((served_pg.node_dir / "config.json").read_text())["store"]
    assert len(listeners(store)) == 2  # one per worker: their views were answered from notifications
