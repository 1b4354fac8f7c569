"""Wikitext to a tree of templates, arguments and extension tags.

This is MediaWiki's preprocessor (``Preprocessor_Hash``) in small: one pass
over the text with a stack of open ``{{``/``[[`` runs, so its time is linear
in the input whatever the input holds. mwparserfromhell is not used here: its
tokenizer backtracks on unclosed constructs (5,000 characters of ``{{a|``
take seconds, 20,000 take most of a minute), which a hostile page would use.

A tree is a list of nodes: ``str`` (text), :class:`Template`,
:class:`Argument` and :class:`ExtTag`. Comments are dropped here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Tags whose content the wikitext parser does not see (MediaWiki's extension tags).
EXT_TAGS = frozenset({
    "nowiki", "pre", "ref", "references", "math", "chem", "ce", "source", "syntaxhighlight",
    "poem", "gallery", "templatedata", "templatestyles", "indicator", "mapframe", "maplink",
    "graph", "timeline", "score", "section", "categorytree", "inputbox", "imagemap", "hiero",
    "charinsert", "langconvert", "phonos", "rss", "dynamicpagelist", "quiz",
})

MAX_OPEN = 2000  # runs open at once; past this "{{" and "[[" are text (no page nests that deep)
# "<" matters only where a comment or an extension tag may start: other "<"
# (text, <span>) are skipped by the search itself rather than one by one.


@functools.lru_cache(maxsize=8)
def _special(extra_tags: frozenset[str]) -> re.Pattern:
    """What the scanner stops at: brackets, pipes, ``=``, comments and the extension tags' ``<``."""
    names = "|".join(re.escape(t) for t in sorted(EXT_TAGS | extra_tags))
    return re.compile(r"[{}\[\]|=]|<(?=!--|(?:" + names + r")[\s/>])", re.I)


_SPECIAL = _special(frozenset())
_RUN = {c: re.compile(re.escape(c) + "+") for c in "{}[]"}
_TAG_NAME = re.compile(r"<([A-Za-z][\w-]*)")
_ONLYINCLUDE = re.compile(r"<onlyinclude\s*>(.*?)</onlyinclude\s*>", re.S | re.I)
# Transcluded, a <noinclude> element is nothing, a self-closed <noinclude /> too (MediaWiki's preprocessor
# ignores the element): enwiki's templates write {{SAFESUBST:<noinclude />#if:...}} to be safe to substitute.
_NOINCLUDE_BLOCK = re.compile(r"<noinclude\s*/>|<noinclude\s*>.*?(?:</noinclude\s*>|\Z)", re.S | re.I)
_INCLUDEONLY_BLOCK = re.compile(r"<includeonly\s*>.*?(?:</includeonly\s*>|\Z)", re.S | re.I)
_INCLUDEONLY_TAGS = re.compile(r"</?includeonly\s*/?>", re.I)
_PAGE_TAGS = re.compile(r"</?(?:noinclude|onlyinclude)\s*/?>", re.I)
_SELF_CLOSED = re.compile(r"<(?:noinclude|includeonly|onlyinclude)\s*/>", re.I)  # empty: nothing to keep or drop


class Part:
    """One ``|``-separated part; ``eq`` is where the value starts after a top-level ``=``."""

    __slots__ = ("nodes", "eq")  # a plain class: pages make hundreds of thousands of these

    def __init__(self, nodes: list | None = None, eq: int = -1) -> None:
        self.nodes = nodes if nodes is not None else []
        self.eq = eq

    def name_nodes(self) -> list:
        return self.nodes[: self.eq - 1] if self.eq >= 0 else []

    def value_nodes(self) -> list:
        return self.nodes[self.eq:] if self.eq >= 0 else self.nodes


@dataclass(slots=True)
class Template:
    """``{{name|part|...}}``: ``parts[0]`` is the name."""

    parts: list[Part]


@dataclass(slots=True)
class Argument:
    """``{{{name|default}}}``."""

    parts: list[Part]


@dataclass(slots=True)
class ExtTag:
    """An extension tag with its raw attributes and body (None when self-closed)."""

    name: str
    attrs: str
    body: str | None
    source: str


