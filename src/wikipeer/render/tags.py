"""HTML the page author writes: allowed tags kept, everything else escaped.

MediaWiki's ``Sanitizer::removeHTMLtags`` and ``fixTagAttributes``: a tag on
the allow-list is rebuilt from its parsed attributes (so quoting is ours),
any other ``<`` shows as text, and ``&`` that starts no known entity is
escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.entities import html5

from wikipeer.render.sanitize import AUTHOR_TAGS, allowed_attribute, safe_style

_TOKEN = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9]*)(?=[\s/>])([^<>]*?)(/?)>"  # a name runs to a blank, "/" or ">": <s.foo> is none
    r"|&(#0*[0-9]{1,7}|#[xX]0*[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});"
    r"|<+(?![A-Za-z/])|<|>+|&"  # runs of stray brackets in one go
)
# MediaWiki's Sanitizer::getAttribsRegex: a quote left open runs to the end ("Hello world|Foo" in a
# cell keeps "Hello world"), an unquoted value runs to the next blank or ">"
_ATTR = re.compile(
    r"""((?:[^\t\n\x0c\r /=>]|=)[^\t\n\x0c\r /=>]*)(?:[\t\n\x0c\r ]*=[\t\n\x0c\r ]*(?:"([^"]*)(?:"|$)|'([^']*)(?:'|$)|([^\t\n\x0c\r >]*)))?"""
)
_VOID = frozenset({"br", "hr", "wbr"})
_BLANKS = re.compile(r"[\t\r\n ]+")
_BLANK_REFS = str.maketrans({"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
MAX_NESTING = 100  # author tags open at once; deeper ones show as text (no page needs more)
_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def escape_attr(value: str) -> str:
    """An attribute value ready for double quotes (``'`` escaped too, for the quote pass)."""
    return html.escape(value, quote=True)


_WIKI_CHARS = str.maketrans({"[": "&#91;", "]": "&#93;", "{": "&#123;", "}": "&#125;", "|": "&#124;",
                             "'": "&#39;", "_": "&#95;", "~": "&#126;", ":": "&#58;", "=": "&#61;"})


def _inert(value: str) -> str:
    """An attribute value the later wikitext passes cannot see links or markup in
    (MediaWiki's ``safeEncodeAttribute``); the browser decodes it back."""
    return value.translate(_WIKI_CHARS)


def fix_attributes(raw: str, tag: str) -> str:
    """Allowed attributes of ``raw`` re-serialised, with a leading space, or ``""``."""
    kept: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        name = m.group(1).lower()
        if not allowed_attribute(tag, name):
            continue
        value = next((g for g in m.group(2, 3, 4) if g is not None), "")
        # MediaWiki's order: blanks collapsed, then references decoded (a &#10; stays a line break)
        value = html.unescape(_BLANKS.sub(" ", value).strip())
        if name == "style":
            value = safe_style(value)
            if value is None:
                continue
        elif name == "tabindex" and value != "0":  # MediaWiki allows only 0: no author reorders the page's keys
            continue
        elif name == "id":
            value = value.strip().replace(" ", "_")
            if not value:  # an empty id is no id (MediaWiki drops it)
                continue
        # a repeated attribute: the last wins; blanks from references written as references (encodeAttribute),
        # so no later line-based pass sees a line break inside a tag
        kept[name] = f' {name}="{_inert(escape_attr(value)).translate(_BLANK_REFS)}"'
    return "".join(kept.values())


def _valid_codepoint(code: int) -> bool:
    """Whether a character reference may stand for ``code`` (MediaWiki's Sanitizer::validateCodepoint):
    no control characters but tab and newline, no surrogates, no non-characters."""
    return (code in (0x09, 0x0A) or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def known_reference(entity: str) -> bool:
    """Whether ``&entity;`` is a reference to keep: a named HTML entity or a valid code point.
    Any other shows as its text, as MediaWiki shows it (``&#8;`` stays ``&#8;``, never a raw control)."""
    if entity[0] != "#":
        return entity + ";" in html5
    try:
        code = int(entity[2:], 16) if entity[1:2] in ("x", "X") else int(entity[1:])
    except ValueError:
        return False
    return _valid_codepoint(code)


class _Tokens:
    """The replacement of each token, counting open tags to bound nesting."""

    def __init__(self, attribute_text: Callable[[str], str]) -> None:
        self.open = 0
        self.attribute_text = attribute_text

    def __call__(self, m: re.Match) -> str:
        tag = m.group(2)
        if tag is not None:
            return self.tag(m, tag.lower())
        entity = m.group(5)
        if entity is not None:
            if known_reference(entity):
                return m.group(0)
            return "&amp;" + entity + ";"
        token = m.group(0)
        return _ESCAPES[token[0]] * len(token)

    def tag(self, m: re.Match, name: str) -> str:
        if name not in AUTHOR_TAGS:
            return html.escape(m.group(0), quote=False)
        if m.group(1):
            self.open = max(self.open - 1, 0)
            return f"</{name}>"
        void = name in _VOID or m.group(4)
        if not void:
            if self.open >= MAX_NESTING:
                return html.escape(m.group(0), quote=False)
            self.open += 1
        attrs = fix_attributes(self.attribute_text(m.group(3)), name)
        if name in _HEADINGS:  # MediaWiki marks a heading written in HTML; render/headings.py finds it so
            attrs = (attrs.replace(' class="', ' class="mw-html-heading ', 1) if ' class="' in attrs
                     else attrs + ' class="mw-html-heading"')
        return f"<{name}{attrs} />" if void else f"<{name}{attrs}>"


def sanitize_tags(text: str, attribute_text: Callable[[str], str] = str) -> str:
    """``text`` with author tags filtered and stray ``<``, ``>``, ``&`` escaped.

    ``attribute_text`` gives a tag's attribute text before it is read (the
    page's strip markers put back, as MediaWiki does: a ``<ref>`` there gives
    its mark's ``id`` and ``class``).
    """
    return _TOKEN.sub(_Tokens(attribute_text), text)


def escape_text(text: str) -> str:
    """Plain text for HTML, keeping valid entities (as ``<nowiki>`` does)."""
    return re.sub(
        r"&(#0*[0-9]{1,7}|#[xX]0*[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});|[<>&]",
        lambda m: m.group(0) if m.group(1) and known_reference(m.group(1))
        else _ESCAPES.get(m.group(0), "&amp;" + m.group(0)[1:]),
        text,
    )
