"""Whole article responses kept in memory for readers who are not logged in.

Most requests to a node are anonymous reads of a page's current revision. The
first one renders; later ones are answered from here without routing,
rendering or templating, as long as nothing arrived in the store and no key
was added since (either could change what the page shows). Entries are kept
per host name, as ``{{SERVER}}`` shows the node by the name the reader used. Logged-in readers
and any URL with a query string always go through the app. HEAD requests
reach this layer as GET (``web/head.py`` sits outside it), so they are
answered from here too, and a HEAD can fill an entry.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wikipeer.web.cookies import SESSION_COOKIE, VIEW_COOKIE

MAX_ENTRIES = 20_000
MAX_BYTES = 256 * 1024 * 1024  # a few thousand rendered articles


@dataclass(slots=True)
class _Entry:
    token: tuple
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ArticleCache:
    """ASGI middleware: replay cached anonymous ``GET /wiki/...`` responses while ``token()`` is unchanged."""

    def __init__(self, app: ASGIApp, token: Callable[[], tuple]) -> None:
        self.app, self.token = app, token
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.size = 0

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            return False
        if not scope["path"].startswith("/wiki/"):
            return False
        cookies = b"".join(v for k, v in scope["headers"] if k == b"cookie")
        # A logged-in reader, or one who chose a view, may see another head: never from here.
        return SESSION_COOKIE.encode() not in cookies and VIEW_COOKIE.encode() not in cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        # by host too: {{SERVER}} names the node as the reader reached it
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        key, token = host + scope["path"], self.token()
        entry = self.entries.get(key)
        if entry is not None and entry.token == token:
            self.entries.move_to_end(key)
            await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
            await send({"type": "http.response.body", "body": entry.body})
            return
        await self._fill(key, token, scope, receive, send)

    async def _fill(self, key: str, token: tuple, scope: Scope, receive: Receive, send: Send) -> None:
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and start.get("status") == 200:
                    self._put(key, _Entry(token, 200, list(start.get("headers", [])), b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, capture)

    def _put(self, key: str, entry: _Entry) -> None:
        if any(k == b"set-cookie" for k, _ in entry.headers):
            return  # a response meant for one visitor is never replayed to another
        old = self.entries.pop(key, None)
        self.size -= len(old.body) if old else 0
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.entries and (len(self.entries) > MAX_ENTRIES or self.size > MAX_BYTES):
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)
