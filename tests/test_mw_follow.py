"""Following a live MediaWiki (issue 12, item 1): the real MediaWiki 1.39, filled through its own API.

A node pulls it with ``wikipeer peer add --mediawiki`` and ``wikipeer sync``:
every page and revision arrives with MediaWiki's identity and checked SHA-1,
a later pull costs requests in proportion to what changed, moves, deletions
and uploads come through the log and the revisions, a killed sync resumes.
The bad answers real MediaWiki cannot be made to give come from a small
loopback HTTP server that answers badly on purpose.

MediaWiki must be installed (``bash scripts/system-deps.sh``): without it
these tests fail, saying so; they never skip.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import (CLI, assert_user_error, cli_env, on_a_terminal, plain_screen, run_cli, start_server,
                      stop_server)
from mediawiki_instance import MediaWikiInstance
from mw_api_compare import differences
from mw_populate import USERS, edit, fill, latest, login, populate, session, tiny_png
from wikipeer.store.schema import SCHEMA_VERSION
from wikipeer.mediawiki.follow import pull
from wikipeer.model.cid import cid_to_str
from wikipeer.mediawiki.remote import MediaWikiError, RemoteWiki
from wikipeer.node import Node
from wikipeer.store import hidden
from wikipeer.store.mw_peers import MediaWikiPeers

WIKI = "mirror"


@pytest.fixture(scope="module")
def mw(tmp_path_factory):
    """One real MediaWiki for the module, filled by populate(). While the file ``fake_time`` exists in its
    directory, it saves with that time (MediaWiki's own fake clock), to make a revision saved late."""
    root = tmp_path_factory.mktemp("mw")
    clock = str(root / "fake_time").replace("\\", "\\\\").replace("'", "\\'")
    instance = MediaWikiInstance(root, uploads=True, extra_settings=(
        f"if ( is_readable( '{clock}' ) ) {{ Wikimedia\\Timestamp\\ConvertibleTimestamp::setFakeTime("
        f" trim( file_get_contents( '{clock}' ) ) ); }}\n"
        "$wgGroupPermissions['sysop']['deleterevision'] = true;\n"  # revision deletion, followed by the node
        "$wgGroupPermissions['sysop']['deletelogentry'] = true;"))
    instance.install()
    instance.serve()
    instance.populated = populate(instance)
    yield instance
    instance.stop()


def _node(tmp_path: Path, api: str, *extra: str, password: str | None = None) -> Path:
    node = tmp_path / "node"
    assert run_cli(None, "--node", str(node), "init").code == 0
    added = run_cli(node, "peer", "add", "--mediawiki", api, "--wiki", WIKI, "--rate", "1000", *extra,
                    env={"WIKIPEER_MW_PASSWORD": password} if password else None)
    assert added.code == 0, str(added)
    return node


def _sync(node: Path) -> dict[str, int]:
    """``wikipeer sync``; the figures its line gives."""
    result = run_cli(node, "sync", timeout=120)
    assert result.code == 0, str(result)
    line = result.out.splitlines()[0]
    return {k: int(v) for v, k in re.findall(r"(\d+) (revisions read|new|requests|copied|pages hidden|shown again|found saved late)",
                                             line)}


def _mw_revisions(mw: MediaWikiInstance) -> dict[tuple[int, str], list[dict]]:
    """Every page of the wiki by (ns, title) with its revisions as its API lists them."""
    wiki = RemoteWiki(mw.base_url + "/api.php", rate=0)
    pages: dict[tuple[int, str], list[dict]] = {}
    for batch in wiki.query_all(list="allrevisions", arvprop="ids|timestamp|user|comment|size|sha1|flags",
                                arvlimit="max", arvdir="newer"):
        for entry in batch.query["allrevisions"]:
            pages.setdefault((entry["ns"], entry["title"]), []).extend(entry["revisions"])
    wiki.close()
    return pages


def _held(node_dir: Path, full_title: str) -> list:
    """The node's history of a page (oldest first), None if it holds no such page."""
    node = Node.open(node_dir)
    try:
        from wikipeer.model.title import normalize_title
        name = normalize_title(node.wiki(WIKI), full_title)
        row = node.store.page(WIKI, name.ns, name.text)
        return list(reversed(node.store.history(row.id))) if row else None
    finally:
        node.close()


# -- against the real MediaWiki ---------------------------------------------------------------------


def test_first_pull_holds_every_page_and_revision_as_mediawiki_has_them(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api)
    figures = _sync(node)
    theirs = _mw_revisions(mw)
    total = sum(len(r) for r in theirs.values())
    assert figures["revisions read"] == figures["new"] == total
    # siteinfo, the revisions 50 an answer, one imageinfo for the answer holding the file page, the log;
    # then the file's versions (one imageinfo with all of them) and one download per version (one upload)
    assert figures["requests"] <= 1 + -(-total // 50) + 1 + 1 + 1 + 1
    for (ns, title), revisions in theirs.items():
        ours = _held(node, title)
        assert ours is not None, title
        assert [r.origin["rev_id"] for r in ours] == [r["revid"] for r in revisions], title
        for mine, their in zip(ours, revisions, strict=True):
            assert mine.origin["sha1"] == _base36(int(their["sha1"], 16)), title
            assert mine.origin.get("user", mine.origin.get("ip")) == their["user"]
            assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mine.ts / 1000)) == their["timestamp"]
            assert mine.comment == their["comment"] and mine.minor == their["minor"] and mine.size == their["size"]
            assert mine.origin["site"] == "my_wiki" and mine.origin["page_id"] >= 1
    assert _held(node, mw.populated.deleted) is None  # deleted before the pull: never seen
    config = Node.open(node).wiki(WIKI)
    assert config.namespaces[4] == "Wikipedia" and config.case == "first-letter" and "mw" in config.interwiki


