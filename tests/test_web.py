"""`wikipeer serve` over HTTP: pages, caches, badges and hostile text, with a real server process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from conftest import copy_node, run_cli, start_server, stop_server
from wikipeer.authoring import edit_blocks
from wikipeer.ingest import ACCEPTED, ingest
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import Page, Signature, build_signature
from wikipeer.node import Node

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

SCRIPT_TEXT = ("== Hostile ==\n"
               "Hello <script>alert('pwned')</script> and <img src=x onerror=alert(1)>.\n"
               "[[Main Page|<b>bold label</b>]] and '''really bold''' and [javascript:alert(1) click].\n")


@pytest.fixture(scope="module")
def served(_sample_template, tmp_path_factory):
    """A copy of the sample node with a hostile page, served by a real process."""
    target = tmp_path_factory.mktemp("web") / "node"
    copy_node(_sample_template, target)
    assert run_cli(target, "edit", "wikipeer", "Script test", "--summary", "xss", input=SCRIPT_TEXT).code == 0
    proc, client = start_server(target)
    try:
        yield target, client
    finally:
        stop_server(proc, client)


def edit(node_dir: Path, title: str, text: str) -> bool:
    """Save a revision with the CLI, as another process would."""
    result = run_cli(node_dir, "edit", "wikipeer", title, "-m", "test", input=text)
    assert result.code == 0, str(result)
    return True


def content(html: str) -> str:
    """The rendered page text, without the frame around it (which names the URL)."""
    return html.split('<div class="content"', 1)[1].split("</main>", 1)[0]


def test_main_page_is_served(served):
    node_dir, client = served
    response = client.get("/wiki/wikipeer/Main_Page")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert re.search(r"<h1[^>]*>Main Page</h1>", html)
    assert "Welcome" in html
    head = run_cli(node_dir, "heads", "wikipeer", "Main Page").out.split()[1]
    assert head in html  # the shown revision's CID
    assert 'href="/wiki/wikipeer/Signed_objects"' in html  # internal links point at pages
    assert "signed by" in html
    # Any spelling of the title names the same page.
    assert content(client.get("/wiki/wikipeer/main_Page").text) == content(html)


def test_slash_is_the_main_page(served):
    _, client = served
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200 and str(response.url).endswith("/wiki/wikipeer/Main_Page")


def test_page_text_cannot_run_script(served):
    _, client = served
    response = client.get("/wiki/wikipeer/Script_test")
    assert response.status_code == 200
    html = response.text
    assert "<script" not in html.lower()
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", html, re.I)  # shown as text, never a link
    assert not re.search(r"<[^>]+\son\w+\s*=", html)  # no event-handler attributes survive
    assert "<img" not in html
    assert re.search(r"<b>really bold</b>", html)  # wikitext markup still renders
    assert re.search(r"<h2[^>]*>.*Hostile.*</h2>", html)
    csp = dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    # Only style attributes may be inline (the sanitizer's CSS allow-list guards them): never script or <style>.
    assert [name for name, value in csp.items() if "unsafe-inline" in value] == ["style-src-attr"]


def test_unknown_page_is_404(served):
    _, client = served
    assert client.get("/wiki/wikipeer/No_such_page").status_code == 404
    assert client.get("/wiki/wikipeer/Bad[title]").status_code == 400
    assert client.get("/no/such/route").status_code == 404


def test_unknown_wiki_is_404_and_not_created(served):
    _, client = served
    assert client.get("/wiki/nosuchwiki/Foo").status_code == 404
    assert "nosuchwiki" not in client.get("/status").text


def test_history_recent_status_random_and_search(served):
    node_dir, client = served
    history = client.get("/wiki/wikipeer/Script_test?action=history")
    assert history.status_code == 200 and "xss" in history.text and "badge local" in history.text
    recent = client.get("/recent")
    assert recent.status_code == 200
    assert recent.text.index("Script test") < recent.text.index("Main Page")  # newest first
    status = client.get("/status")
    assert status.status_code == 200 and "store size" in status.text.lower()
    assert re.search(r"<td>wikipeer</td>|>wikipeer</a></td>", status.text)
    assert run_cli(node_dir, "key", "list").out.split()[0] in status.text or "node" in status.text
    random = client.get("/random")
    assert random.status_code == 303 and random.headers["location"].startswith("/wiki/wikipeer/")
    search = client.get("/search", params={"q": "signature"})
    assert search.status_code == 200 and 'class="snippet"' in search.text
    assert "/wiki/wikipeer/" in search.text
    raw = client.get("/wiki/wikipeer/Script_test?action=raw")
    assert raw.headers["content-type"].startswith("text/x-wiki") and raw.text == SCRIPT_TEXT


def test_an_anonymous_article_follows_a_change_made_by_another_process(served):
    node_dir, client = served
    first = client.get("/wiki/wikipeer/Cache_test")
    assert first.status_code == 404
    assert edit(node_dir, "Cache test", "first version")
    assert "first version" in client.get("/wiki/wikipeer/Cache_test").text
    assert "first version" in client.get("/wiki/wikipeer/Cache_test").text  # from the cache
    assert edit(node_dir, "Cache test", "second version")
    assert "second version" in client.get("/wiki/wikipeer/Cache_test").text


def test_a_template_edit_shows_in_the_pages_that_use_it(served):
    node_dir, client = served
    assert edit(node_dir, "Template:Greeting", "Hello, {{{1|world}}}!")
    assert edit(node_dir, "Uses greeting", "{{Greeting|reader}}")
    rev = run_cli(node_dir, "heads", "wikipeer", "Uses greeting").out.split()[1]
    # ?oldid= always goes through the render cache, which must see the template move on.
    assert "Hello, reader!" in client.get(f"/wiki/wikipeer/Uses_greeting?oldid={rev}").text
    assert edit(node_dir, "Template:Greeting", "Goodbye, {{{1}}}.")
    html = client.get(f"/wiki/wikipeer/Uses_greeting?oldid={rev}").text
    assert "Goodbye, reader." in html and "Hello" not in content(html)


def test_badges_tell_who_signed(served):
    node_dir, client = served
    stranger = SigningKey.generate()
    public = key_to_str(bytes(stranger.verify_key))
    node = Node.open(node_dir)
    try:
        blocks = edit_blocks(Page("wikipeer", 0, "From afar"), "written elsewhere", (), "far", stranger, public,
                             ts=2_000_000_000_000)
        second = build_signature(Signature(blocks[2].cid, "second", node.user_key().public,
                                           sign(node.keyring.signing_key(node.user_key().name), blocks[2].cid, "second")))
        report = ingest(node.store, [*blocks, second], "test")
        assert all(s.state == ACCEPTED for s in report.statuses), report
    finally:
        node.close()
    html = client.get("/wiki/wikipeer/From_afar?action=history").text
    assert f"signed by {public.removeprefix('ed25519:')[:10]}… — not trusted by this view" in html
    assert "seconded by 1" in html
    article = client.get("/wiki/wikipeer/From_afar").text
    assert "unreviewed" not in article  # seconded by a key this node trusts


def test_a_red_link_turns_blue_when_its_page_arrives(served):
    node_dir, client = served
    assert edit(node_dir, "Links ahead", "See [[Not written yet]].")
    rev = run_cli(node_dir, "heads", "wikipeer", "Links ahead").out.split()[1]
    link = re.compile(r'<a[^>]*href="/wiki/wikipeer/Not_written_yet"[^>]*>')
    before = link.search(client.get(f"/wiki/wikipeer/Links_ahead?oldid={rev}").text).group()
    assert 'class="new"' in before
    assert edit(node_dir, "Not written yet", "Now it is.")
    after = link.search(client.get(f"/wiki/wikipeer/Links_ahead?oldid={rev}").text).group()
    assert "new" not in after


def test_hostile_templates_and_a_huge_page_render_without_hanging(served):
    node_dir, client = served
    assert edit(node_dir, "Template:Loop", "{{Loop}}")
    assert edit(node_dir, "Template:Deep", "x{{Deep}}")
    assert edit(node_dir, "Loops", "A {{Loop}} B {{Deep}} C")
    html = client.get("/wiki/wikipeer/Loops").text
    assert html.count('class="error"') >= 2  # each shown in place
    assert "A " in content(html) and " C" in content(html)

    paragraph = "Lorem ''ipsum'' [[dolor]] sit {{amet}} <span onclick=x>amet</span>.\n\n"
    huge = paragraph * (2_000_000 // len(paragraph))
    assert edit(node_dir, "Huge page", huge)
    response = client.get("/wiki/wikipeer/Huge_page")
    assert response.status_code == 200 and len(response.text) > 1_000_000
    assert "onclick" not in response.text
    history = client.get("/wiki/wikipeer/Huge_page?action=history")
    assert history.status_code == 200
