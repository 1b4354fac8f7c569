"""Who to believe (issue 7), on one node at a time: trust lists and who may supersede them,
communities with inclusions, views and the heads they show, seconding, forking a wiki,
blocklists (RE2: linear time, thousands of patterns, no back-references), and leech
accounting against a real `wikipeer serve` peer.

Keys that sign content here are "outsiders" (made in the test, never in the node's key
directory) unless a test says otherwise: every key in that directory is trusted by every
view of the node, so a reviewer kept there could not tell two views apart.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path

import httpx
import pytest
from conftest import Result, assert_user_error, copy_node, dump_tables, run_cli, start_server, stop_server, store_db
from signed_calls import new_signer, node_key, signed
from nacl.signing import SigningKey

from wikipeer.authoring import edit, edit_blocks
from wikipeer.cli.main import main as wikipeer_main
from wikipeer.errors import UserError
from wikipeer.ingest import ACCEPTED, REJECTED
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import (
    Blocklist,
    Page,
    Profile,
    Signature,
    Trust,
    build_blocklist,
    build_profile,
    build_signature,
    build_trust,
)
from wikipeer.net.signing import RequestSigner
from wikipeer.net.sync import sync
from wikipeer.net.wire import NODE_HEADER
from wikipeer.node import Node
from wikipeer.notices import current_trust, publish_blocklist
from wikipeer.policy.trust import MAX_DEPTH
from wikipeer.store.peers import PeerBook
from wikipeer.store.schema import KIND_BLOCKLIST, KIND_PROFILE, KIND_TRUST

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

WIKI = "w"


class Outsider:
    """A key no node here holds: it signs notices, edits and seconds built in the test."""

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        self.public = key_to_str(bytes(self.key.verify_key))

    def sig(self, block: Block, role: str = "author", claim: str | None = None) -> Block:
        """A signature over ``block``; ``claim`` puts another key's name on it (a forgery)."""
        return build_signature(Signature(block.cid, role, claim or self.public, sign(self.key, block.cid, role)))

    def signed(self, block: Block) -> list[Block]:
        return [block, self.sig(block)]

    def trust(self, community: str, seq: int, members: dict[str, str], includes: tuple[str, ...] = (),
              issuer: str | None = None) -> Block:
        return build_trust(Trust(issuer or self.public, community, seq, 1_000 + seq, members, includes))

    def blocklist(self, name: str, seq: int, patterns: tuple[str, ...], issuer: str | None = None) -> Block:
        return build_blocklist(Blocklist(issuer or self.public, name, seq, 1_000 + seq, patterns))

    def profile(self, name: str, ts: int, issuer: str | None = None) -> Block:
        return build_profile(Profile(issuer or self.public, name, ts))

    def edit(self, title: str, text: str, parents: tuple[bytes, ...] = (), ts: int = 1_000) -> list[Block]:
        return edit_blocks(Page(WIKI, 0, title), text, parents, "edit", self.key, self.public, ts)

    def second(self, rev: bytes) -> Block:
        return self.sig(Block(rev, b""), "second")


def states(report) -> list[str]:
    return [s.state for s in report.statuses]


def take(node: Node, blocks: list[Block]) -> list[str]:
    return states(node.ingest(blocks, "test"))


def cli_here(node_dir: Path, *args: str, input: str | None = None) -> Result:
    """The `wikipeer` command's own code (argument parsing, exit codes, messages), run in this
    process: a test that runs many commands starts Python once per command only where that
    matters. Every command used here also runs as a real process somewhere in these tests."""
    out, err = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), encoding="utf-8")
    saved = sys.stdin
    sys.stdin = stdin
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = wikipeer_main(["--node", str(node_dir), *args])
    finally:
        sys.stdin = saved
    return Result(code, out.getvalue(), err.getvalue(), out.getvalue().encode("utf-8"))


def run(node_dir: Path, *args: str, input: str | None = None, here: bool = False) -> str:
    """A command that must succeed: its output. ``here``: in this process (see cli_here)."""
    result = (cli_here if here else run_cli)(node_dir, *args, input=input)
    assert result.code == 0, str(result)
    return result.out


