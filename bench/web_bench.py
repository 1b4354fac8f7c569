"""Web benchmark (issue 4): article views, search and first renders over the real samples.

One node holds every sample (uk, vi, ja, mr truncated dumps; the English
ones). In the same run, against anchors serving the same pages:

1. cached article views: wrk cycles through every article URL on our server
   (one uvicorn worker, after one request per page has filled the render
   cache), on nginx serving the same bytes as static files (the ceiling), and
   on kiwix-serve serving them from ZIM files built with zimwriterfs;
2. search: a fixed list of queries in every sample's language, sequential
   requests with httpx, against kiwix-serve's full-text search (Xapian) over
   the same pages;
3. first render: every page of the Vietnamese sample rendered once from its
   wikitext, no cache, with mwparserfromhell's bare parse as the anchor.

Redirect pages are left out of the static copy and the ZIMs (our server shows
the target's text at a redirect's URL; kiwix-serve would answer 302), and out
of the wrk list.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from bench import servers

ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = ROOT.parent / "shared" / "data" / "wikipedia"
SAMPLES = ["ukwiki-truncated-100k.xml.xz", "viwiki-truncated-100k.xml.xz", "jawiki-truncated-100k.xml.xz",
           "mrwiki-truncated-100k.xml.xz", "enwiki-articles-partial.xml", "simplewiki.xml"]
FIRST_RENDER_WIKI = "viwiki"

# Words that occur in the samples (common nouns and place names), a few per language.
QUERIES = {
    "uk": ["Україна", "місто", "населення", "річка"],
    "vi": ["Hà Nội", "thành phố", "chiến tranh", "dân số"],
    "ja": ["東京", "漫画", "大学", "鉄道"],
    "mr": ["भारत", "महाराष्ट्र", "मुंबई", "नदी"],
    "en": ["airport", "typeface", "music", "football"],
}

WRK_SECONDS, WRK_WARMUP_SECONDS, WRK_CONNECTIONS = 10, 2, 8
SEARCH_REPEATS = 3  # timed requests per query and server, after one untimed

console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    xs = sorted(values)
    return xs[max(0, min(len(xs) - 1, math.ceil(q * len(xs)) - 1))]


# -- the node ---------------------------------------------------------------


def build_node(node: Path) -> str:
    cli = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    for name in SAMPLES:
        result = subprocess.run([*cli, "import", "--quiet", "--wait-index", str(SAMPLES_DIR / name)],
                                capture_output=True, text=True, check=False)
        if result.returncode not in (0, 3):  # 3: a truncated sample, every complete page kept
            raise RuntimeError(f"import of {name} failed: {result.stderr}")
    return subprocess.run([*cli, "stats"], capture_output=True, text=True, check=True).stdout


@dataclass(slots=True)
class Page:
    wiki: str
    lang: str
    title: str  # full title, with its namespace
    url: str  # path on our server and on nginx
    rel: str  # file path inside the wiki's folder and the ZIM; "" when it cannot be a file
    redirect: bool = False
    status: int = 0

    @property
    def kiwix_url(self) -> str:
        return f"/{quote(self.wiki)}/{quote(self.rel)}"


def list_pages(node_dir: Path) -> list[Page]:
    from wikipeer.node import Node

    node = Node.open(node_dir)
    pages = []
    try:
        for wiki in node.store.wikis():
            config = node.wiki_or_default(wiki)
            for row in node.store.pages(wiki):
                title = config.full_title(row.ns, row.title)
                name = title.replace(" ", "_")
                pages.append(Page(wiki, config.lang, title, f"/wiki/{quote(wiki)}/{quote(name)}", name))
    finally:
        node.store.close()
    _drop_unfileable(pages)
    return pages


def _drop_unfileable(pages: list[Page]) -> None:
    """Titles that cannot be a file next to the others ("A" and "A/B", "..", long names) get no file."""
    files = {(p.wiki, p.rel) for p in pages}
    for p in pages:
        parts = p.rel.split("/")
        bad = any(part in ("", ".", "..") or len(part.encode()) > 200 for part in parts)
        bad = bad or any((p.wiki, "/".join(parts[:i])) in files for i in range(1, len(parts)))
        bad = bad or p.rel.startswith("__bench_")
        if bad:
            p.rel = ""


# -- warming the cache and the static copy ----------------------------------

_REDIRECTED = re.compile(r'<p class="redirected">')


def warm_and_copy(base: str, pages: list[Page], static: Path) -> list[float]:
    """Request every page once (filling the render cache), keep its bytes as a file; seconds per request."""
    seconds = []
    with httpx.Client(base_url=base, timeout=120) as client, _progress() as progress:
        task = progress.add_task("first views (render cache)", total=len(pages))
        for p in pages:
            start = time.perf_counter()
            response = client.get(p.url)
            seconds.append(time.perf_counter() - start)
            p.status = response.status_code
            p.redirect = bool(_REDIRECTED.search(response.text))
            if p.status == 200 and not p.redirect and p.rel:
                path = static / "wiki" / p.wiki / p.rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(response.content)
            progress.advance(task)
    return seconds


_KIWIX_ROOT_LINK = re.compile(rb'<link type="root" href="[^"]*">')


def check_same(base: str, urls: list[tuple[str, Path]], name: str) -> int:
    """How many of these URLs do not answer 200 with the file's bytes.

    kiwix-serve adds one ``<link type="root" href="...">`` to the head of each page; that is not counted.
    """
    bad = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for url, path in urls:
            response = client.get(url)
            if response.status_code != 200 or _KIWIX_ROOT_LINK.sub(b"", response.content, 1) != path.read_bytes():
                bad += 1
                if bad <= 3:
                    console.print(f"  [yellow]{name}: {url} -> {response.status_code}, "
                                  f"{len(response.content)} bytes (file {path.stat().st_size})[/]")
    return bad


# -- search -------------------------------------------------------------------

_OUR_COUNT = re.compile(r'<p class="count">(\d+) result')
_KIWIX_COUNT = re.compile(r"Results\s*(?:<b>)?\s*[\d,]+-[\d,]+\s*(?:</b>)?\s*of\s*(?:<b>)?\s*([\d,]+)")


def kiwix_fold(query: str) -> str:
    """The query as Debian 12's kiwix-serve indexes words: marks removed ("Hà Nội" -> "Ha Noi").

    kiwix-serve 3.3.0 (libkiwix 11, libzim 8) strips combining marks when indexing but not
    from the query, so a query with a diacritic, a Cyrillic ї or a Devanagari vowel sign
    finds nothing unless the client folds it the same way.
    """
    decomposed = unicodedata.normalize("NFD", query)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")))


def our_hits(body: str) -> int:
    m = _OUR_COUNT.search(body)
    return int(m.group(1)) if m else -1


def kiwix_hits(body: str) -> int:
    if "No results were found" in body:
        return 0
    m = _KIWIX_COUNT.search(re.sub(r"<[^>]+>", "", body))
    return int(m.group(1).replace(",", "")) if m else -1


def time_queries(base: str, requests: list[tuple[str, dict]], count, label: str) -> tuple[list[float], list[int]]:
    """Latencies in ms (SEARCH_REPEATS per query after one untimed) and hits per query."""
    latencies, hits = [], []
    with httpx.Client(base_url=base, timeout=60) as client, _progress() as progress:
        task = progress.add_task(label, total=len(requests))
        for path, params in requests:
            response = client.get(path, params=params)
            response.raise_for_status()
            hits.append(count(response.text))
            for _ in range(SEARCH_REPEATS):
                start = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                latencies.append((time.perf_counter() - start) * 1000)
            progress.advance(task)
    return latencies, hits


# -- first render ---------------------------------------------------------------


def first_render(node_dir: Path, wiki: str) -> tuple[list[float], list[float], list[int], list[str]]:
    """Seconds to render each page of ``wiki`` once, seconds for mwparserfromhell's parse, namespaces, failures."""
    import mwparserfromhell

    from wikipeer.node import Node
    from wikipeer.render import render
    from wikipeer.reading import WikiReader

    node = Node.open(node_dir)
    reader = WikiReader(node, node.wiki_or_default(wiki))
    times, parse_times, namespaces, failures = [], [], [], []
    try:
        rows = node.store.pages(wiki)
        with _progress() as progress:
            task = progress.add_task(f"first render of {wiki}", total=len(rows))
            for row in rows:
                title = reader.config.full_title(row.ns, row.title)
                text = node.store.revision_text(reader.head(title))
                ctx = reader.context(title)
                start = time.perf_counter()
                try:
                    render(text, ctx)
                except Exception as exc:  # noqa: BLE001 -- a page that breaks the renderer is a finding, not the end of the run
                    failures.append(f"{title}: {type(exc).__name__}: {exc}")
                times.append(time.perf_counter() - start)
                namespaces.append(row.ns)
                start = time.perf_counter()
                mwparserfromhell.parse(text)
                parse_times.append(time.perf_counter() - start)
                progress.advance(task)
    finally:
        node.store.close()
    return times, parse_times, namespaces, failures


