"""Real MediaWiki (Debian 12's 1.39 on SQLite) against our XML dumps, both ways (issue 3, "Real components").

For each sample (the two complete English Wikipedia samples, and a small
full-history dump written here for what the samples lack: several revisions
per page, IP and hidden contributors, non-ASCII titles and names, empty and
whitespace-edged texts):

1. ``wikipeer import`` the sample, ``wikipeer export`` it, and MediaWiki's
   ``importDump.php`` (default mode, link tables updated) takes the export
   without a word of complaint. What MediaWiki then holds is read back three
   ways and compared with the *original sample*: its own ``dumpBackup.php
   --full`` (titles, namespaces, redirects, timestamps, contributors, minor
   flags, comments, models, texts, the parent chain), ``getText.php`` (every
   current text, byte for byte) and ``api.php`` served by ``php -S``.
2. MediaWiki's ``dumpBackup.php --full`` output is imported into a fresh node
   and exported again, and that export must equal MediaWiki's dump page by
   page, revision by revision, in everything the schema carries (ids
   included: the node keeps the ids it was given), formatting whitespace
   aside.

What MediaWiki changes by design, and so is not compared literally:

- It assigns new page and revision ids on import (part 1 checks the parent
  chain instead of the numbers) and user id 0 to imported users.
- It stores an imported contributor as ``imported>Name`` (importDump.php's
  ``--username-prefix``; IP addresses stay as they are): part 1 expects the
  prefix.
- It has no notion of revision deletion on import: a ``<contributor
  deleted="deleted"/>`` comes back as ``imported>Unknown user`` and a
  deleted comment as no comment.
- Its dumps pass titles, comments and texts through UtfNormal (NFC) and
  write carriage returns raw, which any XML parser reads as line feeds; the
  ``bytes`` and ``sha1`` it writes are those of what it stored. So texts read
  from its dump are compared with ``mw_output_form(original)``, while the
  stored bytes are proved equal through the SHA-1 MediaWiki computes itself
  (it ignores the ``<sha1>`` it is given) and through getText.php.
- The installer creates "Main Page"; part 1 leaves it out, part 2 keeps it.

Namespaces: each instance is installed in English with the sample's sitename
("Wikipedia"), which makes ns 4 "Wikipedia" and "first-letter" case like the
samples; a test checks that every namespace the pages use has the same name
on both sides before anything else is compared.

MediaWiki must be installed (``bash scripts/system-deps.sh``, run by
``make test``): without it these tests fail, saying so; they never skip.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree

from conftest import run_cli
from mediawiki_instance import MediaWikiInstance, MediaWikiUnavailable, check_available

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "wikipedia"
USERNAME_PREFIX = "imported"   # importDump.php's default
INSTALLER_PAGES = {(0, "Main Page")}


# -- an independent reader of MediaWiki XML (not wikipeer's), enough to compare dumps ----------------


@dataclass
class Rev:
    id: int | None
    parentid: int | None
    timestamp: str
    contributor: tuple  # ("user", name, id) | ("ip", address) | ("deleted",)
    minor: bool
    comment: str | None   # None: no <comment>
    comment_deleted: bool
    model: str | None
    format: str | None
    text: str
    text_bytes: int | None
    text_deleted: bool
    sha1: str | None


@dataclass
class Pg:
    title: str
    ns: int
    id: int | None
    redirect: str | None
    revisions: list[Rev] = field(default_factory=list)


@dataclass
class Dump:
    siteinfo: dict
    namespaces: dict[int, tuple[str, str]]
    pages: dict[tuple[int, str], Pg]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(elem, name: str):
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _text(elem, name: str) -> str | None:
    c = _child(elem, name)
    return None if c is None else (c.text or "")


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def read_dump(path: Path) -> Dump:
    siteinfo: dict = {}
    namespaces: dict[int, tuple[str, str]] = {}
    pages: dict[tuple[int, str], Pg] = {}
    parser = etree.iterparse(str(path), events=("end",), resolve_entities=False, no_network=True, huge_tree=True)
    for _, elem in parser:
        name = _local(elem.tag)
        if name == "siteinfo":
            for c in elem:
                if _local(c.tag) == "namespaces":
                    for n in c:
                        namespaces[int(n.get("key"))] = (n.text or "", n.get("case"))
                else:
                    siteinfo[_local(c.tag)] = c.text or ""
        elif name == "page":
            redirect = _child(elem, "redirect")
            page = Pg(_text(elem, "title"), int(_text(elem, "ns")), _int(_text(elem, "id")),
                      None if redirect is None else redirect.get("title"))
            for r in elem:
                if _local(r.tag) != "revision":
                    continue
                c = _child(r, "contributor")
                if c.get("deleted") == "deleted":
                    contributor = ("deleted",)
                elif _child(c, "ip") is not None:
                    contributor = ("ip", _text(c, "ip"))
                else:
                    contributor = ("user", _text(c, "username"), _int(_text(c, "id")))
                comment = _child(r, "comment")
                text = _child(r, "text")
                page.revisions.append(Rev(
                    id=_int(_text(r, "id")), parentid=_int(_text(r, "parentid")), timestamp=_text(r, "timestamp"),
                    contributor=contributor, minor=_child(r, "minor") is not None,
                    comment=None if comment is None or comment.get("deleted") else (comment.text or ""),
                    comment_deleted=comment is not None and comment.get("deleted") == "deleted",
                    model=_text(r, "model"), format=_text(r, "format"), text=text.text or "",
                    text_bytes=_int(text.get("bytes")), text_deleted=text.get("deleted") == "deleted",
                    sha1=_text(r, "sha1")))
            assert (page.ns, page.title) not in pages, f"{path}: page {page.title!r} twice"
            pages[(page.ns, page.title)] = page
            elem.clear()
    return Dump(siteinfo, namespaces, pages)


def sha1_base36(data: bytes) -> str:
    number = int.from_bytes(hashlib.sha1(data).digest(), "big")
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return digits.rjust(31, "0")


def mw_output_form(text: str) -> str:
    """What a text looks like read back from a MediaWiki dump: NFC (UtfNormal), CR read as LF."""
    return unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")


# -- a small full-history dump, written here --------------------------------------------------------

HISTORY_PAGES = [
    # (title, ns, page id, redirect, [(rev id, parent id, timestamp, contributor, minor, comment, text)])
    ("Talk:Ünïcode — 日本語", 1, 1, None, [
        (101, None, "2020-01-01T00:00:00Z", ("user", "Some User", 7), False,
         "created & <tested> \"quoted\" 'single'", "first  \n\n"),
        (102, 101, "2020-01-01T00:00:00Z", ("ip", "192.0.2.1"), True, None, "second\tline\nwith a tab\n"),
        (103, 102, "2021-06-15T12:34:56Z", ("user", "Ünïcode Ûser", 8), False, "ünï ☃",
         "  leading spaces, astral \U0001F600, nbsp\u00a0and trailing spaces   "),
        (104, 103, "2021-06-15T12:35:00Z", ("deleted",), False, "DELETED", "after a hidden edit"),
    ]),
    ("Template:Box", 10, 2, None, [
        (201, None, "2019-05-05T05:05:05Z", ("user", "Editor", 9), False, "tpl", "{{{1}}}<noinclude>&amp;</noinclude>"),
    ]),
    ("Blanked", 0, 3, None, [
        (301, None, "2018-01-01T00:00:00Z", ("user", "Editor", 9), False, "c", "something"),
        (302, 301, "2018-01-02T00:00:00Z", ("user", "Editor", 9), True, "blank", ""),
    ]),
    ("Old name", 0, 4, "New name", [
        (401, None, "2017-03-03T03:03:03Z", ("ip", "198.51.100.7"), False, "move", "#REDIRECT [[New name]]"),
    ]),
    ("New name", 0, 5, None, [
        (501, None, "2017-03-03T03:03:02Z", ("user", "Editor", 9), False, "", "[[Category:Things]]"),
    ]),
]

# Texts MediaWiki stores exactly but cannot write back exactly in its dumps (see the module docstring):
# carriage returns and a decomposed (NFD) accent. Only part 1 (getText.php and the SHA-1) applies.
RAW_BYTES_PAGES = [
    ("Line endings", 0, 1, None, [
        (11, None, "2022-02-02T02:02:02Z", ("user", "Editor", 9), False, "crlf", "one\r\ntwo\rthree\n"),
    ]),
    ("Decomposed", 0, 2, None, [
        (21, None, "2022-02-02T02:02:03Z", ("user", "Editor", 9), False, "nfd e\u0301",
         "cafe\u0301 and A\u030a and \u1100\u1161"),
    ]),
]


def write_dump(path: Path, dbname: str, pages: list) -> None:
    """A schema 0.10 dump like Wikipedia's, with the given pages (full history)."""
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">\n'
           f"<siteinfo><sitename>Wikipedia</sitename><dbname>{dbname}</dbname>"
           "<base>https://test.invalid/wiki/Main_Page</base><generator>hand</generator><case>first-letter</case>"
           "<namespaces>"]
    for key, name in ((-2, "Media"), (-1, "Special"), (0, ""), (1, "Talk"), (2, "User"), (3, "User talk"),
                      (4, "Wikipedia"), (5, "Wikipedia talk"), (10, "Template"), (11, "Template talk"),
                      (14, "Category"), (15, "Category talk")):
        out.append(f'<namespace key="{key}" case="first-letter">{name}</namespace>' if name
                   else f'<namespace key="{key}" case="first-letter" />')
    out.append("</namespaces></siteinfo>\n")
    for title, ns, page_id, redirect, revisions in pages:
        out.append(f"<page><title>{escape(title)}</title><ns>{ns}</ns><id>{page_id}</id>")
        if redirect:
            out.append(f"<redirect title={quoteattr(redirect)} />")
        for rev_id, parent, ts, who, minor, comment, text in revisions:
            out.append(f"\n<revision><id>{rev_id}</id>")
            if parent:
                out.append(f"<parentid>{parent}</parentid>")
            out.append(f"<timestamp>{ts}</timestamp>")
            if who[0] == "deleted":
                out.append('<contributor deleted="deleted" />')
            elif who[0] == "ip":
                out.append(f"<contributor><ip>{who[1]}</ip></contributor>")
            else:
                out.append(f"<contributor><username>{escape(who[1])}</username><id>{who[2]}</id></contributor>")
            if minor:
                out.append("<minor />")
            if comment == "DELETED":
                out.append('<comment deleted="deleted" />')
            elif comment:
                out.append(f"<comment>{escape(comment)}</comment>")
            data = text.encode("utf-8")
            body = escape(text).replace("\r", "&#13;")
            out.append(f"<model>wikitext</model><format>text/x-wiki</format>"
                       f'<text bytes="{len(data)}" xml:space="preserve">{body}</text>'
                       f"<sha1>{sha1_base36(data)}</sha1></revision>")
        out.append("\n</page>\n")
    out.append("</mediawiki>\n")
    path.write_text("".join(out), encoding="utf-8")


