"""Calling an ASGI application in this process, as an HTTP server would, without a socket."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole response: its status, headers (names in lower case) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


class AsgiRunner:
    """An event loop on its own thread that answers requests with ASGI applications.

    Any thread may call ``call`` (the peer client reads the log on a thread of its own); the
    application's own worker threads (FastAPI runs plain routes in a pool) are its business.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sim-asgi", daemon=True)
        self.thread.start()

    def call(self, app: Any, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
             client: str, server: str) -> Answer:
        return asyncio.run_coroutine_threadsafe(_call(app, method, path, query, headers, body, client, server),
                                                self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def _call(app: Any, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                client: str, server: str) -> Answer:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": (client, 0), "server": (server, 80)}
    done = asyncio.Event()
    delivered = False
    status, answer_headers, chunks = 500, {}, []

    async def receive() -> dict:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # the client hangs up only once the whole answer is out
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            answer_headers.update((k.decode().lower(), v.decode()) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    return Answer(status, answer_headers, b"".join(chunks))
