"""Rendering fidelity (issue 4): our renderer against MediaWiki's own ``action=parse``.

Both sides hold exactly the same pages. Every sample is imported into one
wikipeer node (``wikipeer import``; the truncated dumps keep their complete
pages), each wiki is written back with ``wikipeer export --current``, and that
export goes into a throwaway MediaWiki 1.39 (Debian's, SQLite; one instance per
wiki, installed in the wiki's language, with its sitename, project namespace
and extra namespaces, and the Cite and ParserFunctions extensions that
Wikipedia runs). MediaWiki then parses each chosen page (``action=parse``,
``page=``; after checking that the SHA-1 of the text it holds is that of ours)
and we render the same page with ``wikipeer.render.render`` through the node's
``WikiReader``.

From both HTMLs (lxml) we take three multisets of tokens, compared as one:

- visible text: words (runs of letters, combining marks and digits, NFC;
  Han, kana and Hangul one token per character), with block elements as word
  boundaries;
- headings: each ``h1``-``h6`` as one token, its level and its words;
- internal link targets: the page title an ``<a href>`` leads to (MediaWiki's
  ``/index.php/T`` and ``?title=T&...redlink=1``, our ``/wiki/WIKI/T``),
  underscores as spaces, fragment dropped; external and fragment-only links
  are not counted.

Left out on both sides: ``<style>``, ``<script>``, comments (MediaWiki's
parser report), edit-section links, the table of contents (it repeats the
headings, and where it goes is the skin's business: MediaWiki 1.39 puts it in
the parser output, Vector 2022 in a sidebar), ``mw-empty-elt`` and elements
hidden with ``display:none``. What comes from templates that neither side
has: MediaWiki's red link to the missing template (``a.new`` to the Template
namespace, local or canonical name) and our renderer's placeholders for it
(``MISSING_TEMPLATE_SELECTORS`` below).

Per page F1 = 2PR/(P+R) over the token multisets; overall both the micro
average (over all tokens of all pages) and the macro mean of the pages.
MediaWiki's answers are cached in bench/out/render_fidelity/ keyed by the
SHA-256 of the export and of the MediaWiki settings, so a rerun starts no PHP.

``python -m bench.render_fidelity [--all] [--cap N] [--self-check]``: ``--all``
takes every main-namespace page, ``--self-check`` compares MediaWiki with
itself (must give 1.0: checks the harness without the renderer).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree, html as lxml_html

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikipedia"
OUT = ROOT / "bench" / "out" / "render_fidelity"
TARGET = 0.9
# At most this many main-namespace pages per sample: every k-th page in dump order, k = ceil(n / CAP).
CAP = 100
WORKERS = 2  # php -S workers and client threads; this machine has 2 cores


@dataclass(frozen=True)
class Sample:
    name: str          # the wiki's name in the node (the dump's dbname)
    source: str | None  # file under DATA; None: our own sample wiki (`wikipeer init --sample`)


SAMPLES = [
    Sample("ukwiki", "ukwiki-truncated-100k.xml.xz"),
    Sample("viwiki", "viwiki-truncated-100k.xml.xz"),
    Sample("jawiki", "jawiki-truncated-100k.xml.xz"),
    Sample("mrwiki", "mrwiki-truncated-100k.xml.xz"),
    Sample("enwiki", "enwiki-articles-partial.xml"),
    Sample("simplewiki", "simplewiki.xml"),
    Sample("wikipeer", None),
]

# Our renderer's markup for a template the node does not hold (wikipeer.render): dropped like
# MediaWiki's red link to it.
MISSING_TEMPLATE_SELECTORS: tuple[str, ...] = (".tpl-missing",)

API_PARAMS = {"action": "parse", "prop": "text", "disableeditsection": "1", "disablelimitreport": "1"}


def mw_settings(site: "Site") -> str:
    """PHP appended to the instance's LocalSettings.php."""
    def php_str(s: str) -> str:
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    lines = ["wfLoadExtension( 'Cite' );", "wfLoadExtension( 'ParserFunctions' );"]
    if site.namespaces.get(4):
        lines.append(f"$wgMetaNamespace = {php_str(site.namespaces[4].replace(' ', '_'))};")
    for key, name in sorted(site.namespaces.items()):
        if key >= 100 and name:
            lines.append(f"$wgExtraNamespaces[{key}] = {php_str(name.replace(' ', '_'))};")
    return "\n".join(lines)


