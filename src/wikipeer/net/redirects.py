"""Asking the network a question: follow redirects, politely and without loops.

One operation asks at most ``MAX_ADDRESSES`` nodes, never the same address
twice, one at a time (so never more than 20 queries outstanding). A node that
cannot be reached, or says it is busy without naming anyone, is tried again
after an exponentially growing pause, a bounded number of times; a busy node
that names others is taken at its word and not asked again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wikipeer.net.client import PeerClient, PeerError, RpcFailed, allowed
from wikipeer.net.rpc import BUSY

MAX_ADDRESSES = 20
RETRIES = 3
BACKOFF = 0.2  # seconds before the first retry; doubles each time


@dataclass(slots=True)
class Asked:
    """The outcome of one operation: who answered, what, and whom we asked."""

    url: str | None = None
    result: Any = None
    asked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _one(url: str, method: str, params: Any, timeout: float, sleep: Callable[[float], None]
         ) -> tuple[Any, list[dict], str | None]:
    """(result, redirects, error) from one node, retried with back-off while it cannot answer."""
    error = None
    for attempt in range(RETRIES):
        try:
            with PeerClient(url, timeout=timeout) as client:
                result, redirects = client.rpc(method, params)
            return result, redirects, None
        except RpcFailed as exc:
            if exc.code == BUSY and exc.redirects:
                return None, exc.redirects, str(exc)
            if exc.code != BUSY:
                return None, exc.redirects, str(exc)
            error = str(exc)
        except PeerError as exc:
            error = str(exc)
        if attempt + 1 < RETRIES:
            sleep(BACKOFF * 2 ** attempt)
    return None, [], error


def ask(start: list[str], method: str, params: Any, good: Callable[[Any], bool], timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep) -> Asked:
    """Ask ``start`` nodes, then those they redirect to, until an answer is ``good``."""
    outcome = Asked()
    queue = deque(start)
    seen: set[str] = set()
    while queue and len(seen) < MAX_ADDRESSES:
        url = queue.popleft().rstrip("/")
        if url in seen:
            continue
        seen.add(url)
        if not allowed(url):
            outcome.errors.append(f"{url}: not an allowed peer address, not asked")
            continue
        outcome.asked.append(url)
        result, redirects, error = _one(url, method, params, timeout, sleep)
        if error:
            outcome.errors.append(error)
        elif good(result):
            outcome.url, outcome.result = url, result
            return outcome
        queue.extend(r["address"] for r in redirects if r["address"].rstrip("/") not in seen)
    return outcome
