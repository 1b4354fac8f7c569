"""The store's compact forms (issue 15, item 6): revision fields, trained text dictionaries, the schema 15 migration.

Every form is proven by its round trip: the block rebuilt from what is stored hashes to its CID.
"""

from __future__ import annotations

import hashlib
import lzma
import random
import sqlite3
from pathlib import Path

import libipld
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikipeer.errors import NotFound
from wikipeer.fsck import fsck
from wikipeer.ingest import ingest
from wikipeer.model.block import Block
from wikipeer.model.cid import DAG_CBOR, compute_cid
from wikipeer.model.media import sha1_base36
from wikipeer.model.objects import Page, Revision, build_page, build_revision, build_text
from wikipeer.store import revpack, store as store_module, textcodec
from wikipeer.store.schema import KIND_REV, SCHEMA_VERSION
from wikipeer.store.store import Store

from conftest import Author

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

FIXTURE = Path(__file__).parent / "data" / "store_schema14.sqlite.xz"
TEXT = b"the text of the revision"
KEY = "ed25519:" + "A" * 43

_strings = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_value = st.one_of(_strings, st.integers(-2**40, 2**40), st.booleans())
_origin = st.dictionaries(st.sampled_from(revpack.ORIGIN_KEYS) | _strings, _value, max_size=8)


@st.composite
def revision_fields(draw) -> dict:
    """A revision's non-link fields as a block may hold them: any field present or not, at its default or not."""
    obj = {"ts": draw(st.integers(0, 2**53)), "size": draw(st.integers(0, 2**31)),
           "model": draw(st.sampled_from(revpack.MODELS) | _strings)}
    optional = {"comment": _strings, "author": st.sampled_from([KEY, "ed25519:" + "B" * 43]), "minor": st.booleans(),
                "format": st.sampled_from(revpack.FORMATS) | _strings, "origin": _origin}
    for name, values in optional.items():
        if draw(st.booleans()):
            obj[name] = draw(values)
    origin = obj.get("origin")
    if origin is not None and draw(st.booleans()):
        origin["sha1"] = sha1_base36(hashlib.sha1(TEXT).hexdigest())  # the derived form
    if origin is not None and draw(st.booleans()):
        origin["rev_id"], origin["parent_id"] = draw(st.integers(0, 2**40)), draw(st.integers(0, 2**40))
    return obj


