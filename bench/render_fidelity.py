"""Rendering fidelity (issue 4): our renderer against MediaWiki's own ``action=parse``.

Both sides hold exactly the same pages. Every sample is imported into one
wikipeer node (``wikipeer import``; the truncated dumps keep their complete
pages), each wiki is written back with ``wikipeer export --current``, and that
export goes into a throwaway MediaWiki 1.39 (Debian's, SQLite; one instance per
wiki, installed in the wiki's language, with its sitename and the dump's
namespace names, and the extensions of Wikipedia's that the samples use and
that work offline: Cite, ParserFunctions, Poem, SyntaxHighlight). MediaWiki
then parses each chosen page (``action=parse``, ``page=``, once the SHA-1 of
the text it holds is that of ours; else, as for the installer's newer "Main
Page", ``text=`` with our text under that title) and we render the same page
with ``wikipeer.render.render`` through the node's ``WikiReader``.

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
namespace, local or canonical name; ours too, which only a navbox's "v" link
to its missing template makes) and our renderer's placeholders for it
(``MISSING_TEMPLATE_SELECTORS`` below).

Per page F1 = 2PR/(P+R) over the token multisets; overall both the micro
average (over all tokens of all pages) and the macro mean of the pages.
MediaWiki's answers are cached in bench/out/render_fidelity/ keyed by the
SHA-256 of the export's site information, titles and texts, and of the
MediaWiki settings, so a rerun starts no PHP.

``python -m bench.render_fidelity [--all] [--cap N] [--self-check] [--citations]``:
``--all`` takes every main-namespace page, ``--self-check`` compares MediaWiki
with itself (must give 1.0: checks the harness without the renderer).

``--citations`` (``bench.run render-cite``; issue 13, item 5) compares instead
the pages of bench/citation_pages.py, which call English Wikipedia's real
citation and infobox templates and modules, imported with them as the wiki
"enwikicite". MediaWiki then runs Scribunto (LuaStandalone on Debian's
``lua5.1``), its parser cache off, and both sides are timed per page: MediaWiki's
``action=parse`` wall time (one request at a time, opcache on, after one
untimed parse) against our first render (``our_render``). MediaWiki 1.39 here
has no TemplateStyles and prints CS1's ``<templatestyles>`` tag as text: that
text is left out on its side. This sample is parsed by MediaWiki afresh on
every run (its times are compared with ours, measured in the same run).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from bench.citation_pages import citation_dump, citation_pages

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikipedia"
OUT = ROOT / "bench" / "out" / "render_fidelity"
TARGET = 0.9
# At most this many main-namespace pages per sample: every k-th page in dump order, k = ceil(n / CAP).
CAP = 100
WORKERS = 2  # php -S workers and client threads; this machine has 2 cores


@dataclass(frozen=True)
class Sample:
    name: str          # the wiki's name in the node (the dump's dbname, unless PAGES)
    source: str | None  # file under DATA; None: our own sample wiki (`wikipeer init --sample`)
    # Pages written for the benchmark (title -> text), added to SOURCE's dump and imported as the wiki NAME;
    # only they are compared. None: the dump's own main-namespace pages.
    pages: Callable[[], dict[str, str]] | None = None
    # MediaWiki runs Lua (Scribunto, LuaStandalone on Debian's lua5.1) and both sides are timed: MediaWiki
    # parses one page at a time with its parser cache off, opcache on, after one untimed parse.
    scribunto: bool = False


SAMPLES = [
    Sample("ukwiki", "ukwiki-truncated-100k.xml.xz"),
    Sample("viwiki", "viwiki-truncated-100k.xml.xz"),
    Sample("jawiki", "jawiki-truncated-100k.xml.xz"),
    Sample("mrwiki", "mrwiki-truncated-100k.xml.xz"),
    Sample("enwiki", "enwiki-articles-partial.xml"),
    Sample("simplewiki", "simplewiki.xml"),
    Sample("wikipeer", None),
]
# Issue 13, item 5: pages calling English Wikipedia's real citation templates and modules (bench/citation_pages.py).
CITATIONS = Sample("enwikicite", "enwiki-citation-modules.xml.xz", pages=citation_pages, scribunto=True)
CITATION_TARGET = 0.95

# Our renderer's markup for a template (or Lua module) the node does not hold: an empty
# span.tpl-missing, or for an infobox-like call (name "Infobox...", or 3+ named arguments) a generic
# table.infobox.tpl-absent of its arguments (wikipeer/render/expand.py, Expander.missing).
# Dropped like MediaWiki's red link to the template.
MISSING_TEMPLATE_SELECTORS: tuple[str, ...] = (".tpl-missing", ".tpl-absent")
# What MediaWiki shows as literal text for what it cannot run here, and neither side has: Lua
# modules (no Scribunto: no Lua binary) show as "{{#invoke:...}}"; <math> (Math needs Restbase)
# shows its TeX between literal tags, of which we drop the tags and keep the TeX, which our
# renderer shows as source too.
# MediaWiki 1.39 here has no TemplateStyles either: it prints the <templatestyles src="..."></templatestyles>
# tag of CS1 and other modules as text. Left out (our renderer turns the tag into a <style>, dropped too).
_MW_LITERALS = re.compile(r"\{\{#invoke:[^{}]*\}\}|</?math\b[^>]*>|<templatestyles\b[^<>]*>(?:</templatestyles>)?",
                          re.IGNORECASE)

EXTENSIONS = ("Cite", "ParserFunctions", "Poem", "SyntaxHighlight_GeSHi")
# Wikimedia's interwiki map, as far as the samples need it: every language code MediaWiki knows
# (Names.php; a plain [[fr:X]] is then a language link, [[:fr:X]] an interwiki link, as on
# Wikipedia) and the sister-project prefixes. A fresh MediaWiki knows neither, and would show
# [[en:X]] as a link to a local page "En:X".
PROJECTS = {
    "w": "https://en.wikipedia.org/wiki/$1", "wikipedia": "https://{lang}.wikipedia.org/wiki/$1",
    "wikt": "https://{lang}.wiktionary.org/wiki/$1", "wiktionary": "https://{lang}.wiktionary.org/wiki/$1",
    "commons": "https://commons.wikimedia.org/wiki/$1", "c": "https://commons.wikimedia.org/wiki/$1",
    "m": "https://meta.wikimedia.org/wiki/$1", "meta": "https://meta.wikimedia.org/wiki/$1",
    "mw": "https://www.mediawiki.org/wiki/$1", "d": "https://www.wikidata.org/wiki/$1",
    "wikidata": "https://www.wikidata.org/wiki/$1", "species": "https://species.wikimedia.org/wiki/$1",
    "wikispecies": "https://species.wikimedia.org/wiki/$1", "s": "https://{lang}.wikisource.org/wiki/$1",
    "wikisource": "https://{lang}.wikisource.org/wiki/$1", "q": "https://{lang}.wikiquote.org/wiki/$1",
    "wikiquote": "https://{lang}.wikiquote.org/wiki/$1", "b": "https://{lang}.wikibooks.org/wiki/$1",
    "wikibooks": "https://{lang}.wikibooks.org/wiki/$1", "n": "https://{lang}.wikinews.org/wiki/$1",
    "wikinews": "https://{lang}.wikinews.org/wiki/$1", "v": "https://{lang}.wikiversity.org/wiki/$1",
    "wikiversity": "https://{lang}.wikiversity.org/wiki/$1", "voy": "https://{lang}.wikivoyage.org/wiki/$1",
    "wikivoyage": "https://{lang}.wikivoyage.org/wiki/$1", "foundation": "https://foundation.wikimedia.org/wiki/$1",
    "wmf": "https://foundation.wikimedia.org/wiki/$1", "phab": "https://phabricator.wikimedia.org/$1",
    "incubator": "https://incubator.wikimedia.org/wiki/$1",
}


def interwikis(mediawiki_dir: Path, lang: str) -> list[tuple[str, str]]:
    names = (mediawiki_dir / "includes" / "languages" / "data" / "Names.php").read_text(encoding="utf-8")
    codes = sorted(set(re.findall(r"^\s*'([a-z][a-z0-9-]*)'\s*=>", names, re.MULTILINE)))
    rows = [(code, f"https://{code}.wikipedia.org/wiki/$1") for code in codes]
    return rows + [(prefix, url.replace("{lang}", lang)) for prefix, url in PROJECTS.items()]


API_PARAMS = {"action": "parse", "prop": "text", "disableeditsection": "1", "disablelimitreport": "1"}


def mw_settings(site: Site, scribunto: bool = False) -> str:
    """PHP appended to the instance's LocalSettings.php (SCRIBUNTO: with Lua, parser cache off)."""
    def php_str(s: str) -> str:
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    # Wikipedia's extensions for what the samples use, those that work offline. Not Math: without
    # a Restbase it tries to reach wikimedia.org, so <math> stays literal text on MediaWiki's side.
    lines = [f"wfLoadExtension( '{name}' );" for name in EXTENSIONS]
    if scribunto:  # Scribunto, LuaStandalone on Debian's lua5.1, parser cache off: every action=parse parses
        sys.path.insert(0, str(ROOT / "tests"))
        from mediawiki_instance import scribunto_settings
        lines.append(scribunto_settings())
    if site.namespaces.get(4):
        lines.append(f"$wgMetaNamespace = {php_str(site.namespaces[4].replace(' ', '_'))};")
    # Every namespace named as in the dump: it adds those MediaWiki lacks (Portal, Module...) and
    # overrides the language's names where the wiki differs (jawiki keeps "Template", "Category").
    for key, name in sorted(site.namespaces.items()):
        if key > 0 and name:
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

    def digest(self) -> str:
        """SHA-256 of what the parse depends on: the site, titles and texts (not contributors: our
        sample wiki is signed by a key made afresh in each run)."""
        h = hashlib.sha256(json.dumps([self.sitename, self.dbname, self.lang, sorted(self.namespaces.items())],
                                      ensure_ascii=False).encode())
        for ns, title, redirect, text in self.pages:
            h.update(json.dumps([ns, title, redirect, text], ensure_ascii=False).encode())
        return h.hexdigest()


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
    sys.path.insert(0, str(ROOT / "tests"))
    from mediawiki_instance import MEDIAWIKI_DIR, MediaWikiInstance

    settings = mw_settings(site, sample.scribunto)
    links = interwikis(MEDIAWIKI_DIR, site.lang)
    digest = site.digest()
    key = hashlib.sha256(json.dumps([digest, settings, links, API_PARAMS], sort_keys=True).encode()).hexdigest()
    cache_path = OUT / f"mw-{sample.name}-{key[:16]}.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {
        "content_sha256": digest, "settings": settings, "pages": {}, "namespace_differences": {}}
    # A timed sample is parsed afresh every run: its times are compared with ours, measured now, under the
    # same load of the machine (the cache keeps its texts for a later --self-check).
    wanted = list(titles) if sample.scribunto else [t for t in titles if t not in cache["pages"]]
    if not wanted:
        return cache

    os.environ["PHP_CLI_SERVER_WORKERS"] = str(WORKERS)
    texts = {t: text for ns, t, _, text in site.pages}
    # Timed: opcache for the PHP server, as any production MediaWiki has (the CLI's default is off).
    php_options = ("-d", "opcache.enable_cli=1") if sample.scribunto else ()
    with MediaWikiInstance(tmp / f"mw-{sample.name}", sitename=site.sitename or sample.name,
                           dbname=site.dbname or sample.name, lang=site.lang,
                           extra_settings=settings, server_php_options=php_options) as wiki:
        wiki.install()
        cache["mediawiki"] = wiki.version
        with sqlite3.connect(wiki.db_dir / f"{wiki.dbname}.sqlite") as conn:
            conn.executemany("INSERT OR REPLACE INTO interwiki (iw_prefix, iw_url, iw_api, iw_wikiid, iw_local, "
                             "iw_trans) VALUES (?, ?, '', '', 1, 0)", links)
        conn.close()
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

        if sample.scribunto:
            parse(wanted[0])  # untimed: PHP's opcache and the filesystem's cache warm up
        workers = 1 if sample.scribunto else WORKERS  # timed pages one at a time
        with _progress(console) as progress, ThreadPoolExecutor(workers) as pool:
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
        from wikipeer.reading import WikiReader  # noqa: F401  (it imports render too)
    except ImportError:
        return None
    return render


