"""The SQLite store: text compression, heads, held revisions, the log, search."""

from __future__ import annotations

import math
import random

import libipld
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wikipeer.authoring import edit_blocks
from wikipeer.errors import NotFound
from wikipeer.ingest import ingest
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW, compute_cid
from wikipeer.model.keys import sign
from wikipeer.model.objects import Page, Signature, build_signature
from wikipeer.node import Node
from wikipeer.policy.view import View
from wikipeer.store import textcodec
from wikipeer.store.store import Store

from conftest import Author

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL


def _accepted(report) -> None:
    bad = [str(s) for s in report.statuses if s.state not in ("accepted", "duplicate")]
    assert not bad, bad


def _chain_texts(n: int, seed: int = 1) -> list[str]:
    """n versions of a ~5 KB text, each a small edit of the one before."""
    rng = random.Random(seed)
    words = ["wiki", "peer", "Київ", "東京", "signed", "block", "head", "fork", "ünïcode", "text", "node"]
    lines = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(80)]
    out = []
    for _ in range(n):
        i = rng.randrange(len(lines))
        lines[i] = " ".join(rng.choice(words) for _ in range(12))
        if rng.random() < 0.2:
            lines.insert(rng.randrange(len(lines)), f"inserted line {rng.random()}")
        out.append("\n".join(lines) + "\n")
    return out


def _linear(store: Store, author: Author, title: str, texts: list[str], batch: int = 7) -> list[bytes]:
    """Ingest a linear history in several calls; return the revision CIDs."""
    revs: list[bytes] = []
    pending: list[Block] = []
    for i, text in enumerate(texts):
        blocks = author.edit(title, text, (revs[-1],) if revs else (), ts=1000 + i)
        revs.append(blocks[2].cid)
        pending += blocks
        if len(pending) >= 4 * batch:
            _accepted(ingest(store, pending, "test"))
            pending = []
    if pending:
        _accepted(ingest(store, pending, "test"))
    return revs


# -- text compression ----------------------------------------------------------------


@given(st.binary(max_size=3000), st.one_of(st.none(), st.binary(max_size=3000)))
def test_textcodec_round_trip(text, base):
    assert textcodec.decompress(textcodec.compress(text, base), base) == text


@pytest.mark.parametrize("chain", [1, 4, 16])
def test_long_chain_round_trip_after_reopening(node, author, tmp_path, chain):
    path = tmp_path / f"chain{chain}.sqlite"
    store = Store(path, chain=chain)
    store.set_wiki_config(node.wiki("w"))
    texts = _chain_texts(50)
    revs = _linear(store, author, "Long", texts)
    store.close()

    fresh = Store(path)  # a new object: nothing cached, every text decompressed from disk
    assert fresh.chain == chain
    for cid, text in zip(revs, texts):
        rev = fresh.revision(cid)
        assert fresh.revision_text(rev) == text
        block = fresh.get_block(rev.text)
        assert block.data == text.encode() and compute_cid(block.data, RAW) == rev.text
    depths = [d for (d,) in fresh.conn.execute("SELECT depth FROM texts ORDER BY id")]
    standalone = fresh.conn.execute("SELECT count(*) FROM texts WHERE base IS NULL").fetchone()[0]
    assert max(depths) == max(chain - 1, 0)
    assert standalone == math.ceil(len(texts) / max(chain, 1))
    # Every text's dictionary is its parent revision's text.
    for child, parent in zip(revs[1:], revs):
        c = fresh.conn.execute("SELECT t.base, t.depth FROM revisions r JOIN texts t ON t.id = r.text "
                               "WHERE r.id = ?", (fresh.object_id(child),)).fetchone()
        p_text = fresh.conn.execute("SELECT text FROM revisions WHERE id = ?", (fresh.object_id(parent),)).fetchone()[0]
        assert c[0] is None or c[0] == p_text
    stored = fresh.conn.execute("SELECT sum(length(data)) FROM texts").fetchone()[0]
    raw = sum(len(t.encode()) for t in texts)
    if chain == 16:
        assert stored < raw * 0.05, (stored, raw)
    fresh.close()


def test_identical_texts_share_one_blob(node, author):
    store = node.store
    revs = _linear(store, author, "Revert", ["one\n", "two\n", "one\n"])
    assert len({store.revision(r).text for r in revs}) == 2
    assert store.conn.execute("SELECT count(*) FROM texts").fetchone()[0] == 2
    assert [store.revision_text(store.revision(r)) for r in revs] == ["one\n", "two\n", "one\n"]


