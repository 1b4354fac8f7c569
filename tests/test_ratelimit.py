"""The rate limiter (wikipeer.net.ratelimit) on a clock moved by hand: token buckets,
back-off after failures, the bounded client tables, many threads at once, the gate
on concurrent work, and JSON-RPC batches charged per call before any runs."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from wikipeer.errors import UserError
from wikipeer.net import rpc
from wikipeer.net.ratelimit import (Backoff, Busy, Gate, Limits, LoginGuard, Rate, RateLimited, RateLimiter,
                                    client_key)


class Clock:
    """Time that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_bucket_allows_its_burst_then_refuses_until_it_refills(clock):
    limiter = RateLimiter(Rate(per_minute=60, burst=5), "searches", clock=clock)
    for _ in range(5):
        limiter.charge("a")
    with pytest.raises(RateLimited, match="too many searches from your address") as refused:
        limiter.charge("a")
    assert refused.value.retry_after == pytest.approx(1.0)  # one token a second
    assert refused.value.retry_after_header == "1" and refused.value.status == 429
    limiter.charge("b")  # another client has its own bucket
    clock.now += 0.5
    assert limiter.wait("a") == pytest.approx(0.5)  # a refusal takes nothing
    clock.now += 0.5
    limiter.charge("a")
    clock.now += 3600  # refills up to the burst, never beyond it
    for _ in range(5):
        limiter.charge("a")
    assert limiter.wait("a") > 0


def test_a_costly_request_takes_as_many_tokens(clock):
    limiter = RateLimiter(Rate(per_minute=600, burst=150), "API calls", clock=clock)
    limiter.charge("peer", 100)
    with pytest.raises(RateLimited) as refused:
        limiter.charge("peer", 100)
    assert refused.value.retry_after == pytest.approx(5.0)  # 50 tokens short at 10 a second
    limiter.charge("peer", 50)
    # More than the whole burst costs the whole bucket: it can pass, once the bucket is full.
    clock.now += 15
    limiter.charge("peer", 10_000)
    assert limiter.wait("peer") > 0


def test_retry_after_is_whole_seconds_at_least_one():
    assert RateLimited("x", 0.01).retry_after_header == "1"
    assert RateLimited("x", 1.2).retry_after_header == "2"
    assert RateLimited("x", 30).retry_after_header == "30"


