"""Size benchmark: bytes per revision on disk, ours against fossil, git and the xz'd XML dump (issue 15, item 6).

The same content everywhere: 500 pages x 10 revisions of 5 KB pseudo-prose
(bench/synthetic.py), 5,000 revisions. Ours twice: through `wikipeer import` of
an XML dump of that history (each revision signed by the node, with its import
provenance) and through ingest of the signed blocks; both after VACUUM, with a
dbstat breakdown of where the bytes go. Fossil after `fossil rebuild --vacuum`;
git after `git gc --aggressive` (and its pack file alone); the XML dump xz'd.

The floor is what a signed, content-addressed store cannot do without: each
text zstd-compressed (level 3) against its parent's (a full text every 16, as
the store chains them), one 64-byte signature and one 32-byte hash a revision.

Then the four real samples (one revision per page) imported into one node,
with and without the search index, against a git repository of the same pages
(one commit per page, `gc --aggressive`) and the .xml.xz files.
"""

from __future__ import annotations

import hashlib
import lzma
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import zstandard
from lxml import etree

from bench import fossil_repo, git_repo
from bench.import_bench import NAMES, SAMPLES
from bench.synthetic import history
from wikipeer.formats.dump_reader import sha1_base36
from wikipeer.ingest import ingest
from wikipeer.store.store import Store

PAGES, REVISIONS, TEXT_BYTES, BATCH = 500, 10, 5000, 500
CHAIN = 16
SEARCH_TABLES = ("search_tri", "search_short", "search_state")
USERS = ("Alice", "Bob", "Carol", "Dmitri", "Eve")


def _size(path: Path) -> int:
    """Bytes of a file and its SQLite companions (-wal, -shm)."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def vacuum(path: Path) -> int:
    """VACUUM a store (after its WAL is folded in); returns its size."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return _size(path)


def breakdown(path: Path) -> dict[str, int]:
    """Bytes per table and index (dbstat's page sizes), largest first; FTS5 shadow tables under their table."""
    conn = sqlite3.connect(path)
    sizes: dict[str, int] = {}
    for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
        for table in SEARCH_TABLES:
            if name.startswith(table + "_"):
                name = table
        sizes[name] = sizes.get(name, 0) + size
    conn.close()
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def search_bytes(path: Path) -> int:
    """Bytes the search index takes in a store."""
    return sum(v for k, v in breakdown(path).items() if k in SEARCH_TABLES)


# -- the synthetic history ---------------------------------------------------

