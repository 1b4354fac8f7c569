"""``[[File:X.jpg|thumb|right|200px|Caption]]`` and gallery images as MediaWiki marks them up.

The HTML is MediaWiki's current media markup (what its parser tests expect):
an inline image is ``<span typeof="mw:File">``, a thumbnail, frame or aligned
image a ``<figure typeof="mw:File/Thumb">`` with a ``<figcaption>``; the image
is a real ``<img>`` with ``width``/``height`` and a ``srcset`` for 1.5x and 2x
screens, served by this node (``/file/...`` and ``/thumb/...``), never by
another host. A file the node does not hold is MediaWiki's red link to upload
it. Sizes follow MediaWiki: a thumbnail of a bitmap is never scaled up (an
inline image is), a height bounds the width, ``upright`` scales the default
thumbnail width and rounds to tens. Galleries: traditional, nolines, packed.
docs/media.md ("Pages show them") lists what is followed.
"""

from __future__ import annotations

import html as html_lib
import math
import re
from collections.abc import Callable

from wikipeer.render.context import FileMeta
from wikipeer.render.file_options import ImageOptions, parse_options
from wikipeer.render.quotes import all_quotes
from wikipeer.render.tags import escape_attr, escape_text

__all__ = ["file_link", "gallery_image", "plain_text", "scaled_size"]

SVG = "image/svg+xml"
GALLERY_BOX = 120
GALLERY_PADDING = 30
"""What a traditional gallery adds around each image's box (MediaWiki's thumb padding)."""
_TAG = re.compile(r"<[^>]*>")


def plain_text(html: str) -> str:
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
    if meta.mime != SVG and width > meta.width and opts.type in ("thumb", "frameless"):
        width = meta.width  # a thumbnail of a bitmap is never scaled up (an inline image is, as in MediaWiki)
    width = max(width, 1)
    return width, max(php_round(meta.height * width / meta.width), 1)


def image_src(meta: FileMeta, width: int, height_bound: int | None = None) -> tuple[str, str]:
    """(src, srcset) of an image shown ``width`` pixels wide; a ``height_bound`` asked for bounds each
    denser copy too (scaled with it, as MediaWiki scales both before fitting)."""
    if (meta.mime == SVG and not meta.raster_thumbs) or not meta.width:
        return meta.url, ""  # the browser scales an SVG itself
    scales_up = meta.mime == SVG  # a raster copy of a drawing may be wider than the drawing
    src = meta.url if width >= meta.width and not scales_up else meta.thumb.format(width=width)
    candidates: dict[str, float] = {}
    for density in meta.densities:
        wanted = php_round(width * density)
        if height_bound and meta.height:
            wanted = min(wanted, fit_box_width(meta.width, meta.height, php_round(height_bound * density)))
        url = meta.url if wanted >= meta.width and not scales_up else meta.thumb.format(width=wanted)
        if url != src:
            candidates[url] = density  # one URL for two densities: the higher one names it, as MediaWiki does
    return src, ", ".join(f"{url} {density:g}x" for url, density in candidates.items())


def img_tag(meta: FileMeta, size: tuple[int, int], alt: str | None, upright: float | None = None,
            height_bound: int | None = None, shown: tuple[int, int] | None = None) -> str:
    """The ``<img>`` of a copy ``size`` large, shown at ``shown`` (default: that size); ``upright`` (a
    thumbnail's factor) is carried as MediaWiki carries it, for skins."""
    src, srcset = image_src(meta, size[0], height_bound)
    width, height = shown or size
    out = "<img"
    if alt is not None:
        out += f' alt="{escape_attr(alt)}"'
    out += f' src="{escape_attr(src)}" decoding="async" width="{width}" height="{height}"'
    if upright:
        out += f' style="--mw-file-upright: {upright:g}" class="mw-file-element mw-file-upright"'
    else:
        out += ' class="mw-file-element"'
    if srcset:
        out += f' srcset="{escape_attr(srcset)}"'
    return out + " />"


def _link_open(opts: ImageOptions, page_href: str, title: str | None, href_of: Callable[[str], str]) -> str:
    """The element around the image: an ``<a>`` to the file's page or the ``link=`` target, or for
    ``link=`` a ``<span>`` (carrying the caption as its title, as MediaWiki does)."""
    attr = f' title="{escape_attr(title)}"' if title else ""
    if opts.link is None:
        return f'<a href="{escape_attr(page_href)}" class="mw-file-description"{attr}>'
    if not opts.link:
        return f"<span{attr}>"
    if re.match(r"(?i)^(https?:)?//", opts.link):
        return f'<a href="{escape_attr(opts.link)}" rel="nofollow"{attr}>'
    target = opts.link.split("#", 1)[0].replace("_", " ").strip()
    target = target[:1].upper() + target[1:]
    return f'<a href="{escape_attr(href_of(opts.link))}" title="{escape_attr(title or target)}">'