# -- heads ----------------------------------------------------------------------------


def _page_id(store: Store, title: str, wiki: str = "w") -> int:
    return store.page(wiki, 0, title).id


def test_heads_after_linear_edits(node, author):
    revs = _linear(node.store, author, "Lin", [f"v{i}\n" for i in range(10)])
    heads = node.store.heads(_page_id(node.store, "Lin"))
    assert [h.cid for h in heads] == [revs[-1]]
    history = node.store.history(_page_id(node.store, "Lin"))
    assert [h.cid for h in history] == list(reversed(revs))


def test_heads_after_fork_and_merge(node, author):
    store = node.store
    base = author.edit("Fork", "base\n", ts=1)
    left = author.edit("Fork", "left\n", (base[2].cid,), ts=2)
    right = author.edit("Fork", "right\n", (base[2].cid,), ts=3)
    _accepted(ingest(store, base + left + right, "test"))
    page = _page_id(store, "Fork")
    assert {h.cid for h in store.heads(page)} == {left[2].cid, right[2].cid}
    assert View(frozenset({author.public})).choose(store.heads(page)).cid == right[2].cid  # newest wins
    merge = author.edit("Fork", "left\nright\n", (left[2].cid, right[2].cid), ts=4)
    _accepted(ingest(store, merge, "test"))
    assert [h.cid for h in store.heads(page)] == [merge[2].cid]
    assert set(store.revision(merge[2].cid).parents) == {left[2].cid, right[2].cid}


def test_view_prefers_trusted_heads_then_newest_then_cid(node, author):
    store = node.store
    stranger_node = Node.init(node.dir.parent / "stranger")
    stranger = Author(stranger_node)
    base = author.edit("View", "base\n", ts=1)
    mine = author.edit("View", "mine\n", (base[2].cid,), ts=2)
    theirs = stranger.edit("View", "theirs\n", (base[2].cid,), ts=3)
    _accepted(ingest(store, base + mine + theirs, "test"))
    heads = store.heads(_page_id(store, "View"))
    assert View(frozenset({author.public})).choose(heads).cid == mine[2].cid  # trusted beats newer
    assert View(frozenset({stranger.public})).choose(heads).cid == theirs[2].cid
    assert View().choose(heads).cid == theirs[2].cid  # nobody trusted: newest
    both = View(frozenset({author.public, stranger.public}))
    assert both.choose(heads).cid == theirs[2].cid
    # Same trust and timestamp: the smaller CID, so every node agrees.
    a = author.edit("Tie", "a\n", ts=5)
    b = author.edit("Tie", "b\n", ts=5)
    _accepted(ingest(store, a + b[1:], "test"))  # one page object for both
    tie = store.heads(_page_id(store, "Tie"))
    assert View().choose(tie).cid == min(a[2].cid, b[2].cid)
    assert View().choose([]) is None
    stranger_node.close()


# -- held revisions ----------------------------------------------------------------------


def test_held_revision_is_released_when_its_parent_arrives_later(node, author):
    store = node.store
    first = author.edit("Held", "first text\n", ts=1)
    second = author.edit("Held", "second zebra text\n", (first[2].cid,), ts=2)
    third = author.edit("Held", "third quokka text\n", (second[2].cid,), ts=3)

    report = ingest(store, third[1:] + second, "peer")
    states = {s.cid: s.state for s in report.statuses}
    assert states[second[2].cid] == "held" and states[third[2].cid] == "held"
    assert states[second[0].cid] == "held"  # a page enters with its first revision
    reasons = {s.cid: s.reason for s in report.statuses}
    assert "parent" in reasons[second[2].cid]
    # Held means shown nowhere.
    assert store.page("w", 0, "Held") is None
    for rev in (second, third):
        with pytest.raises(NotFound):
            store.revision(rev[2].cid)
        assert store.get_block(rev[2].cid) is None
    assert store.search("zebra") == [] and store.search("quokka") == []
    seq = store.last_seq()
    assert store.conn.execute("SELECT count(*) FROM held").fetchone()[0] > 0

    report = ingest(store, first, "another peer")
    assert [s.state for s in report.statuses] == ["accepted", "accepted", "accepted", "accepted"]
    assert report.released > 0
    page = _page_id(store, "Held")
    assert [h.cid for h in store.heads(page)] == [third[2].cid]
    assert [r.cid for r in store.history(page)] == [third[2].cid, second[2].cid, first[2].cid]
    assert store.revision_text(store.revision(third[2].cid)) == "third quokka text\n"
    assert {s.key for s in store.revision(third[2].cid).sigs} == {author.public}
    assert store.conn.execute("SELECT count(*) FROM held").fetchone()[0] == 0
    assert [p.title for p, _ in store.search("quokka")] == ["Held"]
    # The released revisions enter the log after their parent.
    log = [b.cid for _, b in store.iter_objects(since=seq)]
    assert log.index(first[2].cid) < log.index(second[2].cid) < log.index(third[2].cid)


