"""Request bodies bounded before anything reads or spools them.

The outermost layer of the app: a request whose Content-Length is over its
route's bound is answered 413 without reading a byte of it; a body sent
without a length (chunked) is counted as it arrives and cut off, with a 413,
as soon as it passes the bound. Handlers and the form parser below only ever
see a body within the bound, so no caller can make the node hold or spool
more than that (an anonymous 1 GB POST used to fill /tmp before its 403).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wikipeer.net.server import MAX_GOSSIP, MAX_RPC_BODY, MAX_UPLOAD
from wikipeer.policy.rules import MAX_TEXT

MAX_GIT_REQUEST = 32 << 20
"""Bytes of one git request (web/git_http.py): a fetch's wants and haves, 50 bytes a line, with ample room."""

# A page's text in a form: urlencoding turns each byte into at most three ("%E2"),
# so the largest text the node accepts fits (with its field's name), plus room for the other fields.
MAX_EDIT_TEXT = 3 * MAX_TEXT + 1024
MAX_EDIT_FORM = MAX_EDIT_TEXT + 64 * 1024
# Every other web form (log in, log out, second, fetch) holds a few short fields.
MAX_SMALL_FORM = 64 * 1024
# An uploaded file (MediaWiki's default $wgMaxUploadSize), with room for the form's other fields.
MAX_WEB_FILE = 100 * 1024 * 1024
MAX_UPLOAD_FORM = MAX_WEB_FILE + 64 * 1024
# A git push's pack (web/git_push.py, POST /git/WIKI.git/git-receive-pack): a batch of edits.
MAX_GIT_PUSH = 64 << 20
# Routes that take no body (GET pages, unknown paths) get the same small bound.
MAX_OTHER = MAX_SMALL_FORM

# (method, path or path prefix ending in "/", bound), first match wins.
ROUTE_BOUNDS: tuple[tuple[str, str, int], ...] = (
    ("POST", "/api/v1/car", MAX_UPLOAD),
    ("POST", "/rpc", MAX_RPC_BODY),
    ("POST", "/api/v1/blocks", MAX_RPC_BODY),
    ("POST", "/api/v1/gossip", MAX_GOSSIP),
    ("POST", "/wiki/", MAX_EDIT_FORM),
    ("POST", "/upload", MAX_UPLOAD_FORM),
    ("POST", "/w/", MAX_EDIT_FORM),  # api.php: an edit's text and a few dozen parameters
    ("POST", "/git/", MAX_GIT_REQUEST),  # git's upload-pack requests (web/git_http.py)
)


def body_bound(method: str, path: str) -> int:
    """The most bytes of body a request to ``path`` may carry."""
    if method == "POST" and path.startswith("/git/") and path.endswith("/git-receive-pack"):
        return MAX_GIT_PUSH
    for want_method, route, bound in ROUTE_BOUNDS:
        if method == want_method and (path == route or (route.endswith("/") and path.startswith(route))):
            return bound
    return MAX_OTHER


@dataclass(slots=True)
class _Cut:
    """What one request's guard saw: bytes so far, and whether it cut the body off."""

    received: int = 0
    cut: bool = False
    started: bool = False


class BodyLimit:
    """ASGI middleware: 413 for a body over its route's bound, before the app reads it."""

    def __init__(self, app: ASGIApp, bound: Callable[[str, str], int] = body_bound,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.app, self.bound, self.headers = app, bound, list(headers or [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.bound(scope["method"], scope["path"])
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._refuse(scope, send, limit)
            return
        state = _Cut()

        async def counted_receive() -> Message:
            if state.cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state.received += len(message.get("body", b""))
                if state.received > limit:
                    # Cut off here: the app sees a client that went away, the client sees 413.
                    state.cut = True
                    if not state.started:
                        state.started = True
                        await self._refuse(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state.cut:
                return  # the 413 is the answer; whatever the app says after it goes nowhere
            if message["type"] == "http.response.start":
                state.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not state.cut:
                raise
            # The app failed because its body was cut off (ClientDisconnect and the like): answered already.

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        message = f"The request body is too large: at most {limit} bytes may be sent to {scope['path']}."
        await answer_early(scope, send, 413, message, self.headers)


async def answer_early(scope: Scope, send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Answer a request refused before the app saw it: ``message`` as JSON-RPC's error on /rpc, as JSON on
    /api/, as plain text elsewhere; the connection is closed after it."""
    path = scope["path"]
    if path == "/rpc":
        body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
        kind = b"application/json"
    elif path.startswith("/api/"):
        body, kind = json.dumps({"error": message}).encode(), b"application/json"
    else:
        body, kind = message.encode(), b"text/plain; charset=utf-8"
    start = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
             *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before we see it
    return None