def our_render(node_dir: Path, wiki: str, titles: list[str], console, warm_up: bool = False) -> dict[str, dict]:
    """Each page's first render: the node has rendered none of them (no render cache is involved here), and
    every page runs its modules in a Lua runtime of its own, made afresh, as it always is. WARM_UP renders
    the first page once untimed, so that the process's imports and lupa's loading are not counted."""
    from wikipeer.node import Node
    from wikipeer.reading import WikiReader
    from wikipeer.render import render
    from wikipeer.render.context import Revision

    node = Node.open(node_dir)
    out: dict[str, dict] = {}
    try:
        reader = WikiReader(node, node.wiki_or_default(wiki))
        if warm_up and titles:
            render(node.store.revision_text(reader.head(titles[0])), reader.context(titles[0]))
        with _progress(console) as progress:
            task = progress.add_task(f"wikipeer renders {wiki}", total=len(titles))
            for title in titles:
                rev = reader.head(title)
                text = node.store.revision_text(rev)
                t0 = time.perf_counter()
                context = reader.context(title)
                # As a served page (web/rendering.py): REVISIONID and the like name the revision shown. CS1
                # reads {{REVISIONID}} to tell a saved page from a preview (MediaWiki parses saved pages).
                context.revision = Revision(id=rev.cid_str, timestamp=rev.ts // 1000, user=rev.author or "",
                                            size=rev.size)
                rendered = render(text, context)  # never raises, by its contract
                out[title] = {"html": rendered.html, "seconds": time.perf_counter() - t0,
                              "redirect": rendered.redirect, "errors": list(rendered.errors)}
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
    ["address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "div", "dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "img"])
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)
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


