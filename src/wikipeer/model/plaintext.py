"""Wikitext reduced to the running text a reader sees, for search results (docs/search.md).

A plain reading of the wikitext, not a rendering (and so here, not in render/: a command showing
search results does not load the renderer). Templates, tables, references, galleries, file and
category links, comments and behaviour switches are dropped whole; links keep the words they show;
bold, italics, headings' equals signs, list markers and HTML tags go, their text stays; character
references are decoded. The whole page's text is
rendered only when it is read: a results page shows 20 snippets at once, and
rendering a long article's templates and modules takes seconds where this takes
milliseconds (bench/RESULTS.md). The answer is plain text, to be escaped by
whoever shows it.
"""

from __future__ import annotations

import html
import re

from wikipeer.model.languages import LANGUAGES
from wikipeer.model.title import WikiConfig

# The namespaces whose links show no words in the running text: a file shows as a picture
# (its caption under it), a category at the page's foot.
_HIDDEN_NAMESPACES = (-2, 6, 14)
# English names every wiki also accepts.
_CANONICAL_HIDDEN = ("media", "file", "image", "category")

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# Tags whose content is no running text: references (shown at the foot), pictures, formulas, code for machines.
_DROPPED_ELEMENTS = ("ref", "references", "gallery", "math", "chem", "ce", "score", "timeline", "graph",
                     "mapframe", "maplink", "templatestyles", "imagemap", "syntaxhighlight", "source",
                     "categorytree", "inputbox", "hiero", "charinsert", "templatedata", "indicator", "style", "script")
_DROPPED = re.compile(
    r"<(%s)\b[^>]*?(?:/>|>.*?(?:</\1\s*>|\Z))" % "|".join(_DROPPED_ELEMENTS), re.S | re.I)
# The innermost template, parser function or parameter: no "{{" or "}}" inside.
_TEMPLATE = re.compile(r"\{\{(?:[^{}]|\{(?!\{)|\}(?!\}))*\}\}")
_STRAY_BRACES = re.compile(r"\{\{+|\}\}+")
_TABLE_START = re.compile(r"^[ \t:]*\{\|")
_TABLE_END = re.compile(r"^[ \t]*\|\}")
# The innermost internal link: no brackets inside.
_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_EXTERNAL = re.compile(r"\[(?:https?:|ftp:|mailto:|//)[^\s\]]*(?:\s+([^\]]*))?\]", re.I)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SWITCH = re.compile(r"__[A-Z_\u0080-\uffff]+__")
_QUOTES = re.compile(r"'{2,}")
_HEADING = re.compile(r"^(=+)[ \t]*(.*?)[ \t]*\1[ \t]*$", re.M)
_LIST = re.compile(r"^[*#:;]+[ \t]*", re.M)
_RULE = re.compile(r"^-{4,}", re.M)
_REDIRECT = re.compile(r"^\s*#[^\s\[]+\s*:?\s*(?=\[\[)")
_EMPTY_BRACKETS = re.compile(r"[ \t]?[(（]\s*[,;，、]?\s*[)）]")
_SPACE = re.compile(r"[ \t\u00a0]+")
_LINE_EDGES = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def plain_text(wikitext: str, hidden: frozenset[str] = frozenset(_CANONICAL_HIDDEN)) -> str:
    """The words of ``wikitext`` a reader sees, paragraphs separated by blank lines.

    ``hidden`` holds the lower-cased link prefixes that show no words (``hidden_prefixes`` of the
    page's wiki: a localised "File:" or "Category:").
    """
    text = _COMMENT.sub("", wikitext)
    text = _DROPPED.sub("", text)
    text = _REDIRECT.sub("", text)
    text = _without_templates(text)
    text = _without_tables(text)
    text = _without_links(text, hidden)
    text = _EXTERNAL.sub(lambda m: m.group(1) or "", text)
    text = _TAG.sub("", text)
    text = _SWITCH.sub("", text)
    text = _QUOTES.sub("", text)
    text = _HEADING.sub(r"\2", text)
    text = _LIST.sub("", text)
    text = _RULE.sub("", text)
    text = html.unescape(text)
    text = _EMPTY_BRACKETS.sub("", text)  # what held only a template: "Kyiv (; Ukrainian: ...)"
    text = _LINE_EDGES.sub("\n", _SPACE.sub(" ", text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _without_templates(text: str) -> str:
    """Templates dropped from the inside out; a "{{" never closed is dropped with them."""
    while "{{" in text:
        text, count = _TEMPLATE.subn("", text)
        if not count:
            break
    return _STRAY_BRACES.sub("", text)


def _without_tables(text: str) -> str:
    """Lines inside a table (nested ones included) dropped; a table never closed ends the text."""
    if "{|" not in text:
        return text
    kept: list[str] = []
    depth = 0
    for line in text.split("\n"):
        if _TABLE_START.match(line):
            depth += 1
        elif depth and _TABLE_END.match(line):
            depth -= 1
        elif not depth:
            kept.append(line)
    return "\n".join(kept)


def _without_links(text: str, hidden: frozenset[str]) -> str:
    """Each link replaced by the words it shows, from the inside out (a file's caption holds links)."""
    def shown(match: re.Match[str]) -> str:
        target, bar, label = match.group(1).partition("|")
        target = target.strip()
        colon = target.startswith(":")
        prefix, sep, _ = target.lstrip(":").partition(":")
        prefix = prefix.strip().lower().replace("_", " ")
        if not colon and sep and (prefix in hidden or prefix in LANGUAGES):
            return ""
        if bar:
            return label
        return target.lstrip(":").split("#")[0] if not target.startswith("#") else target[1:]

    while "[[" in text:
        text, count = _LINK.subn(shown, text)
        if not count:
            break
    return text.replace("[[", "").replace("]]", "")


def hidden_prefixes(config: WikiConfig | None) -> frozenset[str]:
    """The link prefixes of ``config``'s wiki whose links show no words: media, file and category,
    by their local names, aliases and English names."""
    names = set(_CANONICAL_HIDDEN)
    if config is not None:
        names.update(config.namespaces.get(ns, "").lower() for ns in _HIDDEN_NAMESPACES)
        names.update(alias.lower() for alias, ns in config.namespace_aliases.items() if ns in _HIDDEN_NAMESPACES)
    names.discard("")
    return frozenset(n.replace("_", " ") for n in names)
