"""What MediaWiki's Remex tidying does to the legacy parser's HTML: p-wrapping and French spaces.

MediaWiki runs its legacy parser's output through RemexHtml, whose
``RemexCompatMunger`` wraps text and inline elements standing directly in the
page body or in a ``<blockquote>`` in ``<p>`` (``a <div>b</div>`` becomes
``<p>a</p><div>b</div>``), and splits a formatting element that holds a block
(``<b>x<div>y</div></b>`` becomes ``<p><b>x</b></p><b><div>y</div></b>``).
An inline element holding a block through a non-formatting element
(``<span><div>``) leaves the paragraph whole, as Remex's "disable the p-wrap".

Here that is a pass over the finished tree rather than a hook in a tree
builder: it runs on the sanitizer's output (well-formed, attributes
double-quoted, no comments), parses it into a light tree, regroups the
children of each wrap base and writes it back, tags as they were.

As it writes text back it armours French spaces as Remex's formatter does
(``Sanitizer::armorFrenchSpaces`` on every text node, never on attributes): a
space before ``? : ; ! % » ›`` (when no letter follows it) or after ``« ‹`` is
a no-break space, so ``Hello : this`` never breaks before its colon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# RemexCompatMunger's "only inline" elements: they open a p-wrapper, blocks close it
INLINE = frozenset({
    "a", "abbr", "acronym", "applet", "audio", "b", "basefont", "bdi", "bdo", "big", "br", "button", "cite",
    "code", "data", "del", "dfn", "em", "font", "i", "iframe", "img", "input", "ins", "kbd", "label", "legend",
    "map", "mark", "object", "param", "q", "rb", "rbc", "rp", "rt", "rtc", "ruby", "s", "samp", "select",
    "small", "span", "strike", "strong", "sub", "sup", "textarea", "time", "tt", "u", "var", "video",
})
# neither open nor close a paragraph
METADATA = frozenset({"style", "script", "link", "meta"})
# formatting elements Remex clones on both sides of a block instead of giving up the paragraph
FORMATTING = frozenset({"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong",
                        "tt", "u"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "keygen", "basefont", "bgsound", "frame"})
_TOKEN = re.compile(r'<(/?)([a-zA-Z][^\s/>]*)((?:\s+[^\s=/>]+(?:="[^"]*")?)*)\s*/?>')
# Content the HTML5 parser moves out of a table ("foster parenting") is inserted before the table, and
# Remex does not p-wrap it: it is marked with this element before the sanitizer and unwrapped here.
FOSTER_TAG = "mw-foster"
_LOOSE_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_CELL = frozenset({"td", "th", "caption"})
_TABLE_PARTS = frozenset({"tr", "tbody", "thead", "tfoot", "col", "colgroup"})


@dataclass(slots=True, eq=False)
class _Element:
    name: str
    start: str  # the start tag as written
    children: list[_Element | str] = field(default_factory=list)

    def clone(self, children: list[_Element | str] | None = None) -> _Element:
        return _Element(self.name, self.start, children or [])


def _parse(html: str) -> _Element:
    root = _Element("#root", "")
    stack = [root]
    pos = 0
    for m in _TOKEN.finditer(html):
        if m.start() > pos:
            stack[-1].children.append(html[pos:m.start()])
        pos = m.end()
        name = m.group(2).lower()
        if m.group(1):
            for depth in range(len(stack) - 1, 0, -1):  # well-formed input: the innermost open one
                if stack[depth].name == name:
                    del stack[depth:]
                    break
            continue
        element = _Element(name, m.group(0))
        stack[-1].children.append(element)
        if name not in _VOID:
            stack.append(element)
    if pos < len(html):
        stack[-1].children.append(html[pos:])
    return root


# RemexCompatFormatter: an empty (or blank) p, li or tr without attributes is marked
_MARKED_EMPTY = {f"<{name}>": f'<{name} class="mw-empty-elt">' for name in ("p", "li", "tr")}
_FRENCH_BEFORE = re.compile(r" (?=[?:;!%»›](?!\w))")
_FRENCH_AFTER = re.compile(r"(?<!\w)([«‹]) ")  # not after a letter: »quotes« (T378404)


def armor_french_spaces(text: str) -> str:
    """MediaWiki's Sanitizer::armorFrenchSpaces on a text node (HTML-escaped text)."""
    if " " not in text:
        return text
    return _FRENCH_AFTER.sub("\\1&#160;", _FRENCH_BEFORE.sub("&#160;", text))


