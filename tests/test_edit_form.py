"""Editing as MediaWiki does it, on a served sample node over HTTP: "Show preview" and "Show changes"
(CSRF-checked, nothing saved), the minor-edit box, the edit-conflict page and its merge, "create this
page" on a missing page, the help next to the second buttons and the fork notice; and the edit form
with a preview in Chromium (build/screenshots/edit-preview.png)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

pytest.register_assert_rewrite("browser_support")  # before its import: its asserts explain themselves

from browser_support import PASSWORD, assert_png, open_tab, screenshot, unique_name
from conftest import copy_node, run_cli, start_server, stop_server
from wikipeer.model.cid import cid_from_str
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node

pytest_plugins = ["browser_support"]

WIKI = "wikipeer"
_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')
_PARENTS = re.compile(r'<input type="hidden" name="parents" value="([^"]*)"')
_TEXTAREA = re.compile(r'<textarea name="text"[^>]*>\n(.*?)</textarea>', re.S)


@dataclass
class Served:
    node_dir: Path
    base: str


@pytest.fixture(scope="module")
def served(_sample_template, tmp_path_factory) -> Iterator[Served]:
    """A copy of the sample node, served by a real `wikipeer serve` process."""
    target = tmp_path_factory.mktemp("edit-form") / "node"
    copy_node(_sample_template, target)
    proc, client = start_server(target)
    try:
        yield Served(target, str(client.base_url).rstrip("/"))
    finally:
        stop_server(proc, client)


def new_client(served: Served) -> httpx.Client:
    return httpx.Client(base_url=served.base, timeout=30)


def register(client: httpx.Client) -> str:
    """A new account, logged in on ``client``."""
    name = unique_name()
    csrf = _CSRF.search(client.get("/register").text).group(1)
    made = client.post("/register", data={"name": name, "password": PASSWORD, "csrf": csrf, "returnto": "/"})
    assert made.status_code == 303 and "wikipeer_session" in client.cookies, made.text
    return name


def url(title: str, wiki: str = WIKI) -> str:
    return f"/wiki/{wiki}/{quote(title.replace(' ', '_'))}"


@contextmanager
def own_page(served: Served, prefix: str, text: str) -> Iterator[tuple[httpx.Client, str]]:
    """A logged-in user, and a page of their own that holds ``text``."""
    with new_client(served) as client:
        register(client)
        title = unique_name(prefix)
        make_page(client, title, text)
        yield client, title


def make_page(client: httpx.Client, title: str, text: str) -> None:
    """A page of this test's own, saved through the web form."""
    response = client.post(url(title), data={**form_of(client, title), "text": text, "summary": "start"})
    assert response.status_code == 303 and "notice=saved" in response.headers["location"], response.text


def form_of(client: httpx.Client, title: str, query: str = "", wiki: str = WIKI) -> dict[str, str]:
    """The hidden fields of the edit form, as a browser would send them back."""
    page = client.get(f"{url(title, wiki)}?action=edit{query}")
    assert page.status_code == 200, page.text
    fields = {"csrf": _CSRF.search(page.text).group(1), "parents": _PARENTS.search(page.text).group(1)}
    if 'name="fork" value="1"' in page.text:
        fields["fork"] = "1"
    return fields


def raw(client: httpx.Client, title: str) -> str:
    response = client.get(f"{url(title)}?action=raw")
    assert response.status_code == 200
    return response.text


def history_lines(client: httpx.Client, title: str) -> list[str]:
    page = client.get(f"{url(title)}?action=history").text
    return page.split('<ul class="history">', 1)[1].split("</ul>", 1)[0].split("<li")[1:]


def heads(served: Served, title: str) -> list[str]:
    result = run_cli(served.node_dir, "heads", WIKI, title)
    assert result.code == 0, str(result)
    return [re.search(r"\bbafy\w+", line).group(0) for line in result.out.splitlines() if line.strip()]


def section(page: str, marker: str) -> str:
    """The part of the page from ``marker`` to the end of its <section>."""
    assert marker in page, page[:3000]
    return page.split(marker, 1)[1].split("</section>", 1)[0]


# -- preview and show changes ------------------------------------------------------

