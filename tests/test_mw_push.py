"""Sending a node's edits back to a real MediaWiki (issue 12, item 2).

One MediaWiki 1.39 (tests/mediawiki_instance.py) serves the whole module:
Alice edits it as a person would; Pusher is the account nodes push with,
through a bot password (``Pusher@node``) or its main password (clientlogin).
Each test uses pages of its own; nodes follow the wiki with the real pull.

Covered: an edit goes up with its base, minor flag and a summary naming its
CID and the node, and the pull takes MediaWiki's copy for ours; both logins,
and a wrong password as one message; an edit conflict becomes a fork and the
merge goes up; two heads of ours never overwrite each other; null revisions
(protection) are joined, not forked; a refusal is recorded with MediaWiki's
code and text and sent again only when asked (in-process and through
``wikipeer sync``); read-only and rate-limited wikis; the password in no
process list, output, log or store file, and sealed to its node and account.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CLI, cli_env, dump_tables, holds_store, run_cli, store_db
from mediawiki_instance import MediaWikiInstance
from mw_populate import create_account, edit, latest, login
from wikipeer import authoring
from wikipeer.errors import UserError
from wikipeer.mediawiki.credentials import Secret, account_for, seal, unseal
from wikipeer.mediawiki.follow import pull
from wikipeer.mediawiki.login import LoginFailed
from wikipeer.mediawiki.peer_sync import sync_all
from wikipeer.mediawiki.push import PushResult, Target, push, push_to
from wikipeer.mediawiki.remote import MediaWikiError, RemoteWiki
from wikipeer.node import Node, find_page
from wikipeer.policy.merge import merge3, merge_base
from wikipeer.store.keyring import Keyring
from wikipeer.store.mw_peers import MediaWikiPeers
from wikipeer.store.mw_push import PushBook

WIKI = "testwiki"
PUSHER, PUSHER_PASSWORD = "Pusher", "PusherMainPassword123!"
BOT_USER, BOT_PASSWORD = "Pusher@node", "b0tpassw0rdb0tpassw0rdb0tpassw0r"  # bot passwords are 32 characters


@pytest.fixture(scope="module")
def mw(tmp_path_factory: pytest.TempPathFactory) -> MediaWikiInstance:
    root = tmp_path_factory.mktemp("mw")
    # Files some tests create put the wiki in read-only mode, or limit edits to one an hour, while they exist.
    flags = (f"if ( file_exists( '{root / 'readonly.flag'}' ) ) {{ $wgReadOnly = 'Upgrading the database'; }}\n"
             f"if ( file_exists( '{root / 'ratelimit.flag'}' ) ) {{ $wgRateLimits['edit']['user'] = [ 1, 3600 ]; }}")
    instance = MediaWikiInstance(root, sitename="Testwiki", dbname=WIKI, extra_settings=flags)
    instance.install()
    create_account(instance, "Alice", "AlicePassword123!")
    create_account(instance, PUSHER, PUSHER_PASSWORD)
    instance.maintenance("createBotPassword", "--appid", "node", "--grants", "basic,editpage,createeditmovepage",
                         PUSHER, BOT_PASSWORD)
    instance.serve()
    yield instance
    instance.stop()


def api(mw: MediaWikiInstance) -> str:
    return mw.base_url + "/api.php"


def following_node(directory: Path, mw: MediaWikiInstance, user: str = BOT_USER,
                   password: str = BOT_PASSWORD) -> Node:
    """A node following the wiki (a first pull done) whose peer record holds the account's password, sealed."""
    node = Node.init(directory)
    MediaWikiPeers(node.store).add(api(mw), WIKI, user=user, rate=0)
    MediaWikiPeers(node.store).set(api(mw), secret=seal(node, api(mw), user, Secret(password)))
    pull(node, api(mw))
    return node


def run_push(node: Node, mw: MediaWikiInstance, **options: object) -> PushResult:
    return push_to(node, api(mw), **options)


