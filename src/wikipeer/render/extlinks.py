"""External links: ``[http://x label]``, ``[http://x]`` (numbered) and bare URLs.

As MediaWiki: a bracketed link without a label shows as ``[1]``, ``[2]``...;
a bare URL outside tags and links becomes a link to itself, without its
trailing punctuation. Every one carries ``class="external"`` and
``rel="nofollow noopener"``; the sanitizer keeps only http, https and
mailto URLs (and protocol-relative ones).
"""

from __future__ import annotations

import html
import re

from wikipeer.render.tags import escape_attr

_URL_CHARS = r"[^\]\[<>\"\x00-\x20\x7f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufffd]"
_BRACKETED = re.compile(
    # The label stops at "[" too (MediaWiki's does not): a label scan then never
    # runs past the next link, so a line of unclosed links stays linear.
    r"\[((?:https?:|ftp:|mailto:|//)" + _URL_CHARS + r"+)[ \u00a0\u3000]*([^\]\[\x00-\x08\x0a-\x1f\ufffd]*?)\]",
    re.I,
)
_BARE = re.compile(
    r"(<a[ \t\r\n>].*?</a>)|(<[^>]*>)|\b((?:https?|ftp)://" + _URL_CHARS + r"+)",
    re.I | re.S,
)
_ENTITY_END = re.compile(r"&(?:lt|gt|quot|#0*3[49]|#x0*2[27]);", re.I)
REL = "nofollow noopener"


def _href(url: str) -> str:
    return escape_attr(html.unescape(url))


def external_links(text: str) -> str:
    """Bracketed external links as ``<a class="external ...">``."""
    if "[" not in text:
        return text
    counter = [0]

    def link(m: re.Match) -> str:
        url, label = m.group(1), m.group(2)
        cut = _ENTITY_END.search(url)
        if cut:  # an escaped < or " ends a URL, as the raw character would
            label = url[cut.start():] + (" " if label else "") + label
            url = url[: cut.start()]
        if not label:
            counter[0] += 1
            return f'<a rel="{REL}" class="external autonumber" href="{_href(url)}">[{counter[0]}]</a>'
        return f'<a rel="{REL}" class="external text" href="{_href(url)}">{label}</a>'

    return _BRACKETED.sub(link, text)


def bare_urls(text: str) -> str:
    """URLs standing in plain text (not in a tag, not in a link) as links."""
    if "://" not in text:
        return text

    def link(m: re.Match) -> str:
        if m.group(3) is None:
            return m.group(0)
        url = m.group(3)
        after = ""
        cut = _ENTITY_END.search(url)
        if cut:
            url, after = url[: cut.start()], url[cut.start():]
        strip = ",;.:!?" if "(" in url else ",;.:!?)"
        trimmed = url.rstrip(strip)
        after = url[len(trimmed):] + after
        if "://" not in trimmed or trimmed.endswith("://"):
            return m.group(0)
        return f'<a rel="{REL}" class="external free" href="{_href(trimmed)}">{trimmed}</a>{after}'

    return _BARE.sub(link, text)
