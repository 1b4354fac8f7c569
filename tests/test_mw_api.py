"""The Action API on a node (issue 12, item 3): real mwclient and pywikibot read a served node;
MediaWiki's error codes for bad requests; format versions 1 and 2; paraminfo from the module table;
index.php; and a comparison with a real MediaWiki 1.39 holding the same wiki (tests/mw_api_compare.py)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import mwclient
import pytest

from conftest import cli_env, run_cli, start_server, stop_server
from mediawiki_instance import MediaWikiInstance, MediaWikiUnavailable, check_available
from mw_api_compare import differences
from test_mediawiki import write_dump

from wikipeer.mediawiki.api import ApiCall, handle
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.registry import Module, _MODULES, register
from wikipeer.node import Node
from wikipeer.store.store import Store

WIKI = "apiwiki"
SECTIONED = "Intro text.\n== One ==\nfirst part\n=== One a ===\ninner\n== Two ==\nsecond part\n"
MANY = 30  # revisions of the page "Many": more than one batch of rvlimit=10
# (title, ns, page id, redirect, [(rev id, parent id, timestamp, contributor, minor, comment, text)])
PAGES = [
    ("Main Page", 0, 1, None, [
        (11, None, "2024-01-01T00:00:00Z", ("user", "Alice", 1), False, "first", "Welcome."),
        (12, 11, "2024-01-02T00:00:00Z", ("ip", "192.0.2.1"), True, "typo", "Welcome!"),
        (13, 12, "2024-01-03T00:00:00Z", ("user", "Bob", 2), False, "categorise",
         "Welcome! A banana page.\n[[Category:Things]]"),
    ]),
    ("Talk:Main Page", 1, 2, None, [(21, None, "2024-01-04T00:00:00Z", ("user", "Bob", 2), False, "hi", "Talk.")]),
    ("User:Alice", 2, 3, None, [(31, None, "2024-01-05T00:00:00Z", ("user", "Alice", 1), False, "me", "I am Alice.")]),
    ("Wikipedia:About", 4, 4, None, [
        (41, None, "2024-01-06T00:00:00Z", ("user", "Alice", 1), False, "about", "About v1"),
        (42, 41, "2024-01-07T00:00:00Z", ("user", "Carol", 3), False, "about more", "About v2"),
    ]),
    ("Template:Box", 10, 5, None, [(51, None, "2024-01-08T00:00:00Z", ("user", "Bob", 2), False, "tpl", "{{{1}}}")]),
    ("Category:Things", 14, 6, None, [(61, None, "2024-01-09T00:00:00Z", ("user", "Bob", 2), False, "cat", "Things.")]),
    ("Apple", 0, 7, None, [
        (71, None, "2024-01-10T00:00:00Z", ("user", "Carol", 3), False, "new", "An apple."),
        (72, 71, "2024-01-11T00:00:00Z", ("user", "Carol", 3), False, "sections", SECTIONED + "[[Category:Things]]"),
    ]),
    ("Old name", 0, 8, "Apple", [
        (81, None, "2024-01-12T00:00:00Z", ("user", "Alice", 1), False, "move", "#REDIRECT [[Apple]]"),
    ]),
    ("Many", 0, 9, None, [
        (900 + n, (900 + n - 1) if n else None, f"2024-02-{n // 24 + 1:02d}T{n % 24:02d}:00:00Z",
         ("user", "Carol", 3), n % 2 == 1, f"edit {n}", f"Many text number {n}") for n in range(MANY)
    ]),
]


def all_revisions() -> list[tuple]:
    return [rev for page in PAGES for rev in page[4]]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A node holding the wiki of PAGES (imported from a dump), served; yields (client, api URL)."""
    tmp = tmp_path_factory.mktemp("mw-api")
    dump = tmp / "dump.xml"
    write_dump(dump, WIKI, PAGES)
    node = tmp / "node"
    for args in (("init",), ("import", "--quiet", str(dump))):
        result = run_cli(node, *args, timeout=120)
        assert result.code == 0, str(result)
    proc, client = start_server(node)
    yield client, f"{client.base_url}/w/{WIKI}/api.php"
    stop_server(proc, client)


def get(client: httpx.Client, **params) -> dict:
    params.setdefault("format", "json")
    return client.get(f"/w/{WIKI}/api.php", params=params).json()


def site(client: httpx.Client) -> mwclient.Site:
    return mwclient.Site(client.base_url.netloc.decode(), path=f"/w/{WIKI}/", scheme="http")


# -- mwclient, unchanged -----------------------------------------------------------------------------------


