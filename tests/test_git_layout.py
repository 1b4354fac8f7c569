"""The git layout of pages (gitpeer/layout.py) and the commit trailers (gitpeer/trailers.py): pure, no git."""

from __future__ import annotations

import base64
import hashlib

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikipeer.gitpeer.layout import NotAPagePath, page_path, path_title
from wikipeer.gitpeer.trailers import (
    NO_SUMMARY, BadTrailers, build_message, git_identity, parse_trailers)
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import Page, Revision, Signature, build_page, build_revision, build_signature, build_text
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title

CONFIG = WikiConfig("demo", namespaces={0: "", 1: "Talk", 10: "Template", 3: "User talk", 100: ""})


def test_main_page_path_is_sharded_by_sha256_of_the_title():
    digest = hashlib.sha256("Alpha".encode()).hexdigest()
    assert page_path(CONFIG, 0, "Alpha") == f"Main/{digest[:2]}/{digest[2:4]}/Alpha.wiki"
    assert page_path(CONFIG, 3, "Bob").startswith("User_talk/")
    assert page_path(CONFIG, 100, "X").startswith("ns100/")
    assert page_path(CONFIG, 0, "A/B 100%").endswith("/A%2FB 100%25.wiki")


def test_path_title_reads_back_escapes_and_namespaces():
    for ns, title in [(0, "A/B 100%"), (3, "Bob"), (100, "X"), (10, "Infobox/doc"), (0, "Ünïcödé ✓")]:
        assert path_title(CONFIG, page_path(CONFIG, ns, title)) == (ns, title)
        assert path_title(CONFIG, page_path(CONFIG, ns, title).encode()) == (ns, title)


def test_long_title_is_cut_with_a_hash_and_reads_back_as_none():
    title = "é/" * 80  # 240 bytes of title, 400 once each / is written %2F
    path = page_path(CONFIG, 0, title)
    name = path.rsplit("/", 1)[1]
    assert len(name.encode()) <= 255
    assert name.endswith("~" + hashlib.sha256(title.encode()).hexdigest()[:16] + ".wiki")
    assert path_title(CONFIG, path) is None


@pytest.mark.parametrize("path, reason", [
    ("/Main/00/00/A.wiki", "absolute"),
    ("Main/../00/A.wiki", "traversal"),
    ("Main/00/00/../A.wiki", "traversal"),
    ("Main/00/00/A.txt", "end in .wiki"),
    ("README.md", "four levels"),
    ("Nowhere/00/00/A.wiki", "unknown namespace"),
    ("Main/0/00/A.wiki", "hex"),
    ("Main/00/00/Alpha.wiki", "belongs under"),
    ("Main/00/00/a<b.wiki", "not a valid title"),
    ("Talk/00/00/.wiki", "page file"),
])
def test_path_title_refuses_with_the_path_and_reason(path, reason):
    with pytest.raises(NotAPagePath) as info:
        path_title(CONFIG, path)
    assert path in str(info.value) and reason in str(info.value)


def test_path_title_refuses_unnormalised_titles():
    digest = hashlib.sha256("alpha".encode()).hexdigest()
    with pytest.raises(NotAPagePath, match="normalised"):
        path_title(CONFIG, f"Main/{digest[:2]}/{digest[2:4]}/alpha.wiki")
    digest = hashlib.sha256("A_b".encode()).hexdigest()
    with pytest.raises(NotAPagePath, match="normalised"):
        path_title(CONFIG, f"Main/{digest[:2]}/{digest[2:4]}/A_b.wiki")


def test_path_title_refuses_non_utf8_names_with_the_offset():
    with pytest.raises(NotAPagePath, match="not UTF-8 .byte offset 11"):
        path_title(CONFIG, b"Main/00/00/\xff.wiki")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0, 1, 3, 10, 100]), st.text(min_size=1, max_size=120))