def features(markup: str, *, side: str, wiki: str, page_title: str, template_prefixes: set[str],
             drop_errors: bool = False) -> Features:
    """Visible text tokens, headings and link targets of a rendered page (side "mw" or "ours").

    DROP_ERRORS also leaves out error messages (``.error``: Cite's, #expr's...), for a second figure.
    """
    if not markup.strip():
        return Features(Counter(), Counter(), Counter())
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    for node in root.xpath("//comment() | //processing-instruction()"):
        if node.getparent() is not None:
            node.drop_tree()
    drop = (list(_ALWAYS_DROP) + (list(MISSING_TEMPLATE_SELECTORS) if side == "ours" else [])
            + ([".error"] if drop_errors else []))
    doomed = []
    for el in root.iter(etree.Element):
        if el is root:
            continue
        if any(_matches(el, s) for s in drop) or _HIDDEN.search(el.get("style") or ""):
            doomed.append(el)
        elif el.tag == "a" and _has_class(el, "new"):  # on our side: a navbox's red "v" link to its template
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
    text = "".join(pieces)
    if side == "mw":
        text = _MW_LITERALS.sub(" ", text)
    return Features(Counter(tokenize(text)), headings, links)


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


KINDS = ("all", "text", "headings", "links", "all_but_errors")


