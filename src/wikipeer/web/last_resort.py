"""The outermost layer of the app: an unexpected exception ends as a plain 500.

Starlette answers 500 and then raises the exception again, and uvicorn closes
the connection of any request whose handler raised: one bad request would
cost every other request waiting on that keep-alive connection. Here the
traceback goes to stderr and the connection stays usable; only an answer
already half sent must close it (its length is a promise it cannot keep).
"""

from __future__ import annotations

import sys
import traceback

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wikipeer.errors import ServiceGone

BODY = b"Internal server error: this node could not answer. The error was logged.\n"
GONE = b"This node cannot reach its store just now; try again in a moment.\n"


class LastResort:
    """Turns an exception that escaped the app into a 500 on a connection that stays open."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.app = app
        self.headers = headers or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"started": False, "done": False}

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                state["done"] = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except ServiceGone as exc:  # the store's database or bucket went away, in any layer: not a bug, it may come back
            print(f"wikipeer: {exc}", file=sys.stderr)
            if state["started"]:
                raise
            await self._answer(send, 503, GONE)
        except Exception:  # noqa: BLE001 - the last place anything can be caught
            print(f"wikipeer: error answering {scope.get('method')} {scope.get('path')!r}:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            if state["done"]:
                return  # the answer (Starlette's 500) went out whole: nothing more to say
            if state["started"]:
                raise  # half an answer: only closing the connection ends it
            await self._answer(send, 500, BODY)

    async def _answer(self, send: Send, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), *self.headers]})
        await send({"type": "http.response.body", "body": body})