def test_held_second_signature_is_released_with_its_target(node, author):
    store = node.store
    node.keyring.create("second")
    other = Author(node, "second")
    edit = author.edit("Seconded", "text\n")
    seconding = build_signature(Signature(edit[2].cid, "second", other.public, sign(other.key, edit[2].cid, "second")))
    report = ingest(store, [seconding], "peer")
    assert report.statuses[0].state == "held"
    _accepted(ingest(store, edit, "peer"))
    sigs = store.revision(edit[2].cid).sigs
    assert {(s.key, s.role) for s in sigs} == {(author.public, "author"), (other.public, "second")}


# -- the log -----------------------------------------------------------------------------


def _links(block: Block) -> list[bytes]:
    if block.cid[1] == RAW:
        return []
    obj = libipld.decode_dag_cbor(block.data)
    out = []
    for value in obj.values():
        if isinstance(value, bytes):
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, bytes)]
    return out


def test_log_order_is_acceptance_order(node, author):
    store = node.store
    assert store.last_seq() == 0
    calls = []
    revs: list[bytes] = []
    for call in range(4):
        blocks = []
        for i in range(3):
            edit = author.edit(f"Log {i}", f"call {call} page {i}\n", (revs[3 * (call - 1) + i],) if call else (),
                               ts=call * 10 + i)
            blocks += edit
        revs += [blocks[4 * i + 2].cid for i in range(3)]
        before = store.last_seq()
        report = ingest(store, list(reversed(blocks)), "test")  # arrival order is not log order
        accepted = {s.cid for s in report.statuses if s.state == "accepted"}
        new = list(store.iter_objects(since=before))
        assert {b.cid for _, b in new} == accepted
        assert [seq for seq, _ in new] == sorted(seq for seq, _ in new)
        assert min(seq for seq, _ in new) > before and store.last_seq() == new[-1][0]
        calls.append([b.cid for _, b in new])

    everything = list(store.iter_objects())
    assert [b.cid for _, b in everything] == [c for call in calls for c in call]
    position = {b.cid: i for i, (_, b) in enumerate(everything)}
    for _, block in everything:
        # Every object is logged after every object it links to.
        for link in _links(block):
            assert position[link] < position[block.cid]
        assert compute_cid(block.data, block.cid[1]) == block.cid
    # Paging through the log gives the same sequence.
    paged, since = [], 0
    while True:
        chunk = list(store.iter_objects(since=since, limit=5))
        if not chunk:
            break
        assert len(chunk) <= 5
        paged += chunk
        since = chunk[-1][0]
    assert [s for s, _ in paged] == [s for s, _ in everything]
    assert list(store.iter_objects(since=store.last_seq())) == []


# -- search ----------------------------------------------------------------------------


@pytest.fixture
def searchable(node, author):
    store = node.store
    pages = {
        "Tokyo": "東京都は日本の首都です。人口は約千四百万人。\n",
        "Kyiv": "Київ — столиця України, одне з найстаріших міст Європи.\n",
        "Encyclopedia": "An encyclopaedia is a reference work.\n",
        "Percent": "Growth was 100% last year.\n",
        "Fruit": "banana smoothie\n",
    }
    for title, text in pages.items():
        _accepted(ingest(store, author.edit(title, text), "test"))
    return store


def _titles(store: Store, query: str) -> set[str]:
    return {page.title for page, _ in store.search(query)}


def test_search_finds_a_japanese_word(searchable):
    assert _titles(searchable, "日本") == {"Tokyo"}
    assert _titles(searchable, "首都です") == {"Tokyo"}
    snippet = searchable.search("首都")[0][1]
    assert "首都" in snippet


def test_search_finds_a_ukrainian_word(searchable):
    assert _titles(searchable, "столиця") == {"Kyiv"}
    assert _titles(searchable, "України") == {"Kyiv"}