@dataclass
class PageScore:
    sample: str
    title: str
    f1: float                             # all three kinds together: the page's figure
    counts: dict[str, tuple[int, int, int]]  # kind -> (our tokens, MediaWiki's, overlap)
    missing: list[tuple[str, int]]        # MediaWiki shows, we don't
    extra: list[tuple[str, int]]          # we show, MediaWiki doesn't
    errors: list[str]

    def kind_f1(self, kind: str) -> float:
        return _f1_counts(*self.counts[kind])


def _f1_counts(ours: int, theirs: int, overlap: int) -> float:
    if overlap == 0:
        return 0.0 if ours or theirs else 1.0
    p, r = overlap / ours, overlap / theirs
    return 2 * p * r / (p + r)


def _counts(ours: Counter, theirs: Counter) -> tuple[int, int, int]:
    return sum(ours.values()), sum(theirs.values()), sum((ours & theirs).values())


def score(sample: str, title: str, ours: Features, theirs: Features, ours_ok: Features, theirs_ok: Features,
          errors: list[str]) -> PageScore:
    """OURS_OK and THEIRS_OK: the same pages with error messages (``.error``) left out."""
    a, b = ours.all(), theirs.all()
    counts = {"all": _counts(a, b), "text": _counts(ours.text, theirs.text),
              "headings": _counts(ours.headings, theirs.headings), "links": _counts(ours.links, theirs.links),
              "all_but_errors": _counts(ours_ok.all(), theirs_ok.all())}
    return PageScore(sample, title, _f1_counts(*counts["all"]), counts, (b - a).most_common(8),
                     (a - b).most_common(8), errors)


def micro(scores: list[PageScore], kind: str = "all") -> float:
    """F1 over all the tokens of these pages."""
    return _f1_counts(*(sum(s.counts[kind][i] for s in scores) for i in range(3)))


def macro(scores: list[PageScore]) -> float:
    return sum(s.f1 for s in scores) / max(1, len(scores))


# -- the run ---------------------------------------------------------------------------------------


