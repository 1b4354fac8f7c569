"""HTTP/1.1 for the peer client on the standard library's ``http.client``.

The peer API is plain HTTP/1.1 with streamed bodies, which ``http.client``
speaks; httpx cost a no-op ``wikipeer sync`` about 95 ms of its start-up
(httpx loads its own command line, with click, rich and pygments, whenever
they are installed). This is the part of httpx's interface the peer client
uses (a client with a base URL, ``stream()`` giving a response with
``status_code``, ``headers``, ``iter_raw()`` and ``read()``), with one
connection per request: a sync makes a handful of requests, and a fresh
connection never meets a keep-alive connection the server has meanwhile
closed.

A request may be signed (``sign``: net/signing.py makes the headers from
the method, the target and the body's SHA-256). A body given as an iterable
is then spooled while it is hashed (in memory up to SPOOL_MEMORY, on disk
past it) and sent with its length: the digest is signed before the first
byte goes out, and an upload of a generator is not produced twice.

Errors: ``TransportTimeout`` when the peer does not answer or stops sending
within the timeout, ``TransportError`` (its base) for everything else that
breaks a connection.

``open_transport`` is the seam: what it opens is HTTP, unless ``installed``
put another opener in its place (an in-memory network of nodes, sim/).
"""

from __future__ import annotations

import hashlib
import http.client
import ssl
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

CHUNK = 64 * 1024
SPOOL_MEMORY = 16 * 1024 * 1024

Sign = Callable[[str, str, bytes], Mapping[str, str]]
"""(method, target, the body's SHA-256) -> the headers that sign the request."""


class TransportError(Exception):
    """A connection could not be made, or broke; the message says how."""


class TransportTimeout(TransportError):
    """The peer did not answer, or stopped sending, within the timeout."""


class Response:
    """An answer whose body is read as it comes."""

    def __init__(self, raw: http.client.HTTPResponse) -> None:
        self._raw = raw
        self._content: bytes | None = None
        self.status_code = raw.status
        self.headers = raw.headers  # case-insensitive ``get``, as httpx's

    def iter_raw(self, size: int = CHUNK) -> Iterator[bytes]:
        """The body as it arrives (chunked transfer decoded, nothing else), in pieces of at most ``size``."""
        with _errors():
            while True:
                data = self._raw.read1(size)
                if not data:
                    break
                yield data
            missing = self._raw.length  # what a declared content-length still promised
            if missing:
                raise TransportError(f"the answer ended {missing} bytes before its declared length")

    def read(self) -> bytes:
        """The whole body (what ``iter_raw`` has not given yet), kept for ``text``."""
        if self._content is None:
            self._content = b"".join(self.iter_raw())
        return self._content

    @property
    def text(self) -> str:
        return self.read().decode("utf-8", "replace")


class Transport:
    """Requests to one server (``base_url``): http, or https with ``context``."""

    def __init__(self, base_url: str, timeout: float, context: ssl.SSLContext | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        try:
            port = parts.port
        except ValueError as exc:  # not a number, or out of range
            raise TransportError(f"{base_url} has a bad port: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"{base_url} is not an http or https address")
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout, self.context = timeout, context
        self.headers = dict(headers or {})

    def _connection(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context,
                                               blocksize=CHUNK)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout, blocksize=CHUNK)

    @contextmanager
    def stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
               content: bytes | str | Iterable[bytes] | None = None,
               headers: Mapping[str, str] | None = None, sign: Sign | None = None) -> Iterator[Response]:
        """Send a request and give its answer, whose body is read while the block runs.

        ``content``: the body; an iterable of bytes goes chunked, as it is produced (spooled first
        when the request is signed). ``params``: the query; a list value repeats its name, as httpx
        does. ``sign``: makes the headers that sign the request.
        """
        target = self.prefix + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        body: bytes | Iterable[bytes] | IO[bytes] | None = \
            content.encode("utf-8") if isinstance(content, str) else content
        sent = {**self.headers, **(headers or {})}
        with ExitStack() as cleanup:  # the spooled body, whatever happens (signing may fail too)
            if sign is not None:
                if body is None or isinstance(body, bytes):
                    digest = hashlib.sha256(body or b"").digest()
                else:
                    body, digest, size = _spooled(body, cleanup)
                    sent["content-length"] = str(size)
                sent.update(sign(method, target, digest))
            conn = self._connection()
            cleanup.callback(conn.close)
            with _errors():
                conn.request(method, target, body=body, headers=sent)
                raw = conn.getresponse()
            yield Response(raw)

    def close(self) -> None:
        """Nothing stays open between requests; kept for the interface."""


def _spooled(parts: Iterable[bytes], cleanup: ExitStack) -> tuple[IO[bytes], bytes, int]:
    """A body produced piece by piece, kept whole (on disk past SPOOL_MEMORY): (file, SHA-256, size)."""
    spool = cleanup.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY))
    digest = hashlib.sha256()
    for part in parts:
        spool.write(part)
        digest.update(part)
    size = spool.tell()
    spool.seek(0)
    return spool, digest.digest(), size


@contextmanager
def _errors() -> Iterator[None]:
    """The standard library's ways for a connection to fail, as TransportError."""
    try:
        yield
    except TimeoutError:
        raise TransportTimeout("timed out") from None
    except ssl.SSLError as exc:
        raise TransportError(f"TLS failed: {exc.reason or exc}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(str(exc) or type(exc).__name__) from None


Opener = Callable[[str, float, "ssl.SSLContext | None", Mapping[str, str]], Transport]
"""Makes the transport for a base URL (its ``stream`` and ``close`` as Transport's)."""
_opener: Opener | None = None


def open_transport(base_url: str, timeout: float, context: ssl.SSLContext | None = None,
                   headers: Mapping[str, str] | None = None) -> Transport:
    """The transport to ``base_url``: HTTP, or what ``installed`` put in its place."""
    return (_opener or Transport)(base_url, timeout, context, headers or {})


@contextmanager
def installed(opener: Opener) -> Iterator[None]:
    """Every peer client of this process uses ``opener`` while the block runs (the innermost, nested)."""
    global _opener
    outer, _opener = _opener, opener
    try:
        yield
    finally:
        _opener = outer
