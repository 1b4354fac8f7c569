"""Notices spreading by gossip between real `wikipeer serve` processes, and views on the web.

Six nodes on 127.0.0.1 that all know each other. Each server runs its own gossip round
every second; nothing in the test passes notices on. To count the gossip messages, each
node is reached through a relay (a plain TCP forwarder in this process) that counts the
requests ``POST /api/v1/gossip`` crossing it; peers know each other by the relays'
addresses, so every message between nodes is counted, and nothing else changes.
"""

from __future__ import annotations

import contextlib
import html
import json
import random
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import (assert_user_error, dump_tables, run_cli, spawn_server, start_server, stop_server,
                      store_connect, wait_serving)
from test_trust import Outsider, _two_head_page, cli_here

from wikipeer.model.cid import cid_to_str
from wikipeer.net.gossip import FANOUT, WHOLE, position, targets
from wikipeer.net.wire import CAR_ZSTD, car_chunks
from wikipeer.node import Node
from wikipeer.store.schema import KIND_BLOCKLIST, KIND_TRUST

N = 6
DEADLINE = 60.0  # seconds for a notice to reach every node; the servers gossip every second
MARK = b"POST /api/v1/gossip "


# -- a relay that counts gossip messages ----------------------------------------------

class Relay:
    """Forwards TCP connections to a node's port and counts the gossip requests in them."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.gossip = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        upstream = threading.Thread(target=self._pump, args=(client, server, True), daemon=True)
        upstream.start()
        self._pump(server, client, False)
        upstream.join()
        client.close()
        server.close()

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        tail = b""
        try:
            while chunk := src.recv(65536):
                if count:
                    seen = tail + chunk
                    with self.lock:
                        self.gossip += seen.count(MARK)
                    tail = seen[-(len(MARK) - 1):]
                dst.sendall(chunk)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()


# -- the ring, on its own ---------------------------------------------------------------

def spread(n: int, rng: random.Random) -> tuple[set[str], int, int]:
    """Pass one notice from the first of ``n`` nodes that all know each other, as gossip_round
    and the gossip route do (a duplicate goes no further): (who got it, messages, most sent by one)."""
    keys = [f"node-{rng.getrandbits(64):x}" for _ in range(n)]
    ring = {k: position(k) for k in keys}
    have, queue, messages, most = {keys[0]}, [(keys[0], *WHOLE)], 0, 0
    while queue:
        me, lo, hi = queue.pop(0)
        sent = targets(ring[me], {k: p for k, p in ring.items() if k != me}, lo, hi, rng)
        messages, most = messages + len(sent), max(most, len(sent))
        for t in sent:
            if t.peer not in have:
                have.add(t.peer)
                queue.append((t.peer, t.lo, t.hi))
    return have, messages, most


@pytest.mark.parametrize("n", [2, 3, 6, 20, 100])
def test_the_ring_reaches_every_node_once(n):
    """Whatever the places on the ring, every node gets the notice exactly once: n - 1 messages."""
    rng = random.Random(n)
    for _ in range(300 if n < 100 else 30):
        have, messages, most = spread(n, rng)
        assert len(have) == n and messages == n - 1, (len(have), messages)
        assert most <= FANOUT


# -- served nodes ---------------------------------------------------------------------

@dataclass
class Served:
    name: str
    dir: Path
    key: str = ""  # the user key ("me"), which signs this node's notices
    proc: subprocess.Popen | None = None
    client: httpx.Client | None = None
    relay: Relay | None = None
    received: list[int] = field(default_factory=list)


def start(nodes: list[Served]) -> None:
    """Start every server at once, then wait until each answers."""
    for s in nodes:
        s.proc, s.client = spawn_server(s.dir)
        s.relay = Relay(s.client.base_url.port)
    deadline = time.monotonic() + 60
    for s in nodes:
        wait_serving(s.proc, s.client, deadline, "/api/v1/node")


def stop(nodes: list[Served]) -> None:
    for s in nodes:
        if s.relay is not None:
            s.relay.close()
        if s.proc is not None:
            stop_server(s.proc, s.client)
            s.proc = None


def in_process(node_dir: Path, *args: str) -> str:
    """A command run by the CLI's own code in this process (see test_trust.cli_here); it must succeed."""
    result = cli_here(node_dir, *args)
    assert result.code == 0, f"{args}: {result}"
    return result.out