def members_of(node: Node, *communities: str) -> dict[str, str]:
    return node.members(communities).roles


# -- trust lists and who may supersede them --------------------------------------------

def test_the_highest_number_wins_whatever_order_the_lists_arrive_in(node):
    issuer, r1, r2, r3 = Outsider(), Outsider(), Outsider(), Outsider()
    lists = {seq: issuer.trust("rev", seq, {who.public: "reviewer"}) for seq, who in ((1, r1), (2, r2), (3, r3))}
    assert take(node, issuer.signed(lists[3])) == [ACCEPTED] * 2
    # Older lists arriving later are kept (they are history) but supersede nothing.
    assert take(node, issuer.signed(lists[1]) + issuer.signed(lists[2])) == [ACCEPTED] * 4
    community = f"{issuer.public}/rev"
    assert members_of(node, community) == {r3.public: "reviewer"}
    newest = current_trust(node, issuer.public, "rev")
    assert newest.seq == 3
    # The same list again is a duplicate, not a second list with its number.
    assert take(node, issuer.signed(lists[3])) == ["duplicate"] * 2
    assert [t.seq for _, t in node.store.current_notices(KIND_TRUST)] == [3]


@pytest.mark.parametrize("kind", ["trust", "blocklist", "profile"])
def test_a_different_notice_with_the_same_number_is_refused_by_name(node, kind):
    issuer = Outsider()
    first, other = {
        "trust": (issuer.trust("c", 1, {Outsider().public: "editor"}), issuer.trust("c", 1, {})),
        "blocklist": (issuer.blocklist("b", 1, ("one",)), issuer.blocklist("b", 1, ("two",))),
        "profile": (issuer.profile("Ann", 5), issuer.profile("Bob", 5)),
    }[kind]
    assert take(node, issuer.signed(first)) == [ACCEPTED] * 2
    before = dump_tables(node.store.conn)
    report = node.ingest(issuer.signed(other), "test")
    assert states(report) == [REJECTED] * 2
    reason = report.statuses[0].reason
    assert f"its issuer {issuer.public} already published a different {kind}" in reason
    assert "a newer one needs a higher number" in reason
    assert "which was rejected" in report.statuses[1].reason  # its signature goes with it
    assert not report.statuses[0].forged  # an equivocation is refused, not proof of a forgery
    assert dump_tables(node.store.conn) == before
    # Both in one batch: the first is taken, the second refused the same way.
    third = {"trust": issuer.trust("c", 2, {}), "blocklist": issuer.blocklist("b", 2, ("x",)),
             "profile": issuer.profile("Cy", 6)}[kind]
    fourth = {"trust": issuer.trust("c", 2, {issuer.public: "node"}), "blocklist": issuer.blocklist("b", 2, ("y",)),
              "profile": issuer.profile("Di", 6)}[kind]
    report = node.ingest(issuer.signed(third) + issuer.signed(fourth), "test")
    assert states(report) == [ACCEPTED, ACCEPTED, REJECTED, REJECTED]
    assert "already published a different" in report.statuses[2].reason


@pytest.mark.parametrize("kind", ["trust", "blocklist", "profile"])
def test_only_the_issuer_may_supersede(node, kind):
    """A newer number signed by anyone but the issuer is refused; so is a signature that lies about its key."""
    issuer, stranger = Outsider(), Outsider()
    build = {"trust": lambda seq, who: who.trust("c", seq, {who.public: "reviewer"}, issuer=issuer.public),
             "blocklist": lambda seq, who: who.blocklist("b", seq, (f"p{seq}",), issuer=issuer.public),
             "profile": lambda seq, who: who.profile(f"name {seq}", seq, issuer=issuer.public)}[kind]
    kinds = {"trust": KIND_TRUST, "blocklist": KIND_BLOCKLIST, "profile": KIND_PROFILE}
    assert take(node, issuer.signed(build(1, issuer))) == [ACCEPTED] * 2
    before = dump_tables(node.store.conn)

    superseding = build(2, stranger)  # names the issuer, higher number, signed by the stranger's own key
    report = node.ingest([superseding, stranger.sig(superseding)], "test")
    assert states(report) == [REJECTED] * 2
    assert report.statuses[0].reason == f"unsigned: no valid signature by its author {issuer.public} came with it"

    forged = build(3, stranger)  # the stranger's signature bytes under the issuer's key
    report = node.ingest([forged, stranger.sig(forged, claim=issuer.public)], "test")
    assert states(report) == [REJECTED] * 2
    assert report.statuses[0].forged and "does not verify" in report.statuses[0].reason

    assert dump_tables(node.store.conn) == before
    (_cid, current), = node.store.current_notices(kinds[kind], issuer.public)
    assert getattr(current, "seq", getattr(current, "ts", None)) == 1


