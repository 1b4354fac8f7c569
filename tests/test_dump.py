"""Import and export of MediaWiki XML dumps, on the real samples and on hostile files."""

from __future__ import annotations

import bz2
import io
import gzip
import lzma
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CLI, cli_env, dump_tables, run_cli, store_connect
from dumps import TRUNCATED, content, load, sample

HEADER = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
  <siteinfo><sitename>Test</sitename><dbname>testwiki</dbname><base>http://t/</base><case>first-letter</case>
    <namespaces><namespace key="0" case="first-letter" /><namespace key="1" case="first-letter">Talk</namespace></namespaces>
  </siteinfo>
"""


def page_xml(title: str, text: str, rev_id: int = 1, ns: int = 0, extra: str = "", bytes_attr: str | None = None) -> str:
    size = bytes_attr if bytes_attr is not None else str(len(text.encode()))
    return f"""  <page><title>{title}</title><ns>{ns}</ns><id>{rev_id}</id>
    <revision><id>{rev_id}</id><timestamp>2020-01-0{1 + rev_id % 8}T00:00:00Z</timestamp>
      <contributor><username>Ann</username><id>7</id></contributor>{extra}
      <model>wikitext</model><format>text/x-wiki</format>
      <text bytes="{size}" xml:space="preserve">{text}</text></revision>
  </page>
