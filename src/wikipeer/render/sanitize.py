"""The allow-list: which tags, attributes, URL schemes and CSS survive.

Everything ``render`` returns passes :func:`clean` (nh3, a Rust HTML5
sanitizer) last. The wikitext passes use the same lists earlier, so what a
page author writes either passes here or was shown as text already.

``style`` is kept, but only for the properties in ``STYLE_PROPERTIES`` and
only when the value holds nothing that could load or run anything (``url(``,
``expression``, ``@import``, escapes, comments) and calls no CSS function but
the colour, arithmetic and gradient ones in ``CSS_FUNCTIONS``. Of the allowed
properties only ``background`` (the shorthand most articles colour their
tables with) could take an image, and only through a function refused here.
This allow-list is the guard that lets the Content-Security-Policy allow
inline style attributes (``style-src-attr 'unsafe-inline'``): what it keeps
can change how a page looks, never fetch or run anything.
"""

from __future__ import annotations

import html
import re

import nh3

from wikipeer.render.remex import FOSTER_TAG

# Tags a page author may write, as MediaWiki's Sanitizer allows them.
AUTHOR_TAGS = frozenset({
    "abbr", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite", "code",
    "data", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rb", "rp", "rt",
    "rtc", "ruby", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
})
# Tags the renderer itself makes on top of those.
RENDERER_TAGS = frozenset({"a", "figure", "figcaption", "img"})
TAGS = AUTHOR_TAGS | RENDERER_TAGS

# tabindex only as "0" (tags.fix_attributes checks): it lets a keyboard reach the element, as MediaWiki allows
GLOBAL_ATTRIBUTES = frozenset({"class", "id", "style", "title", "lang", "dir", "role", "tabindex"})
TAG_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "rel"}),
    # Images come only from render/files.py; their URLs must be this node's own (see _attribute_filter).
    "img": frozenset({"src", "srcset", "alt", "width", "height", "decoding", "resource"}),  # resource: inert RDFa
    "figure": frozenset({"typeof"}),
    "span": frozenset({"typeof", "data-width", "data-height"}),
    "table": frozenset({"border", "cellpadding", "cellspacing", "width", "align", "bgcolor", "summary"}),
    "td": frozenset({"colspan", "rowspan", "align", "valign", "width", "height", "bgcolor", "nowrap", "scope", "abbr", "headers"}),
    "th": frozenset({"colspan", "rowspan", "align", "valign", "width", "height", "bgcolor", "nowrap", "scope", "abbr", "headers"}),
    "tr": frozenset({"align", "valign", "bgcolor"}),
    "caption": frozenset({"align"}),
    "div": frozenset({"align"}), "p": frozenset({"align"}),
    "h1": frozenset({"align"}), "h2": frozenset({"align"}), "h3": frozenset({"align"}),
    "h4": frozenset({"align"}), "h5": frozenset({"align"}), "h6": frozenset({"align"}),
    "font": frozenset({"color", "size", "face"}),
    "ol": frozenset({"start", "type", "reversed", "data-mw-group"}),  # Cite names a list's group
    "ul": frozenset({"type"}),
    "li": frozenset({"value", "type"}),
    "abbr": frozenset(), "q": frozenset(), "blockquote": frozenset(),
    "del": frozenset({"datetime"}), "ins": frozenset({"datetime"}), "time": frozenset({"datetime"}),
    "data": frozenset({"value"}), "hr": frozenset({"width", "size", "noshade"}),
    "br": frozenset({"clear"}), "pre": frozenset({"width"}),
}
# MediaWiki's $wgUrlProtocols without any that can run script (no javascript:, data:, vbscript:)
URL_SCHEMES = frozenset({"http", "https", "mailto", "ftp", "ftps", "sftp", "irc", "ircs", "news", "nntp", "gopher",
                         "telnet", "worldwind", "git", "svn", "ssh", "mms", "redis", "tel", "sms", "sip", "sips",
                         "xmpp", "urn", "geo", "magnet", "matrix", "bitcoin"})