def test_a_sync_on_a_terminal_shows_the_revisions_read_so_far(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api)
    code, out, shown = on_a_terminal(node, "sync", "--index-later")
    assert code == 0 and out.startswith(f"{mw.populated.api}: "), (code, out, shown)
    read = re.search(r"(\d+) revisions read", out).group(1)
    assert f"syncing with {mw.populated.api}: {read} revisions read, {read} new".encode() in plain_screen(shown), shown


def _base36(number: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + out
    return out.rjust(31, "0")


def test_each_text_matches_mediawikis_own_sha1(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api, "--namespaces", "0")
    _sync(node)
    alpha = _held(node, "Alpha")
    n = Node.open(node)
    for rev in alpha:
        assert rev.origin["sha1"] == _base36(int(hashlib.sha1(n.store.revision_text(rev).encode()).hexdigest(), 16))
    assert _held(node, "Talk:Alpha") is None and _held(node, "Template:Box") is None  # namespace 0 only


def test_upload_metadata_is_kept_in_the_description_pages_origin(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api)
    _sync(node)
    last = _held(node, mw.populated.upload)[-1]
    upload = json.loads(last.origin["uploads"])[0]
    assert upload["sha1"] == mw.populated.upload_sha1
    assert upload["size"] == str(mw.populated.upload_size) and upload["mime"] == "image/png"
    assert upload["url"].endswith("/Tiny_dot.png") and upload["user"] == "Bob"


def test_later_pull_costs_requests_in_proportion_to_the_changes(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api)
    _sync(node)
    assert _sync(node)["requests"] <= 2  # nothing changed: one look at the revisions, one at the log
    alice = login(mw, "Alice")
    k = 55
    for i in range(k):
        edit(alice, f"Counting {i % 7}", f"count {i}", f"edit {i}")
    figures = _sync(node)
    assert figures["new"] == k and figures["revisions read"] == k
    assert figures["requests"] <= 2 + k / 50
    assert _held(node, "Counting 6")[-1].origin["user"] == "Alice"


def test_a_revision_saved_late_is_taken_through_recentchanges(mw, tmp_path):
    """A revision saved with a timestamp older than the last one taken (a slow save) is passed by
    allrevisions' ascending cursor; the sweep of recentchanges finds it."""
    node = _node(tmp_path, mw.populated.api)
    _sync(node)
    n = Node.open(node)
    last = MediaWikiPeers(n.store).get(mw.populated.api).rev_cursor["after"][0]
    n.close()
    alice = login(mw, "Alice")
    alice.token("csrf")
    saved = time.strftime("%Y%m%d%H%M%S", time.gmtime(calendar.timegm(time.strptime(last, "%Y-%m-%dT%H:%M:%SZ")) - 30))
    (mw.root / "fake_time").write_text(saved)
    try:
        late = edit(alice, "Saved late", "Saved with an old timestamp.", "slow save")
    finally:
        (mw.root / "fake_time").unlink()
    assert late["newtimestamp"] < last
    k = 3
    for i in range(k):
        edit(alice, "Counting late", f"count {i}", f"edit {i}")
    alice.close()
    figures = _sync(node)
    assert figures["new"] == k + 1 and figures["revisions read"] == k + 1 and figures["found saved late"] == 1
    # the sweep (with siteinfo and the log), the late revision, the revisions: 2 + k/50 and one for the late
    assert figures["requests"] <= 2 + (k + 1) / 50 + 1
    held = _held(node, "Saved late")
    assert [r.origin["rev_id"] for r in held] == [late["newrevid"]]
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(held[0].ts / 1000)) == late["newtimestamp"]
    assert _sync(node)["requests"] <= 2  # taken once: the next sweep finds nothing missing


