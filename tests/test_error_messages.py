"""Errors that point at the real mistake (issue 16, item 5), through the real command line and a served node.

An unknown wiki is named as one, with the nearest wikis the node holds; an unknown page names the
nearest titles; a subcommand's wrong argument prints that subcommand's usage; a cut-off or malformed
dump is told in our words (file, byte offset, last complete page, what to do), never libxml2's; a
blocklist pattern is quoted as its author wrote it.
"""

from __future__ import annotations

import bz2
import re
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from conftest import assert_user_error, copy_node, run_cli, start_server, stop_server
from wikipeer.node import Node
from wikipeer.store import nearest
from wikipeer.store.accounts import ACCOUNTS_FILE, Accounts
from wikipeer.web import pages
from wikipeer.web.errors import Missing
from wikipeer.web.site import Site

SAMPLE_WIKI = "wikipeer"
SIMPLEWIKI = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "wikipedia" / "simplewiki.xml"
PASSWORD = "correct horse battery staple"
PATTERN = r"casino\s+bonus"
LIBXML_WORDING = ("Premature end of data", "<string>", "Opening and ending tag mismatch", "column",
                  "end-of-stream marker", "Compressed file ended")


def no_traceback(result) -> None:
    assert "Traceback" not in result.err, str(result)


# -- unknown wiki, unknown page: the command line ---------------------------------------------------

@pytest.mark.parametrize("command", [["show", "wikipeeer", "Main Page"], ["history", "wikipeeer", "Main Page"],
                                     ["heads", "wikipeeer", "Main Page"],
                                     ["export", "wikipeeer", "-o", "-"], ["fork", "wikipeeer", "copy"],
                                     ["index", "--off", "wikipeeer"], ["recent", "--wiki", "wikipeeer"]])
def test_an_unknown_wiki_is_named_as_a_wiki_with_the_nearest_names(sample_node, command):
    result = run_cli(sample_node, *command)
    assert_user_error(result, "no wiki 'wikipeeer' on this node", "did you mean 'wikipeer'?", "its wikis: wikipeer")
    assert "no page" not in result.err


def test_an_unknown_wiki_on_an_empty_node_says_it_holds_none(node_dir):
    assert_user_error(run_cli(node_dir, "show", "anything", "Main Page"),
                      "no wiki 'anything' on this node; it holds none yet ('wikipeer import' or 'wikipeer edit' "
                      "makes one)")


def test_an_unknown_page_names_the_nearest_titles(sample_node):
    result = run_cli(sample_node, "show", SAMPLE_WIKI, "Signed objets")
    assert_user_error(result, "no page 'Signed objets' in wiki 'wikipeer'", "did you mean 'Signed objects'?")
    # Nothing near: no guess at all.
    result = run_cli(sample_node, "show", SAMPLE_WIKI, "Zzyzx qwv")
    assert_user_error(result, "no page 'Zzyzx qwv' in wiki 'wikipeer'")
    assert "did you mean" not in result.err


def test_a_large_namespace_is_searched_only_next_to_the_name(sample_node, monkeypatch):
    """Past ALL_TITLES pages the titles are not read whole: the neighbours on the title index still find
    a slip late in a title, or in its letter case."""
    monkeypatch.setattr(nearest, "ALL_TITLES", 2)
    monkeypatch.setattr(nearest, "NEIGHBOURS", 2)
    node = Node.open(sample_node)
    try:
        assert nearest.nearest_titles(node.store, SAMPLE_WIKI, 0, "Signed objetcs") == ["Signed objects"]
        assert nearest.nearest_titles(node.store, SAMPLE_WIKI, 0, "Signed Objects") == ["Signed objects"]
        reads: list[str] = []
        node.store.conn.set_trace_callback(reads.append)
        nearest.nearest_titles(node.store, SAMPLE_WIKI, 0, "Page histroy")
        node.store.conn.set_trace_callback(None)
        assert all("LIMIT" in sql for sql in reads), reads  # every read is bounded
    finally:
        node.close()