def test_mwclient_reads_pages_and_history(served) -> None:
    client, _ = served
    wiki = site(client)
    assert wiki.version[:2] == (1, 39)
    page = wiki.pages["Main Page"]
    assert page.exists and page.text() == "Welcome! A banana page.\n[[Category:Things]]"
    history = list(page.revisions(prop="ids|timestamp|user|comment|size|sha1|flags"))
    assert [(r["user"], r["comment"]) for r in history] == [("Bob", "categorise"), ("192.0.2.1", "typo"),
                                                           ("Alice", "first")]
    texts = ["Welcome! A banana page.\n[[Category:Things]]", "Welcome!", "Welcome."]
    assert [r["sha1"] for r in history] == [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    assert [r["size"] for r in history] == [len(t.encode()) for t in texts]
    assert history[0]["parentid"] == history[1]["revid"] and history[2]["parentid"] == 0
    assert "anon" in history[1] and "minor" in history[1] and "minor" not in history[0]
    assert not wiki.pages["No such page"].exists


def test_mwclient_follows_history_continuation(served) -> None:
    client, _ = served
    revs = list(site(client).pages["Many"].revisions(dir="newer", prop="ids|comment", api_chunk_size=7))
    assert [r["comment"] for r in revs] == [f"edit {n}" for n in range(MANY)]


def test_mwclient_lists(served) -> None:
    client, _ = served
    wiki = site(client)
    assert [p.name for p in wiki.allpages()] == ["Apple", "Main Page", "Many", "Old name"]
    assert [p.name for p in wiki.allpages(namespace=4)] == ["Wikipedia:About"]
    assert [p.name for p in wiki.allpages(filterredir="redirects")] == ["Old name"]
    changes = list(wiki.recentchanges(prop="title|timestamp|ids|user|comment|sizes|flags", api_chunk_size=5))
    assert len(changes) == len(all_revisions())
    stamps = [c["timestamp"] for c in changes]
    assert stamps == sorted(stamps, reverse=True)
    assert changes[0]["title"] == "Many" and changes[0]["comment"] == f"edit {MANY - 1}"
    assert [p.name for p in wiki.categories["Things"]] == ["Apple", "Main Page"]
    assert [r["title"] for r in wiki.search("banana")] == ["Main Page"]
    contribs = list(wiki.usercontributions("Alice"))
    assert sorted(c["title"] for c in contribs) == ["Main Page", "Old name", "User:Alice", "Wikipedia:About"]


def test_generators_give_pages_with_their_properties(served) -> None:
    client, _ = served
    answer = get(client, action="query", generator="allpages", gaplimit=2, prop="info", formatversion=2)
    assert [p["title"] for p in answer["query"]["pages"]] == ["Apple", "Main Page"]
    assert answer["continue"]["gapcontinue"] == "Many"
    assert all("lastrevid" in p for p in answer["query"]["pages"])
    nxt = get(client, action="query", generator="allpages", gaplimit=2, prop="info", formatversion=2,
              **answer["continue"])
    assert [p["title"] for p in nxt["query"]["pages"]] == ["Many", "Old name"] and "continue" not in nxt
    members = get(client, action="query", generator="categorymembers", gcmtitle="Category:Things", formatversion=2)
    assert sorted(p["title"] for p in members["query"]["pages"]) == ["Apple", "Main Page"]


def test_redirects_normalized_missing_and_invalid_titles(served) -> None:
    client, _ = served
    answer = get(client, action="query", titles="old_name|main_Page|Nowhere|Bad[title", redirects=1,
                 formatversion=2)
    query = answer["query"]
    assert query["normalized"] == [{"fromencoded": False, "from": "old_name", "to": "Old name"},
                                   {"fromencoded": False, "from": "main_Page", "to": "Main Page"}]
    assert query["redirects"] == [{"from": "Old name", "to": "Apple"}]
    pages = {p["title"]: p for p in query["pages"]}
    assert pages["Nowhere"]["missing"] is True and "pageid" not in pages["Nowhere"]
    assert pages["Bad[title"]["invalid"] is True and "invalidreason" in pages["Bad[title"]
    assert pages["Apple"]["pageid"] > 0 and pages["Main Page"]["ns"] == 0


def test_revision_ranges_and_sections(served) -> None:
    client, _ = served
    newest = get(client, action="query", prop="revisions", titles="Many", rvlimit=3, formatversion=2)
    revs = newest["query"]["pages"][0]["revisions"]
    assert [r["comment"] for r in revs] == [f"edit {n}" for n in (MANY - 1, MANY - 2, MANY - 3)]
    assert "rvcontinue" in newest["continue"]
    ranged = get(client, action="query", prop="revisions", titles="Many", rvdir="newer", rvlimit=50,
                 rvstartid=revs[2]["revid"], rvendid=revs[0]["revid"], formatversion=2)
    assert [r["revid"] for r in ranged["query"]["pages"][0]["revisions"]] == [r["revid"] for r in reversed(revs)]
    timed = get(client, action="query", prop="revisions", titles="Many", rvlimit=50, rvstart="2024-02-01T05:00:00Z",
                rvend="2024-02-01T03:00:00Z", formatversion=2)
    assert [r["comment"] for r in timed["query"]["pages"][0]["revisions"]] == ["edit 5", "edit 4", "edit 3"]
    section = get(client, action="query", prop="revisions", titles="Apple", rvprop="content", rvslots="main",
                  rvsection=1, formatversion=2)
    assert section["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"] == \
        "== One ==\nfirst part\n=== One a ===\ninner"
    mixed = get(client, action="query", prop="revisions", titles="Many|Apple", rvlimit=2)
    assert mixed["error"]["code"] == "invalidparammix"


def test_revids_and_rvprop_wikipeer(served) -> None:
    client, _ = served
    history = get(client, action="query", prop="revisions", titles="Apple", rvlimit=5, formatversion=2)
    old = history["query"]["pages"][0]["revisions"][-1]["revid"]
    answer = get(client, action="query", revids=f"{old}|999999", rvprop="ids|content|wikipeer", prop="revisions",
                 rvslots="main", formatversion=2)
    rev = answer["query"]["pages"][0]["revisions"][0]
    assert rev["slots"]["main"]["content"] == "An apple."
    proof = rev["wikipeer"]
    assert proof["cid"].startswith("b") and proof["origin"]["rev_id"] == 71
    assert [s["role"] for s in proof["signatures"]] == ["node"]
    assert answer["query"]["badrevids"] == {"999999": {"revid": 999999, "missing": True}}