def test_preview_renders_the_submitted_text_and_saves_nothing(served):
    with own_page(served, "Preview", "First words.\n") as (client, title):
        fields = form_of(client, title)
        text = "'''Bold preview''' with a link to [[Signed objects]] and {{PAGENAME}}.\n<script>alert(1)</script>\n"
        response = client.post(url(title), data={**fields, "text": text, "summary": "a summary kept", "preview": "1"})
        assert response.status_code == 200, response.text
        preview = section(response.text, 'id="wikiPreview"')
        assert "only a preview" in preview
        assert "<b>Bold preview</b>" in preview
        assert 'href="/wiki/wikipeer/Signed_objects"' in preview  # rendered as the article would be
        assert title in preview  # {{PAGENAME}} is this page's
        assert "<script" not in response.text
        # The form comes back with the text, summary and base revision as they were sent.
        assert html.unescape(_TEXTAREA.search(response.text).group(1)) == text
        assert 'value="a summary kept"' in response.text
        assert _PARENTS.search(response.text).group(1) == fields["parents"]
        # Nothing was saved.
        assert raw(client, title) == "First words.\n"
        assert len(history_lines(client, title)) == 1


def test_show_changes_diffs_against_the_base_revision_and_saves_nothing(served):
    with own_page(served, "Changes", "one two three\nfour five six\n") as (client, title):
        fields = form_of(client, title)
        response = client.post(url(title), data={**fields, "text": "one TWO three\nfour five six\n", "diff": "1"})
        assert response.status_code == 200, response.text
        changes = section(response.text, 'id="wikiDiff"')
        assert '<ins class="diffchange">TWO</ins>' in changes
        assert '<del class="diffchange">two</del>' in changes
        assert "four five six" in changes  # context around the change
        assert 'id="wikiPreview"' not in response.text
        unchanged = client.post(url(title), data={**fields, "text": "one two three\nfour five six\n", "diff": "1"})
        assert "No change" in section(unchanged.text, 'id="wikiDiff"')
        assert raw(client, title) == "one two three\nfour five six\n"
        assert len(history_lines(client, title)) == 1


def test_show_changes_and_save_never_use_a_hidden_revision_or_another_pages_as_base(served):
    """The form's parent is the poster's to write: naming a hidden revision, or another page's, gets a 404
    and none of its text (not in "Show changes", an edit conflict's merge, nor by saving its very text)."""
    secret = "secret words of a hidden revision\n"
    with own_page(served, "Hidden base", secret) as (client, title):
        hidden_cid = heads(served, title)[0]
        assert client.post(url(title), data={**form_of(client, title), "text": "public words\n"}).status_code == 303
        hid = run_cli(served.node_dir, "hide", WIKI, title, "--revision", hidden_cid, "--reason", "personal data")
        assert hid.code == 0, str(hid)
        other = unique_name("Other page")
        make_page(client, other, "another page's words\n")
        other_cid = heads(served, other)[0]
        fields = form_of(client, title)
        for target, cid, words in ((title, hidden_cid, "secret words"), (title, other_cid, "another page"),
                                   (unique_name("Not yet"), other_cid, "another page")):
            for button in ("diff", "save"):
                for text in ("mine\n", secret, "another page's words\n"):
                    response = client.post(url(target), data={**fields, "parents": cid, "text": text, button: "1"})
                    assert response.status_code == 404, (target, cid, button, text, response.status_code)
                    assert words not in response.text.replace(html.escape(text), ""), (target, button, text)
        assert raw(client, title) == "public words\n" and len(heads(served, title)) == 1
        assert len(history_lines(client, title)) == 2


def test_preview_changes_and_save_refuse_a_missing_or_wrong_csrf_token(served):
    with own_page(served, "Forged", "kept\n") as (client, title):
        fields = form_of(client, title)
        for button in ("preview", "diff", "save"):
            for token in (None, "0" * 43):
                data = {"parents": fields["parents"], "text": "forged\n", button: "1"}
                if token is not None:
                    data["csrf"] = token
                response = client.post(url(title), data=data)
                assert response.status_code == 403, (button, token, response.text)
                assert "security token is missing or wrong" in response.text
                assert 'id="wikiPreview"' not in response.text and 'id="wikiDiff"' not in response.text
        assert raw(client, title) == "kept\n"
    with new_client(served) as anonymous:  # a visitor's valid token, but no account: no preview either
        csrf = _CSRF.search(anonymous.get("/login").text).group(1)
        response = anonymous.post(url(title), data={"csrf": csrf, "text": "x", "preview": "1"})
        assert response.status_code == 401


# -- the minor-edit box --------------------------------------------------------------

