"""What a search result shows (issue 16, item 1): the text a reader sees around the first match, never
wikitext; the matched words marked (``<mark>`` on the web, bold on a terminal, ``searchmatch`` spans in
api.php) around escaped text; an exact title match first; in every script of the real samples.

One node holds the first articles of each real sample (``../shared/data/wikipedia``) under its wiki's
own configuration, and a few pages of our own (right-to-left text, which no sample has; hostile HTML;
titles to rank). It is served once for the web, api.php and Chromium tests.
"""

from __future__ import annotations

import html
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.register_assert_rewrite("browser_support")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ lives beside tests/, not in the package

from bench.search_snippets_bench import first_articles  # noqa: E402
from browser_support import assert_png, open_tab, screenshot  # noqa: E402
from conftest import CLI, cli_env, run_cli, start_server, stop_server  # noqa: E402
from dumps import sample  # noqa: E402
from wikipeer.authoring import edit_blocks  # noqa: E402
from wikipeer.formats.dump_convert import wiki_config  # noqa: E402
from wikipeer.ingest import ingest  # noqa: E402
from wikipeer.model.objects import Page  # noqa: E402
from wikipeer.model.title import DEFAULT_NAMESPACES, WikiConfig  # noqa: E402
from wikipeer.node import Node  # noqa: E402
from wikipeer.model.plaintext import hidden_prefixes, plain_text  # noqa: E402
from wikipeer.snippets import page_snippet  # noqa: E402

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

pytest_plugins = ["browser_support"]

SAMPLES = ["enwiki-articles-partial.xml", "simplewiki.xml", "jawiki", "ukwiki", "viwiki", "mrwiki"]
ARTICLES = 12  # per sample: enough pages of each script, a few seconds to build
WIKITEXT = ("{{", "}}", "[[", "]]", "'''", "<ref", "{|")
MARK = re.compile(r"<mark>(.*?)</mark>")
OWN = "own"
HEBREW = WikiConfig("hewiki", lang="he", namespaces={**DEFAULT_NAMESPACES, 14: "קטגוריה", 10: "תבנית"})
RTL_TEXT = ("{{תבנית|x=1}}'''ירושלים''' היא [[עיר|העיר]] הגדולה בישראל.<ref>מקור</ref> "
            "[[קטגוריה:ערים]]\n== היסטוריה ==\nירושלים עתיקה מאוד.")
HOSTILE = ("'''zebra''' &lt;script&gt;alert(\"x\")&lt;/script&gt; <b onmouseover=\"alert(1)\">hover</b> "
           "&lt;mark&gt;fake&lt;/mark&gt; &lt;img src=x onerror=alert(2)&gt; zebra")
OWN_PAGES = {
    "Stripes": HOSTILE,
    # Ranked by bm25 these come before the page titled exactly as the query, which holds the word once.
    "Quokka facts": "quokka quokka quokka. The quokka is small. Quokka quokka.",
    "Quokka island": "quokka quokka quokka quokka, and more quokka.",
    "Quokka": "A small marsupial (''[[Setonix]]''): the only quokka.",
}


@dataclass
class Article:
    """A page of a sample, with a word a reader sees in it (never taken from hard-coded text)."""

    wiki: str
    title: str
    word: str