def test_layout_round_trip(ns, raw):
    try:
        title = normalize_title(CONFIG, raw, ns).text
    except BadTitle:
        return
    path = page_path(CONFIG, ns, title)
    assert all(len(part.encode()) <= 255 for part in path.split("/"))
    assert path_title(CONFIG, path) in ((ns, title), None)
    if len(title.encode()) < 200:
        assert path_title(CONFIG, path) == (ns, title)


# --- trailers ---------------------------------------------------------------------------------------------

KEY = nacl.signing.SigningKey(b"\x01" * 32)
OTHER = nacl.signing.SigningKey(b"\x02" * 32)
PUBLIC = key_to_str(bytes(KEY.verify_key))


def _revision(comment: str = "fix typo", author: str | None = PUBLIC, origin: dict | None = None):
    page = Page("demo", 0, "Alpha")
    text = build_text("hello")
    rev = build_revision(Revision(build_page(page).cid, (), text.cid, 5, 1_700_000_000, comment=comment,
                                  author=author, origin=origin or {}))
    sigs = [build_signature(Signature(rev.cid, "author", PUBLIC, sign(KEY, rev.cid, "author"))),
            build_signature(Signature(rev.cid, "second", key_to_str(bytes(OTHER.verify_key)),
                                      sign(OTHER, rev.cid, "second")))]
    return page, rev, sigs


def test_message_round_trips_and_is_deterministic():
    page, rev, sigs = _revision()
    message = build_message(page, rev, sigs)
    assert message == build_message(page, rev, list(reversed(sigs)))
    assert message.startswith(b"fix typo\n\nWikipeer-Revision: " + cid_to_str(rev.cid).encode())
    parsed = parse_trailers(message)
    assert parsed.revision == rev.cid and parsed.page == page and parsed.block == rev.data
    assert parsed.author == bytes(KEY.verify_key).hex()
    assert sorted(parsed.signatures) == sorted(s.data for s in sigs)
    assert parsed.record().comment == "fix typo"


def test_empty_summary_and_imported_author():
    page, rev, sigs = _revision(comment="", author=None, origin={"site": "w", "user": "Some <User>", "rev_id": 3})
    message = build_message(page, rev, sigs[:1])
    assert message.startswith(NO_SUMMARY.encode() + b"\n\n")
    assert parse_trailers(message).author == "Some <User>"
    assert git_identity(parse_trailers(message).record()) == b"Some User <imported@wikipeer>"


def test_summary_with_blank_lines_and_trailer_lookalikes_stays_one_paragraph():
    page, rev, sigs = _revision(comment="a\n\nWikipeer-Revision: x\n\nb")
    parsed = parse_trailers(build_message(page, rev, sigs))
    assert parsed.summary == "a\nWikipeer-Revision: x\nb"


def _replace_line(message: bytes, name: bytes, value: bytes) -> bytes:
    lines = message.split(b"\n")
    return b"\n".join(name + b": " + value if line.startswith(name + b": ") else line for line in lines)


def test_forged_trailers_are_refused_with_the_reason():
    page, rev, sigs = _revision()
    message = build_message(page, rev, sigs)
    _, other, _ = _revision(comment="other")
    forged = {
        "does not hash": _replace_line(message, b"Wikipeer-Revision", cid_to_str(other.cid).encode()),
        "not the page": _replace_line(message, b"Wikipeer-Page", b"demo 0 Beta"),
        "not the revision's author": _replace_line(message, b"Wikipeer-Author", b"00" * 32),
        "not base64": _replace_line(message, b"Wikipeer-Block", b"!!!"),
        "edit summary": b"another summary" + message[len(b"fix typo"):],
        "must appear once": message.replace(b"Wikipeer-Page: demo 0 Alpha\n", b""),
        "no trailers": b"just a message\n",
        "unknown trailer": message + b"Wikipeer-Extra: 1\n",
        "not this revision": _replace_line(message, b"Wikipeer-Signature", base64.b64encode(
            build_signature(Signature(other.cid, "author", PUBLIC, sign(KEY, other.cid, "author"))).data)),
    }
    for reason, bad in forged.items():
        with pytest.raises(BadTrailers, match=reason):
            parse_trailers(bad)