def test_a_minor_edit_is_stored_and_marked_m_in_history_and_recent_changes(served):
    with own_page(served, "Minor", "typo hre\n") as (client, title):
        form = client.get(f"{url(title)}?action=edit").text
        assert re.search(r'<input type="checkbox" name="minor" value="1"[^>]*> This is a minor edit', form)
        response = client.post(url(title), data={**form_of(client, title), "text": "typo here\n", "summary": "typo",
                                                 "minor": "1"})
        assert response.status_code == 303, response.text
        minor_cid = response.headers["location"].split("oldid=")[1].split("&")[0]
        node = Node.open(served.node_dir)
        try:
            assert node.store.revision(cid_from_str(minor_cid)).minor is True
            assert node.store.revision(cid_from_str(heads(served, title)[0])).minor is True
        finally:
            node.close()
        newest, first = history_lines(client, title)
        assert '<abbr class="minoredit" title="This is a minor edit">m</abbr>' in newest
        assert "minoredit" not in first  # the page's first revision was no minor edit
        recent = client.get(f"/recent?wiki={WIKI}").text
        line = next(li for li in recent.split("<li")[1:] if title in li)
        assert '<abbr class="minoredit" title="This is a minor edit">m</abbr>' in line


# -- edit conflicts ------------------------------------------------------------------------

BASE = "alpha line\nbeta line\ngamma line\ndelta line\n"


@dataclass
class Editors:
    """Two logged-in users and a page of their own, which the first made."""

    first: httpx.Client
    second: httpx.Client
    title: str
    first_name: str


@pytest.fixture
def editors(served) -> Iterator[Editors]:
    with new_client(served) as first, new_client(served) as second:
        first_name = register(first)
        register(second)
        title = unique_name("Conflict")
        make_page(first, title, BASE)
        yield Editors(first, second, title, first_name)


def test_a_conflicting_edit_that_merges_cleanly_is_offered_merged_and_saved_as_one_head(served, editors):
    first, second, title = editors.first, editors.second, editors.title
    theirs, mine = form_of(first, title), form_of(second, title)
    assert theirs["parents"] == mine["parents"]  # both opened on the same head
    saved = first.post(url(title), data={**theirs, "text": BASE.replace("alpha", "ALPHA"), "summary": "theirs"})
    assert saved.status_code == 303
    my_text = BASE.replace("delta", "DELTA")
    page = second.post(url(title), data={**mine, "text": my_text, "summary": "mine", "minor": "1"})
    assert page.status_code == 409, page.text
    assert f"<h1>Edit conflict: {title}</h1>" in page.text
    assert "Someone else has changed this page since you started editing it." in page.text
    assert 'class="merged"' in page.text
    merged = "ALPHA line\nbeta line\ngamma line\nDELTA line\n"
    assert html.unescape(_TEXTAREA.search(page.text).group(1)) == merged
    # The user's text, the current text and the differences are all on the page.
    assert html.unescape(section(page.text, 'class="yourtext"')).count(my_text) == 1
    stored = section(page.text, 'class="storedversion"')
    assert BASE.replace("alpha", "ALPHA") in html.unescape(stored)
    # Who saved the stored version, by name (as history names people), with the key on hover.
    by = re.search(r'by <span class="author (\w+)" title="([^"]*)">([^<]*)</span>', stored)
    assert by and by.group(3) == editors.first_name and by.group(2).startswith("ed25519:"), stored[:600]
    assert '<ins class="diffchange">DELTA</ins>' in section(page.text, 'class="conflict-diff"')
    assert 'value="mine"' in page.text and re.search(r'name="minor" value="1" checked', page.text)
    # Nothing was saved yet; the conflict form's base is the revision that moved on.
    current = heads(served, title)
    assert len(current) == 1 and raw(first, title) == BASE.replace("alpha", "ALPHA")
    assert _PARENTS.search(page.text).group(1) == current[0]
    # Saving the offered text makes one head holding both edits.
    again = {"csrf": _CSRF.search(page.text).group(1), "parents": _PARENTS.search(page.text).group(1)}
    done = second.post(url(title), data={**again, "text": merged, "summary": "mine"})
    assert done.status_code == 303 and "notice=saved" in done.headers["location"], done.text
    assert len(heads(served, title)) == 1 and raw(first, title) == merged