def test_a_node_edit_goes_up_with_a_summary_naming_its_cid(mw: MediaWikiInstance, tmp_path: Path) -> None:
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Upward", "First line.\n", "Alice starts the page")
    node = following_node(tmp_path / "node", mw)
    ours = authoring.edit(node, WIKI, "Upward", "First line.\nA line from the node.", "node adds a line",
                          minor=True)
    result = run_push(node, mw)
    assert (result.sent, result.refused, result.conflicts) == (1, [], [])
    there = alice.get(action="query", prop="revisions", titles="Upward", rvslots="main",
                      rvprop="ids|user|comment|content|flags")["query"]["pages"][0]["revisions"][0]
    cid = node.store.revision(ours.rev).cid_str
    assert there["slots"]["main"]["content"] == "First line.\nA line from the node."
    assert there["user"] == PUSHER
    assert "node adds a line" in there["comment"] and cid in there["comment"]
    assert node.keyring.get("node").public in there["comment"]
    assert there["minor"] is True
    assert PushBook(node.store).ours(api(mw), there["revid"]) == node.store.revision(ours.rev).id
    # A second push sends nothing, and asks nothing (not even a login): the cursor passed it.
    assert (run_push(node, mw).sent, run_push(node, mw).requests) == (0, 0)
    # The pull takes MediaWiki's copy for ours (no second revision), and an edit made there on top of
    # it comes in as a child of ours.
    answer = edit(alice, "Upward", "First line.\nA line from the node.\nAlice agrees.", "Alice follows up")
    pull(node, api(mw))
    history = node.store.history(find_page(node, WIKI, "Upward").id)
    assert len(history) == 3
    alices = next(h for h in history if h.origin.get("rev_id") == answer["newrevid"])
    assert alices.parents == (ours.rev,)
    assert [h.cid for h in node.store.heads(find_page(node, WIKI, "Upward").id)] == [alices.cid]
    # A page made on the node goes up as a new page, and the next edit on it is based on what went up.
    authoring.edit(node, WIKI, "Made here", "Born on a node.", "new page from the node")
    grown = authoring.edit(node, WIKI, "Made here", "Born on a node, then grown.", "grown " * 150)
    assert run_push(node, mw).sent == 2
    assert latest(alice, "Made here")["slots"]["main"]["content"] == "Born on a node, then grown."
    history = alice.get(action="query", prop="revisions", titles="Made here", rvlimit=10,
                        rvprop="ids|comment")["query"]["pages"][0]["revisions"]
    assert len(history) == 2 and history[0]["parentid"] == history[1]["revid"]
    # A long comment is cut, the CID and the node never.
    assert history[0]["comment"].startswith("grown grown") and len(history[0]["comment"]) <= 500
    assert history[0]["comment"].endswith(f"[wikipeer {node.store.revision(grown.rev).cid_str} from node "
                                          f"{node.keyring.get('node').public}]")
    pull(node, api(mw))
    assert len(node.store.history(find_page(node, WIKI, "Made here").id)) == 2
    alice.close()
    node.close()


def test_an_edit_conflict_becomes_a_fork_and_the_merge_goes_up(mw: MediaWikiInstance, tmp_path: Path) -> None:
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Contested", "one\ntwo\nthree", "Alice starts the page")
    node = following_node(tmp_path / "node", mw)
    ours = authoring.edit(node, WIKI, "Contested", "ONE\ntwo\nthree", "node shouts the first line")
    theirs = edit(alice, "Contested", "one\ntwo\nTHREE", "Alice shouts the last line")
    result = run_push(node, mw)
    cid = node.store.revision(ours.rev).cid_str
    assert (result.sent, result.refused, result.conflicts) == (0, [], [("Contested", cid)])
    assert latest(alice, "Contested")["slots"]["main"]["content"] == "one\ntwo\nTHREE"  # MediaWiki lost nothing
    page = find_page(node, WIKI, "Contested")
    heads = node.store.heads(page.id)
    assert sorted(node.store.revision_text(h) for h in heads) == ["ONE\ntwo\nthree", "one\ntwo\nTHREE"]
    mediawiki_head = next(h for h in heads if h.cid != ours.rev)
    assert mediawiki_head.origin["rev_id"] == theirs["newrevid"] and mediawiki_head.origin["user"] == "Alice"
    pull(node, api(mw))  # what the conflict took in, the pull finds here already
    assert len(node.store.heads(page.id)) == 2 and len(node.store.history(page.id)) == 3
    # The conflicting revision is not sent again by itself ...
    assert (run_push(node, mw).sent, run_push(node, mw).conflicts) == (0, [])
    # ... the merge (as the merge form makes it) goes up, based on MediaWiki's head.
    base = merge_base(node.store, ours.rev, mediawiki_head.cid)
    merged = merge3(node.store.revision_text(base), "ONE\ntwo\nthree", "one\ntwo\nTHREE")
    assert merged.clean
    authoring.edit(node, WIKI, "Contested", merged.text, "merge", parents=(ours.rev, mediawiki_head.cid))
    result = run_push(node, mw)
    assert (result.sent, result.conflicts) == (1, [])
    now = latest(alice, "Contested")
    assert now["slots"]["main"]["content"] == "ONE\ntwo\nTHREE"
    parent = alice.get(action="query", prop="revisions", revids=now["revid"], rvprop="ids")["query"]["pages"][0]
    assert parent["revisions"][0]["parentid"] == theirs["newrevid"]
    alice.close()
    node.close()


