"""The search index on the four real samples: time to build it behind the import, its size, its quality.

Per sample (uk, vi, ja, mr; one revision per page), into a fresh node each:

- data in: ``wikipeer import --index-later`` (process start included);
- index: ``wikipeer index`` afterwards (the catch-up a server or the command does);
  on code without the indexer (the "before" run) import builds the index in the
  same transaction, and only the total is measured;
- size: dbstat bytes of the index tables (search_tri*, search_short*, search_state)
  against the whole store, and per page;
- quality: the fixed queries of bench/fts_tokenizers.py for the sample's language,
  each run through ``Store.search`` for every result, compared with a brute-force
  scan of every page's title and shown text under the documented semantics (3+
  character terms and terms of unspaced scripts are substrings, other 1-2 character
  terms whole words): recall and precision over all (query, page) pairs.

    PYTHONPATH=src python -m bench.search_index_bench            # this code
    PYTHONPATH=/old/src python -m bench.search_index_bench       # another version of it

Prints one JSON object per sample and a total.
"""

from __future__ import annotations

import json
import lzma
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.fts_tokenizers import QUERIES, ground_truth, parse_query

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "wikipedia"
NAMES = {"uk": "ukwiki", "vi": "viwiki", "ja": "jawiki", "mr": "mrwiki"}
INDEX_TABLES = ("search_tri", "search_short", "search_state")


def _cli(node: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), *args],
                          capture_output=True, text=True)


def _timed(node: Path, *args: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one command: the machine is shared, and CPU time says more than wall time."""
    start, cpu = time.perf_counter(), _children_cpu()
    result = _cli(node, *args)
    if result.returncode not in (0, 3):  # 3: the truncated sample's cut is reported
        raise RuntimeError(f"wikipeer {' '.join(args)} failed: {result.stderr}")
    return time.perf_counter() - start, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _sizes(node: Path) -> tuple[int, int]:
    """(index bytes, store bytes) from dbstat: the b-tree pages each table and index takes."""
    import sqlite3

    with sqlite3.connect(node / "store.sqlite") as conn:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    index = sum(size for name, size in rows if name.startswith(INDEX_TABLES))
    return index, sum(size for _, size in rows)


def _quality(node_dir: Path, lang: str) -> dict:
    from wikipeer.node import Node

    node = Node.open(node_dir)
    store = node.store
    pages = {}
    rows = store.pages(NAMES[lang])
    shown = store.shown_head_ids(node.view().trusted, [row.id for row in rows])  # what the index follows
    for row in rows:
        title = node.wiki_or_default(row.wiki).full_title(row.ns, row.title)
        pages[title] = (title + "\n" + store.revision_text(store.revision_by_id(shown[row.id]))).lower()
    found = relevant = true_hits = 0
    per_query = {}
    for q_lang, _, q in QUERIES:
        if q_lang != lang:
            continue
        truth = ground_truth(pages, parse_query(q))
        ours = {node.wiki_or_default(row.wiki).full_title(row.ns, row.title)
                for row, _ in store.search(q, limit=1_000_000)}
        found += len(ours)
        relevant += len(truth)
        true_hits += len(ours & truth)
        per_query[q] = [len(truth), len(ours & truth), len(ours - truth)]
    node.close()
    return {"found": found, "relevant": relevant, "correct": true_hits, "per_query": per_query}


def run_sample(lang: str, tmp: Path) -> dict:
    xml = tmp / f"{lang}.xml"
    xml.write_bytes(lzma.decompress((SAMPLES / f"{NAMES[lang]}-truncated-100k.xml.xz").read_bytes()))
    node = tmp / f"node-{lang}"
    _cli(node, "init")
    behind = _cli(node, "index", "--help").returncode == 0
    out: dict = {"sample": lang, "xml_mb": xml.stat().st_size / 1e6}
    if behind:
        out["data_in_s"], out["data_in_cpu_s"] = _timed(node, "import", "--quiet", "--index-later", str(xml))
        out["index_s"], out["index_cpu_s"] = _timed(node, "index", "--quiet")
        out["index_over_data_in_cpu"] = out["index_cpu_s"] / out["data_in_cpu_s"]
    else:
        out["import_with_index_s"], out["import_with_index_cpu_s"] = _timed(node, "import", "--quiet", str(xml))
    index, total = _sizes(node)
    quality = _quality(node, lang)
    pages = _page_count(node)
    out.update(pages=pages, index_bytes=index, store_bytes=total, index_share=index / total,
               index_bytes_per_page=index / pages, **quality)
    return out


def _page_count(node: Path) -> int:
    import sqlite3

    with sqlite3.connect(node / "store.sqlite") as conn:
        return conn.execute("SELECT count(*) FROM pages").fetchone()[0]


def main() -> int:
    results = []
    with tempfile.TemporaryDirectory() as name:
        for lang in NAMES:
            result = run_sample(lang, Path(name))
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    total = {key: sum(r.get(key, 0) for r in results)
             for key in ("data_in_s", "data_in_cpu_s", "index_s", "index_cpu_s", "import_with_index_s",
                         "import_with_index_cpu_s", "index_bytes", "store_bytes", "pages", "found", "relevant",
                         "correct")}
    total["recall"] = total["correct"] / total["relevant"]
    total["precision"] = total["correct"] / total["found"] if total["found"] else 1.0
    total["index_share"] = total["index_bytes"] / total["store_bytes"]
    total["index_bytes_per_page"] = total["index_bytes"] / total["pages"]
    print(json.dumps({"total": total}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