def test_a_missing_pages_404_asks_whether_the_wiki_is_held_without_listing_the_wikis(sample_node):
    """The "create this page" offer depends on the wiki being held: asked with two index lookups, not by
    listing every wiki (a scan of the pages table). The page's own menu of wikis lists them once."""
    node = Node.open(sample_node)
    try:
        site = Site(node, Accounts(node.dir / ACCOUNTS_FILE, node.keyring))
        request = Request({"type": "http", "method": "GET", "path": "/wiki/wikipeer/Not_here", "query_string": b"",
                           "headers": [], "scheme": "http", "server": ("127.0.0.1", 80)})
        with pytest.raises(Missing) as missing:
            pages.find(site, SAMPLE_WIKI, "Not here")
        reads: list[str] = []
        node.store.conn.set_trace_callback(reads.append)
        response = pages.missing(site, request, SAMPLE_WIKI, "Not here", missing.value)
        node.store.conn.set_trace_callback(None)
        assert response.status_code == 404 and b'class="create"' in response.body
        assert sum("SELECT DISTINCT wiki FROM pages" in sql for sql in reads) <= 1, reads
    finally:
        node.close()


# -- unknown wiki, unknown page: the web page, api.php, index.php -----------------------------------

@pytest.fixture(scope="module")
def served(_sample_template, tmp_path_factory):
    """The sample node with a blocklist and an account, served."""
    target = tmp_path_factory.mktemp("errors") / "node"
    copy_node(_sample_template, target)
    assert run_cli(target, "blocklist", "add", "spam", PATTERN).code == 0
    assert run_cli(target, "account", "add", "Alice", input=PASSWORD + "\n").code == 0
    proc, client = start_server(target)
    try:
        yield target, client
    finally:
        stop_server(proc, client)


def test_the_web_page_of_an_unknown_wiki_links_the_nearest(served):
    _, client = served
    page = client.get("/wiki/wikipeeer/Signed_objects")
    assert page.status_code == 404
    assert "No such wiki" in page.text and "No wiki &#39;wikipeeer&#39;" in page.text, page.text
    assert '<a href="/wiki/wikipeer/Signed_objects">wikipeer</a>' in page.text
    assert "No such page" not in page.text


def test_the_web_page_of_an_unknown_page_links_the_nearest_titles(served):
    _, client = served
    page = client.get("/wiki/wikipeer/Signed_objets")
    assert page.status_code == 404 and "No such page" in page.text
    assert '<a href="/wiki/wikipeer/Signed_objects">Signed objects</a>' in page.text, page.text


def test_api_php_and_index_php_name_the_nearest_wiki_and_title(served):
    _, client = served
    api = client.get("/w/wikipeeer/api.php", params={"action": "query", "meta": "siteinfo", "format": "json"})
    assert api.status_code == 404
    assert "No wiki 'wikipeeer'" in api.text and "did you mean 'wikipeer'?" in api.text, api.text
    raw = client.get("/w/wikipeer/index.php", params={"title": "Signed_objets", "action": "raw"})
    assert raw.status_code == 404 and "did you mean &#39;Signed objects&#39;?" in raw.text, raw.text
    raw = client.get("/w/wikipeeer/index.php", params={"title": "Signed_objects", "action": "raw"})
    assert raw.status_code == 404 and "did you mean &#39;wikipeer&#39;?" in raw.text, raw.text


def test_the_command_line_the_web_page_and_api_php_say_no_such_wiki_in_one_sentence(served):
    """One sentence (store/nearest.unknown_wiki), as a page's sentence on the web."""
    directory, client = served
    sentence = "no wiki 'wikipeeer' on this node (did you mean 'wikipeer'?); its wikis: wikipeer"
    cli = run_cli(directory, "show", "wikipeeer", "Main Page")
    assert cli.err.strip() == f"wikipeer: {sentence}", str(cli)
    on_the_web = "N" + sentence[1:] + "."
    page = client.get("/wiki/wikipeeer/Signed_objects").text
    assert on_the_web.replace("'", "&#39;") in page, page
    api = client.get("/w/wikipeeer/api.php", params={"action": "query", "meta": "siteinfo", "format": "json"})
    assert on_the_web[:-1] + " (each at /w/WIKI/api.php)." in api.text, api.text


def test_a_node_still_fetches_a_page_of_a_wiki_it_does_not_hold_yet(served, node_dir):
    """"No such wiki" is for the reader, not for the node: it still asks its peers, as for a missing page."""
    _, full = served
    assert run_cli(node_dir, "peer", "add", str(full.base_url).rstrip("/")).code == 0
    proc, client = start_server(node_dir)
    try:
        page = client.get("/wiki/wikipeer/Signed_objects")
        assert page.status_code == 200 and "Signed objects" in page.text, page.text
        missing = client.get("/wiki/wikipeeer/Signed_objects")
        assert missing.status_code == 404 and "did you mean &#39;wikipeer&#39;?" in missing.text, missing.text
    finally:
        stop_server(proc, client)