def test_two_heads_of_ours_do_not_overwrite_each_other(mw: MediaWikiInstance, tmp_path: Path) -> None:
    """MediaWiki never sees a conflict between a user and themselves: the second head must not replace the first."""
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Twice", "a\nb\nc", "Alice starts the page")
    node = following_node(tmp_path / "node", mw)
    base = node.view().choose(node.store.heads(find_page(node, WIKI, "Twice").id))
    first = authoring.edit(node, WIKI, "Twice", "A\nb\nc", "first head", parents=(base.cid,))
    second = authoring.edit(node, WIKI, "Twice", "a\nb\nC", "second head", parents=(base.cid,))
    result = run_push(node, mw)
    assert result.sent == 1 and result.conflicts == [("Twice", node.store.revision(second.rev).cid_str)]
    assert latest(alice, "Twice")["slots"]["main"]["content"] == "A\nb\nc"
    alice.close()
    node.close()


def test_a_refusal_is_reported_with_mediawikis_reason_and_retried_only_when_asked(
        mw: MediaWikiInstance, tmp_path: Path) -> None:
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Guarded", "Keep out.", "Alice starts the page")
    # Protecting adds a null revision on MediaWiki: the node takes it in before editing, else its
    # edit would meet a conflict first (MediaWiki moved on since the node's base).
    mw.maintenance("protect", "--user", mw.admin, "--reason", "vandalism magnet", "Guarded")
    node = following_node(tmp_path / "node", mw)
    refused = authoring.edit(node, WIKI, "Guarded", "Come in.", "node opens the door")
    authoring.edit(node, WIKI, "Unguarded", "Anyone may edit.", "a page beside it")
    result = run_push(node, mw)
    cid = node.store.revision(refused.rev).cid_str
    assert result.sent == 1, result  # the others still go up
    assert [(t, c, code) for t, c, code, _ in result.refused] == [("Guarded", cid, "protectedpage")], result
    assert "protected" in result.refused[0][3]
    assert latest(alice, "Unguarded")["slots"]["main"]["content"] == "Anyone may edit."
    book = PushBook(node.store)
    assert [(r.rev, r.code) for r in book.refusals(api(mw))] == [(node.store.revision(refused.rev).id,
                                                                      "protectedpage")]
    # Not tried again by a plain push, even once the page is open again ...
    mw.maintenance("protect", "--user", mw.admin, "--unprotect", "Guarded")
    again = run_push(node, mw)
    assert (again.sent, again.refused, again.retried) == (0, [], 0)
    assert latest(alice, "Guarded")["slots"]["main"]["content"] == "Keep out."
    # ... only when asked.
    retried = run_push(node, mw, retry_refused=True)
    assert (retried.sent, retried.refused, retried.retried) == (1, [], 1)
    assert latest(alice, "Guarded")["slots"]["main"]["content"] == "Come in."
    assert book.refusals(api(mw)) == []
    # Unprotecting added a null revision; ours went on top of it, and the node joined the two (no fork).
    heads = node.store.heads(find_page(node, WIKI, "Guarded").id)
    assert len(heads) == 1 and node.store.revision_text(heads[0]) == "Come in."
    assert set(heads[0].parents) >= {refused.rev}
    assert run_push(node, mw).sent == 0  # the join is what MediaWiki holds: nothing more to send
    alice.close()
    node.close()


@pytest.mark.parametrize("user, password", [(BOT_USER, BOT_PASSWORD), (PUSHER, PUSHER_PASSWORD)],
                         ids=["bot-password", "clientlogin"])