def _word(text: str) -> str | None:
    """A word of the page as a reader sees it: a run of Han characters in unspaced text, else a long word."""
    han = re.findall(r"[\u4e00-\u9fff]{2,3}", text)
    if han:
        return han[len(han) // 2]
    words = [w for w in re.findall(r"[^\W\d_]{7,}", text)]
    return words[len(words) // 2] if words else None


@dataclass
class Built:
    dir: Path
    articles: list[Article]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    directory = tmp_path_factory.mktemp("search-display") / "node"
    node = Node.init(directory)
    articles = []
    try:
        identity = node.user_key()
        key, public = node.keyring.signing_key(identity.name), identity.public
        for name in SAMPLES:
            info, pages = first_articles(sample(name), ARTICLES)
            config = wiki_config(info)
            node.store.set_wiki_config(config)
            hidden = hidden_prefixes(config)
            for page in pages:
                text = page.revisions[-1].text
                _ingest(node, edit_blocks(Page(config.name, 0, page.title), text, (), "import", key, public, 1_000))
                word = _word(plain_text(text, hidden))
                if word:
                    articles.append(Article(config.name, page.title, word))
        node.store.set_wiki_config(HEBREW)
        _ingest(node, edit_blocks(Page(HEBREW.name, 0, "ירושלים"), RTL_TEXT, (), "own", key, public, 1_000))
        node.wiki(OWN)
        for title, text in OWN_PAGES.items():
            _ingest(node, edit_blocks(Page(OWN, 0, title), text, (), "own", key, public, 1_000))
        node.catch_up_index()
    finally:
        node.close()
    return Built(directory, articles)


def _ingest(node: Node, blocks) -> None:
    report = ingest(node.store, blocks, "test")
    assert all(s.state == "accepted" for s in report.statuses), [str(s) for s in report.statuses]


@pytest.fixture(scope="module")
def node(built) -> Iterator[Node]:
    opened = Node.open(built.dir)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def served(built):
    proc, client = start_server(built.dir)
    yield client
    stop_server(proc, client)


# -- snippets of the real samples ------------------------------------------------------------


@pytest.mark.parametrize("wiki", ["enwiki", "simplewiki", "jawiki", "ukwiki", "viwiki", "mrwiki"])
def test_snippets_of_the_real_samples_show_no_wikitext_and_mark_the_word(node, built, wiki):
    articles = [a for a in built.articles if a.wiki == wiki]
    assert len(articles) >= 3, f"too few articles of {wiki} with a word: {articles}"
    for article in articles:
        hits = [row for row, _ in node.store.search(article.word, limit=100) if row.wiki == wiki]
        assert article.title in [row.title for row in hits], (article, [row.title for row in hits])
        for row in hits:
            snippet = page_snippet(node, row, article.word)
            for fragment in WIKITEXT:
                assert fragment not in snippet.text, (row.title, fragment, snippet.text)
            marked = MARK.findall(snippet.html())
            if row.title == article.title:  # another page may hold the word only in its markup (a link's target)
                assert marked, (row.title, article.word, snippet.text)
            assert all(article.word.lower() in html.unescape(m).lower() for m in marked), (article.word, marked)


def test_a_cjk_match_marks_the_matched_run_inside_unspaced_text(node, built):
    article = next(a for a in built.articles if a.wiki == "jawiki")
    row = next(row for row, _ in node.store.search(article.word) if row.title == article.title)
    snippet = page_snippet(node, row, article.word)
    before, marked, _ = re.split(r"</?mark>", snippet.html(), maxsplit=2)
    assert marked == article.word
    assert before and not before.endswith(" "), "the run is marked in the middle of unspaced text"


def test_right_to_left_text_is_plain_and_marked(node):
    rows = [row for row, _ in node.store.search("ירושלים")]
    assert [row.title for row in rows][0] == "ירושלים"  # the exact title, first
    snippet = page_snippet(node, rows[0], "ירושלים")
    assert snippet.text.startswith("ירושלים היא העיר הגדולה בישראל.")
    assert "מקור" not in snippet.text and "קטגוריה" not in snippet.text and "תבנית" not in snippet.text
    assert MARK.findall(snippet.html()) == ["ירושלים", "ירושלים"]


def test_plain_text_keeps_what_a_reader_reads_and_drops_the_rest():
    wikitext = ("{{pp|small=yes}}{{Other uses|x}}\n<!-- note -->'''Kyiv''' ({{lang-uk|Київ}}) is the "
                "[[capital city|capital]] of [[Ukraine]].<ref name=a>{{cite web|url=x}}</ref><ref name=a/>\n"
                "[[File:Kyiv.jpg|thumb|The [[Dnipro]] at dusk]][[Файл:K.png|міні]]\n"
                "{| class=wikitable\n|-\n| cell {{flag}}\n{|\n| inner\n|}\n|}\n"
                "== History ==\n* ''Founded'' in [https://example.org the 5th century] &amp; grew.__NOTOC__\n"
                "[[Category:Capitals]] [[de:Kiew]] [[:de:Kiew|German]]")
    config = WikiConfig("ukwiki", namespaces={**DEFAULT_NAMESPACES, 6: "Файл"})
    assert plain_text(wikitext, hidden_prefixes(config)) == (
        "Kyiv is the capital of Ukraine.\n\nHistory\nFounded in the 5th century & grew.\nGerman")


# -- ranking -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["quokka", "QUOKKA", " Quokka ", '"quokka"'])
def test_an_exact_title_match_ranks_first(node, query):
    titles = [row.title for row, _ in node.store.search(query) if row.wiki == OWN]
    assert titles[0] == "Quokka", titles
    assert set(titles) == {"Quokka", "Quokka facts", "Quokka island"}


def test_an_exact_title_match_of_two_words_ignores_case_and_underscores(node):
    titles = [row.title for row, _ in node.store.search("quokka ISLAND") if row.wiki == OWN]
    assert titles == ["Quokka island"]
    titles = [row.title for row, _ in node.store.search("quokka_island") if row.wiki == OWN]
    assert titles == ["Quokka island"]  # as a title is written in a URL
    titles = [row.title for row, _ in node.store.search("island quokka") if row.wiki == OWN]
    assert titles == ["Quokka island"]  # not the title as written: no exact match, still found


@pytest.mark.parametrize("wiki", ["ukwiki", "jawiki", "mrwiki", "viwiki"])
def test_an_exact_title_match_ranks_first_in_a_real_sample(node, built, wiki):
    """An article's title, searched in capitals where the script has them: that article comes first among
    all that hold the title's words, in each script of the samples (Cyrillic, Japanese, Devanagari, Latin
    with Vietnamese diacritics)."""
    contested = 0
    for article in (a for a in built.articles if a.wiki == wiki):
        rows = [(row.wiki, row.title) for row, _ in node.store.search(article.title.upper(), limit=200)]
        if len(rows) > 1:  # another page holds the title's words too: the ranking decides
            assert rows[0] == (wiki, article.title), rows
            contested += 1
    assert contested, f"no article title of {wiki} is found in another page"


# -- what the web page, the terminal and api.php show -----------------------------------------------


def _results(page_html: str) -> str:
    return page_html.split('<ul class="results">', 1)[1].split("</ul>", 1)[0]


def test_the_web_page_marks_matches_in_escaped_text(served):
    response = served.get("/search", params={"q": "zebra", "wiki": OWN})
    assert response.status_code == 200
    results = _results(response.text)
    assert results.count("<mark>zebra</mark>") == 2
    assert "&lt;script&gt;alert" in results and "<script" not in results
    assert "&lt;img src=x onerror=alert(2)&gt;" in results and "<img" not in results
    assert "&lt;mark&gt;fake&lt;/mark&gt;" in results  # text that looks like a mark stays text
    assert "onmouseover" not in results and "'''" not in results
    tags = set(re.findall(r"</?([a-z]+)", results))
    assert tags <= {"li", "a", "span", "div", "mark"}, tags
    assert '<div class="snippet" dir="auto">' in results


def test_a_query_with_html_is_escaped_too(served):
    response = served.get("/search", params={"q": "<mark>zebra", "wiki": OWN})
    assert response.status_code == 200
    assert "<mark><mark>" not in response.text and "&lt;mark&gt;zebra" in response.text


def test_cli_marks_matches_bold_on_a_terminal(built):
    main, secondary = pty.openpty()
    proc = subprocess.Popen([*CLI, "--node", str(built.dir), "search", "zebra"], stdin=subprocess.DEVNULL,
                            stdout=secondary, stderr=subprocess.PIPE, env=cli_env({"TERM": "xterm-256color"}))
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()
    proc.stderr.close()
    shown = b"".join(chunks).decode("utf-8")
    assert re.search(r"\x1b\[1m(\x1b\[[0-9;]*m)*zebra", shown), repr(shown)
    assert "<script>alert" in shown  # the text as the reader sees it, not escaped for HTML


def test_cli_prints_plain_text_when_not_a_terminal(built):
    result = run_cli(built.dir, "search", "zebra")
    assert result.code == 0, str(result)
    line = next(line for line in result.out.splitlines() if line.startswith(f"{OWN}: Stripes"))
    assert "\x1b" not in result.out
    assert line == f'{OWN}: Stripes  zebra <script>alert("x")</script> hover <mark>fake</mark> ' \
                   "<img src=x onerror=alert(2)> zebra"


def test_api_snippet_uses_searchmatch_spans(served):
    answer = served.get(f"/w/{OWN}/api.php", params={
        "action": "query", "list": "search", "srsearch": "quokka", "srprop": "snippet|titlesnippet",
        "format": "json"}).json()
    found = answer["query"]["search"]
    assert found[0]["title"] == "Quokka"
    assert found[0]["snippet"] == 'A small marsupial (Setonix): the only <span class="searchmatch">quokka</span>.'
    assert found[0]["titlesnippet"] == '<span class="searchmatch">Quokka</span>'
    answer = served.get(f"/w/{OWN}/api.php", params={
        "action": "query", "list": "search", "srsearch": "zebra", "format": "json"}).json()
    snippet = answer["query"]["search"][0]["snippet"]
    assert snippet.startswith('<span class="searchmatch">zebra</span> &lt;script&gt;'), snippet


# -- in Chromium ------------------------------------------------------------------------------------


def test_search_page_in_chromium_shows_visible_marks(served, built, browser):
    article = next(a for a in built.articles if a.wiki == "ukwiki")
    with open_tab(browser, str(served.base_url)) as tab:
        page = tab.page
        page.goto(f"/search?q={article.word}")
        marks = page.locator("ul.results .snippet mark")
        marks.first.wait_for(state="visible")
        assert marks.count() >= 1
        style = marks.first.evaluate("m => [getComputedStyle(m).backgroundColor, getComputedStyle(m).fontWeight]")
        assert style[0] not in ("rgba(0, 0, 0, 0)", "transparent") and int(style[1]) >= 600, style
        assert article.word.lower() in marks.first.inner_text().lower()
        snippets = page.locator("ul.results .snippet").all_inner_texts()
        assert snippets and not any(f in s for s in snippets for f in WIKITEXT), snippets
        path = screenshot(page, "search")
        assert_png(path)
        assert tab.errors == [] and tab.dialogs == []