def test_an_equivocating_list_from_a_peer_is_refused_and_counted_against_it(tmp_path):
    """By sync: a list one issuer numbered twice is refused naming why, and counted against the peer."""
    issuer, r1, r2 = Outsider(), Outsider(), Outsider()
    remote = Node.init(tmp_path / "remote")
    local = Node.init(tmp_path / "local")
    try:
        assert take(remote, issuer.signed(issuer.trust("c", 1, {r1.public: "reviewer"}))) == [ACCEPTED] * 2
        assert take(local, issuer.signed(issuer.trust("c", 1, {r2.public: "reviewer"}))) == [ACCEPTED] * 2
        proc, client = start_server(remote.dir)
        try:
            url = str(client.base_url).rstrip("/")
            run(local.dir, "peer", "add", url, here=True)
            result = sync(local, url, do_push=False)
        finally:
            stop_server(proc, client)
        assert result.pulled.rejected == 2, result.pulled
        assert any("already published a different trust 'c' with the number 1" in r for r in result.pulled.reasons)
        assert members_of(local, f"{issuer.public}/c") == {r2.public: "reviewer"}  # the first one it saw stays
        header, line = run(local.dir, "peer", "list").splitlines()
        columns = dict(zip(header.split()[1:6], line.split()[1:6]))
        assert columns["refused"] == "2" and columns["forged"] == "0" and line.endswith("ok"), line
        assert PeerBook(local.store).get(url).banned is None  # refused, but no proof of a lie
    finally:
        remote.close()
        local.close()


# -- communities and views -----------------------------------------------------------

def test_communities_include_others_and_loops_end(node):
    keys = [Outsider() for _ in range(4)]
    a, b, c, d = keys
    name = {k: f"{k.public}/c" for k in keys}
    blocks = []
    blocks += a.signed(a.trust("c", 1, {a.public: "reviewer"}, (name[b],)))
    blocks += b.signed(b.trust("c", 1, {b.public: "editor"}, (name[c],)))
    blocks += c.signed(c.trust("c", 1, {c.public: "node"}, (name[a], name[c])))  # a cycle, and itself
    blocks += d.signed(d.trust("c", 1, {d.public: "reviewer"}, (name[d], f"{Outsider().public}/unknown")))
    assert take(node, blocks) == [ACCEPTED] * len(blocks)
    everyone = {a.public: "reviewer", b.public: "editor", c.public: "node"}
    for start in (a, b, c):  # from anywhere in the circle, everyone in it, once
        found = node.members([name[start]])
        assert found.roles == everyone
        assert sorted(found.communities) == sorted((k.public, "c") for k in (a, b, c))
    assert members_of(node, name[d]) == {d.public: "reviewer"}  # includes itself and a list not held
    # A member's role is the one the first list read gives it.
    assert members_of(node, name[b], name[a])[a.public] == "reviewer"


def test_inclusion_stops_at_a_bounded_depth(node):
    chain = [Outsider() for _ in range(MAX_DEPTH + 4)]
    blocks = []
    for i, k in enumerate(chain):
        includes = (f"{chain[i + 1].public}/c",) if i + 1 < len(chain) else ()
        blocks += k.signed(k.trust("c", 1, {k.public: "editor"}, includes))
    assert take(node, blocks) == [ACCEPTED] * len(blocks)
    found = members_of(node, f"{chain[0].public}/c")
    assert set(found) == {k.public for k in chain[:MAX_DEPTH + 1]}


