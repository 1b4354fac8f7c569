"""The paginated history (MediaWiki's action=history: limit, offset, dir=prev) of a page with
thousands of revisions, served by a real `wikipeer serve`, and the store query behind it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import Author, run_cli, start_server, stop_server
from wikipeer.ingest import ACCEPTED, ingest
from wikipeer.node import Node

REVISIONS = 2000
URL = "/wiki/w/Long_story"
_ROW = re.compile(r'<input type="radio" name="diff" value="([^"]+)"')
_LINK = re.compile(r'<a href="([^"]+)" rel="(first|last|prev|next)">')


def build(node_dir: Path) -> list[bytes]:
    """A page of REVISIONS linear edits, several sharing one timestamp (the order then is arrival); oldest first."""
    node = Node.init(node_dir)
    try:
        node.wiki("w")
        author = Author(node)
        blocks, cids, parent = [], [], ()
        for i in range(REVISIONS):
            edit = author.edit("Long story", f"version {i}\n", parents=parent, ts=1_700_000_000_000 + (i // 3) * 500)
            blocks += edit
            parent = (edit[2].cid,)
            cids.append(edit[2].cid)
        report = ingest(node.store, blocks, "test")
        assert not report.rejected() and report.counts()[ACCEPTED] >= 3 * REVISIONS, report.counts()
        assert len(node.store.history(node.store.page("w", 0, "Long story").id)) == REVISIONS
    finally:
        node.close()
    return cids


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Path, httpx.Client, list[str]]]:
    node_dir = tmp_path_factory.mktemp("history") / "node"
    cids = build(node_dir)
    node = Node.open(node_dir)
    try:
        newest_first = [r.cid_str for r in node.store.history(node.store.page("w", 0, "Long story").id)]
    finally:
        node.close()
    assert len(cids) == len(newest_first) == REVISIONS
    proc, client = start_server(node_dir)
    try:
        yield node_dir, client, newest_first
    finally:
        stop_server(proc, client)


def rows(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text[:2000]
    return _ROW.findall(page.text)


def links(page: httpx.Response) -> dict[str, str]:
    """The navigation links by rel (first, last, prev, next); the pager is shown above and below the list."""
    found = _LINK.findall(page.text)
    by_rel = {rel: html.unescape(href) for href, rel in found}
    assert len(found) == 2 * len(by_rel)
    return by_rel


def test_the_first_page_holds_50_and_links_to_older(served):
    _, client, newest_first = served
    first = client.get(f"{URL}?action=history")
    assert rows(first) == newest_first[:50]
    nav = links(first)
    assert set(nav) == {"next", "last"}  # nothing newer than the newest
    assert "offset=" in nav["next"] and "limit=50" in nav["next"]
    everything = client.get(f"{URL}?action=history&limit=5000")
    assert rows(everything) == newest_first
    assert len(first.content) * 10 < len(everything.content)


def walk(client: httpx.Client, url: str, rel: str) -> list[list[str]]:
    pages = []
    while url:
        page = client.get(url)
        pages.append(rows(page))
        assert len(pages) <= REVISIONS, "the links go round in a circle"
        url = links(page).get(rel)
    return pages


@pytest.mark.parametrize("limit", [50, 7, 333])
def test_following_older_links_visits_every_revision_once(served, limit):
    _, client, newest_first = served
    pages = walk(client, f"{URL}?action=history&limit={limit}", "next")
    assert [cid for page in pages for cid in page] == newest_first
    assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit


def test_following_newer_links_from_the_oldest_visits_every_revision_once(served):
    _, client, newest_first = served
    oldest = client.get(f"{URL}?action=history&limit=300&dir=prev")
    assert rows(oldest) == newest_first[-300:]  # the oldest page, newest first within it as MediaWiki shows it
    assert set(links(oldest)) == {"first", "prev"}
    pages = walk(client, f"{URL}?action=history&limit=300&dir=prev", "prev")
    assert [cid for page in reversed(pages) for cid in page] == newest_first
    assert len(pages[0]) == 300 and len(pages[-1]) == REVISIONS % 300


def test_a_mediawiki_time_offset_means_before_that_second(served):
    _, client, newest_first = served
    # Revisions come three to a 500 ms step: 2000 revisions span 333 s from 2023-11-14 22:13:20 UTC.
    page = rows(client.get(f"{URL}?action=history&offset=20231114221400&limit=5000"))
    before = [c for c in newest_first if c in set(page)]
    assert page == before and 0 < len(page) < REVISIONS
    after = rows(client.get(f"{URL}?action=history&offset=20231114221400&dir=prev&limit=5000"))
    # Newer is after that second, as MediaWiki's whole-second times: the six revisions made
    # within 22:14:00 (two 500 ms steps of three) are on neither side.
    assert after == newest_first[:len(after)] and page == newest_first[len(after) + 6:]
    # To the millisecond: only the three made at 22:14:00.000 are on neither side.
    newer = rows(client.get(f"{URL}?action=history&offset=20231114221400000&dir=prev&limit=5000"))
    older = rows(client.get(f"{URL}?action=history&offset=20231114221400000&limit=5000"))
    assert older == page and newer == newest_first[:len(newer)] and len(newer) + 3 + len(older) == REVISIONS


@pytest.mark.parametrize("query", [
    "limit=0", "limit=-1", "limit=abc", "limit=1e3", "limit=%00", "limit=%D9%A3", "limit=000",
    "offset=garbage", "offset=2024", "offset=20241399000000", "offset=20240101000000%7Cx",
    "offset=20240101000000%7C99999999999999999999999", "dir=sideways", "offset=%00",
])
def test_bad_history_parameters_are_400(served, query):
    _, client, _ = served
    response = client.get(f"{URL}?action=history&{query}")
    assert response.status_code == 400, (query, response.status_code)
    assert "limit" in response.text or "offset" in response.text or "dir" in response.text


def test_a_limit_over_5000_is_cut_to_5000_as_in_mediawiki(served):
    _, client, newest_first = served
    assert rows(client.get(f"{URL}?action=history&limit=100000")) == newest_first
    assert rows(client.get(f"{URL}?action=history&limit={'9' * 5000}")) == newest_first  # no int() of 5000 digits


def test_the_store_answers_one_page_from_its_index(served):
    node_dir, _, newest_first = served
    node = Node.open(node_dir)
    try:
        page_id = node.store.page("w", 0, "Long story").id
        seen, offset = [], None
        while True:
            chunk = node.store.history_page(page_id, 128, offset)
            if not chunk:
                break
            seen += [r.cid_str for r in chunk]
            offset = (chunk[-1].ts, chunk[-1].id)
        assert seen == newest_first
    finally:
        node.close()


@pytest.mark.sqlite_only  # reads SQLite's EXPLAIN QUERY PLAN output
def test_a_page_of_history_reads_the_index_without_sorting(served):
    node_dir, _, _ = served
    node = Node.open(node_dir)
    try:
        page_id = node.store.page("w", 0, "Long story").id
        plan = " ".join(str(r) for r in node.store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM revisions WHERE page = ? AND (ts, id) < (?, ?) "
            "ORDER BY ts DESC, id DESC LIMIT ?", (page_id, 0, 0, 50)))
        assert "revisions_by_page" in plan and "TEMP B-TREE" not in plan  # no sort of the whole history
    finally:
        node.close()


def test_the_cli_history_takes_a_limit(served):
    node_dir, _, newest_first = served
    result = run_cli(node_dir, "history", "w", "Long story", "--limit", "3")
    assert result.code == 0, str(result)
    lines = result.out.strip().splitlines()
    assert len(lines) == 3 and all(cid in line for cid, line in zip(newest_first, lines))
    bad = run_cli(node_dir, "history", "w", "Long story", "--limit", "0")
    assert bad.code == 2 and "--limit" in bad.err and "Traceback" not in bad.err
