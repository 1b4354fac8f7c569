"""``[[File:x.jpg|thumb|caption]]``: a placeholder, since a node carries no media.

A thumbnail or framed image becomes a ``<figure>`` with a link to the file's
page and the caption; an inline image becomes a link whose text is its
caption (or the file's name), which is what MediaWiki shows for a file it
does not have. Never an ``<img>``: no request leaves for another host.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(?:\d*\s*(?:x\s*\d+)?\s*(?:px|пкс|пікс|ピクセル|पक्ष)|upright(?:\s*=?\s*[\d.]+)?|\d+\s*px)\s*$", re.I)
_NAMED = re.compile(
    r"^\s*(alt|link|page|class|lang|thumbtime|start|end|upright|thumb|thumbnail|miniatur|mini|міні|мини|nhỏ"
    r"|thế|liên kết|trang|đứng|альт|посилання|ссылка|сторінка|страница|代替文|代替|リンク|ページ|अल्ट|दुवा"
    r"|alternativtext|verweis|seite|hochkant|lien|redresse|enlace|vínculo|página|vertical)\s*=", re.I)
FRAMED = frozenset({
    "thumb", "thumbnail", "frame", "framed", "enframed", "mini", "miniatur", "nhỏ", "khung",
    "міні", "мініатюра", "мини", "миниатюра", "обрамити", "рамка", "サムネイル", "サムネ", "フレーム",
    "vignette", "cadre", "miniaturadeimagen", "miniatura", "marco", "rahmen", "इवलेसे",
})
OPTIONS = FRAMED | frozenset({
    "frameless", "border", "left", "right", "center", "centre", "none", "baseline", "sub", "super",
    "sup", "top", "text-top", "middle", "bottom", "text-bottom", "upright",
    "trái", "phải", "giữa", "không", "viền", "không khung", "ліворуч", "праворуч", "центр", "без",
    "безрамки", "рамка", "слева", "справа", "центр", "нет", "безрамки", "左", "右", "中央", "なし",
    "フレームなし", "境界", "links", "rechts", "zentriert", "ohne", "rahmenlos", "gauche", "droite",
    "centré", "néant", "sans_cadre", "izquierda", "derecha", "centro", "ninguno", "sinmarco", "borde",
    "डावीकडे", "उजवीकडे", "मध्यवर्ती", "कोणतेचनाही",
})


def file_link(full_title: str, options: list[str], link: str) -> tuple[str, bool]:
    """(HTML, framed) for a file link; ``link`` is ``<a ...>`` opening the file page."""
    caption, framed = caption_of(options)
    if framed:
        html = (
            f'<figure class="media-placeholder">{link}{full_title}</a>'
            f"<figcaption>{caption}</figcaption></figure>"
        )
        return html, True
    return f"{link}{caption or full_title}</a>", False


def caption_of(options: list[str]) -> tuple[str, bool]:
    """(caption, framed): the caption is the last part that is no option, as in MediaWiki."""
    framed = False
    caption = ""
    for option in options:
        word = option.strip()
        lowered = word.lower()
        if lowered in FRAMED:
            framed = True
        elif lowered in OPTIONS or _SIZE.match(word) or _NAMED.match(word):
            continue
        else:
            caption = word
    return caption, framed