# -- running it all ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mediawiki_version() -> str:
    try:
        return check_available()
    except MediaWikiUnavailable as err:
        pytest.fail(f"MediaWiki is needed for this test and is not usable here: {err}", pytrace=False)


@dataclass
class RoundTrip:
    name: str
    sample: Path          # the original dump
    ours: Path            # wikipeer's export of it
    mw: MediaWikiInstance
    mw_import: object     # ImportResult
    mw_dump: Path         # dumpBackup.php --full after importing ours
    again: Path           # wikipeer's export after importing mw_dump into a fresh node
    again_import: object  # conftest.Result of that import


def _wikipeer(node: Path, *args: str):
    result = run_cli(node, *args, timeout=300)
    assert result.code == 0, str(result)
    return result


def round_trip(tmp: Path, name: str, sample: Path, sitename: str = "Wikipedia", reimport: bool = True) -> RoundTrip:
    dbname = read_dump_siteinfo(sample)["dbname"]
    node = tmp / "node"
    _wikipeer(node, "init")
    _wikipeer(node, "import", "--quiet", str(sample))
    ours = tmp / "ours.xml"
    _wikipeer(node, "export", dbname, "-o", str(ours))

    mw = MediaWikiInstance(tmp / "mediawiki", sitename=sitename, dbname=dbname, lang="en")
    mw.install()
    imported = mw.import_dump(ours, check=False)
    mw_dump = tmp / "mediawiki-dump.xml"
    again_import, again = None, tmp / "again.xml"
    if imported.returncode == 0:
        mw.dump_backup(mw_dump)
    if imported.returncode == 0 and reimport:
        node2 = tmp / "node2"
        _wikipeer(node2, "init")
        again_import = run_cli(node2, "import", "--quiet", str(mw_dump), timeout=300)
        _wikipeer(node2, "export", dbname, "-o", str(again))
    return RoundTrip(name, sample, ours, mw, imported, mw_dump, again, again_import)