def _two_head_page(node: Node) -> dict:
    """Page P with three heads: A (seconded by R1), B (seconded by R2), C (newest, vouched by nobody),
    and page Q with one head; communities I1/c1 = {R1} and I2/c2 = {R2}, all by outsiders."""
    x, r1, r2, i1, i2 = (Outsider() for _ in range(5))
    root = x.edit("P", "root\n", ts=1_000)
    a = x.edit("P", "text A\n", (root[2].cid,), ts=2_000)
    b = x.edit("P", "text B\n", (root[2].cid,), ts=3_000)
    c = x.edit("P", "text C\n", (root[2].cid,), ts=4_000)
    q = x.edit("Q", "only text of Q\n", ts=1_500)
    blocks = [*root, *a[1:], *b[1:], *c[1:], *q, r1.second(a[2].cid), r2.second(b[2].cid),
              *i1.signed(i1.trust("c1", 1, {r1.public: "reviewer"})),
              *i2.signed(i2.trust("c2", 1, {r2.public: "reviewer"}))]
    assert take(node, blocks) == [ACCEPTED] * len(blocks)
    return {"A": a[2].cid, "B": b[2].cid, "C": c[2].cid, "c1": f"{i1.public}/c1", "c2": f"{i2.public}/c2",
            "x": x, "r1": r1, "r2": r2, "i1": i1}


def test_views_choose_heads_and_switching_them_leaves_the_store_as_it_was(node):
    page = _two_head_page(node)
    node.close()
    d = node.dir
    assert "view 'A': 1 communities, 1 trusted keys" in run(d, "trust", "subscribe", page["c1"], "--view", "A")
    assert "view 'B': 1 communities, 1 trusted keys" in run(d, "trust", "subscribe", page["c2"], "--view", "B",
                                                            here=True)
    config = json.loads((d / "config.json").read_text())
    assert config["views"] == {"A": [page["c1"]], "B": [page["c2"]]}
    assert config["default_view"] == "A"  # the first view subscribed
    nobody = f"{Outsider().public}/none"  # a community whose list has not come: it vouches for nobody
    config["views"]["N"] = [nobody]
    (d / "config.json").write_text(json.dumps(config))

    with store_db(d) as conn:
        before = dump_tables(conn)
    assert run(d, "show", WIKI, "P", "--view", "A") == "text A\n"
    assert run(d, "show", WIKI, "P", "--view", "B", here=True) == "text B\n"
    assert "readers of this node now see the view 'B'" in run(d, "view", "default", "B", here=True)
    assert run(d, "show", WIKI, "P", here=True) == "text B\n"
    listing = run(d, "view", "list", here=True)
    assert re.search(r"^B \(default\): ed25519:\S+/c2; \d+ trusted keys$", listing, re.MULTILINE), listing
    with store_db(d) as conn:
        assert dump_tables(conn) == before

    # The same in-process: each view's head, and which heads it vouches for.
    n = Node.open(d)
    try:
        heads = n.store.heads(n.store.page(WIKI, 0, "P").id)
        for name, expect in (("A", "A"), ("B", "B"), ("N", "C")):  # N: nobody vouches, so the newest
            view = n.view(name)
            assert view.choose(heads).cid == page[expect]
            assert {h.cid for h in heads if view.is_trusted(h)} == ({page[expect]} if name != "N" else set())
        with pytest.raises(UserError, match="no view named 'nosuch'"):
            n.view("nosuch")
    finally:
        n.close()


def test_a_newer_trust_list_changes_what_a_view_shows(node):
    page = _two_head_page(node)
    node.config.views = {"A": [page["c1"]]}
    heads = lambda: node.store.heads(node.store.page(WIKI, 0, "P").id)
    assert node.view("A").choose(heads()).cid == page["A"]
    # I1 publishes list #2: R1 out, R2 in. The view follows, no setting changed.
    i1, r2 = page["i1"], page["r2"]
    assert take(node, i1.signed(i1.trust("c1", 2, {r2.public: "reviewer"}))) == [ACCEPTED] * 2
    assert node.view("A").choose(heads()).cid == page["B"]
    assert not node.view("A").is_trusted(node.store.revision(page["A"]))


