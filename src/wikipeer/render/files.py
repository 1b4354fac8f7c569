"""``[[File:X.jpg|thumb|right|200px|Caption]]`` and gallery images as MediaWiki marks them up.

The HTML is MediaWiki's current media markup (what its parser tests expect):
an inline image is ``<span typeof="mw:File">``, a thumbnail, frame or aligned
image a ``<figure typeof="mw:File/Thumb">`` with a ``<figcaption>``; the image
is a real ``<img>`` with ``width``/``height`` and a ``srcset`` for 1.5x and 2x
screens, served by this node (``/file/...`` and ``/thumb/...``), never by
another host. A file the node does not hold is MediaWiki's red link to upload
it. Sizes follow MediaWiki: bitmaps are never scaled up, a height bounds the
width, ``upright`` scales the default thumbnail width and rounds to tens.
"""

from __future__ import annotations

import html as html_lib
import math
import re
from collections.abc import Callable

from wikipeer.render.context import FileMeta
from wikipeer.render.file_options import ImageOptions, parse_options
from wikipeer.render.quotes import all_quotes
from wikipeer.render.tags import escape_attr

__all__ = ["file_link", "gallery_image", "scaled_size"]

SVG = "image/svg+xml"
DENSITIES = (1.5, 2)
"""Screen densities ``srcset`` offers copies for (MediaWiki 1.39's; see docs/media.md)."""
GALLERY_BOX = 120
_TAG = re.compile(r"<[^>]*>")


def _plain(html: str) -> str:
    """A caption's text without its markup (bold and italics applied first), for ``alt`` and ``title``."""
    return html_lib.unescape(_TAG.sub("", all_quotes(html))).strip()


def php_round(value: float) -> int:
    """PHP's round(): halves go away from zero (Python's round() goes to even: 165 would be 160)."""
    return math.floor(value + 0.5)


def fit_box_width(width: int, height: int, max_height: int) -> int:
    """The widest width whose scaled height stays within ``max_height`` (MediaHandler::fitBoxWidth)."""
    ideal = width * max_height / height
    rounded_up = math.ceil(ideal)
    return math.floor(ideal) if php_round(rounded_up * height / width) > max_height else rounded_up


def scaled_size(meta: FileMeta, opts: ImageOptions, thumb_width: int) -> tuple[int, int] | None:
    """(width, height) the image is shown at, or None when it has no size (not an image)."""
    if not meta.width or not meta.height:
        return None
    if opts.type == "frame":
        return meta.width, meta.height
    width = opts.width
    if opts.height:
        fit = fit_box_width(meta.width, meta.height, opts.height)
        width = min(width, fit) if width else fit
    if width is None:
        if opts.type in ("thumb", "frameless"):
            width = php_round(thumb_width * opts.upright / 10) * 10 if opts.upright else thumb_width
        else:
            width = meta.width
    if meta.mime != SVG and width > meta.width:
        width = meta.width  # a bitmap is never scaled up
    width = max(width, 1)
    return width, max(php_round(meta.height * width / meta.width), 1)


def image_src(meta: FileMeta, width: int) -> tuple[str, str]:
    """(src, srcset) of an image shown ``width`` pixels wide."""
    if meta.mime == SVG or not meta.width:
        return meta.url, ""  # the browser scales an SVG itself
    src = meta.url if width >= meta.width else meta.thumb.format(width=width)
    candidates: dict[str, float] = {}
    for density in DENSITIES:
        wanted = php_round(width * density)
        url = meta.url if wanted >= meta.width else meta.thumb.format(width=wanted)
        if url != src:
            candidates[url] = density  # one URL for two densities: the higher one names it, as MediaWiki does
    return src, ", ".join(f"{url} {density:g}x" for url, density in candidates.items())


def img_tag(meta: FileMeta, size: tuple[int, int], alt: str | None) -> str:
    src, srcset = image_src(meta, size[0])
    out = "<img"
    if alt is not None:
        out += f' alt="{escape_attr(alt)}"'
    out += f' src="{escape_attr(src)}" decoding="async" width="{size[0]}" height="{size[1]}" class="mw-file-element"'
    if srcset:
        out += f' srcset="{escape_attr(srcset)}"'
    return out + " />"


def _link_open(opts: ImageOptions, page_href: str, title: str | None, href_of: Callable[[str], str]) -> str | None:
    """The ``<a>`` around the image: the file's page, the ``link=`` target, or None for ``link=``."""
    if opts.link is None:
        attr = f' title="{escape_attr(title)}"' if title else ""
        return f'<a href="{escape_attr(page_href)}" class="mw-file-description"{attr}>'
    if not opts.link:
        return None
    if re.match(r"(?i)^(https?:)?//", opts.link):
        return f'<a href="{escape_attr(opts.link)}" rel="nofollow" class="external">'
    return f'<a href="{escape_attr(href_of(opts.link))}" title="{escape_attr(opts.link)}">'


