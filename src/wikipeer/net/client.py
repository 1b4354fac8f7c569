"""Talking to one peer over HTTP, trusting nothing it says.

Every answer is bounded: a declared length past the limit is refused before
reading, a stream is cut when it goes past its byte limit or its deadline,
and JSON-RPC answers are checked for shape before use. Blocks read here are
only parsed out of their CAR; the ingest door verifies them.

With a ``signer`` (this node's key) every request but the descriptor's is
signed for the peer's node key (net/signing.py), learned from its descriptor
when not given: the peer then knows who asks, and credits and limits that
node, not whoever claims to be it.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wikipeer import __version__
from wikipeer.errors import InvalidObject, UserError
from wikipeer.formats.car import MAX_SECTION
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.net.descriptor import Descriptor, check_descriptor
from wikipeer.net.signing import RequestSigner
from wikipeer.net.transport import Response, TransportError, TransportTimeout, open_transport
from wikipeer.formats.compressed import StreamTooLarge, ZstdReader
from wikipeer.net.wire import (CAR_ZSTD, COUNT_HEADER, NEXT_HEADER, NODE_HEADER, RANGE_HEADER, HeldTexts, HoldsNothing,
                               car_chunks, read_log)
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.store.log import Scope

MAX_STREAM = 2 * 1024 * 1024 * 1024  # raw bytes of one log response
MAX_INFLATED = 8 * 1024 * 1024 * 1024
MAX_JSON = 16 * 1024 * 1024
STREAM_DEADLINE = 600.0  # seconds for one whole response, however it trickles


class PeerError(UserError):
    """A peer could not be reached or answered wrongly; the message names it."""


class PeerLied(PeerError):
    """A peer's answer is proof of malice (a forged descriptor, a bad block)."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle for every client cost a no-op sync most of its time."""
    return ssl.create_default_context()


def allowed(url: str) -> bool:
    """Whether this node may talk to ``url``: WIKIPEER_ALLOW_HOSTS (comma-separated) limits the hosts."""
    hosts = os.environ.get("WIKIPEER_ALLOW_HOSTS")
    return not hosts or urlsplit(url).hostname in {h.strip() for h in hosts.split(",")}


@dataclass(slots=True)
class LogBatch:
    """One response of a peer's change log."""

    next_cursor: int
    count: int
    blocks: Iterator[Block]