def parallel(calls: list[Callable[[], object]]) -> list:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


def read(node: Served, sql: str, *args) -> list[tuple]:
    """A read of a served node's store from outside (SQLite in WAL mode and PostgreSQL: readers never block it)."""
    conn = store_connect(node.dir)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def notice_seqs(node: Served, kind: int, issuer: str, name: str) -> list[int]:
    return [r[0] for r in read(node, "SELECT seq FROM notices WHERE kind = ? AND key = ? AND name = ? ORDER BY seq",
                               kind, issuer, name)]


def gossip_total(nodes: list[Served]) -> int:
    return sum(s.relay.gossip for s in nodes)


def until_everywhere(nodes: list[Served], has: Callable[[Served], bool], what: str) -> float:
    """Poll until every node has something and every gossip queue is empty (twice running,
    with the message count unchanged between): the spread is over. Returns the seconds it took."""
    began = time.monotonic()
    calm = None
    while True:
        done = all(has(s) for s in nodes) and not any(read(s, "SELECT 1 FROM gossip") for s in nodes)
        total = gossip_total(nodes)
        if done and calm == total:
            return time.monotonic() - began
        calm = total if done else None
        missing = [s.name for s in nodes if not has(s)]
        assert time.monotonic() - began < DEADLINE, f"{what} did not reach {missing} within {DEADLINE} s"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def six(tmp_path_factory):
    """Six served nodes, each a peer of the other five (by relay address), each trusting node A's key."""
    base = tmp_path_factory.mktemp("gossip")
    nodes = [Served(chr(ord("A") + i), base / chr(ord("a") + i)) for i in range(N)]
    for s in nodes:
        n = Node.init(s.dir)
        s.key = n.user_key().public
        n.wiki("w")
        n.close()
    a = nodes[0]
    (base / "a.pub").write_text(a.key)
    assert run_cli(nodes[1].dir, "key", "import", "node-a", str(base / "a.pub")).out.split() == ["node-a", a.key]
    for s in nodes[2:]:
        assert in_process(s.dir, "key", "import", "node-a", str(base / "a.pub")).split() == ["node-a", a.key]
    try:
        start(nodes)
        for s in nodes:  # servers first, then peers: each peer's key is learned from its descriptor
            for other in nodes:
                if other is not s:
                    assert "added (node key ed25519:" in in_process(s.dir, "peer", "add", other.relay.url)
        yield nodes
    finally:
        stop(nodes)


def test_a_blocklist_reaches_five_nodes_by_gossip_and_blocks_spam_on_all(six):
    a = six[0]
    before = gossip_total(six)
    out = run_cli(a.dir, "blocklist", "add", "spam", r"v[i1]agra\s+deals")
    assert out.code == 0 and out.out.strip() == "blocklist 'spam' #1: 1 patterns", str(out)

    took = until_everywhere(six, lambda s: notice_seqs(s, KIND_BLOCKLIST, a.key, "spam") == [1], "the blocklist")
    messages = gossip_total(six) - before
    received = {s.name: s.relay.gossip for s in six}
    # Passed on once by each node that took it, in parts of the ring that never overlap: each other node
    # got it exactly once, and nobody sent it back to A.
    assert messages == N - 1 and received == {s.name: int(s is not a) for s in six}, received
    print(f"\nblocklist reached {N} nodes in {took:.1f} s with {messages} gossip messages: {received}")

    for s in six:
        shown = in_process(s.dir, "blocklist", "show")
        assert f"spam by {a.key}  #1, 1 patterns, enforced" in shown, (s.name, shown)
        assert read(s, "SELECT count(*) FROM notices WHERE kind = ?", KIND_BLOCKLIST) == [(1,)]  # kept once

    spam = "great v1agra  deals here!\n"
    # A real process on one node, the CLI's code in this process on the others.
    results = [run_cli(six[0].dir, "edit", "w", "Spam on A", "-m", "spam", input=spam)]
    results += [cli_here(s.dir, "edit", "w", f"Spam on {s.name}", "-m", "spam", input=spam) for s in six[1:]]
    for s, result in zip(six, results):
        assert_user_error(result, "edit refused: blocked: the text it adds matches pattern 'v[i1]agra\\s+deals' "
                                  f"of blocklist 'spam' by {a.key}")
        assert read(s, "SELECT count(*) FROM pages WHERE title LIKE 'Spam on %'") == [(0,)]
    clean = cli_here(six[3].dir, "edit", "w", "Clean", "-m", "ok", input="fine\n")
    assert clean.code == 0, str(clean)  # other edits still go through