def test_move_and_deletion_after_a_pull(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api)
    _sync(node)
    alice, admin = login(mw, "Alice"), login(mw, mw.admin)
    edit(alice, "Movable", "before the move", "new page")
    _sync(node)
    edit(alice, "Movable", "still before the move", "second")
    alice.post(action="move", **{"from": "Movable", "to": "Moved here"}, reason="renamed", token=alice.token("csrf"))
    admin.post(action="move", **{"from": "Zürich", "to": "Zurich"}, reason="no redirect", noredirect=True,
               token=admin.token("csrf"))  # leaving no redirect takes an administrator
    edit(alice, "Doomed", "to be deleted", "new page")
    _sync(node)
    admin.post(action="delete", title="Doomed", reason="test", token=admin.token("csrf"))
    figures = _sync(node)
    assert figures["pages hidden"] >= 1

    moved = _held(node, "Moved here")
    assert [r.comment for r in moved][:2] == ["new page", "second"]  # the whole history under the new title
    assert "moved page [[Movable]] to [[Moved here]]" in moved[-1].comment
    assert all(r.parents == (p.cid,) for p, r in zip(moved, moved[1:]))
    old = _held(node, "Movable")
    assert old[0].comment == "new page" and old[-1].parents  # the redirect continues the old title: no fork
    n = Node.open(node)
    assert n.store.revision_text(old[-1]).startswith("#REDIRECT [[Moved here]]")
    assert len(n.store.heads(n.store.page(WIKI, 0, "Movable").id)) == 1
    for title, why in (("Doomed", "deleted on"), ("Zürich", "without a redirect")):
        row = n.store.page(WIKI, 0, title)
        record = hidden.hidden(n.store, row.id)
        assert record is not None and why in record.reason, title
        assert n.store.history(row.id)  # the signed history stays
    assert hidden.hidden(n.store, n.store.page(WIKI, 0, "Moved here").id) is None
    n.close()

    proc, client = start_server(node)
    try:
        gone = client.get(f"/wiki/{WIKI}/Doomed")
        assert gone.status_code == 404 and "deleted on" in gone.text
        assert client.get(f"/wiki/{WIKI}/Moved_here").status_code == 200
        assert client.get(f"/wiki/{WIKI}/Zurich").status_code == 200
    finally:
        stop_server(proc, client)

    edit(alice, "Doomed", "made again", "recreated")  # a newer head shows the page again
    _sync(node)
    n = Node.open(node)
    assert hidden.hidden(n.store, n.store.page(WIKI, 0, "Doomed").id) is None
    n.close()


def test_peer_list_shows_the_mediawiki_and_its_last_sync(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api, "--user", "Alice", password=USERS["Alice"])
    listed = run_cli(node, "peer", "list")
    assert "MediaWiki" in listed.out and "never synced" in listed.out and "account Alice" in listed.out
    _sync(node)
    listed = run_cli(node, "peer", "list")
    assert re.search(r"\d+ revisions pulled.*: ok", listed.out), listed.out
    assert USERS["Alice"] not in listed.out


def test_serve_sync_every_pulls_from_the_mediawiki(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api)
    proc, client = start_server(node, "--sync-every", "0.5")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if client.get(f"/wiki/{WIKI}/Alpha").status_code == 200:
                break
            time.sleep(0.3)
        assert client.get(f"/wiki/{WIKI}/Alpha").status_code == 200
    finally:
        stop_server(proc, client)


def _change_after_a_pull(mw: MediaWikiInstance) -> None:
    """What people do to pages a node already holds: an IP's and a minor edit, a move with its talk page,
    a move without a redirect, a deletion, a deletion undone, an edit conflict, an upload and a new version."""
    alice, bob, admin, anon = login(mw, "Alice"), login(mw, "Bob"), login(mw, mw.admin), session(mw)
    edit(anon, "Kappa", "Kappa, with a word from an IP.", "an IP's edit")
    edit(alice, "Kappa", "Kappa, with a word from an IP, tidied.", "tidy", minor=True)
    alice.post(action="move", **{"from": "Kappa", "to": "Kappa letter"}, reason="a clearer title", movetalk=True,
               token=alice.token("csrf"))
    admin.post(action="move", **{"from": "Lambda", "to": "Lambda letter"}, reason="no redirect wanted",
               noredirect=True, token=admin.token("csrf"))
    admin.post(action="delete", title="Mu", reason="not wanted", token=admin.token("csrf"))
    admin.post(action="delete", title="Nu", reason="by mistake", token=admin.token("csrf"))
    admin.post(action="undelete", title="Nu", reason="a mistake", token=admin.token("csrf"))
    base = latest(alice, "Kappa letter")
    # MediaWiki 1.39 sees a conflict only when the page's timestamp differs from basetimestamp (whole
    # seconds): Alice's edit must not land in the second of the base, or Bob's would overwrite it.
    while time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) <= base["timestamp"]:
        time.sleep(0.05)
    edit(alice, "Kappa letter", base["slots"]["main"]["content"] + " Alice adds.", "Alice's change",
         baserevid=base["revid"], basetimestamp=base["timestamp"])
    with pytest.raises(MediaWikiError, match="editconflict"):
        edit(bob, "Kappa letter", base["slots"]["main"]["content"] + " Bob adds.", "Bob's change",
             baserevid=base["revid"], basetimestamp=base["timestamp"])
    for version, colour in enumerate(((10, 200, 10), (10, 10, 200))):
        bob.post(action="upload", filename="Kappa dot.png", comment=f"version {version + 1}", text="A dot.",
                 ignorewarnings=True, token=bob.token("csrf"),
                 files={"file": ("Kappa dot.png", tiny_png(colour), "image/png")})
    for wiki in (alice, bob, admin, anon):
        wiki.close()


