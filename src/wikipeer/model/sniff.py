"""What a file's bytes are: media type from magic bytes, image size, and content refused as unsafe.

Names are never trusted: ``photo.png`` holding a JPEG is a JPEG. A type this
node does not know is refused, as are a raster image that hides HTML in its
first kilobyte (a polyglot some browsers would run), an SVG that can run
script or fetch anything, and an image whose pixel count is a decompression
bomb. Pure: works on bytes in memory.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from wikipeer.errors import InvalidObject

MAX_PIXELS = 100_000_000
"""Largest image (width x height) accepted: decoding one allocates ~4 bytes a pixel."""
SNIFF_BYTES = 1024
"""MediaWiki (UploadBase::detectScript) and browsers look for HTML in this much of a file's start."""
MAX_SVG = 4 << 20
"""An SVG is parsed whole to check it; larger ones are refused."""

RASTER = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
SVG = "image/svg+xml"
EXTENSIONS = {"image/jpeg": ("jpg", "jpeg", "jpe"), "image/png": ("png",), "image/gif": ("gif",),
              "image/webp": ("webp",), SVG: ("svg",), "application/pdf": ("pdf",),
              "application/ogg": ("ogg", "oga", "ogv", "opus"), "video/webm": ("webm",)}
"""Media types this node accepts, with the file name endings that may carry each."""

_HTML_IN_HEAD = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|pre|table|title|iframe|a\s+href|img)\b")
_SVG_ROOT = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype[^\[>]*(?:\[.*?\])?\s*>\s*)?"
                       rb"(?:<!--.*?-->\s*)*<svg[\s>/]", re.I | re.S)
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


class UnsafeFile(InvalidObject):
    """Bytes this node refuses to hold or serve (script, a polyglot, a decompression bomb, an unknown type)."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the bytes say about themselves."""

    mime: str
    width: int | None = None
    height: int | None = None


def media_type(head: bytes) -> str | None:
    """The media type the first bytes of a file announce, or None when this node does not know it."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"OggS"):
        return "application/ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "video/webm"
    if _SVG_ROOT.match(head[:4096]):
        return SVG
    return None


def inspect(data: bytes) -> MediaInfo:
    """The media type and size of a whole file, or UnsafeFile saying why it is refused."""
    mime = media_type(data[:4096])
    if mime is None:
        raise UnsafeFile(f"the bytes are none of the types this node holds ({', '.join(EXTENSIONS)}); "
                         "the type comes from the bytes, never from the name")
    if mime == SVG:
        width, height = _check_svg(data)
        return MediaInfo(mime, width, height)
    _check_no_html(data)
    if mime in RASTER:
        width, height = image_size(data, mime)
        return MediaInfo(mime, width, height)
    return MediaInfo(mime)


def _check_no_html(data: bytes) -> None:
    """Refuse a file whose start a browser could take for HTML (a polyglot)."""
    head = data[:SNIFF_BYTES].replace(b"\x00", b"").lower()
    hit = _HTML_IN_HEAD.search(re.sub(rb"\s+", b" ", head))
    if hit:
        raise UnsafeFile(f"the file hides HTML ({hit.group().decode('latin-1')!r}) in its first {SNIFF_BYTES} bytes, "
                         "which a browser could run as a page (a polyglot)")


def image_size(data: bytes, mime: str) -> tuple[int, int]:
    """(width, height) of a raster image from its header; refuses one too large to decode safely."""
    from PIL import Image  # imported here: only files need Pillow, and it takes a moment to load

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[RASTER[mime]]) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        raise UnsafeFile("the image has so many pixels that decoding it would exhaust memory "
                         "(a decompression bomb)") from None
    except Exception as exc:  # Pillow raises many kinds for broken headers
        raise UnsafeFile(f"the {mime} image's header cannot be read: {exc}") from None
    if width * height > MAX_PIXELS:
        raise UnsafeFile(f"the image is {width}x{height} pixels, more than the {MAX_PIXELS} this node decodes "
                         "(a decompression bomb, or simply too large)")
    return width, height


_SVG_BANNED = {"script", "foreignobject", "handler", "listener", "iframe", "object", "embed"}
_LINK_ATTRS = {"href", "src", "action", "formaction"}


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _check_svg(data: bytes) -> tuple[int | None, int | None]:
    """Refuse an SVG that could run script or reach outside itself; return its size when it gives one."""
    if len(data) > MAX_SVG:
        raise UnsafeFile(f"an SVG of {len(data)} bytes is larger than the {MAX_SVG} this node checks")
    if re.search(rb"<!entity", data, re.I):
        raise UnsafeFile("the SVG declares XML entities, which this node refuses (they can expand without bound)")
    import xml.etree.ElementTree as ElementTree  # here: the XML parser cost every command's start-up ~10 ms

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UnsafeFile(f"the SVG is not well-formed XML: {exc}") from None
    if _local(root.tag) != "svg":
        raise UnsafeFile(f"the SVG's root element is <{_local(root.tag)}>, not <svg>")
    for element in root.iter():
        tag = _local(element.tag) if isinstance(element.tag, str) else ""
        if tag in _SVG_BANNED:
            raise UnsafeFile(f"the SVG contains a <{tag}> element, which can run script")
        for name, value in element.attrib.items():
            attr = _local(name)
            if attr.startswith("on"):
                raise UnsafeFile(f"the SVG has an event handler attribute {attr!r} on <{tag}>, which runs script")
            target = re.sub(r"\s", "", value).lower()
            if attr in _LINK_ATTRS and not (target.startswith("#") or re.match(r"data:image/(png|jpeg|gif);", target)):
                raise UnsafeFile(f"the SVG's <{tag}> links to {value[:80]!r}: only links inside the file are allowed")
            if attr == "attributename" and target in ("href", "xlink:href"):
                raise UnsafeFile(f"the SVG's <{tag}> animates a link, which can run script")
        if tag == "style" and element.text and re.search(r"@import|url\s*\(\s*['\"]?(?!#)|javascript:",
                                                         element.text, re.I):
            raise UnsafeFile("the SVG's style sheet loads something from outside the file")
    width, height = _svg_length(root.get("width")), _svg_length(root.get("height"))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(box) == 4:
        try:
            box_w, box_h = float(box[2]), float(box[3])
        except ValueError:
            return width, height
        if box_w > 0 and box_h > 0:  # as browsers do: a missing side follows the view box's shape
            if width is None and height is None:
                width, height = round(box_w), round(box_h)
            elif width is None:
                width = max(1, round(height * box_w / box_h))
            else:
                height = max(1, round(width * box_h / box_w))
    return width, height


def _svg_length(value: str | None) -> int | None:
    """An SVG width or height in pixels, when it is given in pixels (or bare); None otherwise."""
    m = _LENGTH.match(value or "")
    return max(1, round(float(m.group(1)))) if m else None