# -- the export: what both sides hold --------------------------------------------------------------


@dataclass
class Site:
    sitename: str
    dbname: str
    lang: str
    namespaces: dict[int, str]
    pages: list[tuple[int, str, bool, str]] = field(default_factory=list)  # ns, full title, redirect, text


def read_export(path: Path) -> Site:
    site = Site("", "", "en", {})
    for event, elem in etree.iterparse(str(path), events=("start", "end"), huge_tree=True):
        tag = etree.QName(elem).localname
        if event == "start":
            if tag == "mediawiki":
                site.lang = elem.get("{http://www.w3.org/XML/1998/namespace}lang") or "en"
            continue
        if tag == "siteinfo":
            for child in elem.iter():
                name = etree.QName(child).localname
                if name in ("sitename", "dbname"):
                    setattr(site, name, child.text or "")
                elif name == "namespace":
                    site.namespaces[int(child.get("key"))] = child.text or ""
            elem.clear()
        elif tag == "page":
            ns = int(elem.findtext("{*}ns"))
            title = elem.findtext("{*}title")
            redirect = elem.find("{*}redirect") is not None
            revs = elem.findall("{*}revision")
            text = revs[-1].findtext("{*}text") or "" if revs else ""
            site.pages.append((ns, title, redirect, text))
            elem.clear()
    return site


def choose(site: Site, cap: int | None) -> list[str]:
    """Main-namespace, non-redirect pages: all, or every k-th in dump order."""
    titles = [t for ns, t, redirect, _ in site.pages if ns == 0 and not redirect]
    if cap is None or len(titles) <= cap:
        return titles
    return titles[::math.ceil(len(titles) / cap)]


# -- MediaWiki's side ------------------------------------------------------------------------------


def _post(base: str, params: dict[str, str]) -> dict:
    data = urllib.parse.urlencode({"format": "json", "formatversion": "2", **params}).encode()
    request = urllib.request.Request(base + "/api.php", data=data)
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.loads(response.read().decode("utf-8"))
    if "error" in answer:
        raise RuntimeError(f"api.php {params.get('action')} {params.get('page') or params.get('title')}: "
                           f"{answer['error']}")
    return answer