def _write(node: _Element | str, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(armor_french_spaces(node))
        return
    if node.name == FOSTER_TAG:
        for child in node.children:
            _write(child, out)
        return
    if node.start in _MARKED_EMPTY and all(_is_blank(c) for c in node.children):
        out.append(_MARKED_EMPTY[node.start])  # Remex's formatter marks it so skins can hide it
    else:
        out.append(node.start)
    for child in node.children:
        _write(child, out)
    if node.name not in _VOID:
        out.append(f"</{node.name}>")


def _is_blank(node: _Element | str) -> bool:
    return isinstance(node, str) and not node.strip(" \t\n\r\f")


def _has_block(node: _Element | str) -> bool:
    if isinstance(node, str):
        return False
    return any(isinstance(c, _Element) and (c.name not in INLINE and c.name not in METADATA or _has_block(c))
               for c in node.children)


def _splittable_path(node: _Element) -> bool:
    """Whether every element between ``node`` and the blocks it holds is a formatting element."""
    if node.name not in FORMATTING:
        return False
    for child in node.children:
        if isinstance(child, _Element) and child.name in INLINE and _has_block(child):
            if not _splittable_path(child):
                return False
    return True


def _segments(node: _Element) -> list[tuple[bool, _Element]]:
    """A formatting element holding blocks, split: (inline?, clone) in order, blocks outside paragraphs."""
    out: list[tuple[bool, _Element]] = []
    current: _Element | None = None
    for child in node.children:
        if isinstance(child, str) or child.name in METADATA or (child.name in INLINE and not _has_block(child)):
            if current is None:
                if _is_blank(child) and out:  # blank text after a block stays with it, as in Remex
                    out[-1][1].children.append(child)
                    continue
                current = node.clone()
                out.append((True, current))
            current.children.append(child)
        elif child.name in INLINE:  # a formatting element holding blocks itself
            for inline, part in _segments(child):
                if inline and current is not None:
                    current.children.append(part)
                    continue
                clone = node.clone([part])
                out.append((inline, clone))
                current = clone if inline else None
        else:
            out.append((False, node.clone([child])))
            current = None
    # Remex drops the original element when nothing but blanks went into it before the block
    return [(inline, part) for inline, part in out if not inline or _has_content(part)]


def _has_content(node: _Element) -> bool:
    return any(isinstance(c, _Element) or c.strip(" \t\n\r\f") for c in node.children)


def _wrap(base: _Element) -> None:
    """Regroup ``base``'s children: runs of inline content in paragraphs."""
    children: list[_Element | str] = []
    paragraph: _Element | None = None

    def close() -> None:
        nonlocal paragraph
        if paragraph is not None and not _has_content(paragraph):
            children.pop()  # an open paragraph is the last child; only blanks in it: none (Remex's formatter)
            children.extend(paragraph.children)
        paragraph = None

    def add_inline(node: _Element | str) -> None:
        nonlocal paragraph
        if paragraph is None:
            paragraph = _Element("p", "<p>")
            children.append(paragraph)
        paragraph.children.append(node)

    for child in base.children:
        if isinstance(child, str):
            if paragraph is not None or not _is_blank(child):
                add_inline(child)
            else:
                children.append(child)
        elif child.name == FOSTER_TAG:  # before a table: left as it is
            close()
            children.append(child)
        elif child.name in METADATA:
            (paragraph.children if paragraph is not None else children).append(child)
        elif child.name not in INLINE:
            close()
            children.append(child)
        elif not _has_block(child):
            add_inline(child)
        elif _splittable_path(child):
            for inline, part in _segments(child):
                if inline:
                    add_inline(part)
                else:
                    close()
                    children.append(part)
        else:  # Remex gives up the paragraph: the element stands outside it, whole
            close()
            children.append(child)
    close()
    base.children = children


def _walk(node: _Element, is_base: bool) -> None:
    if is_base:
        _wrap(node)
    for child in node.children:
        if isinstance(child, _Element):
            _walk(child, child.name == "blockquote")


def p_wrap(html: str, top_level: bool = True) -> str:
    """``html`` with loose inline content wrapped in paragraphs as MediaWiki's Remex wraps it.

    The top level (when ``top_level``) and every ``<blockquote>`` are wrap bases.
    """
    if "<" not in html and not (top_level and html.strip()):
        return html
    root = _parse(html)
    _walk(root, top_level)
    out: list[str] = []
    for child in root.children:
        _write(child, out)
    return "".join(out)


def mark_fostered(html: str) -> str:
    """``html`` (before the sanitizer) with content standing in a table outside its cells marked.

    The marks (``<mw-foster>``) go with that content where the HTML5 parser
    fosters it, before the table, so :func:`p_wrap` leaves it unwrapped as Remex
    does; :func:`p_wrap` removes them.
    """
    if "<table" not in html and "<TABLE" not in html.upper():
        return html
    out: list[str] = []
    stack: list[str] = []  # "table" or "cell", innermost last
    fostering = False
    pos = 0

    def stop() -> None:
        nonlocal fostering
        if fostering:
            out.append(f"</{FOSTER_TAG}>")
            fostering = False

    def start() -> None:
        nonlocal fostering
        if not fostering:
            out.append(f"<{FOSTER_TAG}>")
            fostering = True

    for m in _LOOSE_TAG.finditer(html):
        text = html[pos:m.start()]
        if text.strip() and stack and stack[-1] == "table":
            start()
        out.append(text)
        pos = m.end()
        closing, name = bool(m.group(1)), m.group(2).lower()
        if name == "table":
            stop()
            if not closing:
                stack.append("table")
            elif "table" in stack:
                while stack.pop() != "table":
                    pass
        elif name in _CELL or name in _TABLE_PARTS:
            stop()
            if stack and stack[-1] == "cell" and (not closing or name in _CELL):
                stack.pop()  # a cell ends at its end tag, the next cell or row
            if not closing and name in _CELL and stack:
                stack.append("cell")
        elif not closing and stack and stack[-1] == "table":
            start()
        out.append(m.group(0))
    rest = html[pos:]
    if rest.strip() and stack and stack[-1] == "table":
        start()
    out.append(rest)
    stop()
    return "".join(out)