def test_the_nodes_api_answers_as_mediawiki_does_after_a_pull(mw, tmp_path):
    """Issue 12: after a pull, MediaWiki's API and the node's agree on the titles of every namespace and on
    every revision's fields, also after moves, deletions, a restore, uploads and an edit conflict there."""
    alice, bob = login(mw, "Alice"), login(mw, "Bob")
    for title in ("Kappa", "Lambda", "Mu", "Nu"):
        edit(alice, title, f"{title}, the first version.", "new page")
        edit(bob, f"Talk:{title}", f"About {title}.", "a question")
    alice.close()
    bob.close()
    node = _node(tmp_path, mw.populated.api)
    _sync(node)
    _change_after_a_pull(mw)
    _sync(node)
    proc, client = start_server(node)
    try:
        found = differences(mw.populated.api, f"{client.base_url}/w/{WIKI}/api.php")
        for title in ("Mu", "Lambda"):  # deleted, moved without a redirect: index.php knows them no more
            raw = client.get(f"/w/{WIKI}/index.php", params={"title": title, "action": "raw"})
            assert raw.status_code == 404 and "on http://127.0.0.1" in raw.text, title
        assert client.get(f"/w/{WIKI}/index.php", params={"title": "Nu", "action": "raw"}).status_code == 200
    finally:
        stop_server(proc, client)
    assert found == [], "\n".join(found)


@pytest.fixture(scope="module")
def german(tmp_path_factory):
    """A MediaWiki in German with case-sensitive titles ($wgCapitalLinks false), one page on it."""
    instance = MediaWikiInstance(tmp_path_factory.mktemp("de"), lang="de", capital_links=False, sitename="Wikipedia")
    instance.install()
    instance.serve()
    wiki = RemoteWiki(instance.base_url + "/api.php", rate=0)
    wiki.post(action="login", lgname=instance.admin, lgpassword=instance.password, lgtoken=wiki.token("login"))
    wiki.forget_tokens()
    edit(wiki, "kleines wort", "Klein geschrieben.", "neu")
    edit(wiki, "Kleines wort", "Gross geschrieben.", "neu")
    wiki.close()
    yield instance
    instance.stop()


def test_the_wikis_language_case_and_aliases_come_from_siteinfo_at_every_pull(german, tmp_path):
    node = _node(tmp_path, german.base_url + "/api.php")
    _sync(node)
    n = Node.open(node)
    try:
        config = n.wiki(WIKI)
        assert config.case == "case-sensitive" and config.lang == "de"
        assert config.namespaces[6] == "Datei" and config.namespace_aliases["Bild"] == 6
        from wikipeer.model.title import normalize_title
        assert normalize_title(config, "Bild:Punkt.png").full == "Datei:Punkt.png"  # the alias names the namespace
        assert n.store.page(WIKI, 0, "kleines wort") and n.store.page(WIKI, 0, "Kleines wort")  # two pages
        n.store.set_wiki_config(type(config)(name=WIKI))  # as if the wiki's configuration had changed
    finally:
        n.close()
    assert _sync(node)["requests"] <= 2  # siteinfo rides on the sweep
    n = Node.open(node)
    try:
        assert n.wiki(WIKI).case == "case-sensitive" and n.wiki(WIKI).lang == "de"  # asked again, not kept
    finally:
        n.close()


# -- resuming after a kill -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bulk(tmp_path_factory):
    """A second MediaWiki holding 400 revisions (importDump.php of a generated dump)."""
    root = tmp_path_factory.mktemp("bulk")
    instance = MediaWikiInstance(root / "mw")
    instance.install()
    instance.count = fill(instance, root, pages=10, revisions=40) + 1  # and the installer's Main Page
    instance.serve()
    yield instance
    instance.stop()


