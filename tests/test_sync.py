"""Nodes syncing with each other for real: `wikipeer serve` processes on
127.0.0.1 (random ports, a directory each), synced through the CLI or the
in-process API (wikipeer.net.sync), which talk to those processes over HTTP.

"Identical stores" means the same set of object CIDs and the same heads for
every page. Log positions (objects.id) differ between nodes, since each
numbers objects in the order they arrived; that is expected and not compared.
"""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import CLI, Author, cli_env, run_cli, spawn_server, stop_server, store_db, wait_serving
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from wikipeer.authoring import edit
from wikipeer.fsck import fsck
from wikipeer.ingest import ACCEPTED, ingest
from wikipeer.net.sync import sync
from wikipeer.node import Node
from wikipeer.store.peers import PeerBook

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

WIKI = "w"


# -- served nodes ------------------------------------------------------------------

@dataclass
class Served:
    """A node directory, its `wikipeer serve` process, and an in-process handle on the same store."""

    dir: Path
    proc: subprocess.Popen | None = None
    client: httpx.Client | None = None
    url: str = ""
    node: Node | None = None

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc, self.client)
            self.proc = None


def serve(nodes: list[Served], *extra: str) -> None:
    """Start `wikipeer serve` for every node at once, and wait until each answers."""
    for s in nodes:
        s.proc, s.client = spawn_server(s.dir, *extra)
        s.url = str(s.client.base_url).rstrip("/")
    deadline = time.monotonic() + 60
    for s in nodes:
        wait_serving(s.proc, s.client, deadline, "/api/v1/node")


def stop_all(nodes: list[Served]) -> None:
    for s in nodes:
        s.stop()
        if s.node is not None:
            s.node.close()


def make_nodes(root: Path, count: int, names: str = "abcdefgh") -> list[Served]:
    nodes = []
    for name in names[:count]:
        node = Node.init(root / name)
        node.user_key()
        node.wiki(WIKI)
        nodes.append(Served(root / name, node=node))
    return nodes


def befriend(nodes: list[Served]) -> None:
    """Every node knows every other as a peer."""
    for s in nodes:
        book = PeerBook(s.node.store)
        for other in nodes:
            if other is not s:
                book.add(other.url)


# -- what a store holds ---------------------------------------------------------------

def object_cids(directory: Path) -> set[bytes]:
    with store_db(directory) as conn:
        return {r[0] for r in conn.execute("SELECT cid FROM objects")}


def heads(directory: Path) -> dict[tuple, frozenset[bytes]]:
    """Each page's heads by (wiki, ns, title): positions play no part."""
    with store_db(directory) as conn:
        rows = conn.execute("SELECT p.wiki, p.ns, p.title, o.cid FROM heads h JOIN pages p ON p.id = h.page "
                            "JOIN objects o ON o.id = h.rev").fetchall()
    out: dict[tuple, set[bytes]] = {}
    for wiki, ns, title, cid in rows:
        out.setdefault((wiki, ns, title), set()).add(cid)
    return {k: frozenset(v) for k, v in out.items()}


def held(directory: Path) -> int:
    with store_db(directory) as conn:
        return conn.execute("SELECT count(*) FROM held").fetchone()[0]


def assert_identical(nodes: list[Served], context: str = "") -> None:
    first = nodes[0]
    for other in nodes[1:]:
        a, b = object_cids(first.dir), object_cids(other.dir)
        assert a == b, f"{context}: {first.dir.name} and {other.dir.name} differ by {len(a ^ b)} objects"
        assert heads(first.dir) == heads(other.dir), context
    for s in nodes:
        assert held(s.dir) == 0, f"{context}: {s.dir.name} still holds objects waiting for others"
        checked, faults = fsck(s.node.store)
        assert not faults and checked == len(object_cids(s.dir)), faults


def converge(nodes: list[Served], order: list[tuple[int, int]]) -> None:
    """One pass of two-way syncs over every pair, in ``order``: enough for correct syncs to converge."""
    for a, b in order:
        sync(nodes[a].node, nodes[b].url)


# -- three nodes, random orders ------------------------------------------------------

@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    nodes = make_nodes(tmp_path_factory.mktemp("trio"), 3)
    try:
        serve(nodes)
        befriend(nodes)
        yield nodes
    finally:
        stop_all(nodes)


PAGES = ["Shared", "Shared too", "Only sometimes"]
counter = itertools.count()


def random_edit(node: Node, page: str, who: int) -> None:
    n = next(counter)
    edit(node, WIKI, page, f"{page}, written on node {who} (edit {n}).\n" + "line\n" * (n % 7), f"edit {n}")


steps = st.lists(st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 2), st.sampled_from(PAGES)),
    st.tuples(st.just("sync"), st.integers(0, 2), st.integers(0, 2), st.sampled_from(["both", "pull", "push"])),
), min_size=3, max_size=10)
pair_orders = st.permutations([(0, 1), (1, 2), (0, 2)]).flatmap(
    lambda pairs: st.tuples(*[st.sampled_from([p, p[::-1]]) for p in pairs]))