class Tables:
    """In-memory stand-ins for the keys and strings tables."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def id(self, value: str) -> int:
        return self.ids.setdefault(value, len(self.ids) + 1)

    def value(self, ident: int) -> str:
        return {v: k for k, v in self.ids.items()}[ident]


@given(revision_fields())
def test_compact_form_round_trips_every_revision_field(obj):
    tables = Tables()
    sha1 = lambda: hashlib.sha1(TEXT).digest()  # noqa: E731
    packed = revpack.pack(obj, revpack.Packer(tables.id, tables.id, sha1))
    assert packed.startswith(revpack.COMPACT)
    assert revpack.unpack(packed, obj["ts"], obj["size"], revpack.Unpacker(tables.value, tables.value, sha1)) == obj


def test_compact_form_is_small_for_an_imported_revision():
    obj = {"ts": 1, "size": 5000, "model": "wikitext", "format": "text/x-wiki", "comment": "edit 3 of page 7",
           "author": KEY, "origin": {"site": "benchwiki", "page_id": 8, "rev_id": 74, "parent_id": 73,
                                     "user": "Alice", "user_id": 1,
                                     "sha1": sha1_base36(hashlib.sha1(TEXT).hexdigest())}}
    tables = Tables()
    packed = revpack.pack(obj, revpack.Packer(tables.id, tables.id, lambda: hashlib.sha1(TEXT).digest()))
    whole = len(build_revision(Revision(b"\x01q\x12 " + bytes(32), (), b"\x01U\x12 " + bytes(32), 5000, 1,
                                        comment=obj["comment"], author=KEY, format="text/x-wiki",
                                        origin=obj["origin"])).data)
    assert len(packed) < 45 < whole - 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=revision_fields())
def test_store_rebuilds_every_revision_block_exactly(tmp_path_factory, obj):
    store = Store(tmp_path_factory.mktemp("s") / "s.sqlite")
    page = build_page(Page("w", 0, "P"))
    text = build_text(TEXT)
    fields = {k: v for k, v in obj.items() if k not in ("ts", "size")}
    rev_obj = {"t": "rev", "page": page.cid, "parents": [], "text": text.cid, "ts": obj["ts"], "size": obj["size"],
               **fields}
    data = libipld.encode_dag_cbor(rev_obj)
    block = Block(compute_cid(data, DAG_CBOR), data)
    rev = Revision(page.cid, (), text.cid, obj["size"], obj["ts"], origin=obj.get("origin", {}))
    with store.write() as writer:
        page_id = writer.add_page(page, Page("w", 0, "P"))
        text_id = writer.add_text(text.cid, text.data, None, "w")
        writer.add_revision(block, rev, page_id, text_id, [])
    assert store.get_block(block.cid) == block
    reopened = Store(store.path)
    assert reopened.get_block(block.cid) == block
    info = reopened.revision(block.cid)
    assert (info.comment, info.author, info.origin) == (obj.get("comment", ""), obj.get("author"), obj.get("origin", {}))


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["".join(rng.choice("aeioukltmnrs") for _ in range(rng.randint(2, 8))) for _ in range(300)]
    return [" ".join(rng.choices(words, k=300)) + f"\n\n== Section {i} ==\n{{{{Infobox|name={i}}}}}\n"
            for i in range(n)]


def _import(store: Store, author: Author, wiki: str, texts: list[str], first: int) -> None:
    for n, text in enumerate(texts):
        report = ingest(store, author.edit(f"Page {first + n}", text, wiki=wiki), "test")
        assert report.counts()["accepted"] == 4, report


def test_first_texts_are_compressed_with_a_dictionary_trained_per_wiki_and_stay_readable_after_retraining(
        tmp_path, author, monkeypatch):
    monkeypatch.setattr(store_module, "TRAIN_AFTER", 20)
    monkeypatch.setattr(store_module, "RETRAIN_GROWTH", 2)
    store = Store(tmp_path / "s.sqlite")
    texts = _texts(50, 1)
    _import(store, author, "w", texts[:25], 0)
    dicts = store.conn.execute("SELECT id, wiki, texts FROM text_dicts").fetchall()
    assert dicts == [(1, "w", 20)]
    # At the first training, the texts stored before it were compressed again with it: none is left without.
    assert store.conn.execute("SELECT count(*) FROM texts WHERE dict IS NULL").fetchone()[0] == 0
    trained = store.conn.execute("SELECT sum(length(data)) FROM texts").fetchone()[0]
    plain = sum(len(textcodec.compress(t.encode(), None)) for t in texts[:25])
    assert trained < 0.8 * plain
    _import(store, author, "w", texts[25:], 25)
    assert [r[0] for r in store.conn.execute("SELECT texts FROM text_dicts WHERE wiki = 'w' ORDER BY id")] == [20, 40]
    by_dict = dict(store.conn.execute("SELECT dict, count(*) FROM texts GROUP BY dict"))
    assert by_dict == {1: 39, 2: 11}  # texts keep the dictionary they were compressed with
    # Another wiki has no dictionary until its own texts train one.
    _import(store, author, "other", _texts(3, 2), 0)
    assert store.conn.execute("SELECT count(*) FROM text_dicts WHERE wiki = 'other'").fetchone()[0] == 0
    reopened = Store(store.path)
    for n, text in enumerate(texts):
        page = reopened.page("w", 0, f"Page {n}")
        assert reopened.revision_text(reopened.heads(page.id)[0]) == text
    checked, faults = fsck(reopened)
    assert checked == 4 * 53 and faults == []


def test_fsck_names_a_text_whose_dictionary_is_missing(tmp_path, author, monkeypatch):
    monkeypatch.setattr(store_module, "TRAIN_AFTER", 10)
    store = Store(tmp_path / "s.sqlite")
    _import(store, author, "w", _texts(12, 3), 0)
    with store.conn:
        store.conn.execute("DELETE FROM text_dicts")
    _, faults = fsck(Store(store.path))
    assert any("missing dictionary" in f.problem for f in faults)
    assert any("cannot be read back" in f.problem for f in faults)


def test_textcodec_dictionary_round_trip_and_refusal_to_train_on_too_little():
    texts = [t.encode() for t in _texts(40, 4)]
    dictionary = textcodec.train(texts)
    assert dictionary is not None
    for text in texts[:5]:
        assert textcodec.decompress(textcodec.compress(text, None, dictionary), None, dictionary) == text
    assert textcodec.train(texts[:3]) is None  # too few samples: texts stay plain


def _old_store(tmp_path: Path) -> Path:
    path = tmp_path / "old" / "store.sqlite"
    path.parent.mkdir()
    path.write_bytes(lzma.decompress(FIXTURE.read_bytes()))
    return path


@pytest.mark.sqlite_only  # the schema-14 store is a SQLite file; PostgreSQL stores began at a later schema
def test_migration_of_a_schema_14_store_gives_the_same_blocks(tmp_path):
    path = _old_store(tmp_path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "14"
    forms = {row[0] for row in conn.execute("SELECT substr(data, 1, 1) FROM objects WHERE kind = ?", (KIND_REV,))}
    assert forms == {b"\x00", b"\xa9"}  # the packed map and one whole block
    cids = [r[0] for r in conn.execute("SELECT cid FROM objects ORDER BY id")]
    old_size = sum(len(r[0]) for r in conn.execute("SELECT data FROM objects WHERE kind = ?", (KIND_REV,)))
    conn.close()

    store = Store(path)
    assert store.meta("schema") == SCHEMA_VERSION
    assert {r[0] for r in store.conn.execute(
        "SELECT substr(data, 1, 1) FROM objects WHERE kind = ?", (KIND_REV,))} == {revpack.COMPACT}
    new_size = sum(len(r[0]) for r in store.conn.execute("SELECT data FROM objects WHERE kind = ?", (KIND_REV,)))
    assert new_size < old_size / 2
    blocks = [block for _, block in store.iter_objects()]
    assert [b.cid for b in blocks] == cids
    for block in blocks:  # the round trip is the proof: every rebuilt block hashes to its CID
        assert compute_cid(block.data, block.codec) == block.cid
    checked, faults = fsck(store)
    assert checked == len(cids) and faults == []
    # The import provenance reads as it was: by its site's revision id, with its derived SHA-1.
    cid = store.origin_revision("testwiki", 102)
    assert cid is not None
    rev = store.revision(cid)
    assert rev.origin["rev_id"] == 102 and rev.origin["parent_id"] == 101 and rev.origin["ip"] == "192.0.2.7"
    assert rev.origin["sha1"] == sha1_base36(hashlib.sha1(store.revision_text(rev).encode()).hexdigest())
    assert store.conn.execute("SELECT typeof(site) FROM origins").fetchall() == [("integer",)] * 4


@pytest.mark.sqlite_only  # as above: the migrated store is the schema-14 SQLite file
def test_migrated_store_takes_new_edits_and_reopens(tmp_path, author):
    path = _old_store(tmp_path)
    Store(path).close()
    store = Store(path)  # a second open finds schema 15 and migrates nothing
    report = ingest(store, author.edit("After", "a new page after the migration"), "test")
    assert report.counts()["accepted"] == 4
    assert fsck(store)[1] == []



@given(st.integers(0, 2**160 - 1))
def test_derived_sha1_is_written_as_mediawiki_writes_it(value):
    assert revpack._base36(value) == sha1_base36(f"{value:040x}")


def test_names_read_in_a_rolled_back_transaction_are_forgotten(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError):
        with store.write() as writer:
            key_id, string_id = writer.key_id(KEY), writer.string_id("first.example.org")
            assert (store.key_name(key_id), store.string(string_id)) == (KEY, "first.example.org")
            raise RuntimeError("roll back")
    with pytest.raises(NotFound):
        store.key_name(key_id)
    with pytest.raises(NotFound):
        store.string(string_id)
    other = "ed25519:" + "B" * 43
    with store.write() as writer:  # SQLite hands the same ids out again; PostgreSQL's sequences go on
        ids = writer.key_id(other), writer.string_id("second.example.org")
    assert (store.key_name(ids[0]), store.string(ids[1])) == (other, "second.example.org")
