"""The object model: CIDs, canonical DAG-CBOR, schemas, titles, signatures."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys

import libipld
import nacl.signing
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block, check_block, decode_object, encode_object, raw_block
from wikipeer.model.cid import DAG_CBOR, RAW, cid_from_str, cid_to_str, compute_cid
from wikipeer.model.keys import ROLES, key_from_str, key_to_str, sign, verify
from wikipeer.model.objects import (
    Page, Profile, Revision, Signature, Text, build_page, build_profile, build_revision, build_signature,
    build_text, parse,
)
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title

MAX_TEXT = 4 << 20
SEED = bytes(range(32))
SIGNER = nacl.signing.SigningKey(SEED)
PUB = key_to_str(bytes(SIGNER.verify_key))


def b32_cid(cid: bytes) -> str:
    """The multibase base32 form, computed without libipld."""
    return "b" + base64.b32encode(cid).decode().lower().rstrip("=")


def cbor_text(s: str) -> bytes:
    data = s.encode()
    assert len(data) < 24
    return bytes([0x60 + len(data)]) + data


# -- CIDs -------------------------------------------------------------------------


def test_cid_known_answers():
    # The empty raw block and the empty DAG-CBOR map have well-known CIDs.
    assert cid_to_str(compute_cid(b"", RAW)) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert cid_to_str(compute_cid(b"\xa0", DAG_CBOR)) == "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua"
    data = b"hello wikipeer"
    cid = compute_cid(data, RAW)
    assert cid == bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    assert cid_to_str(cid) == b32_cid(cid)
    assert raw_block(data).cid == cid


def test_page_guid_is_the_hash_of_hand_encoded_canonical_cbor():
    # Keys sorted by length then bytes: t, ns, wiki, title.
    expected = (b"\xa4" + cbor_text("t") + cbor_text("page") + cbor_text("ns") + b"\x00"
                + cbor_text("wiki") + cbor_text("wikipeer") + cbor_text("title") + cbor_text("Main Page"))
    block = build_page(Page("wikipeer", 0, "Main Page"))
    assert block.data == expected
    assert block.cid == bytes([0x01, 0x71, 0x12, 0x20]) + hashlib.sha256(expected).digest()
    assert str(block) == "bafyreifovpll7zac7qin6avovqcytaij62f73i2clyftzxtn4jg7bp24ga"


_STABLE_SCRIPT = r"""
import json, nacl.signing
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import *
k = nacl.signing.SigningKey(bytes(range(32)))
pub = key_to_str(bytes(k.verify_key))
page = build_page(Page("wikipeer", 0, "Main Page"))
text = build_text("Grüße, 世界\n")
rev = build_revision(Revision(page.cid, (), text.cid, len(text.data), 1767225600000, comment="first",
                              author=pub, origin={"site": "x", "id": 7}))
