"""The access log `wikipeer serve --access-log FILE` writes: one line per request, in common log format.

    127.0.0.1 - alice [04/Dec/2026:03:12:45 +0000] "GET /wiki/w/Main_Page HTTP/1.1" 200 5120

Host (the proxy's client when --trusted-proxy says so), "-" (identd), the
account name of a logged-in reader or "-", the time (UTC), the request line
as the client sent it, the status and the body's bytes ("-" for none), as
Apache and nginx write it, so log analysers read it. Each line is written
with a single write() on a file opened for appending: lines from the
server's threads, or from two servers sharing the file, never interleave,
and a log rotated by renaming goes on in the new file once this one is
reopened (a restart; or rotate with copytruncate).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wikipeer.errors import UserError

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class AccessLogFile:
    """A log file opened for appending; ``write`` is safe from any thread."""

    def __init__(self, path: Path) -> None:
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise UserError(f"cannot write the access log {path}: {exc.strerror}") from None
        self.path = path
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        data = (line + "\n").encode("utf-8", "backslashreplace")
        with self._lock:
            os.write(self.fd, data)

    def close(self) -> None:
        os.close(self.fd)


def clf_time(seconds: float) -> str:
    """``04/Dec/2026:03:12:45 +0000``: the common log format's time, in UTC, in English whatever the locale."""
    t = time.gmtime(seconds)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def request_line(scope: Scope) -> str:
    """The request line as the client sent it, with quotes, backslashes and control bytes escaped as Apache does."""
    target = scope.get("raw_path") or scope["path"].encode("utf-8")
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    line = f"{scope['method']} ".encode() + target + f" HTTP/{scope.get('http_version', '1.1')}".encode()
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\x{b:02x}" for b in line)


def log_line(scope: Scope, user: str | None, status: int, size: int, when: float) -> str:
    """One common log format line."""
    client = scope.get("client")
    host = client[0] if client else "-"
    user = "".join(c if c.isprintable() and c not in ' "\\' else "_" for c in user) if user else "-"
    return f'{host} - {user} [{clf_time(when)}] "{request_line(scope)}" {status} {size or "-"}'


class AccessLog:
    """ASGI middleware: a line per HTTP request once its response is sent (500 for one that failed before).

    ``user(scope)``: the name of the logged-in account making the request, or None.
    """

    def __init__(self, app: ASGIApp, log: AccessLogFile, user: Callable[[Scope], str | None]) -> None:
        self.app, self.log, self.user = app, log, user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        when = time.time()
        scope.setdefault("state", {})  # shared with the app's Request.state: the visitor it worked out is there
        status, size = 500, 0

        async def counting(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            self.log.write(log_line(scope, self.user(scope), status, size, when))
