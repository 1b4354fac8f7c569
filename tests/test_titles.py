"""Titles as MediaWiki normalises them, at every door: the normaliser itself
(property tests), page objects at ingest, the CLI, the web page, the RPC
lookup and dump import."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Author, assert_user_error, run_cli, start_server, stop_server
from wikipeer.authoring import edit_blocks
from wikipeer.ingest import REJECTED
from wikipeer.model.objects import Page, build_page
from wikipeer.model.title import BadTitle, WikiConfig, clean_title, normalize_title
from wikipeer.net import rpc

WIKI = WikiConfig("w")
NFC = "Café"
NFD = unicodedata.normalize("NFD", NFC)
assert NFC != NFD

# Characters that exercise every rule: the refused ones, spaces and underscores of
# every kind, directional marks, escapes' ingredients, combining marks, letters
# whose upper case decomposes (U+0390, U+01F0), and anything else.
_SPECIAL = ("#<>[]|{}\x00\x1f\x7f\ufffd\ufffe\uffff _\u00a0\u2000\u3000\u180e\u200e\u200f\u202a\u202e"
            "%41&;amp#x:./~\u0301\u0308\u0390\u01f0\u00df\u0149eE")
_raw_titles = st.text(st.one_of(st.sampled_from(_SPECIAL), st.characters()), max_size=30)
_REFUSED = re.compile(r"[#<>\[\]|{}\x00-\x1f\x7f\ud800-\udfff\ufffd\ufffe\uffff\u200e\u200f\u202a-\u202e_]"
                      r"|%[0-9A-Fa-f]{2}|&[A-Za-z0-9\x80-\U0010ffff]+;|~~~|  |^ | $|^:")


@given(_raw_titles, st.sampled_from([None, 0, 1, 10]))
def test_normalising_is_idempotent_and_refused_characters_never_survive(raw, ns):
    try:
        title = normalize_title(WIKI, raw, ns)
    except BadTitle:
        return
    assert normalize_title(WIKI, title.full) == title, "a normal title reads back as itself"
    assert normalize_title(WIKI, title.text, title.ns) == title
    assert clean_title(title.text) == title.text
    assert unicodedata.is_normalized("NFC", title.text)
    assert not _REFUSED.search(title.text), title
    assert title.text and len(title.text.encode("utf-8")) <= 255


@pytest.mark.parametrize("raw, text", [
    (NFD, NFC),
    ("\u202eCafé\u200e", NFC),
    ("caf\u200fé", NFC),
    ("Caf&eacute;", NFC),
    ("Caf&#233;", NFC),
    ("Caf&#xE9;", NFC),
    ("AT&amp;T", "AT&T"),
    ("AT&T", "AT&T"),
    ("100%", "100%"),
    ("a\u180e_\u3000b", "A b"),
])
def test_shapes_of_one_title(raw, text):
    assert normalize_title(WIKI, raw).text == text


@pytest.mark.parametrize("raw, fragment", [
    ("%41", "escape '%41'"),
    ("a&bogus;b", "escape '&bogus;'"),
    (":", "empty title"),
    ("Talk:", "empty title"),
    ("\u202e", "empty title"),
    ("::Foo", "starts with a colon"),
    ("Talk:File:x", "talk page"),
    ("a[b", "character '['"),
    ("a\ufffdb", "U+FFFD"),
    ("a/../b", "relative path"),
    ("..", "relative path"),
    ("sig ~~~", "'~~~'"),
    ("A" * 256, "longer than 255 bytes"),
])
def test_refused_titles_say_why(raw, fragment):
    with pytest.raises(BadTitle, match=re.escape(fragment)):
        normalize_title(WIKI, raw)


# -- the page object: one GUID per title ------------------------------------------------


@pytest.mark.parametrize("title, reason", [
    (NFD, "not normalised"),
    ("\u202eCafé", "not normalised"),
    ("Caf&eacute;", "not normalised"),
    ("Caf_é", "not normalised"),
    ("%41", "escape"),
])
def test_ingest_refuses_a_page_object_whose_title_is_not_normal(node, author, title, reason):
    node.store.set_wiki_config(WIKI)
    blocks = author.edit(title, "text")
    report = node.ingest(blocks, "test")
    statuses = {s.cid: s for s in report.statuses}
    page = statuses[blocks[0].cid]
    assert page.state == REJECTED and reason in page.reason, page
    assert node.store.page("w", 0, title) is None


def test_ingest_refuses_a_title_that_names_another_namespace(node, author):
    node.store.set_wiki_config(WIKI)
    # {0, "Talk:Foo"} would be a second GUID for {1, "Foo"}.
    blocks = edit_blocks(Page("w", 0, "Talk:Foo"), "text", (), "s", author.key, author.public, 1)
    report = node.ingest(blocks, "test")
    assert any(s.state == REJECTED and "reads as 'Talk:Foo' in namespace 1" in s.reason for s in report.statuses), \
        [str(s) for s in report.statuses]
    assert node.store.page("w", 0, "Talk:Foo") is None


def test_nfc_and_nfd_page_objects_have_one_guid_because_only_nfc_is_a_page():
    assert normalize_title(WIKI, NFD).text == NFC
    assert build_page(Page("w", 0, normalize_title(WIKI, NFD).text)).cid == build_page(Page("w", 0, NFC)).cid


# -- the command line -------------------------------------------------------------------


def test_cli_edits_in_nfc_and_nfd_go_to_one_page(node_dir):
    assert run_cli(node_dir, "edit", "w", NFD, "--summary", "one", input="first").code == 0
    assert run_cli(node_dir, "edit", "w", NFC, "--summary", "two", input="second").code == 0
    assert run_cli(node_dir, "edit", "w", "\u202e" + NFC, "--summary", "three", input="third").code == 0
    history = run_cli(node_dir, "history", "w", NFD)
    assert history.code == 0 and len(history.out.splitlines()) == 3, str(history)
    assert run_cli(node_dir, "show", "w", NFC).out == "third"
    export = run_cli(node_dir, "export", "w", "-o", str(node_dir / "out.xml"))
    assert export.code == 0, str(export)
    assert (node_dir / "out.xml").read_text(encoding="utf-8").count("<title>") == 1


@pytest.mark.parametrize("raw, fragment", [
    ("%41", "escape"), (":", "empty title"), ("Talk:", "empty title"), ("a|b", "character"),
    ("a/./b", "relative path"), ("Talk:File:x", "talk page"), ("x" * 300, "255 bytes"),
])
def test_cli_refuses_bad_titles_in_one_line(node_dir, raw, fragment):
    assert_user_error(run_cli(node_dir, "edit", "w", raw, "--summary", "s", input="text"), fragment)
    assert_user_error(run_cli(node_dir, "show", "w", raw), fragment)


# -- the web page and the RPC lookup ----------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    node_dir = tmp_path_factory.mktemp("titles") / "node"
    assert run_cli(node_dir, "init").code == 0
    assert run_cli(node_dir, "edit", "w", NFC, "--summary", "s", input="the café page").code == 0
    proc, client = start_server(node_dir)
    try:
        yield client
    finally:
        stop_server(proc, client)


def test_web_finds_the_nfc_page_by_its_nfd_url(served):
    for name in (NFC, NFD, "\u202e" + NFD):
        response = served.get(f"/wiki/w/{quote(name)}")
        assert response.status_code == 200 and "the café page" in response.text, name


# (relative paths are covered by the CLI and RPC: an HTTP client resolves them before sending)
@pytest.mark.parametrize("raw", ["%2541", ":", "Talk:", "sig_~~~", "Talk:File:x", "a%26bogus;b", "a%E2%80%AE%7Cb"])
def test_web_answers_400_to_a_bad_title(served, raw):
    response = served.get(f"/wiki/w/{raw}")
    assert response.status_code == 400, (raw, response.status_code)
    assert "Bad title" in response.text


@pytest.mark.parametrize("raw", ["%41", ":", "Talk:", "a/../b", "Talk:File:x", "a&bogus;b", "x" * 300])
def test_rpc_lookup_refuses_a_bad_title(served, raw):
    answer = served.post("/rpc", json={"jsonrpc": "2.0", "method": "lookup", "params": [f"w/{raw}"], "id": 1}).json()
    assert answer["error"]["code"] == rpc.INVALID_PARAMS and "title" in answer["error"]["message"], answer


def test_rpc_lookup_finds_the_page_by_any_of_its_shapes(served):
    answers = set()
    for name in (NFC, NFD, "caf\u200fé", "Caf&eacute;"):
        answer = served.post("/rpc", json={"jsonrpc": "2.0", "method": "lookup", "params": [f"w/{name}"], "id": 1}).json()
        answers.add(answer["result"])
    assert len(answers) == 1 and None not in answers


# -- dump import ------------------------------------------------------------------------


def test_dump_import_normalises_titles_and_skips_unnormalisable_ones(node_dir, tmp_path):
    from test_dump import HEADER, page_xml  # the dump builder of the dump tests
    pages = [("Good", 0), (NFD, 0), ("a%41b", 0), ("Talk:Talk:x", 1), ("A ~~~ b", 0), ("Last", 0)]
    body = HEADER + "".join(page_xml(t, f"text {i}", i + 1, ns) for i, (t, ns) in enumerate(pages)) + "</mediawiki>\n"
    path = tmp_path / "titles.xml"
    path.write_text(body, encoding="utf-8")
    result = run_cli(node_dir, "import", str(path), "--wiki", "w")
    assert result.code == 0, str(result)
    warnings = result.err
    assert "'a%41b'" in warnings and "escape" in warnings
    assert "'Talk:Talk:x'" in warnings and "talk page" in warnings
    assert "'A ~~~ b'" in warnings
    for title in ("Good", NFC, "Last"):
        assert run_cli(node_dir, "show", "w", title).code == 0, title
