"""People by name: a key's local name, its account's, its own signed profile's, else a fingerprint, everywhere a
person is shown (CLI history and recent, web history, recent changes, diffs, badges, exports, api.php), and an
impostor's claimed name told apart. One served node; one Chromium page for the screenshot."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from browser_support import assert_png, open_tab, screenshot
from conftest import copy_node, run_cli, start_server, stop_server
from mw_populate import tiny_png
from wikipeer.authoring import edit_blocks
from wikipeer.model.block import Block
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import Page, Profile, Signature, build_page, build_profile, build_signature
from wikipeer.ingest import ACCEPTED, DUPLICATE, REJECTED, ingest
from wikipeer.model.cid import cid_from_str, cid_to_str
from wikipeer.model.media import NS_FILE
from wikipeer.node import Node, find_page
from wikipeer.store.people import PROFILE, People, UserNames, clean_name, mediawiki_user_name
from wikipeer.uploading import file_blocks

pytest_plugins = ["browser_support"]

WIKI, TITLE = "wikipeer", "People page"


class Remote:
    """Someone on another node: a key this node holds no name for, and maybe a profile it signed."""

    def __init__(self, profile_name: str | None = None) -> None:
        self.key = SigningKey.generate()
        self.public = key_to_str(bytes(self.key.verify_key))
        self.profile_name = profile_name

    @property
    def fingerprint(self) -> str:
        return self.public.removeprefix("ed25519:")[:10] + "…"

    def profile(self, ts: int) -> list[Block]:
        block = build_profile(Profile(self.public, self.profile_name or "", ts))
        sig = build_signature(Signature(block.cid, "author", self.public, sign(self.key, block.cid, "author"), ts))
        return [block, sig]

    def edit(self, text: str, parent: bytes, ts: int, summary: str) -> list[Block]:
        return edit_blocks(Page(WIKI, 0, TITLE), text, (parent,), summary, self.key, self.public, ts)


@dataclass
class Cast:
    node_dir: Path
    alice: str  # alice's public key (a local key named alice)
    bob: Remote  # a profile named "Bob Remote"
    nameless: Remote  # no profile
    impostor: Remote  # a profile claiming "alice"
    revs: dict[str, str]  # CID by who made it


def _history_cids(node_dir: Path) -> list[str]:
    result = run_cli(node_dir, "history", WIKI, TITLE, "--keys")
    assert result.code == 0, str(result)
    return re.findall(r"\b(bafy\w+)\b", result.out)


@pytest.fixture(scope="module")
def cast(_sample_template, tmp_path_factory) -> Cast:
    """The sample wiki, a page edited by alice (local key), then by Bob (remote, with a profile), by a remote key
    with no profile, and by an impostor whose profile claims the name alice."""
    node_dir = tmp_path_factory.mktemp("people") / "node"
    copy_node(_sample_template, node_dir)
    assert run_cli(node_dir, "key", "new", "alice", "--default").code == 0
    result = run_cli(node_dir, "edit", WIKI, TITLE, "-m", "alice starts it", input="Written by alice.\n")
    assert result.code == 0, str(result)
    bob, nameless, impostor = Remote("Bob Remote"), Remote(), Remote("alice")
    node = Node.open(node_dir)
    try:
        alice = node.keyring.get("alice").public
        parent = node.store.heads(find_page(node, WIKI, TITLE).id)[0].cid
        blocks = bob.profile(5_000) + impostor.profile(5_000)
        revs: dict[str, bytes] = {}
        for who, remote, ts in (("bob", bob, 2_000_000_000_000), ("nameless", nameless, 2_000_000_001_000),
                                ("impostor", impostor, 2_000_000_002_000)):
            made = remote.edit(f"Written by {who}.\n", parent, ts, f"{who} edits")
            blocks += made
            parent = revs[who] = made[2].cid
        report = ingest(node.store, blocks, "test")
        assert [(s.state, s.reason) for s in report.statuses if s.state not in (ACCEPTED, DUPLICATE)] == []
        assert len(node.store.history(find_page(node, WIKI, TITLE).id)) == 4
        cids = {who: cid_to_str(c) for who, c in revs.items()}
    finally:
        node.close()
    cids["alice"] = [c for c in _history_cids(node_dir) if c not in cids.values()][0]
    return Cast(node_dir, alice, bob, nameless, impostor, cids)


@pytest.fixture(scope="module")
def served_dir(cast, tmp_path_factory) -> Path:
    """A copy of the cast's node to serve: on PostgreSQL a served database cannot be copied, and tests copy the cast."""
    node_dir = tmp_path_factory.mktemp("people-served") / "node"
    copy_node(cast.node_dir, node_dir)
    return node_dir


