"""Taking a stream in batches: a batch never ends between a revision and its signature."""

from __future__ import annotations

from conftest import Author
from wikipeer.net.receive import batches, take
from wikipeer.store.schema import KIND_SIG


def _chain(author: Author, n: int) -> list:
    blocks, parents = [], ()
    for i in range(n):
        edit = author.edit("Chain", f"text {i}\n", parents=parents, ts=1_000 + i)
        blocks += edit
        parents = (edit[2].cid,)
    return blocks


def test_a_batch_never_starts_with_a_signature(node, author: Author):
    blocks = _chain(author, 30)
    for size in range(1, 12):
        cut = list(batches(blocks, size))
        assert [b for batch in cut for b in batch] == blocks
        assert all(batch[0].data[1:7] != b"\x61t\x63sig" for batch in cut[1:])


def test_small_batches_lose_nothing_and_index_each_page_once(node, author: Author):
    blocks = _chain(author, 30)
    # Three blocks a batch would end right after each revision, before its signature.
    tally = take(node, iter(blocks), "peer", batch_size=3)
    assert tally.rejected == 0 and tally.accepted == len({b.cid for b in blocks})  # the page block repeats
    assert [row.title for row, _ in node.store.search("text 29")] == ["Chain"]
    assert node.store.conn.execute("SELECT count(*) FROM index_pending").fetchone()[0] == 0


def test_a_page_of_the_log_runs_on_over_the_signatures_after_it(node, author: Author):
    from wikipeer.store import log

    node.ingest(_chain(author, 10), "local")
    everything = log.positions(node.store, 0, 10_000)
    for limit in range(1, 9):
        pages, since = [], 0
        while page := log.positions(node.store, since, limit):
            pages.append(page)
            since = page[-1]
        assert [i for page in pages for i in page] == everything  # nothing skipped, nothing twice
        firsts = [page[0] for page in pages[1:]]
        kinds = dict(node.store.conn.execute("SELECT id, kind FROM objects"))
        assert KIND_SIG not in {kinds[i] for i in firsts}  # no page starts with a signature


def test_held_counts_only_what_is_still_held_when_the_stream_ends(node, author: Author):
    """Issue 11: a block held in one batch and released by the next was still counted "held"."""
    blocks = _chain(author, 4)
    edits = [blocks[i:i + 4] for i in range(0, 16, 4)]  # page, text, rev, sig of each edit
    # The second edit before its parent (released by the next batch); the fourth without its parent (stays held).
    stream = edits[1] + edits[0] + edits[3]
    tally = take(node, iter(stream), "peer", batch_size=4)
    waiting, _ = node.store.held_by("peer")
    assert waiting > 0 and tally.held == waiting, (tally.held, waiting)
    assert tally.accepted == len(node.store.existing(list({b.cid for b in stream})))
    assert tally.accepted + tally.held + tally.duplicates >= len({b.cid for b in stream})