def _around(opening: str, inner: str) -> str:
    """``inner`` inside the element ``_link_open`` opened, closed."""
    return opening + inner + ("</span>" if opening.startswith("<span") else "</a>")


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
              lang: str = "en", lookup: Callable[[str], FileMeta | None] | None = None) -> tuple[str, bool]:
    """(HTML, block) for ``[[full_title|parts...]]``; ``protect`` hides finished HTML from later passes.

    The caption stays in the output as it is (later passes format it); the
    image and its link are finished HTML. ``lookup`` finds the file a
    ``thumbnail=`` option names.
    """
    opts = parse_options(parts, lang)
    if opts.manualthumb is not None and meta is not None and lookup is not None:
        return _manual_thumb(full_title, opts, lookup, page_href, href_of, protect, thumb_width), True
    block = opts.type in ("thumb", "frame") or opts.halign is not None
    default_size = opts.width is None and opts.height is None and opts.type != "frame"
    caption = opts.caption
    # Only a thumbnail or frame shows its caption alone; other images also carry it as title and alt.
    framed = opts.type in ("thumb", "frame")
    title_text = plain_text(caption) if caption and not framed else ""
    size = scaled_size(meta, opts, thumb_width) if meta else None
    if meta is not None and meta.bad:
        inner, typeof = _bad(full_title, page_href, size), "mw:Error " + _TYPEOF[opts.type]
    elif meta is None or size is None:
        inner, typeof = _missing(full_title, opts, meta, page_href, upload_href, caption, block, thumb_width)
    else:
        alt = plain_text(opts.alt) if opts.alt is not None else (title_text or None)
        opening = _link_open(opts, page_href, title_text or None, href_of)
        upright = opts.upright if opts.type in ("thumb", "frameless") and opts.width is None else None
        img = img_tag(meta, size, alt, upright, opts.height if opts.type != "frame" else None)
        inner = _around(opening, img)
        typeof = _TYPEOF[opts.type]
    classes = _wrapper_classes(opts, default_size)
    if block:
        html = f'<figure{classes} typeof="{typeof}">{protect(inner)}<figcaption>{caption}</figcaption></figure>'
        return html, True
    return f'<span{classes} typeof="{typeof}">{protect(inner)}</span>', False


def _manual_thumb(full_title: str, opts: ImageOptions, lookup: Callable[[str], FileMeta | None], page_href: str,
                  href_of: Callable[[str], str], protect: Callable[[str], str], thumb_width: int) -> str:
    """``thumbnail=Other.png``: that file shown as it is in the thumbnail's frame, linking to this one."""
    name = opts.manualthumb.replace("_", " ").strip()
    shown = lookup(name) if name else None
    if opts.link is None:
        opening = f'<a href="{escape_attr(page_href)}" title="{escape_attr(full_title)}">'
    else:
        opening = _link_open(opts, page_href, None, href_of)
    typeof = "mw:Error mw:File/Thumb"
    if shown is not None and shown.bad:
        html = _bad(full_title, page_href, None, f' data-width="{thumb_width}"')
    elif shown is None or not shown.width or not shown.height:
        html = _around(opening, f'<span class="mw-file-element mw-broken-media" data-width="{thumb_width}">'
                                "Error creating thumbnail: </span>")
    else:
        alt = f' alt="{escape_attr(plain_text(opts.alt))}"' if opts.alt is not None else ""
        html = _around(opening, f'<img{alt} resource="{escape_attr(page_href)}" src="{escape_attr(shown.url)}" '
                                f'decoding="async" width="{shown.width}" height="{shown.height}" class="mw-file-element" />')
        typeof = "mw:File/Thumb"
    classes = _wrapper_classes(opts, False)
    return f'<figure{classes} typeof="{typeof}">{protect(html)}<figcaption>{opts.caption}</figcaption></figure>'


def _bad(full_title: str, page_href: str, size: tuple[int, int] | None, data: str = "") -> str:
    """A file on the bad image list: a link to its page in the image's place, never the image."""
    if not data and size:
        data = f' data-width="{size[0]}"'
    return (f'<a href="{escape_attr(page_href)}" title="{escape_attr(full_title)}">'
            f'<span class="mw-file-element mw-broken-media"{data}>{escape_attr(full_title)}</span></a>')


