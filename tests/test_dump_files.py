"""Dumps with files (``<upload>`` with base-64 ``<contents>``) without a MediaWiki: large files, damage.

The real MediaWiki round trip is in tests/test_mw_files.py; here the dump is
written by the test, so a file of several MB, contents cut off or not base
64 and the reader's memory can be checked directly.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import re
import tracemalloc
from pathlib import Path

from PIL import Image

from conftest import run_cli
from wikipeer.formats.dump_reader import read_dump
from wikipeer.model.media import sha1_base36
from wikipeer.node import Node

HEAD = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
<siteinfo><sitename>T</sitename><dbname>tw</dbname><case>first-letter</case><namespaces>
<namespace key="0" case="first-letter" /><namespace key="6" case="first-letter">File</namespace></namespaces></siteinfo>
"""


def jpeg(megabytes: float, seed: int) -> bytes:
    """A small JPEG followed by random bytes: every reader takes it for a JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed * 50 % 256, 90, 10)).save(out, "JPEG")
    return out.getvalue() + random.Random(seed).randbytes(int(megabytes * (1 << 20)))


def upload(name: str, data: bytes, ts: str, contents: str | None = None, sha1: str | None = None) -> str:
    text = contents if contents is not None else base64.encodebytes(data).decode("ascii")
    digest = sha1 or sha1_base36(hashlib.sha1(data).hexdigest())
    return (f"<upload><timestamp>{ts}</timestamp><contributor><username>Bob</username><id>3</id></contributor>"
            f"<comment>upload of {name}</comment><filename>{name}</filename><src>http://x/{name}</src>"
            f"<size>{len(data)}</size><sha1base36>{digest}</sha1base36><rel>a/ab/{name}</rel>\n"
            f'<contents encoding="base64">{text}</contents></upload>\n')


def page(number: int, name: str, uploads: str) -> str:
    return (f"<page><title>File:{name}</title><ns>6</ns><id>{number}</id><revision><id>{number}</id>"
            f"<timestamp>2020-01-01T00:00:00Z</timestamp><contributor><username>Bob</username><id>3</id>"
            f"</contributor><model>wikitext</model><format>text/x-wiki</format>"
            f'<text bytes="4" xml:space="preserve">desc</text></revision>\n{uploads}</page>\n')


def test_files_of_several_megabytes_stream_to_disk_and_arrive_whole(tmp_path):
    first, second = jpeg(3, 1), jpeg(3.2, 2)
    dump = tmp_path / "big.xml"
    dump.write_text(HEAD + page(1, "Big.jpg", upload("Big.jpg", first, "2020-01-01T00:00:00Z")
                                + upload("Big.jpg", second, "2020-01-02T00:00:00Z")) + "</mediawiki>\n")
    tracemalloc.start()
    try:
        pages = [p for p in read_dump(dump.open("rb")) if hasattr(p, "files")]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(u.contents.size, u.contents.sha1) for u in pages[0].files] == \
        [(len(first), hashlib.sha1(first).hexdigest()), (len(second), hashlib.sha1(second).hexdigest())]
    assert peak < len(first) // 4, peak  # the 4 MB of base 64 never became a string
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    result = run_cli(node, "import", str(dump), "--quiet")
    assert result.code == 0 and "2 file versions (2 new)" in result.out, str(result)
    n = Node.open(node)
    try:
        versions = n.store.file_versions(n.store.page("tw", 6, "Big.jpg").id)
        assert [v.sha256 for v in reversed(versions)] == [hashlib.sha256(d).hexdigest() for d in (first, second)]
        assert b"".join(n.store.file_chunks(versions[0])) == second
    finally:
        n.close()


def test_contents_that_are_not_base64_or_disagree_skip_their_page_alone(tmp_path):
    good, bad = jpeg(0.01, 3), jpeg(0.01, 4)
    body = (page(1, "Good.jpg", upload("Good.jpg", good, "2020-01-01T00:00:00Z"))
            + page(2, "Garbled.jpg", upload("Garbled.jpg", bad, "2020-01-01T00:00:00Z", contents="@@not base64@@"))
            + page(3, "Short.jpg", upload("Short.jpg", bad, "2020-01-01T00:00:00Z",
                                          contents=base64.b64encode(bad).decode()[:-3]))
            + page(4, "Wrong.jpg", upload("Wrong.jpg", bad, "2020-01-01T00:00:00Z", sha1="0" * 31)))
    dump = tmp_path / "bad.xml"
    dump.write_text(HEAD + body + "</mediawiki>\n")
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    result = run_cli(node, "import", str(dump), "--quiet")
    assert result.code == 0 and "3 pages skipped" in result.out, str(result)
    for name, why in (("Garbled.jpg", "not valid base 64"), ("Short.jpg", "stray characters"),
                      ("Wrong.jpg", "SHA-1")):
        line = next(line for line in result.err.splitlines() if f"File:{name}" in line)
        assert why in line and "byte offset" in line, line
    n = Node.open(node)
    try:
        assert n.store.page("tw", 6, "Good.jpg") is not None
        assert all(n.store.page("tw", 6, name) is None for name in ("Garbled.jpg", "Short.jpg", "Wrong.jpg"))
    finally:
        n.close()


def test_export_writes_the_files_back_as_dumpbackup_does(tmp_path):
    first, second = jpeg(1.5, 5), jpeg(0.2, 6)
    dump = tmp_path / "in.xml"
    dump.write_text(HEAD + page(1, "Two.jpg", upload("Two.jpg", first, "2020-01-01T00:00:00Z")
                                + upload("Two.jpg", second, "2020-01-03T00:00:00Z")) + "</mediawiki>\n")
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    assert run_cli(node, "import", str(dump), "--quiet").code == 0
    meta_only = tmp_path / "meta.xml"
    assert run_cli(node, "export", "tw", "--uploads", "-o", str(meta_only)).code == 0
    assert "<contents" not in meta_only.read_text() and meta_only.read_text().count("<upload>") == 2
    out = tmp_path / "out.xml"
    assert run_cli(node, "export", "tw", "--include-files", "-o", str(out)).code == 0
    text = out.read_text()
    assert "<archivename>20200103000000!Two.jpg</archivename>" in text  # the earlier version, replaced then
    files = [p for p in read_dump(out.open("rb")) if hasattr(p, "files")][0].files
    assert [(u.timestamp, u.contents.read()) for u in files] == \
        [("2020-01-01T00:00:00Z", first), ("2020-01-03T00:00:00Z", second)]
    assert [u.sha1_base36 for u in files] == [sha1_base36(hashlib.sha1(d).hexdigest()) for d in (first, second)]


def test_an_upload_over_the_limit_is_refused_once_its_decoded_size_passes_it(tmp_path):
    limit = 1 << 20
    big, small = jpeg(3, 5), jpeg(0.01, 6)
    dump = tmp_path / "over.xml"
    dump.write_text(HEAD + page(1, "Over.jpg", upload("Over.jpg", big, "2020-01-01T00:00:00Z"))
                    + page(2, "Fine.jpg", upload("Fine.jpg", small, "2020-01-01T00:00:00Z")) + "</mediawiki>\n")
    pages = [p for p in read_dump(dump.open("rb"), max_file=limit) if hasattr(p, "files")]
    over, fine = pages
    assert over.files == [] and f"limit of {limit} bytes" in over.problem, over.problem
    decoded = int(re.search(r"more than (\d+) bytes", over.problem).group(1))
    assert limit < decoded < 2 * limit < len(big)  # it stopped near the limit, not after decoding all 3 MB
    assert fine.problem is None and fine.files[0].contents.size == len(small)


def test_a_dump_of_several_batches_with_files_goes_through_the_pipeline(tmp_path):
    """Pages with files travel with the rest of a dump the workers build (their bytes stay with the writer)."""
    words = " ".join(f"word{n}" for n in range(150_000))  # ~1.3 MB a page: batches end past 4 MB
    text_pages = "".join(
        f"<page><title>Long {n}</title><ns>0</ns><id>{100 + n}</id><revision><id>{100 + n}</id>"
        f"<timestamp>2020-01-01T00:00:00Z</timestamp><contributor><username>Bob</username><id>3</id>"
        f"</contributor><model>wikitext</model><format>text/x-wiki</format>"
        f'<text xml:space="preserve">{n} {words}</text></revision></page>\n' for n in range(8))
    image = jpeg(0.2, 4)
    dump = tmp_path / "mixed.xml"
    dump.write_text(HEAD + text_pages[:len(text_pages) // 2].rsplit("<page>", 1)[0]
                    + page(1, "Mid.jpg", upload("Mid.jpg", image, "2020-01-01T00:00:00Z"))
                    + "<page>" + text_pages[:len(text_pages) // 2].rsplit("<page>", 1)[1]
                    + text_pages[len(text_pages) // 2:] + "</mediawiki>\n")
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    result = run_cli(node, "import", "--quiet", str(dump), timeout=300)
    assert result.code == 0 and "Traceback" not in result.err, str(result)
    assert "imported 9 pages" in result.out and "1 file versions (1 new)" in result.out, result.out
    n = Node.open(node)
    try:
        assert n.store.page("tw", 6, "Mid.jpg") is not None
        assert all(n.store.page("tw", 0, f"Long {i}") is not None for i in range(8))
    finally:
        n.close()