def mediawiki_parse(sample: Sample, export: Path, site: Site, titles: list[str], tmp: Path,
                    console) -> dict:
    """MediaWiki's parse of TITLES, from the cache or from a fresh instance (then cached)."""
    settings = mw_settings(site)
    digest = hashlib.sha256(export.read_bytes()).hexdigest()
    key = hashlib.sha256(f"{digest}\n{settings}\n{json.dumps(API_PARAMS, sort_keys=True)}".encode()).hexdigest()
    cache_path = OUT / f"mw-{sample.name}-{key[:16]}.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {
        "export_sha256": digest, "settings": settings, "pages": {}, "namespace_differences": {}}
    wanted = [t for t in titles if t not in cache["pages"]]
    if not wanted:
        return cache

    sys.path.insert(0, str(ROOT / "tests"))
    from mediawiki_instance import MediaWikiInstance

    os.environ["PHP_CLI_SERVER_WORKERS"] = str(WORKERS)
    texts = {t: text for ns, t, _, text in site.pages}
    with MediaWikiInstance(tmp / f"mw-{sample.name}", sitename=site.sitename or sample.name,
                           dbname=site.dbname or sample.name, lang=site.lang,
                           extra_settings=settings) as wiki:
        wiki.install()
        cache["mediawiki"] = wiki.version
        start = time.perf_counter()
        result = wiki.import_dump(export, no_updates=True)
        cache["import_seconds"] = time.perf_counter() - start
        if result.complaints:
            console.print(f"  importDump.php said: {result.complaints[:5]}")
        base = wiki.serve()
        names = _post(base, {"action": "query", "meta": "siteinfo", "siprop": "namespaces"})["query"]["namespaces"]
        mw_names = {int(k): v["name"] for k, v in names.items()}
        cache["namespace_differences"] = {
            str(k): [v, mw_names.get(k)] for k, v in site.namespaces.items() if mw_names.get(k, "") != v}
        # Does MediaWiki show the text we hold? (Not for "Main Page": the installer's is newer.)
        same: set[str] = set()
        for i in range(0, len(wanted), 50):
            batch = wanted[i:i + 50]
            answer = _post(base, {"action": "query", "prop": "revisions", "rvprop": "sha1", "titles": "|".join(batch)})
            for page in answer["query"]["pages"]:
                revs = page.get("revisions") or []
                ours = unicodedata.normalize("NFC", texts.get(page["title"], ""))
                if revs and revs[0]["sha1"] == hashlib.sha1(ours.encode()).hexdigest():
                    same.add(page["title"])

        def parse(title: str) -> tuple[str, dict]:
            params = dict(API_PARAMS)
            if title in same:
                params["page"] = title
            else:  # parse our text under that title
                params.update(title=title, text=texts[title], contentmodel="wikitext")
            t0 = time.perf_counter()
            answer = _post(base, params)["parse"]
            return title, {"html": answer["text"], "seconds": time.perf_counter() - t0,
                           "via": "page" if title in same else "text"}

        with _progress(console) as progress, ThreadPoolExecutor(WORKERS) as pool:
            task = progress.add_task(f"MediaWiki parses {sample.name}", total=len(wanted))
            for title, entry in pool.map(parse, wanted):
                cache["pages"][title] = entry
                progress.advance(task)
    OUT.mkdir(parents=True, exist_ok=True)
    tmp_cache = cache_path.with_suffix(".tmp")
    tmp_cache.write_text(json.dumps(cache, ensure_ascii=False))
    tmp_cache.replace(cache_path)
    return cache


# -- our side --------------------------------------------------------------------------------------


def renderer():
    """wikipeer.render.render, or None while it does not exist."""
    try:
        from wikipeer.render import render
        from wikipeer.web.rendering import WikiReader  # noqa: F401  (it imports render too)
    except ImportError:
        return None
    return render


def our_render(node_dir: Path, wiki: str, titles: list[str], console) -> dict[str, dict]:
    from wikipeer.node import Node
    from wikipeer.render import render
    from wikipeer.web.rendering import WikiReader

    node = Node.open(node_dir)
    out: dict[str, dict] = {}
    try:
        reader = WikiReader(node, node.wiki_or_default(wiki))
        with _progress(console) as progress:
            task = progress.add_task(f"wikipeer renders {wiki}", total=len(titles))
            for title in titles:
                rev = reader.head(title)
                text = node.store.revision_text(rev)
                t0 = time.perf_counter()
                try:
                    rendered = render(text, reader.context(title))
                    out[title] = {"html": rendered.html, "seconds": time.perf_counter() - t0,
                                  "redirect": rendered.redirect, "errors": list(rendered.errors)}
                except Exception as exc:  # a crash is a fidelity figure of 0 for that page, and a finding
                    out[title] = {"html": "", "seconds": time.perf_counter() - t0, "redirect": None,
                                  "errors": [f"render() raised {type(exc).__name__}: {exc}"]}
                progress.advance(task)
    finally:
        node.close()
    return out


# -- comparison ------------------------------------------------------------------------------------


