"""A simulated node's handler: its real API (net/server.py's router) as an ASGI application, with the
two requests the simulation makes most answered by the same functions the routes call, without the
event loop and worker thread a route costs (5 ms a call on a loaded machine, against 1.4 ms)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from wikipeer.ingest import CALLER, HeldLimit
from wikipeer.net.descriptor import signed_descriptor
from wikipeer.net.gossip import parse_range
from wikipeer.net.server import MAX_GOSSIP, _take_gossip, router
from wikipeer.net.wire import RANGE_HEADER
from wikipeer.node import Node
from wikipeer.sim.asgi import Answer

JSON = {"content-type": "application/json"}


class NodeHandler:
    """An ASGI application for ``node`` at ``url``; ``direct`` answers what it can without ASGI."""

    def __init__(self, node: Node, url: str) -> None:
        self.node, self.url = node, url
        self.app = FastAPI()
        self.app.include_router(router(node))

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def direct(self, method: str, path: str, headers: dict[str, str], body: bytes, caller: str) -> Answer | None:
        """As net/server.py's routes answer GET /api/v1/node and POST /api/v1/gossip; None for the rest."""
        if method == "GET" and path == "/api/v1/node":
            return _json(200, signed_descriptor(self.node, self.url))
        if method == "POST" and path == "/api/v1/gossip":
            if len(body) > MAX_GOSSIP:
                return _json(413, {"error": f"a gossip message is at most {MAX_GOSSIP} bytes"})
            lo, hi = parse_range({k.lower(): v for k, v in headers.items()}.get(RANGE_HEADER))
            try:
                return _json(200, _take_gossip(self.node, body, lo, hi, f"{CALLER}{caller}"))
            except HeldLimit as exc:
                return _json(413, {"error": str(exc)})
        return None


def _json(status: int, value: Any) -> Answer:
    return Answer(status, dict(JSON), json.dumps(value).encode())
