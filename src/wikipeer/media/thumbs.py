"""Thumbnails made on demand with Pillow, kept on disk under a size bound.

A thumbnail is named by the file's SHA-256 and its width, so it never goes
stale: a new version of a file has another hash. The cache is derived data:
deleting it loses only time. When it grows past its bound the least recently
used thumbnails go (each use sets the file's modification time, so the order
does not depend on the file system recording access times).

Decoding is bounded: Pillow refuses images over ``MAX_PIXELS`` (a
decompression bomb), and at most ``PARALLEL`` thumbnails are made at once.
"""

from __future__ import annotations

import io
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from wikipeer.errors import UserError
from wikipeer.model.sniff import MAX_PIXELS, RASTER

MAX_CACHE_BYTES = 512 << 20
MAX_WIDTH = 4000
PARALLEL = 2
_OUTPUT = {"image/jpeg": ("JPEG", "jpg", "image/jpeg"), "image/png": ("PNG", "png", "image/png"),
           "image/gif": ("PNG", "png", "image/png"), "image/webp": ("WEBP", "webp", "image/webp")}


class NoThumbnail(UserError):
    """This file cannot be made into a thumbnail (not a raster image, too large, undecodable)."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A thumbnail on disk and its media type."""

    path: Path
    mime: str


class ThumbCache:
    """Thumbnails in one directory, at most ``max_bytes`` of them."""

    def __init__(self, directory: Path, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._slots = threading.BoundedSemaphore(PARALLEL)
        self._lock = threading.Lock()

    def get(self, sha256: str, mime: str, width: int, content: Callable[[], Iterable[bytes]]) -> Thumbnail:
        """The thumbnail ``width`` pixels wide of the file ``sha256``, made from ``content()`` if not cached."""
        if mime not in _OUTPUT:
            raise NoThumbnail(f"a {mime} file has no thumbnails; open the file itself")
        if not 1 <= width <= MAX_WIDTH:
            raise NoThumbnail(f"a thumbnail is 1 to {MAX_WIDTH} pixels wide, not {width}")
        fmt, ext, out_mime = _OUTPUT[mime]
        path = self.directory / sha256[:2] / f"{sha256}-{width}px.{ext}"
        if path.exists():
            now = time.time()
            os.utime(path, (now, now))  # recently used: last to go
            return Thumbnail(path, out_mime)
        with self._slots:
            data = scale(b"".join(content()), mime, width, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # whole or absent: a reader never sees half a thumbnail
        self.trim(keep=path)
        return Thumbnail(path, out_mime)

    def trim(self, keep: Path | None = None) -> int:
        """Remove the least recently used thumbnails until the cache is within its bound; returns how many.

        ``keep``: a thumbnail just made, about to be served, which stays whatever the bound.
        """
        with self._lock:
            entries = []
            for path in self.directory.glob("*/*"):
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                entries.append((stat.st_mtime, stat.st_size, path))
            total = sum(size for _, size, _ in entries)
            removed = 0
            for _, size, path in sorted(entries):
                if total <= self.max_bytes:
                    break
                if path == keep:
                    continue
                path.unlink(missing_ok=True)
                total -= size
                removed += 1
            return removed


def scale(data: bytes, mime: str, width: int, fmt: str) -> bytes:
    """``data`` scaled to ``width`` pixels wide (never up), encoded as ``fmt``."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[RASTER[mime]]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise NoThumbnail(f"the image is {image.width}x{image.height} pixels, too many to decode")
                height = max(1, round(image.height * width / image.width))
                if width >= image.width:
                    width, height = image.size
                image.draft("RGB", (width, height))  # JPEG: decode at a fraction of the size when it can
                # No EXIF rotation: the page gives the size the header records, as MediaWiki's file table does.
                frame = image.convert("RGBA" if fmt != "JPEG" and _has_alpha(image) else "RGB")
                frame = frame.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NoThumbnail("the image has so many pixels that decoding it would exhaust memory "
                          "(a decompression bomb)") from None
    except NoThumbnail:
        raise
    except Exception as exc:  # Pillow raises many kinds for broken images
        raise NoThumbnail(f"the image cannot be decoded: {exc}") from None
    out = io.BytesIO()
    frame.save(out, fmt, **({"quality": 85, "optimize": True} if fmt in ("JPEG", "WEBP") else {"optimize": True}))
    return out.getvalue()


def _has_alpha(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