def _post_gossip(s: Served, blocks) -> dict:
    response = s.client.post("/api/v1/gossip", content=b"".join(car_chunks(blocks)),
                             headers={"content-type": CAR_ZSTD})
    assert response.status_code == 200, response.text
    return response.json()


def test_forged_and_non_issuer_trust_lists_are_rejected_everywhere(six):
    a = six[0]
    member, stranger = Outsider(), Outsider()
    assert "created (list #1" in run_cli(a.dir, "trust", "create", "rev").out
    until_everywhere(six, lambda s: notice_seqs(s, KIND_TRUST, a.key, "rev") == [1], "trust list #1")

    # List #2 in A's name: once with a signature that is not A's (forged), once signed by the stranger.
    forged = stranger.trust("rev", 2, {stranger.public: "reviewer"}, issuer=a.key)
    by_stranger = stranger.trust("rev", 2, {stranger.public: "editor"}, issuer=a.key)
    for s in six:
        assert _post_gossip(s, [forged, stranger.sig(forged, claim=a.key)]) == {"accepted": 0, "queued": 0}
        assert _post_gossip(s, stranger.signed(by_stranger)) == {"accepted": 0, "queued": 0}
    # The issuer's own list #2 goes everywhere; the refused ones are nowhere.
    assert f"{a.key}/rev: list #2 with 1 members" in in_process(a.dir, "trust", "add", "rev", member.public,
                                                                 "--role", "reviewer")
    before = gossip_total(six)
    until_everywhere(six, lambda s: notice_seqs(s, KIND_TRUST, a.key, "rev") == [1, 2], "trust list #2")
    assert gossip_total(six) - before == N - 1
    for s in six:
        cids = {r[0] for r in read(s, "SELECT cid FROM objects")}
        assert forged.cid not in cids and by_stranger.cid not in cids
    shown = in_process(six[-1].dir, "trust", "show")
    assert shown.splitlines() == [f"{a.key}/rev  list #2, 1 members", f"    reviewer  {member.public}"]


def test_a_storm_of_one_notice_is_taken_once_and_passed_on_once(six):
    target = six[2]
    issuer = Outsider()
    notice = issuer.signed(issuer.blocklist("storm", 1, ("hail",)))
    body = b"".join(car_chunks(notice))
    threads = 24
    barrier = threading.Barrier(threads)
    url = str(target.client.base_url)

    def post() -> dict:
        with httpx.Client(base_url=url, timeout=60) as client:
            barrier.wait()
            response = client.post("/api/v1/gossip", content=body, headers={"content-type": CAR_ZSTD})
            assert response.status_code == 200, response.text
            return response.json()

    before = gossip_total(six)
    answers = parallel([post] * threads)
    assert sorted(a["accepted"] for a in answers) == [0] * (threads - 1) + [2], answers  # the notice and its signature
    assert sum(a["queued"] for a in answers) == 1, answers
    until_everywhere(six, lambda s: notice_seqs(s, KIND_BLOCKLIST, issuer.public, "storm") == [1], "the storm's notice")
    # The storm came straight to the node (not through its relay); between the nodes it is one ordinary
    # spread: each of the five others gets it once.
    assert gossip_total(six) - before == N - 1