def _console():
    from rich.console import Console
    console = Console(stderr=True)
    return console if console.is_terminal else Console(stderr=True, width=150)


def _progress(console):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    return Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def _cli(node: Path, *args: str, ok=(0,)) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), *args],
                            capture_output=True, text=True, check=False)
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
    missing_all: Counter = Counter()  # tokens MediaWiki shows and we don't, over all pages
    extra_all: Counter = Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="render-fidelity-") as tmp_name:
        tmp = Path(tmp_name)
        node = tmp / "node"
        _cli(node, "init", "--sample")
        for sample in samples:
            if sample.pages:
                dump = citation_dump(DATA / sample.source, sample.pages(), tmp / f"{sample.name}-source.xml")
                _cli(node, "import", "--quiet", "--wiki", sample.name, str(dump), ok=(0, 3))
            elif sample.source:
                _cli(node, "import", "--quiet", str(DATA / sample.source), ok=(0, 3))
        report["node_import_seconds"] = time.perf_counter() - started
        for sample in samples:
            export = tmp / f"{sample.name}.xml"
            _cli(node, "export", "--current", "-o", str(export), sample.name)
            site = read_export(export)
            titles = list(sample.pages()) if sample.pages else choose(site, cap)
            templates = {site.namespaces.get(10, "Template"), "Template"}
            mw = mediawiki_parse(sample, export, site, titles, tmp, console)
            theirs = {t: mw["pages"][t] for t in titles}
            # Pages MediaWiki shows as redirects (a magic word in the language) are not compared.
            titles = [t for t in titles if 'class="redirectMsg"' not in theirs[t]["html"]]
            ours = our_render(node, sample.name, titles, console, warm_up=sample.scribunto) if render else {
                t: {"html": theirs[t]["html"], "seconds": 0.0, "errors": []} for t in titles}
            side = "ours" if render else "mw"
            page_scores = []
            for t in titles:
                common = {"wiki": sample.name, "page_title": t, "template_prefixes": templates}
                a = features(ours[t]["html"], side=side, **common)
                b = features(theirs[t]["html"], side="mw", **common)
                a_ok = features(ours[t]["html"], side=side, drop_errors=True, **common)
                b_ok = features(theirs[t]["html"], side="mw", drop_errors=True, **common)
                page_scores.append(score(sample.name, t, a, b, a_ok, b_ok, ours[t].get("errors", [])))
                missing_all.update(b.all() - a.all())
                extra_all.update(a.all() - b.all())
            scores.extend(page_scores)
            main_pages = sum(1 for ns, _, r, _ in site.pages if ns == 0 and not r)
            report["samples"][sample.name] = {
                "pages": len(page_scores), "main_pages": main_pages, "lang": site.lang,
                "macro_f1": macro(page_scores), **{f"micro_f1_{k}": micro(page_scores, k) for k in KINDS},
                "mw_seconds": sum(theirs[t]["seconds"] for t in titles),
                "ours_seconds": sum(ours[t]["seconds"] for t in titles),
                **percentiles("mw", [theirs[t]["seconds"] for t in titles]),
                **percentiles("ours", [ours[t]["seconds"] for t in titles]),
                "mw_via_text": sorted(t for t in titles if theirs[t].get("via") == "text"),
                "namespace_differences": mw.get("namespace_differences", {}),
                "pages_with_render_errors": sum(1 for s in page_scores if s.errors),
            }
    report["seconds"] = time.perf_counter() - started
    report["pages_compared"] = len(scores)
    report["macro_f1"] = macro(scores)
    for kind in KINDS:
        report[f"micro_f1_{kind}"] = micro(scores, kind)
    report["pages"] = [{**vars(s), "f1_by_kind": {k: s.kind_f1(k) for k in KINDS}}
                       for s in sorted(scores, key=lambda s: s.f1)]
    for kind in ("text", "headings", "links"):
        report[f"missing_{kind}"] = [(t, n) for t, n in missing_all.most_common() if _kind_of(t) == kind][:40]
        report[f"extra_{kind}"] = [(t, n) for t, n in extra_all.most_common() if _kind_of(t) == kind][:40]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    _show(console, report, scores)
    return report


def percentiles(side: str, seconds: list[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank) of per-page times, in seconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {}
    rank = lambda q: ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]  # noqa: E731
    return {f"{side}_p50": rank(0.50), f"{side}_p99": rank(0.99)}


