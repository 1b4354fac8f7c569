"""The pipeline (wikipeer.pipeline): order kept, the same verdicts as the door alone, dead workers reported."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import libipld
import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikipeer.ingest import ingest
from wikipeer.model.block import Block, encode_object
from wikipeer.model.cid import DAG_CBOR, cid_to_str, compute_cid
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import Page, Revision, Signature, build_page, build_revision, build_signature, build_text
from wikipeer.pipeline.feed import _job, prepare_batch, prepared_batches
from wikipeer.pipeline.pool import Job, Pool, WorkerDied
from wikipeer.pipeline.prepared import prepare, prepare_job
from wikipeer.model.title import WikiConfig
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.store.store import Store

from pipeline_jobs import die_on, slow_square
from store_digest import store_digest

KEY = nacl.signing.SigningKey(bytes([3]) * 32)
PUBLIC = key_to_str(KEY.verify_key.encode())
FORGER = nacl.signing.SigningKey(bytes([9]) * 32)


@pytest.fixture(scope="module")
def pool():
    pool = Pool(workers=3)
    yield pool
    pool.close()


def _history(title: str, revisions: int, wiki: str = "w") -> list[Block]:
    """[page, then text, rev, sig per revision] of a page's signed history."""
    page = build_page(Page(wiki, 0, title))
    blocks = [page]
    parent: tuple[bytes, ...] = ()
    for number in range(revisions):
        text = build_text(f"{title} text {number}\n" * (1 + number % 7))
        rev = build_revision(Revision(page.cid, parent, text.cid, len(text.data), 1000 + number, comment="c",
                                      author=PUBLIC))
        sig = build_signature(Signature(rev.cid, "author", PUBLIC, sign(KEY, rev.cid, "author")))
        blocks += [text, rev, sig]
        parent = (rev.cid,)
    return blocks


def _bad(kind: str, title: str) -> list[Block]:
    """An edit with one bad part of ``kind``."""
    page, text, rev, sig = _history(title, 1)
    if kind == "forged signature":
        sig = build_signature(Signature(rev.cid, "author", PUBLIC, sign(FORGER, rev.cid, "author")))
    elif kind == "bad CID":
        data = bytearray(text.data)
        data[0] ^= 1
        text = Block(text.cid, bytes(data))
    elif kind == "non-canonical":
        # The same page map with its keys in the wrong order: a valid CID for bytes that are not canonical.
        obj = libipld.decode_dag_cbor(page.data)
        data = b"\xa4" + b"".join(_cbor_str(k) + _cbor_value(obj[k]) for k in sorted(obj, reverse=True))
        page = Block(compute_cid(data, DAG_CBOR), data)
    elif kind == "schema error":
        fields = libipld.decode_dag_cbor(rev.data)
        del fields["ts"]
        rev = encode_object(fields)
        sig = build_signature(Signature(rev.cid, "author", PUBLIC, sign(KEY, rev.cid, "author")))
    return [page, text, rev, sig]


