"""Signed requests made by hand in tests: an httpx request signed as net/client.py signs one."""

from __future__ import annotations

import hashlib

import httpx
from nacl.signing import SigningKey

from wikipeer.net.signing import RequestSigner


def new_signer() -> RequestSigner:
    """A node key no node here holds."""
    return RequestSigner(SigningKey.generate())


def signed(client: httpx.Client, signer: RequestSigner, audience: str, method: str, path: str,
           content: bytes = b"", params: dict | None = None, headers: dict | None = None,
           created: int | None = None, nonce: str | None = None) -> httpx.Request:
    """A request to the node ``audience`` (its node key) signed by ``signer``; send it with ``client.send``."""
    request = client.build_request(method, path, params=params, content=content, headers=headers)
    target = request.url.raw_path.decode("ascii")
    request.headers.update(signer.headers(method, target, hashlib.sha256(content).digest(), audience, created, nonce))
    return request


def node_key(client: httpx.Client) -> str:
    """The node key of the node ``client`` talks to, from its descriptor."""
    response = client.get("/api/v1/node")
    assert response.status_code == 200, response.text
    return response.json()["descriptor"]["key"]
