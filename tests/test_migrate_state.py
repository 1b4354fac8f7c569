"""`wikipeer migrate` copies the node's own state with its objects (issue 18, item 1): peers with a key,
counters and a ban, a MediaWiki peer, hidden pages and revisions, notices still to gossip; to a SQLite file
and to PostgreSQL (a real server from tests/pg_server.py, chunks in a real SeaweedFS), resumable, and
`--switch` to a node that lists the same peers and hides the same page from its web page (a 404 saying
why, as before).
"""

from __future__ import annotations

import json
from dataclasses import astuple
from pathlib import Path

import pytest
from conftest import Author, copy_node, run_cli, start_server, stop_server
from test_blobs import weed  # noqa: F401 - the module's SeaweedFS, as test_blobs starts it

from wikipeer import authoring, hiding
from wikipeer.ingest import ACCEPTED
from wikipeer.migration import Migrated, switch_refused
from wikipeer.model.cid import cid_to_str
from wikipeer.net.sync import ban
from wikipeer.node import Node
from wikipeer.notices import publish_trust
from wikipeer.store import gitmap, gossip_queue, hidden, indexer
from wikipeer.store.mw_peers import MediaWikiPeers
from wikipeer.store.node_state_copy import IdMap, _runs, copy_node_state, pulled
from wikipeer.store.peers import PeerBook
from wikipeer.store.store import Store

FRIEND, BANNED, MEDIAWIKI = "http://127.0.0.1:9/friend", "http://127.0.0.1:9/bad", "http://127.0.0.1:9/w/api.php"
FRIEND_KEY = "ed25519:" + "A" * 43


@pytest.fixture(scope="module")
def stateful(_sample_template, tmp_path_factory) -> Path:
    """The sample node with peers (one with a key, counters and cursors, one banned), a MediaWiki peer, a
    hidden page, a hidden old revision, a community, a block held waiting and git's build state; copied by
    each test before it migrates."""
    directory = tmp_path_factory.mktemp("stateful") / "node"
    copy_node(_sample_template, directory)
    node = Node.open(directory)
    try:
        for text in ("first words", "second words"):
            authoring.edit(node, "wikipeer", "Twice", text, "edit")
        publish_trust(node, "editors")
        peers = PeerBook(node.store)
        peers.add(FRIEND)
        middle = node.store.last_seq() // 2
        peers.set(FRIEND, key=FRIEND_KEY, gave=7, took=3, pull_cursor=1234, push_cursor=middle, last_sync=1_700_000_000)
        peers.add_range(FRIEND, middle + 1, middle + 3)  # came from it: not to be pushed back
        peers.add_range(FRIEND, 50, 60, side="theirs")
        peers.count_taker(FRIEND_KEY, served=11, given=5)
        ban(node, peers, peers.add(BANNED).url, "sent forgeries")
        MediaWikiPeers(node.store).add(MEDIAWIKI, "wikipeer", [0, 10], "2026-01-01T00:00:00Z", rate=2.5)
        hiding.hide(node, hiding.target(node, "wikipeer", "Main Page"), "taken down")
        old = node.store.history(node.store.page("wikipeer", 0, "Twice").id)[-1]
        hiding.hide(node, hiding.target(node, "wikipeer", "Twice", revision=cid_to_str(old.cid)), "a slip")
        _, text, rev, _ = Author(node).edit("Waiting", "its text has not come", wiki="wikipeer")
        with node.store.write() as writer:  # as the door leaves a revision that came before its text
            writer.hold(rev, text.cid, f"peer:{FRIEND}", 1_700_000_000)
        head = node.store.heads(old.page)[0]  # git's build state, as a `git clone` of the node leaves it
        gitmap.record(node.store, "wikipeer", [(head.cid, "c" * 40)], gitmap.GitState(middle, "c" * 40, "view"),
                      {head.page: gitmap.Shown(head.id, False)})
    finally:
        node.close()
    return directory


@pytest.fixture
def moved_node(stateful, tmp_path) -> Path:
    target = tmp_path / "node"
    copy_node(stateful, target)
    return target


def own_store(directory: Path, config: dict | None = None) -> Store:
    """The store a node directory names in its config.json (or named, before a switch): the file in it, or
    (the suite run with --store=postgresql) a database."""
    config = config or json.loads((directory / "config.json").read_text())
    return Store(directory / "store.sqlite", database=config.get("store"))


