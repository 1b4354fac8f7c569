"""External links: ``[http://x label]``, ``[http://x]`` (numbered) and bare URLs.

As MediaWiki: a bracketed link without a label shows as ``[1]``, ``[2]``...;
a bare URL outside tags and links becomes a link to itself, without its
trailing punctuation. Every one carries ``class="external"`` and
``rel="nofollow noopener"``; the sanitizer keeps only the schemes of
MediaWiki's $wgUrlProtocols that run no script (http, https, ftp, irc, news,
mailto...) and protocol-relative URLs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from wikipeer.render.tags import escape_attr

_URL_CHARS = r"[^\]\[<>\"\x00-\x20\x7f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufffd]"
_IPV6 = r"\[[0-9A-Fa-f:.]+\]"  # a host written as an IPv6 address: http://[::1]/
# MediaWiki's $wgUrlProtocols (those a browser cannot run script through; the sanitizer keeps the same list)
_PROTOCOLS = (r"(?:(?:https?|ftps?|sftp|irc|ircs|gopher|telnet|nntp|worldwind|git|svn|ssh|mms|redis)://"
              r"|(?:mailto|news|tel|sms|sips?|xmpp|urn|geo|magnet|matrix|bitcoin):|//)")
_BRACKETED = re.compile(
    # The label stops at a "[" that opens another link (MediaWiki's does not): a
    # label scan then never runs past the next link, so a line of unclosed links stays linear.
    r"\[(" + _PROTOCOLS + r"(?:" + _IPV6 + _URL_CHARS + r"*|" + _URL_CHARS + r"+))[ \u00a0\u3000]*"
    r"((?:[^\]\[\x00-\x08\x0a-\x1f\ufffd]|\[(?!" + _PROTOCOLS + r"))*?)\]",
    re.I,
)
# an <a> up to its </a>, never across another <a (so an unclosed one costs one short scan)
_LINK_OR_BRACKETED = re.compile(r"<a[ \t\r\n>](?:(?!<a[ \t\r\n>]).)*?</a>|" + _BRACKETED.pattern, re.I | re.S)
# the blanks a magic link may have after its keyword: no line break (MediaWiki's SPACE_NOT_NL)
_SPACE = r"(?:[^\S\n\r]|&nbsp;|&#0*160;|&#[Xx]0*[Aa]0;)"
_BARE = re.compile(
    r"(<a[ \t\r\n>].*?</a>)|(<[^>]*>)|\b((?i:(?:https?|ftps?|sftp|irc|ircs|gopher|telnet|nntp|worldwind|git|svn|ssh|mms|redis)://"
    r"|(?:mailto|news):)(?:" + _IPV6 + _URL_CHARS + r"*|" + _URL_CHARS + r"+))"
    r"|\b(RFC|PMID)" + _SPACE + r"+([0-9]+)\b"
    r"|\bISBN" + _SPACE + r"+((?:97[89](?:-|" + _SPACE + r")?)?(?:[0-9](?:-|" + _SPACE + r")?){9}[0-9Xx]\b)",
    re.S,
)
_SPACES = re.compile(_SPACE)
# references to characters that end a URL as the raw character would: < > " and the no-break space
_ENTITY_END = re.compile(r"&(?:lt|gt|quot|nbsp|#0*3[49]|#0*60|#0*62|#0*160|#x0*2[27]|#x0*3[ce]|#x0*a0);", re.I)
_REFERENCE_AT_END = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);\Z")
REL = "nofollow noopener"


# characters an IDN host ignores, which MediaWiki strips from a link's host (Sanitizer::cleanUrl)
_IDN_IGNORED = re.compile("[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_UNSAFE = re.compile(r'[\]\[<>"\x00-\x20\x7f|]')
_HOST = re.compile(r"\A((?:[\w+.-]+:)?//)([^/?#]*)(.*)\Z", re.S)


def clean_url(url: str) -> str:
    """MediaWiki's Sanitizer::cleanUrl: references decoded, what cannot stand in a URL percent-encoded
    (a blank as ``+``, as PHP's urlencode), and the characters an IDN ignores taken out of the host."""
    url = _UNSAFE.sub(lambda m: "+" if m.group(0) == " " else "%{:02X}".format(ord(m.group(0))), html.unescape(url))
    host = _HOST.match(url)
    if host is not None:
        name = _IDN_IGNORED.sub("", host.group(2))
        bracketed = re.fullmatch(r"%5B([0-9A-Fa-f:.]+)%5D((?::\d+)?)", name)
        if bracketed:  # an IPv6 host keeps its brackets
            name = f"[{bracketed.group(1)}]{bracketed.group(2)}"
        url = host.group(1) + name + host.group(3)
    return url


def _href(url: str) -> str:
    return escape_attr(clean_url(url))


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

    def outside_links(m: re.Match) -> str:
        # an internal link's label is MediaWiki's link holder by now: no external link inside it
        return m.group(0) if m.group(0).startswith("<a") else link(_BRACKETED.match(m.group(0)))

    return _LINK_OR_BRACKETED.sub(outside_links, text)


def _magic_link(m: re.Match, href: Callable[[str], str]) -> str:
    """MediaWiki's magic links: an RFC or PubMed number to its page, an ISBN to Special:BookSources."""
    if m.group(6) is not None:
        isbn = _SPACES.sub(" ", m.group(6))
        number = re.sub(r"[^0-9X]", "", isbn.upper())
        url = escape_attr(href(f"Special:BookSources/{number}"))
        return f'<a href="{url}" class="internal mw-magiclink-isbn">ISBN {isbn}</a>'
    keyword, number = m.group(4), m.group(5)
    if keyword == "RFC":
        url = f"https://datatracker.ietf.org/doc/html/rfc{number}"
    else:
        url = f"//www.ncbi.nlm.nih.gov/pubmed/{number}?dopt=Abstract"
    return f'<a rel="{REL}" class="external mw-magiclink-{keyword.lower()}" href="{url}">{keyword} {number}</a>'


def bare_urls(text: str, href: Callable[[str], str] = lambda title: "/wiki/" + title) -> str:
    """URLs and magic links (``ISBN``, ``RFC``, ``PMID`` numbers) standing in plain text as links.

    ``href`` gives the URL of a page of the wiki (ISBNs link to Special:BookSources).
    """
    if not any(mark in text for mark in ("://", ":", "ISBN", "RFC", "PMID")):
        return text

    def link(m: re.Match) -> str:
        if m.group(4) is not None or m.group(6) is not None:
            return _magic_link(m, href)
        if m.group(3) is None:
            return m.group(0)
        url = m.group(3)
        after = ""
        cut = _ENTITY_END.search(url)
        if cut:
            url, after = url[: cut.start()], url[cut.start():]
        strip = ",;.:!?\\" if "(" in url else ",;.:!?\\)"
        trimmed = url
        while trimmed and trimmed[-1] in strip and not _REFERENCE_AT_END.search(trimmed):
            trimmed = trimmed[:-1]  # trailing punctuation is text, but a reference's ";" is its own
        after = url[len(trimmed):] + after
        if trimmed.endswith(("://", ":")) or not re.match(r"[\w+.-]+:", trimmed):
            return m.group(0)
        cleaned = clean_url(trimmed)
        return f'<a rel="{REL}" class="external free" href="{escape_attr(cleaned)}">{html.escape(cleaned, quote=False)}</a>{after}'

    return _BARE.sub(link, text)