def _marks_class() -> str:
    """Combining marks as a regex class body: Python's \\w leaves them out (they are inside words)."""
    ranges: list[list[int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return "".join(f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in ranges)


_CJK = ("\u1100-\u11ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
        "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
_WORD = re.compile(f"[\\w{_marks_class()}]+")
_CJK_SPLIT = re.compile(f"[{_CJK}]|[^{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")


def tokenize(text: str) -> list[str]:
    """Words (letters, marks, digits; NFC), with Han, kana and Hangul split into characters."""
    tokens = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        if _HAS_CJK.search(word):
            tokens.extend(_CJK_SPLIT.findall(word))
        else:
            tokens.append(word)
    return tokens


_BLOCK = frozenset(
    "address article aside blockquote br caption center dd div dl dt figcaption figure footer h1 h2 h3 h4 "
    "h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul img".split())
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_ALWAYS_DROP = ("style", "script", "link", "meta", ".mw-editsection", "#toc", ".toc", ".mw-empty-elt")


def _has_class(el, name: str) -> bool:
    return name in (el.get("class") or "").split()


def _matches(el, selector: str) -> bool:
    if selector.startswith("."):
        return _has_class(el, selector[1:])
    if selector.startswith("#"):
        return el.get("id") == selector[1:]
    return el.tag == selector


def _href_title(href: str, wiki: str) -> str | None:
    """The page title an internal link leads to, on either side; None for other links."""
    parts = urllib.parse.urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = parts.path
    if path.startswith("/index.php/"):
        raw = path[len("/index.php/"):]
    elif path == "/index.php":
        raw = urllib.parse.parse_qs(parts.query).get("title", [None])[0]
        if raw is None:
            return None
        return unicodedata.normalize("NFC", raw.replace("_", " "))
    elif path.startswith(f"/wiki/{urllib.parse.quote(wiki)}/"):
        raw = path[len(f"/wiki/{urllib.parse.quote(wiki)}/"):]
    else:
        return None
    return unicodedata.normalize("NFC", urllib.parse.unquote(raw).replace("_", " "))


@dataclass
class Features:
    text: Counter
    headings: Counter
    links: Counter

    def all(self) -> Counter:
        return self.text + self.headings + self.links


def features(markup: str, *, side: str, wiki: str, page_title: str, template_prefixes: set[str]) -> Features:
    """Visible text tokens, headings and link targets of a rendered page (side "mw" or "ours")."""
    if not markup.strip():
        return Features(Counter(), Counter(), Counter())
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    for node in root.xpath("//comment() | //processing-instruction()"):
        if node.getparent() is not None:
            node.drop_tree()
    drop = list(_ALWAYS_DROP) + (list(MISSING_TEMPLATE_SELECTORS) if side == "ours" else [])
    doomed = []
    for el in root.iter(etree.Element):
        if el is root:
            continue
        if any(_matches(el, s) for s in drop) or _HIDDEN.search(el.get("style") or ""):
            doomed.append(el)
        elif side == "mw" and el.tag == "a" and _has_class(el, "new"):
            target = _href_title(el.get("href") or "", wiki) or ""
            if target.split(":", 1)[0] in template_prefixes and ":" in target:
                doomed.append(el)
    for el in doomed:
        if el.getparent() is not None and not any(a in doomed for a in el.iterancestors()):
            el.drop_tree()

    pieces: list[str] = []
    headings: Counter = Counter()
    links: Counter = Counter()
    for action, el in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(el.tag, str):
            continue
        block = el.tag in _BLOCK
        if action == "start":
            if block:
                pieces.append(" ")
            if el.text:
                pieces.append(el.text)
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                headings[f"{el.tag}:{' '.join(tokenize(el.text_content()))}"] += 1
            elif el.tag == "a":
                target = _href_title(el.get("href"), wiki) if el.get("href") else (
                    page_title if _has_class(el, "mw-selflink") or _has_class(el, "selflink") else None)
                if target:
                    links[f"link:{target}"] += 1
        else:
            if block:
                pieces.append(" ")
            if el.tail and el is not root:
                pieces.append(el.tail)
    return Features(Counter(tokenize("".join(pieces))), headings, links)


def f1(ours: Counter, theirs: Counter) -> tuple[float, int]:
    """F1 of two token multisets, and their overlap."""
    overlap = sum((ours & theirs).values())
    n_ours, n_theirs = sum(ours.values()), sum(theirs.values())
    if n_ours == 0 and n_theirs == 0:
        return 1.0, 0
    if overlap == 0:
        return 0.0, 0
    p, r = overlap / n_ours, overlap / n_theirs
    return 2 * p * r / (p + r), overlap


@dataclass
class PageScore:
    sample: str
    title: str
    f1: float
    text_f1: float
    headings_f1: float
    links_f1: float
    ours: int
    theirs: int
    overlap: int
    missing: list[tuple[str, int]]
    extra: list[tuple[str, int]]
    errors: list[str]


def score(sample: str, title: str, ours: Features, theirs: Features, errors: list[str]) -> PageScore:
    a, b = ours.all(), theirs.all()
    value, overlap = f1(a, b)
    return PageScore(sample, title, value, f1(ours.text, theirs.text)[0], f1(ours.headings, theirs.headings)[0],
                     f1(ours.links, theirs.links)[0], sum(a.values()), sum(b.values()), overlap,
                     (b - a).most_common(8), (a - b).most_common(8), errors)


def micro(scores: list[PageScore]) -> float:
    overlap = sum(s.overlap for s in scores)
    ours, theirs = sum(s.ours for s in scores), sum(s.theirs for s in scores)
    if overlap == 0:
        return 0.0 if ours or theirs else 1.0
    p, r = overlap / ours, overlap / theirs
    return 2 * p * r / (p + r)


# -- the run ---------------------------------------------------------------------------------------


def _console():
    from rich.console import Console
    return Console(stderr=True)


def _progress(console):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    return Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def _cli(node: Path, *args: str, ok=(0,)) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), *args],
                            capture_output=True, text=True)
    if result.returncode not in ok:
        raise RuntimeError(f"wikipeer {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def evaluate(cap: int | None = CAP, self_check: bool = False, samples: list[Sample] = SAMPLES) -> dict:
    console = _console()
    render = None if self_check else renderer()
    if render is None and not self_check:
        console.print("  wikipeer.render.render is not importable yet: MediaWiki is compared with itself")
    report: dict = {"cap": cap, "self_check": render is None, "samples": {}, "pages": []}
    scores: list[PageScore] = []
    with tempfile.TemporaryDirectory(prefix="render-fidelity-") as tmp_name:
        tmp = Path(tmp_name)
        node = tmp / "node"
        start = time.perf_counter()
        _cli(node, "init", "--sample")
        for sample in samples:
            if sample.source:
                _cli(node, "import", "--quiet", str(DATA / sample.source), ok=(0, 3))
        report["node_import_seconds"] = time.perf_counter() - start
        for sample in samples:
            export = tmp / f"{sample.name}.xml"
            _cli(node, "export", "--current", "-o", str(export), sample.name)
            site = read_export(export)
            titles = choose(site, cap)
            templates = {site.namespaces.get(10, "Template"), "Template"}
            mw = mediawiki_parse(sample, export, site, titles, tmp, console)
            theirs = {t: mw["pages"][t] for t in titles}
            # Pages MediaWiki shows as redirects (a magic word in the language) are not compared.
            titles = [t for t in titles if 'class="redirectMsg"' not in theirs[t]["html"]]
            ours = our_render(node, sample.name, titles, console) if render else {
                t: {"html": theirs[t]["html"], "seconds": 0.0, "errors": []} for t in titles}
            side = "ours" if render else "mw"
            page_scores = []
            for t in titles:
                a = features(ours[t]["html"], side=side, wiki=sample.name, page_title=t, template_prefixes=templates)
                b = features(theirs[t]["html"], side="mw", wiki=sample.name, page_title=t,
                             template_prefixes=templates)
                page_scores.append(score(sample.name, t, a, b, ours[t].get("errors", [])))
            scores.extend(page_scores)
            main_pages = sum(1 for ns, _, r, _ in site.pages if ns == 0 and not r)
            report["samples"][sample.name] = {
                "pages": len(page_scores), "main_pages": main_pages, "lang": site.lang,
                "micro_f1": micro(page_scores),
                "macro_f1": sum(s.f1 for s in page_scores) / max(1, len(page_scores)),
                "text_f1": _kind_micro(page_scores, "text"),
                "mw_seconds": sum(theirs[t]["seconds"] for t in titles),
                "ours_seconds": sum(ours[t]["seconds"] for t in titles),
                "mw_via_text": sorted(t for t in titles if theirs[t].get("via") == "text"),
                "namespace_differences": mw.get("namespace_differences", {}),
                "render_errors": sum(1 for s in page_scores if s.errors),
            }
    report["micro_f1"] = micro(scores)
    report["macro_f1"] = sum(s.f1 for s in scores) / max(1, len(scores))
    report["pages"] = [vars(s) for s in sorted(scores, key=lambda s: s.f1)]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    _show(console, report, scores)
    return report


def _kind_micro(scores: list[PageScore], kind: str) -> float:
    values = [getattr(s, f"{kind}_f1") for s in scores]
    return sum(values) / max(1, len(values))


def _show(console, report: dict, scores: list[PageScore]) -> None:
    from rich.table import Table

    table = Table(title="Rendering fidelity: token F1 against MediaWiki's action=parse")
    for col in ("sample", "lang", "pages", "micro F1", "macro F1", "ours s", "MediaWiki s", "errors"):
        table.add_column(col, justify="right" if col not in ("sample", "lang") else "left")
    for name, s in report["samples"].items():
        table.add_row(name, s["lang"], f"{s['pages']}/{s['main_pages']}", f"{s['micro_f1']:.3f}",
                      f"{s['macro_f1']:.3f}", f"{s['ours_seconds']:.1f}", f"{s['mw_seconds']:.1f}",
                      str(s["render_errors"]))
    table.add_row("all", "", str(len(scores)), f"{report['micro_f1']:.3f}", f"{report['macro_f1']:.3f}", "", "", "")
    console.print(table)
    console.print("  worst pages (missing: MediaWiki shows, we don't; extra: the other way):")
    for s in sorted(scores, key=lambda s: s.f1)[:10]:
        console.print(f"  {s.f1:.3f}  {s.sample}/{s.title}  text {s.text_f1:.2f} headings {s.headings_f1:.2f} "
                      f"links {s.links_f1:.2f}")
        console.print(f"         missing {s.missing[:6]}")
        console.print(f"         extra   {s.extra[:6]}")
        for error in s.errors[:2]:
            console.print(f"         error   {error[:200]}")


def run() -> dict[str, float]:
    report = evaluate()
    results: dict[str, float] = {}
    if report["self_check"]:
        results["renderer importable"] = 0
    for name, s in report["samples"].items():
        results[f"F1 {name} ({s['pages']} pages)"] = s["micro_f1"]
    results["F1 overall, micro (tokens)"] = report["micro_f1"]
    results["F1 overall, macro (pages)"] = report["macro_f1"]
    results["target"] = TARGET
    return results


def main(argv: list[str]) -> int:
    cap: int | None = CAP
    if "--all" in argv:
        cap = None
    if "--cap" in argv:
        cap = int(argv[argv.index("--cap") + 1])
    only = [s for s in SAMPLES if s.name in argv] or SAMPLES
    report = evaluate(cap=cap, self_check="--self-check" in argv, samples=only)
    return 0 if report["micro_f1"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
