"""Three-way merge (policy/merge.py): diff3 chunks, conflict markers, final newlines,
the line matcher on big inputs, and merge bases found in real stores."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wikipeer.authoring import edit
from wikipeer.ingest import ingest
from wikipeer.model.title import WikiConfig
from wikipeer.policy import merge as merge_module
from wikipeer.policy.merge import MergeResult, line_opcodes, matching_blocks, merge3, merge_base
from wikipeer.store.store import Store

from conftest import Author

BASE = "intro\n\nfirst paragraph\n\nsecond paragraph\n\nthird paragraph\n\noutro"


def test_edits_to_different_places_merge_cleanly():
    ours = BASE.replace("first paragraph", "first paragraph, edited by us")
    theirs = BASE.replace("third paragraph", "third paragraph, edited by them")
    result = merge3(BASE, ours, theirs)
    assert result == MergeResult(BASE.replace("first paragraph", "first paragraph, edited by us")
                                 .replace("third paragraph", "third paragraph, edited by them"), 0)
    assert result.clean


def test_additions_at_both_ends_merge_cleanly():
    result = merge3(BASE, "new top\n" + BASE, BASE + "\nnew bottom")
    assert result.clean
    assert result.text == "new top\n" + BASE + "\nnew bottom"


def test_deletion_and_unrelated_edit_merge_cleanly():
    ours = BASE.replace("second paragraph\n\n", "")
    theirs = BASE.replace("outro", "the end")
    result = merge3(BASE, ours, theirs)
    assert result.clean
    assert result.text == "intro\n\nfirst paragraph\n\nthird paragraph\n\nthe end"


def test_the_same_edit_on_both_sides_is_taken_once():
    both = BASE.replace("second paragraph", "second paragraph, fixed")
    result = merge3(BASE, both, both)
    assert result == MergeResult(both, 0)
    # the same edit plus one more on one side
    theirs = both.replace("intro", "Intro")
    assert merge3(BASE, both, theirs) == MergeResult(theirs, 0)
    assert theirs.count("second paragraph, fixed") == 1


def test_overlapping_edits_give_one_conflict_with_markers_and_labels():
    ours = BASE.replace("second paragraph", "second paragraph by us")
    theirs = BASE.replace("second paragraph", "second paragraph by them")
    result = merge3(BASE, ours, theirs, ours_label="rev-A", theirs_label="rev-B")
    assert result.conflicts == 1 and not result.clean
    assert result.text == (
        "intro\n\nfirst paragraph\n\n"
        "<<<<<<< rev-A\nsecond paragraph by us\n=======\nsecond paragraph by them\n>>>>>>> rev-B\n"
        "\nthird paragraph\n\noutro")


def test_default_labels_and_two_separate_conflicts():
    ours = BASE.replace("intro", "our intro").replace("outro", "our outro")
    theirs = BASE.replace("intro", "their intro").replace("outro", "their outro")
    result = merge3(BASE, ours, theirs)
    assert result.conflicts == 2
    assert result.text.startswith("<<<<<<< ours\nour intro\n=======\ntheir intro\n>>>>>>> theirs\n")
    # a conflict at the end of texts without a final newline ends the text without one
    assert result.text.endswith("<<<<<<< ours\nour outro\n=======\ntheir outro\n>>>>>>> theirs")


def test_deletion_against_edit_is_a_conflict():
    ours = BASE.replace("second paragraph\n", "")
    theirs = BASE.replace("second paragraph", "second paragraph, improved")
    result = merge3(BASE, ours, theirs)
    assert result.conflicts == 1
    assert "<<<<<<< ours\n=======\nsecond paragraph, improved\n>>>>>>> theirs\n" in result.text


def test_empty_base():
    # nothing in common: both texts are all change
    assert merge3("", "", "") == MergeResult("", 0)
    assert merge3("", "only ours", "") == MergeResult("only ours", 0)
    assert merge3("", "", "only theirs") == MergeResult("only theirs", 0)
    assert merge3("", "same\ntext", "same\ntext") == MergeResult("same\ntext", 0)
    result = merge3("", "shared start\nours\nshared end", "shared start\ntheirs\nshared end")
    # lines both sides share at the edges of a conflict stay outside the markers
    assert result == MergeResult("shared start\n<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\nshared end", 1)


def test_final_newlines():
    # wiki texts usually have none: merging them must not add one
    assert not merge3("a\nb\nc", "A\nb\nc", "a\nb\nC").text.endswith("\n")
    assert merge3("a\nb\nc", "A\nb\nc", "a\nb\nC").text == "A\nb\nC"
    # texts that have one keep it
    assert merge3("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n").text == "A\nb\nC\n"
    # one side adding it is a change like any other
    assert merge3("a\nb\nc", "A\nb\nc", "a\nb\nc\n") == MergeResult("A\nb\nc\n", 0)


def test_crlf_and_unicode_lines_pass_through():
    base = "α\r\nβ\r\nγ\r\nδ"
    result = merge3(base, base.replace("α", "ALPHA"), base.replace("δ", "DELTA"))
    assert result == MergeResult("ALPHA\r\nβ\r\nγ\r\nDELTA", 0)


def test_repeated_lines_still_anchor_the_merge():
    # "|-" and blank lines repeat all over wiki tables; they must match like any line
    rows = [f"|-\n| cell {i}\n" for i in range(300)]
    base = "{|\n" + "".join(rows) + "|}"
    ours = base.replace("| cell 10\n", "| cell ten\n")
    theirs = base.replace("| cell 290\n", "| cell two hundred ninety\n")
    result = merge3(base, ours, theirs)
    assert result.clean
    assert "| cell ten\n" in result.text and "| cell two hundred ninety\n" in result.text


def test_big_texts_merge_quickly():
    lines = [f"line {i} of a long page" if i % 2 else "" for i in range(60_000)]
    base = "\n".join(lines)
    ours_lines, theirs_lines = list(lines), list(lines)
    ours_lines[1] = "ours at the top"
    ours_lines[59_999] = "ours at the bottom"
    theirs_lines[30_001] = "theirs in the middle"
    started = time.monotonic()
    result = merge3(base, "\n".join(ours_lines), "\n".join(theirs_lines))
    assert time.monotonic() - started < 5
    assert result.clean
    expected = list(lines)
    expected[1], expected[59_999], expected[30_001] = "ours at the top", "ours at the bottom", "theirs in the middle"
    assert result.text == "\n".join(expected)


# -- properties ----------------------------------------------------------------

line = st.sampled_from(["", "a", "b", "c", "|-", "{{x}}", "ü", "a b"])
texts = st.lists(line, max_size=15).map("\n".join)


@given(texts, texts)
def test_one_sided_changes_are_taken_as_they_are(base, changed):
    assert merge3(base, changed, base) == MergeResult(changed, 0)
    assert merge3(base, base, changed) == MergeResult(changed, 0)
    assert merge3(base, changed, changed) == MergeResult(changed, 0)


@given(st.lists(st.text(alphabet="abcdef", min_size=1, max_size=4), min_size=4, max_size=20, unique=True),
       st.data())
def test_edits_two_lines_apart_merge_cleanly(base_lines, data):
    i = data.draw(st.integers(0, len(base_lines) - 3))
    j = data.draw(st.integers(i + 2, len(base_lines) - 1))
    ours, theirs, both = list(base_lines), list(base_lines), list(base_lines)
    ours[i] = both[i] = "OURS"
    theirs[j] = both[j] = "THEIRS"
    assert merge3("\n".join(base_lines), "\n".join(ours), "\n".join(theirs)) == MergeResult("\n".join(both), 0)


def _apply(a: list[str], b: list[str], ops) -> list[str]:
    out: list[str] = []
    for tag, i1, i2, j1, j2 in ops:
        assert tag in ("equal", "replace", "delete", "insert")
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
            out += a[i1:i2]
        else:
            out += b[j1:j2]
    return out


@pytest.mark.parametrize("exact_limit", [merge_module.LINE_PAIRS_EXACT, 0])
@given(a=st.lists(line, max_size=30), b=st.lists(line, max_size=30))
def test_line_opcodes_turn_one_text_into_the_other(monkeypatch, exact_limit, a, b):
    # a limit of 0 sends everything through the anchored (patience-like) path
    monkeypatch.setattr(merge_module, "LINE_PAIRS_EXACT", exact_limit)
    ops = line_opcodes(a, b)
    assert _apply(a, b, ops) == b
    assert [op[1] for op in ops] == sorted(op[1] for op in ops)
    if ops:
        assert ops[0][1] == ops[0][3] == 0 and ops[-1][2] == len(a) and ops[-1][4] == len(b)
    blocks = matching_blocks(a, b)
    for (i, j, n), (i2, j2, _) in pairwise(blocks):
        assert i + n <= i2 and j + n <= j2 and (i + n, j + n) != (i2, j2)  # ordered, adjacent runs joined
    assert all(a[i:i + n] == b[j:j + n] and n > 0 for i, j, n in blocks)


def test_anchored_matching_finds_unique_lines_in_order():
    a = [f"unique {i}" for i in range(10)] + ["x"] * 5
    b = ["x"] * 5 + [f"unique {i}" for i in range(10)]
    blocks = matching_blocks(a, b)
    assert (0, 5, 10) in blocks


# -- merge_base on real stores ---------------------------------------------------


def test_merge_base_finds_the_fork_point(node):
    root = edit(node, "w", "Forked", "one\ntwo\nthree", "root", parents=(), ts=1_000).rev
    second = edit(node, "w", "Forked", "one\ntwo\nthree\nfour", "second", parents=(root,), ts=2_000).rev
    left = edit(node, "w", "Forked", "ONE\ntwo\nthree\nfour", "left", parents=(second,), ts=3_000).rev
    left2 = edit(node, "w", "Forked", "ONE\ntwo\nthree\nfour\nfive", "left again", parents=(left,), ts=4_000).rev
    right = edit(node, "w", "Forked", "one\ntwo\nTHREE\nfour", "right", parents=(second,), ts=3_500).rev
    page = node.store.page("w", 0, "Forked")
    assert {h.cid for h in node.store.heads(page.id)} == {left2, right}

    base = merge_base(node.store, left2, right)
    assert base is not None and base.cid == second
    assert merge_base(node.store, right, left2).cid == second
    # the base's text merges the two heads cleanly
    texts = [node.store.revision_text(node.store.revision(c)) for c in (second, left2, right)]
    assert merge3(*texts) == MergeResult("ONE\ntwo\nTHREE\nfour\nfive", 0)


def test_merge_base_of_a_revision_and_its_ancestor_or_itself(node):
    root = edit(node, "w", "Line", "a", "root", parents=(), ts=1_000).rev
    mid = edit(node, "w", "Line", "b", "mid", parents=(root,), ts=2_000).rev
    tip = edit(node, "w", "Line", "c", "tip", parents=(mid,), ts=3_000).rev
    assert merge_base(node.store, tip, root).cid == root
    assert merge_base(node.store, root, tip).cid == root
    assert merge_base(node.store, tip, tip).cid == tip


def test_unrelated_roots_share_no_base(node):
    a = edit(node, "w", "Twice", "made here", "first root", parents=(), ts=1_000).rev
    a2 = edit(node, "w", "Twice", "made here, edited", "child", parents=(a,), ts=2_000).rev
    b = edit(node, "w", "Twice", "made elsewhere", "second root", parents=(), ts=1_500).rev
    assert merge_base(node.store, a2, b) is None
    assert merge_base(node.store, b, a) is None


def test_newest_common_revision_wins_then_smallest_cid(node):
    root = edit(node, "w", "Cross", "r", "root", parents=(), ts=1_000).rev
    x = edit(node, "w", "Cross", "x", "x", parents=(root,), ts=2_000).rev
    y = edit(node, "w", "Cross", "y", "y", parents=(root,), ts=3_000).rev
    # criss-cross: two merges of x and y, each a common ancestor candidate one step away
    a = edit(node, "w", "Cross", "a", "a", parents=(x, y), ts=4_000).rev
    b = edit(node, "w", "Cross", "b", "b", parents=(y, x), ts=4_000).rev
    assert merge_base(node.store, a, b).cid == y  # both found in the same round: y is newer

    x2 = edit(node, "w", "Tie", "x", "x", parents=(), ts=5_000).rev
    y2 = edit(node, "w", "Tie", "y", "y", parents=(), ts=5_000).rev
    a2 = edit(node, "w", "Tie", "a", "a", parents=(x2, y2), ts=6_000).rev
    b2 = edit(node, "w", "Tie", "b", "b", parents=(x2, y2), ts=6_000).rev
    assert merge_base(node.store, a2, b2).cid == min(x2, y2)


def test_merge_base_over_a_long_history(node):
    author = Author(node)
    chain: list[bytes] = []
    pending = []
    for i in range(3_000):
        blocks = author.edit("Long", f"version {i}", parents=(chain[-1],) if chain else (), ts=1_000 + i)
        chain.append(blocks[2].cid)
        pending += blocks
    fork = author.edit("Long", "a fork of version 2", parents=(chain[2],), ts=10_000)
    report = ingest(node.store, pending + fork, "test")
    assert all(s.state in ("accepted", "duplicate") for s in report.statuses)
    loads: list[bytes] = []

    class Counted:  # each revision read once: the walk is linear in the history, whatever the machine's speed
        def revision(self, cid: bytes):
            loads.append(cid)
            return node.store.revision(cid)

    base = merge_base(Counted(), chain[-1], fork[2].cid)
    assert base.cid == chain[2]
    assert len(loads) <= len(set(loads)) + 2 and len(set(loads)) <= 3_000 + 3, (len(loads), len(set(loads)))
    assert merge_base(node.store, chain[-1], chain[1_500]).cid == chain[1_500]


def test_shallow_history_without_the_fork_point(node, tmp_path):
    author = Author(node)
    root = author.edit("Shallow", "root", ts=1_000)
    left = author.edit("Shallow", "left", parents=(root[2].cid,), ts=2_000)
    right = author.edit("Shallow", "right", parents=(root[2].cid,), ts=3_000)
    copy = Store(tmp_path / "copy.sqlite")
    copy.set_wiki_config(WikiConfig("w"))
    ingest(copy, left + right, "peer", shallow=True)
    # the fork point is known only by CID: there is nothing to merge against
    assert merge_base(copy, left[2].cid, right[2].cid) is None
    ingest(copy, root, "peer")
    assert merge_base(copy, left[2].cid, right[2].cid).cid == root[2].cid
    copy.close()
