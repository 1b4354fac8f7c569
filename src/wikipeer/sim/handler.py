"""A simulated node's handler: its real API (net/server.py's router) as an ASGI application, with the
request the simulation makes most (``GET /api/v1/node``, unsigned: the descriptor is public) answered
by the function its route calls, without the event loop and worker thread a route costs (5 ms a call
on a loaded machine, against 1.4 ms). Everything else, signed requests and their checks included,
goes through the router."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from wikipeer.net.descriptor import signed_descriptor
from wikipeer.net.server import router
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
        """As net/server.py's route answers GET /api/v1/node; None for the rest."""
        if method == "GET" and path == "/api/v1/node":
            return Answer(200, dict(JSON), json.dumps(signed_descriptor(self.node, self.url)).encode())
        return None