def read_dump_siteinfo(path: Path) -> dict:
    for _, elem in etree.iterparse(str(path), events=("end",), resolve_entities=False, no_network=True):
        if _local(elem.tag) == "siteinfo":
            return {_local(c.tag): c.text for c in elem if _local(c.tag) != "namespaces"}
    raise AssertionError(f"{path}: no siteinfo")


@pytest.fixture(scope="module", params=["simplewiki", "enwiki-articles-partial", "history"])
def trip(request, tmp_path_factory, mediawiki_version) -> RoundTrip:
    tmp = tmp_path_factory.mktemp(f"mw-{request.param}")
    if request.param == "history":
        sample = tmp / "history.xml"
        write_dump(sample, "historywiki", HISTORY_PAGES)
    else:
        sample = SAMPLES / f"{request.param}.xml"
        assert sample.is_file(), f"missing sample {sample}"
    result = round_trip(tmp, request.param, sample)
    yield result
    result.mw.stop()


# -- part 1: MediaWiki takes our export and keeps what it says -------------------------------------------


def test_importdump_accepts_our_export(trip: RoundTrip) -> None:
    assert trip.mw_import.returncode == 0, str(trip.mw_import)
    assert trip.mw_import.complaints == [], str(trip.mw_import)


def _expected_mw_contributor(rev: Rev) -> tuple:
    if rev.contributor[0] == "ip":
        return ("ip", rev.contributor[1])
    if rev.contributor[0] == "deleted":
        return ("user", f"{USERNAME_PREFIX}>Unknown user", 0)
    return ("user", f"{USERNAME_PREFIX}>{rev.contributor[1]}", 0)