def test_both_logins_push_and_a_wrong_password_is_one_clear_message(
        mw: MediaWikiInstance, tmp_path: Path, user: str, password: str) -> None:
    title = f"Login by {user.replace('@', ' at ')}"
    node = following_node(tmp_path / "node", mw, user, password)
    authoring.edit(node, WIKI, title, "Logged in.", "login test")
    assert run_push(node, mw).sent == 1
    assert latest(login(mw, "Alice", "AlicePassword123!"), title)["slots"]["main"]["content"] == "Logged in."
    wrong = "Wr0ng" * 6 + "xx"
    bad = following_node(tmp_path / "bad", mw, user, wrong)
    unsent = authoring.edit(bad, WIKI, title + " again", "Never arrives.", "login test")
    with pytest.raises(LoginFailed) as failure:
        run_push(bad, mw)
    message = str(failure.value)
    assert user in message and api(mw) in message and wrong not in message
    assert "\n" not in message
    assert ("password" in message.lower()) or ("incorrect" in message.lower())
    # The cursor passed what came from MediaWiki, not the edit that could not go up.
    assert MediaWikiPeers(bad.store).get(api(mw)).push_cursor < bad.store.revision(unsent.rev).id
    node.close()
    bad.close()


def _snapshot_processes() -> str:
    """Every process's full command line, as any user of the machine can read them."""
    return subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, timeout=10).stdout