"""


def write(tmp_path: Path, body: str, name: str = "d.xml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def titles(node: Path, wiki: str = "testwiki") -> set[str]:
    conn = store_connect(node)
    try:
        return {r[0] for r in conn.execute("SELECT title FROM pages WHERE wiki = ?", (wiki,))}
    finally:
        conn.close()


def page_count(node: Path, wiki: str) -> int:
    conn = store_connect(node)
    try:
        return conn.execute("SELECT count(*) FROM pages WHERE wiki = ?", (wiki,)).fetchone()[0]
    finally:
        conn.close()


def store_state(node: Path) -> dict[str, list]:
    conn = store_connect(node)
    try:
        tables = dump_tables(conn)
    finally:
        conn.close()
    tables.pop("meta", None)  # holds the import's resume state, which differs by design
    return tables


@pytest.mark.parametrize("name", ["simplewiki.xml", "enwiki-articles-partial.xml"])
def test_complete_sample_round_trips(node_dir, tmp_path, name):
    result = run_cli(node_dir, "import", str(sample(name)))
    assert result.code == 0, str(result)
    site, original = load(sample(name))
    assert f"imported {len(original)} pages" in result.out
    out = tmp_path / "out.xml"
    assert run_cli(node_dir, "export", site.dbname, "-o", str(out)).code == 0
    site2, exported = load(out)
    assert (site2.dbname, site2.sitename, site2.case, site2.namespaces) == (site.dbname, site.sitename, site.case, site.namespaces)
    assert {t: content(p) for t, p in exported.items()} == {t: content(p) for t, p in original.items()}
    assert run_cli(node_dir, "fsck").code == 0


@pytest.mark.parametrize("name", TRUNCATED)
def test_truncated_sample_imports_every_complete_page(node_dir, tmp_path, name):
    result = run_cli(node_dir, "import", str(sample(name)), timeout=300)
    site, pages = load(sample(name))
    assert result.code == 3, str(result)
    last = list(pages)[-1]
    assert re.search(r"cut off at byte offset \d+", result.err), result.err
    assert f"last complete page is {last!r}" in result.err
    assert "Traceback" not in result.err
    assert "Premature end of data" not in result.err and "<string>" not in result.err  # our words, not libxml2's
    assert "skipped page" not in result.err
    assert f"imported {len(pages)} pages" in result.out
    assert page_count(node_dir, site.dbname) == len(pages)
    # Searchable once the index caught up (the import returns when the data is in, and a background
    # indexer builds the index; `wikipeer index` finishes it): a word from the last complete page's title.
    assert run_cli(node_dir, "index", timeout=300).code == 0
    word = max(last.split(":")[-1].split(), key=len)
    assert last.split(":")[-1] in run_cli(node_dir, "search", word, "--limit", "200").out
    assert run_cli(node_dir, "fsck").code == 0
    if name == "ukwiki":
        out = tmp_path / "out.xml"
        assert run_cli(node_dir, "export", site.dbname, "-o", str(out)).code == 0
        _, exported = load(out)
        assert {t: content(p) for t, p in exported.items()} == {t: content(p) for t, p in pages.items()}


def test_reimport_adds_nothing(node_dir):
    path = str(sample("simplewiki.xml"))
    assert run_cli(node_dir, "import", "--wait-index", path).code == 0  # no indexer left running
    before = store_state(node_dir)
    again = run_cli(node_dir, "import", path)
    assert again.code == 0 and "(0 new)" in again.out, str(again)
    assert store_state(node_dir) == before


@pytest.mark.parametrize("kind", ["bz2", "gzip", "xz", "stdin"])
def test_compression_is_detected_by_content(node_dir, tmp_path, kind):
    data = sample("simplewiki.xml").read_bytes()
    packed = {"bz2": bz2.compress, "gzip": gzip.compress, "xz": lzma.compress, "stdin": gzip.compress}[kind](data)
    path = tmp_path / "dump.bin"  # the name says nothing about the format
    path.write_bytes(packed)
    result = run_cli(node_dir, "import", "-", input=packed) if kind == "stdin" else run_cli(node_dir, "import", str(path))
    assert result.code == 0, str(result)
    assert "imported 7 pages" in result.out


def test_billion_laughs_is_refused(node_dir, tmp_path):
    lol = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
    path = write(tmp_path, lol + HEADER + page_xml("A", "&lol2;") + "</mediawiki>\n")
    result = run_cli(node_dir, "import", str(path))
    assert result.code == 2 and "DTD" in result.err and "byte offset" in result.err, str(result)
    assert titles(node_dir) == set()


def test_external_entity_is_refused(node_dir, tmp_path):
    xxe = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
    path = write(tmp_path, xxe + HEADER + page_xml("A", "&e;") + "</mediawiki>\n")
    result = run_cli(node_dir, "import", str(path))
    assert result.code == 2 and "Traceback" not in result.err, str(result)
    assert titles(node_dir) == set()


def test_unknown_schema_version(node_dir, tmp_path):
    path = write(tmp_path, HEADER.replace('version="0.11"', 'version="7.0"') + "</mediawiki>\n")
    result = run_cli(node_dir, "import", str(path))
    assert result.code == 2 and "schema version '7.0'" in result.err, str(result)


def test_malformed_xml_stops_after_the_good_pages(node_dir, tmp_path):
    pages = "".join(page_xml(f"Good {i}", "x" * 30000, i) for i in range(1, 9))
    body = HEADER + pages + "  <page><title>Bad</title><ns>0</ns></pagex>\n" + pages.replace("Good", "After") + "</mediawiki>\n"
    result = run_cli(node_dir, "import", str(write(tmp_path, body)))
    assert result.code == 2, str(result)
    assert "malformed XML after page 'Good 8'" in result.err and "byte offset" in result.err
    assert titles(node_dir) == {f"Good {i}" for i in range(1, 9)}
    assert run_cli(node_dir, "fsck").code == 0


@pytest.mark.parametrize("bad, problem", [
    ('<page><title>NoText</title><ns>0</ns><id>5</id><revision><id>5</id><timestamp>2020-01-01T00:00:00Z</timestamp>'
     '<contributor><ip>1.2.3.4</ip></contributor></revision></page>', "has no <text>"),
    (page_xml("Nowhere", "text", 7, ns=42), "namespace 42"),
    (page_xml("Odd", "text", 8).replace("<ns>0</ns>", "<ns>zero</ns>"), "invalid namespace"),
    (page_xml("A [bracket]", "text", 9), "contains the character"),
])
def test_bad_page_is_skipped_with_a_warning(node_dir, tmp_path, bad, problem):
    body = HEADER + page_xml("Before", "one", 1) + bad + page_xml("After", "two", 2) + "</mediawiki>\n"
    result = run_cli(node_dir, "import", str(write(tmp_path, body)))
    assert result.code == 0, str(result)
    assert "warning: skipped page" in result.err and problem in result.err and "near byte offset" in result.err, result.err
    assert titles(node_dir) == {"Before", "After"}


def test_size_the_text_does_not_have_is_kept_with_a_warning(node_dir, tmp_path):
    body = HEADER + page_xml("Liar", "four", 6, bytes_attr="99") + "</mediawiki>\n"
    result = run_cli(node_dir, "import", str(write(tmp_path, body)))
    assert result.code == 0, str(result)
    assert re.search(r"warning: page 'Liar' \(line \d+, near byte offset \d+ of the XML\): revision 6: "
                     r'<text bytes="99"> and its sha1 do not match the text \(4 bytes\); imported as read', result.err), result.err
    assert run_cli(node_dir, "show", "testwiki", "Liar").out == "four"


def test_crlf_text_is_restored_when_the_sha1_says_so(node_dir, tmp_path):
    from wikipeer.formats.dump_reader import sha1_base36

    original = "one\r\ntwo\r\n"
    page = page_xml("Crlf", original.replace("\r", ""), 4, bytes_attr=str(len(original)))
    page = page.replace("</text>", f"</text><sha1>{sha1_base36(original.encode())}</sha1>")
    result = run_cli(node_dir, "import", str(write(tmp_path, HEADER + page + "</mediawiki>\n")))
    assert result.code == 0 and "warning" not in result.err, str(result)
    assert run_cli(node_dir, "show", "testwiki", "Crlf").raw_out == original.encode()


def test_missing_file_is_a_user_error(node_dir, tmp_path):
    result = run_cli(node_dir, "import", str(tmp_path / "nope.xml"))
    assert result.code == 2 and "cannot read" in result.err and "Traceback" not in result.err, str(result)


def test_history_parent_chain_and_deleted_fields(node_dir, tmp_path):
    revs = "".join(
        f"""<revision><id>{i}</id>{f'<parentid>{i - 1}</parentid>' if i > 10 else ''}<timestamp>2021-0{i - 9}-01T00:00:00Z</timestamp>
        <contributor deleted="deleted" /><comment deleted="deleted" /><model>wikitext</model><format>text/x-wiki</format>
        <text bytes="{len(f'v{i}')}" xml:space="preserve">v{i}</text></revision>""" for i in range(10, 14))
    body = HEADER + f"<page><title>Talk:Chain</title><ns>1</ns><id>3</id>{revs}</page>\n</mediawiki>\n"
    assert run_cli(node_dir, "import", str(write(tmp_path, body))).code == 0
    history = run_cli(node_dir, "history", "testwiki", "Talk:Chain").out.splitlines()
    assert len(history) == 4
    heads = run_cli(node_dir, "heads", "testwiki", "Talk:Chain").out.splitlines()
    assert len(heads) == 1 and "2021-04-01" in heads[0]
    out = tmp_path / "out.xml"
    assert run_cli(node_dir, "export", "testwiki", "-o", str(out)).code == 0
    _, pages = load(out)
    _, original = load(tmp_path / "d.xml")
    for rev in pages["Talk:Chain"].revisions:
        rev.sha1 = None  # the input gave none; export computes MediaWiki's
    assert content(pages["Talk:Chain"]) == content(original["Talk:Chain"])
    assert all(r.user_deleted and r.comment_deleted for r in pages["Talk:Chain"].revisions)


def test_export_options(node_dir, tmp_path):
    revs = "".join(
        f"""<revision><id>{i}</id><timestamp>2021-0{i}-01T00:00:00Z</timestamp><contributor><ip>10.0.0.{i}</ip></contributor>
        <model>wikitext</model><format>text/x-wiki</format><text bytes="2" xml:space="preserve">v{i}</text></revision>""" for i in range(1, 4))
    body = HEADER + f"<page><title>Many</title><ns>0</ns><id>1</id>{revs}</page>\n" + page_xml("Other", "o", 9) + "</mediawiki>\n"
    assert run_cli(node_dir, "import", str(write(tmp_path, body))).code == 0
    cases = {
        ("--current",): {"Many": ["v3"], "Other": ["o"]},
        ("--pages", "Many"): {"Many": ["v1", "v2", "v3"]},
        ("--since", "2021-02-15"): {"Many": ["v3"]},
    }
    for args, expected in cases.items():
        out = tmp_path / "e.xml.bz2"
        assert run_cli(node_dir, "export", "testwiki", *args, "-o", str(out)).code == 0
        plain = tmp_path / "e.xml"
        plain.write_bytes(bz2.decompress(out.read_bytes()))
        _, pages = load(plain)
        assert {t: [r.text for r in p.revisions] for t, p in pages.items()} == expected, args
    missing = run_cli(node_dir, "export", "nowiki", "-o", str(tmp_path / "x.xml"))
    assert missing.code == 2 and not (tmp_path / "x.xml").exists()


def test_sigkill_at_random_points_then_resume_gives_the_same_store(tmp_path):
    path = str(sample("ukwiki"))
    reference = tmp_path / "reference"
    assert run_cli(reference, "init").code == 0
    # Both wait for their search index: the comparison below covers the index's tables too.
    assert run_cli(reference, "import", "--wait-index", path, timeout=300).code == 3
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    # The same node key, so the same blocks: copy the reference's keys over.
    for key in (reference / "keys").iterdir():
        (node / "keys" / key.name).write_bytes(key.read_bytes())
    rng = random.Random(7)
    for _ in range(3):
        proc = subprocess.Popen([*CLI, "--node", str(node), "import", "--quiet", path], env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.6, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert run_cli(node, "fsck").code == 0
    final = run_cli(node, "import", "--wait-index", path, timeout=300)
    assert final.code == 3, str(final)
    assert store_state(node) == store_state(reference)


def test_uploads_are_kept_as_metadata_of_the_last_revision(node_dir, tmp_path):
    upload = ("<upload><timestamp>2020-01-01T00:00:00Z</timestamp><comment>photo</comment>"
              "<filename>Pump.png</filename><src>http://example.invalid/Pump.png</src><size>1234</size></upload>")
    body = HEADER + page_xml("Pump", "pump", 1).replace("</revision>", "</revision>" + upload) + "</mediawiki>\n"
    assert run_cli(node_dir, "import", str(write(tmp_path, body))).code == 0
    from wikipeer.node import Node, find_page

    node = Node.open(node_dir)
    try:
        head = node.store.heads(find_page(node, "testwiki", "Pump").id)[0]
        assert '"filename": "Pump.png"' in head.origin["uploads"] and '"size": "1234"' in head.origin["uploads"]
    finally:
        node.close()


def _run_on_a_terminal(args: list[str], seconds: float = 120) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as stdout and stderr; return its exit code and screen text."""
    import os
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=cli_env({"COLUMNS": "120"}))
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_and_not_with_quiet(node_dir):
    path = str(sample("ukwiki"))
    code, screen = _run_on_a_terminal([*CLI, "--node", str(node_dir), "import", path])
    assert code == 3, screen
    assert re.search(r"\d+ pages, \d+ revisions", screen) and "MB" in screen, screen
    quiet = tmp = node_dir.parent / "quiet"
    assert run_cli(quiet, "init").code == 0
    code, screen = _run_on_a_terminal([*CLI, "--node", str(tmp), "import", "--quiet", path])
    assert code == 3 and "MB/s" not in screen and "imported 532 pages" in screen, screen


