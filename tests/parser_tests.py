"""MediaWiki's parser tests: a reader of their format, a renderer of their cases, and a comparison.

Used by ``tests/test_parser_tests.py`` (the ratchet in ``make test``), by
``tests/test_scribunto_upstream.py`` and by ``bench/parser_tests.py`` (the share
per file and per group). The files are read where they lie
(``../shared/data/parsertests/``), never copied.

The format (MediaWiki's tests/parser/README): ``!! article`` NAME ``!! text``
TEXT ``!! endarticle`` adds a page the cases may transclude; ``!! test`` NAME
then sections (``!! options``, ``!! config``, ``!! wikitext``, ``!! html``,
``!! html/php``, ``!! html/parsoid`` ...) up to ``!! end``; ``!! hooks`` and
``!! functionhooks`` name the tags and parser functions a file needs. Lines
starting with ``#`` outside a case are comments. The legacy parser's HTML
(``html/php``, or ``html`` when both parsers agree) is what we compare.

How a case is run and compared is written down in docs/rendering.md
("MediaWiki's parser tests").
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
from urllib.parse import quote
from urllib.parse import unquote
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from wikipeer.model.title import DEFAULT_NAMESPACES, WikiConfig
from wikipeer.render import Limits, RenderContext, render
from wikipeer.render.context import FileMeta, Revision
from wikipeer.render.names import page_name
from wikipeer.render.subpages import DEFAULT_SUBPAGE_NAMESPACES

PARSER_TESTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "parsertests"
# the files holding wikitext cases (scribunto's *Tests.lua are run by test_scribunto_upstream)
FILES = sorted(p for p in PARSER_TESTS.glob("*/*.txt")) if PARSER_TESTS.is_dir() else []
DEFAULT_TITLE = "Parser test"  # ParserTestRunner's title when a case names none
# ParserTestRunner's revision and server: revision 1337 at 00:02:03 on 1 January 1970; without the option
# lastsavedrevision (skipped here) the page is not saved, so no user made it and REVISIONUSER is empty
TEST_REVISION = Revision(id="1337", timestamp=123, user="", size=0)
TEST_SERVER = "http://example.org"
# ParserTestRunner's $wgFragmentMode is [ 'legacy', 'html5' ]: anchors are legacy-escaped (``a.3Db``)
FRAGMENT_MODE = "legacy"
SUBPAGES = frozenset(DEFAULT_SUBPAGE_NAMESPACES)  # the option "subpage" adds the main namespace
TEST_THUMB_WIDTH = 180  # ParserTestRunner's default thumbnail width ($wgThumbLimits = [180])
# ParserTestRunner's $wgUploadPath is http://example.com/images; a page here loads images only from its own
# host (render/sanitize.py refuses others), so the harness serves them at /images and the comparison drops the host
MEDIAWIKI_IMAGES = "http://example.com/images/"
TEST_IMAGES = "/images"
# The files ParserTestRunner uploads (name: width, height, media type), as its expected HTML shows them
TEST_FILES: dict[str, tuple[int | None, int | None, str]] = {
    "Foobar.jpg": (1941, 220, "image/jpeg"),
    "Hi-ho.jpg": (1941, 220, "image/jpeg"),
    "File & file.jpg": (1941, 220, "image/jpeg"),
    "Bad.jpg": (320, 240, "image/jpeg"),  # on the test wiki's bad image list
    "Tall.jpg": (400, 600, "image/jpeg"),
    "Thumb.png": (135, 135, "image/png"),
    "Foobar.svg": (240, 180, "image/svg+xml"),
    "LoremIpsum.djvu": (2480, 3508, "image/vnd.djvu"),
    "Video.ogv": (320, 240, "video/ogg"),
    "Audio.oga": (None, None, "audio/ogg"),
}

# Options that change the HTML in ways we do not model: the case is skipped and counted. (The options
# that only add to the !! metadata section, such as cat, ill, iwl, showflags, showtocdata, showtitle,
# showindicators, extlinks, links, templates, property and extension, leave the HTML comparable.)
UNMODELLED_OPTIONS = frozenset({
    "pst", "msg", "comment", "section", "replace", "preload", "nohtml", "djvu", "thumbsize", "wrap",
    "preview", "lastsavedrevision", "styletag", "externallinktarget", "variant", "htmlvariantlanguage",
    "notitleconvert", "nocontentconvert", "headingsonly", "disabled", "math", "userlanguage", "suppresstoc", "parsoid-only", "i18n", "nodb", "local",
    "timestamp", "user", "ts", "noanchors", "showmedia",
})


# ``!! config`` settings a case may set and still be compared: those the renderer models
# (wgFragmentMode -> RenderContext.fragment_mode) and those that leave the legacy parser's body HTML
# as it is (the display title is shown outside the body, which is what we compare; Parsoid's fragment
# types do not touch the legacy parser). A case setting any other is skipped as "config NAME".
MODELLED_SETTINGS = frozenset({"wgFragmentMode", "wgAllowDisplayTitle", "wgRestrictDisplayTitle",
                               "wgReturnExperimentalPFragmentTypes"})


def config_settings(text: str) -> dict[str, object]:
    """A ``!! config`` section as ParserTestRunner reads it: one ``name=value`` a line, the value JSON."""
    found: dict[str, object] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            continue
        try:
            found[name.strip()] = json.loads(value)
        except ValueError:
            found[name.strip()] = value.strip()
    return found


@dataclass(slots=True)
class ParserCase:
    """One ``!! test``: its input, the legacy parser's expected HTML and its options."""

    name: str
    wikitext: str
    expected: str | None  # html/php, or html when both parsers agree; None for parsoid-only cases
    options: dict[str, str] = field(default_factory=dict)
    config: str = ""  # the ``!! config`` section's text (settings such as wgRawHtml=true)