# -- views on the web ----------------------------------------------------------------

_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')


def content(html: str) -> str:
    return html.split('<div class="content"', 1)[1].split("</main>", 1)[0]


@dataclass
class Web:
    dir: Path
    page: dict
    url: str
    client: httpx.Client

    def shown(self, title: str = "P", client: httpx.Client | None = None, **params) -> str:
        """The rendered text of a page, as ``client`` (an anonymous reader by default) is shown it."""
        response = (client or self.client).get(f"/wiki/w/{title}", params=params)
        assert response.status_code == 200, response.text
        return content(response.text)

    def user(self, name: str) -> httpx.Client:
        """A new account, logged in through the registration form."""
        client = httpx.Client(base_url=self.url, timeout=30)
        csrf = _CSRF.search(client.get("/register").text).group(1)
        response = client.post("/register", data={"name": name, "password": "a long password", "csrf": csrf,
                                                  "returnto": "/"})
        assert response.status_code == 303 and "wikipeer_session" in client.cookies, response.text
        return client


def second_button(client: httpx.Client, title: str, rev: bytes, **params) -> httpx.Response:
    """Press the second button of one revision on a page's history, as the page's form has it."""
    history = client.get(f"/wiki/w/{title}", params={"action": "history", **params}).text
    cid = cid_to_str(rev)
    form = re.search(r'<form id="(second-\d+)"[^>]*action="/second" method="post">'
                     r'<input type="hidden" name="csrf" value="([^"]+)">'
                     rf'<input type="hidden" name="cid" value="{cid}">'
                     r'<input type="hidden" name="returnto" value="([^"]+)">', history)
    assert form and f'<button type="submit" form="{form.group(1)}"' in history, history
    # As a browser would, the attribute's value is unescaped before it is sent.
    return client.post("/second", data={"csrf": form.group(2), "cid": cid, "returnto": html.unescape(form.group(3))})


def history_line(client: httpx.Client, title: str, rev: bytes) -> str:
    history = client.get(f"/wiki/w/{title}", params={"action": "history"}).text
    return next(li for li in history.split("<li")[1:] if cid_to_str(rev) in li)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """One served node; page P has heads A (seconded by R1), B (by R2) and C (newest, by nobody), page P2
    heads A2 (by R1) and C2 (newest); views A (R1's community), B (R2's) and N (a community not held)."""
    n = Node.init(tmp_path_factory.mktemp("web") / "node")
    n.wiki("w")
    page = _two_head_page(n)
    x, r1 = page["x"], page["r1"]
    root = x.edit("P2", "root 2\n", ts=1_000)
    a2, c2 = x.edit("P2", "text A2\n", (root[2].cid,), ts=2_000), x.edit("P2", "text C2\n", (root[2].cid,), ts=4_000)
    assert {st.state for st in n.ingest([*root, *a2[1:], *c2[1:], r1.second(a2[2].cid)], "test").statuses} == \
        {"accepted"}
    page.update(A2=a2[2].cid, C2=c2[2].cid)
    n.close()
    d = n.dir
    for community, view, runner in ((page["c1"], "A", run_cli), (page["c2"], "B", cli_here)):
        out = runner(d, "trust", "subscribe", community, "--view", view)
        assert out.code == 0 and f"view {view!r}: 1 communities, 1 trusted keys" in out.out, str(out)
    config = json.loads((d / "config.json").read_text())
    config["views"]["N"] = [f"{Outsider().public}/none"]  # its list never came: it vouches for nobody
    (d / "config.json").write_text(json.dumps(config))
    proc, client = start_server(d)
    try:
        yield Web(d, page, str(client.base_url).rstrip("/"), client)
    finally:
        stop_server(proc, client)