def state_of(store: Store) -> dict[str, object]:
    """The node state, with object ids as CIDs and titles (ids differ between stores)."""
    cid = {oid: c for oid, c in store.conn.execute("SELECT id, cid FROM objects")}
    peers = [astuple(p)[:4] + astuple(p)[6:] for p in PeerBook(store).list()]  # cursors compared apart
    title = {p: (r.wiki, r.ns, r.title) for p, r in ((p, store.page_by_id(p)) for p in hidden.hidden_pages(store))}
    items = store.conn.execute("SELECT item, page, reason FROM hidden_items").fetchall()
    return {
        "peers": peers,
        "pull": [(p.url, p.pull_cursor) for p in PeerBook(store).list()],
        "theirs": PeerBook(store).ranges(FRIEND, 0, side="theirs", forget=False),
        "taker": PeerBook(store).taker(FRIEND_KEY),
        "mediawiki": [astuple(m) for m in MediaWikiPeers(store).list()],
        "hidden": sorted(title.values()),
        "items": sorted((cid[i], cid[p], reason) for i, p, reason in items),
        "gossip": sorted(cid[oid] for oid, _, _ in gossip_queue.pending(store)),
        "chain": store.meta("chain"),
        "held": store.conn.execute("SELECT cid, data, waiting, source, held_at FROM held").fetchall(),
        "git": [(cid[page], cid[rev], forks) for page, rev, forks in store.conn.execute("SELECT * FROM git_shown")],
        "commits": gitmap.commit_ids(store, [c for _, c in store.log_cids()]),
    }


def cids_upto(store: Store, position: int) -> set[bytes]:
    return {c for seq, c in store.log_cids() if seq <= position}


def assert_same_state(source: Store, target: Store) -> None:
    expected, got = state_of(source), state_of(target)
    assert got == expected
    assert expected["hidden"] == [("wikipeer", 0, "Main Page")] and len(expected["items"]) == 1
    assert len(expected["held"]) == 1
    # The push cursor: what the peer had of our log, and nothing it did not have, in the target's numbering.
    was, now = PeerBook(source).get(FRIEND).push_cursor, PeerBook(target).get(FRIEND).push_cursor
    assert now > 0 and cids_upto(target, now) <= cids_upto(source, was)
    built = gitmap.state(target, "wikipeer").built_to
    assert 0 < built <= now and cids_upto(target, built) <= cids_upto(source, gitmap.state(source, "wikipeer").built_to)
    ours = PeerBook(target).ranges(FRIEND, now, forget=False)
    came = {c for seq, c in source.log_cids() if was < seq <= was + 3}
    assert {c for seq, c in target.log_cids() if any(lo <= seq <= hi for lo, hi in ours)} == came


def test_runs_of_positions() -> None:
    assert list(_runs([])) == []
    assert list(_runs([3, 4, 5, 9, 11, 12])) == [(3, 5), (9, 9), (11, 12)]


@pytest.fixture
def pair(tmp_path) -> tuple[Node, Node, list, list]:
    """Two empty nodes with wiki 'w' (a source and a target), and two edits of the source's user, not ingested."""
    source, target = Node.init(tmp_path / "source"), Node.init(tmp_path / "target")
    for node in (source, target):
        node.wiki("w")
    author = Author(source)
    yield source, target, author.edit("One", "first page"), author.edit("Two", "second page")
    source.close()
    target.close()


def test_positions_of_a_store_that_took_the_objects_in_another_order(pair) -> None:
    """A cursor never passes what the peer had: the target took page Two before page One, so "our log up to
    the end of One" is nothing of the target's log; a range is the runs of the target's positions."""
    source, target, one, two = pair
    for node, order in ((source, (one, two)), (target, (two, one))):
        for blocks in order:
            assert node.ingest(blocks, "local").counts()[ACCEPTED] == len(blocks)
    cut, end = source.store.object_id(one[-1].cid), source.store.last_seq()
    ids = IdMap(source.store, target.store)
    assert ids.cursors([0, cut, end, end + 5]) == {0: 0, cut: 0, end: target.store.last_seq(),
                                                   end + 5: target.store.last_seq()}
    placed = sorted(target.store.object_id(b.cid) for b in two)
    assert ids.runs(cut + 1, end) == [(placed[0], placed[-1])]
    assert ids.objects([cut]) == {cut: target.store.object_id(one[-1].cid)}


def test_a_row_naming_an_object_the_target_lacks_is_left_out_and_counted(pair) -> None:
    source, target, one, two = pair
    source.ingest(one + two, "local")
    target.ingest(two, "local")  # One never reached it
    for title in ("One", "Two"):
        hiding.hide(source, hiding.target(source, "w", title), "gone")
    report = copy_node_state(source.store, target.store)
    assert report.rows["hidden_pages"] == 1 and report.skipped == {"hidden_pages": 1}
    assert [target.store.page_by_id(p).title for p in hidden.hidden_pages(target.store)] == ["Two"]
    # A node switched to that target would show page One once its objects arrived: --switch refuses.
    assert "1 hidden pages or revisions" in switch_refused(Migrated(state=report))
    assert switch_refused(Migrated()) is None