class PeerClient:
    """The API of the node at ``url``."""

    def __init__(self, url: str, timeout: float = 30.0, max_stream: int = MAX_STREAM,
                 deadline: float = STREAM_DEADLINE, signer: RequestSigner | None = None,
                 audience: str | None = None) -> None:
        """``signer``: sign requests with it; ``audience``: the peer's node key, if known already."""
        if not allowed(url):
            raise PeerError(f"{url} is not an allowed peer address (WIKIPEER_ALLOW_HOSTS)")
        self.url, self.max_stream, self.deadline = url.rstrip("/"), max_stream, deadline
        https = urlsplit(self.url).scheme == "https"
        try:
            self.http = open_transport(self.url, timeout, tls_context() if https else None,
                                       headers={"user-agent": f"wikipeer/{__version__}"})
        except TransportError as exc:
            raise PeerError(str(exc)) from None
        self.bytes_in = self.bytes_out = 0
        self.deltas_in = 0  # texts rebuilt from deltas
        self.signer, self.audience = signer, audience

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "PeerClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------

    def _sign(self, method: str, target: str, digest: bytes) -> dict[str, str]:
        """The headers that sign a request to this peer (whose key its descriptor gives, the first time)."""
        if self.audience is None:
            self.audience = self.descriptor().key
        return self.signer.headers(method, target, digest, self.audience)

    @contextmanager
    def _stream(self, method: str, path: str, any_status: bool = False, signed: bool = True,
                **kwargs: Any) -> Iterator[Response]:
        """An answer whose length was checked; ``any_status`` lets a non-200 answer through (JSON-RPC errors).
        ``signed``: sign the request if this client has a signer."""
        sign = self._sign if signed and self.signer is not None else None
        try:
            with self.http.stream(method, path, sign=sign, **kwargs) as response:
                if response.status_code != 200 and not any_status:
                    response.read()
                    raise PeerError(f"{self.url}{path} answered HTTP {response.status_code}: {response.text[:200]}")
                declared = int(response.headers.get("content-length") or 0)
                if declared > self.max_stream:
                    raise PeerError(f"{self.url} announces {declared} bytes, more than the {self.max_stream} "
                                    "this node reads in one answer")
                yield response
        except TransportTimeout:
            raise PeerError(f"{self.url} is too slow: no answer within the timeout") from None
        except TransportError as exc:
            raise PeerError(f"cannot reach {self.url}: {exc}") from None

    def _chunks(self, response: Response) -> Iterator[bytes]:
        end = time.monotonic() + self.deadline
        try:
            for chunk in response.iter_raw():
                self.bytes_in += len(chunk)
                if time.monotonic() > end:
                    raise PeerError(f"{self.url} took longer than {self.deadline:.0f} s to send one answer")
                yield chunk
        except TransportTimeout:
            raise PeerError(f"{self.url} stopped sending in the middle of an answer") from None
        except TransportError as exc:
            raise PeerError(f"{self.url} broke off an answer: {exc}") from None

    def _car(self, response: Response, held: HeldTexts | None = None) -> Iterator[Block]:
        """The blocks of an answer: a plain CAR, or a packed one whose deltas are rebuilt from ``held``."""
        reader = ZstdReader(self._chunks(response), MAX_INFLATED, self.max_stream, f"{self.url}'s answer")
        try:
            blocks = read_log(reader, response.headers.get("content-type", ""), MAX_SECTION,
                              held or HoldsNothing(), MAX_TEXT)
            yield from blocks
            self.deltas_in += getattr(blocks, "rebuilt", 0)
        except StreamTooLarge as exc:
            raise PeerError(str(exc)) from None
        except InvalidObject as exc:
            raise PeerError(f"{self.url} sent a bad CAR stream: {exc}") from None

    def _json(self, response: Response) -> Any:
        body = bytearray()
        for chunk in self._chunks(response):
            body += chunk
            if len(body) > MAX_JSON:
                raise PeerError(f"{self.url} sent an answer larger than {MAX_JSON} bytes")
        try:
            return json.loads(body)
        except ValueError:
            raise PeerError(f"{self.url} did not answer with JSON") from None

    # -- the API ---------------------------------------------------------

    def descriptor(self) -> Descriptor:
        with self._stream("GET", "/api/v1/node", signed=False) as response:
            data = self._json(response)
        try:
            return check_descriptor(data)
        except InvalidObject as exc:
            raise PeerLied(f"{self.url}: {exc}") from None

    @contextmanager
    def log(self, since: int, limit: int, scope: Scope = Scope(), skip: list[tuple[int, int]] = (),
            sender: str | None = None, holds: int | None = None, held: HeldTexts | None = None) -> Iterator[LogBatch]:
        """The peer's log after ``since``. ``sender``: our node key, so the peer leaves out what came from us.

        With ``held`` (our texts: the store) the log comes packed, and ``holds`` (the position of the
        peer's log up to which we took its texts) lets texts come as deltas against their parent's
        text, rebuilt from ``held`` (net/wire.py).
        """
        params: dict[str, Any] = {"since": since, "limit": limit, "wiki": list(scope.wikis),
                                  "ns": [f"{w}:{n}" for w, n in scope.namespaces],
                                  "page": [cid_to_str(p) for p in scope.pages],
                                  "skip": [f"{a}-{b}" for a, b in skip[:100]]}
        if held is not None:
            params["pack"] = 1
            if holds is not None:
                params["holds"] = holds
        headers = {NODE_HEADER: sender} if sender else {}
        with self._stream("GET", "/api/v1/log", params=params, headers=headers) as response:
            try:
                next_cursor = int(response.headers[NEXT_HEADER])
                count = int(response.headers.get(COUNT_HEADER, "0"))
            except (KeyError, ValueError):
                raise PeerError(f"{self.url} sent a log without a valid {NEXT_HEADER} header") from None
            if next_cursor < since:
                raise PeerError(f"{self.url} sent a log cursor ({next_cursor}) before the one asked for ({since})")
            yield LogBatch(next_cursor, count, self._car(response, held))

    @contextmanager
    def blocks(self, cids: list[bytes]) -> Iterator[Iterator[Block]]:
        body = json.dumps({"cids": [cid_to_str(c) for c in cids]})
        with self._stream("POST", "/api/v1/blocks", content=body,
                          headers={"content-type": "application/json"}) as response:
            yield self._car(response)

    def push(self, blocks: Iterable[Block], sender: str) -> dict:
        """Upload blocks as a compressed CAR; the peer's tally of what it made of them."""
        def counted() -> Iterator[bytes]:
            for chunk in car_chunks(blocks):
                self.bytes_out += len(chunk)
                yield chunk

        with self._stream("POST", "/api/v1/car", content=counted(),
                          headers={"content-type": CAR_ZSTD, NODE_HEADER: sender}) as response:
            answer = self._json(response)
        if not isinstance(answer, dict) or "error" in answer:
            raise PeerError(f"{self.url} refused the upload: {answer.get('error') if isinstance(answer, dict) else answer}")
        return answer

    def gossip(self, blocks: list[Block], lo: int, hi: int, sender: str) -> dict:
        """Pass a notice on, with the part of the ring (lo, hi) the peer is to cover next."""
        with self._stream("POST", "/api/v1/gossip", content=car_chunks(blocks),
                          headers={"content-type": CAR_ZSTD, NODE_HEADER: sender,
                                   RANGE_HEADER: f"{lo:x}-{hi:x}"}) as response:
            return self._json(response)

    def hello(self, url: str) -> bool:
        """Tell the peer this node is reached at ``url`` (net/hello.py); whether it knew so already.
        The request is signed: the peer takes the signer's key as the one to find there."""
        with self._stream("POST", "/api/v1/hello", content=json.dumps({"url": url}),
                          headers={"content-type": "application/json"}) as response:
            answer = self._json(response)
        if not isinstance(answer, dict) or not isinstance(answer.get("known"), bool):
            raise PeerError(f"{self.url} answered a hello with {str(answer)[:200]}")
        return answer["known"]

    def rpc(self, method: str, params: Any) -> tuple[Any, list[dict]]:
        """One JSON-RPC call: (result, redirects). A JSON-RPC error raises PeerError, with its redirects."""
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
        with self._stream("POST", "/rpc", any_status=True, content=body,
                          headers={"content-type": "application/json"}) as response:
            answer = self._json(response)
        if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0" or answer.get("id") not in (1, None):
            raise PeerError(f"{self.url} sent a malformed JSON-RPC answer")
        redirects = _redirect_list(answer.get("redirect"), self.url)
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise RpcFailed(f"{self.url}: {error.get('message', 'error')}", error.get("code"), redirects)
        if "result" not in answer:
            raise PeerError(f"{self.url} sent a JSON-RPC answer with neither result nor error")
        return answer["result"], redirects


class RpcFailed(PeerError):
    """A JSON-RPC error answer, with the redirects it carried."""

    def __init__(self, message: str, code: Any, redirects: list[dict]) -> None:
        super().__init__(message)
        self.code, self.redirects = code, redirects


def _redirect_list(value: Any, peer: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(r, dict) and isinstance(r.get("address"), str) for r in value):
        raise PeerError(f"{peer} sent a malformed redirect list")
    return value[:20]