@settings(max_examples=5, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(program=steps, order=pair_orders)
def test_three_nodes_editing_the_same_pages_converge(trio, program, order):
    """Edits on the same pages (forks), partial syncs in any order, then one pass of syncs:
    every node holds the same objects and the same heads. The nodes carry over from one
    example to the next, which only makes the histories longer."""
    for step in program:
        if step[0] == "edit":
            _, who, page = step
            random_edit(trio[who].node, page, who)
        else:
            _, a, b, way = step
            if a != b:
                sync(trio[a].node, trio[b].url, do_pull=way != "push", do_push=way != "pull")
    converge(trio, list(order))
    assert_identical(trio, f"program {program}, then {order}")
    # One more round lets every node's cursors reach the others' ends. It brings nothing new;
    # an object that reached a node by two paths (from a through b to c) may come once more
    # as a duplicate, since c's log cannot tell a that it came from a.
    for a, b in itertools.permutations(range(3), 2):
        settle = sync(trio[a].node, trio[b].url)
        assert settle.pulled.accepted == 0 and settle.pushed == 0, (a, b, settle)
    # Now nothing changed: each sync is one small request, and brings nothing.
    for a, b in itertools.permutations(range(3), 2):
        result = sync(trio[a].node, trio[b].url)
        assert (result.pulled.accepted, result.pulled.duplicates, result.pushed) == (0, 0, 0), (a, b, result)
        assert result.requests == 1, (a, b, result)
        assert result.bytes_in < 2000 and result.bytes_out == 0, (a, b, result)


def test_three_nodes_syncing_while_they_edit(trio):
    """Each node edits the shared pages and syncs with the others at the same time, in threads
    (so uploads, pulls and edits hit each store at once); afterwards one pass converges."""
    errors: list[BaseException] = []

    def work(who: int) -> None:
        rng = random.Random(who)
        try:
            for n in range(6):
                random_edit(trio[who].node, rng.choice(PAGES), who)
                other = rng.choice([i for i in range(3) if i != who])
                sync(trio[who].node, trio[other].url)
        except Exception as exc:  # noqa: BLE001 -- reported by the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    converge(trio, [(0, 1), (1, 2), (2, 0)])
    assert_identical(trio, "after concurrent edits and syncs")
    # Concurrent edits of one page made forks: some page has heads from different nodes.
    assert any(len(h) > 1 for h in heads(trio[0].dir).values())


def test_sync_costs_in_proportion_to_what_changed(trio):
    """Nothing changed: one request per peer (as `wikipeer sync` reports). k edits: about
    4k objects come. Push never sends back what came from that peer."""
    a, b, _c = trio
    edit(b.node, WIKI, "Base page", "to be edited later\n", "base")
    converge(trio, [(0, 1), (1, 2), (2, 0)])
    for x, y in itertools.permutations(range(3), 2):
        sync(trio[x].node, trio[y].url)  # settle cursors after whatever ran before
    result = run_cli(a.dir, "sync")
    assert result.code == 0, str(result)
    lines = sorted(result.out.strip().splitlines())
    assert len(lines) == 2 and all("0 new, 0 already here" in l and "sent 0 " in l and "; 1 requests," in l
                                   for l in lines), result.out

    # k new pages on b (4 objects each: page, text, revision, signature) and one more edit of
    # an existing page (3: text, revision, signature; the page is already everywhere).
    k = 7
    before = b.node.store.last_seq()
    for i in range(k):
        edit(b.node, WIKI, f"Incremental {next(counter)}", f"new page {i}\n", "new")
    edit(b.node, WIKI, "Base page", f"edited ({next(counter)})\n", "later")
    new_on_b = b.node.store.last_seq() - before
    assert new_on_b == 4 * k + 3
    pulled = sync(a.node, b.url, do_push=False)
    assert pulled.pulled.accepted == new_on_b and pulled.pulled.duplicates == 0, pulled
    assert pulled.requests == 1

    # a writes its own edit and syncs both ways with b: only that edit travels to b.
    mine = edit(a.node, WIKI, f"From a {next(counter)}", "a's own page\n", "mine")
    both = sync(a.node, b.url)
    assert both.pulled.accepted == 0 and both.pushed == 4 and both.push_refused == 0, both
    assert both.bytes_out < 3000, both  # b's 31 objects were not sent back
    assert b.node.store.object_id(mine.rev) is not None
    # Pulling from a brings nothing back: neither b's objects that a pulled (a leaves out
    # what came from the peer that asks) nor a's edit that a pushed.
    back = sync(b.node, a.url, do_push=False)
    assert (back.pulled.accepted, back.pulled.duplicates, back.requests) == (0, 0, 1), back


# -- a node killed in the middle of a sync ---------------------------------------------------

def big_history(node: Node, pages: int, revisions: int) -> int:
    """Write pages x revisions signed edits straight through ingest; returns objects written."""
    author = Author(node)
    rng = random.Random(7)
    blocks = []
    for p in range(pages):
        parents: tuple[bytes, ...] = ()
        for r in range(revisions):
            text = f"Page {p}, revision {r}.\n" + "".join(rng.choice("abcdefgh ") for _ in range(400)) + "\n"
            edit_blocks = author.edit(f"History {p}", text, parents, ts=1_000 + r, wiki=WIKI)
            parents = (edit_blocks[2].cid,)
            blocks += edit_blocks
    report = ingest(node.store, blocks, "local")
    assert report.counts()[ACCEPTED] == len({b.cid for b in blocks})
    return node.store.last_seq()


def test_a_node_killed_mid_sync_resumes_and_converges(tmp_path):
    source, victim = make_nodes(tmp_path, 2, "sv")
    total = big_history(source.node, 200, 8)  # 1,600 revisions, 5,000 objects: three ingest batches
    nodes = [source, victim]
    try:
        serve([source])
        PeerBook(victim.node.store).add(source.url)
        start = len(object_cids(victim.dir))
        proc = subprocess.Popen([*CLI, "--node", str(victim.dir), "sync", "--pull"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
        try:
            deadline = time.monotonic() + 60
            while len(object_cids(victim.dir)) == start:  # until the first batch has landed
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no batch landed within a minute"
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.communicate()
        at_kill = len(object_cids(victim.dir))
        assert start < at_kill < start + total, "the kill came after the sync had finished"
        assert fsck(victim.node.store)[1] == []  # what landed is whole

        again = run_cli(victim.dir, "sync", "--pull")
        assert again.code == 0, str(again)
        # The pull cursor moves once a whole log answer is in, so the batches that landed come
        # again as duplicates (nothing is taken twice) and the rest as new.
        landed = at_kill - start
        assert f"{total - landed} new, {landed} already here, 0 held, 0 refused" in again.out, again.out
        assert object_cids(victim.dir) == object_cids(source.dir)
        assert heads(victim.dir) == heads(source.dir) and held(victim.dir) == 0
        checked = run_cli(victim.dir, "fsck")
        assert checked.code == 0 and "no faults" in checked.out, str(checked)
    finally:
        stop_all(nodes)


# -- a partial node reads what it fetched while the peer is down ----------------------------

WORD = "zebracorn"


def test_a_partial_node_reads_fetched_pages_while_the_peer_is_down(tmp_path):
    full, partial = make_nodes(tmp_path, 2, "fp")
    matching = {f"Striped {i}": f"The {WORD} number {i} grazes here.\n\nIt has {i} stripes.\n" for i in range(14)}
    for title, text in matching.items():
        edit(full.node, WIKI, title, text.replace("grazes", "sleeps"), "first")
        edit(full.node, WIKI, title, text, "second")
    for i in range(5):
        edit(full.node, WIKI, f"Plain {i}", "Nothing striped here.\n", "plain")
    nodes = [full, partial]
    try:
        serve([full])
        added = run_cli(partial.dir, "peer", "add", full.url)
        assert added.code == 0 and "added (node key" in added.out, str(added)
        fetched = run_cli(partial.dir, "fetch", "--search", WORD, "--top", "10")
        assert fetched.code == 0 and "10 pages and" in fetched.out, str(fetched)
        full.stop()

        titles = [r[0] for r in partial.node.store.conn.execute("SELECT title FROM pages WHERE ns = 0")]
        assert len(titles) == 10 and set(titles) <= set(matching)
        serve([partial])
        for title in titles:
            page = partial.client.get(f"/wiki/{WIKI}/{title.replace(' ', '_')}")
            assert page.status_code == 200, title
            assert f"{WORD} number {title.split()[-1]} grazes here" in page.text
        missing = next(t for t in matching if t not in titles)
        assert partial.client.get(f"/wiki/{WIKI}/{missing.replace(' ', '_')}").status_code == 404
        partial.stop()
        checked = run_cli(partial.dir, "fsck")
        assert checked.code == 0 and "no faults" in checked.out, str(checked)
    finally:
        stop_all(nodes)


# -- serve --sync-every ----------------------------------------------------------------------

def test_served_nodes_that_know_each_other_converge_by_themselves(tmp_path):
    nodes = make_nodes(tmp_path, 2, "xy")
    x, y = nodes
    edit(x.node, WIKI, "From x", "x wrote this\n", "x")
    edit(y.node, WIKI, "From y", "y wrote this\n", "y")
    try:
        serve(nodes, "--sync-every", "1")
        befriend(nodes)  # the serving processes read their peers from the store each round

        def settled() -> bool:
            return object_cids(x.dir) == object_cids(y.dir) and held(x.dir) == held(y.dir) == 0

        deadline = time.monotonic() + 30
        while not settled():
            assert time.monotonic() < deadline, "the nodes did not converge by themselves"
            time.sleep(0.1)
        edit(x.node, WIKI, "From y", "x changed y's page\n", "x again")
        deadline = time.monotonic() + 30
        while heads(y.dir) != heads(x.dir):
            assert time.monotonic() < deadline, "a later edit did not travel"
            time.sleep(0.1)
        assert y.client.get(f"/wiki/{WIKI}/From_y").text.count("x changed y") >= 1
        assert_identical(nodes, "serve --sync-every")
    finally:
        stop_all(nodes)
