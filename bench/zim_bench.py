"""ZIM export (issue 17): `wikipeer export --zim` against zimwriterfs on the same rendered pages, and the
`--since` refresh after 1% of the pages changed against a full export.

The wiki: bench/synthetic_wiki.py, PAGES pages (templates, categories, articles, a third of the titles
redirects), imported with `wikipeer import`. Anchors, timed in the same run:

- zimwriterfs (Debian's zim-tools) given our full export's rendered pages as a folder of HTML files
  (redirects left out, as it takes only files), with the same full-text index: pages/s of each, ours
  including the rendering that zimwriterfs is spared;
- the full export itself, for `--since` after CHANGED_SHARE of the articles got a new revision; and
  `--since` with nothing changed, which is libzim's floor: every entry compressed and indexed again.

Set ZIM_BENCH_PAGES for another size (default 3,000).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import servers, synthetic_wiki

PAGES = int(os.environ.get("ZIM_BENCH_PAGES", "3000"))
CHANGED_SHARE = 0.01
SEED = 1
WIKI = "synthwiki"


def _cli(node: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), *args]


def _timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr[-2000:]}")
    return seconds, result.stderr


def _folder_of(zim: Path, folder: Path) -> int:
    """The ZIM's HTML pages, stylesheet and files as a folder zimwriterfs can read; returns the pages."""
    from libzim.reader import Archive

    archive = Archive(zim)
    pages = 0
    for number in range(archive.entry_count):
        entry = archive._get_entry_by_id(number)
        if entry.is_redirect:
            continue
        item = entry.get_item()
        target = folder / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bytes(item.content))
        pages += item.mimetype == "text/html"
    return pages


def _change(node: Path, share: float) -> int:
    """A new revision of ``share`` of the articles (the pages that are neither redirects nor templates)."""
    from wikipeer.authoring import edit
    from wikipeer.node import Node
    from wikipeer.render.redirect import redirect_target

    opened = Node.open(node)
    try:
        config = opened.wiki_or_default(WIKI)
        articles = []
        for page in opened.store.pages(WIKI):
            head = opened.view().shown(opened.store, page.id) if page.ns == 0 else None
            if head is not None and redirect_target(config, opened.store.revision_text(head)) is None:
                articles.append((page, opened.store.revision_text(head)))
        chosen = random.Random(SEED).sample(articles, max(1, round(len(articles) * share)))
        for page, text in chosen:
            edit(opened, WIKI, page.title, text + "\nA sentence added for the benchmark.\n", "bench")
        return len(chosen)
    finally:
        opened.close()


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        dump = tmp / "synth.xml.bz2"
        synthetic_wiki.write_dump(dump, PAGES, SEED, jobs=2)
        node = tmp / "node"
        subprocess.run(_cli(node, "init"), check=True, capture_output=True)
        subprocess.run(_cli(node, "import", "--quiet", "--index-later", str(dump)), check=True, capture_output=True)

        full = tmp / "full.zim"
        full_s, report = _timed(_cli(node, "export", WIKI, "--zim", str(full)))
        folder = tmp / "folder"
        pages = _folder_of(full, folder)
        anchor = tmp / "zimwriterfs.zim"
        start = time.perf_counter()
        servers.build_zim(folder, anchor, WIKI, "en")
        zimwriterfs_s = time.perf_counter() - start

        floor = tmp / "since0.zim"
        floor_s, _ = _timed(_cli(node, "export", WIKI, "--zim", str(floor), "--since", str(full)))
        changed = _change(node, CHANGED_SHARE)
        since = tmp / "since.zim"
        since_s, since_report = _timed(_cli(node, "export", WIKI, "--zim", str(since), "--since", str(full)))
        results.update({
            "wiki pages (all namespaces)": PAGES,
            "HTML pages in the ZIM": pages,
            "full export s": full_s,
            "full export pages/s": pages / full_s,
            "zimwriterfs s (pages rendered)": zimwriterfs_s,
            "zimwriterfs pages/s": pages / zimwriterfs_s,
            "ours / zimwriterfs (rate)": zimwriterfs_s / full_s,
            "full ZIM MB": full.stat().st_size / 1e6,
            "zimwriterfs ZIM MB": anchor.stat().st_size / 1e6,
            "--since, nothing changed s": floor_s,
            "articles changed": changed,
            "--since after 1% s": since_s,
            "--since / full": since_s / full_s,
            "--since, nothing changed / full": floor_s / full_s,
            "report (full)": report.strip().splitlines()[-1],
            "report (--since)": since_report.strip().splitlines()[-1],
        })
    return results


if __name__ == "__main__":
    for key, value in run().items():
        if isinstance(value, str):
            print(f"  {key:<34} {value}")
        else:
            print(f"  {key:<34} {value:,.3f}" if isinstance(value, float) else f"  {key:<34} {value:,}")