def test_a_killed_sync_resumes_with_nothing_lost_or_doubled(bulk, tmp_path):
    node = tmp_path / "node"
    run_cli(None, "--node", str(node), "init")
    run_cli(node, "peer", "add", "--mediawiki", bulk.base_url + "/api.php", "--wiki", WIKI, "--rate", "4")
    proc = subprocess.Popen([*CLI, "--node", str(node), "sync"], env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    n = Node.open(node)
    peers = MediaWikiPeers(n.store)
    while time.monotonic() < deadline and not peers.get(bulk.base_url + "/api.php").pulled:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    taken = peers.get(bulk.base_url + "/api.php").pulled
    assert 0 < taken < bulk.count, "the kill must land mid-pull"
    n.close()
    run_cli(node, "peer", "add", "--mediawiki", bulk.base_url + "/api.php", "--wiki", WIKI, "--rate", "1000")
    figures = _sync(node)
    assert figures["revisions read"] < bulk.count  # resumed, not started over
    n = Node.open(node)
    ids = [r[0] for r in n.store.conn.execute("SELECT rev_id FROM origins")]
    assert len(ids) == len(set(ids)) == bulk.count
    count = n.store.conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
    assert count == bulk.count  # no revision twice
    n.close()


def _state(node_dir: Path) -> dict[tuple[int, str], tuple[list, bool]]:
    """What a pull leaves in a node: each page's history (MediaWiki's revision ids, oldest first; a copy
    under a new title counts as its revision) and whether it is hidden."""
    node = Node.open(node_dir)
    try:
        state = {}
        for ns, title, page_id in node.store.conn.execute("SELECT ns, title, id FROM pages WHERE wiki = ?", (WIKI,)):
            history = [r.origin.get("rev_id") for r in reversed(node.store.history(page_id))]
            state[(ns, title)] = (history, hidden.hidden(node.store, page_id) is not None)
        return state
    finally:
        node.close()


FAULTS = {
    # after an answer's revisions are in the store, before the cursor that covers them is saved
    "revision cursor": (MediaWikiPeers, "set", lambda fields: "rev_cursor" in fields),
    # after the log (and recentchanges) were followed, before the sweep's cursor is saved
    "log cursor": (MediaWikiPeers, "set", lambda fields: "log_cursor" in fields),
    # in the middle of the log: the first page it hides
    "log event": (hidden, "hide", lambda fields: True),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_before_a_cursor_is_saved_is_mended_by_the_next_sync(mw, tmp_path, fault):
    """A pull that breaks between taking something and saving its cursor (or in the middle of the log) leaves
    the node, after the next sync, exactly as a pull that never broke."""
    alice, admin = login(mw, "Alice"), login(mw, mw.admin)
    word = fault.replace(" ", "")
    for i in range(3):
        edit(alice, f"Fault {word} {i}", f"text {i}", "new page")
    calm, broken = _node(tmp_path / "calm", mw.populated.api), _node(tmp_path / "broken", mw.populated.api)
    _sync(calm)
    _sync(broken)
    edit(alice, f"Fault {word} 0", "text 0, again", "second")
    edit(alice, f"Fault {word} new", "a new page", "new page")
    admin.post(action="delete", title=f"Fault {word} 1", reason="test", token=admin.token("csrf"))
    admin.post(action="move", **{"from": f"Fault {word} 2", "to": f"Fault {word} moved"}, reason="test",
               noredirect=True, token=admin.token("csrf"))
    alice.close()
    admin.close()
    _sync(calm)

    owner, name, when = FAULTS[fault]
    real = getattr(owner, name)
    fired = []

    def faulty(*args, **kwargs):
        if not fired and when(kwargs):
            fired.append(1)
            raise RuntimeError("injected fault")
        return real(*args, **kwargs)

    node = Node.open(broken)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(owner, name, faulty)
            with pytest.raises(RuntimeError, match="injected fault"):
                pull(node, mw.populated.api)
        assert fired
    finally:
        node.close()
    _sync(broken)
    held = _state(broken)
    assert held == _state(calm)
    assert held[(0, f"Fault {word} 1")][1] and held[(0, f"Fault {word} 2")][1]  # deleted, moved away: hidden
    assert len(held[(0, f"Fault {word} 0")][0]) == 2 and held[(0, f"Fault {word} moved")][0]


# -- bad answers (a loopback server that answers badly on purpose) ---------------------------------


GOOD_REV = {"revid": 1, "parentid": 0, "minor": False, "user": "Ann", "userid": 5,
            "timestamp": "2026-01-01T00:00:00Z", "size": 5, "comment": "one",
            "sha1": hashlib.sha1(b"first").hexdigest(),
            "slots": {"main": {"contentmodel": "wikitext", "contentformat": "text/x-wiki", "content": "first"}}}
SITEINFO = {"query": {"general": {"wikiid": "badwiki", "sitename": "Bad", "case": "first-letter", "lang": "en"},
                      "namespaces": {"0": {"id": 0, "name": "", "case": "first-letter"}},
                      "logevents": [], "recentchanges": []}}


def _rev(n: int, text: str, sha1: str | None = None) -> dict:
    return {**GOOD_REV, "revid": n, "parentid": n - 1, "comment": f"rev {n}", "size": len(text),
            "timestamp": f"2026-01-01T00:00:{n:02d}Z", "sha1": sha1 or hashlib.sha1(text.encode()).hexdigest(),
            "slots": {"main": {**GOOD_REV["slots"]["main"], "content": text}}}


def _batch(first: int, cont: str | None) -> dict:
    answer = {"query": {"allrevisions": [{"pageid": 1, "ns": 0, "title": "Page",
                                          "revisions": [_rev(first, f"text {first}")]}]}}
    if cont:
        answer["continue"] = {"arvcontinue": cont, "continue": "-||"}
    return answer


class BadWiki:
    """api.php that answers the first allrevisions request well, then as ``second`` says."""

    def __init__(self) -> None:
        self.second: Callable[[BaseHTTPRequestHandler], None] = lambda h: h.json(_batch(2, None))
        self.seen: list[tuple[dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def json(self, answer: object, headers: dict | None = None, status: int = 200) -> None:
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                outer.seen.append((params, dict(self.headers)))
                if params.get("meta") == "siteinfo":  # with the log and recentchanges: the first request
                    self.json(SITEINFO)
                elif "arvcontinue" not in params:
                    self.json(_batch(1, "20260101000002|2"))
                else:
                    outer.second(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/w/api.php"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bad(tmp_path):
    wiki = BadWiki()
    node_dir = _node(tmp_path, wiki.url)
    yield wiki, node_dir
    wiki.close()


def _raw(handler: BaseHTTPRequestHandler, body: bytes, kind: str = "application/json", length: int | None = None):
    handler.send_response(200)
    handler.send_header("content-type", kind)
    handler.send_header("content-length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def _endless(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.end_headers()  # no length: it goes on until the reader stops
    handler.wfile.write(b'{"query": {"allrevisions": [')
    try:
        while True:
            handler.wfile.write(b" " * 65536)
    except OSError:
        pass


BAD_ANSWERS = {
    "error": (lambda h: h.json({"error": {"code": "internal_api_error_DBQueryError", "info": "database broke"}}),
              "internal_api_error_DBQueryError: database broke"),
    "maxlag": (lambda h: h.json({"error": {"code": "maxlag", "info": "Waiting for db: 7 seconds lagged"}},
                                {"retry-after": "0"}), "still busy after 2 retries"),
    "busy": (lambda h: h.json({}, {"retry-after": "0"}, 503), "still busy after 2 retries"),
    "html": (lambda h: _raw(h, b"<!DOCTYPE html><html><body>Fatal error</body></html>", "text/html"),
             "text/html instead of JSON"),
    "cut off": (lambda h: _raw(h, json.dumps(_batch(2, None)).encode()[:60]), "cut-off or malformed JSON"),
    "sha1": (lambda h: h.json({"query": {"allrevisions": [{"pageid": 1, "ns": 0, "title": "Page", "revisions": [
        _rev(2, "text 2", hashlib.sha1(b"something else").hexdigest())]}]}}),
        "revision 2 of 'Page': its text does not match the SHA-1"),
    "repeats": (lambda h: h.json(_batch(2, "20260101000002|2")), "repeats the continuation"),
    "endless": (_endless, "more than 1048576 bytes"),
    "10 GB": (lambda h: _raw(h, b'{"query": ', length=10 * 1000**3), "announces an answer of 10000000000 bytes"),
    "vanishes": (lambda h: _raw(h, b'{"query": {"allrevisions": [', length=5000), "broke off"),
}


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_a_bad_answer_takes_nothing_and_leaves_the_cursor(bad, kind):
    wiki, node_dir = bad
    wiki.second, message = BAD_ANSWERS[kind]
    node = Node.open(node_dir)
    try:
        with pytest.raises(MediaWikiError) as caught:
            pull(node, wiki.url, max_retries=2, max_wait=0.01, max_answer=1 << 20, timeout=5)
        assert message in str(caught.value) and wiki.url in str(caught.value)
        peer = MediaWikiPeers(node.store).get(wiki.url)
        assert peer.rev_cursor["continue"] == {"arvcontinue": "20260101000002|2", "continue": "-||"}
        assert message in peer.last_error
        assert [r[0] for r in node.store.conn.execute("SELECT rev_id FROM origins")] == [1]  # the first answer only
        wiki.second = lambda h: h.json(_batch(2, None))  # the wiki mends: the next sync resumes
        result = pull(node, wiki.url)
        assert result.new == 1 and result.revisions == 1
        assert sorted(r[0] for r in node.store.conn.execute("SELECT rev_id FROM origins")) == [1, 2]
        assert MediaWikiPeers(node.store).get(wiki.url).last_error is None
    finally:
        node.close()


def test_a_bad_answer_is_one_clear_line_from_the_command_line(bad):
    wiki, node_dir = bad
    wiki.second = BAD_ANSWERS["html"][0]
    result = run_cli(node_dir, "sync")
    assert result.code == 1 and "Traceback" not in result.err
    assert f"MediaWiki at {wiki.url}: answered query with text/html instead of JSON" in result.out
    assert "the next sync resumes" in result.out


def test_requests_name_the_node_send_maxlag_and_keep_the_rate(bad, monkeypatch):
    wiki, node_dir = bad
    node = Node.open(node_dir)
    try:
        MediaWikiPeers(node.store).set(wiki.url, rate=5.0)
        monkeypatch.setenv("WIKIPEER_CONTACT", "https://mirror.example/contact")
        started = time.monotonic()
        pull(node, wiki.url)
        elapsed = time.monotonic() - started
        key = node.keyring.get("node").public
    finally:
        node.close()
    assert len(wiki.seen) == 3  # siteinfo with the log, two answers of revisions
    assert elapsed >= 2 / 5 * 0.9  # two gaps at five requests a second
    for params, headers in wiki.seen:
        assert params["maxlag"] == "5" and params["format"] == "json" and params["formatversion"] == "2"
        agent = headers.get("user-agent") or headers.get("User-Agent")
        assert agent.startswith("wikipeer/") and f"node {key[:16]}; https://mirror.example/contact" in agent


def test_maxlag_is_waited_out_when_it_passes(bad):
    wiki, node_dir = bad
    calls = []

    def lag_once(h):
        calls.append(1)
        if len(calls) == 1:
            h.json({"error": {"code": "maxlag", "info": "lagged"}}, {"retry-after": "0"})
        else:
            h.json(_batch(2, None))
    wiki.second = lag_once
    node = Node.open(node_dir)
    try:
        assert pull(node, wiki.url, max_wait=0.01).new == 2
    finally:
        node.close()
    assert len(calls) == 2


def test_bad_peer_add_input_is_refused_clearly(tmp_path):
    node = tmp_path / "node"
    run_cli(None, "--node", str(node), "init")
    assert_user_error(run_cli(node, "peer", "add", "--mediawiki", "http://127.0.0.1:9/api.php"), "--wiki")
    assert_user_error(run_cli(node, "peer", "add", "--mediawiki", "ftp://x/api.php", "--wiki", "w"), "api.php")
    assert_user_error(run_cli(node, "peer", "add", "--mediawiki", "http://127.0.0.1:9/api.php", "--wiki", "w",
                              "--namespaces", "0,ten"), "--namespaces")
    assert_user_error(run_cli(node, "peer", "add", "--mediawiki", "http://127.0.0.1:9/api.php", "--wiki", "w",
                              "--since", "yesterday"), "--since")
    assert_user_error(run_cli(node, "peer", "add", "--mediawiki", "http://127.0.0.1:9/api.php", "--wiki", "a b"),
                      "wiki name")
    assert_user_error(run_cli(node, "peer", "add", "http://127.0.0.1:9", "--wiki", "w"), "--mediawiki")


def test_a_wiki_configuration_keeps_its_interwiki_map_and_refuses_a_malformed_one():
    from wikipeer.model.title import WikiConfig
    config = WikiConfig(name="w", interwiki={"mw": "https://www.mediawiki.org/wiki/$1"})
    assert WikiConfig.from_dict(config.to_dict()) == config
    assert "interwiki" not in WikiConfig(name="w").to_dict()  # configurations without one sign as before
    with pytest.raises(ValueError, match="interwiki"):
        WikiConfig.from_dict({"name": "w", "interwiki": ["mw"]})
    aliased = WikiConfig(name="w", namespace_aliases={"Bild": 6})
    assert WikiConfig.from_dict(aliased.to_dict()) == aliased
    assert "namespace_aliases" not in WikiConfig(name="w").to_dict()
    with pytest.raises(ValueError, match="namespace aliases"):
        WikiConfig.from_dict({"name": "w", "namespace_aliases": {"Bild": "six"}})


def test_a_store_of_the_previous_schema_gains_the_mediawiki_tables(tmp_path):
    from wikipeer.store.store import Store
    store = Store(tmp_path / "store.db")
    with store.conn:
        store.conn.execute("DROP TABLE mw_peers")
        store.conn.execute("DROP TABLE hidden_pages")
        store.conn.execute("UPDATE meta SET value = '10' WHERE key = 'schema'")
    store.close()
    store = Store(tmp_path / "store.db")
    try:
        peer = MediaWikiPeers(store).add("http://127.0.0.1:9/w/api.php", "w", [0, 10], None, "Alice")
        assert (peer.wiki, peer.namespaces, peer.user, peer.push_cursor, peer.secret) == ("w", [0, 10], "Alice", 0, None)
        hidden.hide(store, 1, 5, "deleted")
        assert store.meta("schema") == SCHEMA_VERSION
    finally:
        store.close()


def test_the_command_line_hides_a_hidden_page_as_the_web_page_does(node_dir):
    """``wikipeer show`` refuses a page hidden here (deleted on the MediaWiki followed), saying why, and shows
    one of its revisions with --rev; ``wikipeer search`` leaves it out."""
    for title in ("Doomed", "Kept"):
        assert run_cli(node_dir, "edit", WIKI, title, "-m", "new", input=f"{title}: a zebra page.").code == 0
    n = Node.open(node_dir)
    try:
        row = n.store.page(WIKI, 0, "Doomed")
        head = n.store.heads(row.id)[0]
        hidden.hide(n.store, row.id, head.ts + 1, "deleted on http://127.0.0.1:9/w/api.php by Admin")
        rev = cid_to_str(head.cid)
    finally:
        n.close()
    assert_user_error(run_cli(node_dir, "show", WIKI, "Doomed"), "'Doomed' was deleted on http://127.0.0.1:9",
                      "wikipeer history")
    assert run_cli(node_dir, "show", WIKI, "Doomed", "--rev", rev).out == "Doomed: a zebra page."
    found = run_cli(node_dir, "search", "zebra")
    assert found.code == 0 and "Kept" in found.out and "Doomed" not in found.out, str(found)
    only_hidden = run_cli(node_dir, "search", "Doomed:")
    assert only_hidden.code == 0 and only_hidden.out.strip() == "no pages match", str(only_hidden)


def test_since_starts_the_pull_at_that_time(bulk, tmp_path):
    since = "2020-01-01T00:30:00Z"
    wiki = RemoteWiki(bulk.base_url + "/api.php", rate=0)
    expected = sum(len(e["revisions"]) for b in wiki.query_all(list="allrevisions", arvprop="ids", arvlimit="max",
                                                                arvdir="newer", arvstart=since)
                   for e in b.query["allrevisions"])
    wiki.close()
    assert 0 < expected < bulk.count
    node = _node(tmp_path, bulk.base_url + "/api.php", "--since", since)
    assert _sync(node)["new"] == expected
    n = Node.open(node)
    try:
        assert min(r[0] for r in n.store.conn.execute("SELECT ts FROM revisions")) >= 1577838600000
    finally:
        n.close()


def test_a_revision_deleted_and_shown_again_on_the_wiki_is_hidden_and_shown_here(mw, tmp_path):
    node = _node(tmp_path, mw.populated.api)
    alice, admin = login(mw, "Alice"), login(mw, mw.admin)
    slip = edit(alice, "Slipped", "a phone number: 555-0142", "new page")["newrevid"]
    edit(alice, "Slipped", "no number any more", "removed it")
    _sync(node)

    def held() -> tuple[str, dict]:
        n = Node.open(node)
        try:
            row = n.store.page(WIKI, 0, "Slipped")
            rev = next(r for r in n.store.history(row.id) if r.origin.get("rev_id") == slip)
            return rev.cid_str, {i: r.reason for i, r in hidden.hidden_items(n.store, row.id).items()}
        finally:
            n.close()

    token = admin.token("csrf")
    done = admin.post(action="revisiondelete", type="revision", target="Slipped", ids=str(slip), hide="content",
                      reason="personal data", token=token)
    assert done["revisiondelete"]["status"] == "Success", done
    assert _sync(node)["pages hidden"] == 1
    cid, items = held()
    assert len(items) == 1 and all("deleted on" in r and "personal data" in r for r in items.values()), items
    proc, client = start_server(node)
    try:
        gone = client.get(f"/wiki/{WIKI}/Slipped?oldid={cid}")
        assert gone.status_code == 404 and "555-0142" not in gone.text and "personal data" in gone.text
        assert "no number any more" in client.get(f"/wiki/{WIKI}/Slipped").text
    finally:
        stop_server(proc, client)
    done = admin.post(action="revisiondelete", type="revision", target="Slipped", ids=str(slip), show="content",
                      reason="it was fine", token=token)
    assert done["revisiondelete"]["status"] == "Success", done
    assert _sync(node)["shown again"] == 1
    assert held()[1] == {}


def test_an_old_file_version_deleted_on_the_wiki_is_hidden_here(mw, tmp_path):
    admin = login(mw, mw.admin)
    first, second = tiny_png((10, 200, 10)), tiny_png((10, 10, 200))
    for number, data in enumerate((first, second)):
        if number:
            time.sleep(1.1)  # MediaWiki names an old version by the second it was archived in
        answer = admin.post(action="upload", filename="Slip dot.png", comment=f"version {number + 1}",
                            ignorewarnings=True, token=admin.token("csrf"),
                            files={"file": ("Slip dot.png", data, "image/png")})
        assert answer["upload"]["result"] == "Success", answer
    node = _node(tmp_path, mw.populated.api)
    _sync(node)
    info = admin.get(action="query", prop="imageinfo", titles="File:Slip dot.png", iiprop="archivename|sha1",
                     iilimit="5")["query"]["pages"][0]["imageinfo"]
    archived = next(v["archivename"] for v in info if v.get("archivename"))
    done = admin.post(action="revisiondelete", type="oldimage", target="File:Slip dot.png",
                      ids=archived.split("!")[0], hide="content", reason="wrong picture", token=admin.token("csrf"))
    assert done["revisiondelete"]["status"] == "Success", done
    _sync(node)
    n = Node.open(node)
    try:
        row = n.store.page(WIKI, 6, "Slip dot.png")
        gone = hidden.hidden_items(n.store, row.id)
        versions = {v.sha256: v.id for v in n.store.file_versions(row.id)}
        assert set(gone) == {versions[hashlib.sha256(first).hexdigest()]}, (gone, versions)
        assert "wrong picture" in next(iter(gone.values())).reason
    finally:
        n.close()