def test_search_finds_a_three_character_substring_inside_a_word(searchable):
    assert _titles(searchable, "lop") == {"Encyclopedia"}  # inside "encyclopaedia" and the title
    assert _titles(searchable, "aed") == {"Encyclopedia"}
    assert _titles(searchable, "ENCYC") == {"Encyclopedia"}  # case does not matter
    assert _titles(searchable, "ран") == set()


def test_search_ignores_case_in_cyrillic_as_in_latin(searchable):
    assert _titles(searchable, "київ") == {"Kyiv"}


def test_search_terms_are_literal_and_all_must_match(searchable):
    assert _titles(searchable, "100%") == {"Percent"}
    assert _titles(searchable, "%") == {"Percent"}
    assert _titles(searchable, "_") == set()
    assert _titles(searchable, "reference work") == {"Encyclopedia"}
    assert _titles(searchable, "reference banana") == set()
    assert searchable.search("   ") == []
    assert _titles(searchable, "kyiv") == {"Kyiv"}  # titles are searched too


def test_search_follows_the_shown_head(node, author, searchable):
    rev = searchable.heads(_page_id(searchable, "Fruit"))[0].cid
    _accepted(ingest(searchable, author.edit("Fruit", "cherry pie\n", (rev,), ts=2000), "test"))
    assert _titles(searchable, "banana") == set()
    assert _titles(searchable, "cherry") == {"Fruit"}


def test_stats_per_wiki(node, author):
    store = node.store
    _linear(store, author, "A", ["1\n", "2\n", "3\n"])
    _linear(store, author, "B", ["x\n"])
    other = edit_blocks(Page("other", 0, "C"), "c\n", (), "s", author.key, author.public, 1)
    _accepted(ingest(store, other, "test"))
    stats = {s.wiki: s for s in store.stats()}
    assert (stats["w"].pages, stats["w"].revisions) == (2, 4)
    assert stats["w"].blocks == 2 + 4 * 3  # pages + (text, rev, sig) per revision
    assert (stats["other"].pages, stats["other"].revisions, stats["other"].blocks) == (1, 1, 4)
    assert stats["w"].bytes > stats["other"].bytes > 0


def test_signatures_are_rebuilt_byte_for_byte_and_damage_is_caught(node, author):
    from wikipeer.fsck import fsck
    from wikipeer.model.cid import cid_to_str

    blocks = author.edit("Signed", "text\n")
    assert all(s.state == "accepted" for s in ingest(node.store, blocks, "test").statuses)
    sig = blocks[3]
    assert node.store.get_block(sig.cid) == sig
    assert sig in [b for _, b in node.store.iter_objects()]
    value = node.store.conn.execute("SELECT value FROM sigs").fetchone()[0]
    damaged = bytes([value[0] ^ 1]) + value[1:]
    node.store.conn.execute("UPDATE sigs SET value = ?", (damaged,))
    _, faults = fsck(node.store)
    assert any(f.cid == cid_to_str(sig.cid) and "hash" in f.problem for f in faults), faults


