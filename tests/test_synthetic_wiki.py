"""The synthetic Wikipedia of bench/synthetic_wiki.py: deterministic, streamed, importable, and shaped as it says."""

from __future__ import annotations

import bz2
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import synthetic_wiki  # noqa: E402
from bench.synthetic_wiki import Shape, write_dump  # noqa: E402
from conftest import run_cli  # noqa: E402
from wikipeer.formats.dump_reader import SiteInfo, read_dump  # noqa: E402

LINK = re.compile(r"\[\[([^|\]]+)")
TEMPLATE = re.compile(r"\{\{([^|}\n:]+)[|}\n]")


def bz2_streams(data: bytes) -> int:
    """How many concatenated bz2 streams ``data`` holds."""
    count = 0
    while data:
        decompressor = bz2.BZ2Decompressor()
        decompressor.decompress(data)
        assert decompressor.eof, "a bz2 stream is cut off"
        data = decompressor.unused_data
        count += 1
    return count


@pytest.fixture(scope="module")
def wiki(tmp_path_factory) -> tuple[Shape, dict[str, tuple[int, str, bool]]]:
    """A 2,000-page synthetic wiki, read back: full title -> (ns, text, is a redirect)."""
    path = tmp_path_factory.mktemp("synth") / "wiki.xml.bz2"
    write_dump(path, 2000, seed=3, jobs=1)
    pages = {}
    with bz2.open(path, "rb") as stream:
        for item in read_dump(stream):
            if isinstance(item, SiteInfo):
                continue
            assert not item.problem, item.problem
            pages[item.title] = (item.ns, item.revisions[0].text, bool(item.redirect))
    return Shape(2000, 3), pages


def test_same_seed_same_bytes_whatever_the_workers(tmp_path):
    one, two, other = tmp_path / "one.xml.bz2", tmp_path / "two.xml.bz2", tmp_path / "other.xml.bz2"
    write_dump(one, 1200, seed=7, jobs=1)
    write_dump(two, 1200, seed=7, jobs=2)
    write_dump(other, 1200, seed=8, jobs=1)
    assert one.read_bytes() == two.read_bytes()
    assert one.read_bytes() != other.read_bytes()


def test_written_as_one_bz2_stream_per_chunk_and_described_beside(tmp_path):
    path = tmp_path / "wiki.xml.bz2"
    info = write_dump(path, 1200, seed=7, jobs=2)
    shape = Shape(1200, 7)
    assert shape.chunks() == 3
    assert bz2_streams(path.read_bytes()) == shape.chunks() + 2  # siteinfo, the chunks, the footer
    assert info.xml_bytes == len(bz2.decompress(path.read_bytes()))
    assert synthetic_wiki.existing_dump(path, 1200, 7) == info
    assert synthetic_wiki.existing_dump(path, 1200, 8) is None  # another seed is another dump
    path.write_bytes(path.read_bytes()[:-10])
    assert synthetic_wiki.existing_dump(path, 1200, 7) is None  # not the file that was written


def test_wikipeer_import_takes_it_whole(tmp_path):
    path = tmp_path / "wiki.xml.bz2"
    write_dump(path, 300, seed=2, jobs=1)
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    result = run_cli(node, "import", "--quiet", "--wait-index", str(path))  # searched next
    assert result.code == 0, result
    assert "imported 300 pages, 300 revisions (300 new) into synthwiki; 0 pages skipped" in result.out
    assert "warning" not in result.err
    found = run_cli(node, "search", synthetic_wiki.page_title(Shape(300, 2), Shape(300, 2).article_index(5))[1])
    assert found.code == 0 and "no pages match" not in found.out


def test_kinds_and_redirects(wiki):
    shape, pages = wiki
    assert len(pages) == 2000  # every title unique
    kinds = Counter(shape.kind(i) for i in range(2000))
    assert kinds["template"] == shape.templates == 50
    assert kinds["category"] == shape.categories == 40
    redirects = [t for t, (_, _, r) in pages.items() if r]
    assert len(redirects) == kinds["redirect"]
    assert 0.30 <= len(redirects) / len(pages) <= 0.35  # about a third of titles
    for title in redirects:
        target = re.match(r"#REDIRECT \[\[([^\]]+)\]\]", pages[title][1]).group(1)
        assert target in pages and not pages[target][2], f"{title} -> {target}: not an article"


def test_sizes_long_tailed_with_stubs(wiki):
    _, pages = wiki
    sizes = sorted(len(text.encode()) for ns, text, red in pages.values() if ns == 0 and not red)
    median, mean = statistics.median(sizes), statistics.mean(sizes)
    assert 2000 <= median <= 3500  # a few KB
    assert mean > 1.3 * median  # a long right tail
    assert sizes[-1] > 10 * median
    stubs = sum("-stub}}" in text for ns, text, red in pages.values() if ns == 0 and not red)
    assert 0.07 <= stubs / len(sizes) <= 0.17


def test_templates_used_with_real_frequencies_and_all_exist(wiki):
    _, pages = wiki
    articles = [text for ns, text, red in pages.values() if ns == 0 and not red]
    used = Counter(name.strip() for text in articles for name in set(TEMPLATE.findall(text)))
    share = {name: used[name] / len(articles) for name in ("Short description", "Reflist", "Cite web", "Coord")}
    assert 0.78 <= share["Short description"] <= 0.92
    assert 0.72 <= share["Reflist"] <= 0.88
    assert 0.45 <= share["Cite web"] <= 0.85
    assert 0.10 <= share["Coord"] <= 0.25
    for name in used:
        if not name.startswith(("DEFAULTSORT", "#")):
            assert f"Template:{name}" in pages, f"{{{{{name}}}}} has no template page"
    assert len(used) > 40  # the named ones and a tail of generic ones


def test_links_resolve_and_follow_a_power_law(wiki):
    _, pages = wiki
    indegree = Counter()
    categories = Counter()
    for ns, text, red in pages.values():
        if ns != 0 or red:
            continue
        for target in LINK.findall(text):
            (categories if target.startswith("Category:") else indegree)[target] += 1
    assert all(t in pages for t in indegree), "a link to no page"
    assert all(c in pages for c in categories), "a category with no page"
    links = sum(indegree.values())
    counts = sorted(indegree.values(), reverse=True)
    top_share = sum(counts[:len(counts) // 100]) / links  # the most linked 1% of linked pages
    assert 0.05 <= top_share <= 0.5
    assert counts[0] / links <= 0.1  # no page takes most links
    assert statistics.median(counts) * 20 <= counts[0]  # most pages few in-links, a few very many
    articles = sum(1 for ns, _, red in pages.values() if ns == 0 and not red)
    assert 5 <= links / articles <= 60  # links per article