@pytest.fixture(scope="module")
def served(served_dir):
    proc, client = start_server(served_dir)
    try:
        yield client
    finally:
        stop_server(proc, client)


def _line(out: str, cid: str) -> str:
    return next(line for line in out.splitlines() if cid in line)


def test_cli_history_names_people_and_keys_shows_the_keys(cast):
    result = run_cli(cast.node_dir, "history", WIKI, TITLE)
    assert result.code == 0, str(result)
    assert f"  alice  alice starts it" in _line(result.out, cast.revs["alice"])
    # A profile's name is a claim: the key is not trusted here, so its fingerprint goes with it.
    assert f"  Bob Remote ({cast.bob.fingerprint})  bob edits" in _line(result.out, cast.revs["bob"])
    assert f"  {cast.nameless.fingerprint}  nameless edits" in _line(result.out, cast.revs["nameless"])
    impostor = _line(result.out, cast.revs["impostor"])
    assert f"  alice ({cast.impostor.fingerprint})  impostor edits" in impostor
    assert "ed25519:" not in result.out
    keys = run_cli(cast.node_dir, "history", WIKI, TITLE, "--keys")
    assert f"  {cast.alice}  alice starts it" in _line(keys.out, cast.revs["alice"])
    assert f"  {cast.impostor.public}  impostor edits" in _line(keys.out, cast.revs["impostor"])


def test_cli_recent_names_people(cast):
    result = run_cli(cast.node_dir, "recent", "--limit", "4")
    assert result.code == 0, str(result)
    lines = result.out.splitlines()
    assert len(lines) == 4
    assert f"{WIKI}: {TITLE}  alice  alice starts it" in _line(result.out, cast.revs["alice"])
    assert f"Bob Remote ({cast.bob.fingerprint})" in _line(result.out, cast.revs["bob"])
    assert cast.bob.public in _line(run_cli(cast.node_dir, "recent", "--keys").out, cast.revs["bob"])
    wrong = run_cli(cast.node_dir, "recent", "--wiki", "nowiki")
    assert wrong.code != 0 and "no wiki 'nowiki'" in wrong.err


def test_cli_names_an_authorless_revision_as_the_web_does(sample_node):
    """A revision with no author key (signed only by the node that took it in) is "anonymous", in the CLI as on
    the web (People.author), with or without --keys; never "node"."""
    from wikipeer.model.objects import Revision, build_page, build_revision, build_text
    node = Node.open(sample_node)
    try:
        signer = SigningKey.generate()
        public = key_to_str(bytes(signer.verify_key))
        page, text = build_page(Page(WIKI, 0, "Nobody's page")), build_text("Written by nobody in particular.")
        rev = build_revision(Revision(page.cid, (), text.cid, len(text.data), 2_000_000_000_000,
                                      comment="no author"))
        sig = build_signature(Signature(rev.cid, "node", public, sign(signer, rev.cid, "node")))
        report = ingest(node.store, [page, text, rev, sig], "test")
        assert [s.state for s in report.statuses] == [ACCEPTED] * 4, report.statuses
        web_label = People(node.keyring, node.store, node.dir).author(node.store.revision(rev.cid),
                                                                       node.view().trusted).label
    finally:
        node.close()
    assert web_label == "anonymous"
    for args in ((), ("--keys",)):
        result = run_cli(sample_node, "history", WIKI, "Nobody's page", *args)
        assert result.code == 0, str(result)
        assert result.out.rstrip().endswith("  anonymous  no author"), result.out
        recent = run_cli(sample_node, "recent", "--limit", "1", *args)
        assert recent.out.rstrip().endswith(f"{WIKI}: Nobody's page  anonymous  no author"), recent.out