def test_a_conflict_that_does_not_merge_keeps_the_users_text_to_save_on_top(served, editors):
    first, second, title = editors.first, editors.second, editors.title
    theirs, mine = form_of(first, title), form_of(second, title)
    their_text = BASE.replace("beta", "BETA by them")
    assert first.post(url(title), data={**theirs, "text": their_text}).status_code == 303
    my_text = BASE.replace("beta", "beta by me")
    page = second.post(url(title), data={**mine, "text": my_text, "summary": "mine"})
    assert page.status_code == 409, page.text
    assert 'class="not-merged"' in page.text and "could not be merged" in page.text
    assert html.unescape(_TEXTAREA.search(page.text).group(1)) == my_text  # never lost
    assert their_text in html.unescape(section(page.text, 'class="storedversion"'))
    diff = section(page.text, 'class="conflict-diff"')
    assert "BETA" in diff and "me" in diff
    assert raw(first, title) == their_text
    # "Save page" on the conflict form puts the user's text on top of theirs: one head, nothing forked.
    again = {"csrf": _CSRF.search(page.text).group(1), "parents": _PARENTS.search(page.text).group(1)}
    done = second.post(url(title), data={**again, "text": my_text})
    assert done.status_code == 303 and "notice=saved" in done.headers["location"], done.text
    assert len(heads(served, title)) == 1 and raw(first, title) == my_text
    assert len(history_lines(first, title)) == 3


def test_a_page_created_meanwhile_is_a_conflict_and_editing_an_old_revision_still_forks(served, editors):
    first, second, title = editors.first, editors.second, editors.title
    new_title = unique_name("Created twice")
    theirs, mine = form_of(first, new_title), form_of(second, new_title)
    assert theirs["parents"] == mine["parents"] == ""
    assert first.post(url(new_title), data={**theirs, "text": "their page\n"}).status_code == 303
    page = second.post(url(new_title), data={**mine, "text": "my page\n"})
    assert page.status_code == 409 and html.unescape(_TEXTAREA.search(page.text).group(1)) == "my page\n"
    assert len(heads(served, new_title)) == 1
    # "edit from here" on an old revision is a fork on purpose, not a conflict.
    old = heads(served, title)[0]
    assert first.post(url(title), data={**form_of(first, title), "text": BASE + "newer\n"}).status_code == 303
    fork_form = form_of(second, title, f"&oldid={old}")
    assert fork_form["parents"] == old and fork_form["fork"] == "1"
    forked = second.post(url(title), data={**fork_form, "text": "other\n" + BASE})
    assert forked.status_code == 303 and "notice=fork" in forked.headers["location"], forked.text
    assert len(heads(served, title)) == 2
    # The article explains the fork and what to do; the forks page too.
    article = second.get(url(title)).text
    help_text = section(article + "</section>", 'class="help fork-help"')
    assert "A fork happens when two edits start from the same revision" in help_text
    assert f'href="{url(title)}?action=merge"' in help_text
    assert 'class="help fork-help"' in second.get(f"{url(title)}?action=forks").text


# -- in the wiki's language ------------------------------------------------------------------

def test_the_edit_form_speaks_the_wikis_language(served):
    """A Ukrainian wiki's edit form, preview, changes and conflict use MediaWiki's Ukrainian messages."""
    node = Node.open(served.node_dir)
    try:
        node.store.set_wiki_config(WikiConfig("ukwiki", sitename="Вікіпедія", lang="uk"))
    finally:
        node.close()
    title = unique_name("Сторінка")
    address = url(title, "ukwiki")
    with new_client(served) as client, new_client(served) as other:
        register(client)
        register(other)
        form = client.get(f"{address}?action=edit").text
        assert f"<h1>Створення {title}</h1>" in form
        assert ">Зберегти сторінку</button>" in form and "> Незначна зміна</label>" in form
        assert "Save page" not in form and "Show preview" not in form
        fields = {"csrf": _CSRF.search(form).group(1), "parents": ""}
        assert client.post(address, data={**fields, "text": "перший рядок\n"}).status_code == 303
        theirs, mine = form_of(client, title, wiki="ukwiki"), form_of(other, title, wiki="ukwiki")
        assert f"<h1>Редагування {title}</h1>" in client.get(f"{address}?action=edit").text
        looked = client.post(address, data={**theirs, "text": "другий рядок\n", "preview": "1"}).text
        assert "<h2>Попередній перегляд</h2>" in looked and "Це лише попередній перегляд." in looked
        changes = client.post(address, data={**theirs, "text": "другий рядок\n", "diff": "1"}).text
        assert "<h2>Показати зміни</h2>" in changes
        assert client.post(address, data={**theirs, "text": "їхній рядок\n"}).status_code == 303
        conflict = other.post(address, data={**mine, "text": "мій рядок\n"})
        assert conflict.status_code == 409
        assert f"<h1>Конфлікт редагування: {title}</h1>" in conflict.text
        assert "<h2>Ваш текст</h2>" in conflict.text and "<h2>Збережена версія</h2>" in conflict.text
    # The English sample wiki keeps MediaWiki's English words.
    with new_client(served) as client:
        register(client)
        assert ">Save page</button>" in client.get(f"{url('Main Page')}?action=edit").text