def _cbor_str(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 24
    return bytes([0x60 + len(data)]) + data


def _cbor_value(value: object) -> bytes:
    if isinstance(value, str):
        return _cbor_str(value)
    assert isinstance(value, int) and 0 <= value < 24
    return bytes([value])


BAD = ["forged signature", "bad CID", "non-canonical", "schema error"]


def test_results_come_back_in_the_order_given_whatever_order_they_finish_in(pool):
    pauses = [0.4, 0.0, 0.25, 0.0, 0.1, 0.3, 0.0, 0.05]
    jobs = [Job(slow_square, (n, pause), str, f"job {n}", n) for n, pause in enumerate(pauses)]
    results = list(pool.ordered(iter(jobs), ahead=4))
    assert [job.tag for job, _ in results] == list(range(len(pauses)))
    assert [value for _, value in results] == [n * n for n in range(len(pauses))]


def test_prepared_batches_keep_their_order_with_uneven_batches(pool):
    sizes = [60, 1, 35, 2, 80, 5, 20]
    batches = [_history(f"Page {i}", size) for i, size in enumerate(sizes)]
    out = list(prepared_batches(iter(batches), MAX_TEXT, "test", pool=pool))
    assert [batch for batch, _ in out] == batches
    for batch, prepared in out:
        assert prepared is not None and prepared.fits(batch, MAX_TEXT)
        assert _comparable(prepared.records) == _comparable(prepare(batch, MAX_TEXT).records)
        assert len(prepared.verified) == (len(batch) - 1) // 3


def test_a_lone_small_batch_is_checked_in_this_process():
    batch = _history("Small", 3)
    assert list(prepared_batches(iter([batch]), MAX_TEXT, "test")) == [(batch, None)]
    assert prepare_batch(batch, MAX_TEXT, "test") is None


def _statuses(report) -> list[tuple]:
    return [(s.cid, s.state, s.reason, s.forged) for s in report.statuses]


@settings(max_examples=25)
@given(st.lists(st.sampled_from(["good", "good", *BAD]), min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_refusals_are_the_same_as_the_door_alone(pool, kinds, rng):
    """The same statuses, reasons and store, whether the workers checked a batch or the door did."""
    blocks = [b for n, kind in enumerate(kinds)
              for b in (_history(f"Good {n}", 1 + n % 3) if kind == "good" else _bad(kind, f"Bad {n}"))]
    rng.shuffle(blocks)
    with tempfile.TemporaryDirectory() as tmp:
        alone, piped = Store(Path(tmp) / "alone.sqlite"), Store(Path(tmp) / "piped.sqlite")
        for store in (alone, piped):
            store.set_wiki_config(WikiConfig("w"))
        expected = ingest(alone, blocks, "test")
        [(_, prepared)] = list(pool.ordered([_job(blocks, MAX_TEXT, "test")]))
        prepared.blocks = blocks
        got = ingest(piped, blocks, "test", prepared=prepared)
        assert _statuses(got) == _statuses(expected)
        alone.close()
        piped.close()
        assert store_digest(Path(tmp) / "piped.sqlite") == store_digest(Path(tmp) / "alone.sqlite")


def test_every_kind_of_bad_block_is_refused_through_the_workers(pool):
    for kind in BAD:
        blocks = _bad(kind, "Bad")
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "s.sqlite")
            many = blocks * 1300  # big enough for the workers
            prepared = prepare_batch(many, MAX_TEXT, "test", pool=pool)
            report = ingest(store, many, "test", prepared=prepared)
            assert prepared is not None
            assert not [s for s in report.statuses[:4] if s.state == "accepted" and s.cid == blocks[2].cid], kind
            assert any(s.state == "rejected" for s in report.statuses[:4]), kind
            store.close()


def test_results_computed_for_other_blocks_are_not_used(pool):
    """The door uses a worker's results only for the very block objects they were computed for."""
    good = _history("Good", 2)
    forged = _bad("forged signature", "Good")
    prepared = prepare(good, MAX_TEXT)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.sqlite")
        store.set_wiki_config(WikiConfig("w"))
        report = ingest(store, forged, "test", prepared=prepared)
        assert report.statuses[3].state == "rejected" and report.statuses[3].forged
        store.close()


def test_a_worker_that_dies_on_an_item_is_reported_naming_it(pool):
    items = [f"item {n}" for n in range(50)]
    jobs = [Job(die_on, (items, "nothing"), lambda i: items[i], "first", 0),
            Job(die_on, (items, "item 37"), lambda i: f"{items[i]} of the second job", "second", 1)]
    got = []
    with pytest.raises(WorkerDied, match="on item 37 of the second job"):
        for job, result in pool.ordered(iter(jobs)):
            got.append((job.tag, result))
    # The first job's result comes back only if it finished before the pool broke (timing): never a
    # result of the job that died, nor anything out of order.
    assert got in ([], [(0, 50)])
    # The pool starts again for the next caller.
    assert [r for _, r in pool.ordered([Job(slow_square, (3, 0), str, "again")])] == [9]


def test_a_block_job_names_the_block_and_its_source():
    blocks = _history("Named", 2)
    job = _job(blocks, MAX_TEXT, "bundle:x.car")
    assert job.describe(2) == f"block {cid_to_str(blocks[2].cid)} from bundle:x.car"


def _comparable(records: list) -> list:
    return [(type(r).__name__, str(r)) if isinstance(r, Exception) else r for r in records]


def test_a_worker_prepares_exactly_what_the_door_would_compute():
    blocks = _history("Same", 20) + _bad("bad CID", "Other")
    random.Random(5).shuffle(blocks)
    prepared = prepare_job(blocks, MAX_TEXT)
    assert prepared.blocks == []
    alone = prepare(blocks, MAX_TEXT)
    assert _comparable(prepared.records) == _comparable(alone.records) and prepared.verified == alone.verified
    assert prepared.packed == alone.packed and prepared.packed


def test_a_pull_reads_the_next_log_page_while_the_last_is_stored(tmp_path, monkeypatch):
    """The request for log page k+1 goes out before page k is stored, and the cursor still only moves
    past pages that are in: the pull ends with everything, in the source's log order."""
    from conftest import start_server, stop_server

    from wikipeer.net import client as client_module
    from wikipeer.net import sync as sync_module
    from wikipeer.node import Node
    from wikipeer.store.peers import PeerBook

    source = Node.init(tmp_path / "source")
    source.wiki("w")
    blocks = [b for n in range(12) for b in _history(f"Paged {n}", 3)]
    assert source.ingest(blocks, "local").counts()["rejected"] == 0
    source.close()
    events: list[tuple[str, int]] = []
    log = client_module.PeerClient.log
    take_from = sync_module._take_from

    def logged_log(self, since, *args, **kwargs):
        events.append(("request", since))
        return log(self, since, *args, **kwargs)

    def slow_take(node, peers, url, page_blocks, result):
        events.append(("store", len(events)))
        take_from(node, peers, url, page_blocks, result)
        time.sleep(0.3)  # a slow writer: the next page is read meanwhile
        events.append(("stored", len(events)))

    monkeypatch.setattr(client_module.PeerClient, "log", logged_log)
    monkeypatch.setattr(sync_module, "_take_from", slow_take)
    monkeypatch.setattr(sync_module, "LOG_LIMIT", 40)
    proc, client = start_server(tmp_path / "source")
    target = Node.init(tmp_path / "target")
    try:
        url = str(client.base_url).rstrip("/")
        PeerBook(target.store).add(url)
        sync_module.sync(target, url, do_push=False)
        kinds = [kind for kind, _ in events]
        requests = kinds.count("request")
        assert requests >= 3, events
        # After the first page, each next request goes out while a page is being stored.
        first_store = kinds.index("store")
        overlapped = [i for i, kind in enumerate(kinds) if kind == "request" and i > first_store
                      and kinds[:i].count("store") > kinds[:i].count("stored")]
        assert overlapped, events
    finally:
        stop_server(proc, client)
    target.close()
    source_digest = store_digest(tmp_path / "source" / "store.sqlite")
    target_digest = store_digest(tmp_path / "target" / "store.sqlite")
    assert target_digest.log == source_digest.log and target_digest.heads == source_digest.heads
    assert target_digest.held == 0 and target_digest.faults == ()


def test_the_job_a_worker_died_on_is_found_among_those_in_flight():
    """A broken pool fails every job in flight, and the dead worker may have held any of them:
    each is run again alone, in order, until one dies."""
    items = [f"item {n}" for n in range(30)]
    jobs = [Job(slow_square, (2, 0.0), str, "the first job", 0),
            Job(die_on, (items, "item 12"), lambda i: f"{items[i]} of the second job", "the second job", 1)]
    died = Pool._culprit(jobs)
    assert died.item == "item 12 of the second job" and "killed by signal 9" in str(died)
    alone = Pool._culprit(jobs[:1])
    assert alone.item is None and "did not die" in str(alone)
