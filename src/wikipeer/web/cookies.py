"""The node's cookies: their names, and the Secure flag on every one when readers come over HTTPS.

A node behind a TLS proxy sees plain HTTP; ``wikipeer serve --cookie-secure``
says every reader uses HTTPS, and a trusted proxy's X-Forwarded-Proto says it
per request (uvicorn sets the scheme from it). Then browsers never send the
session or CSRF cookies over plain HTTP, where anyone on the way could read them.
Done on the way out, for every Set-Cookie, so no cookie can be forgotten.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "wikipeer_session"
VISITOR_COOKIE = "wikipeer_visitor"
VIEW_COOKIE = "wikipeer_view"


class SecureCookies:
    """ASGI middleware: add ``; Secure`` to each Set-Cookie of an HTTPS request (or of all, if ``always``)."""

    def __init__(self, app: ASGIApp, always: bool = False) -> None:
        self.app, self.always = app, always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.always or scope.get("scheme") == "https"):
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k, _secure(v) if k.lower() == b"set-cookie" else v)
                                      for k, v in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, send_secure)


def _secure(cookie: bytes) -> bytes:
    attributes = [a.strip().lower() for a in cookie.split(b";")[1:]]
    return cookie if b"secure" in attributes else cookie + b"; Secure"
