"""What a results page of 20 hits costs to show as text a reader sees (issue 16, item 1).

Per real sample, the first 20 articles (main namespace, not redirects) as one results page:

- render: the renderer's HTML of each (no templates or modules held: a lower bound; with
  Wikipedia's templates and Lua modules a page takes far longer), then its tags dropped;
- strip: ``model.plaintext.plain_text`` (what ``wikipeer.snippets`` uses, uncached);
- snippet: cutting and marking the snippet from the stripped text (the cached case: a second
  results page, or the same search again).

    PYTHONPATH=src python -m bench.search_snippets_bench

Prints one JSON object per sample: milliseconds for the 20 pages, and the slowest page.
"""

from __future__ import annotations

import json
import lzma
import re
import time
from pathlib import Path

from wikipeer.formats.dump_convert import wiki_config
from wikipeer.formats.dump_reader import DumpError, DumpPage, SiteInfo, read_dump
from wikipeer.render import RenderContext, render
from wikipeer.model.plaintext import hidden_prefixes, plain_text
from wikipeer.snippets import cut
from wikipeer.store.search import Query

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikipedia"
NAMES = ["ukwiki", "viwiki", "jawiki", "mrwiki"]
HITS = 20
_TAG = re.compile(r"<[^>]*>")


def first_articles(path: Path, count: int) -> tuple[SiteInfo, list[DumpPage]]:
    """A dump's siteinfo and its first ``count`` complete articles (main namespace, not redirects)."""
    info, pages = SiteInfo(), []
    with (lzma.open if path.suffix == ".xz" else open)(path, "rb") as stream:
        try:
            for item in read_dump(stream):
                if isinstance(item, SiteInfo):
                    info = item
                elif item.ns == 0 and not item.redirect and not item.problem and item.revisions:
                    pages.append(item)
                    if len(pages) == count:
                        break
        except DumpError:  # a truncated sample: its complete pages are enough
            pass
    return info, pages


def _timed(fn, items) -> tuple[float, float]:
    total = slowest = 0.0
    for item in items:
        start = time.perf_counter()
        fn(item)
        took = time.perf_counter() - start
        total, slowest = total + took, max(slowest, took)
    return round(total * 1000, 1), round(slowest * 1000, 1)


def main() -> None:
    for name in NAMES:
        info, pages = first_articles(SAMPLES / f"{name}-truncated-100k.xml.xz", HITS)
        config = wiki_config(info)
        hidden = hidden_prefixes(config)
        texts = [(p.title, p.revisions[-1].text) for p in pages]

        def rendered(item: tuple[str, str]) -> str:
            title, text = item
            ctx = RenderContext(config=config, title=title, href=lambda t: "/" + t, exists=lambda ts: set(),
                                template=lambda t: None)
            return _TAG.sub("", render(text, ctx).html)

        plain = [" ".join(plain_text(t, hidden).split()) for _, t in texts]
        words = [(p, (re.findall(r"\w{6,}", p) or ["the"])[0]) for p in plain]
        render_ms, render_max = _timed(rendered, texts)
        strip_ms, strip_max = _timed(lambda item: plain_text(item[1], hidden), texts)
        cut_ms, cut_max = _timed(lambda item: cut(item[0], Query.parse(item[1])), words)
        print(json.dumps({"sample": name, "pages": len(texts), "wikitext_kb": sum(len(t) for _, t in texts) // 1000,
                          "render_ms": render_ms, "render_slowest_ms": render_max,
                          "strip_ms": strip_ms, "strip_slowest_ms": strip_max,
                          "snippet_ms": cut_ms, "snippet_slowest_ms": cut_max}))


if __name__ == "__main__":
    main()
