"""Requests whose path holds a NUL character are refused before anything looks them up.

No title, wiki name or key can hold NUL (MediaWiki refuses control characters in titles too), and
PostgreSQL cannot even be asked about one: its text values cannot contain the byte. So ``/wiki/%00`` is a
400 naming the problem on both backends, instead of a lookup that SQLite answers and PostgreSQL fails.
Query parameters and bodies are the handlers' to check: each names its own parameter in its own page
("Bad revision id"), and search splits on NUL as on a space (store/search.py).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from wikipeer.web.bodylimit import answer_early


class RefuseNul:
    """ASGI middleware: 400 for a request whose decoded path holds NUL."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.app, self.headers = app, list(headers or [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            await answer_early(scope, send, 400, "Bad request: the address holds a NUL character (%00), which no "
                               "title, name or search can hold.", self.headers)
            return
        await self.app(scope, receive, send)