def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(tmp_path):
    path = str(sample("viwiki"))
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    proc = subprocess.Popen([*CLI, "--node", str(node), "import", "--quiet", path], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while page_count(node, "viwiki") == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # wait for the first batch to be in, then press Ctrl-C
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert b"interrupted" in err and b"Traceback" not in err
    assert run_cli(node, "fsck").code == 0
    again = run_cli(node, "import", path, timeout=300)
    assert again.code == 3 and "resumed after page" in again.out, str(again)
    _, pages = load(sample("viwiki"))
    assert page_count(node, "viwiki") == len(pages)


@pytest.mark.parametrize("version", ["0.3", "0.5", "0.10"])
def test_older_schema_versions_are_read(node_dir, tmp_path, version):
    header = HEADER.replace("export-0.11/", f"export-{version}/").replace('version="0.11"', f'version="{version}"')
    old_page = page_xml("Old", "old text", 1).replace("<model>wikitext</model><format>text/x-wiki</format>", "")
    result = run_cli(node_dir, "import", str(write(tmp_path, header + old_page + "</mediawiki>\n")))
    assert result.code == 0 and "imported 1 pages" in result.out, str(result)
    assert run_cli(node_dir, "show", "testwiki", "Old").out == "old text"


def test_malformed_xml_near_the_end_of_a_small_file_is_not_called_truncation(node_dir, tmp_path):
    body = HEADER + page_xml("Good", "fine", 1) + page_xml("Bad", "h<i", 2) + page_xml("Later", "x", 3) + "</mediawiki>\n"
    result = run_cli(node_dir, "import", str(write(tmp_path, body)))
    assert result.code == 2 and "malformed XML after page 'Good'" in result.err, str(result)
    assert "cut off" not in result.err


@pytest.mark.parametrize("damage", ["bz2", "xz", "gzip"])
def test_damaged_compressed_input_is_one_clear_line(node_dir, tmp_path, damage):
    data = (HEADER + page_xml("A", "text " * 2000, 1) + "</mediawiki>\n").encode()
    packed = bytearray({"bz2": bz2.compress, "xz": lzma.compress, "gzip": gzip.compress}[damage](data))
    for at in range(20, len(packed) - 20, 7):
        packed[at] ^= 0x55
    result = run_cli(node_dir, "import", str(write_bytes(tmp_path, bytes(packed))))
    assert result.code in (2, 3) and "Traceback" not in result.err, str(result)
    assert len(result.err.strip().splitlines()) <= 2, str(result)


def test_malformed_numbers_skip_the_page_and_bad_siteinfo_stops(node_dir, tmp_path):
    bad_id = page_xml("Odd id", "t", 4).replace("<id>4</id>\n      <timestamp>", "<id>four</id>\n      <timestamp>")
    body = HEADER + page_xml("Fine", "t", 1) + bad_id.replace("<revision><id>4</id>", "<revision><id>four</id>") + "</mediawiki>\n"
    result = run_cli(node_dir, "import", str(write(tmp_path, body)))
    assert result.code == 0 and "skipped page 'Odd id'" in result.err and "malformed number" in result.err, str(result)
    assert titles(node_dir) == {"Fine"}
    siteinfo = HEADER.replace('<namespace key="1"', '<namespace key="x"')
    result = run_cli(node_dir, "import", str(write(tmp_path, siteinfo + "</mediawiki>\n", "s.xml")))
    assert result.code == 2 and "siteinfo is malformed" in result.err and "Traceback" not in result.err, str(result)


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "packed.bin"
    path.write_bytes(data)
    return path


def test_a_page_with_one_oversize_revision_is_skipped_whole(node_dir, tmp_path):
    big = "x" * (4 * 1024 * 1024 + 1)
    revs = "".join(
        f"""<revision><id>{i}</id><timestamp>2021-0{i}-01T00:00:00Z</timestamp><contributor><ip>10.0.0.1</ip></contributor>
        <model>wikitext</model><format>text/x-wiki</format><text bytes="{len(t)}" xml:space="preserve">{t}</text></revision>"""
        for i, t in ((1, "small"), (2, big), (3, "small again")))
    body = HEADER + f"<page><title>Mixed</title><ns>0</ns><id>1</id>{revs}</page>\n" + page_xml("Other", "o", 9) + "</mediawiki>\n"
    result = run_cli(node_dir, "import", str(write(tmp_path, body)))
    assert result.code == 0 and "skipped page 'Mixed'" in result.err and "over the limit" in result.err, str(result)
    assert titles(node_dir) == {"Other"}


# -- the byte layer: the whole prolog, invalid UTF-8, oversize texts (issue 11) ------------


def test_a_dtd_after_a_long_comment_is_refused(node_dir, tmp_path):
    # The old guard looked at the first 64 KiB only; this comment even holds a decoy root element.
    comment = "<!-- " + '<mediawiki version="0.11"> ' + "padding " * 40_000 + " -->\n"
    dtd = '<!DOCTYPE mediawiki [<!ENTITY e "entity text">]>\n'
    declaration = '<?xml version="1.0"?>\n'
    path = write(tmp_path, declaration + comment + dtd + HEADER + page_xml("A", "before &e; after") + "</mediawiki>\n")
    result = run_cli(node_dir, "import", str(path))
    assert result.code == 2 and "DTD" in result.err and "Traceback" not in result.err, str(result)
    assert f"at byte offset {len(declaration + comment)} " in result.err, result.err
    assert titles(node_dir) == set()


def test_a_long_prolog_without_a_dtd_is_read_and_lines_stay_true(node_dir, tmp_path):
    prolog = '<?xml version="1.0" encoding="UTF-8"?>\n' + "<!-- a long comment\n" + "line\n" * 100_000 + "-->\n"
    body = prolog + HEADER + page_xml("Fine", "one", 1) + page_xml("Liar", "four", 2, bytes_attr="99") + "</mediawiki>\n"
    result = run_cli(node_dir, "import", str(write(tmp_path, body)))
    assert result.code == 0, str(result)
    assert titles(node_dir) == {"Fine", "Liar"}
    line = body[:body.index("<page><title>Liar")].count("\n") + 1
    assert f"page 'Liar' (line {line}," in result.err, result.err


@pytest.mark.parametrize("declaration", ['<?xml version="1.0" encoding="ISO-8859-1"?>\n', "plain text\n",
                                         "<html><body>not a dump</body></html>\n"])
def test_what_is_not_a_utf8_mediawiki_export_is_refused_in_one_line(node_dir, tmp_path, declaration):
    result = run_cli(node_dir, "import", str(write(tmp_path, declaration + HEADER + "</mediawiki>\n")))
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err, str(result)
    assert "UTF-8" in result.err or "not a MediaWiki XML export" in result.err, result.err


def _bytes_dump(*pages: bytes) -> bytes:
    return HEADER.encode() + b"".join(pages) + b"</mediawiki>\n"


def test_invalid_utf8_skips_only_its_page_with_a_warning(node_dir, tmp_path):
    bad_text = page_xml("Broken text", "caf\udcff!", 2, bytes_attr="5").encode("utf-8", "surrogateescape")
    bad_title = page_xml("Caf\udce9", "latin-1 title", 3).encode("utf-8", "surrogateescape")
    cut_char = page_xml("Cut char", "ab\udce2\udc82 c", 4, bytes_attr="6").encode("utf-8", "surrogateescape")
    data = _bytes_dump(page_xml("Before", "one", 1).encode(), bad_text, bad_title, cut_char,
                       page_xml("After", "two", 5).encode())
    path = tmp_path / "bad-utf8.xml"
    path.write_bytes(data)
    result = run_cli(node_dir, "import", str(path))
    assert result.code == 0, str(result)
    assert titles(node_dir) == {"Before", "After"}
    assert "skipped page 'Broken text'" in result.err
    in_text, in_title = data.index(b"caf\xff") + 3, data.index(b"Caf\xe9") + 3
    assert f"invalid UTF-8 at byte offset {in_text}" in result.err, result.err
    assert "skipped page 'Caf?'" in result.err and f"invalid UTF-8 at byte offset {in_title}" in result.err
    assert "skipped page 'Cut char'" in result.err
    assert result.err.count("skipped page") == 3 and "3 pages skipped" in result.out, str(result)


def test_invalid_utf8_in_the_siteinfo_stops_in_one_line(node_dir, tmp_path):
    data = _bytes_dump(page_xml("A", "one", 1).encode()).replace(b"<sitename>Test", b"<sitename>T\xffst")
    path = tmp_path / "bad-siteinfo.xml"
    path.write_bytes(data)
    result = run_cli(node_dir, "import", str(path))
    assert result.code == 2 and "not valid UTF-8" in result.err and "Traceback" not in result.err, str(result)
    assert titles(node_dir) == set()


# Starts the command from a small Python of its own and reports its child's peak memory (MiB). Linux
# carries a process's peak across fork and exec, so a child forked straight from pytest would report
# pytest's own memory when that is the larger (hundreds of MiB late in a full run).
_PEAK = ("import os, subprocess, sys\n"
         "child = subprocess.Popen(sys.argv[1:])\n"
         "_, status, usage = os.wait4(child.pid, 0)\n"
         "print(usage.ru_maxrss, file=sys.stderr)\n"
         "sys.exit(os.waitstatus_to_exitcode(status))\n")


def _run_measuring_peak(node: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    result = subprocess.run([sys.executable, "-c", _PEAK, *CLI, "--node", str(node), *args], env=cli_env(),
                            capture_output=True, text=True, timeout=600)
    *lines, peak_kib = result.stderr.rstrip("\n").split("\n")
    result.stderr = "\n".join(lines)
    return result, int(peak_kib) / 1024


def test_a_text_over_the_limit_is_dropped_while_streaming(tmp_path):
    """One 300 MB text in a small .xz: the other pages come in, that one is skipped, memory stays small."""
    path = tmp_path / "huge.xml.xz"
    chunk = b"x" * (1 << 20)
    with lzma.open(path, "wb", preset=1) as out:
        out.write(_bytes_dump(page_xml("Before", "one", 1).encode())[:-len(b"</mediawiki>\n")])
        head, tail = page_xml("Huge", "@", 2, bytes_attr=str(300 << 20)).encode().split(b"@")
        out.write(head)
        for _ in range(300):
            out.write(chunk)
        out.write(tail + page_xml("After", "two", 3).encode() + b"</mediawiki>\n")
    assert path.stat().st_size < 1 << 20
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    result, peak_mib = _run_measuring_peak(node, "import", "--quiet", str(path))
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert titles(node) == {"Before", "After"}
    assert "skipped page 'Huge'" in result.stderr and "longer than the limit" in result.stderr, result.stderr
    assert peak_mib < 200, f"the import took {peak_mib:.0f} MiB for a 300 MiB text it skipped"


class _Dribble(io.RawIOBase):
    """A stream that hands out a few bytes at a time, so every markup lands across reads somewhere."""

    def __init__(self, data: bytes, seed: int) -> None:
        self.data, self.at, self.random = data, 0, random.Random(seed)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.random.randint(1, 13), len(self.data) - self.at)
        buffer[:n] = self.data[self.at:self.at + n]
        self.at += n
        return n


def _read_all(stream) -> list:
    from wikipeer.formats.dump_reader import read_dump
    return [content(item) if not hasattr(item, "dbname") else item for item in read_dump(stream)]


@pytest.mark.parametrize("seed", range(3))
def test_reads_cut_anywhere_give_the_same_pages(seed):
    tricky = (page_xml("Cdata", "<![CDATA[ </text> </page> <page> ]]>", 2)
              + page_xml("Comment", "a<!-- </text> -->b", 3)
              + page_xml("Escaped", "&lt;/text&gt; &amp; caf\u00e9 \U0001f600", 4)
              + page_xml("Empty", "", 5).replace('<text bytes="0" xml:space="preserve"></text>', "<text bytes=\"0\" />"))
    data = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- prolog -->\n" + HEADER + tricky
            + "</mediawiki>\n").encode()
    whole = _read_all(io.BytesIO(data))
    assert [p[0] for p in whole[1:]] == ["Cdata", "Comment", "Escaped", "Empty"]
    assert whole[1][4][0].text == " </text> </page> <page> " and whole[2][4][0].text == "ab"
    assert _read_all(_Dribble(data, seed)) == whole
    real = sample("enwiki-articles-partial.xml").read_bytes()
    assert _read_all(_Dribble(real, seed)) == _read_all(io.BytesIO(real))