def test_second_on_the_command_line_changes_the_shown_head(node):
    page = _two_head_page(node)
    node.user_key()  # "me": a key of this node, so trusted by its views
    node.close()
    d = node.dir
    assert run(d, "show", WIKI, "P", here=True) == "text C\n"  # nobody this node trusts vouches: the newest
    out = run(d, "second", cid_to_str(page["A"]))
    assert out.startswith(f"seconded {cid_to_str(page['A'])} (signature ")
    assert run(d, "show", WIKI, "P") == "text A\n"
    trusted = [line for line in run(d, "history", WIKI, "P", here=True).splitlines() if line.startswith("✓")]
    assert len(trusted) == 1 and cid_to_str(page["A"]) in trusted[0]
    assert_user_error(cli_here(d, "second", cid_to_str(Outsider().edit("Z", "z")[2].cid)),
                      "holds no such revision")


# -- forking ----------------------------------------------------------------------------

def test_a_fork_starts_from_the_views_heads_and_then_goes_its_own_way(node):
    page = _two_head_page(node)
    node.config.views = {"B": [page["c2"]]}
    node.save_config()
    node.close()
    d = node.dir
    out = run(d, "fork", WIKI, "w2", "--view", "B")
    assert out.strip() == "wiki 'w2' forked from 'w': 2 pages, 1 of them unreviewed in that view"
    assert run(d, "show", "w2", "P", here=True) == "text B\n"
    assert_user_error(cli_here(d, "fork", WIKI, "w2", "--view", "B"), "exists already")

    n = Node.open(d)
    try:
        forked_page = n.store.page("w2", 0, "P")
        (head,) = n.store.heads(forked_page.id)
        assert head.parents == () and head.origin == {"forked_from": cid_to_str(page["B"])}
        original = {h.cid for h in n.store.heads(n.store.page(WIKI, 0, "P").id)}
        edit(n, "w2", "P", "fork goes on\n", "in the fork")
        edit(n, WIKI, "Q", "original goes on\n", "in the original")
        assert {h.cid for h in n.store.heads(n.store.page(WIKI, 0, "P").id)} == original
        assert n.store.revision_text(n.view().choose(n.store.heads(n.store.page("w2", 0, "Q").id))) == \
            "only text of Q\n"
        assert n.store.revision_text(n.view().choose(n.store.heads(forked_page.id))) == "fork goes on\n"
    finally:
        n.close()


# -- blocklists -------------------------------------------------------------------------

def test_a_trusted_blocklist_refuses_added_text_and_flags_what_is_there(node):
    node.user_key()
    edit(node, WIKI, "Old spam", "intro\nbuy cheap  pills here\n", "before any list")
    node.close()
    d = node.dir
    assert run(d, "blocklist", "add", "spam", r"cheap\s+pills", "casino").strip() == "blocklist 'spam' #1: 2 patterns"
    refused = run_cli(d, "edit", WIKI, "New", "-m", "x", input="fine\nCheap pills? cheap \t pills!\n")
    assert_user_error(refused, r"edit refused: blocked: the text it adds matches pattern 'cheap\s+pills' "
                               "of blocklist 'spam' by ed25519:")
    n = Node.open(d)
    try:
        with pytest.raises(UserError, match="pattern 'casino'"):
            edit(n, WIKI, "New", "best casino\n", "x")
        # Only what an edit adds is checked: keeping an old line is no new spam.
        edit(n, WIKI, "Old spam", "intro\nbuy cheap  pills here\nmore text\n", "tidy")
    finally:
        n.close()
    check = run_cli(d, "blocklist", "check")
    assert check.code == 1, str(check)
    assert re.search(r"^w: Old spam: matches pattern 'cheap\\s\+pills' of blocklist 'spam'", check.out, re.MULTILINE), check
    assert check.out.splitlines()[-1] == "1 pages flagged"

    # A list by a key nobody here trusts is held, shown, not enforced.
    stranger = Outsider()
    n = Node.open(d)
    try:
        assert take(n, stranger.signed(stranger.blocklist("theirs", 1, ("harmless",)))) == [ACCEPTED] * 2
        edit(n, WIKI, "Harmless", "a harmless text\n", "fine here")
    finally:
        n.close()
    shown = run(d, "blocklist", "show", here=True)
    assert re.search(r"^spam by ed25519:\S+  #1, 2 patterns, enforced$", shown, re.MULTILINE), shown
    assert f"theirs by {stranger.public}  #1, 1 patterns, not enforced (issuer not trusted)" in shown

    assert run(d, "blocklist", "remove", "spam", r"cheap\s+pills", here=True).strip() == "blocklist 'spam' #2: 1 patterns"
    assert_user_error(cli_here(d, "blocklist", "remove", "spam", "nothere"), "not in the blocklist 'spam'")
    n = Node.open(d)
    try:
        edit(n, WIKI, "New", "cheap pills, now allowed\n", "x")
    finally:
        n.close()
    assert run(d, "blocklist", "check", here=True).splitlines()[-1] == "0 pages flagged"


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)+$", r"(a|a)+$", r"^(\w+\s?)*$b", r"(.*a){12}$"])
def test_patterns_that_would_backtrack_finish(node, pattern):
    """Each of these takes Python's re exponential time on the text below; RE2 takes one pass."""
    publish_blocklist(node, "nasty", (pattern,))
    text = "a" * 100_000 + "b"
    made = edit(node, WIKI, "Long", text, "no match: it ends in b")  # completes; no timing asserted
    assert node.store.revision_text(node.store.revision(made.rev)) == text
    if pattern.endswith("$"):
        with pytest.raises(UserError, match=re.escape(f"matches pattern {pattern!r} of blocklist 'nasty'")):
            edit(node, WIKI, "Long2", "a" * 100_000, "matches")