def synthetic() -> list[tuple[int, int, str, list]]:
    """(page number, revision number, text, signed blocks) of every revision, page by page."""
    out = []
    for n, (text, blocks) in enumerate(history(PAGES, REVISIONS, TEXT_BYTES)):
        out.append((n // REVISIONS, n % REVISIONS, text, blocks))
    return out


def write_dump(path: Path, revisions: list[tuple[int, int, str, list]]) -> None:
    """The history as a MediaWiki XML export (contributors, comments and SHA-1s as a real dump has them)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">\n'
                  "<siteinfo><sitename>Bench</sitename><dbname>benchwiki</dbname><base>https://bench.example.org/"
                  "wiki/Main_Page</base><case>first-letter</case><namespaces><namespace key=\"0\" case=\"first-letter\" />"
                  "</namespaces></siteinfo>\n")
        rev_id = 0
        for page, number, text, _ in revisions:
            if number == 0:
                out.write(f"<page><title>Page {page}</title><ns>0</ns><id>{page + 1}</id>\n")
            rev_id += 1
            user = USERS[(page + number) % len(USERS)]
            parent = f"<parentid>{rev_id - 1}</parentid>" if number else ""
            data = text.encode("utf-8")
            stamp = f"2020-{1 + page % 12:02d}-{1 + number:02d}T{page % 24:02d}:{number:02d}:00Z"
            out.write(f"<revision><id>{rev_id}</id>{parent}<timestamp>{stamp}</timestamp><contributor><username>"
                      f"{user}</username><id>{1 + USERS.index(user)}</id></contributor><comment>edit {number} of "
                      f"page {page}</comment><model>wikitext</model><format>text/x-wiki</format><text bytes=\""
                      f"{len(data)}\" xml:space=\"preserve\">{escape(text)}</text><sha1>{sha1_base36(data)}</sha1>"
                      "</revision>\n")
            if number == REVISIONS - 1:
                out.write("</page>\n")
        out.write("</mediawiki>\n")


def floor(texts: list[str]) -> float:
    """Bytes per revision of the signed floor: chained zstd texts + 64-byte signature + 32-byte hash."""
    compressor = zstandard.ZstdCompressor(level=3)
    total = 0
    for n, text in enumerate(texts):
        data = text.encode("utf-8")
        number = n % REVISIONS
        if number % CHAIN == 0:
            total += len(compressor.compress(data))
        else:
            base = zstandard.ZstdCompressionDict(texts[n - 1].encode("utf-8"), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
            total += len(zstandard.ZstdCompressor(level=3, dict_data=base).compress(data))
    return total / len(texts) + 64 + 32


# -- ours ---------------------------------------------------------------------

def _cli(node: Path) -> list[str]:
    return [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]


def import_node(node: Path, dumps: list[Path]) -> Path:
    """A node with these dumps imported; returns its store."""
    subprocess.run([*_cli(node), "init"], check=True, capture_output=True)
    for dump in dumps:
        result = subprocess.run([*_cli(node), "import", "--quiet", str(dump)], capture_output=True, text=True)
        if result.returncode not in (0, 3):  # 3: a truncated sample, every complete page imported
            raise RuntimeError(f"import of {dump.name} failed: {result.stderr[-2000:]}")
    return node / "store.sqlite"


def ingest_store(path: Path, revisions: list[tuple[int, int, str, list]]) -> Path:
    store = Store(path)
    for start in range(0, len(revisions), BATCH):
        blocks = [b for _, _, _, bs in revisions[start:start + BATCH] for b in bs]
        ingest(store, blocks, "bench")
    store.close()
    return path


# -- fossil and git -----------------------------------------------------------

def fossil_size(repo: Path, revisions: list[tuple[int, int, str, list]]) -> int:
    fossil_repo.init(repo)
    loader = fossil_repo.Loader(repo)
    loader.start()
    for page, _, text, _ in revisions:
        loader.put(fossil_repo.page_name("bench", 0, f"Page {page}"), text)
    loader.close()
    loader.join()
    if loader.error is not None:
        raise RuntimeError(f"fossil loader: {loader.error}")
    subprocess.run(["fossil", "rebuild", "--vacuum", str(repo)], check=True, capture_output=True, env=fossil_repo.env())
    return repo.stat().st_size


def git_sizes(repo: Path, revisions: Iterator[tuple[str, str]]) -> tuple[int, int]:
    """(whole repository, pack alone) after `git gc --aggressive`."""
    git_repo.build(repo, revisions)
    subprocess.run(["git", "gc", "--aggressive", "--prune=now", "--quiet"], cwd=repo, check=True)
    pack = sum(p.stat().st_size for p in (repo / "objects" / "pack").glob("*.pack"))
    return _tree_size(repo), pack


def sample_pages(path: Path) -> Iterator[tuple[str, str]]:
    """(path, text) of every complete page of a sample (the last is cut off), for git."""
    wiki = path.name.split("-")[0]
    title = ns = None
    try:
        for _, elem in etree.iterparse(str(path), events=("end",), huge_tree=True):
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "title":
                title = elem.text or ""
            elif tag == "ns":
                ns = int(elem.text or 0)
            elif tag == "text":
                text = elem.text or ""
            elif tag == "page":
                yield git_repo.file_path(wiki, ns or 0, title or ""), text
                elem.clear()
    except etree.XMLSyntaxError:
        return


# -- the benchmark --------------------------------------------------------------

def _per_rev(sizes: dict[str, int], revisions: int, label: str, page: int = 8192) -> dict[str, float]:
    """Bytes per revision of each table and index, as result lines under ``label``; those of one page (empty,
    or nearly: a fixed cost whatever the store holds) summed on one line."""
    out = {f"  {label}: {name}": size / revisions for name, size in sizes.items() if size > page}
    small = [size for size in sizes.values() if size <= page]
    out[f"  {label}: {len(small)} tables and indexes of one page"] = sum(small) / revisions
    return out


def synthetic_figures(tmp: Path) -> dict[str, float]:
    revisions = synthetic()
    total = len(revisions)
    dump = tmp / "bench.xml"
    write_dump(dump, revisions)
    imported = import_node(tmp / "node", [dump])
    import_bytes = vacuum(imported)
    ingested = ingest_store(tmp / "ingest.sqlite", revisions)
    ingest_bytes = vacuum(ingested)
    fossil_bytes = fossil_size(tmp / "bench.fossil", revisions)
    git_bytes, pack_bytes = git_sizes(tmp / "bench.git", ((git_repo.file_path("bench", 0, f"Page {p}"), t)
                                                            for p, _, t, _ in revisions))
    xz_bytes = len(lzma.compress(dump.read_bytes()))
    floor_bytes = floor([t for _, _, t, _ in revisions])
    results: dict[str, float] = {
        "revisions": total,
        "ours via import bytes/rev": import_bytes / total,
        "ours via import, no search index": (import_bytes - search_bytes(imported)) / total,
        "ours via ingest bytes/rev": ingest_bytes / total,
        "fossil (rebuild --vacuum) bytes/rev": fossil_bytes / total,
        "git (gc --aggressive) bytes/rev": git_bytes / total,
        "git pack alone bytes/rev": pack_bytes / total,
        "XML dump xz bytes/rev": xz_bytes / total,
        "signed floor bytes/rev": floor_bytes,
        "import / git": import_bytes / git_bytes,
        "ingest / git": ingest_bytes / git_bytes,
        "import / floor": import_bytes / total / floor_bytes,
        "ingest / floor": ingest_bytes / total / floor_bytes,
        "dbstat bytes/rev (tables of a byte a revision or more)": "",
    }
    results.update(_per_rev(breakdown(imported), total, "import"))
    results.update(_per_rev(breakdown(ingested), total, "ingest"))
    return results


def sample_figures(tmp: Path) -> dict[str, float]:
    paths = []
    for name in NAMES:
        path = tmp / f"{name}.xml"
        path.write_bytes(lzma.decompress((SAMPLES / f"{name}-truncated-100k.xml.xz").read_bytes()))
        paths.append(path)
    store = import_node(tmp / "samples", paths)
    ours = vacuum(store)
    index = search_bytes(store)
    git_bytes, pack_bytes = git_sizes(tmp / "samples.git", (page for p in paths for page in sample_pages(p)))
    xz_bytes = sum((SAMPLES / f"{n}-truncated-100k.xml.xz").stat().st_size for n in NAMES)
    pages = sqlite3.connect(store).execute("SELECT count(*) FROM revisions").fetchone()[0]
    results: dict[str, float] = {
        "samples: revisions (one per page)": pages,
        "samples: ours MB": ours / 1e6,
        "samples: search index MB": index / 1e6,
        "samples: git (gc --aggressive) MB": git_bytes / 1e6,
        "samples: git pack alone MB": pack_bytes / 1e6,
        "samples: .xml.xz MB": xz_bytes / 1e6,
        "samples: ours / git": ours / git_bytes,
        "samples: ours without index / git": (ours - index) / git_bytes,
        "samples: ours / .xml.xz": ours / xz_bytes,
        "samples: index share": index / ours,
        "samples: dbstat MB": "",
    }
    results.update({f"  samples: {k}": v / 1e6 for k, v in breakdown(store).items() if v >= 10_000})
    return results


def run(samples: bool = True) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results = synthetic_figures(tmp)
        if samples:
            results.update(sample_figures(tmp))
    return results


if __name__ == "__main__":
    for key, value in run(samples="--no-samples" not in sys.argv).items():
        print(f"  {key:<40} {value:,.3f}" if isinstance(value, float) else f"  {key:<40} {value}")