def test_the_edit_form_still_opens_on_the_first_page_of_a_new_wiki(served):
    _, client = served
    with httpx.Client(base_url=client.base_url, timeout=30) as web:
        _log_in(web)
        form = web.get("/wiki/brandnew/First_page?action=edit")
        assert form.status_code == 200 and "<textarea" in form.text, form.text


def _log_in(web: httpx.Client) -> None:
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    assert web.post("/login", data={"name": "Alice", "password": PASSWORD, "csrf": csrf}).status_code == 303


# -- a subcommand's own usage -----------------------------------------------------------------------

@pytest.mark.parametrize("args, usage", [
    (["sync", "--bogus"], "usage: wikipeer sync "),
    (["key", "list", "--bogus"], "usage: wikipeer key list "),
    (["trust", "list", "extra"], "usage: wikipeer trust list "),
    (["peer", "add", "http://127.0.0.1:9", "--bogus"], "usage: wikipeer peer add "),
    (["edit", "wikipeer"], "usage: wikipeer edit "),
    (["history", "wikipeer", "Main Page", "--limit", "many"], "usage: wikipeer history "),
    (["key", "bogus"], "usage: wikipeer key "),
    (["backup"], "usage: wikipeer backup "),
])
def test_a_subcommands_mistake_prints_its_own_usage(node_dir, args, usage):
    result = run_cli(node_dir, *args)
    assert result.code == 2, str(result)
    no_traceback(result)
    assert result.err.startswith(usage), str(result)
    assert "usage: wikipeer [-h]" not in result.err
    assert f"{usage.removeprefix('usage: ').strip()}: error:" in result.err, str(result)


def test_an_option_of_wikipeer_written_after_the_command_is_told_where_it_goes(node_dir):
    result = run_cli(None, "stats", "--node", str(node_dir))
    assert result.code == 2 and result.err.startswith("usage: wikipeer stats"), str(result)
    assert "--node is an option of 'wikipeer': write it before 'stats'" in result.err, str(result)


# -- dumps that are cut off or malformed ------------------------------------------------------------

def _pages(xml: bytes) -> list[bytes]:
    """simplewiki.xml as its header, each <page> and its footer."""
    starts = [m.start() for m in re.finditer(rb"  <page>", xml)]
    end = xml.rindex(b"</mediawiki>")
    return [xml[:starts[0]], *(xml[a:b] for a, b in zip(starts, [*starts[1:], end])), xml[end:]]


def _titles(xml: bytes) -> list[str]:
    return [t.decode() for t in re.findall(rb"<title>(.*?)</title>", xml)]


def _held_titles(node_dir: Path) -> set[str]:
    node = Node.open(node_dir)
    try:
        config = node.wiki_or_default("simplewiki")
        return {config.full_title(row.ns, row.title) for row in node.store.pages("simplewiki")}
    finally:
        node.close()


def test_a_cut_off_plain_dump_names_the_file_the_offset_and_the_last_page(node_dir, tmp_path):
    xml = SIMPLEWIKI.read_bytes()
    parts = _pages(xml)
    cut_at = len(b"".join(parts[:4])) + len(parts[4]) // 2  # in the middle of the fourth page
    cut = tmp_path / "simplewiki-cut.xml"
    cut.write_bytes(xml[:cut_at])
    titles = _titles(xml)
    result = run_cli(node_dir, "import", str(cut), "--index-later")
    assert result.code == 3, str(result)
    no_traceback(result)
    assert f"wikipeer: {cut}: the dump is cut off at byte offset {cut_at} of its XML" in result.err, result.err
    assert f"the last complete page is {titles[2]!r}" in result.err
    assert f"The pages up to {titles[2]!r} are imported" in result.err
    assert "get the whole file and run the same 'wikipeer import' again" in result.err
    assert not [w for w in LIBXML_WORDING if w in result.err], result.err
    assert _held_titles(node_dir) == set(titles[:3])
    # Doing what it says finishes the import.
    whole = run_cli(node_dir, "import", str(SIMPLEWIKI), "--index-later")
    assert whole.code == 0 and f"imported {len(titles)} pages" in whole.out, str(whole)
    assert _held_titles(node_dir) == set(titles)


