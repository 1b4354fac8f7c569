"""The search index built behind the writers (issue 15, item 2): marks, catch-up, lag, kills, search off."""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import CLI, Author, cli_env, run_cli, start_server, stop_server, store_connect, store_db
from wikipeer.node import Node
from wikipeer.store import indexer
from wikipeer.store.indexer import SEARCH_CATCH_UP

WORDS = ["quokka", "wombat", "numbat", "dingo", "bilby", "potoroo", "bettong", "quoll"]


def _edits(author: Author, count: int, size: int = 1, wiki: str = "w") -> list:
    """One signed edit of each of ``count`` pages; page i holds word i % 8 and its own token ``pgi``."""
    blocks = []
    for i in range(count):
        body = f"{WORDS[i % 8]} pg{i}x {i}\n" + f"Line {i} of filler text about marsupials.\n" * size
        blocks += author.edit(f"Page {i}", body, ts=1_000 + i, wiki=wiki)
    return blocks


def _titles(node: Node, query: str) -> set[str]:
    return {row.title for row, _ in node.store.search(query, limit=10_000)}


def test_the_indexer_catches_up(node, author):
    count = SEARCH_CATCH_UP + 50  # more than a search catches up by itself
    node.ingest(_edits(author, count), "test")
    assert node.store.index_lag() == count  # ingest only marked the pages
    assert _titles(node, "quokka") == set()  # too far behind for a search to catch up: the index as it is
    assert node.store.index_lag() == count
    done = []
    assert node.catch_up_index(progress=done.append) == count
    assert done[-1] == count and len(done) == -(-count // indexer.BATCH_PAGES)  # a transaction per batch
    assert node.store.index_lag() == 0
    assert _titles(node, "quokka") == {f"Page {i}" for i in range(0, count, 8)}
    assert _titles(node, "pg17x") == {"Page 17"}


def test_a_search_catches_up_a_small_lag_first(node, author):
    """Edits made a moment ago are found: a search first indexes what little waits."""
    node.ingest(_edits(author, 3), "test")
    assert node.store.index_lag() == 3
    assert _titles(node, "pg2x") == {"Page 2"}
    assert node.store.index_lag() == 0
    rev = node.store.heads(node.store.page("w", 0, "Page 2").id)[0].cid
    node.ingest(author.edit("Page 2", "now about echidnas\n", (rev,), ts=5_000), "test")
    assert _titles(node, "pg2x") == set() and _titles(node, "echidnas") == {"Page 2"}


def test_an_interrupted_catch_up_resumes(node, author):
    node.ingest(_edits(author, 250), "test")
    stop = threading.Event()
    # Stopped after its first batch, as Ctrl-C would: that batch is kept, the rest waits.
    assert node.catch_up_index(progress=lambda done: stop.set(), stop=stop) == indexer.BATCH_PAGES
    assert node.store.index_lag() == 250 - indexer.BATCH_PAGES
    assert node.catch_up_index() == 250 - indexer.BATCH_PAGES
    assert node.store.index_lag() == 0 and len(_titles(node, "marsupials")) == 250


@pytest.mark.sqlite_only  # holds SQLite's write lock from a second connection
def test_a_search_does_not_wait_for_a_writer(node, author):
    """A writer holding the store (a long import) does not stall a search: it answers from the index as it is."""
    node.ingest(_edits(author, 2), "test")
    writer = sqlite3.connect(node.store.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        start = time.monotonic()
        assert _titles(node, "pg1x") == set()
        assert time.monotonic() - start < 30  # the store's own busy timeout is 60 s
        assert node.store.index_lag() == 2
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _titles(node, "pg1x") == {"Page 1"}


def _fill(node_dir: Path, count: int, size: int = 1) -> None:
    node = Node.open(node_dir)
    node.wiki("w")
    node.ingest(_edits(Author(node), count, size), "test")
    node.close()


@pytest.mark.sqlite_only  # as above: the lagging index is made by holding SQLite's write lock
def test_search_reports_a_lagging_index_on_a_served_node(node_dir):
    count = SEARCH_CATCH_UP + 20
    _fill(node_dir, count)
    # Another writer holds the store, so the server's indexer cannot catch up yet; readers go on.
    writer = sqlite3.connect(node_dir / "store.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    proc, client = start_server(node_dir)
    try:
        page = client.get("/search", params={"q": "quokka"}).text
        assert f"The search index is {count} pages behind" in page and "0 results" in page
        api = client.get("/w/w/api.php", params={"action": "query", "list": "search", "srsearch": "quokka",
                                                  "format": "json", "formatversion": "2"}).json()
        assert api["query"]["search"] == []
        assert f"The search index is {count} pages behind" in api["warnings"]["search"]["warnings"]
        writer.execute("ROLLBACK")
        deadline = time.monotonic() + 30  # the server's indexer now picks the marks up
        while "pages behind" in (page := client.get("/search", params={"q": "quokka"}).text):
            assert time.monotonic() < deadline, "the server's indexer did not catch up"
            time.sleep(0.2)
        assert f"{len(range(0, count, 8))} results" in page
        api = client.get("/w/w/api.php", params={"action": "query", "list": "search", "srsearch": "quokka",
                                                  "format": "json", "formatversion": "2"}).json()
        assert "warnings" not in api and api["query"]["searchinfo"]["totalhits"] == len(range(0, count, 8))
    finally:
        writer.close()
        stop_server(proc, client)


def test_an_edit_through_a_served_node_is_found_at_once(node_dir):
    proc, client = start_server(node_dir)
    try:
        node = Node.open(node_dir)
        node.wiki("w")
        node.ingest(Author(node).edit("Fresh", "a platypus appears\n"), "local")
        node.close()
        page = client.get("/search", params={"q": "platypus"}).text
        assert "1 result " in page and "Fresh" in page and "behind" not in page
    finally:
        stop_server(proc, client)


def _state_digest(node_dir: Path) -> str:
    with store_connect(node_dir) as conn:
        rows = conn.execute("SELECT page, rev, title FROM search_state ORDER BY page").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _answers(node_dir: Path, queries: list[str]) -> dict[str, list[str]]:
    node = Node.open(node_dir)
    try:
        return {q: sorted(row.title for row, _ in node.store.search(q, limit=10_000)) for q in queries}
    finally:
        node.close()


def test_sigkill_of_the_indexer_then_a_rerun_gives_a_full_rebuilds_index(node_dir, tmp_path):
    count = 900
    _fill(node_dir, count, size=40)
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(node_dir, rebuilt)
    lags = []
    rng = random.Random(3)
    for _ in range(2):  # killed twice, each time somewhere in the middle of a run
        before = _lag(node_dir)
        proc = subprocess.Popen([*CLI, "--node", str(node_dir), "index", "--quiet"], env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while _lag(node_dir) == before and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.008))  # a seeded random moment past a commit, in the next batch's work
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        lags.append(_lag(node_dir))
    assert 0 < lags[1] < lags[0] < count, lags  # each run got somewhere, and neither finished
    result = run_cli(node_dir, "index")
    assert result.code == 0 and "search index up to date" in result.out, str(result)
    assert _lag(node_dir) == 0
    # The reference: the same store indexed from nothing in one uninterrupted run.
    with store_connect(rebuilt) as conn:
        conn.execute("UPDATE meta SET value = 'older tokens' WHERE key = 'search'")  # empties it and marks all
    assert run_cli(rebuilt, "index").code == 0 and _lag(rebuilt) == 0
    assert _state_digest(node_dir) == _state_digest(rebuilt)
    queries = [f"pg{i}x" for i in range(count)] + WORDS + ["marsupials", "line 1", "of"]
    answers = _answers(node_dir, queries)
    assert answers == _answers(rebuilt, queries)
    assert all(answers[f"pg{i}x"] == [f"Page {i}"] for i in range(count))


def _lag(node_dir: Path) -> int:
    with store_db(node_dir) as conn:
        return conn.execute("SELECT count(*) FROM index_pending").fetchone()[0]


def test_import_reports_the_data_in_then_the_index(node_dir, tmp_path):
    dump = tmp_path / "d.xml"
    dump.write_text(_dump(["Alpha", "Beta"]), encoding="utf-8")
    later = run_cli(node_dir, "import", "--index-later", str(dump))
    assert later.code == 0 and "imported 2 pages" in later.out, str(later)
    assert "search index: 2 pages behind" in later.err and _lag(node_dir) == 2
    assert "search index: 2 pages behind" in run_cli(node_dir, "stats").out
    result = run_cli(node_dir, "search", "kangaroo")
    assert result.code == 0 and "w: Alpha" in result.out  # a small lag: the search caught up first
    assert _lag(node_dir) == 0
    dump.write_text(_dump(["Alpha", "Beta", "Gamma"]), encoding="utf-8")
    small = run_cli(node_dir, "import", str(dump))  # a lag a search would take: indexed at once
    assert small.code == 0 and _lag(node_dir) == 0, str(small)
    assert "search index: up to date" in run_cli(node_dir, "stats").out


def test_import_returns_when_the_data_is_in_and_the_index_is_built_in_the_background(node_dir, tmp_path):
    titles = [f"Page {i}" for i in range(SEARCH_CATCH_UP * 3)]
    dump = tmp_path / "d.xml"
    dump.write_text(_dump(titles), encoding="utf-8")
    result = run_cli(node_dir, "import", str(dump))
    assert result.code == 0 and f"imported {len(titles)} pages" in result.out, str(result)
    assert "built in the background" in result.err and "index.log" in result.err, str(result)
    deadline = time.monotonic() + 120
    while _lag(node_dir) and time.monotonic() < deadline:  # the detached indexer works on alone
        time.sleep(0.1)
    assert _lag(node_dir) == 0
    found = run_cli(node_dir, "search", "Page 299 is")
    assert found.code == 0 and "w: Page 299" in found.out and "behind" not in found.err, str(found)
    dump.write_text(_dump(titles + [f"More {i}" for i in range(SEARCH_CATCH_UP * 2)]), encoding="utf-8")
    waited = run_cli(node_dir, "import", "--wait-index", str(dump))
    assert waited.code == 0 and _lag(node_dir) == 0, str(waited)
    assert "background" not in waited.err


def _dump(titles: list[str]) -> str:
    pages = "".join(f"<page><title>{t}</title><ns>0</ns><id>{i + 1}</id><revision><id>{i + 10}</id>"
                    f"<timestamp>2020-01-01T00:00:00Z</timestamp><contributor><username>U</username><id>1</id>"
                    f"</contributor><model>wikitext</model><format>text/x-wiki</format>"
                    f"<text xml:space=\"preserve\">{t} is a kangaroo</text></revision></page>"
                    for i, t in enumerate(titles))
    return (f'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">'
            f"<siteinfo><sitename>W</sitename><dbname>w</dbname></siteinfo>{pages}</mediawiki>")


def test_search_can_be_turned_off_for_a_wiki(node_dir):
    node = Node.open(node_dir)
    for wiki in ("w", "v"):
        node.wiki(wiki)
        node.ingest(Author(node).edit("Both", f"a koala in {wiki}\n", wiki=wiki), "test")
    node.close()
    assert run_cli(node_dir, "index").code == 0
    off = run_cli(node_dir, "index", "--off", "w")
    assert off.code == 0 and "search is now off for w: its 1 pages leave the index" in off.out, str(off)
    with store_connect(node_dir) as conn:
        assert [r[0] for r in conn.execute("SELECT title FROM search_state")] == ["Both"]  # only v's page left
    result = run_cli(node_dir, "search", "koala")
    assert result.out.splitlines() == ["v: Both  a koala in v"] and "search is turned off for wiki w" in result.err
    assert run_cli(node_dir, "index", "--off", "v").code == 0
    refused = run_cli(node_dir, "search", "koala")
    assert refused.code == 2 and refused.out == "" and "search is turned off for wikis v, w" in refused.err
    assert "wikipeer index --on" in refused.err and "Traceback" not in refused.err
    assert run_cli(node_dir, "index", "--off", "nosuch").code == 2
    proc, client = start_server(node_dir)
    try:
        page = client.get("/search", params={"q": "koala", "wiki": "w"}).text
        assert "Search is turned off for w on this node: nothing was searched." in page
        api = client.get("/w/w/api.php", params={"action": "query", "list": "search", "srsearch": "koala",
                                                  "format": "json"}).json()
        assert api["error"]["code"] == "search-text-disabled" and "turned off for w" in api["error"]["info"]
    finally:
        stop_server(proc, client)
    assert run_cli(node_dir, "index", "--on", "w").code == 0
    assert run_cli(node_dir, "search", "koala").out.startswith("w: Both")


def test_unspaced_scripts_are_found_through_their_bigrams_alone(node, author):
    """Item 6: the trigram index leaves out unspaced runs (their bigrams say it all); terms of any length
    in those scripts are still found exactly."""
    node.ingest(author.edit("Apart", "東京 の 京都 と 東京2019\n") + author.edit("Together", "東京都 と 東京2020 の นาย\n"),
                "test")
    assert _titles(node, "東京都") == {"Together"}  # the apart page holds both bigrams, not the word
    assert _titles(node, "東京2020") == {"Together"} and _titles(node, "東京20") == {"Apart", "Together"}
    assert _titles(node, "京都") == {"Apart", "Together"} and _titles(node, "都") == {"Apart", "Together"}
    assert _titles(node, "นาย") == {"Together"} and _titles(node, "ภาษา") == set()


@pytest.mark.sqlite_only  # SQLite's FTS5 trigram table; PostgreSQL's search is its own (store/postgres/search.py)
def test_unspaced_runs_stay_out_of_the_trigram_table(node, author):
    node.ingest(author.edit("Together", "東京都 と 東京2020 の นาย\n"), "test")
    assert _titles(node, "東京都") == {"Together"}
    conn = node.store.conn
    assert conn.execute("SELECT count(*) FROM search_tri WHERE search_tri MATCH '\"東京都\"'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM search_tri WHERE search_tri MATCH '\"020\"'").fetchone()[0] == 1


def test_ctrl_c_stops_wikipeer_index_cleanly_and_a_rerun_finishes(node_dir):
    _fill(node_dir, 500, size=40)
    proc = subprocess.Popen([*CLI, "--node", str(node_dir), "index", "--quiet"], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _lag(node_dir) == 500 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted; nothing half-written was kept" in err.decode(), err
    assert "Traceback" not in err.decode() and 0 < _lag(node_dir) < 500
    assert run_cli(node_dir, "index").code == 0 and _lag(node_dir) == 0


def test_a_page_evicted_while_marked_is_passed_over(node, author):
    """A partial node may evict a fetched page before the indexer reaches its mark."""
    from wikipeer.store.cache import evict_page

    node.ingest(_edits(author, 3), "test")
    page = node.store.page("w", 0, "Page 1").id
    assert node.catch_up_index() == 3 and _titles(node, "pg1x") == {"Page 1"}
    node.ingest(author.edit("Page 9", "a later page\n", ts=9_000), "test")
    with node.store.write() as writer:  # Page 1 marked again (as an edit to it would)
        writer.conn.execute("INSERT INTO index_pending VALUES (?)", (page,))
    evict_page(node.store, page)
    assert node.store.index_lag() == 1  # the eviction took its mark with it
    with node.store.write() as writer:  # a mark left for a page gone (by a version before this one)
        writer.conn.execute("INSERT INTO index_pending VALUES (?)", (page,))
    assert node.catch_up_index() == 2 and node.store.index_lag() == 0
    assert _titles(node, "pg1x") == set() and _titles(node, "later") == {"Page 9"}