# -- a page that does not exist ----------------------------------------------------------

def test_a_missing_page_is_404_with_a_create_link_for_readers_and_logged_in_users(served):
    title = unique_name("Not yet")
    edit_url = f"{url(title)}?action=edit"
    with new_client(served) as client:
        anonymous = client.get(url(title))
        assert anonymous.status_code == 404
        assert "This page does not exist." in anonymous.text
        link = html.unescape(re.search(r'<a class="create" href="([^"]+)">Create this page</a>', anonymous.text).group(1))
        assert urlsplit(link).path == "/login" and parse_qs(urlsplit(link).query) == {"returnto": [edit_url]}
        # Logging in through that link comes back to the edit form of the missing page.
        csrf = _CSRF.search(client.get(link).text).group(1)
        with new_client(served) as elsewhere:
            name = register(elsewhere)  # an account made before, logging in here
        logged = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf, "returnto": edit_url})
        assert logged.status_code == 303 and logged.headers["location"] == edit_url
        member = client.get(url(title))
        assert member.status_code == 404 and "This page does not exist." in member.text
        link = html.unescape(re.search(r'<a class="create" href="([^"]+)">Create this page</a>', member.text).group(1))
        assert link == edit_url
        form = client.get(link)
        assert form.status_code == 200 and f"<h1>Creating {title}</h1>" in form.text
        # A wiki this node does not hold gets no offer to create a page in it.
        unknown = client.get("/wiki/nosuchwiki/Foo")
        assert unknown.status_code == 404 and 'class="create"' not in unknown.text


# -- help next to the second buttons ------------------------------------------------------------

def test_history_and_diff_explain_the_second_buttons(served):
    pages = [f"{url('Main Page')}?action=history", f"{url('Main Page')}?diff={heads(served, 'Main Page')[0]}"]
    with new_client(served) as client:
        for address in pages:
            assert "second-help" not in client.get(address).text  # no buttons, no help
        register(client)
        for address in pages:
            page = client.get(address).text
            assert 'title="sign this revision as reviewed, with your key">second</button>' in page, address
            help_text = page.split('class="help second-help">', 1)[1].split("</p>", 1)[0]
            assert "say you checked a revision" in help_text and "changes no text" in help_text
            assert "trusts your key" in help_text


# -- in Chromium ----------------------------------------------------------------------------------

def test_the_edit_form_shows_a_preview_in_chromium(served, browser):
    title = unique_name("Browser preview")
    edit_url = f"{url(title)}?action=edit"
    with open_tab(browser, served.base) as tab:
        page = tab.page
        page.goto(f"/register?returnto={quote(edit_url)}")
        page.fill("form.login input[name=name]", unique_name())
        page.fill("form.login input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"**{edit_url}")
        text = ("== Preview heading ==\nA '''bold''' word, a link to [[Signed objects]] and a list:\n"
                "* first\n* second\n")
        page.fill("textarea[name=text]", text)
        page.fill("input[name=summary]", "previewed first")
        page.check("input[name=minor]")
        page.click("button[name=preview]")
        preview = page.locator("#wikiPreview")
        preview.locator("h2", has_text="Preview heading").wait_for()
        assert preview.locator(".content b").inner_text() == "bold"
        assert preview.locator(".content li").count() == 2
        assert page.locator("textarea[name=text]").input_value() == text
        assert page.locator("input[name=minor]").is_checked()
        assert_png(screenshot(page, "edit-preview"))
        assert tab.errors == [] and tab.dialogs == []
        assert not [m for m in tab.console if "Content Security Policy" in m], tab.console
        assert page.request.get(f"{url(title)}?action=raw").status == 404  # a preview saves nothing
        page.click("button[name=save]")
        page.wait_for_url(re.compile(r"notice=saved"))
        assert page.request.get(f"{url(title)}?action=raw").text() == text