def test_cids_sharing_the_indexed_prefix_stay_apart(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    first = compute_cid(b"one", RAW)
    twin = first[:12] + bytes(32 - 8)  # same eight digest bytes the index uses, different CID
    with store.write() as writer:
        writer.add_text(first, b"one", None)
    assert store.object_id(first) is not None
    assert store.object_id(twin) is None
    assert store.existing([first, twin]) == {first}


def test_search_index_is_rebuilt_when_its_tokens_change(tmp_path, author):
    path = tmp_path / "s.sqlite"
    store = Store(path)
    ingest(store, author.edit("Rebuilt", "東京 and kyiv\n"), "test")
    store.conn.execute("UPDATE meta SET value = 'older tokens' WHERE key = 'search'")
    store.close()
    again = Store(path)
    assert again.meta("search") != "older tokens"
    assert [p.title for p, _ in again.search("東京")] == ["Rebuilt"]
    assert [p.title for p, _ in again.search("kyiv")] == ["Rebuilt"]
    again.close()


def test_opening_a_store_does_not_wait_for_a_writer(tmp_path, author):
    import sqlite3
    import time

    path = tmp_path / "s.sqlite"
    Store(path).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    start = time.monotonic()
    reader = Store(path)
    assert reader.search("anything") == []
    assert time.monotonic() - start < 2
    writer.execute("ROLLBACK")
    reader.close()
    writer.close()


def test_revisions_with_every_optional_field_spelled_out_come_back_byte_for_byte(node, author):
    from wikipeer.fsck import fsck
    from wikipeer.model.block import encode_object
    from wikipeer.model.objects import build_page, build_text

    page, text = build_page(Page("w", 0, "Explicit")), build_text("x\n")
    first = author.edit("Explicit", "first\n", ts=1)
    ingest(node.store, first, "test")
    rev = encode_object({"t": "rev", "page": page.cid, "parents": [first[2].cid], "text": text.cid, "size": 2,
                         "ts": 2, "model": "wikitext", "comment": "", "minor": False, "origin": {},
                         "author": author.public})
    sig = build_signature(Signature(rev.cid, "author", author.public, sign(author.key, rev.cid, "author")))
    assert [s.state for s in ingest(node.store, [text, rev, sig], "test").statuses] == ["accepted"] * 3
    assert node.store.get_block(rev.cid) == rev
    assert fsck(node.store)[1] == []
    node.store.conn.execute("DELETE FROM parents")
    assert any("hash" in f.problem for f in fsck(node.store)[1])


def test_text_cache_is_bounded_by_bytes_not_count(tmp_path):
    """Reading a few hundred texts in turn again comes from memory: a cache of 256 texts missed every one
    (each miss decompresses the text's whole chain), although they took a few hundred KB."""
    path = tmp_path / "texts.sqlite"
    store = Store(path)
    texts = [f"text {n}: ".encode() + b"words " * 150 for n in range(400)]
    ids = []
    with store.write() as writer:
        for text in texts:
            ids.append(writer.add_text(compute_cid(text, RAW), text, ids[-1] if ids else None))
    store.close()
    store = Store(path)  # nothing in memory
    assert [store.text_bytes(i) for i in ids] == texts
    asked: list[str] = []
    store.conn.set_trace_callback(asked.append)
    assert [store.text_bytes(i) for i in ids] == texts
    assert [q for q in asked if "texts" in q] == []


@pytest.mark.sqlite_only  # SQLite's query plan
def test_existing_pages_looks_each_name_up_in_the_index(tmp_path):
    """Which linked pages exist is asked for every render: it must not read the whole wiki's page list
    (it did, and a first render on a million-page node took 0.9 s)."""
    store = Store(tmp_path / "s.sqlite")
    rows = [(n, "w" if n % 3 else "other", n % 2, f"Title {n}") for n in range(1, 301)]
    store.conn.executemany("INSERT INTO pages(id, wiki, ns, title) VALUES (?, ?, ?, ?)", rows)
    asked = [(n % 2, f"Title {n}") for n in range(1, 301, 2)] + [(0, "Missing"), (1, "Title 2")]
    expected = {(ns, title) for _, wiki, ns, title in rows if wiki == "w" and (ns, title) in set(asked)}
    assert store.existing_pages("w", asked) == expected and expected
    from wikipeer.store.store import _EXISTING_PAGES

    plan = store.conn.execute("EXPLAIN QUERY PLAN " + _EXISTING_PAGES.format("(?, ?)"), [0, "Title 2", "w"]).fetchall()
    steps = " / ".join(row[3] for row in plan)
    assert "wiki=? AND ns=? AND title=?" in steps, steps  # one index lookup a name, never a scan of the wiki
    store.close()


@pytest.mark.sqlite_only  # SQLite's query plan
def test_the_list_of_wikis_does_not_read_every_page(tmp_path):
    """Every web page lists the wikis: with 3,000 pages the query visits a few index entries per wiki, not all."""
    store = Store(tmp_path / "store.sqlite")
    try:
        with store.conn:  # rows of the page table alone: what the listing reads, without the objects behind them
            store.conn.executemany("INSERT INTO pages(id, wiki, ns, title) VALUES (?, ?, 0, ?)",
                                   [(i, ("enwiki", "jawiki", "ukwiki")[i % 3], f"Page {i}") for i in range(1, 3001)])
            store.conn.execute("INSERT INTO wikis VALUES ('configured', '{}')")
        steps = []
        store.conn.set_progress_handler(lambda: steps.append(1) and 0, 10)
        assert store.wikis() == ["configured", "enwiki", "jawiki", "ukwiki"]
        store.conn.set_progress_handler(None, 0)
        assert len(steps) * 10 < 1000, f"{len(steps) * 10} virtual machine steps: the listing reads every page"
    finally:
        store.close()