def test_five_thousand_patterns_and_no_more_than_ten_thousand(node):
    patterns = tuple(f"spamword{i:04d}x" for i in range(5_000))
    published = publish_blocklist(node, "big", patterns)
    assert published.patterns == patterns
    with pytest.raises(UserError, match=re.escape("matches pattern 'spamword4321x' of blocklist 'big'")):
        edit(node, WIKI, "Spam", "hello spamword4321x there\n", "spam")
    edit(node, WIKI, "Clean", "hello spamword43210 there\n" * 1000, "clean")  # near misses only

    issuer = Outsider()
    too_many = issuer.blocklist("huge", 1, tuple(f"p{i}" for i in range(10_001)))
    report = node.ingest(issuer.signed(too_many), "test")
    assert states(report) == [REJECTED] * 2
    assert "field 'blocklist.patterns' must be a list of at most 10000 texts" in report.statuses[0].reason


def test_patterns_that_need_backtracking_are_refused_naming_them(node):
    node.user_key()
    node.close()
    d = node.dir
    with store_db(d) as conn:
        before = dump_tables(conn)
    refused = run_cli(d, "blocklist", "add", "bad", "fine", r"(a)\1")
    assert_user_error(refused, r"not published: blocklist 'bad': the pattern '(a)\1' cannot be used "
                      r"(invalid escape sequence: \1); patterns are RE2 expressions, "
                      "without back-references or look-around")
    assert_user_error(cli_here(d, "blocklist", "add", "bad", "x(?=y)"), "the pattern 'x(?=y)' cannot be used")
    with store_db(d) as conn:
        assert dump_tables(conn) == before  # nothing published

    n = Node.open(d)
    try:
        issuer = Outsider()  # the same from elsewhere: refused at ingest, naming the pattern
        report = n.ingest(issuer.signed(issuer.blocklist("theirs", 1, ("ok", r"(?<=a)b"))), "test")
        assert states(report) == [REJECTED] * 2
        assert "the pattern '(?<=a)b' cannot be used" in report.statuses[0].reason
    finally:
        n.close()


# -- the trust commands -------------------------------------------------------------------

