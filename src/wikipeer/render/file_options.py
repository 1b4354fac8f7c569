"""The options of ``[[File:...|...]]``, and the one table of the words that name them.

``OPTION_WORDS`` maps each word a wiki may write (English and the localized
synonyms of the languages we render) to MediaWiki's canonical option;
``NAMED_WORDS`` does the same for the ``name=value`` options and ``PX_WORDS``
for the size suffix. Adding a language's synonyms means adding entries here,
nothing else. ``parse_options`` turns the parts after the file name into an
``ImageOptions``: the last part that is no option is the caption, as in
MediaWiki.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import unquote

OPTION_WORDS: dict[str, str] = {
    # type: thumb / frame / frameless
    **dict.fromkeys(["thumb", "thumbnail", "mini", "miniatur", "nhỏ", "міні", "мініатюра", "мини", "миниатюра",
                     "サムネイル", "サムネ", "vignette", "miniaturadeimagen", "miniatura", "इवलेसे"], "thumb"),
    **dict.fromkeys(["frame", "framed", "enframed", "khung", "обрамити", "рамка", "フレーム", "cadre", "marco",
                     "rahmen"], "frame"),
    **dict.fromkeys(["frameless", "không khung", "безрамки", "フレームなし", "rahmenlos", "sans_cadre", "sinmarco"],
                    "frameless"),
    **dict.fromkeys(["border", "viền", "境界", "borde"], "border"),
    # horizontal alignment
    **dict.fromkeys(["left", "trái", "ліворуч", "слева", "左", "links", "gauche", "izquierda", "डावीकडे"], "left"),
    **dict.fromkeys(["right", "phải", "праворуч", "справа", "右", "rechts", "droite", "derecha", "उजवीकडे"], "right"),
    **dict.fromkeys(["center", "centre", "giữa", "центр", "中央", "zentriert", "centré", "centro", "मध्यवर्ती"],
                    "center"),
    **dict.fromkeys(["none", "không", "без", "нет", "なし", "ohne", "néant", "ninguno", "कोणतेचनाही"], "none"),
    # vertical alignment
    **{word: word for word in ("baseline", "sub", "super", "top", "text-top", "middle", "bottom", "text-bottom")},
    "sup": "super",
    "upright": "upright",
    **dict.fromkeys(["hochkant", "redresse", "vertical", "đứng"], "upright"),
}
NAMED_WORDS: dict[str, str] = {
    **dict.fromkeys(["alt", "альт", "代替文", "代替", "अल्ट", "alternativtext"], "alt"),
    **dict.fromkeys(["link", "liên kết", "посилання", "ссылка", "リンク", "दुवा", "verweis", "lien", "enlace",
                     "vínculo"], "link"),
    **dict.fromkeys(["upright", "hochkant", "redresse", "vertical", "đứng"], "upright"),
    **dict.fromkeys(["page", "trang", "сторінка", "страница", "ページ", "seite", "página"], "page"),
    **{word: word for word in ("class", "lang", "thumbtime", "start", "end")},
    **dict.fromkeys(["thumbnail", "thumb", "miniatur", "mini", "міні", "мини", "nhỏ", "thế"], "manualthumb"),
}
PX_WORDS = ("px", "пкс", "пікс", "ピクセル", "पक्ष")
HALIGN = ("left", "right", "center", "none")
VALIGN = ("baseline", "sub", "super", "top", "text-top", "middle", "bottom", "text-bottom")

# "20pxpx" is 20px too: MediaWiki matches "$1px" and then reads $1 with an optional "px" of its own
_SIZE = re.compile(r"^\s*(\d*)\s*(?:x\s*(\d*))?\s*(?:" + "|".join(PX_WORDS) + r"){1,2}\s*$", re.I)
_NAMED = re.compile(r"^\s*([^=|]+?)\s*=(.*)$", re.S)


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


def _named(part: str) -> tuple[str, str] | None:
    m = _NAMED.match(part)
    if not m:
        return None
    name = NAMED_WORDS.get(m.group(1).strip())  # case-sensitive, as MediaWiki's image magic words are
    if name == "link":
        return name, _link_value(m.group(2).strip())
    return (name, m.group(2).strip()) if name else None


def parse_options(parts: list[str], named_only: bool = False) -> ImageOptions:
    """The options of a file link from its parts after the name (already link-expanded).

    ``named_only``: a gallery line, where MediaWiki reads only the ``name=value`` options and
    takes any other part (``300px``, ``centre``) as a caption.
    """
    opts = ImageOptions()
    for part in parts:
        word = part.strip()
        if named_only:
            named = _named(part)
            if named is None:
                opts.caption = part
            elif not (named[0] == "link" and _bad_link(named[1])):  # a gallery drops an invalid link=
                _set_named(opts, *named)
            continue
        canonical = OPTION_WORDS.get(word)  # case-sensitive: "Left" is a caption, as in MediaWiki
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
        elif (size := _SIZE.match(word)) and (size.group(1) or size.group(2)):
            opts.width = int(size.group(1)) if size.group(1) else None
            opts.height = int(size.group(2)) if size.group(2) else None
        elif (named := _named(part)) is not None and not (named[0] == "link" and _bad_link(named[1])):
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