class _Piece:
    __slots__ = ("open", "count", "parts")

    def __init__(self, open_: str, count: int, parts: list[Part]) -> None:
        self.open, self.count, self.parts = open_, count, parts


def include_filter(text: str, transcluded: bool) -> str:
    """Apply ``<noinclude>``, ``<includeonly>`` and ``<onlyinclude>`` for either use."""
    if "/>" in text:
        text = _SELF_CLOSED.sub("", text)
    if not transcluded:
        text = _INCLUDEONLY_BLOCK.sub("", text) if "<" in text else text
        return _PAGE_TAGS.sub("", text) if "<" in text else text
    if "<" not in text:
        return text
    if _ONLYINCLUDE.search(text):
        text = "".join(m.group(1) for m in _ONLYINCLUDE.finditer(text))
    text = _NOINCLUDE_BLOCK.sub("", text)
    return _INCLUDEONLY_TAGS.sub("", text)


def preprocess(text: str, extra_tags: frozenset[str] = frozenset()) -> list:
    """The node tree of ``text`` (already include-filtered); ``extra_tags`` are extension tags
    beyond the built-in ``EXT_TAGS`` (RenderContext.extension_tags)."""
    if "{" not in text and "<" not in text:
        return [text]  # no template, argument, comment or tag: nothing to find
    return _Scanner(text, extra_tags).run()