def test_trust_commands_publish_numbered_lists(node):
    me = node.user_key().public
    node.close()
    d = node.dir
    r1, r2 = Outsider(), Outsider()
    assert run(d, "trust", "create", "rev").strip() == (f"community {me}/rev created (list #1, no members yet); "
                                                        "this node's default view trusts its members")
    assert_user_error(cli_here(d, "trust", "create", "rev"), "you already issue a community 'rev'")
    here = lambda *args: run(d, *args, here=True).strip()
    assert here("trust", "add", "rev", r1.public, "--role", "reviewer") == f"{me}/rev: list #2 with 1 members"
    here("trust", "add", "rev", r2.public)
    assert here("trust", "remove", "rev", r2.public) == f"{me}/rev: list #4 with 1 members"
    assert_user_error(cli_here(d, "trust", "remove", "rev", r2.public), "is not a member of 'rev'")
    # A list that includes itself is allowed and harmless.
    assert here("trust", "include", "rev", f"{me}/rev") == f"{me}/rev: list #5 with 1 members, including 1 communities"
    assert here("trust", "show").splitlines() == [f"{me}/rev  list #5, 1 members", f"    reviewer  {r1.public}",
                                                  f"    includes  {me}/rev"]
    assert "view 'default': 1 communities, 1 trusted keys" in run(d, "trust", "subscribe", f"{me}/rev")
    n = Node.open(d)
    try:
        assert r1.public in n.view().trusted and r2.public not in n.view().trusted
        assert [t.seq for _, t in n.store.current_notices(KIND_TRUST)] == [5]
        assert n.store.conn.execute("SELECT count(*) FROM notices WHERE kind = ?", (KIND_TRUST,)).fetchone()[0] == 5
    finally:
        n.close()


# -- leech accounting ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def provider(_sample_template, tmp_path_factory):
    """A served sample node that enforces a blocklist of its own and refuses callers that took
    more than once what they gave (max_take_ratio 1)."""
    directory = tmp_path_factory.mktemp("provider") / "node"
    copy_node(_sample_template, directory)
    n = Node.open(directory)
    try:
        publish_blocklist(n, "spam", ("forbidden",))
        n.config.max_take_ratio = 1.0
        n.save_config()
    finally:
        n.close()
    proc, client = start_server(directory)
    try:
        yield directory, client, str(client.base_url).rstrip("/")
    finally:
        stop_server(proc, client)


def test_what_a_peer_takes_and_refuses_is_counted_and_a_taker_is_throttled(provider, tmp_path):
    directory, client, url = provider
    local = Node.init(tmp_path / "local")
    try:
        local.user_key()
        PeerBook(local.store).add(url)
        first = sync(local, url, do_push=False)
        pulled = first.pulled.accepted
        assert pulled > 100
        edit(local, WIKI, "Clean", "a clean page\n", "ok")
        edit(local, WIKI, "Bad", "something forbidden\n", "blocked there, not here")  # we do not trust that list
        pushed = sync(local, url, do_pull=False)
        assert (pushed.pushed, pushed.push_refused) == (4, 4)
        peer = PeerBook(local.store).get(url)
        assert (peer.took, peer.it_refused, peer.gave) == (4, 4, pulled)
        me = local.keyring.get("node").public
        local_key = local.keyring.signing_key("node")
    finally:
        local.close()
    provider_node = Node.open(directory)
    try:
        assert PeerBook(provider_node.store).taker(me) == (pulled, 4)  # served it, and what it gave
        total = provider_node.store.conn.execute("SELECT count(*) FROM objects").fetchone()[0]
    finally:
        provider_node.close()

    # A caller that only takes is refused once it took past the grace of 10,000 objects.
    taker = new_signer()
    audience = node_key(client)

    def log_as(who) -> httpx.Response:
        return client.send(signed(client, who, audience, "GET", "/api/v1/log", params={"since": 0}))

    requests = 0
    while True:
        response = log_as(taker)
        requests += 1
        if response.status_code != 200:
            break
        assert requests <= 10_000 // total + 2, "never throttled"
    assert response.status_code == 429
    assert "serves first the nodes that give back" in response.json()["error"]
    assert requests > 10_000 // total  # not before the grace was used up
    # Only that caller: one that gave, and an anonymous reader (counted by its address), are still served.
    assert log_as(RequestSigner(local_key)).status_code == 200
    assert client.get("/api/v1/log", params={"since": 0}).status_code == 200
    assert log_as(taker).status_code == 429
    # The old header names a node but proves nothing: naming the taker does not pin its refusal on anyone.
    assert client.get("/api/v1/log", params={"since": 0}, headers={NODE_HEADER: taker.public}).status_code == 200