def _missing(full_title: str, opts: ImageOptions, meta: FileMeta | None, page_href: str, upload_href: str,
             caption: str, block: bool, thumb_width: int) -> tuple[str, str]:
    """The inner HTML and typeof of a file the node lacks (or that is no image: a link to its page)."""
    # MediaWiki shows the alt text in the file's place, else an inline image's caption, else the name
    if opts.alt is not None:
        text = plain_text(opts.alt) or full_title
    else:
        text = plain_text(caption) if caption and not block else full_title
    if meta is not None:  # held but not an image (PDF, audio, video): a link to its page
        return (f'<a href="{escape_attr(page_href)}" class="mw-file-description" title="{escape_attr(full_title)}">'
                f"{escape_attr(text)}</a>"), _TYPEOF[opts.type]
    width = opts.width or (thumb_width if opts.type in ("thumb", "frameless") else None)
    data = f' data-width="{width}"' if width else ""
    data += f' data-height="{opts.height}"' if opts.height else ""
    # the name stands as wikitext in MediaWiki's output, so its quote marks become italics and bold there
    shown = all_quotes(escape_text(text)) if text == full_title else escape_attr(text)
    inner = (f'<a href="{escape_attr(upload_href)}" class="new" title="{escape_attr(full_title)}">'
             f'<span class="mw-file-element mw-broken-media"{data}>{shown}</span></a>')
    return inner, "mw:Error " + _TYPEOF[opts.type]


def gallery_image(full_title: str, meta: FileMeta | None, page_href: str, upload_href: str,
                  box: tuple[int, int] = (GALLERY_BOX, GALLERY_BOX), opts: ImageOptions | None = None,
                  caption_text: str = "", href_of: Callable[[str], str] = str,
                  padding: int = GALLERY_PADDING) -> tuple[str, str]:
    """(the image's HTML, the style of its ``div.thumb``) in a traditional gallery, as MediaWiki marks it up.

    ``opts`` are the line's options (``link=``, ``alt=``, ``class=``); ``caption_text`` the caption as
    plain text, which MediaWiki also gives the link as its title and the image as its alt.
    """
    opts = opts or ImageOptions()
    box_w, box_h = box
    classes = f' class="{escape_attr(opts.css_class)}"' if opts.css_class else ""
    size = scaled_size(meta, ImageOptions(width=box_w, height=box_h), box_w) if meta else None
    if meta is not None and meta.bad:
        inner = _bad(full_title, page_href, None, f' data-width="{box_w}" data-height="{box_h}"')
        return f'<span{classes} typeof="mw:Error mw:File">{inner}</span>', f"height: {box_h + padding}px;"
    if meta is None or size is None:
        inner = (f'<a href="{escape_attr(upload_href)}" class="new" title="{escape_attr(full_title)}">'
                 f'<span class="mw-file-element mw-broken-media" data-width="{box_w}" data-height="{box_h}">'
                 f"{escape_attr(caption_text or full_title)}</span></a>")
        return f'<span{classes} typeof="mw:Error mw:File">{inner}</span>', f"height: {box_h + padding}px;"
    alt = plain_text(opts.alt) if opts.alt is not None else (caption_text or None)
    opening = _link_open(opts, page_href, caption_text or None, href_of)
    inner = _around(opening, img_tag(meta, size, alt))
    style = f"width: {box_w + padding}px; height: {box_h + padding}px;" if padding else f"width: {box_w}px;"
    return f'<span{classes} typeof="mw:File">{inner}</span>', style


PACKED_SCALE = 1.5
"""A packed gallery's copies are this much larger than shown, for sharper images (MediaWiki's SCALE_FACTOR)."""


def php_float(value: float) -> str:
    """A float as PHP prints it (14 significant digits): ``1059.3333333333``, ``618``."""
    return f"{value:.14g}"


def packed_gallery_image(full_title: str, meta: FileMeta, page_href: str, heights: int, opts: ImageOptions,
                         caption_text: str, href_of: Callable[[str], str]) -> tuple[str, float, int] | None:
    """(the image's HTML, the width of its ``div.thumb``, its shown width) in a packed gallery, or None
    when it shows no image (the traditional box is drawn then).

    MediaWiki asks for a copy 1.5 times the row height (and wide enough never to bound it), shows it
    at 1/1.5 of that size rounded up, and gives the box at least 60 px for the caption.
    """
    if meta.bad:
        return None
    wanted = ImageOptions(width=round((heights * 10 + 100) * PACKED_SCALE), height=round(heights * PACKED_SCALE))
    size = scaled_size(meta, wanted, wanted.width or 0)
    if size is None:
        return None
    shown = (math.ceil(size[0] / PACKED_SCALE), math.ceil(size[1] / PACKED_SCALE))
    alt = plain_text(opts.alt) if opts.alt is not None else (caption_text or None)
    opening = _link_open(opts, page_href, caption_text or None, href_of)
    img = img_tag(meta, size, alt, height_bound=wanted.height, shown=shown)
    classes = f' class="{escape_attr(opts.css_class)}"' if opts.css_class else ""
    inner = _around(opening, img)
    return f'<span{classes} typeof="mw:File">{inner}</span>', max(size[0] / PACKED_SCALE, 60), shown[0]


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