@dataclass(slots=True)
class ParserFile:
    """A parser-test file: the pages its cases use, its cases, and the hooks it needs."""

    path: Path
    articles: dict[str, str]
    cases: list[ParserCase]
    hooks: list[str] = field(default_factory=list)
    functionhooks: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``core/magicWords``: the file named by its folder and stem."""
        return f"{self.path.parent.name}/{self.path.stem}"


_DIRECTIVE = re.compile(r"^!!\s*([\w/+*-]+)[ \t]*(.*)$")
_OPTION = re.compile(r"""\s*([\w-]+)(?:\s*=\s*("[^"]*"|\[\[[^\]]*\]\]|[^\s,"\[{][^\s]*|\{))?""")


def _json_end(text: str, start: int) -> int:
    """The index after the JSON object opening at ``start``."""
    depth, k, quoted = 0, start, False
    while k < len(text):
        ch = text[k]
        if quoted:
            if ch == "\\":
                k += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1
    return len(text)


def parse_options(text: str) -> dict[str, str]:
    """``title=[[Foo]] subpage parsoid={...}`` as a dict (names lower-cased; bare names map to "")."""
    found: dict[str, str] = {}
    k = 0
    while k < len(text):
        m = _OPTION.match(text, k)
        if m is None or m.end() == k:
            k += 1
            continue
        name, value = m.group(1).lower(), m.group(2) or ""
        k = m.end()
        if value == "{":
            end = _json_end(text, m.start(2))
            value, k = text[m.start(2):end], end
        elif value.startswith("[[") or value.startswith('"'):
            value = value.strip('"')
            value = value[2:-2] if value.startswith("[[") else value
        found[name] = value
    return found


def read_file(path: Path) -> ParserFile:
    """Read a parser-test file into its articles, cases and hooks."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    articles: dict[str, str] = {}
    cases: list[ParserCase] = []
    hooks: list[str] = []
    functionhooks: list[str] = []
    section: str | None = None
    sections: dict[str, list[str]] = {}
    in_case = False
    kind = ""  # "article" or "test": what an ``!! end`` closes

    def finish_article() -> None:
        name = "".join(sections.get("article", [])).strip()
        body = "".join(sections.get("text", []))
        if name:
            articles[_canonical(name)] = body[:-1] if body.endswith("\n") else body

    def finish_case() -> None:
        body = {k: "".join(v) for k, v in sections.items()}
        expected = body.get("html/php", body.get("html"))
        if expected is None and "html/php+disabled" in body:
            expected = None
        cases.append(ParserCase(
            name=body.get("test", "").strip(), wikitext=body.get("wikitext", "")[:-1],
            expected=expected, options=parse_options(body.get("options", "")), config=body.get("config", "")))

    for line in text.splitlines(keepends=True):
        m = _DIRECTIVE.match(line)
        if m is None:
            if section is not None:
                sections.setdefault(section, []).append(line)
            continue
        name, rest = m.group(1).lower(), m.group(2)
        if name in ("article", "test", "hooks", "functionhooks"):
            sections, section, in_case, kind = {}, name, True, name
            if rest.strip():
                sections[name] = [rest + "\n"]
        elif name == "endarticle" or (name == "end" and kind == "article"):  # files close articles both ways
            finish_article()
            section, in_case = None, False
        elif name == "end" and in_case:
            finish_case()
            section, in_case = None, False
        elif name in ("endhooks", "endfunctionhooks"):
            names = "".join(sections.get(section or "", [])).split()
            (hooks if section == "hooks" else functionhooks).extend(names)
            section, in_case = None, False
        elif in_case:
            section = name
            sections.setdefault(name, [])
            if rest.strip():
                sections[name].append(rest + "\n")
    return ParserFile(path=path, articles=articles, cases=cases, hooks=hooks, functionhooks=functionhooks)


def _canonical(title: str) -> str:
    """A title as the renderer names pages: namespace recognised, spaces for underscores, first letter upper-cased."""
    name = page_name(config_for({}), title)
    if name is None or not name.full:
        title = title.replace("_", " ").strip()
        return title[:1].upper() + title[1:]
    return name.full


# ---- running a case ----

# ParserTestRunner's interwiki table (appendInterwikiSetup): the test wiki's own map. The prefixes
# local, project and mi point at the wiki itself (its $wgLocalInterwikis), which the renderer tells by
# their URL being the wiki's own article URL.
TEST_INTERWIKI = {
    "local": "http://example.org/wiki/$1", "project": "http://example.org/wiki/$1",
    "mi": "http://example.org/wiki/$1", "wikipedia": "http://en.wikipedia.org/wiki/$1",
    "meatball": "http://www.usemod.com/cgi-bin/mb.pl?$1", "memoryalpha": "http://www.memory-alpha.org/en/index.php/$1",
    "zh": "http://zh.wikipedia.org/wiki/$1", "es": "http://es.wikipedia.org/wiki/$1",
    "fr": "http://fr.wikipedia.org/wiki/$1", "ru": "http://ru.wikipedia.org/wiki/$1",
    "mul": "http://wikisource.org/wiki/$1", "en": "//en.wikipedia.org/wiki/$1",
    "stats": "https://stats.wikimedia.org/$1", "gerrit": "https://gerrit.wikimedia.org/$1",
    "pmid": "//www.ncbi.nlm.nih.gov/pubmed/$1?dopt=Abstract",
    "wikinvest": "https://meta.wikimedia.org/wiki/Interwiki_map/discontinued#Wikinvest",
}


def config_for(options: dict[str, str]) -> WikiConfig:
    """The wiki ParserTestRunner sets up, in the case's language: named MediaWiki with the project
    namespace TestWiki, the default namespaces, Module and MemoryAlpha (which shadows the memoryalpha
    prefix), its interwikis."""
    namespaces = {**DEFAULT_NAMESPACES, 4: "TestWiki", 5: "TestWiki talk", 100: "MemoryAlpha",
                  101: "MemoryAlpha talk", 828: "Module", 829: "Module talk"}
    lang = options.get("language", "en").strip().lower() or "en"
    return WikiConfig("parsertests", sitename="MediaWiki", namespaces=namespaces, lang=lang,
                      base="http://example.org/wiki/Main_Page", interwiki=dict(TEST_INTERWIKI),
                      timezone=options.get("wglocaltimezone", "").strip())


def _main_variant(options: dict[str, str]) -> bool:
    """Whether the case asks for the output in its language's main variant (``zh`` on a ``zh`` wiki)."""
    variant = options.get("htmlvariantlanguage", "").split(",")[0].strip().lower()
    return bool(variant) and variant == options.get("language", "en").strip().lower()


def skip_reason(case: ParserCase) -> str | None:
    """Why a case cannot be compared (counted, not run), or None when it can."""
    if case.expected is None:
        return "no legacy-parser HTML"
    if "disabled" in case.options:
        return "disabled upstream"
    for name in case.options:
        if name == "htmlvariantlanguage" and _main_variant(case.options):
            continue  # the wiki's main variant: what we show, conversion being off (docs/rendering.md)
        if name in UNMODELLED_OPTIONS:
            return f"option {name}"
    unmodelled = sorted(set(config_settings(case.config)) - MODELLED_SETTINGS)
    if unmodelled:
        return "config " + ", ".join(unmodelled)
    if case.config.strip() and not config_settings(case.config):
        return "config"
    return None


def _var_export(value: str | None | dict[str, str]) -> str:
    """PHP's var_export of a string, NULL or an array of strings."""
    if value is None:
        return "NULL"
    if isinstance(value, dict):
        return "array (\n" + "".join(f"  {_var_export(k)} => {_var_export(v)},\n" for k, v in value.items()) + ")"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parser_test_hooks() -> dict[str, Callable[[str | None, dict[str, str]], str]]:
    """The extension tags ParserTestRunner installs (ParserTestParserHook), fresh for one case.

    ``<tag>`` and ``<tåg>`` show their input and attributes as PHP's var_export in a
    ``<pre>`` (escaped here: the renderer's HTML is sanitised); ``<statictag>`` keeps
    its text and ``<statictag action=flush/>`` gives the last one kept.
    """
    kept: list[str] = []

    def dump(body: str | None, attrs: dict[str, str]) -> str:
        return "<pre>\n" + html.escape(f"{_var_export(body)}\n{_var_export(attrs)}", quote=False) + "\n</pre>"

    def static(body: str | None, attrs: dict[str, str]) -> str:
        if not attrs:
            kept.append(body or "")
            return ""
        if attrs == {"action": "flush"} and body is None:
            return html.escape(kept[-1], quote=False) if kept else ""
        return html.escape("\nCall this extension as <statictag>string</statictag> or as <statictag action=flush/>, "
                           f"not in any other way.\ntext: {_var_export(body)}\nargv: {_var_export(attrs)}\n",
                           quote=False)

    return {"tag": dump, "tåg": dump, "statictag": static}

def test_file(name: str) -> FileMeta | None:
    """A file ParserTestRunner uploads, with MediaWiki's URLs (``/images/3/3a/Foobar.jpg``), or None.

    MediaWiki names a file's folder by the MD5 of its name; a thumbnail of a
    drawing or a document is a raster copy (``240px-Foobar.svg.png``, ``page1-...djvu.jpg``).
    """
    key = name.replace("_", " ").strip()
    key = key[:1].upper() + key[1:]
    if key not in TEST_FILES:
        return None
    width, height, mime = TEST_FILES[key]
    stored = key.replace(" ", "_")
    digest = hashlib.md5(stored.encode("utf-8")).hexdigest()
    folder, encoded = f"{digest[0]}/{digest[:2]}", quote(stored, safe="")
    suffix = {"image/svg+xml": ".png", "image/vnd.djvu": ".jpg"}.get(mime, "")
    prefix = "page1-" if mime == "image/vnd.djvu" else ""
    return FileMeta(width, height, mime, f"{TEST_IMAGES}/{folder}/{encoded}",
                    f"{TEST_IMAGES}/thumb/{folder}/{encoded}/{prefix}{{width}}px-{encoded}{suffix}",
                    raster_thumbs=mime == "image/svg+xml", densities=(2,), bad=key == "Bad.jpg")


def test_upload_url(name: str) -> str:
    """Where MediaWiki's red link to a missing file leads: its upload form."""
    return "/index.php?title=Special:Upload&wpDestFile=" + quote(name.replace(" ", "_"))


_FILE_REDIRECT = re.compile(r"(?i)^\s*#REDIRECT\s*\[\[\s*(?:File|Image)\s*:([^\]|]+)\]\]")


def fragment_mode(case: ParserCase) -> str:
    """The anchors' form: the first of the case's ``$wgFragmentMode``, else ParserTestRunner's (legacy)."""
    mode = config_settings(case.config).get("wgFragmentMode")
    return mode[0] if isinstance(mode, list) and mode and mode[0] in ("html5", "legacy") else FRAGMENT_MODE


class CaseWiki:
    """The pages of one file, seen by the renderer as a small wiki."""

    def __init__(self, articles: dict[str, str], limits: Limits | None = None):
        self.pages = dict(articles)
        self.limits = limits or Limits(lua_seconds=20, lua_call_seconds=10)

    def exists(self, titles: Iterable[str]) -> set[str]:
        return {t for t in titles if _canonical(t) in self.pages}

    def template(self, title: str) -> str | None:
        return self.pages.get(_canonical(title))

    def file(self, name: str) -> FileMeta | None:
        """An uploaded file, also through a ``File:`` page of the file that redirects to one."""
        meta = test_file(name)
        if meta is not None:
            return meta
        m = _FILE_REDIRECT.match(self.pages.get(_canonical("File:" + name), ""))
        target = test_file(m.group(1)) if m else None
        return dataclasses.replace(target, name=m.group(1).strip()) if target else None

    def case_limits(self, case: ParserCase) -> Limits:
        """The wiki's limits with the case's ``maxtemplatedepth`` and ``maxincludesize`` options."""
        limits = self.limits
        if case.options.get("maxtemplatedepth", "").strip().isdigit():
            limits = replace(limits, max_depth=int(case.options["maxtemplatedepth"]))
        if case.options.get("maxincludesize", "").strip().isdigit():
            limits = replace(limits, max_expansion=int(case.options["maxincludesize"]))
        return limits

    def render_case(self, case: ParserCase) -> str:
        """The sanitised HTML our renderer gives for the case's wikitext."""
        title = _canonical(case.options.get("title") or DEFAULT_TITLE)
        config = config_for(case.options)
        ctx = RenderContext(config=config, title=title, href=lambda t: "/wiki/" + t.replace(" ", "_"),
                            exists=self.exists, template=self.template, limits=self.case_limits(case),
                            file=self.file, thumb_width=TEST_THUMB_WIDTH, upload_url=test_upload_url,
                            revision=TEST_REVISION, server=TEST_SERVER,
                            subpage_namespaces=SUBPAGES | ({0} if "subpage" in case.options else set()),
                            fragment_mode=fragment_mode(case), extension_tags=parser_test_hooks(),
                            max_toc_level=int(case.options.get("wgmaxtoclevel") or 999),
                            allow_toc="notoc" not in case.options)
        return render(case.wikitext, ctx).html


# ---- comparing ----

_WRAPPER = re.compile(r'\A\s*<div class="mw-parser-output">(.*)</div>\s*\Z', re.S)
_HEADING_WRAPPER = re.compile(r'<div class="mw-heading mw-heading\d">(.*?)</div>', re.S)
# 1.39's heading form, <hN><span class="mw-headline" id="X">...</span></hN>, written as today's <hN id="X">
_HEADLINE = re.compile(r'<(h\d)([^>]*)><span class="mw-headline" id="([^"]*)">(.*?)</span></\1>', re.S)
_EDITSECTION = re.compile(r'<span class="mw-editsection">(?:(?!</span></span>).)*</span></span>', re.S)
_REDLINK = re.compile(r'href="/index\.php\?title=([^"&]*)&amp;action=edit&amp;redlink=1"')
# A template the node lacks is a discreet placeholder by design; MediaWiki shows a red link to it
_MISSING_TEMPLATE = re.compile(r'<span class="tpl-missing" title="(?!Module:)([^"]*)"></span>')
_TOC_TOGGLE = re.compile(r'<input [^>]*toctogglecheckbox[^>]*>|<span class="toctogglespan">.*?</span>', re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*(/?)>")
_ATTR = re.compile(r"""([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_BLOCK = ("p", "div", "table", "tbody", "thead", "tr", "td", "th", "ul", "ol", "li", "dl", "dt", "dd", "pre",
          "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "caption", "hr", "br", "center", "section")
_BLOCK_SPACE = re.compile(r"\s*(</?(?:%s)\b[^>]*>)\s*" % "|".join(_BLOCK))


def _attributes(text: str) -> str:
    """Attributes sorted by name, values double-quoted with entities in one form."""
    pairs = []
    for m in _ATTR.finditer(text):
        value = m.group(2)
        if value is None:
            value = ""
        elif value[:1] in "\"'":
            value = value[1:-1]
        name = m.group(1).lower()
        value = _entities(value)
        if name == "style":
            value = _style(value)
        if name == "href":  # percent-encoding differs between the two (MediaWiki encodes more)
            value = unquote(value.replace("&amp;", "&")).replace("&", "&amp;")
        pairs.append((name, value.replace('"', "&quot;")))
    return "".join(f' {name}="{value}"' for name, value in sorted(pairs))


_VOID = frozenset({"br", "hr", "wbr", "img", "input", "meta", "link", "col", "area", "source", "track", "embed"})


def _tag(m: re.Match) -> str:
    name = m.group(2).lower()
    slash = "" if name in _VOID else m.group(4)  # <br/> and <br> are one element
    return f"<{m.group(1)}{name}{_attributes(m.group(3))}{slash}>"


def _style(value: str) -> str:
    """CSS declarations in one spelling: no blanks around ``:``, ``;`` and ``|``, no final ``;``,
    ``!important`` written together, numbers to two decimals."""
    value = re.sub(r"!\s*important", "!important", value)  # nh3 writes "! important": the same CSS
    value = re.sub(r"\s*\|\s*", "|", value)  # nh3 writes "85% | 0" for 85%|0: the same CSS tokens
    declarations = [d.strip() for d in value.split(";") if d.strip()]
    value = ";".join(re.sub(r"\s*:\s*", ":", d, count=1) for d in declarations)
    # our sanitizer writes CSS numbers to two decimals (1061.33px for PHP's 1061.3333333333px)
    return re.sub(r"\d+\.\d+", lambda m: f"{float(m.group(0)):.2f}".rstrip("0").rstrip("."), value)


_MARKUP_CHARS = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _entities(text: str) -> str:
    """Character references decoded, except those that would change the markup."""
    def one(m: re.Match) -> str:
        decoded = html.unescape(m.group(0))
        if len(decoded) != 1:
            return m.group(0)
        return _MARKUP_CHARS.get(decoded, decoded)
    return re.sub(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);", one, text).replace("&#039;", "'")


def _as_red_link(m: re.Match) -> str:
    title = m.group(1)
    return f'<a href="/wiki/{title.replace(" ", "_")}" class="new" title="{title}">{title}</a>'


def normalised(fragment: str) -> str:
    """HTML with what differs only in form made equal (listed in docs/rendering.md)."""
    fragment = _WRAPPER.sub(r"\1", fragment)
    fragment = _HEADING_WRAPPER.sub(r"\1", fragment)
    fragment = _HEADLINE.sub(r'<\1\2 id="\3">\4</\1>', fragment)
    fragment = _EDITSECTION.sub("", fragment)
    fragment = _TOC_TOGGLE.sub("", fragment)
    fragment = fragment.replace(' aria-labelledby="mw-toc-heading"', "")
    fragment = re.sub(r'<div class="toctitle"[^>]*>', '<div class="toctitle">', fragment)
    fragment = re.sub(r'(class="toclevel-\d+) tocsection-\d+"', r'\1"', fragment)
    fragment = re.sub(r"<!--.*?-->", "", fragment, flags=re.S)
    # Scribunto's error: newer versions mark it with a class named by a hash, 1.39 with a numbered id
    fragment = re.sub(r'class="scribunto-error mw-scribunto-error-\w+"', 'class="scribunto-error"', fragment)
    fragment = re.sub(r' id="mw-scribunto-error-\d+"', "", fragment)
    fragment = _MISSING_TEMPLATE.sub(_as_red_link, fragment)
    fragment = _REDLINK.sub(r'href="/wiki/\1"', fragment)
    fragment = re.sub(r'title="([^"]*) \(page does not exist\)"', r'title="\1"', fragment)
    fragment = fragment.replace('rel="nofollow noopener"', 'rel="nofollow"')
    # MediaWiki replaces an unsafe style by a comment, we drop it: the same page either way
    fragment = re.sub(r'\s+style="/\* (?:insecure input|invalid control char) \*/"', "", fragment)
    fragment = fragment.replace(MEDIAWIKI_IMAGES, TEST_IMAGES + "/")
    fragment = _TAG.sub(_tag, fragment)
    fragment = re.sub(r"(?s)(<[^>]*>)|([^<]+)", lambda m: m.group(1) or _entities(m.group(2)), fragment)
    fragment = _BLOCK_SPACE.sub(r"\1", fragment)
    fragment = re.sub(r"[ \t\n]+", " ", fragment)
    fragment = re.sub(r"<p>(?:\s|<br>)*</p>", "", fragment)
    return fragment.strip()


def matches(got: str, expected: str) -> bool:
    """Whether our HTML equals MediaWiki's after the normalisation."""
    return normalised(got) == normalised(expected)


# ---- groups and shares ----

_IMAGES = re.compile(r"\[\[\s*:?\s*(?:File|Image|Media)\s*:|<gallery|<imagemap|\{\{\s*filepath:", re.I)


def group_of(parser_file: ParserFile, case: ParserCase) -> str:
    """The group a case counts in: its file, and within core images, language variants or the file."""
    if parser_file.path.parent.name != "core":
        return parser_file.key
    stem = parser_file.path.stem
    if stem in ("media", "mediaLinks") or _IMAGES.search(case.wikitext):
        return "core/images"
    if stem.startswith("langParserTests") or "-{" in case.wikitext:
        return "core/variants"
    return parser_file.key


@dataclass(slots=True)
class Outcome:
    """One case's result: passed, failed, or skipped with a reason."""

    file: str
    group: str
    name: str
    passed: bool
    skipped: str | None = None


def run_file(parser_file: ParserFile) -> list[Outcome]:
    """Render every comparable case of a file once, and compare."""
    wiki = CaseWiki(parser_file.articles)
    outcomes = []
    for case in parser_file.cases:
        group = group_of(parser_file, case)
        reason = skip_reason(case)
        if reason is not None:
            outcomes.append(Outcome(parser_file.key, group, case.name, False, reason))
            continue
        try:
            ok = matches(wiki.render_case(case), case.expected or "")
        except Exception:  # render() never raises; a failure here is a failing case, not a crash of the run
            ok = False
        outcomes.append(Outcome(parser_file.key, group, case.name, ok))
    return outcomes


def run_all(paths: Iterable[Path] = FILES) -> list[Outcome]:
    """Every case of every wikitext parser-test file."""
    return [o for path in paths for o in run_file(read_file(path))]


def shares(outcomes: Iterable[Outcome], by: str = "file") -> dict[str, tuple[int, int, int]]:
    """(passed, compared, skipped) per file or per group."""
    passed: Counter[str] = Counter()
    compared: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for o in outcomes:
        key = getattr(o, by)
        if o.skipped is not None:
            skipped[key] += 1
            continue
        compared[key] += 1
        passed[key] += o.passed
    keys = sorted(set(compared) | set(skipped))
    return {k: (passed[k], compared[k], skipped[k]) for k in keys}