def _indexed(directory: Path) -> dict[str, list]:
    """Every table of a served node's store once its indexer has nothing left to do (it writes the search
    tables behind the writers, while the node serves)."""
    deadline = time.monotonic() + 120
    while True:
        with store_connect(directory) as conn:
            if conn.execute("SELECT count(*) FROM index_pending").fetchone()[0] == 0:
                return dump_tables(conn)
        assert time.monotonic() < deadline, "the served node's indexer never caught up"
        time.sleep(0.1)


def test_two_communities_show_two_heads_of_one_page_on_one_served_node(web):
    before = _indexed(web.dir)
    a, b, none = web.shown(view="A"), web.shown(view="B"), web.shown(view="N")
    assert "text A" in a and "text B" not in a
    assert "text B" in b and "text A" not in b
    assert "text C" in none
    page = web.client.get("/wiki/w/P", params={"view": "N"}).text
    assert "unreviewed" in page  # nobody the view trusts vouches for any head: the newest, marked
    assert "unreviewed" not in web.client.get("/wiki/w/P", params={"view": "B"}).text
    assert "text A" in web.shown()  # the node's default view: the first one subscribed
    assert "text A" in web.shown(view="no such view")
    with httpx.Client(base_url=web.url, timeout=30) as reader:  # a reader's choice, kept in a cookie
        assert reader.get("/view", params={"name": "B", "returnto": "/wiki/w/P"}).status_code == 303
        assert "text B" in web.shown(client=reader)
        assert "text A" in web.shown()  # others keep the default
    with store_connect(web.dir) as conn:
        assert dump_tables(conn) == before  # reading with views wrote nothing


def test_the_second_button_on_the_history_page(web):
    c = web.page["C"]
    with contextlib.closing(web.user("Reviewer")) as user:
        assert "seconded by" not in history_line(user, "P", c)
        response = second_button(user, "P", c, view="A")
        assert response.status_code == 303 and response.headers["location"] == "/wiki/w/P?action=history&limit=50"  # the same page of it
        assert "seconded by Reviewer" in history_line(user, "P", c)
        # The user's own key is always trusted for that user: C, the newest, now wins in any view.
        assert "text C" in web.shown(client=user, view="A")
        refused = user.post("/second", data={"csrf": "not the token", "cid": cid_to_str(c), "returnto": "/"})
        assert refused.status_code == 403
        # The diff page has the button too, for the newer revision, and comes back to the same diff.
        b = cid_to_str(web.page["B"])
        diff = user.get("/wiki/w/P", params={"diff": b}).text
        assert re.search(rf'<form class="inline second" action="/second" method="post">[^\n]*name="cid" value="{b}">'
                         rf'<input type="hidden" name="returnto" value="/wiki/w/P\?diff={b}">', diff), diff
        token = _CSRF.search(diff).group(1)
        response = user.post("/second", data={"csrf": token, "cid": b, "returnto": f"/wiki/w/P?diff={b}"})
        assert response.status_code == 303 and response.headers["location"] == f"/wiki/w/P?diff={b}"
        assert re.search(r"seconded by [\w-]{10}…, Reviewer<", history_line(user, "P", web.page["B"]))  # R2, then us
    # Logged out, the button is not offered and the route refuses.
    assert 'action="/second"' not in web.client.get("/wiki/w/P", params={"action": "history"}).text
    assert "seconded by Reviewer" in history_line(web.client, "P", c)


def test_a_web_users_second_counts_for_that_user_only(web):
    """A view is its communities plus the viewer's own keys: a stranger who registers on the node and
    seconds a revision must not change what other readers of a view are shown."""
    with contextlib.closing(web.user("Passerby")) as user:
        assert second_button(user, "P2", web.page["C2"]).status_code == 303
        assert "text C2" in web.shown("P2", client=user, view="A")
    assert "text A2" in web.shown("P2", view="A")