def test_the_sample_wikis_author_is_demo(cast, served):
    result = run_cli(cast.node_dir, "history", WIKI, "Main Page")
    assert result.code == 0, str(result)
    assert all("  demo  " in line for line in result.out.splitlines())
    page = served.get("/wiki/wikipeer/Main_Page?action=history").text
    assert re.search(r'<span class="author local" title="ed25519:[^"]+ — the name this node gives the key; '
                     r'trusted by your view">demo</span>', page)


def _author_spans(page: str) -> list[tuple[str, str, str]]:
    """(class, title, text) of every author cell."""
    return [(k, html_lib.unescape(t), html_lib.unescape(x))
            for k, t, x in re.findall(r'<span class="author ([\w ]+)" title="([^"]*)">([^<]*)</span>', page)]


def test_web_history_names_people_with_the_key_on_hover(cast, served):
    page = served.get(f"/wiki/{WIKI}/People_page?action=history").text
    spans = {text: (kind, title) for kind, title, text in _author_spans(page)}
    assert spans["alice"][0] == "local" and spans["alice"][1].startswith(cast.alice + " — ")
    bob = spans[f"Bob Remote ({cast.bob.fingerprint})"]
    assert bob[0] == "claimed" and bob[1].startswith(cast.bob.public)
    assert "not trusted by this view" in bob[1]
    assert spans[cast.nameless.fingerprint][0] == "key"
    impostor = spans[f"alice ({cast.impostor.fingerprint})"]
    assert impostor[0] == "claimed" and "another key here has this name" in impostor[1]
    # Badges say whose signature it is and whether the reader's view trusts it.
    assert "signed by alice (trusted by your view)" in page
    assert f"signed by Bob Remote ({cast.bob.fingerprint}) — not trusted by this view" in page


def test_recent_changes_and_diff_name_people(cast, served):
    recent = served.get("/recent").text
    names = {text for _, _, text in _author_spans(recent)}
    assert {"alice", f"Bob Remote ({cast.bob.fingerprint})", cast.nameless.fingerprint} <= names
    diff = served.get(f"/wiki/{WIKI}/People_page?diff={cast.revs['bob']}").text
    names = [text for _, _, text in _author_spans(diff)]
    assert names == ["alice", f"Bob Remote ({cast.bob.fingerprint})"]
    article = served.get(f"/wiki/{WIKI}/People_page?oldid={cast.revs['alice']}").text
    assert "signed by alice (trusted by your view)" in article


def test_api_names_people_as_mediawiki_users(cast, served):
    answer = served.get(f"/w/{WIKI}/api.php", params={
        "action": "query", "prop": "revisions", "titles": TITLE, "rvprop": "user|ids|comment", "rvlimit": "10",
        "format": "json", "formatversion": "2"}).json()
    users = {r["comment"]: r["user"] for r in answer["query"]["pages"][0]["revisions"]}
    plain = lambda r: r.public.removeprefix("ed25519:")[:10].replace("_", "-")  # noqa: E731
    assert users == {"alice starts it": "Alice", "bob edits": f"Bob Remote ({plain(cast.bob)})",
                     "nameless edits": f"Wikipeer-{plain(cast.nameless)}",
                     "impostor edits": f"Alice ({plain(cast.impostor)})"}
    recent = served.get(f"/w/{WIKI}/api.php", params={
        "action": "query", "list": "recentchanges", "rcprop": "user|title", "rclimit": "5", "format": "json",
        "formatversion": "2"}).json()
    assert "Alice" in {c["user"] for c in recent["query"]["recentchanges"] if c["title"] == TITLE}
    mine = served.get(f"/w/{WIKI}/api.php", params={
        "action": "query", "list": "usercontribs", "ucuser": "Alice", "ucprop": "title|comment", "format": "json",
        "formatversion": "2"}).json()
    assert [c["comment"] for c in mine["query"]["usercontribs"]] == ["alice starts it"]


