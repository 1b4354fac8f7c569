"""The store chooses a page's shown head in SQL exactly as View.choose does over every head read in full.

Histories are generated (hypothesis): pages created, edited, forked into
several heads at equal or different times, heads seconded by other keys;
views trusting none, some or all of the keys, and keys the store has never
seen. The SQL path (Store.shown_head, ordered_heads, shown_head_ids) is
compared with the reference ``View.choose(store.heads(page))``.
"""

from __future__ import annotations

from pathlib import Path

import nacl.signing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikipeer.authoring import edit_blocks
from wikipeer.ingest import ingest
from wikipeer.model.block import Block
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import Page, Signature, build_signature
from wikipeer.policy.view import View
from wikipeer.store.store import Store

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

KEYS = [nacl.signing.SigningKey(bytes([i + 1]) * 32) for i in range(6)]
NAMES = [key_to_str(bytes(k.verify_key)) for k in KEYS]
STRANGER = key_to_str(bytes(nacl.signing.SigningKey(b"\x99" * 32).verify_key))  # signs nothing here

# One page: its creation's author, then edits/forks: (parent index or None for the newest,
# author, time step (0: same time as the parent), seconders).
edit_st = st.tuples(st.one_of(st.none(), st.integers(0, 5)), st.integers(0, 5), st.sampled_from([0, 0, 1, 7]),
                    st.lists(st.integers(0, 5), max_size=2, unique=True))
page_st = st.tuples(st.integers(0, 5), st.lists(edit_st, max_size=5))
views_st = st.lists(st.frozensets(st.sampled_from([*NAMES, STRANGER]), max_size=4), min_size=1, max_size=3)


def _page_blocks(n: int, author: int, edits: list) -> list[Block]:
    page = Page("w", 0, f"Page {n}")
    ts = 1_700_000_000_000
    blocks = edit_blocks(page, f"text of {n}", (), "new", KEYS[author], NAMES[author], ts)
    revs = [(blocks[2].cid, ts)]
    for i, (parent, who, step, seconders) in enumerate(edits):
        parent_cid, parent_ts = revs[-1] if parent is None else revs[min(parent, len(revs) - 1)]
        when = parent_ts + step
        new = edit_blocks(page, f"text of {n}, edit {i} by {who}", (parent_cid,), "e", KEYS[who], NAMES[who], when)
        blocks += new[1:]
        revs.append((new[2].cid, when))
        for s in seconders:
            blocks.append(build_signature(Signature(new[2].cid, "second", NAMES[s], sign(KEYS[s], new[2].cid, "second"), when)))
    return blocks


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shown")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.lists(page_st, min_size=1, max_size=4), views=views_st, data=st.data())
def test_sql_choice_equals_view_choose(base: Path, pages: list, views: list, data: st.DataObject) -> None:
    path = base / f"s{data.draw(st.integers(0, 10**12))}.sqlite"
    store = Store(path)
    try:
        blocks = [b for n, (author, edits) in enumerate(pages) for b in _page_blocks(n, author, edits)]
        report = ingest(store, blocks, "test")
        assert not report.counts().get("rejected"), report.counts()
        page_ids = [r[0] for r in store.conn.execute("SELECT id FROM pages ORDER BY id")]
        for trusted in views:
            view = View(trusted)
            expected = {p: view.choose(store.heads(p)) for p in page_ids}
            for p in page_ids:
                got = store.shown_head(p, trusted)
                assert got is not None and got.id == expected[p].id
                assert got == expected[p]  # the whole record, signatures included
                assert [h.id for h in store.ordered_heads(p, trusted)] == [h.id for h in view.order(store.heads(p))]
            assert store.shown_head_ids(trusted) == {p: h.id for p, h in expected.items()}
            assert store.shown_head_ids(trusted, page_ids[:2]) == {p: expected[p].id for p in page_ids[:2]}
    finally:
        store.close()
        for f in base.glob(path.name + "*"):
            f.unlink()


def test_a_trusted_key_arriving_later_counts_from_then(tmp_path: Path) -> None:
    """A view trusting a key the store has not seen yet: once that key signs a head, that head wins."""
    store = Store(tmp_path / "s.sqlite")
    page = Page("w", 0, "P")
    first = edit_blocks(page, "a", (), "new", KEYS[0], NAMES[0], 1000)
    ingest(store, first, "test")
    trusted = frozenset([NAMES[5]])
    page_id = store.conn.execute("SELECT id FROM pages").fetchone()[0]
    assert store.shown_head(page_id, trusted).cid == first[2].cid  # loads the view's keys: NAMES[5] unknown
    older = edit_blocks(page, "b", (first[2].cid,), "e", KEYS[5], NAMES[5], 1001)
    newer = edit_blocks(page, "c", (first[2].cid,), "e", KEYS[1], NAMES[1], 5000)
    ingest(store, older[1:] + newer[1:], "test")
    assert store.shown_head(page_id, trusted).cid == older[2].cid  # trusted beats newer
    assert store.shown_head(page_id, frozenset()).cid == newer[2].cid
    store.close()


def test_a_rolled_back_transaction_does_not_leave_the_view_keys_stale(tmp_path: Path) -> None:
    """The view's key ids filled inside a transaction that rolls back are filled again next time."""
    store = Store(tmp_path / "s.sqlite")
    page = Page("w", 0, "P")
    first = edit_blocks(page, "a", (), "new", KEYS[0], NAMES[0], 1000)
    fork = edit_blocks(page, "b", (first[2].cid,), "e", KEYS[2], NAMES[2], 1001)
    later = edit_blocks(page, "c", (first[2].cid,), "e", KEYS[1], NAMES[1], 9000)
    ingest(store, first + fork[1:] + later[1:], "test")
    page_id = store.conn.execute("SELECT id FROM pages").fetchone()[0]
    trusted = frozenset([NAMES[2]])
    with pytest.raises(RuntimeError):
        with store.write():
            assert store.shown_head(page_id, trusted).cid == fork[2].cid
            raise RuntimeError("roll back")
    assert store.shown_head(page_id, trusted).cid == fork[2].cid
    store.close()


def test_view_tables_made_in_a_rolled_back_transaction_are_made_again(tmp_path: Path) -> None:
    """The connection's first choice happens inside a transaction that rolls back: the next one still works."""
    path = tmp_path / "s.sqlite"
    store = Store(path)
    page = Page("w", 0, "P")
    first = edit_blocks(page, "a", (), "new", KEYS[0], NAMES[0], 1000)
    fork = edit_blocks(page, "b", (first[2].cid,), "e", KEYS[2], NAMES[2], 1001)
    newer = edit_blocks(page, "c", (first[2].cid,), "e", KEYS[3], NAMES[3], 5000)
    ingest(store, first + fork[1:] + newer[1:], "test")
    store.close()
    store = Store(path)  # a new connection: no view tables yet
    page_id = store.conn.execute("SELECT id FROM pages").fetchone()[0]
    trusted = frozenset([NAMES[2]])
    with pytest.raises(RuntimeError):
        with store.write():
            assert store.shown_head(page_id, trusted).cid == fork[2].cid
            raise RuntimeError("roll back")
    assert store.shown_head(page_id, trusted).cid == fork[2].cid
    assert store.shown_head_ids(trusted) == {page_id: store.object_id(fork[2].cid)}
    assert store.shown_head(page_id, frozenset()).cid == newer[2].cid
    store.close()
