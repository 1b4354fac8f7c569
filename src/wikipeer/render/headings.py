"""Section headings, their anchors, and the table of contents.

``== x ==`` lines become ``<hN>`` first (MediaWiki's ``handleHeadings``);
once links and bold are done, each heading gets its anchor from its visible
text (spaces as ``_``, repeats numbered ``_2``...) and the TOC is built as
MediaWiki does: with 4 or more headings, or ``__FORCETOC__``, never with
``__NOTOC__``, and where ``__TOC__`` stands if it does.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote

from wikipeer.render import language_data
from wikipeer.render.strip import MARKER
from wikipeer.render.tags import escape_attr

# a wikitext heading: a whole line, as headings() makes it; or one the author wrote in HTML, which
# sanitize_tags marks with MediaWiki's class mw-html-heading (it may span lines and sit anywhere)
_HEADING_TAG = re.compile(r"^<h([1-6])>([^\n]*)</h\1>$|<h([1-6])(\s[^>]*\bmw-html-heading\b[^>]*)>"
                          r"((?:[^<]|<(?!h[1-6][\s>]))*?)</h\3\s*>",  # an unclosed one ends its search at the next
                          re.M | re.S)
_ID = re.compile(r'\sid="([^"]*)"')
_FIRST_HEADING = "\x7fFIRSTHEADING\x7f"
_TAGS = re.compile(r"<[^>]*>")
TOC_MARK = "\x7fTOC\x7f"
# The TOC's title as these Wikipedias show it (eswiki's own MediaWiki:Toc, for one); other languages
# take MediaWiki's "toc" message from the language data (render/language_data.py).
TOC_TITLES = {
    "en": "Contents", "vi": "Mục lục", "uk": "Зміст", "ja": "目次", "mr": "अनुक्रमणिका",
    "ru": "Содержание", "de": "Inhaltsverzeichnis", "fr": "Sommaire", "es": "Índice",
}


def headings(text: str) -> str:
    """Heading lines as ``<hN>text</hN>``; blank lines right after a heading go with it."""
    if "=" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    skip_blank = False
    for line in lines:
        if skip_blank and not line.strip():
            continue
        skip_blank = False
        if line.startswith("="):
            heading = _heading(line)
            if heading is not None:
                out.append(heading)
                skip_blank = True
                continue
        out.append(line)
    if skip_blank and len(out) < len(lines):
        # The greedy \s*$ of MediaWiki's pattern keeps the last line break.
        out.append("")
    return "\n".join(out)


def _heading(line: str) -> str | None:
    body = line.rstrip()
    for level in range(6, 0, -1):
        marks = "=" * level
        if len(body) > 2 * level and body.startswith(marks) and body.endswith(marks):
            inner = body[level:-level].strip(" \t")
            if inner:
                return f"<h{level}>{inner}</h{level}>"
    return None


def escape_id(text: str, mode: str = "html5") -> str:
    """A section anchor as MediaWiki's Sanitizer writes it in ``$wgFragmentMode`` ``mode``.

    ``html5``: spaces as ``_``. ``legacy``: then PHP's urlencode with ``%`` as
    ``.`` and ``:`` kept (``a=b`` is ``a.3Db``, ``é`` is ``.C3.A9``).
    """
    text = text.replace(" ", "_")
    if mode != "legacy":
        return text
    encoded = quote(text, safe="").replace("~", "%7E")  # PHP's urlencode encodes ~, Python's quote keeps it
    return encoded.replace("%3A", ":").replace("%", ".")


@dataclass(slots=True)
class Section:
    level: int
    anchor: str
    html: str
    number: str = ""
    toclevel: int = 0  # its depth in the TOC


# the tags a TOC line keeps (MediaWiki's formatHeadings); all others go, and the kept ones lose their
# attributes but a span's dir
_TOC_DROP = re.compile(r"<(?!/?(?:span|sup|sub|bdi|i|b|s|strike)(?:\s[^>]*)?>)[^>]*>")
_TOC_KEEP = re.compile(r"<(/?(?:span|sup|sub|bdi|i|b|s|strike))(\s[^>]*)?>")
_DIR = re.compile(r'\sdir="(rtl|ltr)"')


def _toc_text(inner: str) -> str:
    def kept(m: re.Match) -> str:
        direction = _DIR.search(m.group(2) or "") if m.group(1) == "span" else None
        return f"<{m.group(1)}{f' dir={chr(34)}{direction.group(1)}{chr(34)}' if direction else ''}>"
    # an empty span is what an extra anchor (<span id="old"></span>) leaves: MediaWiki drops it
    return _TOC_KEEP.sub(kept, _TOC_DROP.sub("", inner)).replace("<span></span>", "")


def format_headings(text: str, switches: set[str], lang: str, fragment_mode: str = "html5",
                    max_toc_level: int = 999, allow_toc: bool = True) -> str:
    """Anchored headings, and the TOC where MediaWiki puts it (anchors in ``fragment_mode``, see escape_id;
    TOC levels from ``max_toc_level`` on left out, MediaWiki's ``$wgMaxTocLevel``)."""
    sections: list[Section] = []
    used: dict[str, int] = {}

    def anchor(m: re.Match) -> str:
        level, attrs, inner = (m.group(1), "", m.group(2)) if m.group(1) else m.group(3, 4, 5)
        first = "" if sections else _FIRST_HEADING
        own_id = _ID.search(attrs)
        if own_id:  # an HTML heading with an id keeps it, and the TOC links to it
            name = html.unescape(own_id.group(1))
            used[name.lower()] = 1
            sections.append(Section(int(level), name, _toc_text(MARKER.sub("", inner)).strip()))
            return f"{first}<h{level}{attrs}>{inner}</h{level}>"
        # Stripped pieces (a template's placeholder, a ref) come back as HTML later: never inside an id.
        visible = html.unescape(_TAGS.sub("", MARKER.sub("", inner))).strip()
        base = re.sub(r"\s+", "_", visible) or "section"
        name = base
        if base.lower() in used:  # MediaWiki's $refers: case-insensitive, and counting the numbered ones too
            number = 2
            while f"{base}_{number}".lower() in used:
                number += 1
            name = f"{base}_{number}"
        used[name.lower()] = 1
        name = escape_id(name, fragment_mode)
        sections.append(Section(int(level), name, _toc_text(MARKER.sub("", inner)).strip()))
        return f'{first}<h{level}{attrs}><span class="mw-headline" id="{escape_attr(name)}">{inner}</span></h{level}>'

    text = _HEADING_TAG.sub(anchor, text)
    has_mark = TOC_MARK in text
    show = allow_toc and sections and (has_mark or "FORCETOC" in switches or len(sections) >= 4) and (
        has_mark or "NOTOC" not in switches)
    if not show:
        return text.replace(TOC_MARK, "").replace(_FIRST_HEADING, "")
    title = TOC_TITLES.get(lang) or language_data.language(lang).message("toc") or TOC_TITLES["en"]
    toc = "\n" + toc_html(sections, title, max_toc_level) + "\n"
    if has_mark:
        first = text.index(TOC_MARK)
        return (text[:first] + toc + text[first:].replace(TOC_MARK, "")).replace(_FIRST_HEADING, "")
    return text.replace(_FIRST_HEADING, toc, 1)


def toc_html(sections: list[Section], title: str, max_level: int = 999) -> str:
    """The TOC block: nested lists numbered like MediaWiki's (1, 1.1, 2...), levels below ``max_level``."""
    _number(sections)
    sections = [s for s in sections if s.toclevel < max_level]
    out = [f'<div id="toc" class="toc" role="navigation"><div class="toctitle"><h2 id="mw-toc-heading">{title}</h2></div>']
    depth = 0
    for section in sections:
        level = section.toclevel
        if level > depth:
            out.append("<ul>" * (level - depth))
        else:
            out.append("</li>" + "</ul></li>" * (depth - level))
        depth = level
        out.append(
            f'<li class="toclevel-{level}"><a href="#{escape_attr(section.anchor)}">'
            f'<span class="tocnumber">{section.number}</span> <span class="toctext">{section.html}</span></a>'
        )
    out.append("</li>" + "</ul></li>" * (depth - 1) + "</ul></div>")
    return "".join(out)


def _number(sections: list[Section]) -> None:
    """TOC depths and numbers as MediaWiki's TOCData::processHeading gives them.

    A deeper heading opens a sublevel; a shallower one goes back to the last TOC
    level holding its heading level, or to the one after the last holding a
    lower one (so ``==2== ======6====== ===3===`` numbers 1, 1.1, 1.2).
    """
    toclevel, previous = 0, 0
    level_at: dict[int, int] = {}  # TOC level -> the heading level last seen there
    counts: dict[int, int] = {}  # TOC level -> headings counted there
    for section in sections:
        level = section.level
        if level > previous:
            toclevel += 1
            counts[toclevel] = 0
        elif level < previous and toclevel > 1:
            for i in range(toclevel, 0, -1):
                if level_at[i] == level:
                    toclevel = i
                    break
                if level_at[i] < level:
                    toclevel = i + 1
                    break
            else:
                toclevel = 1
        level_at[toclevel] = level
        counts[toclevel] = counts.get(toclevel, 0) + 1
        section.toclevel = toclevel
        section.number = ".".join(str(counts[i]) for i in range(1, toclevel + 1) if counts.get(i))
        previous = level
