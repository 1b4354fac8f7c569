"""Import benchmark: the four non-English samples, decompressed, through `wikipeer import`.

Anchors in the same run, on the same decompressed bytes:
- a bare lxml iterparse pass with element clearing (the parse floor);
- mwxml's parse of every revision's text;
- MediaWiki's importDump.php in its default mode, where MediaWiki is installed
  (on the Ukrainian sample only: at its rate the four would take minutes).
"""

from __future__ import annotations

import lzma
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "wikipedia"
NAMES = ["ukwiki", "viwiki", "jawiki", "mrwiki"]


def _decompress(tmp: Path) -> list[Path]:
    out = []
    for name in NAMES:
        path = tmp / f"{name}.xml"
        path.write_bytes(lzma.decompress((SAMPLES / f"{name}-truncated-100k.xml.xz").read_bytes()))
        out.append(path)
    return out


def lxml_floor(paths: list[Path]) -> tuple[float, int]:
    """Seconds for a bare iterparse over the files, and revisions seen."""
    revisions = 0
    start = time.perf_counter()
    for path in paths:
        try:
            for _, elem in etree.iterparse(str(path), events=("end",), huge_tree=True):
                if elem.tag.endswith("}revision"):
                    revisions += 1
                if elem.tag.endswith("}page"):
                    elem.clear()
        except etree.XMLSyntaxError:
            pass  # the samples are cut off; every complete page was read
    return time.perf_counter() - start, revisions


def mwxml_rate(paths: list[Path]) -> float:
    import mwxml

    start = time.perf_counter()
    for path in paths:
        try:
            with open(path, "rb") as stream:
                for page in mwxml.Dump.from_file(stream):
                    for revision in page:
                        _ = revision.text
        except Exception:  # mwxml raises its own errors at the cut; complete pages were read
            pass
    return time.perf_counter() - start


def ours(paths: list[Path], tmp: Path) -> tuple[float, str]:
    node = tmp / "node"
    cli = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    start = time.perf_counter()
    summaries = []
    for path in paths:
        result = subprocess.run([*cli, "import", "--quiet", "--wait-index", str(path)], capture_output=True,
                                text=True)  # the whole command, index included
        if result.returncode not in (0, 3):
            raise RuntimeError(f"import of {path.name} failed: {result.stderr}")
        summaries.append(result.stdout.strip())
    seconds = time.perf_counter() - start
    stats = subprocess.run([*cli, "stats"], capture_output=True, text=True).stdout
    return seconds, "\n".join(summaries) + "\n" + stats


def data_in(paths: list[Path], tmp: Path) -> float:
    """Seconds until the data is in (``wikipeer import --index-later``: the search index is built behind,
    by the indexer, and not timed here), process start included."""
    node = tmp / "data-in"
    cli = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    start = time.perf_counter()
    for path in paths:
        result = subprocess.run([*cli, "import", "--quiet", "--index-later", str(path)], capture_output=True, text=True)
        if result.returncode not in (0, 3):
            raise RuntimeError(f"import of {path.name} failed: {result.stderr}")
    return time.perf_counter() - start


def mediawiki(path: Path, tmp: Path, revisions: int) -> float | None:
    """importDump.php's revisions per second on one sample, or None without MediaWiki."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from mediawiki_instance import MediaWikiInstance, MediaWikiUnavailable, check_available
        check_available()
    except (ImportError, MediaWikiUnavailable) as exc:
        print(f"  (importDump.php not measured: {exc})")
        return None
    with MediaWikiInstance(tmp / "mw", dbname="ukwiki", lang="uk") as wiki:
        wiki.install()
        result = wiki.import_dump(path, check=False)
    return revisions / result.seconds


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        paths = _decompress(tmp)
        size = sum(p.stat().st_size for p in paths)
        floor_s, revisions = lxml_floor(paths)
        mwxml_s = mwxml_rate(paths)
        ours_s, report = ours(paths, tmp)
        data_s = data_in(paths, tmp)
        print("  " + report.replace("\n", "\n  "))
        uk_revisions = lxml_floor(paths[:1])[1]
        mw_rate = mediawiki(paths[0], tmp, uk_revisions)
    mb = size / 1e6
    results = {
        "XML MB (decompressed)": mb,
        "revisions (complete pages)": revisions,
        "ours MB/s": mb / ours_s,
        "ours revisions/s": revisions / ours_s,
        "lxml iterparse floor MB/s": mb / floor_s,
        "mwxml MB/s": mb / mwxml_s,
        "ours / lxml floor": floor_s / ours_s,
        "data in MB/s (index left out)": mb / data_s,
        "data in / lxml floor": floor_s / data_s,
        "ours / mwxml": mwxml_s / ours_s,
    }
    if mw_rate is not None:
        results["importDump.php revisions/s (ukwiki)"] = mw_rate
        results["ours / importDump.php (revisions/s)"] = (revisions / ours_s) / mw_rate
    return results
