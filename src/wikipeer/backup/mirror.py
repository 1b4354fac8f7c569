"""A read-only target over plain HTTP(S): any static web server serving a target's directory.

Packs are named by hash and snapshots are signed (and, on a private target,
sealed), so a mirror needs no trust: verify and restore check everything they
read. Listing a folder reads the server's directory index page (what Python's
``http.server``, nginx ``autoindex`` and Apache ``Indexes`` serve) and takes the
names its links point to. A server that ignores ``Range`` is read from the start
up to the bytes wanted.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import httpx

from wikipeer.backup.targets import TMP_MARK, Target, TargetError, TargetMissing
from wikipeer.errors import UserError

HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
TIMEOUT = 60.0


class ReadOnlyTarget(UserError):
    """A write (run, forget, init) asked of a mirror."""


class HttpTarget(Target):
    """``http(s)://host/path``: the directory of a target, served by a static web server."""

    read_only = True

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise UserError(f"{url}: an HTTP target is http(s)://HOST/PATH")
        self.url = url
        self.base = url.rstrip("/") + "/"
        self.client = httpx.Client(timeout=TIMEOUT, follow_redirects=True)

    def _error(self, doing: str, name: str, exc: Exception | str) -> TargetError:
        return TargetError(f"{self.url}: cannot {doing} {name}: {exc}")

    def list(self, prefix: str) -> list[str]:
        try:
            response = self.client.get(self.base + prefix)
        except httpx.HTTPError as exc:
            raise self._error("list", prefix or "/", exc) from None
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise self._error("list", prefix or "/", f"HTTP {response.status_code}")
        if "html" not in response.headers.get("content-type", ""):
            raise TargetError(f"{self.url}: the server gives no directory listing of {prefix or '/'}; "
                              "serve the target with directory indexes on (nginx autoindex, Apache Indexes, "
                              "python -m http.server)")
        names = set()
        for href in HREF.findall(response.text):
            if href.startswith(("?", "#", ".", "/")) or "://" in href or href.endswith("/"):
                continue  # sorting links, the parent folder, subfolders, other sites: not files of this folder
            name = unquote(href.split("?", 1)[0].split("#", 1)[0])
            if name and "/" not in name and TMP_MARK not in name:
                names.add(prefix + name)
        return sorted(names)

    def get(self, name: str, start: int = 0, length: int | None = None) -> bytes:
        headers = {}
        if start or length is not None:
            headers["Range"] = f"bytes={start}-" + (str(start + length - 1) if length is not None else "")
        try:
            with self.client.stream("GET", self.base + name, headers=headers) as response:
                if response.status_code == 404:
                    raise TargetMissing(f"{self.url}: {name} is missing")
                if response.status_code == 416:
                    return b""
                if response.status_code == 206:
                    return response.read()
                if response.status_code != 200:
                    raise self._error("read", name, f"HTTP {response.status_code}")
                return _slice(response, start, length)
        except httpx.HTTPError as exc:
            raise self._error("read", name, exc) from None

    def put(self, name: str, data: bytes) -> None:
        raise ReadOnlyTarget(read_only_message(self.url))

    def delete(self, name: str) -> None:
        self.put(name, b"")


def read_only_message(url: str) -> str:
    """What to tell someone who asked a mirror to be written."""
    return (f"{url} is a read-only HTTP mirror: list, verify and restore read it; init, run and forget "
            "write, so run them on the directory or S3 target it serves")


def _slice(response: httpx.Response, start: int, length: int | None) -> bytes:
    """The wanted range of a whole-file answer (a server without Range support), read no further than needed."""
    end = None if length is None else start + length
    got = bytearray()
    for chunk in response.iter_bytes():
        got += chunk
        if end is not None and len(got) >= end:
            break
    return bytes(got[start:end])