def test_the_password_never_shows_in_ps_logs_the_store_or_errors(mw: MediaWikiInstance, tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    assert run_cli(node_dir, "init").code == 0
    # The password comes on stdin (not a terminal here): never an argument.
    added = run_cli(node_dir, "peer", "add", "--mediawiki", api(mw), "--wiki", WIKI, "--user", BOT_USER,
                    "--rate", "50", input=BOT_PASSWORD + "\n")
    assert added.code == 0, added
    assert run_cli(node_dir, "edit", WIKI, "Quietly", "--summary", "no secrets here", input="Hush.").code == 0
    sync = subprocess.Popen([*CLI, "--node", str(node_dir), "sync"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env())
    seen = [_snapshot_processes()]
    while sync.poll() is None:
        seen.append(_snapshot_processes())
    out, err = (stream.read().decode("utf-8") for stream in (sync.stdout, sync.stderr))
    sync.stdout.close()
    sync.stderr.close()
    assert sync.returncode == 0, out + err
    assert "sent 1 edits" in out
    assert latest(login(mw, "Alice", "AlicePassword123!"), "Quietly")["slots"]["main"]["content"] == "Hush."
    assert any("sync" in snapshot for snapshot in seen)
    assert not any(BOT_PASSWORD in snapshot for snapshot in seen)
    # A wrong password (from the environment this time) is one clear line, without the password.
    wrong = "Wr0ngPassw0rdWr0ngPassw0rdWr0ng!"
    assert run_cli(node_dir, "peer", "add", "--mediawiki", api(mw), "--wiki", WIKI, "--user", BOT_USER,
                   env={"WIKIPEER_MW_PASSWORD": wrong}).code == 0
    assert run_cli(node_dir, "edit", WIKI, "Quietly", "--summary", "again", input="Hush, hush.").code == 0
    failed = run_cli(node_dir, "sync")
    assert failed.code == 1
    assert f"cannot log in as {BOT_USER}" in failed.out and "Traceback" not in failed.out + failed.err
    listed = run_cli(node_dir, "peer", "list")
    assert "cannot log in" in listed.out
    texts = [added.out, added.err, out, err, failed.out, failed.err, listed.out, listed.err,
             mw.root.joinpath("php-server.log").read_text(errors="replace")]
    files = [p for p in node_dir.rglob("*") if p.is_file()]
    assert holds_store(node_dir)
    with store_db(node_dir) as conn:  # the store's rows, wherever they live (store.sqlite or PostgreSQL)
        tables = dump_tables(conn)
    assert tables["mw_peers"]  # the sealed password is there
    for password in (BOT_PASSWORD, wrong):
        assert not any(password in text for text in texts)
        for path in files:
            assert password.encode() not in path.read_bytes(), path
        for name, rows in tables.items():
            for value in (v for row in rows for v in row):
                held = bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else str(value).encode()
                assert password.encode() not in held, name
    # Kept sealed, and a repr does not open it.
    node = Node.open(node_dir)
    peer = MediaWikiPeers(node.store).get(api(mw))
    assert peer.secret.startswith(b"box1:")
    account = account_for(node, api(mw))
    assert account.password.reveal() == wrong
    assert wrong not in repr(account) and wrong not in str(account.password)
    node.close()


def test_a_password_is_asked_for_when_none_is_given(mw: MediaWikiInstance, tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    assert run_cli(node_dir, "init").code == 0
    empty = run_cli(node_dir, "peer", "add", "--mediawiki", api(mw), "--wiki", WIKI, "--user", BOT_USER, input="")
    assert empty.code == 2 and "WIKIPEER_MW_PASSWORD" in empty.err and "Traceback" not in empty.err
    assert api(mw) not in run_cli(node_dir, "peer", "list").out  # nothing half-added
    asked = run_cli(node_dir, "peer", "add", "--mediawiki", api(mw), "--wiki", WIKI, "--user", BOT_USER,
                    input=BOT_PASSWORD + "\n")
    assert asked.code == 0 and f"sends this node's edits back as {BOT_USER}" in asked.out
    assert BOT_PASSWORD not in asked.out + asked.err


def test_sync_reports_a_refusal_exits_1_and_retries_only_with_retry_refused(
        mw: MediaWikiInstance, tmp_path: Path) -> None:
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Fenced", "A fence.", "Alice starts the page")
    node_dir = tmp_path / "node"
    assert run_cli(node_dir, "init").code == 0
    assert run_cli(node_dir, "peer", "add", "--mediawiki", api(mw), "--wiki", WIKI, "--user", BOT_USER, "--rate", "50",
                   env={"WIKIPEER_MW_PASSWORD": BOT_PASSWORD}).code == 0
    assert run_cli(node_dir, "sync").code == 0
    mw.maintenance("protect", "--user", mw.admin, "--reason", "fenced in", "Fenced")  # after the node's pull
    assert run_cli(node_dir, "edit", WIKI, "Fenced", "--summary", "open the fence", input="No fence.").code == 0
    assert run_cli(node_dir, "edit", WIKI, "Open field", "--summary", "new", input="Grass.").code == 0
    first = run_cli(node_dir, "sync")
    assert first.code == 1, first
    assert "sent 1 edits" in first.out and "1 refused" in first.out
    assert re.search(r"refused: Fenced \(bafy\w+\): protectedpage: .*protected", first.out), first.out
    assert "Traceback" not in first.out + first.err
    assert latest(alice, "Open field")["slots"]["main"]["content"] == "Grass."
    second = run_cli(node_dir, "sync")
    assert second.code == 0, second
    assert "sent 0 edits" in second.out and "1 refused edits wait" in second.out and "--retry-refused" in second.out
    assert "1 edits refused" in run_cli(node_dir, "peer", "list").out
    mw.maintenance("protect", "--user", mw.admin, "--unprotect", "Fenced")
    assert latest(alice, "Fenced")["slots"]["main"]["content"] == "A fence."
    third = run_cli(node_dir, "sync", "--retry-refused")
    assert third.code == 0, third
    assert "sent 1 edits" in third.out and "refused edits wait" not in third.out
    assert latest(alice, "Fenced")["slots"]["main"]["content"] == "No fence."
    shown = run_cli(node_dir, "show", WIKI, "Fenced")
    assert shown.out.strip() == "No fence."
    alice.close()


def test_a_read_only_wiki_sends_nothing_and_passes_nothing_over(mw: MediaWikiInstance, tmp_path: Path) -> None:
    node = following_node(tmp_path / "node", mw)
    made = authoring.edit(node, WIKI, "Readonly", "Written while it slept.", "first")
    flag = mw.root / "readonly.flag"
    flag.touch()
    try:
        with pytest.raises(MediaWikiError) as failure:
            run_push(node, mw)
    finally:
        flag.unlink()
    assert "read-only" in str(failure.value)
    assert MediaWikiPeers(node.store).get(api(mw)).push_cursor < node.store.revision(made.rev).id
    assert "read-only" in MediaWikiPeers(node.store).get(api(mw)).last_error
    assert run_push(node, mw).sent == 1  # the next sync sends it
    node.close()


def test_a_rate_limit_stops_the_push_after_recording_one_refusal(mw: MediaWikiInstance, tmp_path: Path) -> None:
    node = following_node(tmp_path / "node", mw)
    for number in ("one", "two", "three"):
        authoring.edit(node, WIKI, f"Limited {number}", number.title(), number)
    second = node.store.revision(node.view().choose(node.store.heads(find_page(node, WIKI, "Limited two").id)).cid)
    flag = mw.root / "ratelimit.flag"
    flag.touch()
    try:
        limited = run_push(node, mw)
    finally:
        flag.unlink()
    assert limited.sent == 1 and [r[2] for r in limited.refused] == ["ratelimited"] and limited.stopped
    assert [r.rev for r in PushBook(node.store).refusals(api(mw))] == [second.id]
    # The third was not tried: it goes at the next push; the second waits to be asked for.
    later = run_push(node, mw)
    assert (later.sent, later.refused) == (1, [])
    assert latest(login(mw, "Alice", "AlicePassword123!"), "Limited three")["slots"]["main"]["content"] == "Three"
    assert run_push(node, mw, retry_refused=True).sent == 1
    node.close()


def test_a_sealed_password_opens_only_for_its_node_wiki_and_account(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://127.0.0.1:9/api.php"
    node, other = Node.init(tmp_path / "a"), Node.init(tmp_path / "b")
    sealed = seal(node, url, BOT_USER, Secret(BOT_PASSWORD))
    assert BOT_PASSWORD.encode() not in sealed
    assert unseal(node, url, BOT_USER, sealed).reveal() == BOT_PASSWORD
    for who, where, user in ((other, url, BOT_USER), (node, url.replace("9", "10"), BOT_USER),
                             (node, url, "Someone@else")):
        with pytest.raises(MediaWikiError) as failure:
            unseal(who, where, user, sealed)
        assert "cannot be opened with this node's key" in str(failure.value)
        assert BOT_PASSWORD not in str(failure.value)
    # A node key sealed with a passphrase seals the passwords too: without it, a sync says what it needs.
    monkeypatch.delenv("WIKIPEER_PASSPHRASE", raising=False)
    guarded = Node.init(tmp_path / "c", passphrase="correct horse")
    guarded.keyring = Keyring(tmp_path / "c" / "keys")  # forget the key unlocked at creation
    with pytest.raises(UserError, match="WIKIPEER_PASSPHRASE"):
        seal(guarded, url, BOT_USER, Secret(BOT_PASSWORD))
    guarded.passphrase = "correct horse"
    assert unseal(guarded, url, BOT_USER, seal(guarded, url, BOT_USER, Secret(BOT_PASSWORD))).reveal() == BOT_PASSWORD
    for each in (node, other, guarded):
        each.close()


def test_a_page_made_on_both_sides_keeps_ours_in_its_history(mw: MediaWikiInstance, tmp_path: Path) -> None:
    node = following_node(tmp_path / "node", mw)
    ours = authoring.edit(node, WIKI, "Both sides", "Ours.", "made on the node")
    alice = login(mw, "Alice", "AlicePassword123!")
    theirs = edit(alice, "Both sides", "Theirs.", "made on the wiki")
    result = run_push(node, mw)
    assert (result.sent, result.conflicts) == (0, [("Both sides", node.store.revision(ours.rev).cid_str)])
    assert latest(alice, "Both sides")["slots"]["main"]["content"] == "Theirs."
    page = find_page(node, WIKI, "Both sides")
    [head] = node.store.heads(page.id)
    assert head.origin["rev_id"] == theirs["newrevid"] and head.parents == (ours.rev,)
    alice.close()
    node.close()


class RacingWiki(RemoteWiki):
    """The real client, with Alice saving an edit right after the node looked at the page: the race a
    busy wiki runs between the node's look and its edit, made to happen every time."""

    def __init__(self, url: str, alice: RemoteWiki, title: str, text: str) -> None:
        super().__init__(url, rate=0)
        self.alice, self.title, self.text = alice, title, text

    def get(self, **params: object) -> dict:
        answer = super().get(**params)
        if params.get("titles") == self.title and params.get("rvprop") == "ids|timestamp" and self.text:
            # MediaWiki tells a conflict by timestamps, to the second: Alice's edit must fall in a later
            # second than the base, as it would on a wiki where the base is not seconds old.
            time.sleep(1.1)
            edit(self.alice, self.title, self.text, "Alice, meanwhile")
            self.text = ""
        return answer


def _target(node: Node, mw: MediaWikiInstance) -> Target:
    peer = MediaWikiPeers(node.store).get(api(mw))
    return Target(peer.url, peer.wiki, peer.rev_cursor["site"])


@pytest.mark.parametrize("alices_line, merged_there", [(0, False), (2, True)], ids=["same-line", "other-line"])
def test_an_edit_racing_ours_loses_nothing(mw: MediaWikiInstance, tmp_path: Path, alices_line: int,
                                           merged_there: bool) -> None:
    title = f"Raced {alices_line}"
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, title, "one\ntwo\nthree", "Alice starts the page")
    node = following_node(tmp_path / "node", mw)
    ours = authoring.edit(node, WIKI, title, "ONE\ntwo\nthree", "node shouts the first line")
    lines = ["one", "two", "three"]
    lines[alices_line] = lines[alices_line].upper() + "!"
    with RacingWiki(api(mw), alice, title, "\n".join(lines)) as remote:
        result = push(node, remote, _target(node, mw))
    there = latest(alice, title)["slots"]["main"]["content"]
    page = find_page(node, WIKI, title)
    if merged_there:  # MediaWiki merged the two itself: its revision is its own, and comes in as such
        assert (result.sent, result.conflicts) == (1, []) and there == "ONE\ntwo\nTHREE!"
        assert PushBook(node.store).pushed(api(mw), node.store.revision(ours.rev).id) is None
        pull(node, api(mw))
        texts = {node.store.revision_text(h) for h in node.store.heads(page.id)}
        assert texts == {"ONE\ntwo\nthree", "ONE\ntwo\nTHREE!"}
    else:  # MediaWiki refused ours as an edit conflict: its side is here, beside ours
        assert (result.sent, result.conflicts) == (0, [(title, node.store.revision(ours.rev).cid_str)])
        assert there == "ONE!\ntwo\nthree"
        texts = {node.store.revision_text(h) for h in node.store.heads(page.id)}
        assert texts == {"ONE\ntwo\nthree", "ONE!\ntwo\nthree"}
    alice.close()
    node.close()


def test_the_sync_loop_of_serve_logs_a_refusal(mw: MediaWikiInstance, tmp_path: Path) -> None:
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Logged fence", "Fenced.", "Alice starts the page")
    mw.maintenance("protect", "--user", mw.admin, "--reason", "fenced in", "Logged fence")
    node = following_node(tmp_path / "node", mw)
    authoring.edit(node, WIKI, "Logged fence", "Unfenced.", "node opens it")
    messages: list[str] = []
    sync_all(node, messages.append)
    assert len(messages) == 1 and "Logged fence" in messages[0] and "protectedpage" in messages[0], messages
    assert "--retry-refused" in messages[0]
    alice.close()
    node.close()


def test_a_page_moved_after_our_edit_went_up_keeps_our_edit_in_its_history(mw: MediaWikiInstance,
                                                                             tmp_path: Path) -> None:
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Before move", "Text.", "Alice starts the page")
    node = following_node(tmp_path / "node", mw)
    ours = authoring.edit(node, WIKI, "Before move", "Text, from the node.", "node edit")
    assert run_push(node, mw).sent == 1
    alice.post(action="move", **{"from": "Before move", "to": "After move"}, reason="rename",
               token=alice.token("csrf"))
    result = pull(node, api(mw))
    assert result.warnings == [] and result.refused == 0
    moved = find_page(node, WIKI, "After move")
    texts = [node.store.revision_text(r) for r in node.store.history(moved.id)]
    assert "Text, from the node." in texts and "Text." in texts
    [head] = node.store.heads(moved.id)
    assert node.store.revision_text(head) == "Text, from the node."
    alice.close()
    node.close()


def test_an_edit_to_a_page_moved_meanwhile_meets_a_conflict_not_a_stuck_push(mw: MediaWikiInstance,
                                                                               tmp_path: Path) -> None:
    alice = login(mw, "Alice", "AlicePassword123!")
    edit(alice, "Moving", "Text.", "Alice starts the page")
    node = following_node(tmp_path / "node", mw)
    ours = authoring.edit(node, WIKI, "Moving", "Text, from the node.", "node edit")
    alice.post(action="move", **{"from": "Moving", "to": "Moved"}, reason="rename", token=alice.token("csrf"))
    result = run_push(node, mw)  # no pull in between: the node does not know the move yet
    assert (result.sent, result.conflicts) == (0, [("Moving", node.store.revision(ours.rev).cid_str)])
    assert latest(alice, "Moved")["slots"]["main"]["content"] == "Text."
    assert run_push(node, mw).conflicts == []  # dealt with: the cursor went past it
    alice.close()
    node.close()
