"""The web page in a real headless Chromium (Debian's, driven by Playwright):
reading, searching and following links on the Ukrainian sample; logging in,
editing, history, diff, a fork and its merge; hostile page text; a
right-to-left wiki. Screenshots go to build/screenshots/ for a person to see.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
from playwright.sync_api import Page, expect

pytest.register_assert_rewrite("browser_support")  # before its import: its asserts explain themselves

from browser_support import (PASSWORD, UK_WIKI, Tab, assert_png, open_tab, page_path, screenshot, serve, title_of,
                             unique_name)
from conftest import run_cli, store_connect

pytest_plugins = ["browser_support"]

_WORD = re.compile(r"\b[^\W\d_]{4,}\b")


def register(page: Page, returnto: str) -> str:
    """Create an account through /register (which logs it in) and come back to ``returnto``."""
    name = unique_name()
    page.goto(f"/register?returnto={quote(returnto)}")
    expect(page.locator("h1")).to_have_text("Create account")
    assert page.locator("form.login input[type=hidden][name=csrf]").get_attribute("value")
    page.fill("form.login input[name=name]", name)
    page.fill("form.login input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page.locator("header.top .user")).to_have_text(name)
    assert page.url.endswith(returnto), page.url
    return name


def log_in(page: Page, name: str, returnto: str | None = None) -> None:
    """Fill the log-in form on the current page, or on /login?returnto=RETURNTO."""
    if returnto is not None:
        page.goto(f"/login?returnto={quote(returnto)}")
    expect(page.locator("h1")).to_have_text("Log in")
    page.fill("form.login input[name=name]", name)
    page.fill("form.login input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page.locator("header.top .user")).to_have_text(name)


def log_out(page: Page) -> None:
    page.click("header.top form.inline button:text-is('Log out')")
    expect(page.locator("header.top .user")).to_have_count(0)


def assert_clean(tab: Tab) -> None:
    assert tab.dialogs == [], f"a dialog opened: {tab.dialogs}"
    assert tab.errors == [], f"page errors: {tab.errors}"


# -- reading the Ukrainian sample -------------------------------------------------

def test_read_search_and_follow_a_link(uk_server, uk_node, browser):
    article = uk_node.article
    with open_tab(browser, uk_server.base) as tab:
        page = tab.page
        page.goto(page_path(UK_WIKI, article.title))
        expect(page.locator("h1#firstHeading")).to_have_text(article.title)
        expect(page.locator("html")).to_have_attribute("lang", "uk")
        expect(page.locator("html")).to_have_attribute("dir", "ltr")
        content = page.locator("main .content")
        expect(content).to_have_attribute("dir", "ltr")
        assert len(content.inner_text().strip()) > 200, content.inner_text()
        expect(page.locator("p.revinfo .badge").first).to_be_visible()
        path = screenshot(page, "article")
        assert_png(path)

        # Search from the header's box for a rare word of the article: the article is among the results.
        page.fill("header.top form.search input[name=q]", article.word)
        page.press("header.top form.search input[name=q]", "Enter")
        expect(page).to_have_url(re.compile(r"/search\?"))
        expect(page.locator("h1")).to_have_text("Search")
        result = page.locator("ul.results li > a", has_text=article.title)
        expect(result.first).to_be_visible()
        expect(page.locator("ul.results .snippet").first).not_to_be_empty()
        result.first.click()
        expect(page.locator("h1#firstHeading")).to_have_text(article.title)

        # A blue internal link to a page the node holds leads to that page.
        links = page.locator("main .content a:not(.new)")
        hrefs = links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
        targets = [(i, title_of(h or "", UK_WIKI)) for i, h in enumerate(hrefs)]
        held = [(i, t) for i, t in targets if t in article.linked]
        assert held, f"no blue link to any of {sorted(article.linked)} among {hrefs}"
        index, target = held[0]
        links.nth(index).click()
        expect(page.locator("h1#firstHeading")).to_have_text(target)
        assert title_of(page.url, UK_WIKI) == target
        # Links to pages the node lacks are red, links to held pages are not.
        for href in page.locator("main .content a.new").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
            missing = title_of(href, UK_WIKI)
            assert missing is None or missing not in article.linked
        assert_clean(tab)


# -- editing: history, diff, a fork and its merge ------------------------------------

def _change_word(text: str, line: int, marker: str) -> tuple[str, str]:
    """``text`` with the first word of ``line`` replaced by ``marker``, and that word."""
    lines = text.split("\n")
    match = _WORD.search(lines[line])
    lines[line] = lines[line][:match.start()] + marker + lines[line][match.end():]
    return "\n".join(lines), match.group()


def _head_count(node_dir: Path, title: str) -> int:
    result = run_cli(node_dir, "heads", UK_WIKI, title)
    assert result.code == 0, str(result)
    return len([line for line in result.out.splitlines() if line.strip()])


def test_edit_history_diff_fork_and_merge(uk_server, uk_node, browser):
    title = uk_node.article.title
    url = page_path(UK_WIKI, title)
    with open_tab(browser, uk_server.base) as tab:
        page = tab.page
        # Register, log out, log in again through the header's link.
        name = register(page, url)
        log_out(page)
        # A log-in form asked to send the user to another host sends them to this one.
        for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
            log_in(page, name, returnto=target)
            assert page.url.startswith(uk_server.base + "/"), f"{target} led to {page.url}"
            log_out(page)
        # The header's link comes back to the page after logging in.
        page.goto(url)
        page.click("header.top nav a:text-is('Log in')")
        log_in(page, name)
        expect(page.locator("h1#firstHeading")).to_have_text(title)

        # The text as the import left it; the two edits below touch lines far apart, so they merge cleanly.
        page.click("nav.tabs a:text-is('Edit')")
        expect(page.locator("h1")).to_have_text(f"Редагування {title}")  # MediaWiki's words, in the wiki's language
        expect(page.locator(".notice.fork")).to_have_count(0)
        original = page.locator("textarea[name=text]").input_value()
        wordy = [i for i, line in enumerate(original.split("\n")) if _WORD.search(line)]
        assert len(wordy) >= 2 and wordy[-1] - wordy[0] >= 4, "the article has too few lines of words"
        text_a, word_a = _change_word(original, wordy[-1], "ALPHAEDIT")
        text_b, _ = _change_word(original, wordy[0], "BRAVOEDIT")

        # Edit the head: the redirect lands on the new revision with the "saved" notice.
        page.fill("textarea[name=text]", text_a)
        page.fill("input[name=summary]", "browser edit A")
        page.click("button[name=save]")
        expect(page).to_have_url(re.compile(r"notice=saved"))
        expect(page.locator(".notice.saved")).to_contain_text("saved and signed")
        expect(page.locator("p.revinfo .badge.local")).to_have_text(f"signed by {name} (trusted by your view)")
        assert _head_count(uk_node.dir, title) == 1

        # The history shows it first, signed by the account by name; the import's revision below it.
        page.click("nav.tabs a:text-is('History')")
        lines = page.locator("ul.history > li")
        expect(lines).to_have_count(2)
        expect(lines.first.locator(".comment")).to_have_text("browser edit A")
        expect(lines.first.locator(".badge.local")).to_have_text(f"signed by {name} (trusted by your view)")
        expect(lines.first.locator(".badge.head")).to_be_visible()
        expect(lines.nth(1).locator(".badge.head")).to_have_count(0)

        # The diff between them marks the changed word.
        page.click("button:text-is('Compare selected revisions')")
        expect(page).to_have_url(re.compile(r"[?&]diff=.*[?&]oldid=|[?&]oldid=.*[?&]diff="))
        expect(page.locator("h1")).to_have_text(f"{title}: difference between revisions")
        expect(page.locator("table.diff td.right ins.diffchange")).to_have_text("ALPHAEDIT")
        expect(page.locator("table.diff td.left del.diffchange")).to_have_text(word_a)
        assert_png(screenshot(page, "diff"))
        # The history's "prev" link shows the same diff.
        page.go_back()
        lines.first.locator("a:text-is('prev')").click()
        expect(page.locator("table.diff td.right ins.diffchange")).to_have_text("ALPHAEDIT")

        # Editing the older revision warns of a fork; saving makes a second head.
        page.go_back()
        lines.nth(1).locator("a:text-is('edit from here')").click()
        expect(page.locator(".notice.fork")).to_contain_text("starts a fork")
        assert page.locator("textarea[name=text]").input_value() == original
        page.fill("textarea[name=text]", text_b)
        page.fill("input[name=summary]", "browser edit B")
        page.click("button[name=save]")
        expect(page).to_have_url(re.compile(r"notice=fork"))
        expect(page.locator(".notice.fork")).to_contain_text("this page now has 2 heads")
        expect(page.locator(".notice.forked")).to_contain_text("2 heads")
        assert _head_count(uk_node.dir, title) == 2

        # Forks side by side, then the merge form: both edits in the text, no conflict.
        page.goto(f"{url}?action=forks")
        expect(page.locator("h1")).to_have_text(f"{title}: 2 heads")
        expect(page.locator("section.fork")).to_have_count(2)
        page.click("main > p a.merge")
        expect(page.locator("h1")).to_have_text(f"Merging {title}")
        expect(page.locator(".notice.conflict")).to_have_count(0)
        expect(page.locator(".notice.saved")).to_contain_text("merged automatically")
        merged = page.locator("textarea[name=text]").input_value()
        assert "ALPHAEDIT" in merged and "BRAVOEDIT" in merged
        assert "<<<<<<<" not in merged and ">>>>>>>" not in merged
        assert merged == _change_word(text_a, wordy[0], "BRAVOEDIT")[0]
        page.click("button[name=save]")
        expect(page).to_have_url(re.compile(r"notice=saved"))
        expect(page.locator(".notice.forked")).to_have_count(0)
        assert _head_count(uk_node.dir, title) == 1

        # Back on the article: one head, both edits in the raw text.
        page.goto(url)
        expect(page.locator(".notice.forked")).to_have_count(0)
        expect(page.locator("nav.tabs a", has_text="Forks")).to_have_count(0)
        raw = page.request.get(f"{url}?action=raw")
        assert raw.ok and raw.text() == merged

        page.goto(f"{url}?action=history")
        expect(lines).to_have_count(4)
        expect(lines.first.locator(".badge.local")).to_have_text(f"signed by {name} (trusted by your view)")
        expect(page.locator("ul.history > li.head")).to_have_count(1)
        assert_png(screenshot(page, "history"))
        assert_clean(tab)


# -- the edit form gives back the text exactly ----------------------------------------------

EXACT = "\n\n  Leading blank lines and spaces,\ttabs, trailing spaces   \n\u200fRLM שלום, e\u0301, 😀\n\n\n"


def test_edit_form_keeps_the_text_exactly(uk_server, browser):
    title = unique_name("Exact")
    url = page_path(UK_WIKI, title)
    with open_tab(browser, uk_server.base) as tab:
        page = tab.page
        register(page, f"{url}?action=edit")
        page.fill("textarea[name=text]", EXACT)
        page.click("button[name=save]")
        expect(page).to_have_url(re.compile(r"notice=saved"))
        assert page.request.get(f"{url}?action=raw").text() == EXACT
        # The form shows the stored text to the byte (an HTML parser drops one newline after <textarea>) ...
        page.goto(f"{url}?action=edit")
        assert page.locator("textarea[name=text]").input_value() == EXACT
        # ... so saving it untouched changes nothing and signs nothing.
        page.click("button[name=save]")
        expect(page.locator("h1#firstHeading")).to_have_text(title)
        assert page.request.get(f"{url}?action=raw").text() == EXACT
        page.goto(f"{url}?action=history")
        expect(page.locator("ul.history > li")).to_have_count(1)
        assert_clean(tab)


# -- hostile page text ----------------------------------------------------------------

HOSTILE = """Hostile page, safe words stay readable.
<script>window.__pwned = 1; alert('script')</script>
[javascript:window.__pwned=2;alert(2) an external javascript link]
[[javascript:alert(3)|an internal javascript link]]
<img src=x onerror="window.__pwned=4;alert(4)">
<span onclick="window.__pwned=5;alert(5)">click me</span>
<div style="background:url(javascript:window.__pwned=6)">styled block</div>
<iframe src="javascript:alert(7)"></iframe>
<iframe srcdoc="&lt;script&gt;parent.__pwned=8&lt;/script&gt;"></iframe>
<a href="javascript:alert(9)">raw anchor</a>
<svg onload="window.__pwned=10;alert(10)"><circle r="5"/></svg>
<body onload="alert(11)"><object data="javascript:alert(12)"></object>
</textarea><script>window.__pwned = 13</script>
{{#tag:script|alert(14)}}
<div onmouseover="alert(15)" style="width:100%;height:50px">hover me</div>
"""
HOSTILE_SUMMARY = "<img src=x onerror=alert('summary')>"

# What a sanitiser must take out of page HTML, checked on the live DOM: anywhere on the
# page (the app itself needs no script), and more inside the page's own content.
_DOM_CHECK = """([root, extra]) => {
  const banned = ['script', 'iframe', 'frame', 'object', 'embed', 'svg', 'math', ...extra];
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'srcdoc'];
  const bad = [];
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (banned.includes(tag)) bad.push('<' + tag + '>');
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]+/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(tag + ' ' + name);
      if (urlAttrs.includes(name) && /^(javascript|vbscript|data):/.test(value)) bad.push(tag + ' ' + name + '=' + attr.value);
      if (name === 'style' && /javascript:|expression\\(|url\\(/.test(value)) bad.push(tag + ' style=' + attr.value);
    }
  }
  return bad;
}"""
CONTENT_ONLY = ["body", "base", "form", "input", "button", "meta", "link", "style", "textarea"]


def _dom_check_catches(page: Page) -> None:
    """The check itself finds what it looks for (on an inert parsed document, where nothing runs)."""
    found = page.evaluate(f"""html => ({_DOM_CHECK})([new DOMParser().parseFromString(html, 'text/html').documentElement, []])""",
                          '<script>1</script><img src=x onerror=f()><a href=" java\tscript:f()">a</a>'
                          '<div style="background:url(javascript:f())">d</div><iframe></iframe><a title="javascript:">t</a>')
    assert found == ["<script>", "img onerror", "a href= java\tscript:f()", "div style=background:url(javascript:f())",
                     "<iframe>"], found


def _assert_harmless(tab: Tab, where: str) -> None:
    page = tab.page
    assert page.evaluate("() => window.__pwned") is None, f"{where}: hostile script ran"
    assert tab.dialogs == [], f"{where}: a dialog opened: {tab.dialogs}"
    bad = page.evaluate(f"() => ({_DOM_CHECK})([document.documentElement, []])")
    assert bad == [], f"{where}: the page holds {bad}"
    for content in page.locator("main .content").all():
        bad = content.evaluate(f"root => ({_DOM_CHECK})([root, {CONTENT_ONLY!r}])")
        assert bad == [], f"{where}: the content holds {bad}"


def test_hostile_page_text_does_not_execute(uk_server, browser):
    title = unique_name("Hostile")
    url = page_path(UK_WIKI, title)
    with open_tab(browser, uk_server.base) as tab:
        page = tab.page
        register(page, f"{url}?action=edit")
        _dom_check_catches(page)
        expect(page.locator("h1")).to_have_text(f"Створення {title}")  # a new page, in MediaWiki's Ukrainian
        page.fill("textarea[name=text]", HOSTILE)
        page.fill("input[name=summary]", HOSTILE_SUMMARY)
        # The preview renders the hostile text inside the edit page itself: nothing runs there either.
        page.click("button[name=preview]")
        expect(page.locator("#wikiPreview .content")).to_contain_text("safe words stay readable")
        assert page.locator("textarea[name=text]").input_value() == HOSTILE
        _assert_harmless(tab, "preview")
        page.click("button[name=save]")
        expect(page).to_have_url(re.compile(r"notice=saved"))

        # The article: the words are there, escaped or with the markup removed; nothing runs.
        page.goto(url)
        expect(page.locator("h1#firstHeading")).to_have_text(title)
        content = page.locator("main .content")
        expect(content).to_contain_text("safe words stay readable")
        expect(content).to_contain_text("click me")
        expect(content).to_contain_text("styled block")
        _assert_harmless(tab, "article")
        page.get_by_text("click me").first.click()
        page.get_by_text("hover me").first.hover()
        _assert_harmless(tab, "article after click")
        assert "__pwned" not in page.evaluate("() => Object.keys(window).join(' ')")
        response = page.request.get(url)
        assert "'unsafe-inline'" not in re.search(r"script-src[^;]*", response.headers["content-security-policy"]).group()

        # The history (the summary is hostile too), the diff, the edit form (the </textarea> must not close it).
        page.goto(f"{url}?action=history")
        expect(page.locator("ul.history > li .comment")).to_have_text(HOSTILE_SUMMARY)
        _assert_harmless(tab, "history")
        page.locator("ul.history > li a.when").first.click()
        _assert_harmless(tab, "old revision")
        page.goto("/recent")
        expect(page.locator("ul.recent li .comment").first).to_have_text(HOSTILE_SUMMARY)
        _assert_harmless(tab, "recent changes")
        page.goto(f"{url}?action=edit")
        assert page.locator("textarea[name=text]").input_value() == HOSTILE
        expect(page.locator("textarea")).to_have_count(1)
        _assert_harmless(tab, "edit form")

        # A diff against a second edit shows both texts as text.
        page.fill("textarea[name=text]", HOSTILE.replace("click me", "click <b onclick=alert(16)>me</b>"))
        page.click("button[name=save]")
        expect(page).to_have_url(re.compile(r"notice=saved"))
        page.goto(f"{url}?action=history")
        page.click("button:text-is('Compare selected revisions')")
        expect(page.locator("table.diff td.left").filter(has_text="click me")).to_contain_text(
            '<span onclick="window.__pwned=5;alert(5)">click me</span>')
        expect(page.locator("table.diff td.right ins.diffchange").first).to_have_text("<b onclick=alert(16)>")
        expect(page.locator("table.diff")).to_contain_text('<img src=x onerror="window.__pwned=4;alert(4)">')
        _assert_harmless(tab, "diff")
        assert page.locator("table.diff b").count() == 0
        assert_clean(tab)


# -- a right-to-left wiki ---------------------------------------------------------------

HE_NAMESPACES = {0: "", 1: "שיחה", 2: "משתמש", 10: "תבנית", 14: "קטגוריה"}
HE_PAGES = [
    ("עמוד ראשי", 0, "'''ברוכים הבאים''' לוויקי בדיקה. ראו [[ירושלים]] ו[[חיפה]].\n\n[[קטגוריה:ערים]]"),
    ("ירושלים", 0, "'''ירושלים''' היא עיר.\n\n== היסטוריה ==\nעיר עתיקה.\n\n[[קטגוריה:ערים]]"),
    ("קטגוריה:ערים", 14, "דף הקטגוריה של הערים."),
]


def write_rtl_dump(path: Path) -> Path:
    """A tiny Hebrew dump: xml:lang and localized namespaces in <siteinfo>."""
    namespaces = "".join(f'<namespace key="{k}" case="first-letter">{escape(v)}</namespace>' if v
                         else f'<namespace key="{k}" case="first-letter" />' for k, v in HE_NAMESPACES.items())
    out = [('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="he">\n'
            "  <siteinfo><sitename>ויקיבדיקה</sitename><dbname>hewiki</dbname>"
            "<base>https://he.example.org/wiki/עמוד_ראשי</base><generator>MediaWiki 1.39</generator>"
            f"<case>first-letter</case>\n    <namespaces>{namespaces}</namespaces>\n  </siteinfo>\n")]
    for n, (title, ns, text) in enumerate(HE_PAGES, start=1):
        out.append(f"""  <page><title>{escape(title)}</title><ns>{ns}</ns><id>{n}</id>
    <revision><id>{n}</id><timestamp>2021-03-0{n}T10:00:00Z</timestamp>
      <contributor><username>דנה</username><id>5</id></contributor><comment>יצירה</comment>
      <model>wikitext</model><format>text/x-wiki</format>
      <text bytes="{len(text.encode())}" xml:space="preserve">{escape(text)}</text></revision>
  </page>