def _wrapper_classes(opts: ImageOptions, default_size: bool) -> str:
    classes = []
    if default_size:
        classes.append("mw-default-size")
    if opts.halign:
        classes.append(f"mw-halign-{opts.halign}")
    if opts.valign and not opts.halign and opts.type not in ("thumb", "frame"):
        classes.append(f"mw-valign-{opts.valign}")
    if opts.border:
        classes.append("mw-image-border")
    if opts.css_class:
        classes.append(opts.css_class)
    return f' class="{escape_attr(" ".join(classes))}"' if classes else ""


_TYPEOF = {None: "mw:File", "thumb": "mw:File/Thumb", "frame": "mw:File/Frame", "frameless": "mw:File/Frameless"}


def file_link(full_title: str, parts: list[str], meta: FileMeta | None, page_href: str, upload_href: str,
              href_of: Callable[[str], str], thumb_width: int, protect: Callable[[str], str],
              lang: str = "en") -> tuple[str, bool]:
    """(HTML, block) for ``[[full_title|parts...]]``; ``protect`` hides finished HTML from later passes.

    The caption stays in the output as it is (later passes format it); the
    image and its link are finished HTML.
    """
    opts = parse_options(parts, lang)
    block = opts.type in ("thumb", "frame") or opts.halign is not None
    default_size = opts.width is None and opts.height is None and opts.type != "frame" and opts.upright is None
    caption = opts.caption
    # Only a thumbnail or frame shows its caption alone; other images also carry it as title and alt.
    framed = opts.type in ("thumb", "frame")
    title_text = _plain(caption) if caption and not framed else ""
    size = scaled_size(meta, opts, thumb_width) if meta else None
    if meta is None or size is None:
        inner, typeof = _missing(full_title, opts, meta, page_href, upload_href, caption, block, thumb_width)
    else:
        alt = opts.alt if opts.alt is not None else (title_text or None)
        opening = _link_open(opts, page_href, title_text or None, href_of)
        img = img_tag(meta, size, alt)
        inner = f"{opening}{img}</a>" if opening else img
        typeof = _TYPEOF[opts.type]
    classes = _wrapper_classes(opts, default_size)
    if block:
        html = f'<figure{classes} typeof="{typeof}">{protect(inner)}<figcaption>{caption}</figcaption></figure>'
        return html, True
    return f'<span{classes} typeof="{typeof}">{protect(inner)}</span>', False


def _missing(full_title: str, opts: ImageOptions, meta: FileMeta | None, page_href: str, upload_href: str,
             caption: str, block: bool, thumb_width: int) -> tuple[str, str]:
    """The inner HTML and typeof of a file the node lacks (or that is no image: a link to its page)."""
    text = _plain(caption) if caption and not block else full_title
    if meta is not None:  # held but not an image (PDF, audio, video): a link to its page
        return (f'<a href="{escape_attr(page_href)}" class="mw-file-description" title="{escape_attr(full_title)}">'
                f"{escape_attr(text)}</a>"), _TYPEOF[opts.type]
    width = opts.width or (thumb_width if opts.type in ("thumb", "frameless") else None)
    data = f' data-width="{width}"' if width else ""
    data += f' data-height="{opts.height}"' if opts.height else ""
    inner = (f'<a href="{escape_attr(upload_href)}" class="new" title="{escape_attr(full_title)}">'
             f'<span class="mw-file-element mw-broken-media"{data}>{escape_attr(text)}</span></a>')
    return inner, "mw:Error " + _TYPEOF[opts.type]


def gallery_image(full_title: str, meta: FileMeta | None, page_href: str, upload_href: str,
                  box: tuple[int, int] = (GALLERY_BOX, GALLERY_BOX), alt: str | None = None) -> tuple[str, str]:
    """(the image's HTML, the style of its ``div.thumb``) in a traditional gallery, as MediaWiki marks it up."""
    box_w, box_h = box
    opts = ImageOptions(width=box_w, height=box_h)
    size = scaled_size(meta, opts, box_w) if meta else None
    if meta is None or size is None:
        inner = (f'<a href="{escape_attr(upload_href)}" class="new" title="{escape_attr(full_title)}">'
                 f'<span class="mw-file-element mw-broken-media" data-width="{box_w}" data-height="{box_h}">'
                 f"{escape_attr(full_title)}</span></a>")
        return f'<span typeof="mw:Error mw:File">{inner}</span>', f"height: {box_h + 30}px;"
    img = img_tag(meta, size, alt)
    html = f'<span typeof="mw:File"><a href="{escape_attr(page_href)}" class="mw-file-description">{img}</a></span>'
    return html, f"width: {box_w + 30}px; height: {box_h + 30}px;"


def split_at_pipes(text: str, tokens: re.Pattern[str], opening: tuple[str, ...]) -> list[str]:
    """``text`` cut at each ``|`` outside nesting: ``tokens`` finds ``|`` and the nesting marks, those in
    ``opening`` go one level in, the others one out (never below the top). A caption's pipes inside its
    own links are not option separators."""
    parts, depth, start = [], 0, 0
    for m in tokens.finditer(text):
        token = m.group(0)
        if token in opening:
            depth += 1
        elif token != "|":
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(text[start:m.start()])
            start = m.end()
    parts.append(text[start:])
    return parts