def test_namespaces_agree(trip: RoundTrip) -> None:
    """Each namespace the sample's pages use has the same name in MediaWiki: titles mean the same."""
    assert trip.mw_import.returncode == 0, str(trip.mw_import)
    original, ours, mw = read_dump(trip.sample), read_dump(trip.ours), read_dump(trip.mw_dump)
    assert mw.siteinfo["case"] == original.siteinfo["case"] == "first-letter"
    for ns in {ns for ns, _ in original.pages}:
        assert mw.namespaces[ns][0] == original.namespaces[ns][0] == ours.namespaces[ns][0], ns


def test_mediawiki_holds_the_original_content(trip: RoundTrip) -> None:
    """MediaWiki's own dump, after importing our export, against the original sample."""
    assert trip.mw_import.returncode == 0, str(trip.mw_import)
    original, mw = read_dump(trip.sample), read_dump(trip.mw_dump)
    mw_pages = {k: v for k, v in mw.pages.items() if k not in INSTALLER_PAGES}
    assert sorted(mw_pages) == sorted(original.pages)
    revisions = 0
    for key, want in original.pages.items():
        got = mw_pages[key]
        assert (got.title, got.ns, got.redirect) == (want.title, want.ns, want.redirect), key
        assert len(got.revisions) == len(want.revisions), key
        for i, (g, w) in enumerate(zip(got.revisions, want.revisions)):
            where = f"{key} revision {i} (id {w.id} in the sample)"
            assert g.timestamp == w.timestamp, where
            assert g.contributor == _expected_mw_contributor(w), where
            assert g.minor == w.minor, where
            want_comment = w.comment or None   # MediaWiki writes no <comment> for an empty one
            assert g.comment == (None if want_comment is None else mw_output_form(want_comment)), where
            assert (g.model, g.format) == (w.model, w.format), where
            assert g.text == mw_output_form(w.text), where
            # MediaWiki computes the SHA-1 and size of what it stored (it ignores the <sha1> it is given).
            data = w.text.encode("utf-8")
            assert g.sha1 == sha1_base36(data), where
            assert g.text_bytes == len(data), where
            if w.sha1:
                assert g.sha1 == w.sha1, where
            # The parent chain is the sample's order (MediaWiki's ids are new).
            assert g.parentid == (got.revisions[i - 1].id if i else None), where
            revisions += 1
    assert revisions == sum(len(p.revisions) for p in original.pages.values()) > 0