def _kind_of(token: str) -> str:
    if token.startswith("link:"):
        return "links"
    return "headings" if re.match(r"h[1-6]:", token) else "text"


def _show(console, report: dict, scores: list[PageScore]) -> None:
    from rich.table import Table

    table = Table(title="Rendering fidelity: token F1 against MediaWiki's action=parse")
    columns = ("sample", "lang", "pages", "F1", "text", "headings", "links", "no errors", "macro",
               "ours s", "MW s")
    for col in columns:
        table.add_column(col, justify="left" if col in ("sample", "lang") else "right")
    rows = [(name, s["lang"], f"{s['pages']}/{s['main_pages']}", s) for name, s in report["samples"].items()]
    rows.append(("all", "", str(report["pages_compared"]), report))
    for name, lang, pages, s in rows:
        table.add_row(name, lang, pages, *(f"{s[f'micro_f1_{k}']:.3f}" for k in KINDS), f"{s['macro_f1']:.3f}",
                      f"{s['ours_seconds']:.1f}" if "ours_seconds" in s else "",
                      f"{s['mw_seconds']:.1f}" if "mw_seconds" in s else "")
    console.print(table)
    for kind in ("text", "headings", "links"):
        console.print(f"  {kind}, most missing (MediaWiki shows, we don't): {report[f'missing_{kind}'][:15]}")
        console.print(f"  {kind}, most extra (we show, MediaWiki doesn't):  {report[f'extra_{kind}'][:15]}")
    console.print("  worst pages:")
    for s in scores and sorted(scores, key=lambda s: s.f1)[:10]:
        console.print(f"  {s.f1:.3f}  {s.sample}/{s.title}  text {s.kind_f1('text'):.2f} headings "
                      f"{s.kind_f1('headings'):.2f} links {s.kind_f1('links'):.2f}")
        console.print(f"         missing {s.missing[:6]}")
        console.print(f"         extra   {s.extra[:6]}")
    console.print(f"  {report['pages_compared']} pages in {report['seconds']:.0f} s "
                  f"(node import {report['node_import_seconds']:.0f} s)")


def run() -> dict[str, float]:
    report = evaluate()
    results: dict[str, float] = {}
    if report["self_check"]:
        results["renderer importable"] = 0
    for name, s in report["samples"].items():
        results[f"F1 {name} ({s['pages']} pages)"] = s["micro_f1_all"]
    results["F1 overall, micro (tokens)"] = report["micro_f1_all"]
    results["F1 overall, macro (pages)"] = report["macro_f1"]
    results["F1 overall, error messages left out"] = report["micro_f1_all_but_errors"]
    results["target"] = TARGET
    return results


def run_citations() -> dict[str, float]:
    """Issue 13, item 5: the citation and infobox pages against MediaWiki 1.39 + Scribunto."""
    report = evaluate(cap=None, samples=[CITATIONS])
    s = report["samples"][CITATIONS.name]
    return {
        f"F1 micro (tokens, {s['pages']} pages)": s["micro_f1_all"],
        "F1 macro (mean of pages)": s["macro_f1"],
        "F1 worst page": min(p["f1"] for p in report["pages"]),
        "F1 error messages left out": s["micro_f1_all_but_errors"],
        "F1 target": CITATION_TARGET,
        "first render p50, ours (ms)": 1000 * s["ours_p50"],
        "first render p99, ours (ms)": 1000 * s["ours_p99"],
        "action=parse p50, MediaWiki (ms)": 1000 * s["mw_p50"],
        "action=parse p99, MediaWiki (ms)": 1000 * s["mw_p99"],
        "p50 ratio MediaWiki / ours": s["mw_p50"] / s["ours_p50"],
        "pages with render errors (ours)": s["pages_with_render_errors"],
    }


def main(argv: list[str]) -> int:
    if "--citations" in argv:
        report = evaluate(cap=None, self_check="--self-check" in argv, samples=[CITATIONS])
        return 0 if report["micro_f1_all"] >= CITATION_TARGET else 1
    cap: int | None = CAP
    if "--all" in argv:
        cap = None
    if "--cap" in argv:
        cap = int(argv[argv.index("--cap") + 1])
    only = [s for s in SAMPLES if s.name in argv] or SAMPLES
    report = evaluate(cap=cap, self_check="--self-check" in argv, samples=only)
    return 0 if report["micro_f1_all"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