class _Scanner:
    def __init__(self, text: str, extra_tags: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.tags = EXT_TAGS | extra_tags
        self.special = _special(extra_tags)
        self.root: list = []
        self.stack: list[_Piece] = []
        self.next_gt = -1  # the position of the next ">" (len(text) when none), for tag_end
        self.no_close: set[str] = set()  # tags with no closing tag further on: never search again

    def accum(self) -> list:
        return self.stack[-1].parts[-1].nodes if self.stack else self.root

    def run(self) -> list:
        text, i, n = self.text, 0, len(self.text)
        while i < n:
            m = self.special.search(text, i)
            if m is None:
                self.accum().append(text[i:])
                break
            j = m.start()
            if j > i:
                self.accum().append(text[i:j])
            c = text[j]
            if c == "<":
                i = self.angle(j)
            elif c in "{[":
                i = self.opening(j, c)
            elif c in "}]":
                i = self.closing(j, c)
            elif c == "|":
                i = self.pipe(j)
            else:
                i = self.equals(j)
        return self.unwind()

    def opening(self, j: int, c: str) -> int:
        run = _RUN[c].match(self.text, j).end() - j
        if run < 2 or len(self.stack) >= MAX_OPEN:
            self.accum().append(self.text[j:j + run])
            return j + run
        self.stack.append(_Piece(c, run, [Part()]))
        return j + run

    def closing(self, j: int, c: str) -> int:
        run = _RUN[c].match(self.text, j).end() - j
        top = self.stack[-1] if self.stack else None
        if top is None or (top.open == "{") != (c == "}"):
            self.accum().append(self.text[j:j + run])
            return j + run
        count = min(run, top.count)
        matching = (3 if count >= 3 else count if count == 2 else 0) if c == "}" else (2 if count >= 2 else 0)
        if matching == 0:
            self.accum().append(self.text[j:j + run])
            return j + run
        self.stack.pop()
        element = self.element(top, matching)
        top.count -= matching
        if top.count >= 2:
            # Unmatched opening braces stay open, holding what just closed.
            self.stack.append(_Piece(top.open, top.count, [Part([element])]))
        else:
            acc = self.accum()
            if top.count:
                acc.append(top.open * top.count)
            if isinstance(element, list):
                acc.extend(element)
            else:
                acc.append(element)
        return j + matching

    @staticmethod
    def element(piece: _Piece, matching: int):
        if piece.open == "[":
            return ["[" * matching, *_join_parts(piece.parts), "]" * matching]
        return Template(piece.parts) if matching == 2 else Argument(piece.parts)

    def pipe(self, j: int) -> int:
        if self.stack and self.stack[-1].open == "{":
            self.stack[-1].parts.append(Part())
        else:
            self.accum().append("|")
        return j + 1

    def equals(self, j: int) -> int:
        top = self.stack[-1] if self.stack else None
        if top is not None and top.open == "{" and len(top.parts) > 1 and top.parts[-1].eq < 0:
            part = top.parts[-1]
            part.nodes.append("=")
            part.eq = len(part.nodes)
        else:
            self.accum().append("=")
        return j + 1

    def angle(self, j: int) -> int:
        text = self.text
        if text.startswith("<!--", j):
            return self.comment(j)
        m = _TAG_NAME.match(text, j)
        end = self.tag_end(m.end()) if m is not None and m.group(1).lower() in self.tags else -1
        if end < 0:
            self.accum().append("<")
            return j + 1
        name = m.group(1).lower()
        if text[end - 2] == "/":
            self.accum().append(ExtTag(name, text[m.end():end - 2], None, text[j:end]))
            return end
        if name in self.no_close:
            self.accum().append("<")
            return j + 1
        attrs = text[m.end():end - 1]
        close = _closing_tag(name).search(text, m.end())
        if close is None:
            self.no_close.add(name)
            self.accum().append("<")
            return j + 1
        body = text[end:close.start()]
        self.accum().append(ExtTag(name, attrs, body, text[j:close.end()]))
        return close.end()

    def tag_end(self, k: int) -> int:
        """The index after the ``>`` closing a start tag whose name ends at ``k``, or -1.

        Attributes run to the first ``>``, past any ``<`` (MediaWiki's preprocessor:
        ``<pre <pre>x</pre>`` is one tag). The next ``>`` is remembered, so a page of
        many ``<ref `` and no ``>`` is scanned once, not once per tag.
        """
        text = self.text
        if text.startswith(">", k):
            return k + 1
        if text.startswith("/>", k):
            return k + 2
        if k >= len(text) or text[k] not in " \t\n\r\f\v":
            return -1
        if self.next_gt < k:
            found = text.find(">", k)
            self.next_gt = len(text) if found < 0 else found
        return -1 if self.next_gt >= len(text) else self.next_gt + 1

    def comment(self, j: int) -> int:
        text = self.text
        end = text.find("-->", j + 4)
        if end < 0:
            return len(text)
        end += 3
        # A comment alone on its line takes the line with it, as in MediaWiki.
        before = j
        while before > 0 and text[before - 1] in " \t":
            before -= 1
        after = end
        while after < len(text) and text[after] in " \t":
            after += 1
        while text.startswith("<!--", after):  # more comments on the line count as one (MediaWiki's loop)
            close = text.find("-->", after + 4)
            if close < 0:
                break
            after = close + 3
            while after < len(text) and text[after] in " \t":
                after += 1
        if before > 0 and text[before - 1] == "\n" and after < len(text) and text[after] == "\n":
            acc = self.accum()
            strip = j - before
            if strip and acc and isinstance(acc[-1], str) and acc[-1].endswith(text[before:j]):
                acc[-1] = acc[-1][: len(acc[-1]) - strip]
            return after + 1
        return end

    def unwind(self) -> list:
        # Unclosed runs become text again. Each piece sits at the end of the last
        # part of the one below it, so one walk up the stack keeps the order.
        out = self.root
        for piece in self.stack:
            out.append(piece.open * piece.count)
            out.extend(_join_parts(piece.parts))
        self.stack = []
        return out


@functools.lru_cache(maxsize=64)
def _closing_tag(name: str) -> re.Pattern:
    return re.compile(r"</" + re.escape(name) + r"\s*>", re.I)


def _join_parts(parts: list[Part]) -> list:
    out: list = []
    for k, part in enumerate(parts):
        if k:
            out.append("|")
        out.extend(part.nodes)
    return out


def source_of(nodes: list) -> str:
    """The wikitext a tree came from (comments aside)."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, ExtTag):
            out.append(node.source)
        else:
            braces = 2 if isinstance(node, Template) else 3
            out.append("{" * braces + source_of(_join_parts(node.parts)) + "}" * braces)
    return "".join(out)