STYLE_PROPERTIES = frozenset({
    "background", "background-color", "border", "border-bottom", "border-collapse", "border-color",
    "border-left", "border-radius", "border-right", "border-spacing", "border-style",
    "border-top", "border-width", "clear", "color", "display", "float", "font", "font-family",
    "font-size", "font-style", "font-variant", "font-weight", "height", "letter-spacing",
    "line-height", "margin", "margin-bottom", "margin-left", "margin-right", "margin-top",
    "max-height", "max-width", "min-height", "min-width", "padding", "padding-bottom",
    "padding-left", "padding-right", "padding-top", "text-align", "text-decoration",
    "text-indent", "text-transform", "vertical-align", "white-space", "width", "word-spacing",
    "list-style-type", "column-count", "column-width", "columns", "direction", "unicode-bidi",
    "--mw-file-upright",  # a thumbnail's upright factor, a number for skins (render/files.py)
})
_BAD_CSS = re.compile(r"url\s*\(|expression|image-set|@import|javascript|vbscript|behavio(?:u)?r|-moz-binding|[\\<>@]|/\*|&#", re.I)
# Functions a style value may call: colours, arithmetic and gradients (drawn, never fetched). Not
# image(), image-set(), cross-fade(), element(), paint(), src(), attr() or anything unknown, which
# can fetch, show other content or run worklets.
CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch", "color",
                           "calc", "min", "max", "clamp", "var", "linear-gradient", "radial-gradient",
                           "conic-gradient", "repeating-linear-gradient", "repeating-radial-gradient"})
_CSS_FUNCTION = re.compile(r"([-\w]*)\s*\(")


# MediaWiki allows any data- attribute but its own (data-mw..., data-parsoid, data-ooui) and namespaced ones
_DATA_ATTRIBUTE = re.compile(r"data-(?!ooui|mw|parsoid)[^:]*\Z", re.I)


def allowed_attribute(tag: str, name: str) -> bool:
    """Whether ``name`` may stand on ``tag`` (never an event handler; data- attributes as MediaWiki allows)."""
    return name in GLOBAL_ATTRIBUTES or name in TAG_ATTRIBUTES.get(tag, ()) or bool(_DATA_ATTRIBUTE.match(name))


def safe_style(value: str) -> str | None:
    """``value`` when it is harmless CSS, else None (the whole attribute goes)."""
    decoded = html.unescape(value)
    # CSS's blanks (tab, line feed, form feed, carriage return) are blanks; any other control character is refused
    if _BAD_CSS.search(decoded) or any((ord(ch) < 32 and ch not in "\t\n\x0c\r") or ch in "\x7f\ufffd"
                                       for ch in decoded):
        return None
    if any(name.lower() not in CSS_FUNCTIONS for name in _CSS_FUNCTION.findall(decoded)):
        return None
    return decoded


_LOCAL_URL = re.compile(r"^/(?![/\\])[^\s,]*$")


def _local_srcset(value: str) -> bool:
    return all(_LOCAL_URL.match(item.strip().split(" ")[0]) for item in value.split(",") if item.strip())


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    if name == "style":
        return safe_style(value)
    if tag == "img" and name == "src":
        return value if _LOCAL_URL.match(html.unescape(value)) else None  # no request to another host
    if tag == "img" and name == "srcset":
        return value if _local_srcset(html.unescape(value)) else None
    return value


_ATTRIBUTES = {tag: set(TAG_ATTRIBUTES.get(tag, ())) | set(GLOBAL_ATTRIBUTES) for tag in TAGS}


def clean(fragment: str) -> str:
    """The allow-listed form of an HTML fragment: the last step of rendering."""
    return nh3.clean(
        fragment,
        tags=set(TAGS) | {FOSTER_TAG},  # the p-wrap pass's mark, removed by it (render/remex.py)
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        generic_attribute_prefixes={"data-"},  # inert: no script runs (tags.fix_attributes chose which)
        attribute_filter=_attribute_filter,
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
        filter_style_properties=set(STYLE_PROPERTIES),
    )