def test_what_a_serving_node_pulls_while_it_is_copied_is_pulled_again_by_the_target(pair) -> None:
    """Cursors into others' logs are copied as they stood when the objects began to be copied: objects a
    node still serving pulls in between never reached the target, which must ask for them again."""
    source, target, one, two = pair
    peers, wikis = PeerBook(source.store), MediaWikiPeers(source.store)
    peers.set(peers.add(FRIEND).url, key=FRIEND_KEY, pull_cursor=10)
    peers.add_range(FRIEND, 1, 10, side="theirs")
    wikis.add(MEDIAWIKI, "w", None, None)
    wikis.set(MEDIAWIKI, rev_cursor={"arvcontinue": "1"})
    before = pulled(source.store)
    source.ingest(one, "local")  # what a pull brought while the objects were copied; they stop before it
    peers.set(FRIEND, pull_cursor=20)
    peers.add_range(FRIEND, 11, 20, side="theirs")
    peers.set(peers.add(BANNED).url, pull_cursor=5)  # a peer added meanwhile: from its start
    wikis.set(MEDIAWIKI, rev_cursor={"arvcontinue": "2"}, log_cursor={"lecontinue": "9"})
    copy_node_state(source.store, target.store, before)
    moved, moved_wikis = PeerBook(target.store), MediaWikiPeers(target.store)
    assert (moved.get(FRIEND).pull_cursor, moved.get(BANNED).pull_cursor) == (10, 0)
    assert list(target.store.conn.execute("SELECT url, first, last FROM peer_ranges WHERE side = 'theirs'")) \
        == [(FRIEND, 1, 10)]
    assert (moved_wikis.get(MEDIAWIKI).rev_cursor, moved_wikis.get(MEDIAWIKI).log_cursor) == ({"arvcontinue": "1"}, None)


def test_migrate_to_sqlite_copies_the_node_state_and_a_second_run_adds_no_row_twice(moved_node, tmp_path) -> None:
    target = tmp_path / "moved.sqlite"
    first = run_cli(moved_node, "migrate", "--to", str(target))
    assert first.code == 0 and "no faults" in first.out and "2 peers, 1 MediaWiki peers, 1 hidden pages" in first.out, \
        str(first)
    source, moved = own_store(moved_node), Store(target)
    try:
        assert_same_state(source, moved)
        assert state_of(moved)["gossip"], "the ban waits to be gossiped (a served node would have passed it on)"
        # Not copied but rebuilt: every page waits for the target's indexer (`serve`, or `wikipeer index`).
        assert indexer.lag(moved) == sum(len(moved.pages(wiki)) for wiki in moved.wikis()) > 0
        counts = {t: moved.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("peers", "peer_ranges", "mw_peers", "hidden_pages", "hidden_items", "gossip", "takers",
                            "held")}
    finally:
        moved.close()
        source.close()
    again = run_cli(moved_node, "migrate", "--to", str(target))
    assert again.code == 0 and " 0 objects copied" in again.out, str(again)
    moved = Store(target)
    try:
        assert {t: moved.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in counts} == counts
    finally:
        moved.close()


@pytest.fixture
def s3_env(monkeypatch, weed) -> None:
    """The bucket's credentials in this process and the processes it starts (served nodes too)."""
    for name, value in weed.env.items():
        monkeypatch.setenv(name, value)


def test_migrate_to_postgresql_and_switch_keeps_peers_and_hides_the_same_page(moved_node, weed, s3_env) -> None:
    import pg_server

    server = pg_server.start_server()
    try:
        was = json.loads((moved_node / "config.json").read_text())
        listed = run_cli(moved_node, "peer", "list")
        url, blobs = server.url("moved"), f"s3://wikipeer/state?endpoint={weed.endpoint}"
        result = run_cli(moved_node, "migrate", "--to", url, "--blobs", blobs, "--switch", env=weed.env)
        assert result.code == 0 and "now uses" in result.out and "1 hidden pages" in result.out, str(result)
        assert json.loads((moved_node / "config.json").read_text())["store"] == url

        old, new = own_store(moved_node, was), Node.open(moved_node)
        try:
            assert new.store.database == url
            assert_same_state(old, new.store)
        finally:
            new.close()
            old.close()
        after = run_cli(moved_node, "peer", "list", env=weed.env)
        assert after.code == 0 and after.out == listed.out and "banned: sent forgeries" in after.out, str(after)
        proc, client = start_server(moved_node)
        try:
            gone = client.get("/wiki/wikipeer/Main_Page")  # as before the move (web/pages.py: check_shown)
            assert gone.status_code == 404 and "taken down" in gone.text
            assert client.get("/wiki/wikipeer/Twice").status_code == 200
        finally:
            stop_server(proc, client)
        assert run_cli(moved_node, "fsck", env=weed.env).code == 0
    finally:
        server.stop()
