"""An in-memory network: the peer client's transport (net/transport.py) that calls a node's handler directly.

Nodes are named by URL (``http://n17.sim``); a request goes to the ASGI
application registered for its host, with what a real network adds on a
virtual clock: latency (from the two nodes' places), a transfer time per
byte, loss (a request or its answer lost: the caller sees a timeout),
nodes that are down (refused) and partitions (unreachable). Who calls is
``Network.caller``, set by the simulation before it lets a node act (the
simulation runs one node at a time). Every request is counted per node:
messages by path, bytes in and out.
"""

from __future__ import annotations

import hashlib
import random
import ssl
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from wikipeer.net.transport import CHUNK, Sign, TransportError, TransportTimeout
from wikipeer.sim.asgi import Answer, AsgiRunner


class Headers(dict):
    """Response headers, looked up without regard to case (as http.client's)."""

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class MemoryResponse:
    """An answer already whole, read as the peer client reads a streamed one."""

    def __init__(self, answer: Answer) -> None:
        self.status_code = answer.status
        self.headers = Headers(answer.headers)
        self._body = answer.body

    def iter_raw(self, size: int = CHUNK) -> Iterator[bytes]:
        for start in range(0, len(self._body), size):
            yield self._body[start:start + size]

    def read(self) -> bytes:
        return self._body

    @property
    def text(self) -> str:
        return self._body.decode("utf-8", "replace")


@dataclass(slots=True)
class Traffic:
    """What one node sent and received."""

    sent: int = 0  # requests it made
    bytes_out: int = 0
    bytes_in: int = 0
    by_path: Counter = field(default_factory=Counter)  # its requests, by path (attempts, lost or not)
    received: Counter = field(default_factory=Counter)  # requests that reached it, by path


@dataclass(slots=True)
class Conditions:
    """What the network does to requests."""

    loss: float = 0.0  # chance that a request, and again its answer, is lost
    base_latency: float = 0.01  # seconds one way, plus up to ``spread`` for the distance between two places
    spread: float = 0.15
    bandwidth: float = 1_000_000.0  # bytes per second per node
    lost_cost: float = 5.0  # seconds a caller waits for a lost request before it gives up


class Network:
    """Nodes by host, and the conditions between them."""

    def __init__(self, conditions: Conditions, rng: random.Random) -> None:
        self.conditions, self.rng = conditions, rng
        self.apps: dict[str, Any] = {}
        self.places: dict[str, tuple[float, float]] = {}
        self.down: set[str] = set()
        self.groups: dict[str, int] = {}  # a partition: hosts in different groups cannot reach each other
        self.traffic: dict[str, Traffic] = {}
        self.caller: str = "outside"
        self.elapsed = 0.0  # virtual seconds the current caller has spent on requests
        self.runner = AsgiRunner()

    def add(self, host: str, app: Any) -> None:
        self.apps[host] = app
        self.places[host] = (self.rng.random(), self.rng.random())
        self.traffic[host] = Traffic()

    def close(self) -> None:
        self.runner.close()

    def opener(self, base_url: str, timeout: float, context: ssl.SSLContext | None,
               headers: Mapping[str, str]) -> "MemoryTransport":
        """For net.transport.installed: a transport from the current caller to ``base_url``."""
        return MemoryTransport(self, base_url, timeout, headers)

    def latency(self, a: str, b: str) -> float:
        (x1, y1), (x2, y2) = self.places.get(a, (0.5, 0.5)), self.places.get(b, (0.5, 0.5))
        return self.conditions.base_latency + self.conditions.spread * ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5

    def reachable(self, a: str, b: str) -> bool:
        return b not in self.down and self.groups.get(a, 0) == self.groups.get(b, 0)

    def request(self, host: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                timeout: float) -> MemoryResponse:
        caller = self.caller
        mine = self.traffic.setdefault(caller, Traffic())
        mine.sent += 1
        mine.by_path[path] += 1
        mine.bytes_out += len(body)
        if host not in self.apps or not self.reachable(caller, host):
            self.elapsed += self.latency(caller, host)
            raise TransportError(f"{host} is unreachable" if host in self.apps else f"no node {host}")
        wait = min(timeout, self.conditions.lost_cost)
        if self.rng.random() < self.conditions.loss:  # the request is lost
            self.elapsed += wait
            raise TransportTimeout("timed out")
        theirs = self.traffic[host]
        theirs.received[path] += 1
        theirs.bytes_in += len(body)
        app = self.apps[host]
        if callable(getattr(app, "direct", None)):  # a node's handler that answers some paths itself
            answer = app.direct(method, path, headers, body, caller) or \
                self.runner.call(app, method, path, query, headers, body, caller, host)
        else:
            answer = self.runner.call(app, method, path, query, headers, body, caller, host)
        theirs.bytes_out += len(answer.body)
        if self.rng.random() < self.conditions.loss:  # the answer is lost: done there, not known here
            self.elapsed += wait
            raise TransportTimeout("timed out")
        mine.bytes_in += len(answer.body)
        self.elapsed += 2 * self.latency(caller, host) + (len(body) + len(answer.body)) / self.conditions.bandwidth
        return MemoryResponse(answer)


class MemoryTransport:
    """The peer client's transport to one node of a Network (net.transport.Transport's interface)."""

    def __init__(self, network: Network, base_url: str, timeout: float, headers: Mapping[str, str]) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"{base_url} is not an http or https address")
        self.network, self.host, self.timeout = network, parts.netloc, timeout
        self.prefix = parts.path.rstrip("/")
        self.headers = dict(headers)

    @contextmanager
    def stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
               content: bytes | str | Iterable[bytes] | None = None,
               headers: Mapping[str, str] | None = None, sign: Sign | None = None) -> Iterator[MemoryResponse]:
        """As Transport.stream: ``sign`` makes the headers that sign the request (net/signing.py)."""
        if isinstance(content, str):
            body = content.encode("utf-8")
        elif content is None or isinstance(content, bytes):
            body = content or b""
        else:
            body = b"".join(content)
        query = urlencode(params, doseq=True) if params else ""
        sent = {**self.headers, **(headers or {})}
        if sign is not None:
            sent.update(sign(method, self.prefix + path + (f"?{query}" if query else ""),
                             hashlib.sha256(body).digest()))
        yield self.network.request(self.host, method, self.prefix + path, query, sent, body, self.timeout)

    def close(self) -> None:
        """Nothing to close."""