sig = build_signature(Signature(rev.cid, "author", pub, sign(k, rev.cid, "author")))
prof = build_profile(Profile(pub, "Ada", 5, "about"))
print(json.dumps([cid_to_str(b.cid) for b in (page, text, rev, sig, prof)]))
"""


def _stable_cids_here() -> list[str]:
    page = build_page(Page("wikipeer", 0, "Main Page"))
    text = build_text("Grüße, 世界\n")
    rev = build_revision(Revision(page.cid, (), text.cid, len(text.data), 1767225600000, comment="first",
                                  author=PUB, origin={"site": "x", "id": 7}))
    sig = build_signature(Signature(rev.cid, "author", PUB, sign(SIGNER, rev.cid, "author")))
    prof = build_profile(Profile(PUB, "Ada", 5, "about"))
    return [cid_to_str(b.cid) for b in (page, text, rev, sig, prof)]


def test_cids_are_stable_across_processes():
    here = _stable_cids_here()
    runs = []
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", _STABLE_SCRIPT], capture_output=True, text=True, env=env,
                              timeout=60, check=True)
        runs.append(json.loads(proc.stdout))
    assert all(run == here for run in runs)
    assert here[0] == "bafyreifovpll7zac7qin6avovqcytaij62f73i2clyftzxtn4jg7bp24ga"
    assert here[1].startswith("bafk") and all(c.startswith("bafy") for c in here[:1] + here[2:])


@given(st.binary(max_size=200), st.sampled_from([RAW, DAG_CBOR]))
def test_cid_string_round_trip(data, codec):
    cid = compute_cid(data, codec)
    text = cid_to_str(cid)
    assert text == b32_cid(cid)
    assert cid_from_str(text) == cid
    assert cid_from_str(f"  {text}\n") == cid


@pytest.mark.parametrize("text", [
    "", "hello", "bafyrei", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",  # CIDv0 (sha2 but dag-pb, v0)
    cid_to_str(bytes([1, 0x55, 0x13, 0x40]) + hashlib.sha512(b"").digest()),  # sha2-512
    cid_to_str(bytes([1, 0x70, 0x12, 0x20]) + hashlib.sha256(b"").digest()),  # dag-pb codec
])
def test_cid_from_str_rejects_what_is_not_ours(text):
    with pytest.raises(InvalidObject):
        cid_from_str(text)


def test_cid_from_str_rejects_a_cid_with_a_multibyte_codec():
    dag_json = "baguqeera4oymiquy7qobjgx36tejs35zeqt24qpemsnzgtfeswmrw6csxbkq"
    with pytest.raises(InvalidObject):
        cid_from_str(dag_json)


# -- blocks and canonical encoding -------------------------------------------------


def _block_of(data: bytes) -> Block:
    """Name arbitrary bytes as a DAG-CBOR block (so only the canonical check can object)."""
    return Block(compute_cid(data, DAG_CBOR), data)


def test_check_block_catches_one_changed_byte():
    block = build_page(Page("w", 0, "Foo"))
    check_block(block)
    for i in range(len(block.data)):
        data = bytearray(block.data)
        data[i] ^= 0x01
        with pytest.raises(InvalidObject, match="tampered"):
            check_block(Block(block.cid, bytes(data)))
        with pytest.raises(InvalidObject):
            parse(Block(block.cid, bytes(data)), MAX_TEXT)


def test_unsorted_map_keys_are_rejected():
    good = build_page(Page("w", 0, "Foo"))
    decode_object(good)
    # The same four pairs with 'title' before 'ns': valid CBOR, not canonical DAG-CBOR.
    bad = (b"\xa4" + cbor_text("t") + cbor_text("page") + cbor_text("title") + cbor_text("Foo")
           + cbor_text("ns") + b"\x00" + cbor_text("wiki") + cbor_text("w"))
    assert sorted(bad) == sorted(good.data) and bad != good.data
    with pytest.raises(InvalidObject, match="(?i)non-canonical|sorted"):
        decode_object(_block_of(bad))
    with pytest.raises(InvalidObject, match="(?i)non-canonical|sorted"):
        parse(_block_of(bad), MAX_TEXT)


def test_non_minimal_integer_is_rejected():
    # ns = 0 written as a one-byte-argument integer (0x18 0x00) instead of 0x00.
    bad = (b"\xa4" + cbor_text("t") + cbor_text("page") + cbor_text("ns") + b"\x18\x00"
           + cbor_text("wiki") + cbor_text("w") + cbor_text("title") + cbor_text("Foo"))
    with pytest.raises(InvalidObject):
        parse(_block_of(bad), MAX_TEXT)


def test_link_smuggled_as_plain_bytes_is_rejected():
    page = build_page(Page("w", 0, "Foo"))
    text = build_text("x")
    good = build_revision(Revision(page.cid, (), text.cid, 1, 5, author=PUB))
    assert isinstance(parse(good, MAX_TEXT), Revision)
    # Re-write the 'page' link (tag 42, 0x00 prefix) as a plain 36-byte byte string.
    link = b"\xd8\x2a\x58\x25\x00" + page.cid
    assert good.data.count(link) == 1
    bad = good.data.replace(link, b"\x58\x24" + page.cid)
    assert libipld.decode_dag_cbor(bad)["page"] == page.cid  # decodes to the same bytes ...
    with pytest.raises(InvalidObject, match="non-canonical"):  # ... but is not what a link encodes to
        parse(_block_of(bad), MAX_TEXT)


def test_text_blocks_are_checked_for_size_and_utf8():
    assert parse(build_text("Київ 東京"), MAX_TEXT) == Text("Київ 東京".encode())
    with pytest.raises(InvalidObject, match="UTF-8"):
        parse(raw_block(b"ok \xff\xfe"), MAX_TEXT)
    with pytest.raises(InvalidObject, match="UTF-8"):
        parse(raw_block("é".encode()[:1]), MAX_TEXT)  # truncated multi-byte sequence
    with pytest.raises(InvalidObject, match="exceeds"):
        parse(build_text("x" * 101), 100)
    parse(build_text("x" * 100), 100)


def test_non_map_object_is_rejected():
    with pytest.raises(InvalidObject, match="map"):
        parse(encode_object([1, 2, 3]), MAX_TEXT)


# -- schemas -----------------------------------------------------------------------

_PAGE = build_page(Page("w", 0, "Foo")).cid
_TEXT = build_text("hello").cid
_OTHER_REV = build_revision(Revision(_PAGE, (), _TEXT, 5, 1, author=PUB)).cid


def _rev(**changes) -> dict:
    obj = {"t": "rev", "page": _PAGE, "parents": [_OTHER_REV], "text": _TEXT, "size": 5, "model": "wikitext",
           "comment": "c", "ts": 10, "author": PUB}
    for k, v in changes.items():
        if v is _DEL:
            del obj[k]
        else:
            obj[k] = v
    return obj


def _sig(**changes) -> dict:
    obj = {"t": "sig", "target": _OTHER_REV, "role": "author", "key": PUB,
           "sig": sign(SIGNER, _OTHER_REV, "author")}
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not _DEL}


_DEL = object()
_SHA512_LINK = bytes([1, 0x55, 0x13, 0x40]) + hashlib.sha512(b"").digest()


def test_valid_objects_parse():
    assert isinstance(parse(encode_object(_rev()), MAX_TEXT), Revision)
    assert isinstance(parse(encode_object(_sig()), MAX_TEXT), Signature)


@pytest.mark.parametrize("obj, message", [
    # wrong type
    (_rev(ts="10"), r"rev\.ts.*integer"),
    (_rev(ts=True), r"rev\.ts.*integer"),
    (_rev(size=-1), r"rev\.size.*out of range"),
    (_rev(comment=7), r"rev\.comment.*text"),
    (_rev(minor=1), r"rev\.minor.*true or false"),
    (_rev(parents=_TEXT), r"rev\.parents"),
    (_rev(origin={"site": b"\x00"}), r"origin"),
    (_rev(author="someone"), r"ed25519"),
    # missing field
    (_rev(text=_DEL), r"missing field 'text'"),
    (_rev(page=_DEL), r"missing field 'page'"),
    (_rev(ts=_DEL), r"missing field 'ts'"),
    (_sig(sig=_DEL), r"missing field 'sig'"),
    ({"t": "page", "wiki": "w", "ns": 0}, r"missing field 'title'"),
    ({"t": "profile", "key": PUB, "ts": 1}, r"missing field 'name'"),
    # oversize field
    (_rev(comment="x" * 4097), r"rev\.comment.*longer than 4096"),
    (_rev(comment="é" * 2049), r"rev\.comment.*longer than 4096"),  # bytes, not characters
    (_rev(model="m" * 65), r"rev\.model.*longer"),
    (_rev(origin={"user": "u" * 1025}), r"longer"),
    (_rev(parents=[compute_cid(bytes([i]), DAG_CBOR) for i in range(17)]), r"at most 16"),
    ({"t": "page", "wiki": "w", "ns": 0, "title": "A" * 256}, r"longer than 255"),
    ({"t": "profile", "key": PUB, "name": "n" * 256, "ts": 1}, r"longer than 255"),
    # bad CID
    (_rev(page=b"\x01\x71\x12"), r"rev\.page.*CID"),
    (_rev(page="bafyreifovpll7zac7qin6avovqcytaij62f73i2clyftzxtn4jg7bp24ga"), r"rev\.page.*CID link"),
    (_rev(parents=[_SHA512_LINK]), r"rev\.parents.*CIDv1 sha2-256"),
    (_rev(text=_PAGE), r"raw text blob"),
    (_rev(parents=[_OTHER_REV, _OTHER_REV]), r"same CID twice"),
    (_sig(target=b"not a cid"), r"sig\.target"),
    # unknown field / type
    (_rev(extra=1), r"unknown field 'extra'"),
    ({"t": "page", "wiki": "w", "ns": 0, "title": "Foo", "x": "y"}, r"unknown field 'x'"),
    ({"t": "bogus", "a": 1}, r"unknown object type 'bogus'"),
    ({"a": 1}, r"unknown object type None"),
    ({"t": 3}, r"unknown object type 3"),
    # signatures
    (_sig(role="owner"), r"unknown role 'owner'"),
    (_sig(sig="AAAA"), r"64-byte"),
    (_sig(key="ed25519:AAAA"), r"malformed Ed25519 key"),
    # pages
    ({"t": "page", "wiki": "a b", "ns": 0, "title": "Foo"}, r"bad wiki name"),
    ({"t": "page", "wiki": "w", "ns": 0, "title": "Foo[1]"}, r"character '\['"),
    ({"t": "page", "wiki": "w", "ns": 0, "title": "Main_Page"}, r"not normalised"),
    ({"t": "page", "wiki": "w", "ns": 0, "title": " Main Page"}, r"not normalised"),
    ({"t": "page", "wiki": "w", "ns": 0, "title": "Main  Page"}, r"not normalised"),
    ({"t": "page", "wiki": "w", "ns": 0, "title": ""}, r"empty title"),
])
def test_schema_violations_are_rejected_with_a_clear_reason(obj, message):
    block = encode_object(obj)
    with pytest.raises(InvalidObject, match=message) as info:
        parse(block, MAX_TEXT)
    assert str(block) in str(info.value), "the reason names the offending block"


_titles = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="#<>[]|{}\x7f\ufffd"),
                  min_size=1, max_size=40)


_wikitext = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), min_size=1,
                    max_size=40)


@given(_wikitext, st.text(alphabet="abcxyz", max_size=8), st.integers(0, 2**53 - 1),
       st.lists(st.binary(min_size=1, max_size=4), max_size=5, unique=True), st.booleans())
def test_revision_encode_decode_round_trip(text, comment, ts, parent_seeds, minor):
    parents = tuple(compute_cid(s, DAG_CBOR) for s in parent_seeds)
    body = build_text(text)
    rev = Revision(page=_PAGE, parents=parents, text=body.cid, size=len(body.data), ts=ts, comment=comment,
                   author=PUB, minor=minor, origin={"site": "example.org", "revid": ts} if minor else {})
    block = build_revision(rev)
    assert parse(block, MAX_TEXT) == rev
    assert build_revision(parse(block, MAX_TEXT)) == block
    assert libipld.encode_dag_cbor(libipld.decode_dag_cbor(block.data)) == block.data
    assert parse(body, MAX_TEXT) == Text(text.encode())


@given(st.sampled_from(ROLES), st.integers(0, 2**40))
def test_signature_and_profile_round_trip(role, ts):
    target = compute_cid(ts.to_bytes(8, "big"), DAG_CBOR)
    sig = Signature(target, role, PUB, sign(SIGNER, target, role), ts)
    assert parse(build_signature(sig), MAX_TEXT) == sig
    prof = Profile(PUB, "Ada Lovelace", ts, "about me")
    assert parse(build_profile(prof), MAX_TEXT) == prof


def test_keys_travel_as_text_never_as_links():
    sig_block = build_signature(Signature(_OTHER_REV, "author", PUB, sign(SIGNER, _OTHER_REV, "author")))
    obj = libipld.decode_dag_cbor(sig_block.data)
    assert isinstance(obj["key"], str) and obj["key"].startswith("ed25519:")
    assert isinstance(obj["sig"], str)
    # Only the target is a CID link (tag 42) in the encoding.
    assert sig_block.data.count(b"\xd8\x2a") == 1


# -- titles ------------------------------------------------------------------------

WIKI = WikiConfig("w")


@pytest.mark.parametrize("raw, ns, text, full", [
    ("main_page", 0, "Main page", "Main page"),
    ("  Main   Page_ ", 0, "Main Page", "Main Page"),
    ("Main\u00a0Page", 0, "Main Page", "Main Page"),
    ("talk:foo_bar", 1, "Foo bar", "Talk:Foo bar"),
    ("TALK : foo", 1, "Foo", "Talk:Foo"),
    ("user_talk:bob", 3, "Bob", "User talk:Bob"),
    ("User talk:bob", 3, "Bob", "User talk:Bob"),
    ("Category:Maps", 14, "Maps", "Category:Maps"),
    (":Template:x", 10, "X", "Template:X"),
    ("Nosuchns:foo", 0, "Nosuchns:foo", "Nosuchns:foo"),
    ("Talk:Nosuchns:x", 1, "Nosuchns:x", "Talk:Nosuchns:x"),
    ("ünïcode", 0, "Ünïcode", "Ünïcode"),
    ("日本語", 0, "日本語", "日本語"),
    ("київ", 0, "Київ", "Київ"),
])
def test_title_normalisation(raw, ns, text, full):
    title = normalize_title(WIKI, raw)
    assert (title.ns, title.text, title.full) == (ns, text, full)


def test_case_rules():
    sensitive = WikiConfig("wikt", case="case-sensitive")
    assert normalize_title(sensitive, "apple").text == "apple"
    assert normalize_title(sensitive, "talk:apple").full == "Talk:apple"
    assert normalize_title(WIKI, "apple").text == "Apple"
    mixed = WikiConfig("m", namespace_case={2: "case-sensitive"})
    assert normalize_title(mixed, "user:bob").text == "bob"
    assert normalize_title(mixed, "talk:bob").text == "Bob"
    # A forced namespace keeps a prefix-looking title as it is.
    forced = normalize_title(WIKI, "talk:foo", ns=0)
    assert (forced.ns, forced.text) == (0, "Talk:foo")
    # A configured namespace name counts as a prefix.
    custom = WikiConfig("c", namespaces={0: "", 4: "Wikipedia", 100: "Portal"})
    assert normalize_title(custom, "portal:x").full == "Portal:X"
    assert normalize_title(custom, "project:x").full == "Project:x"


@pytest.mark.parametrize("raw", [
    "", "   ", "___", "Talk:", "Foo#bar", "a<b", "a>b", "a[b", "a]b", "a|b", "a{b", "a}b", "a\x00b", "a\tb",
    "a\x7fb", "a\ufffdb", ".", "..", "./x", "../x", "a/./b", "a/../b", "a/.", "a/..", "sig ~~~", "A" * 256, "é" * 128,
    ":", "::Foo", "Talk::Foo", "Talk:Talk:x", "Talk:File:x", "%41", "A%2Fb", "a&lt;b", "a&bogus;b", "a\ud800b", "a\ufffeb",
])
def test_invalid_titles_are_rejected(raw):
    with pytest.raises(BadTitle):
        normalize_title(WIKI, raw)


def test_longest_title_is_accepted():
    assert normalize_title(WIKI, "A" * 255).text == "A" * 255
    assert normalize_title(WIKI, "é" * 127).text == "É" + "é" * 126


def test_normalised_title_never_exceeds_the_limit():
    raw = "ΐ" + "a" * 253
    assert len(raw.encode()) == 255
    try:
        title = normalize_title(WIKI, raw)
    except BadTitle:
        return  # refusing it is fine too
    assert len(title.text.encode()) <= 255
    assert isinstance(parse(build_page(Page("w", 0, title.text)), MAX_TEXT), Page)


_ns_names = st.sampled_from(["", "Talk", "talk", "USER_TALK", "User talk", "Category", "Nosuch", "Template"])


@given(_ns_names, _titles, st.sampled_from(["first-letter", "case-sensitive"]))
def test_title_normalisation_is_idempotent(prefix, text, case):
    config = WikiConfig("w", case=case)
    raw = f"{prefix}:{text}" if prefix else text
    try:
        title = normalize_title(config, raw)
    except BadTitle:
        assume(False)
        return
    assert normalize_title(config, title.full) == title
    assert normalize_title(config, title.text, ns=title.ns) == title
    page = parse(build_page(Page("w", title.ns, title.text)), MAX_TEXT)
    assert page == Page("w", title.ns, title.text)


# -- signatures and keys -----------------------------------------------------------


@given(st.sampled_from(ROLES), st.sampled_from(ROLES))
def test_signature_roles_are_not_interchangeable(signed_as, checked_as):
    target = _OTHER_REV
    signature = sign(SIGNER, target, signed_as)
    assert verify(PUB, target, checked_as, signature) == (signed_as == checked_as)


def test_signature_binds_key_and_target():
    signature = sign(SIGNER, _OTHER_REV, "author")
    assert verify(PUB, _OTHER_REV, "author", signature)
    assert not verify(PUB, _PAGE, "author", signature)
    other = key_to_str(bytes(nacl.signing.SigningKey(bytes(32)).verify_key))
    assert not verify(other, _OTHER_REV, "author", signature)
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 1
    assert not verify(PUB, _OTHER_REV, "author", base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="))
    assert not verify(PUB, _OTHER_REV, "author", "AAAA")


def test_key_text_form():
    public = bytes(SIGNER.verify_key)
    assert key_from_str(key_to_str(public)) == public
    for bad in ["", "ed25519:", "ed25519:AAAA", "rsa:" + key_to_str(public)[8:], key_to_str(public) + "A",
                key_to_str(public)[:-1] + "=", public.hex()]:
        with pytest.raises(InvalidObject):
            key_from_str(bad)