def test_export_credits_people_with_unique_user_names(cast, tmp_path):
    out = tmp_path / "people.xml"
    result = run_cli(cast.node_dir, "export", WIKI, "--pages", TITLE, "Main Page", "-o", str(out))
    assert result.code == 0, str(result)
    names = re.findall(r"<username>([^<]*)</username>", out.read_text("utf-8"))
    plain = lambda r: r.public.removeprefix("ed25519:")[:10].replace("_", "-")  # noqa: E731
    assert set(names) == {"Demo", "Alice", f"Bob Remote ({plain(cast.bob)})", f"Wikipeer-{plain(cast.nameless)}",
                          f"Alice ({plain(cast.impostor)})"}


def test_a_trusted_profile_is_shown_by_its_name(cast, tmp_path):
    node_dir = tmp_path / "node"
    copy_node(cast.node_dir, node_dir)
    node = Node.open(node_dir)
    try:
        people = People(node.keyring, node.store, node.dir)
        bob = people.person(cast.bob.public)
        # A view that trusts the key shows its profile's name as it is; one that does not, marked.
        assert (bob.source, bob.label(trusted=True)) == (PROFILE, "Bob Remote")
        assert bob.label(trusted=False) == f"Bob Remote ({cast.bob.fingerprint})"
        claimed = people.person(cast.impostor.public)
        assert claimed.source == PROFILE and claimed.clash
        assert claimed.label(trusted=True) == f"alice ({cast.impostor.fingerprint})"  # never plain: alice is taken
    finally:
        node.close()
    # A name given here wins over the profile's.
    assert run_cli(node_dir, "key", "import", "bob-key", input=cast.bob.public).code == 0
    assert "  bob-key  bob edits" in run_cli(node_dir, "history", WIKI, TITLE).out


def test_seconders_and_file_signers_are_named_as_the_readers_view_sees_them(cast, tmp_path):
    """Bob seconds alice's revision and signs a file version. The default view does not trust his key, so his
    profile's name carries its fingerprint; a view that trusts him (?view=) shows the name as it is."""
    node_dir = tmp_path / "node"
    copy_node(cast.node_dir, node_dir)
    steps = [("view", "own-communities", "off")]
    for community, view, member in (("nobody", "plain", None), ("friends", "friendly", cast.bob.public)):
        steps.append(("trust", "create", community))
        steps += [("trust", "add", community, member)] if member else []
        steps.append(("trust", "subscribe", f"{cast.alice}/{community}", "--view", view))
    steps.append(("view", "default", "plain"))  # the node's readers trust no one's but the node's keys
    for args in steps:
        assert run_cli(node_dir, *args).code == 0, args
    node = Node.open(node_dir)
    try:
        rev = cid_from_str(cast.revs["alice"])
        seconded = build_signature(Signature(rev, "second", cast.bob.public, sign(cast.bob.key, rev, "second"), 9_000))
        file_page = Page(WIKI, NS_FILE, "Bob.png")
        picture = file_blocks(file_page, tiny_png(), 2_000_000_003_000, cast.bob.key, cast.bob.public, "Bob's picture")
        report = ingest(node.store, [seconded, build_page(file_page), *picture], "test")
        assert [(s.state, s.reason) for s in report.statuses if s.state == REJECTED] == []
    finally:
        node.close()
    claimed, trusted = f"Bob Remote ({cast.bob.fingerprint})", "Bob Remote"
    proc, client = start_server(node_dir)
    try:
        for query, name in (("", claimed), ("&view=friendly", trusted)):
            history = client.get(f"/wiki/{WIKI}/People_page?action=history{query}").text
            assert re.findall(r'class="seconders"[^>]*>seconded by ([^<]*)</span>', history) == [html_lib.escape(name)]
            page = client.get(f"/wiki/{WIKI}/File:Bob.png?{query.lstrip('&')}").text
            signers = re.findall(r'<td class="signers">([^<]*)</td>', page)
            assert signers == [html_lib.escape(name)], (query, signers)
    finally:
        stop_server(proc, client)


