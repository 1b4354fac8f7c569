"""Rate limits per client: token buckets, back-off after failed logins, and a gate on costly work.

A client is the TCP peer of a request (``request.client.host``). uvicorn
rewrites it from X-Forwarded-For only for a proxy named with ``wikipeer
serve --trusted-proxy``, so a caller cannot pick its identity with a header.
IPv6 callers are counted per /64, the block one subscriber usually holds:
otherwise a single host could be a new client for every request.

Every table here is bounded (``MAX_CLIENTS`` entries, least recently used
dropped first), so a flood of addresses costs a fixed amount of memory, and
every class takes its clock as an argument, so tests can move time by hand.
Everything is safe to call from many threads at once (one lock per table).
"""

from __future__ import annotations

import ipaddress
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request

from wikipeer.errors import UserError, WikipeerError

Clock = Callable[[], float]
T = TypeVar("T")

MAX_CLIENTS = 32_768  # entries a table keeps: about 8 MB at most (measured)
MAX_NAME_KEY = 64  # an account name is at most 64 characters: longer ones share the key of their start
IPV6_PREFIX = 64


class RateLimited(WikipeerError):
    """A client asked too often; it may ask again after ``retry_after`` seconds."""

    exit_code = 2
    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, at least 1, as the Retry-After header wants them."""
        return str(max(1, math.ceil(self.retry_after)))


class Busy(RateLimited):
    """The node as a whole is doing as much of this work as it can; not the caller's fault."""

    status = 503


def client_of(request: Request) -> str:
    """The identity a request's limits are counted against."""
    return client_key(request.client.host if request.client else None)


def client_key(host: str | None) -> str:
    """An address as a limit key: IPv4 as it is, IPv6 by its /64 network."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP (a unix socket, a test client's name): count it as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_minute`` requests a minute on average, up to ``burst`` of them at once."""

    per_minute: float
    burst: float

    @classmethod
    def parse(cls, text: str) -> "Rate | None":
        """``PER_MINUTE:BURST`` (e.g. ``60:30``), or ``off`` for no limit."""
        if text.strip().lower() == "off":
            return None
        try:
            per_minute, burst = (float(x) for x in text.split(":"))
        except ValueError:
            raise UserError(f"bad rate {text!r}: write PER_MINUTE:BURST (e.g. 60:30) or off") from None
        if not (0 < per_minute < math.inf and 1 <= burst < math.inf):
            raise UserError(f"bad rate {text!r}: PER_MINUTE must be above 0 and BURST at least 1")
        return cls(per_minute, burst)


class RateLimiter:
    """Token buckets, one per client: each holds up to ``burst`` tokens and refills
    ``per_minute`` a minute; a request takes ``cost`` tokens or is refused."""

    def __init__(self, rate: Rate, what: str, max_clients: int = MAX_CLIENTS, clock: Clock = time.monotonic) -> None:
        self.rate, self.what, self.max_clients, self.clock = rate, what, max_clients, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when)
        self._lock = threading.Lock()

    def charge(self, client: str, cost: float = 1) -> None:
        """Take ``cost`` tokens from ``client``'s bucket, or raise RateLimited (nothing taken)."""
        wait = self.wait(client, cost)
        if wait > 0:
            raise RateLimited(f"too many {self.what} from your address: try again in "
                              f"{max(1, math.ceil(wait))} s", wait)

    def wait(self, client: str, cost: float = 1) -> float:
        """Take ``cost`` tokens and return 0, or return how long until they are there (nothing taken)."""
        # A cost above the burst could never be paid: it takes the whole bucket instead.
        cost = min(cost, self.rate.burst)
        refill = self.rate.per_minute / 60
        with self._lock:
            now = self.clock()
            tokens, when = self._buckets.pop(client, (self.rate.burst, now))
            tokens = min(self.rate.burst, tokens + (now - when) * refill)
            self._buckets[client] = (tokens - cost, now) if tokens >= cost else (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)  # a bucket unused the longest is the likeliest full
            return 0.0 if tokens >= cost else (cost - tokens) / refill

    def __len__(self) -> int:
        return len(self._buckets)


