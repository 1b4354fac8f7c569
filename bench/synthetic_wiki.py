"""A synthetic Wikipedia of any size as a bz2 MediaWiki XML dump, streamed and deterministic.

Shape (issue 15, item 7), each page's kind, title, size and text a function
of the seed and its index alone:

- page indices: first the templates (a few hundred), then category pages
  (1 in 50 pages), then content pages, of which every third is a redirect
  (redirects are about a third of titles, as on Wikipedia);
- titles: two words of a made-up vocabulary, a bijection of the index (so
  every title is unique and any page can name any other without a table),
  some with a parenthesised qualifier;
- article sizes: log-normal, median about 2.7 KB of wikitext, mean about
  4.5 KB, cut at 400 KB; 12% are stubs of 0.3-1.2 KB with a stub template;
- prose: words of a 30,000-word vocabulary with a Zipf frequency, sentences,
  section headings, so the dump compresses about as well as real wikitext;
- links: about one word in 22 is a link; the linked article's rank follows
  a power law (P(rank r) ~ r**-0.6), so in-degrees are long-tailed;
- templates: a short description, infoboxes, citations in <ref>s, inline
  templates, a reflist, navboxes and stub templates, each with a per-article
  frequency after the real ones' transclusion counts, and a Zipf tail over
  a few hundred generic templates;
- categories: 1 to 6 per article, by the same power law over the category pages;
- redirects point at articles chosen by the same power law.

The dump is written as independent bz2 streams (siteinfo, then one per
chunk of CHUNK pages, then the footer), the way Wikipedia's multistream
dumps are, so chunks are generated and compressed in parallel worker
processes and written in order: memory stays constant whatever the size.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import math
import random
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CHUNK = 500  # pages per bz2 stream: what one worker task builds
VOCABULARY = 30_000
TITLE_WORDS = 4096  # title words; two of them make a title (4096**2 titles)
LINK_EVERY = 22  # words per link, on average
STUB_SHARE = 0.12
MEDIAN_BYTES, SIGMA, MAX_BYTES = 2700, 1.0, 400_000
BASE_TS = 1_600_000_000

_SYLLABLES = ["ka", "lo", "min", "te", "ra", "su", "vel", "on", "dri", "ma", "pel", "ost", "ur", "ni", "qua",
              "zen", "bar", "is", "tho", "gen", "al", "cor", "ve", "dan", "ip", "sto", "wer", "le", "fa", "mu"]
_QUALIFIERS = ["film", "album", "band", "river", "village", "footballer", "politician", "novel", "ship", "song",
               "company", "mountain", "disambiguation", "surname", "TV series", "1998 film"]

# Templates every page can use, with the share of articles that use them (after enwiki's
# transclusion counts), and how many times per article when used (min, max).
NAMED = [
    ("Short description", 0.85, 1, 1),
    ("Reflist", 0.80, 1, 1),
    ("Cite web", 0.65, 1, 12),
    ("Authority control", 0.30, 1, 1),
    ("Cite book", 0.28, 1, 6),
    ("Cite news", 0.25, 1, 6),
    ("Coord", 0.17, 1, 1),
    ("Citation needed", 0.12, 1, 3),
    ("Commons category", 0.12, 1, 1),
    ("Convert", 0.10, 1, 4),
    ("Main", 0.10, 1, 3),
    ("Cite journal", 0.10, 1, 5),
    ("Lang", 0.08, 1, 3),
    ("See also", 0.06, 1, 2),
    ("Sfn", 0.05, 1, 8),
    ("IPA", 0.04, 1, 1),
    ("Flagicon", 0.04, 1, 6),
]
SHARE = {name: share for name, share, _, _ in NAMED}
DEFAULTSORT_SHARE = 0.30  # a magic word, not a template
INFOBOX_SHARE = 0.38
NAVBOX_SHARE = 0.25
R_TEMPLATE_SHARE = 0.3  # redirects with an {{R from ...}} template


class Shape:
    """Where each kind of page sits among the indices of a wiki of ``pages`` pages."""

    def __init__(self, pages: int, seed: int = 1) -> None:
        self.pages, self.seed = pages, seed
        self.templates = max(24, min(300, pages // 40))
        self.categories = max(5, pages // 50)
        self.first_content = self.templates + self.categories
        self.content = pages - self.first_content
        # content pages that are not redirects: indices first_content + j with j % 3 != 0
        self.articles = self.content - (self.content + 2) // 3

    def kind(self, i: int) -> str:
        if i < self.templates:
            return "template"
        if i < self.first_content:
            return "category"
        return "redirect" if (i - self.first_content) % 3 == 0 else "article"

    def article_index(self, n: int) -> int:
        """The index of the n-th article (0 <= n < articles)."""
        return self.first_content + (n // 2) * 3 + 1 + n % 2

    def chunks(self) -> int:
        return math.ceil(self.pages / CHUNK)


@dataclass(frozen=True, slots=True)
class Words:
    """The vocabularies of one seed."""

    prose: list[str]
    cum: list[float]
    title: list[str]


@lru_cache(maxsize=4)
def words(seed: int) -> Words:
    rng = random.Random(f"words-{seed}")
    seen: dict[str, None] = {}
    while len(seen) < VOCABULARY + TITLE_WORDS:
        seen.setdefault("".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4)))), None)
    allwords = list(seen)
    prose = allwords[:VOCABULARY]
    cum, total = [], 0.0
    for r in range(VOCABULARY):
        total += 1 / (r + 2.7) ** 1.0
        cum.append(total)
    title = [w.capitalize() for w in allwords[VOCABULARY:]]
    return Words(prose, cum, title)


# -- titles -------------------------------------------------------------------

_MUL = 0x9E3779B1  # odd: multiplying by it mod 2**24 is a bijection


def page_title(shape: Shape, i: int) -> tuple[int, str]:
    """(namespace, title) of page ``i``."""
    if i < shape.templates:
        return 10, template_name(shape, i)
    if i < shape.first_content:
        return 14, category_name(shape, i - shape.templates)
    tw = words(shape.seed).title
    x = (i * _MUL + shape.seed) % (TITLE_WORDS * TITLE_WORDS)
    title = f"{tw[x // TITLE_WORDS]} {tw[x % TITLE_WORDS].lower()}"
    if i % 11 == 0:
        title += f" ({_QUALIFIERS[(i // 11) % len(_QUALIFIERS)]})"
    return 0, title


def full_title(shape: Shape, i: int) -> str:
    ns, title = page_title(shape, i)
    return {0: "", 10: "Template:", 14: "Category:"}[ns] + title


def template_name(shape: Shape, t: int) -> str:
    if t < len(NAMED):
        return NAMED[t][0]
    tw = words(shape.seed).title
    kinds = ["Infobox {}", "{} navbox", "{}-stub", "{} topics", "Cite {}", "{} sidebar"]
    return kinds[t % len(kinds)].format(tw[(t * 37) % len(tw)].lower() if t % len(kinds) == 0 else tw[(t * 37) % len(tw)])


def category_name(shape: Shape, c: int) -> str:
    tw = words(shape.seed).title
    x = (c * 7919 + 13) % (TITLE_WORDS * TITLE_WORDS)
    return f"{tw[x % TITLE_WORDS]} {tw[x // TITLE_WORDS].lower()} of {tw[(c * 31) % TITLE_WORDS]}"


LINK_POWER = 2.5
"""A rank is n * u**LINK_POWER (u uniform): P(rank r) ~ r**-0.6, in-degrees with a power-law tail of
exponent 1 + 1/0.6 ~ 2.7, and the most linked article gets ~0.5% of links at a million pages (enwiki's
most linked pages get a few tenths of a percent)."""


def power_rank(rng: random.Random, n: int) -> int:
    """A rank in [0, n), low ranks far likelier: a power law (see LINK_POWER)."""
    return min(n - 1, int(n * rng.random() ** LINK_POWER))


def _scatter(r: int, n: int) -> int:
    """Rank r's article number: popular articles are spread over the dump, not bunched at its start."""
    k = 1_000_003
    while math.gcd(k, n) != 1:
        k += 2
    return (r * k + 17) % n