def test_the_client_table_is_bounded(clock):
    limiter = RateLimiter(Rate(60, 2), "logins", max_clients=100, clock=clock)
    for i in range(10_000):
        limiter.charge(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert len(limiter) == 100
    # The most recent clients are the ones kept: the last one has one token left, the first a full bucket.
    limiter.charge("10.0.39.15")
    assert limiter.wait("10.0.39.15") > 0
    limiter.charge("10.0.0.0")
    limiter.charge("10.0.0.0")


def test_many_threads_share_one_bucket_exactly(clock):
    """Threads racing on one client's bucket: exactly the burst gets through (clock frozen)."""
    limiter = RateLimiter(Rate(60, 500), "API calls", clock=clock)
    passed = []

    def hammer() -> None:
        ok = 0
        for _ in range(1000):
            try:
                limiter.charge("one")
                ok += 1
            except RateLimited:
                pass
        passed.append(ok)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(passed) == 500


@pytest.mark.parametrize("host, key", [
    ("127.0.0.7", "127.0.0.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same /64: the same client
    ("::ffff:192.0.2.9", "192.0.2.9"),
    (None, "unknown"),
    ("testclient", "testclient"),
])
def test_clients_are_addresses_ipv6_by_its_64(host, key):
    assert client_key(host) == key


@pytest.mark.parametrize("text, rate", [("60:30", Rate(60, 30)), ("0.5:1", Rate(0.5, 1)), ("off", None),
                                        ("OFF", None)])
def test_rates_parse(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["60", "60:", "a:b", "0:10", "60:0", "-1:5", "inf:5", "60:30:1"])
def test_bad_rates_are_refused_with_the_form_to_use(text):
    with pytest.raises(UserError, match="PER_MINUTE"):
        Rate.parse(text)


def test_backoff_is_free_then_doubles_up_to_its_cap_and_forgets(clock):
    backoff = Backoff(free=3, first_delay=1, max_delay=8, forget_after=600, clock=clock)
    for _ in range(2):
        backoff.failed("alice")
        assert backoff.wait("alice") == 0
    waits = []
    for _ in range(6):
        backoff.failed("alice")
        waits.append(backoff.wait("alice"))
    assert waits == [1, 2, 4, 8, 8, 8]
    assert backoff.wait("bob") == 0
    clock.now += 7
    assert backoff.wait("alice") == pytest.approx(1)
    clock.now += 601  # a quiet while: counted from zero again
    backoff.failed("alice")
    assert backoff.wait("alice") == 0
    for _ in range(5):
        backoff.failed("alice")
    backoff.clear("alice")
    assert backoff.wait("alice") == 0


def test_backoff_table_is_bounded(clock):
    backoff = Backoff(free=1, first_delay=1, max_delay=8, forget_after=600, max_keys=50, clock=clock)
    for i in range(5000):
        backoff.failed(f"name{i}")
    assert len(backoff) == 50


def test_login_guard_holds_an_account_from_every_address_and_an_address_for_every_account(clock):
    guard = LoginGuard(Backoff(2, 1, 300, 3600, clock=clock), Backoff(3, 1, 300, 3600, clock=clock))
    guard.failed("alice", "10.0.0.1")
    guard.failed("alice", "10.0.0.2")
    with pytest.raises(RateLimited, match="too many failed logins"):
        guard.admit("alice", "10.0.0.3")  # a new address does not help
    guard.admit("bob", "10.0.0.3")
    for name in ("carol", "dave", "erin"):
        guard.failed(name, "10.0.0.9")
    with pytest.raises(RateLimited):
        guard.admit("frank", "10.0.0.9")  # nor does a new account
    clock.now += 1
    guard.admit("alice", "10.0.0.3")
    guard.succeeded("alice")
    guard.failed("alice", "10.0.0.4")
    guard.admit("alice", "10.0.0.4")  # a success starts the account over


def test_a_batch_is_charged_per_call_before_any_call_runs(clock):
    ran = []
    table = {"search": lambda call: ran.append(call.id)}
    limits = Limits.from_rates({"rpc": Rate(60, 150)}, clock=clock)
    charges = []

    def admit(calls: int) -> None:
        charges.append(calls)
        limits.rpc.charge("peer", calls)

    batch = [{"jsonrpc": "2.0", "method": "search", "params": [], "id": i} for i in range(100)]
    assert len(rpc.handle(table, json.dumps(batch).encode(), admit=admit)) == 100
    with pytest.raises(RateLimited):
        rpc.handle(table, json.dumps(batch).encode(), admit=admit)
    assert charges == [100, 100] and len(ran) == 100  # the refused batch ran nothing
    rpc.handle(table, json.dumps(batch[0]).encode(), admit=admit)
    rpc.handle(table, b"not json", admit=admit)
    assert charges[2:] == [1, 1]


def test_the_gate_runs_a_few_at_once_and_refuses_after_its_patience():
    async def main() -> None:
        gate = Gate(2, patience=0.3, what="logins")
        running, most = 0, 0
        lock = threading.Lock()

        def job() -> None:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.1)
            with lock:
                running -= 1

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(gate.run, job)
        assert most == 2

        refused = []

        async def slow() -> None:
            await gate.run(time.sleep, 1.0)

        async def late() -> None:
            await anyio.sleep(0.05)
            try:
                await gate.run(time.sleep, 0)
            except Busy as exc:
                refused.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            tg.start_soon(slow)
            tg.start_soon(late)
        assert len(refused) == 1 and refused[0].status == 503 and "busy" in str(refused[0])

    # A thread of its own: a browser test's Playwright may hold an event loop in the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, main).result()


def test_a_huge_name_is_kept_by_its_start_only(clock):
    guard = LoginGuard(Backoff(1, 1, 300, 3600, clock=clock), Backoff(100, 1, 300, 3600, clock=clock))
    huge = "x" * 1_000_000
    guard.failed(huge, "10.0.0.1")
    assert guard.account.wait("x" * 64) > 0  # held under its first 64 characters, not a megabyte
    with pytest.raises(RateLimited):
        guard.admit(huge + "y", "10.0.0.2")