def test_current_texts_byte_for_byte(trip: RoundTrip) -> None:
    """getText.php prints what MediaWiki stored, untouched: each page's last revision, byte for byte."""
    assert trip.mw_import.returncode == 0, str(trip.mw_import)
    original = read_dump(trip.sample)
    for (ns, title), page in original.pages.items():
        assert trip.mw.get_text(title) == page.revisions[-1].text, title


def test_api_serves_the_pages(trip: RoundTrip) -> None:
    """api.php through the PHP web server on 127.0.0.1: every page with its latest revision."""
    assert trip.mw_import.returncode == 0, str(trip.mw_import)
    original = read_dump(trip.sample)
    base = trip.mw.serve()
    assert base.startswith("http://127.0.0.1:")
    general = trip.mw.api(action="query", meta="siteinfo")["query"]["general"]
    assert general["sitename"] == "Wikipedia" and general["case"] == "first-letter"
    titles = [p.title for p in original.pages.values()]
    answer = trip.mw.api(action="query", titles="|".join(titles), prop="revisions",
                         rvprop="timestamp|user|comment|flags|content|sha1|size", rvslots="main")
    got = {(p["ns"], p["title"]): p for p in answer["query"]["pages"]}
    assert sorted(got) == sorted(original.pages)
    for key, page in original.pages.items():
        want = page.revisions[-1]
        assert "missing" not in got[key], key
        rev = got[key]["revisions"][0]
        assert rev["timestamp"] == want.timestamp, key
        assert rev["user"] == _expected_mw_contributor(want)[1], key
        assert rev.get("minor", False) == want.minor, key
        assert rev["comment"] == mw_output_form(want.comment or ""), key
        data = want.text.encode("utf-8")
        assert rev["sha1"] == hashlib.sha1(data).hexdigest(), key   # computed by MediaWiki
        assert rev["size"] == len(data), key
        assert rev["slots"]["main"]["content"] == unicodedata.normalize("NFC", want.text), key
    trip.mw.stop()


# -- part 2: MediaWiki's own dump goes through a node unchanged ----------------------------------------


def test_mediawiki_dump_reimports_losslessly(trip: RoundTrip) -> None:
    assert trip.mw_import.returncode == 0, str(trip.mw_import)
    assert trip.again_import.code == 0, str(trip.again_import)
    assert "skipped" not in trip.again_import.err.replace("0 pages skipped", ""), str(trip.again_import)
    mw, again = read_dump(trip.mw_dump), read_dump(trip.again)
    for name in ("sitename", "dbname", "base", "case"):
        assert again.siteinfo[name] == mw.siteinfo[name], name
    assert again.namespaces == mw.namespaces
    assert sorted(again.pages) == sorted(mw.pages)
    count = 0
    for key, want in mw.pages.items():
        got = again.pages[key]
        # Everything the schema carries, ids included; not MediaWiki's <origin> nor <text sha1="">,
        # which repeat the revision id and <sha1>.
        assert (got.title, got.ns, got.id, got.redirect) == (want.title, want.ns, want.id, want.redirect), key
        assert len(got.revisions) == len(want.revisions), key
        for g, w in zip(got.revisions, want.revisions):
            assert g == w, f"{key} revision {w.id}"
            count += 1
    assert count == sum(len(p.revisions) for p in mw.pages.values()) > 0


# -- texts MediaWiki stores exactly but cannot dump exactly ----------------------------------------------


def test_importdump_keeps_carriage_returns_and_decomposed_text(tmp_path, mediawiki_version) -> None:
    """Our export escapes CR as &#13; and keeps NFD as it is; MediaWiki stores both byte for byte."""
    sample = tmp_path / "raw.xml"
    write_dump(sample, "rawwiki", RAW_BYTES_PAGES)
    trip = round_trip(tmp_path, "raw", sample, reimport=False)
    assert trip.mw_import.returncode == 0 and trip.mw_import.complaints == [], str(trip.mw_import)
    mw = read_dump(trip.mw_dump)
    for title, ns, _, _, revisions in RAW_BYTES_PAGES:
        text = revisions[-1][-1]
        assert trip.mw.get_text(title) == text, title
        assert mw.pages[(ns, title)].revisions[-1].sha1 == sha1_base36(text.encode("utf-8")), title
        assert mw.pages[(ns, title)].revisions[-1].text_bytes == len(text.encode("utf-8")), title