def link_target(shape: Shape, rng: random.Random) -> int:
    return shape.article_index(_scatter(power_rank(rng, shape.articles), shape.articles))


# -- texts ---------------------------------------------------------------------


class Writer:
    """Builds the wikitext of pages from one chunk's random stream."""

    def __init__(self, shape: Shape, rng: random.Random) -> None:
        self.shape, self.rng = shape, rng
        w = words(shape.seed)
        self.prose, self.cum, self.tw = w.prose, w.cum, w.title
        tail = list(range(len(NAMED), shape.templates))
        self.tail = tail
        self.tail_cum = list(_accumulate([1 / (k + 1) for k in range(len(tail))]))

    def some_words(self, n: int) -> list[str]:
        return self.rng.choices(self.prose, cum_weights=self.cum, k=n)

    def link(self) -> str:
        target = full_title(self.shape, link_target(self.shape, self.rng))
        if self.rng.random() < 0.3:
            return f"[[{target}|{' '.join(self.some_words(self.rng.randint(1, 3)))}]]"
        return f"[[{target}]]"

    def sentence(self, inline: list[str]) -> str:
        rng = self.rng
        ws = self.some_words(rng.randint(6, 24))
        while rng.random() < len(ws) / (LINK_EVERY + len(ws)):  # about len(ws) / LINK_EVERY links
            ws[rng.randrange(len(ws))] = self.link()
        text = " ".join(ws)
        text = text[0].upper() + text[1:]
        if inline and rng.random() < 0.25:
            text += inline.pop()
        return text + ". "

    def cite(self) -> str:
        rng = self.rng
        kind = rng.choices(["Cite web", "Cite book", "Cite news", "Cite journal"], [65, 28, 25, 10])[0]
        title = " ".join(self.some_words(rng.randint(3, 8))).capitalize()
        n = rng.randrange(10 ** 6)
        if kind == "Cite web":
            return (f"<ref>{{{{Cite web |url=https://www.example.org/{self.prose[n % 997]}/{n} |title={title} "
                    f"|website=Example |access-date={2010 + n % 14}-{1 + n % 12:02d}-{1 + n % 28:02d}}}}}</ref>")
        if kind == "Cite book":
            return (f"<ref>{{{{Cite book |last={self.tw[n % TITLE_WORDS]} |first={self.tw[(n // 7) % TITLE_WORDS]} "
                    f"|title={title} |publisher={self.tw[(n // 3) % TITLE_WORDS]} Press |year={1950 + n % 73} "
                    f"|page={1 + n % 400}}}}}</ref>")
        return (f"<ref>{{{{{kind} |title={title} |work=The {self.tw[n % TITLE_WORDS]} |date={1 + n % 28} "
                f"{['January', 'March', 'June', 'October'][n % 4]} {1980 + n % 44}}}}}</ref>")

    def inline_templates(self, size: int) -> list[str]:
        """Citations and inline templates for an article of ``size`` bytes, in random order."""
        rng = self.rng
        out = [self.cite() for _ in range(rng.randint(0, max(1, size // 450)))]
        for name, share, lo, hi in NAMED:
            if name in ("Citation needed", "Convert", "Lang", "Sfn", "IPA", "Flagicon") and rng.random() < share:
                for _ in range(rng.randint(lo, hi)):
                    out.append(self.inline(name))
        for _ in range(rng.randint(0, 2)):
            if rng.random() < 0.4:
                out.append(f"{{{{{self.tail_template('inline')}}}}}")
        rng.shuffle(out)
        return out

    def inline(self, name: str) -> str:
        rng = self.rng
        n = rng.randrange(10 ** 4)
        return {
            "Citation needed": f"{{{{Citation needed|date={['May', 'July'][n % 2]} {2008 + n % 15}}}}}",
            "Convert": f" ({{{{Convert|{1 + n % 900}|{['km', 'mi', 'm', 'kg'][n % 4]}}}}})",
            "Lang": f" ({{{{Lang|{['fr', 'de', 'la', 'es'][n % 4]}|{self.prose[n % 500]}}}}})",
            "Sfn": f"{{{{Sfn|{self.tw[n % TITLE_WORDS]}|{1950 + n % 70}|p={1 + n % 300}}}}}",
            "IPA": f" ({{{{IPA|/{self.prose[n % 300]}/}}}})",
            "Flagicon": f" {{{{Flagicon|{self.tw[n % 200]}}}}}",
        }[name]

    def tail_template(self, purpose: str) -> str:
        t = self.rng.choices(self.tail, cum_weights=self.tail_cum)[0] if self.tail else 0
        return template_name(self.shape, t)

    def article(self, i: int) -> str:
        rng = self.rng
        stub = rng.random() < STUB_SHARE
        if stub:
            size = rng.randint(300, 1200)
        else:
            size = min(MAX_BYTES, max(400, int(rng.lognormvariate(math.log(MEDIAN_BYTES), SIGMA))))
        parts: list[str] = []
        if rng.random() < SHARE['Short description']:
            parts.append(f"{{{{Short description|{' '.join(self.some_words(rng.randint(2, 6))).capitalize()}}}}}\n")
        if not stub and rng.random() < INFOBOX_SHARE:
            parts.append(self.infobox(i))
        inline = self.inline_templates(size)
        title = page_title(self.shape, i)[1]
        first = self.sentence(inline)
        parts.append(f"'''{title}''' is {first[0].lower()}{first[1:]}")
        written = sum(map(len, parts))
        section = written
        while written < size:
            if written - section > rng.randint(900, 2500):
                head = " ".join(self.some_words(rng.randint(1, 3))).capitalize()
                level = "===" if rng.random() < 0.3 else "=="
                s = f"\n\n{level} {head} {level}\n"
                if level == "==" and rng.random() < SHARE['Main'] * 2:
                    s += f"{{{{Main|{full_title(self.shape, link_target(self.shape, rng))}}}}}\n"
                section = written
            elif rng.random() < 0.2:
                s = "\n\n" + self.sentence(inline)
            else:
                s = self.sentence(inline)
            parts.append(s)
            written += len(s)
        parts.extend(inline)  # what did not fit in a sentence
        parts.append(self.ending(i, stub))
        return "".join(parts)

    def infobox(self, i: int) -> str:
        rng = self.rng
        name = self.tail_template("infobox") if rng.random() < 0.5 else rng.choice(self.infoboxes())
        rows = [f"| name = {page_title(self.shape, i)[1]}"]
        for _ in range(rng.randint(4, 16)):
            value = " ".join(self.some_words(rng.randint(1, 4)))
            if rng.random() < 0.3:
                value = self.link()
            rows.append(f"| {self.prose[rng.randrange(200)]} = {value}")
        return f"{{{{{name}\n" + "\n".join(rows) + "\n}}\n"

    def infoboxes(self) -> list[str]:
        return [template_name(self.shape, t) for t in range(len(NAMED), self.shape.templates, 6)] or ["Reflist"]

    def ending(self, i: int, stub: bool) -> str:
        rng = self.rng
        parts = []
        if rng.random() < SHARE['See also']:
            parts.append(f"\n\n== See also ==\n* {self.link()}\n* {self.link()}")
        if rng.random() < SHARE['Reflist']:
            parts.append("\n\n== References ==\n{{Reflist}}")
        if rng.random() < 0.3:
            parts.append(f"\n\n== External links ==\n* [https://www.example.org/{i} Official site]")
            if rng.random() < SHARE['Commons category'] * 2:
                parts.append(f"\n* {{{{Commons category|{page_title(self.shape, i)[1]}}}}}")
        if rng.random() < SHARE['Coord']:
            parts.append(f"\n{{{{Coord|{rng.randint(-80, 80)}|{rng.randint(0, 59)}|N|{rng.randint(0, 179)}|"
                         f"{rng.randint(0, 59)}|E|display=title}}}}")
        if not stub and rng.random() < NAVBOX_SHARE:
            parts.append(f"\n\n{{{{{self.tail_template('navbox')}}}}}")
        if rng.random() < SHARE['Authority control']:
            parts.append("\n{{Authority control}}")
        if rng.random() < DEFAULTSORT_SHARE:
            title = page_title(self.shape, i)[1].split(" ")
            parts.append(f"\n\n{{{{DEFAULTSORT:{title[-1]}, {' '.join(title[:-1])}}}}}")
        parts.append("\n")
        for c in dict.fromkeys(power_rank(rng, self.shape.categories) for _ in range(rng.randint(1, 6))):
            parts.append(f"\n[[Category:{category_name(self.shape, c)}]]")
        if stub:
            parts.append(f"\n\n{{{{{self.tail_template('stub')}}}}}")
        return "".join(parts)

    def redirect(self, i: int) -> str:
        target = full_title(self.shape, link_target(self.shape, self.rng))
        text = f"#REDIRECT [[{target}]]"
        if self.rng.random() < R_TEMPLATE_SHARE:
            text += "\n\n{{" + self.rng.choice(["R from alternative name", "R from other capitalisation",
                                                  "R from short name"]) + "}}"
        return text

    def category(self, c: int) -> str:
        words_ = " ".join(self.some_words(self.rng.randint(8, 30)))
        parent = category_name(self.shape, power_rank(self.rng, max(1, c)) if c else 0)
        return f"{words_.capitalize()}.\n\n[[Category:{parent}]]\n"

    def template(self, t: int) -> str:
        name = template_name(self.shape, t)
        doc = f"\n<noinclude>\n{' '.join(self.some_words(30)).capitalize()}.\n[[Category:Templates]]\n</noinclude>"
        if name == "Reflist":
            return '<div class="reflist">\n<references />\n</div>' + doc
        if name.startswith("Cite") or name == "Sfn":
            return ('<cite class="citation">{{{last|}}}{{#if:{{{first|}}}|, {{{first}}}}} '
                    '"{{{title|{{{1|}}}}}}". {{{website|{{{work|{{{publisher|}}}}}}}}} {{{date|{{{year|}}}}}}. '
                    '{{#if:{{{url|}}}|[{{{url}}} link]}}</cite>') + doc
        if name.startswith("Infobox"):
            return ('{| class="infobox"\n|+ {{{name|{{PAGENAME}}}}}\n|-\n! Type\n| {{{type|}}}\n|-\n! Place\n'
                    '| {{{place|}}}\n|}') + doc
        if name == "Short description":
            return '<div class="shortdescription" style="display:none">{{{1}}}</div>' + doc
        if name.endswith("navbox") or name.endswith("topics") or name.endswith("sidebar"):
            links = " · ".join(self.link() for _ in range(self.rng.randint(5, 25)))
            return f'<div class="navbox"><b>{name}</b>: {links}</div>' + doc
        if name.endswith("stub"):
            return f"''This article about {name[:-5].lower()} is a stub. You can help by expanding it.''" + doc
        return f'<span class="{name.lower().replace(" ", "-")}">{{{{{{1|}}}}}}{{{{{{2|}}}}}}</span>' + doc


def _accumulate(xs: list[float]) -> Iterator[float]:
    total = 0.0
    for x in xs:
        total += x
        yield total


# -- XML -------------------------------------------------------------------------

NAMESPACES = {-2: "Media", -1: "Special", 0: "", 1: "Talk", 2: "User", 3: "User talk", 4: "Wikipedia",
              5: "Wikipedia talk", 6: "File", 7: "File talk", 8: "MediaWiki", 9: "MediaWiki talk", 10: "Template",
              11: "Template talk", 12: "Help", 13: "Help talk", 14: "Category", 15: "Category talk",
              828: "Module", 829: "Module talk"}


def header(dbname: str = "synthwiki") -> bytes:
    ns = "\n".join(f'      <namespace key="{k}" case="first-letter"{" /" if not v else ""}>{v}'
                   f'{"</namespace>" if v else ""}' for k, v in NAMESPACES.items())
    return (f'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">\n'
            f"  <siteinfo>\n    <sitename>Synthetic Wikipedia</sitename>\n    <dbname>{dbname}</dbname>\n"
            f"    <base>https://synth.example.org/wiki/Main_Page</base>\n"
            f"    <generator>wikipeer bench/synthetic_wiki.py</generator>\n    <case>first-letter</case>\n"
            f"    <namespaces>\n{ns}\n    </namespaces>\n  </siteinfo>\n").encode()


FOOTER = b"</mediawiki>\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _base36(data: bytes) -> str:
    n = int.from_bytes(hashlib.sha1(data).digest(), "big")
    digits = []
    while n:
        n, d = divmod(n, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[d])
    return "".join(reversed(digits)).rjust(31, "0")


def page_text(shape: Shape, writer: Writer, i: int) -> str:
    kind = shape.kind(i)
    if kind == "article":
        return writer.article(i)
    if kind == "redirect":
        return writer.redirect(i)
    if kind == "category":
        return writer.category(i - shape.templates)
    return writer.template(i)


def page_xml(shape: Shape, writer: Writer, i: int) -> str:
    ns, _ = page_title(shape, i)
    title = full_title(shape, i)
    text = page_text(shape, writer, i)
    data = text.encode()
    redirect = ""
    if shape.kind(i) == "redirect":
        redirect = f'    <redirect title="{_escape(text[len("#REDIRECT [["):text.index("]]")])}" />\n'
    ts = BASE_TS + i * 97
    stamp = _timestamp(ts)
    return (f"  <page>\n    <title>{_escape(title)}</title>\n    <ns>{ns}</ns>\n    <id>{i + 1}</id>\n{redirect}"
            f"    <revision>\n      <id>{i + 10_000_001}</id>\n      <timestamp>{stamp}</timestamp>\n"
            f"      <contributor>\n        <username>Editor{i % 9973}</username>\n        <id>{i % 9973 + 1}</id>\n"
            f"      </contributor>\n      <comment>synthetic</comment>\n      <model>wikitext</model>\n"
            f"      <format>text/x-wiki</format>\n"
            f'      <text bytes="{len(data)}" xml:space="preserve">{_escape(text)}</text>\n'
            f"      <sha1>{_base36(data)}</sha1>\n    </revision>\n  </page>\n")


def _timestamp(seconds: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def chunk_xml(shape: Shape, k: int) -> bytes:
    """The XML of the pages of chunk ``k``: the same bytes for the same shape, seed and k."""
    writer = Writer(shape, random.Random(f"chunk-{shape.seed}-{k}"))
    return "".join(page_xml(shape, writer, i) for i in range(k * CHUNK, min(shape.pages, (k + 1) * CHUNK))).encode()


def _chunk_bz2(args: tuple[Shape, int, int]) -> tuple[bytes, int]:
    shape, k, level = args
    xml = chunk_xml(shape, k)
    return bz2.compress(xml, level), len(xml)


@dataclass(slots=True)
class DumpInfo:
    """What was written."""

    path: Path
    pages: int
    xml_bytes: int
    bz2_bytes: int
    seed: int
    generator: str


def write_dump(path: Path, pages: int, seed: int = 1, jobs: int = 2, level: int = 9) -> DumpInfo:
    """Write the synthetic wiki of ``pages`` pages to ``path`` as a multistream bz2 dump.

    ``jobs`` worker processes build and compress chunks (1: in this process);
    at most 2 x jobs chunks are in flight, so memory stays constant.
    """
    shape = Shape(pages, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    xml_bytes = 0
    with open(tmp, "wb") as out:
        head = header()
        out.write(bz2.compress(head, level))
        xml_bytes += len(head)
        for data, n in _chunks(shape, jobs, level):
            out.write(data)
            xml_bytes += n
        out.write(bz2.compress(FOOTER, level))
        xml_bytes += len(FOOTER)
    info = DumpInfo(path, pages, xml_bytes, tmp.stat().st_size, seed, generator_digest())
    sidecar(path).write_text(json.dumps({"pages": pages, "seed": seed, "xml_bytes": xml_bytes,
                                         "bz2_bytes": info.bz2_bytes, "generator": info.generator}))
    tmp.replace(path)
    return info


def sidecar(path: Path) -> Path:
    """Where what write_dump wrote is described (pages, seed, sizes, generator digest)."""
    return path.with_name(path.name + ".json")


def generator_digest() -> str:
    """A digest of this module's source: a dump made by other code is another dump."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def existing_dump(path: Path, pages: int, seed: int) -> DumpInfo | None:
    """The dump at ``path`` if this very generator wrote it for ``pages`` and ``seed``."""
    try:
        meta = json.loads(sidecar(path).read_text())
    except (OSError, ValueError):
        return None
    if not path.exists() or (meta["pages"], meta["seed"], meta["generator"], meta["bz2_bytes"]) != \
            (pages, seed, generator_digest(), path.stat().st_size):
        return None
    return DumpInfo(path, pages, meta["xml_bytes"], meta["bz2_bytes"], seed, meta["generator"])


def _chunks(shape: Shape, jobs: int, level: int) -> Iterator[tuple[bytes, int]]:
    tasks = ((shape, k, level) for k in range(shape.chunks()))
    if jobs <= 1:
        yield from map(_chunk_bz2, tasks)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        window: list[Future] = []
        for task in tasks:
            window.append(pool.submit(_chunk_bz2, task))
            if len(window) >= 2 * jobs:
                yield window.pop(0).result()
        for future in window:
            yield future.result()


def main(argv: list[str]) -> int:
    """python -m bench.synthetic_wiki PAGES OUT.xml.bz2 [SEED] [JOBS]"""
    import time

    pages, out = int(argv[0]), Path(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else 1
    jobs = int(argv[3]) if len(argv) > 3 else 2
    start = time.perf_counter()
    info = write_dump(out, pages, seed, jobs)
    seconds = time.perf_counter() - start
    print(f"{info.pages:,} pages, {info.xml_bytes:,} bytes of XML, {info.bz2_bytes:,} bz2; "
          f"{info.xml_bytes / 1e6:,.1f} MB of XML, {info.bz2_bytes / 1e6:,.1f} MB bz2 "
          f"({info.xml_bytes / info.bz2_bytes:.2f}x) in {seconds:.1f} s ({info.xml_bytes / 1e6 / seconds:.1f} MB/s)")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