def test_a_profile_name_is_cleaned_and_user_names_are_unique(node):
    assert clean_name("al\u202eice\u200b\n  smith") == "alice smith"  # no bidi override, no zero-width space
    assert len(clean_name("x" * 500)) == 64
    assert mediawiki_user_name("bob_the [builder]/x") == "Bob the -builder--x"
    assert mediawiki_user_name("127.0.0.1") == "Wikipeer-127.0.0.1"
    node.keyring.create("carol")
    carol = node.keyring.get("carol").public
    names = UserNames(People(node.keyring, node.store, node.dir), frozenset(), reserved=["Carol"])
    # An imported user of the export is called Carol: the local key gets its fingerprint, and keeps it.
    fp = carol.removeprefix("ed25519:")[:10].replace("_", "-")
    assert names.name(carol) == f"Carol ({fp})" == names.name(carol)


def test_history_page_naming_people_in_chromium(cast, served, browser):
    with open_tab(browser, str(served.base_url).rstrip("/")) as tab:
        page = tab.page
        page.goto(f"/wiki/{WIKI}/People_page?action=history")
        authors = page.locator("ul.history .author")
        texts = authors.all_inner_texts()
        assert "alice" in texts and f"Bob Remote ({cast.bob.fingerprint})" in texts
        assert page.locator("ul.history .author.claimed").count() == 2
        assert authors.first.get_attribute("title").startswith("ed25519:")
        assert_png(screenshot(page, "history-people"))
        assert not tab.errors, tab.errors


def test_key_profile_publishes_the_name_other_nodes_show(sample_node):
    assert run_cli(sample_node, "key", "new", "carol", "--default").code == 0
    empty = run_cli(sample_node, "key", "profile", "  ")
    assert empty.code == 2 and "a profile needs a name" in empty.err
    result = run_cli(sample_node, "key", "profile", "Carol Connor")
    assert result.code == 0 and "goes by 'Carol Connor'" in result.out, str(result)
    assert run_cli(sample_node, "edit", WIKI, "Carol's page", "-m", "hello", input="Hi.\n").code == 0
    assert "  carol  hello" in run_cli(sample_node, "history", WIKI, "Carol's page").out  # the local name first
    # Where the key has no local name (as on every other node), its signed profile names it: a claim.
    public = run_cli(sample_node, "key", "export", "carol").out.strip()
    (sample_node / "keys" / "carol.key").unlink()
    line = run_cli(sample_node, "history", WIKI, "Carol's page").out
    assert f"  Carol Connor ({public.removeprefix('ed25519:')[:10]}…)  hello" in line


def test_a_name_given_while_the_node_serves_shows_at_the_next_request(cast, served, served_dir):
    """Last in this module: it names the nameless key on the served node (another process's keyring write)."""
    before = served.get(f"/wiki/{WIKI}/People_page?action=history").text
    assert cast.nameless.fingerprint in {text for _, _, text in _author_spans(before)}
    assert run_cli(served_dir, "key", "import", "nelly", input=cast.nameless.public).code == 0
    after = served.get(f"/wiki/{WIKI}/People_page?action=history").text
    spans = {text: kind for kind, _, text in _author_spans(after)}
    assert spans.get("nelly") == "local" and cast.nameless.fingerprint not in spans
