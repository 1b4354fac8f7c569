"""The options of ``[[File:...|...]]``, and the words that name them: English built in, the rest from language data.

``OPTION_WORDS`` maps each English word a wiki may write to MediaWiki's
canonical option; ``NAMED_WORDS`` does the same for the ``name=value`` options
and ``PX_WORDS`` for the size suffix. On top of these, a wiki's language adds the ``img_*``
magic-word synonyms of MediaWiki's language data (``մինի``, ``আজ``, ``$1փքս``:
render/language_data.py), looked up once per language. ``parse_options``
turns the parts after the file name into an ``ImageOptions``: the last part
that is no option is the caption, as in MediaWiki.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from wikipeer.render import language_data

OPTION_WORDS: dict[str, str] = {
    # English only (MediaWiki's MessagesEn.php): every other language's words come from its language data,
    # so "links" is an option on a German wiki and a caption on an English one, as in MediaWiki.
    **dict.fromkeys(["thumb", "thumbnail"], "thumb"),
    **dict.fromkeys(["frame", "framed", "enframed"], "frame"),
    "frameless": "frameless",
    "border": "border",
    **{word: word for word in ("left", "right", "center", "none")},
    "centre": "center",
    **{word: word for word in ("baseline", "sub", "super", "top", "text-top", "middle", "bottom", "text-bottom")},
    "sup": "super",
    "upright": "upright",
}
NAMED_WORDS: dict[str, str] = {
    **{word: word for word in ("alt", "link", "upright", "page", "class", "lang", "thumbtime", "start", "end")},
    **dict.fromkeys(["thumbnail", "thumb"], "manualthumb"),
}
PX_WORDS = ("px",)
HALIGN = ("left", "right", "center", "none")
VALIGN = ("baseline", "sub", "super", "top", "text-top", "middle", "bottom", "text-bottom")

_NAMED = re.compile(r"^\s*([^=|]+?)\s*=(.*)$", re.S)
# MediaWiki's magic-word ids of the options, by the canonical option they name
_MAGIC_OPTIONS = {
    "img_thumbnail": "thumb", "img_framed": "frame", "img_frameless": "frameless", "img_border": "border",
    "img_left": "left", "img_right": "right", "img_center": "center", "img_none": "none",
    "img_baseline": "baseline", "img_sub": "sub", "img_super": "super", "img_top": "top",
    "img_text_top": "text-top", "img_middle": "middle", "img_bottom": "bottom", "img_text_bottom": "text-bottom",
    "img_upright": "upright",
}
_MAGIC_NAMED = {
    "img_manualthumb": "manualthumb", "img_upright": "upright", "img_alt": "alt", "img_link": "link",
    "img_class": "class", "img_lang": "lang", "img_page": "page",
}


@dataclass(frozen=True, slots=True)
class OptionWords:
    """The option words one wiki's language accepts (English's always among them)."""

    options: dict[str, str]
    named: dict[str, str]
    size: re.Pattern


@lru_cache(maxsize=64)
def option_words(lang: str = "en") -> OptionWords:
    """The words of ``lang`` (MediaWiki's language data, then its fallbacks) on top of the built-in tables."""
    language = language_data.language(lang)
    options, named, px = dict(OPTION_WORDS), dict(NAMED_WORDS), list(PX_WORDS)
    for ident, canonical in _MAGIC_OPTIONS.items():
        for word in language.magic_words(ident)[1]:
            if "$1" not in word:
                options.setdefault(word.strip(), canonical)
    for ident, canonical in _MAGIC_NAMED.items():
        for word in language.magic_words(ident)[1]:
            if word.endswith("=$1") and "$1" not in word[:-3]:
                named.setdefault(word[:-3].strip(), canonical)
    for word in language.magic_words("img_width")[1]:
        suffix = word[2:].strip().lower() if word.startswith("$1") else ""
        if suffix and "$1" not in suffix and suffix not in px:
            px.append(suffix)
    px.sort(key=len, reverse=True)
    # "20pxpx" is 20px too: MediaWiki matches "$1px" and then reads $1 with an optional "px" of its own
    size = re.compile(r"^\s*(\d*)\s*(?:x\s*(\d*))?\s*(?:" + "|".join(map(re.escape, px)) + r"){1,2}\s*$", re.I)
    return OptionWords(options, named, size)


@dataclass(slots=True)
class ImageOptions:
    """What the options of one file link ask for."""

    type: str | None = None  # thumb, frame, frameless or None
    border: bool = False
    halign: str | None = None
    valign: str | None = None
    width: int | None = None
    height: int | None = None
    upright: float | None = None
    alt: str | None = None
    link: str | None = None  # None: the file's page; "": no link
    caption: str = ""
    css_class: str = ""
    manualthumb: str | None = None  # "thumbnail=Other.png" before any other type: that file is shown instead


_LINKED = re.compile(r'^<a\b([^>]*)>.*</a>$', re.S)
_ATTR_VALUE = re.compile(r'\b(href|title)="([^"]*)"')


def _link_value(value: str) -> str:
    """A ``link=`` target as text: ``link=[[Main Page]]`` (already a link here) names its page, an
    external link its URL; entities decoded, ``%22`` decoded once, as MediaWiki reads the option."""
    m = _LINKED.match(value)
    if m:
        attrs = dict(_ATTR_VALUE.findall(m.group(1)))
        outside = re.search(r'class="[^"]*\b(?:external|extiw)\b', m.group(1))  # another site: its URL
        value = attrs.get("href", "") if outside or "title" not in attrs else attrs["title"]
    # only complete references: "?foo&params=bar" keeps its "&para" (html.unescape would make it "¶")
    value = re.sub(r"&(?:#\d+|#[xX][0-9a-fA-F]+|\w+);", lambda e: html.unescape(e.group(0)), value)
    if re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*:)?//", value):
        return value
    return unquote(value) if "%" in value else value