def render_available() -> bool:
    try:
        from wikipeer.render import render  # noqa: F401
    except ImportError:
        return False
    return True


# -- the run --------------------------------------------------------------------


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    targets: list[tuple[str, str, bool]] = []
    started = last = time.perf_counter()
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        phases[name], last = now - last, now
    with tempfile.TemporaryDirectory(prefix="wikipeer-web-bench-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # nginx's worker may run as another user
        node_dir = tmp / "node"
        console.print("  importing the samples ...")
        stats = build_node(node_dir)
        print("  " + stats.strip().replace("\n", "\n  "))
        pages = list_pages(node_dir)
        lap("import")

        # 3. first render, while no server runs
        if render_available():
            times, parse_times, namespaces, failures = first_render(node_dir, FIRST_RENDER_WIKI)
            ms = [t * 1000 for t in times]
            articles = [t for t, ns in zip(ms, namespaces) if ns == 0]
            results.update({
                f"first render pages ({FIRST_RENDER_WIKI})": len(ms),
                "first render p50 ms": pct(ms, 0.5),
                "first render p99 ms": pct(ms, 0.99),
                "first render max ms": max(ms),
                "first render articles (ns 0)": len(articles),
                "first render p50 ms (ns 0)": pct(articles, 0.5),
                "first render p99 ms (ns 0)": pct(articles, 0.99),
                "mwparserfromhell parse p50 ms": pct([t * 1000 for t in parse_times], 0.5),
                "first render / parse (p50)": statistics.median(times) / max(statistics.median(parse_times), 1e-9),
                "first render failures": len(failures),
            })
            for line in failures[:10]:
                print(f"  render failed: {line[:300]}")
            targets.append(("first render p50 under 50 ms", f"{pct(ms, 0.5):.1f} ms", pct(ms, 0.5) < 50))
        else:
            print("  (first render not measured: wikipeer.render has no render() yet)")
        lap("first render")

        # our server: first views fill the cache, and give the static copy
        static = tmp / "static"
        our_port = servers.free_port()
        our_base = f"http://127.0.0.1:{our_port}"
        with servers.running(servers.ours_command(node_dir, our_port), our_base + "/static/wiki.css", tmp / "ours.log") as ours:
            first_views = warm_and_copy(our_base, pages, static)
            lap("first views")
            failed = [p for p in pages if p.status != 200]
            for p in failed[:10]:
                print(f"  {our_base}{p.url} -> {p.status}")
            served = [p for p in pages if p.status == 200 and not p.redirect and p.rel]
            results.update({
                "pages": len(pages),
                "pages not 200 on first view": len(failed),
                "redirect pages (left out)": sum(p.redirect for p in pages),
                "pages in the view list": len(served),
                "first view through server p50 ms": pct(first_views, 0.5) * 1000,
                "first view through server p99 ms": pct(first_views, 0.99) * 1000,
            })
            paths_file = tmp / "paths.txt"
            paths_file.write_text("".join(p.url + "\n" for p in served))
            kiwix_paths = tmp / "kiwix_paths.txt"
            kiwix_paths.write_text("".join(p.kiwix_url + "\n" for p in served))

            # ZIMs: one per wiki, as Kiwix publishes Wikipedia, each with its full-text index
            wikis = sorted({p.wiki for p in served})
            langs = {p.wiki: p.lang for p in pages}
            zims = [tmp / f"{wiki}.zim" for wiki in wikis]
            console.print(f"  zimwriterfs: {len(zims)} ZIMs with full-text indexes ...")
            with ThreadPoolExecutor(max_workers=3) as pool:
                list(pool.map(lambda w, z: servers.build_zim(static / "wiki" / w, z, w, langs[w]), wikis, zims))
            lap("zimwriterfs")

            nginx_port, kiwix_port = servers.free_port(), servers.free_port()
            nginx_base, kiwix_base = f"http://127.0.0.1:{nginx_port}", f"http://127.0.0.1:{kiwix_port}"
            nginx_cmd = servers.nginx_command(tmp / "nginx", static, nginx_port)
            kiwix_cmd = servers.kiwix_command(zims, kiwix_port)
            with servers.running(nginx_cmd, nginx_base + "/", tmp / "nginx.log"), \
                    servers.running(kiwix_cmd, kiwix_base + "/", tmp / "kiwix.log", env=servers.cjk_env()):
                files = [static / "wiki" / p.wiki / p.rel for p in served]
                results["nginx pages not the same bytes"] = check_same(
                    nginx_base, [(p.url, f) for p, f in zip(served, files)], "nginx")
                results["kiwix pages not the same bytes"] = check_same(
                    kiwix_base, [(p.kiwix_url, f) for p, f in zip(served, files)], "kiwix-serve")

                # 1. cached views: the same wrk settings for all three, one at a time
                views = {}
                for name, base, plist in [("ours", our_base, paths_file), ("nginx", nginx_base, paths_file),
                                          ("kiwix", kiwix_base, kiwix_paths)]:
                    console.print(f"  wrk against {name} ...")
                    servers.wrk(base, plist, WRK_WARMUP_SECONDS, WRK_CONNECTIONS)
                    views[name] = servers.wrk(base, plist, WRK_SECONDS, WRK_CONNECTIONS)
                for name, r in views.items():
                    results[f"views/s {name}"] = r.requests_per_s
                    results[f"views p50 ms {name}"] = r.p50_ms
                    results[f"views p99 ms {name}"] = r.p99_ms
                    results[f"views bad responses {name}"] = r.bad
                lap("wrk")
                results["ours / nginx (views/s)"] = views["ours"].requests_per_s / views["nginx"].requests_per_s
                results["ours / kiwix (views/s)"] = views["ours"].requests_per_s / views["kiwix"].requests_per_s
                results["ours / kiwix (p50)"] = views["ours"].p50_ms / views["kiwix"].p50_ms
                targets.append(("cached views at least 0.25x nginx (one worker)",
                                f"{results['ours / nginx (views/s)']:.3f}x", results["ours / nginx (views/s)"] >= 0.25))
                targets.append(("cached view p50 no worse than kiwix-serve's",
                                f"{views['ours'].p50_ms:.2f} ms vs {views['kiwix'].p50_ms:.2f} ms",
                                views["ours"].p50_ms <= views["kiwix"].p50_ms))

                # 2. search: ours across every wiki (the search box's default), kiwix across the ZIMs in
                # the query's language (kiwix-serve 3.3 parses a query across ZIMs of several
                # languages with one language's rules, and then misses English words)
                queries = [(lang, q) for lang, qs in QUERIES.items() for q in qs]
                our_ms, our_counts = time_queries(
                    our_base, [("/search", {"q": q}) for _, q in queries], our_hits, "search (ours)")
                kiwix_ms, kiwix_counts = time_queries(
                    kiwix_base, [("/search", {"books.filter.lang": servers.ISO639_3[lang], "pattern": kiwix_fold(q), "pageLength": "50"})
                     for lang, q in queries],
                    kiwix_hits, "search (kiwix-serve)")
                for (lang, q), a, b in zip(queries, our_counts, kiwix_counts):
                    if a < 1 or b < 1:
                        print(f"  query {q!r} ({lang}): {a} hits on ours, {b} on kiwix-serve")
                results.update({
                    "search queries": len(queries),
                    "queries with hits (ours)": sum(c > 0 for c in our_counts),
                    "queries with hits (kiwix)": sum(c > 0 for c in kiwix_counts),
                    "search p50 ms ours": pct(our_ms, 0.5),
                    "search p99 ms ours": pct(our_ms, 0.99),
                    "search p50 ms kiwix": pct(kiwix_ms, 0.5),
                    "search p99 ms kiwix": pct(kiwix_ms, 0.99),
                    "ours / kiwix (search p50)": pct(our_ms, 0.5) / pct(kiwix_ms, 0.5),
                })
                lap("search")
                targets.append(("search p50 no worse than kiwix-serve's",
                                f"{pct(our_ms, 0.5):.1f} ms vs {pct(kiwix_ms, 0.5):.1f} ms",
                                pct(our_ms, 0.5) <= pct(kiwix_ms, 0.5)))
            if ours.poll() is not None:
                print(f"  our server exited early ({ours.returncode}); see its log")
    results["benchmark seconds"] = time.perf_counter() - started
    print("  seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in phases.items()))
    print("\n  target                                          figure                      met")
    for name, figure, met in targets:
        print(f"  {name:<47} {figure:<27} {'yes' if met else 'no'}")
    return results