class Backoff:
    """Doubling waits after repeated failures of one key (an account, an address).

    The first ``free`` failures cost nothing; after them each try must wait
    ``first_delay`` seconds, doubled with every further failure up to
    ``max_delay``. A key with no failure for ``forget_after`` seconds starts over.
    """

    def __init__(self, free: int, first_delay: float, max_delay: float, forget_after: float,
                 max_keys: int = MAX_CLIENTS, clock: Clock = time.monotonic) -> None:
        self.free, self.first_delay, self.max_delay = free, first_delay, max_delay
        self.forget_after, self.max_keys, self.clock = forget_after, max_keys, clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, last failure)
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again; 0 now."""
        with self._lock:
            count, last = self._current(key)
        return max(0.0, last + self._delay(count) - self.clock())

    def failed(self, key: str) -> None:
        """Count one more failure of ``key``."""
        with self._lock:
            count, _ = self._current(key)
            self._failures.pop(key, None)
            self._failures[key] = (count + 1, self.clock())
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)  # the oldest failure is the nearest to being forgotten

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _current(self, key: str) -> tuple[int, float]:
        count, last = self._failures.get(key, (0, 0.0))
        if count and self.clock() - last > self.forget_after:
            del self._failures[key]
            return 0, 0.0
        return count, last

    def _delay(self, count: int) -> float:
        if count < self.free:
            return 0.0
        return min(self.max_delay, self.first_delay * 2 ** min(count - self.free, 64))

    def __len__(self) -> int:
        return len(self._failures)


class LoginGuard:
    """Back-off after failed logins, per account and per address.

    An account's back-off holds whoever tries it, so guessing one password from
    many addresses is slowed too; an address's holds every account it tries, so
    trying one password on many accounts is. While either lasts, even the right
    password is refused: it is not checked at all.
    """

    def __init__(self, account: Backoff, address: Backoff) -> None:
        self.account, self.address = account, address

    def admit(self, name: str, client: str) -> None:
        """Raise RateLimited while ``name`` or ``client`` must wait."""
        wait = max(self.account.wait(name[:MAX_NAME_KEY]), self.address.wait(client))
        if wait > 0:
            raise RateLimited(f"too many failed logins for this account or from your address: "
                              f"try again in {max(1, math.ceil(wait))} s", wait)

    def failed(self, name: str, client: str) -> None:
        self.account.failed(name[:MAX_NAME_KEY])  # a megabyte-long name is not kept whole
        self.address.failed(client)

    def succeeded(self, name: str) -> None:
        # Only the account starts over: an address that logs into its own account
        # between guesses at others' keeps its count.
        self.account.clear(name[:MAX_NAME_KEY])


class Gate:
    """At most ``size`` runs of one costly job at once, each in a worker thread.

    Callers beyond that wait (without holding a thread) up to ``patience``
    seconds, then are refused with Busy.
    """

    def __init__(self, size: int, patience: float, what: str) -> None:
        self.size, self.patience, self.what = size, patience, what
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)  # made in the server's event loop
        admitted = False
        with anyio.move_on_after(self.patience):  # only the wait times out: a job once begun ends
            await self._limiter.acquire()
            admitted = True
        if not admitted:
            raise Busy(f"this node is busy with other {self.what}: try again in a few seconds", 2)
        try:
            return await anyio.to_thread.run_sync(func, *args)
        finally:
            self._limiter.release()


def default_hash_slots() -> int:
    """How many password hashes may run at once: one a core, at most 4 (each takes 64 MiB)."""
    return max(1, min(os.cpu_count() or 1, 4))


# Defaults, generous for people and normal peers (see docs/security.md):
DEFAULT_RATES: dict[str, Rate | None] = {
    # JSON-RPC calls (a batch costs one per call): a peer fetching a page makes 2-3 calls.
    "rpc": Rate(1200, 600),
    # The web search page; the fetch form costs FETCH_COST (it asks peers in turn).
    "search": Rate(60, 30),
    # POST /login and /register, whatever their outcome.
    "login": Rate(30, 30),
    # POST /git/{wiki}.git/git-upload-pack: a clone or fetch makes 1-3 (each negotiation round one).
    "git": Rate(60, 30),
}
FETCH_COST = 10
LIMIT_KINDS = tuple(DEFAULT_RATES)


@dataclass(slots=True)
class Limits:
    """The limits of one served node: a limiter per kind of request (None: no limit),
    the login back-off and the gate on password hashing."""

    rpc: RateLimiter | None = None
    search: RateLimiter | None = None
    login: RateLimiter | None = None
    git: RateLimiter | None = None
    guard: LoginGuard = field(default_factory=lambda: LoginGuard(
        Backoff(free=5, first_delay=1, max_delay=300, forget_after=3600),
        Backoff(free=20, first_delay=1, max_delay=300, forget_after=3600)))
    hashing: Gate = field(default_factory=lambda: Gate(default_hash_slots(), patience=10, what="logins"))

    @classmethod
    def from_rates(cls, rates: dict[str, Rate | None] | None = None, clock: Clock = time.monotonic) -> "Limits":
        """Limits with ``rates`` (by kind) over the defaults."""
        chosen = {**DEFAULT_RATES, **(rates or {})}
        made = {kind: RateLimiter(rate, _WHAT[kind], clock=clock) if rate else None for kind, rate in chosen.items()}
        return cls(**made)

    def charge(self, kind: str, request: Request, cost: float = 1) -> None:
        """Charge the request's client ``cost`` under ``kind``'s limit; RateLimited when it is spent."""
        limiter = getattr(self, kind)
        if limiter is not None:
            limiter.charge(client_of(request), cost)

    def charger(self, kind: str, request: Request) -> Callable[[float], None]:
        """``charge`` for later (in a worker thread, once the cost is known)."""
        limiter, client = getattr(self, kind), client_of(request)
        return (lambda cost: None) if limiter is None else (lambda cost: limiter.charge(client, cost))


_WHAT = {"rpc": "API calls", "search": "searches", "login": "logins and registrations",
         "git": "git fetches and clones"}