def _named(part: str, words: OptionWords) -> tuple[str, str] | None:
    m = _NAMED.match(part)
    if not m:
        return None
    name = words.named.get(m.group(1).strip())  # case-sensitive, as MediaWiki's image magic words are
    if name == "link":
        return name, _link_value(m.group(2).strip())
    return (name, m.group(2).strip()) if name else None


def parse_options(parts: list[str], lang: str = "en", named_only: bool = False) -> ImageOptions:
    """The options of a file link from its parts after the name (already link-expanded), in ``lang``'s words.

    ``named_only``: a gallery line, where MediaWiki reads only the ``name=value`` options and
    takes any other part (``300px``, ``centre``) as a caption.
    """
    opts = ImageOptions()
    words = option_words(lang)
    for part in parts:
        word = part.strip()
        if named_only:
            named = _named(part, words)
            if named is None:
                opts.caption = part
            elif not (named[0] == "link" and _bad_link(named[1])):  # a gallery drops an invalid link=
                _set_named(opts, *named)
            continue
        canonical = words.options.get(word)  # case-sensitive: "Left" is a caption, as in MediaWiki
        if canonical in ("thumb", "frame", "frameless"):
            opts.type = opts.type or canonical
        elif canonical == "border":
            opts.border = True
        elif canonical in HALIGN:
            opts.halign = opts.halign or canonical
        elif canonical in VALIGN:
            opts.valign = opts.valign or canonical
        elif canonical == "upright":
            opts.upright = 0.75
        elif (size := words.size.match(word)) and (size.group(1) or size.group(2)):
            opts.width = int(size.group(1)) if size.group(1) else None
            opts.height = int(size.group(2)) if size.group(2) else None
        elif (named := _named(part, words)) is not None and not (named[0] == "link" and _bad_link(named[1])):
            _set_named(opts, *named)
        else:
            opts.caption = part  # as written: MediaWiki keeps a caption's leading space
    return opts


def _bad_link(target: str) -> bool:
    """Whether ``link=`` names neither a URL nor a valid title (MediaWiki then takes the part as caption)."""
    if re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*:)?//", target):
        return False
    return bool(re.search(r"[<>\[\]{}|]|%[0-9A-Fa-f]{2}", target))  # what no title may hold (still encoded: %2522)


def _set_named(opts: ImageOptions, name: str, value: str) -> None:
    if name == "alt":
        opts.alt = value
    elif name == "link":
        opts.link = value
    elif name == "upright":
        try:
            factor = float(value) if value else 0.75
        except ValueError:
            return
        opts.upright = factor if factor > 0 else None
    elif name == "class":
        opts.css_class = value
    elif name == "manualthumb" and opts.type is None:
        opts.type, opts.manualthumb = "thumb", value
