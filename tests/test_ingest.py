"""The one door: every bad input is refused with a reason and changes nothing."""

from __future__ import annotations

import nacl.signing
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from wikipeer.fsck import fsck
from wikipeer.ingest import CALLER, HeldLimit, ingest
from wikipeer.model.block import Block, raw_block
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import (
    Page, Revision, Signature, build_page, build_revision, build_signature, build_text,
)
from wikipeer.model.title import WikiConfig
from wikipeer.policy.rules import MAX_TEXT, Policy
from wikipeer.store.store import Store

from conftest import Author, changed_tables, dump_tables

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

FORGER = nacl.signing.SigningKey(bytes([7]) * 32)


def _flip(block: Block, at: int | None = None) -> Block:
    """The same CID with one byte of the data changed."""
    data = bytearray(block.data)
    data[len(data) // 2 if at is None else at] ^= 0x01
    return Block(block.cid, bytes(data))


def _edit(author: Author, title: str, text: str | bytes, *, size: int | None = None, parents=(), ts: int = 5,
          sign_with=None, role: str = "author", signed: bool = True, wiki: str = "w") -> list[Block]:
    """[page, text, rev, sig] of an edit, with room to make any part of it bad."""
    page = build_page(Page(wiki, 0, title))
    body = raw_block(text) if isinstance(text, bytes) else build_text(text)
    rev = build_revision(Revision(page.cid, tuple(parents), body.cid, len(body.data) if size is None else size, ts,
                                  comment="c", author=author.public))
    if not signed:
        return [page, body, rev]
    sig = build_signature(Signature(rev.cid, role, author.public, sign(sign_with or author.key, rev.cid, role)))
    return [page, body, rev, sig]


@pytest.fixture
def seeded(node, author):
    """A node holding one page, 'Alpha', with one revision."""
    report = ingest(node.store, author.edit("Alpha", "alpha text\n"), "test")
    assert [s.state for s in report.statuses] == ["accepted"] * 4
    return node


def _snapshot(store: Store):
    return store.last_seq(), dump_tables(store.conn)


def _assert_unchanged(store: Store, before) -> None:
    seq, tables = before
    after = dump_tables(store.conn)
    assert store.last_seq() == seq
    assert changed_tables(tables, after) == [], "the store changed"


def _alpha_head(node) -> bytes:
    return node.store.heads(node.store.page("w", 0, "Alpha").id)[0].cid


# -- each bad block on its own --------------------------------------------------------


def _bad_alone(node, author):
    alpha = _alpha_head(node)
    alpha_rev = node.store.get_block(alpha)
    edit = author.edit("Beta", "beta text\n")
    return {
        "tampered text": (_flip(edit[1]), "tampered"),
        "tampered revision": (_flip(edit[2]), "tampered"),
        "tampered signature": (_flip(edit[3], at=len(edit[3].data) - 5), "tampered"),
        "tampered page": (_flip(edit[0]), "tampered"),
        "tampered stored revision": (_flip(alpha_rev), "tampered"),
        "forged signature of a stored revision": (
            build_signature(Signature(alpha, "second", author.public, sign(FORGER, alpha, "second"))), "does not verify"),
        "second signature replayed as author": (
            build_signature(Signature(alpha, "author", author.public, sign(author.key, alpha, "second"))), "does not verify"),
        "oversize text": (build_text("x" * (MAX_TEXT + 1)), "exceeds"),
        "invalid UTF-8": (raw_block(b"caf\xe9 au lait"), "UTF-8"),
        "malformed title": (build_page(Page("w", 0, "Foo[bar]")), "character"),
        "title with underscores": (build_page(Page("w", 0, "Foo_bar")), "not normalised"),
        "non-normalised title": (build_page(Page("w", 0, "lowercase first")), "not normalised"),
        "non-normalised namespace title": (build_page(Page("w", 1, "talk page")), "not normalised"),
    }


_ALONE = ["tampered text", "tampered revision", "tampered signature", "tampered page", "tampered stored revision",
          "forged signature of a stored revision", "second signature replayed as author", "oversize text",
          "invalid UTF-8", "malformed title", "title with underscores", "non-normalised title",
          "non-normalised namespace title"]


@pytest.mark.parametrize("case", _ALONE)
def test_bad_block_alone_is_rejected_and_changes_nothing(seeded, author, case):
    block, reason = _bad_alone(seeded, author)[case]
    before = _snapshot(seeded.store)
    report = ingest(seeded.store, [block], "peer")
    assert len(report.statuses) == 1
    status = report.statuses[0]
    assert (status.cid, status.state) == (block.cid, "rejected")
    assert reason.lower() in status.reason.lower()
    _assert_unchanged(seeded.store, before)
    assert fsck(seeded.store)[1] == []


def test_oversize_is_judged_by_the_policy(seeded, author):
    edit = _edit(author, "Sized", "y" * 500)
    before = _snapshot(seeded.store)
    report = ingest(seeded.store, [edit[1]], "peer", policy=Policy(max_text=499))
    assert report.statuses[0].state == "rejected" and "exceeds the limit of 499" in report.statuses[0].reason
    _assert_unchanged(seeded.store, before)
    report = ingest(seeded.store, edit, "peer", policy=Policy(max_text=500))
    assert [s.state for s in report.statuses] == ["accepted"] * 4


def test_case_sensitive_wiki_keeps_a_lowercase_title(node, author):
    node.store.set_wiki_config(WikiConfig("wikt", case="case-sensitive"))
    report = ingest(node.store, _edit(author, "apple", "a fruit\n", wiki="wikt"), "peer")
    assert [s.state for s in report.statuses] == ["accepted"] * 4
    assert node.store.page("wikt", 0, "apple") is not None


# -- a whole edit with one bad part ---------------------------------------------------


def _bad_edits(author: Author):
    return {
        "forged signature": (_edit(author, "Beta", "beta\n", sign_with=FORGER), 2, "forged"),
        "missing signature": (_edit(author, "Beta", "beta\n", signed=False), 2, "unsigned"),
        "signature in the wrong role": (_edit(author, "Beta", "beta\n", role="second"), 2, "unsigned"),
        "size field lying": (_edit(author, "Beta", "beta\n", size=4), 2, "size"),
        "oversize text": (_edit(author, "Beta", "z" * (MAX_TEXT + 1)), 1, "exceeds"),
        "invalid UTF-8": (_edit(author, "Beta", b"beta \xff\n"), 1, "UTF-8"),
        "malformed title": (_edit(author, "Be{ta}", "beta\n"), 0, "character"),
        "non-normalised title": (_edit(author, "beta", "beta\n"), 0, "not normalised"),
    }


_EDIT_CASES = ["forged signature", "missing signature", "signature in the wrong role", "size field lying",
               "oversize text", "invalid UTF-8", "malformed title", "non-normalised title"]


@pytest.mark.parametrize("order", ["as built", "reversed"])
@pytest.mark.parametrize("case", _EDIT_CASES)
def test_bad_edit_is_rejected_and_changes_nothing(seeded, author, case, order):
    blocks, bad, reason = _bad_edits(author)[case]
    if order == "reversed":
        blocks = list(reversed(blocks))
        bad = len(blocks) - 1 - bad
    before = _snapshot(seeded.store)
    report = ingest(seeded.store, blocks, "peer")
    assert [s.cid for s in report.statuses] == [b.cid for b in blocks]
    assert report.statuses[bad].state == "rejected", str(report.statuses[bad])
    assert reason.lower() in report.statuses[bad].reason.lower()
    # Only a lie is proof against the sender: a bad CID or signature, not a bad or unsigned record.
    assert report.statuses[bad].forged == (reason.lower() in ("tampered", "forged"))
    assert not any(s.state == "accepted" for s in report.statuses), [str(s) for s in report.statuses]
    assert seeded.store.page("w", 0, "Beta") is None
    _assert_unchanged(seeded.store, before)


@pytest.mark.parametrize("order", ["as built", "reversed"])
def test_forged_signature_in_a_batch_gets_a_status(seeded, author, order):
    blocks = _edit(author, "Alpha", "forged change\n", parents=(_alpha_head(seeded),), sign_with=FORGER)
    if order == "reversed":
        blocks = list(reversed(blocks))
    report = ingest(seeded.store, blocks, "peer")
    states = {s.cid: s for s in report.statuses}
    rev, sig = blocks[2 if order == "as built" else 1], blocks[3 if order == "as built" else 0]
    assert states[rev.cid].state == "rejected" and "forged" in states[rev.cid].reason
    assert states[sig.cid].state == "rejected" and "does not verify" in states[sig.cid].reason
    assert states[sig.cid].forged and states[rev.cid].forged  # proof against whoever sent them
    assert {s.cid for s in report.forgeries()} == {rev.cid, sig.cid}
    assert [r.cid for r in seeded.store.heads(seeded.store.page("w", 0, "Alpha").id)] == [_alpha_head(seeded)]


def test_tampered_revision_in_an_edit_of_a_known_page_is_not_accepted(seeded, author):
    blocks = _edit(author, "Alpha", "new\n", parents=(_alpha_head(seeded),))
    blocks[2] = _flip(blocks[2])
    seq = seeded.store.last_seq()
    report = ingest(seeded.store, blocks, "peer")
    assert report.statuses[2].state == "rejected" and "tampered" in report.statuses[2].reason
    assert report.statuses[2].forged
    assert not any(s.state == "accepted" for s in report.statuses)
    assert seeded.store.last_seq() == seq
    assert len(seeded.store.history(seeded.store.page("w", 0, "Alpha").id)) == 1
    # The genuine revision, when it comes, is accepted with what was held for it.
    good = _edit(author, "Alpha", "new\n", parents=(_alpha_head(seeded),))
    report = ingest(seeded.store, [good[2]], "another peer")
    assert report.statuses[0].state == "accepted"
    assert seeded.store.revision_text(seeded.store.revision(good[2].cid)) == "new\n"
    assert fsck(seeded.store)[1] == []


def test_revision_signed_by_someone_else_than_its_author_is_rejected(seeded, author):
    page = build_page(Page("w", 0, "Alpha"))
    text = build_text("impostor\n")
    rev = build_revision(Revision(page.cid, (_alpha_head(seeded),), text.cid, len(text.data), 9, author=author.public))
    forger_pub = key_to_str(bytes(FORGER.verify_key))
    sig = build_signature(Signature(rev.cid, "author", forger_pub, sign(FORGER, rev.cid, "author")))
    report = ingest(seeded.store, [text, rev, sig], "peer")
    assert report.statuses[1].state == "rejected" and "unsigned" in report.statuses[1].reason
    assert len(seeded.store.history(seeded.store.page("w", 0, "Alpha").id)) == 1


def test_anonymous_revision_needs_a_node_signature(seeded, author):
    page = build_page(Page("w", 0, "Anon"))
    text = build_text("imported\n")
    rev = build_revision(Revision(page.cid, (), text.cid, len(text.data), 9, origin={"site": "x", "user": "Bob"}))
    second = build_signature(Signature(rev.cid, "second", author.public, sign(author.key, rev.cid, "second")))
    report = ingest(seeded.store, [page, text, rev, second], "peer")
    assert report.statuses[2].state == "rejected"
    by_node = build_signature(Signature(rev.cid, "node", author.public, sign(author.key, rev.cid, "node")))
    report = ingest(seeded.store, [page, text, rev, by_node], "peer")
    assert report.statuses[2].state == "accepted", [str(s) for s in report.statuses]
    assert seeded.store.revision(rev.cid).origin == {"site": "x", "user": "Bob"}


def test_parent_from_another_page_is_refused(seeded, author):
    blocks = _edit(author, "Gamma", "gamma\n", parents=(_alpha_head(seeded),))
    report = ingest(seeded.store, blocks, "peer")
    assert report.statuses[2].state == "rejected", str(report.statuses[2])
    assert fsck(seeded.store)[1] == []


# -- duplicates and idempotence --------------------------------------------------------


def test_reingest_reports_duplicates_and_changes_nothing(seeded, author):
    edit = author.edit("Delta", "delta\n", ts=7)
    first = ingest(seeded.store, edit, "peer")
    assert [s.state for s in first.statuses] == ["accepted"] * 4
    before = _snapshot(seeded.store)
    again = ingest(seeded.store, edit, "peer")
    assert [s.state for s in again.statuses] == ["duplicate"] * 4
    assert [s.cid for s in again.statuses] == [b.cid for b in edit]
    _assert_unchanged(seeded.store, before)


def test_block_given_twice_in_one_call(seeded, author):
    edit = author.edit("Echo", "echo\n")
    report = ingest(seeded.store, edit + edit[::-1], "peer")
    assert [s.state for s in report.statuses] == ["accepted"] * 4 + ["duplicate"] * 4
    assert len(seeded.store.history(seeded.store.page("w", 0, "Echo").id)) == 1


def test_reingesting_held_blocks_is_idempotent(seeded, author):
    first = author.edit("Fox", "one\n", ts=1)
    second = author.edit("Fox", "two\n", (first[2].cid,), ts=2)
    ingest(seeded.store, second, "peer")
    before = _snapshot(seeded.store)
    report = ingest(seeded.store, second, "peer")
    # The page is new too: it waits with the revision that needs it.
    assert [s.state for s in report.statuses] == ["held", "held", "held", "held"]
    _assert_unchanged(seeded.store, before)


def test_held_child_is_released_when_parent_and_page_arrive_together(node, author):
    a = author.edit("Reentry", "a\n", ts=1)
    b = author.edit("Reentry", "b\n", (a[2].cid,), ts=2)
    first = ingest(node.store, b[1:], "peer")
    assert [s.state for s in first.statuses] == ["held"] * 3
    second = ingest(node.store, [a[1], a[2], a[3], a[0]], "peer")
    assert [s.state for s in second.statuses] == ["accepted"] * 4
    page = node.store.page("w", 0, "Reentry").id
    assert [h.cid for h in node.store.heads(page)] == [b[2].cid]
    assert fsck(node.store)[1] == []


def test_held_revision_is_released_when_its_text_arrives_later(node, author):
    page, text, rev, sig = author.edit("Late text", "arrives last\n")
    first = ingest(node.store, [page, rev, sig], "peer")
    # A page enters only with a revision of it, so it waits too.
    assert [s.state for s in first.statuses] == ["held", "held", "held"]
    assert "text" in first.statuses[1].reason
    second = ingest(node.store, [text], "peer")
    assert second.statuses[0].state == "accepted", str(second.statuses[0])
    assert node.store.revision_text(node.store.revision(rev.cid)) == "arrives last\n"
    assert node.store.conn.execute("SELECT count(*) FROM held").fetchone()[0] == 0


@settings(max_examples=40, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.randoms(use_true_random=False), st.integers(1, 5))
def test_any_arrival_order_and_batching_ends_in_the_same_store(tmp_path_factory, node, author, rng, chunks):
    """A forked and merged history, its blocks shuffled and split into calls, ends up the same.

    A revision travels with its signature (a revision that arrives unsigned is
    rejected by design); pages, texts and parents may come in any order and call.
    """
    a = author.edit("Order", "a\n", ts=1)
    b = author.edit("Order", "b\n", (a[2].cid,), ts=2)
    c = author.edit("Order", "c\n", (a[2].cid,), ts=3)
    d = author.edit("Order", "b\nc\n", (b[2].cid, c[2].cid), ts=4)
    e = author.edit("Other", "a\n", ts=5)  # shares its text with 'a'
    units = [[a[0]], [e[0]]] + [[x[1]] for x in (a, b, c, d, e)] + [x[2:] for x in (a, b, c, d, e)]
    wanted = {blk.cid for unit in units for blk in unit}
    rng.shuffle(units)
    cuts = sorted(rng.sample(range(1, len(units)), min(chunks - 1, len(units) - 1)))
    store = Store(tmp_path_factory.mktemp("order") / "s.sqlite")
    for part in (units[i:j] for i, j in zip([0, *cuts], [*cuts, len(units)])):
        report = ingest(store, [blk for unit in part for blk in unit], "peer")
        assert all(s.state in ("accepted", "duplicate", "held") for s in report.statuses), \
            [str(s) for s in report.statuses]
    assert {blk.cid for _, blk in store.iter_objects()} == wanted
    assert store.conn.execute("SELECT count(*) FROM held").fetchone()[0] == 0
    page = store.page("w", 0, "Order").id
    assert [h.cid for h in store.heads(page)] == [d[2].cid]
    assert store.revision_text(store.revision(d[2].cid)) == "b\nc\n"
    assert fsck(store)[1] == []
    store.close()


def test_long_chains_newest_first_and_held_chains_released_at_once(node, author):
    edits, parents = [], ()
    for i in range(1200):
        edit = author.edit("Long", f"v{i}\n", parents, ts=i + 1)
        edits.append(edit)
        parents = (edit[2].cid,)
    held = ingest(node.store, [b for e in reversed(edits[1:]) for b in e], "peer")
    assert {s.state for s in held.statuses} <= {"held", "duplicate"}
    released = ingest(node.store, edits[0], "peer")
    assert [s.state for s in released.statuses] == ["accepted"] * 4
    page = node.store.page("w", 0, "Long").id
    assert [h.cid for h in node.store.heads(page)] == [edits[-1][2].cid]
    assert len(node.store.history(page)) == 1200
    assert node.store.conn.execute("SELECT count(*) FROM held").fetchone()[0] == 0


def test_a_tampered_copy_does_not_hide_the_genuine_block(node, author):
    page, text, rev, sig = author.edit("Genuine", "real text\n")
    report = ingest(node.store, [page, _flip(text), text, rev, sig], "peer")
    assert [s.state for s in report.statuses] == ["accepted", "rejected", "accepted", "accepted", "accepted"]
    assert "tampered" in report.statuses[1].reason
    assert node.store.revision_text(node.store.revision(rev.cid)) == "real text\n"


def test_control_characters_xml_cannot_carry_are_refused(node, author):
    report = ingest(node.store, author.edit("Ctl", "a\x0bb\n"), "peer")
    assert report.statuses[1].state == "rejected" and "U+000B" in report.statuses[1].reason
    assert node.store.page("w", 0, "Ctl") is None


# -- shallow histories ---------------------------------------------------------------


def test_a_shallow_history_is_accepted_and_completed_later(node, author, tmp_path):
    chain, parents = [], ()
    for i in range(5):
        blocks = author.edit("Deep", f"text {i}\n", parents=parents, ts=1_000 + i)
        chain.append(blocks)
        parents = (blocks[2].cid,)
    copy = Store(tmp_path / "copy.sqlite")
    copy.set_wiki_config(WikiConfig("w"))
    newest = [b for edit in chain[3:] for b in edit]
    # Without shallow, revisions whose parents are absent wait for them.
    assert {s.state for s in ingest(copy, newest, "peer").statuses} == {"held", "duplicate"}
    report = ingest(copy, newest, "peer", shallow=True)
    assert "held" not in {s.state for s in report.statuses}
    page = copy.page("w", 0, "Deep")
    assert [h.cid for h in copy.heads(page.id)] == [chain[4][2].cid]
    assert len(copy.history(page.id)) == 2
    assert copy.get_block(chain[3][2].cid) == chain[3][2]  # the missing parent link survives, byte for byte
    assert fsck(copy)[1] == []
    # The older history, when it comes, joins below without becoming a head.
    ingest(copy, [b for edit in chain[:3] for b in edit], "peer")
    assert [h.cid for h in copy.heads(page.id)] == [chain[4][2].cid]
    assert len(copy.history(page.id)) == 5
    assert copy.conn.execute("SELECT count(*) FROM shallow").fetchone()[0] == 0
    assert fsck(copy)[1] == []


def test_one_source_can_leave_only_so_much_waiting(node, author):
    policy = Policy(max_held=5)
    texts = [build_text(f"orphan {i}\n") for i in range(8)]
    assert [s.state for s in ingest(node.store, texts[:4], "peer:x", policy=policy).statuses] == ["held"] * 4
    before = dump_tables(node.store.conn)
    # A batch that would take the source past its bound is refused whole: nothing of it is half-kept.
    with pytest.raises(HeldLimit, match="peer:x would leave 6 objects .* at most 5 objects"):
        ingest(node.store, texts[4:6] + author.edit("Fine", "A complete edit.\n"), "peer:x", policy=policy)
    assert changed_tables(before, dump_tables(node.store.conn)) == []
    assert node.store.held_by("peer:x")[0] == 4
    # Sending what it holds again counts nothing twice; another source has its own allowance.
    assert ingest(node.store, texts[:4] + texts[4:5], "peer:x", policy=policy).counts()["held"] == 5
    assert ingest(node.store, [build_text("other\n")], "peer:y", policy=policy).statuses[0].state == "held"
    assert [(h.source, h.objects) for h in node.store.held_stats()] == [("peer:x", 5), ("peer:y", 1)]
    assert node.store.drop_held("peer:x") == 5 and node.store.held_by("peer:x") == (0, 0)


def test_callers_of_the_api_share_a_bound_on_the_node_wide_total(node):
    policy = Policy(max_held_total=6)
    ingest(node.store, [build_text(f"bundle {i}\n") for i in range(4)], "bundle:b", policy=policy)
    ingest(node.store, [build_text("first\n")], f"{CALLER}127.0.0.2", policy=policy)
    with pytest.raises(HeldLimit, match="this node would have 7 objects .* past 6 objects"):
        ingest(node.store, [build_text(f"second {i}\n") for i in range(2)], f"{CALLER}127.0.0.3", policy=policy)
    assert node.store.held_by(f"{CALLER}127.0.0.3") == (0, 0)
    # Sources the node chose (a bundle, a peer it pulls from) have only their own bound.
    ingest(node.store, [build_text(f"more {i}\n") for i in range(3)], "bundle:b", policy=policy)
    assert node.store.held_by("bundle:b")[0] == 7


def test_held_blocks_expire(node, author):
    policy = Policy(held_seconds=3600)
    page, text, rev, sig = author.edit("Late", "Its page came late.\n")
    ingest(node.store, [text, rev, sig], "peer:x", policy=policy)
    ingest(node.store, [build_text("old orphan\n")], "peer:y", policy=policy)
    assert node.store.held_by("peer:x")[0] == 3 and node.store.held_by("peer:y")[0] == 1
    with node.store.conn:  # an hour and a second pass for peer:y's block
        node.store.conn.execute("UPDATE held SET held_at = held_at - 3601 WHERE source = 'peer:y'")
    # Any ingest forgets what waited too long; what still may wait is released as before.
    report = ingest(node.store, [page], "peer:z", policy=policy)
    assert node.store.held_by("peer:y") == (0, 0)
    assert report.released == 3 and node.store.held_by("peer:x") == (0, 0)
    assert node.store.get_block(rev.cid) == rev


def test_a_store_from_before_expiry_gets_the_column_and_keeps_its_held_blocks(tmp_path):
    path = tmp_path / "old.sqlite"
    store = Store(path)
    ingest(store, [build_text("waits\n")], "peer:x")
    with store.conn:  # as schema 9 made it: no held_at
        store.conn.execute("DROP INDEX held_by_time")
        store.conn.execute("ALTER TABLE held DROP COLUMN held_at")
        store.conn.execute("UPDATE meta SET value = '9' WHERE key = 'schema'")
    store.close()
    store = Store(path)
    assert store.held_by("peer:x")[0] == 1
    since = store.held_stats()[0].since
    assert since > 1_700_000_000  # its clock starts at the upgrade, not in 1970
    ingest(store, [build_text("another\n")], "peer:y")
    assert store.held_by("peer:x")[0] == 1