def test_a_cut_off_multistream_bz2_dump_is_told_in_our_words(node_dir, tmp_path):
    """Wikipedia's multistream dumps are bz2 streams of a few pages each; this one ends inside its third."""
    xml = SIMPLEWIKI.read_bytes()
    parts = _pages(xml)
    streams = [bz2.compress(parts[0] + parts[1] + parts[2]), bz2.compress(parts[3] + parts[4]),
               bz2.compress(b"".join(parts[5:]))]
    packed = tmp_path / "simplewiki-multistream.xml.bz2"
    packed.write_bytes(streams[0] + streams[1] + streams[2][:len(streams[2]) // 2])
    titles = _titles(xml)
    result = run_cli(node_dir, "import", str(packed), "--index-later")
    assert result.code == 3, str(result)
    no_traceback(result)
    assert f"wikipeer: {packed}: the dump is cut off at byte offset" in result.err, result.err
    assert "its compressed data ends early" in result.err
    assert f"the last complete page is {titles[3]!r}" in result.err
    assert not [w for w in LIBXML_WORDING if w in result.err], result.err
    assert _held_titles(node_dir) == set(titles[:4])


def test_a_bz2_dump_cut_inside_its_first_block_imported_nothing(node_dir, tmp_path):
    packed = tmp_path / "simplewiki.xml.bz2"
    packed.write_bytes(bz2.compress(SIMPLEWIKI.read_bytes())[:5000])
    result = run_cli(node_dir, "import", str(packed), "--index-later")
    assert result.code == 3, str(result)
    no_traceback(result)
    assert "before the first block is complete" in result.err and "Nothing was imported from it" in result.err
    assert not [w for w in LIBXML_WORDING if w in result.err], result.err


def test_malformed_xml_names_the_problem_and_the_line_of_the_file(node_dir, tmp_path):
    xml = SIMPLEWIKI.read_bytes()
    parts = _pages(xml)
    broken = parts[3].replace(b"</title>", b"</titel>", 1)
    bad = tmp_path / "simplewiki-bad.xml"
    bad.write_bytes(b"".join(parts[:3]) + broken + b"".join(parts[4:]))
    line = (b"".join(parts[:3]) + broken).split(b"</titel>")[0].count(b"\n") + 1
    titles = _titles(xml)
    result = run_cli(node_dir, "import", str(bad), "--index-later")
    assert result.code == 2, str(result)
    no_traceback(result)
    assert (f"wikipeer: {bad}: malformed XML after page {titles[1]!r}: an end tag does not match the start tag "
            f"it closes on line {line} of the file") in result.err, result.err
    assert "mend the file (or fetch it again) and run the same 'wikipeer import' again" in result.err
    assert not [w for w in LIBXML_WORDING if w in result.err], result.err


# -- blocklist patterns as written ------------------------------------------------------------------

def test_patterns_are_quoted_as_written_on_the_command_line(sample_node):
    assert run_cli(sample_node, "blocklist", "add", "spam", PATTERN).code == 0
    refused = run_cli(sample_node, "edit", SAMPLE_WIKI, "Offer", "-m", "x", input="a casino  bonus today\n")
    assert_user_error(refused, f"matches pattern '{PATTERN}' of blocklist 'spam'")
    assert "\\\\" not in refused.err
    missing = run_cli(sample_node, "blocklist", "remove", "spam", r"poker\d+")
    assert_user_error(missing, r"not in the blocklist 'spam': 'poker\d+'")
    backref = run_cli(sample_node, "blocklist", "add", "spam", r"(a)\1")
    assert backref.code == 2 and r"the pattern '(a)\1' cannot be used" in backref.err, str(backref)
    assert "\\\\" not in backref.err


def test_patterns_are_quoted_as_written_on_the_web_page_and_api_php(served):
    _, client = served
    with httpx.Client(base_url=client.base_url, timeout=30) as web:
        _log_in(web)
        form = web.get("/wiki/wikipeer/Offer?action=edit")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        saved = web.post("/wiki/wikipeer/Offer", data={"csrf": csrf, "parents": "", "summary": "x",
                                                       "text": "a casino \t bonus today\n"})
        assert saved.status_code in (400, 403, 409, 422), saved.text
        assert f"pattern &#39;{PATTERN}&#39; of blocklist &#39;spam&#39;" in saved.text, saved.text

        api = "/w/wikipeer/api.php"
        token = web.get(api, params={"action": "query", "meta": "tokens", "format": "json"}).json()
        answer = web.post(api, data={"action": "edit", "title": "Offer", "text": "casino bonus", "summary": "x",
                                     "token": token["query"]["tokens"]["csrftoken"], "format": "json",
                                     "formatversion": "2"}).json()
        assert answer["error"]["code"] == "hookaborted", answer
        assert f"pattern '{PATTERN}' of blocklist 'spam'" in answer["error"]["info"], answer