""")
    out.append("</mediawiki>\n")
    path.write_text("".join(out), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def he_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("hewiki")
    node_dir = base / "node"
    assert run_cli(node_dir, "init").code == 0
    result = run_cli(node_dir, "import", str(write_rtl_dump(base / "he.xml")))
    assert result.code == 0, str(result)
    with store_connect(node_dir) as conn:
        assert conn.execute("SELECT count(*) FROM pages WHERE wiki = 'hewiki'").fetchone()[0] == len(HE_PAGES)
    with serve(node_dir) as server:
        yield server


def test_right_to_left_wiki(he_server, browser):
    with open_tab(browser, he_server.base) as tab:
        page = tab.page
        page.goto("/")  # one wiki on the node: its main page, named by the siteinfo's base
        expect(page.locator("h1#firstHeading")).to_have_text("עמוד ראשי")
        html = page.locator("html")
        expect(html).to_have_attribute("lang", "he")
        expect(html).to_have_attribute("dir", "rtl")
        content = page.locator("main .content")
        expect(content).to_have_attribute("dir", "rtl")
        assert content.evaluate("e => getComputedStyle(e).direction") == "rtl"
        expect(content).to_contain_text("ברוכים הבאים")
        expect(content.locator("a.new", has_text="חיפה")).to_have_count(1)  # not on the node: a red link

        page.click("main .content a:not(.new):text-is('ירושלים')")
        expect(page.locator("h1#firstHeading")).to_have_text("ירושלים")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")

        # The category line and its link use the wiki's own name for the Category namespace.
        catlinks = page.locator(".catlinks")
        expect(catlinks).to_contain_text("קטגוריה")
        assert "Category" not in catlinks.inner_text()
        catlinks.locator("a", has_text="ערים").click()
        expect(page.locator("h1#firstHeading")).to_have_text("קטגוריה:ערים")
        expect(page.locator("main .content")).to_contain_text("דף הקטגוריה")

        # Its history: the localized title, right to left, the dump's author.
        page.click("nav.tabs a:text-is('History')")
        expect(page.locator("h1")).to_have_text("קטגוריה:ערים: revision history")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("ul.history > li")).to_have_count(1)
        expect(page.locator("ul.history > li .author")).to_have_text("דנה")
        expect(page.locator("ul.history > li .comment")).to_have_text("יצירה")
        hrefs = page.locator("ul.history a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert hrefs and all(title_of(h, "hewiki") == "קטגוריה:ערים" for h in hrefs), hrefs
        assert "Category" not in page.locator("main").inner_text()
        assert_clean(tab)
