"""Logins, rate limits and proxies on real `wikipeer serve` processes over loopback HTTP.

Each simulated person or peer talks from its own loopback address
(127.0.0.N), so per-address limits behave as with real callers.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, start_server, stop_server

from wikipeer.net import rpc

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')


@contextmanager
def served(node_dir: Path, *extra: str) -> Iterator[tuple[str, int]]:
    """A `wikipeer serve` process: its base URL and pid."""
    proc, client = start_server(node_dir, *extra)
    try:
        yield str(client.base_url).rstrip("/"), proc.pid
    finally:
        stop_server(proc, client)


def caller(base: str, address: str) -> httpx.Client:
    """A client whose requests come from ``address`` (a loopback address of its own)."""
    return httpx.Client(base_url=base, timeout=60, transport=httpx.HTTPTransport(local_address=address))


def csrf_of(client: httpx.Client, path: str = "/login") -> str:
    response = client.get(path)
    match = _CSRF.search(response.text)
    assert match, response.text[:2000]
    return match.group(1)


def post_form(client: httpx.Client, path: str, name: str, password: str, csrf: str | None = None) -> httpx.Response:
    data = {"name": name, "password": password, "csrf": csrf or csrf_of(client, path)}
    return client.post(path, data=data)


def timed(client: httpx.Client, path: str, name: str, password: str) -> tuple[httpx.Response, float]:
    """A form post and how long its answer took (the form is fetched first, outside the time)."""
    csrf = csrf_of(client, path)
    start = time.perf_counter()
    response = post_form(client, path, name, password, csrf)
    return response, time.perf_counter() - start


def register(base: str, name: str, address: str = "127.0.0.2") -> None:
    with caller(base, address) as client:
        made = post_form(client, "/register", name, PASSWORD)
    assert made.status_code == 303, made.text


def retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after")
    assert value is not None and value.isdigit() and int(value) >= 1, dict(response.headers)
    return int(value)


def fail_once(client: httpx.Client, name: str) -> None:
    """One wrong password that is checked (waiting out refusals): a back-off window starts now."""
    for _ in range(20):
        response = post_form(client, "/login", name, "a wrong guess")
        if response.status_code == 401:
            return
        assert response.status_code == 429, response.text
        time.sleep(retry_after(response))
    raise AssertionError("no wrong password was ever checked")


def vm(pid: int, field: str) -> int:
    """A memory figure of a process from /proc (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


# -- logins -------------------------------------------------------------------------

def test_many_wrong_passwords_are_throttled_and_the_right_one_waits_too(node_dir):
    with served(node_dir) as (base, _):
        register(base, "alice")
        answers: list[tuple[int, float, httpx.Response]] = []
        with caller(base, "127.0.0.3") as guesser:
            csrf = csrf_of(guesser)
            for i in range(200):
                start = time.perf_counter()
                response = post_form(guesser, "/login", "alice", f"guess {i}", csrf)
                answers.append((response.status_code, time.perf_counter() - start, response))
            statuses = {status for status, _, _ in answers}
            assert statuses <= {401, 429}, statuses
            refused = [r for status, _, r in answers if status == 429]
            checked = [s for s in answers if s[0] == 401]
            assert refused and len(checked) < 30, f"{len(checked)} passwords checked of 200"
            for response in refused:
                retry_after(response)
                assert "try again in" in response.text and '<form class="login"' in response.text
            # A refused try runs no password hash: it answers far sooner than a checked one.
            assert statistics.median(t for s, t, _ in answers if s == 429) < \
                statistics.median(t for s, t, _ in checked) / 3
            # The right password, while the back-off lasts, is refused all the same...
            fail_once(guesser, "alice")
            right = post_form(guesser, "/login", "alice", PASSWORD, csrf)
            assert right.status_code == 429 and "wikipeer_session" not in right.cookies
            retry_after(right)
        # ...from another address too: the account itself is held.
        with caller(base, "127.0.0.4") as elsewhere:
            other = post_form(elsewhere, "/login", "alice", PASSWORD)
            assert other.status_code == 429, other.text
            wait = retry_after(other)
            # Once it is over, the right password works (the wait is the back-off's, a few seconds here).
            assert wait <= 60
            time.sleep(wait)
            assert post_form(elsewhere, "/login", "alice", PASSWORD).status_code == 303


def test_guessing_one_account_from_many_addresses_is_backed_off(node_dir):
    with served(node_dir) as (base, _):
        register(base, "alice")
        statuses = []
        for n in range(10, 40):
            with caller(base, f"127.0.1.{n}") as guesser:
                statuses.append(post_form(guesser, "/login", "alice", f"guess {n}").status_code)
        assert 429 in statuses and set(statuses) <= {401, 429}
        assert statuses[:5] == [401] * 5  # the first few failures are free
        with caller(base, "127.0.1.199") as guesser:
            fail_once(guesser, "alice")
        with caller(base, "127.0.1.200") as owner:
            assert post_form(owner, "/login", "alice", PASSWORD).status_code == 429


def test_unknown_and_known_names_take_alike_to_log_in_and_to_register(node_dir):
    with served(node_dir) as (base, _):
        register(base, "alice")
        known, unknown, taken, free = [], [], [], []
        for i in range(7):  # each try from its own address: no limit or back-off gets in the way
            with caller(base, f"127.0.2.{i + 1}") as client:
                response, seconds = timed(client, "/login", "alice", PASSWORD)
                assert response.status_code == 303, response.text
                known.append(seconds)
            with caller(base, f"127.0.3.{i + 1}") as client:
                response, seconds = timed(client, "/login", f"nobody{i}", PASSWORD)
                assert response.status_code == 401, response.text
                unknown.append(seconds)
            with caller(base, f"127.0.4.{i + 1}") as client:
                response, seconds = timed(client, "/register", "alice", PASSWORD)
                assert response.status_code == 400 and "taken" in response.text
                taken.append(seconds)
            with caller(base, f"127.0.5.{i + 1}") as client:
                response, seconds = timed(client, "/register", f"newcomer{i}", PASSWORD)
                assert response.status_code == 303, response.text
                free.append(seconds)
    for a, b in ((known, unknown), (free, taken)):
        ratio = statistics.median(a) / statistics.median(b)
        assert 0.5 < ratio < 2, (ratio, a, b)


def test_registration_is_under_the_same_limit_per_address(node_dir):
    with served(node_dir, "--rate-limit", "login=0.3:4") as (base, _):
        with caller(base, "127.0.0.5") as client:
            statuses = []
            for i in range(6):
                client.cookies.clear()  # each registration logs in: start again as a visitor
                statuses.append(post_form(client, "/register", f"user{i}", PASSWORD).status_code)
            assert statuses[:4] == [303] * 4 and statuses[4:] == [429, 429]
            # Logging in is the same budget.
            assert post_form(client, "/login", "user0", PASSWORD).status_code == 429
        with caller(base, "127.0.0.6") as other:
            assert post_form(other, "/login", "user0", PASSWORD).status_code == 303


def test_parallel_logins_keep_the_servers_memory_bounded(node_dir):
    """64 logins at once: only a few Argon2id hashes (64 MiB each) run at a time."""
    with served(node_dir) as (base, pid):
        register(base, "alice")
        clients = [caller(base, f"127.0.6.{n + 1}") for n in range(64)]
        try:
            tokens = [csrf_of(c) for c in clients]
            before = vm(pid, "VmHWM")
            barrier = threading.Barrier(len(clients))
            statuses: list[int] = []

            def log_in(client: httpx.Client, csrf: str) -> None:
                barrier.wait()
                statuses.append(post_form(client, "/login", "alice", PASSWORD, csrf).status_code)

            threads = [threading.Thread(target=log_in, args=pair) for pair in zip(clients, tokens)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            grew = vm(pid, "VmHWM") - before
        finally:
            for c in clients:
                c.close()
    assert len(statuses) == 64 and set(statuses) <= {303, 503}, statuses
    assert statuses.count(303) >= 8
    assert grew < 320 * 1024, f"the server's peak memory grew by {grew // 1024} MiB"


# -- rate limits on searches and the API ----------------------------------------------

def test_searches_and_the_fetch_form_are_rate_limited_per_address(node_dir):
    with served(node_dir, "--rate-limit", "search=0.6:12") as (base, _):
        with caller(base, "127.0.0.7") as reader:
            assert reader.get("/search").status_code == 200  # the empty form costs nothing
            statuses = [reader.get("/search", params={"q": f"word{i}"}).status_code for i in range(13)]
            assert statuses == [200] * 12 + [429]
            refused = reader.get("/search", params={"q": "more"})
            assert refused.status_code == 429 and "Too many requests" in refused.text
            assert 60 <= retry_after(refused) <= 100  # a token every 100 s
        with caller(base, "127.0.0.8") as other:
            assert other.get("/search", params={"q": "x"}).status_code == 200
            csrf = csrf_of(other, "/login")
            fetched = other.post("/fetch", data={"q": "x", "top": "3", "csrf": csrf})
            assert fetched.status_code != 429  # a fetch costs 10: 11 used of 12
            again = other.post("/fetch", data={"q": "x", "top": "3", "csrf": csrf})
            assert again.status_code == 429
            retry_after(again)


def test_json_rpc_calls_are_charged_per_call_with_a_json_rpc_429(node_dir):
    batch = [{"jsonrpc": "2.0", "method": "search", "params": [{"text": "x"}], "id": i} for i in range(100)]
    one = {"jsonrpc": "2.0", "method": "lookup", "params": ["w/Main Page"], "id": 1}
    with served(node_dir, "--rate-limit", "rpc=0.6:150") as (base, _):
        with caller(base, "127.0.0.9") as peer:
            assert peer.post("/rpc", json=batch).status_code == 200
            assert peer.post("/rpc", json=batch).status_code == 429  # 50 left: the whole batch is refused
            for _ in range(50):
                assert peer.post("/rpc", json=one).status_code == 200
            refused = peer.post("/rpc", json=one)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == rpc.RATE_LIMITED
            assert "too many API calls" in refused.json()["error"]["message"]
            retry_after(refused)
        with caller(base, "127.0.0.10") as other:
            assert other.post("/rpc", json=one).status_code == 200


# -- proxies and Secure cookies -------------------------------------------------------

def test_a_spoofed_forwarded_for_does_not_change_who_is_counted(node_dir):
    with served(node_dir, "--rate-limit", "search=0.6:5") as (base, _):
        with caller(base, "127.0.0.11") as liar:
            statuses = [liar.get("/search", params={"q": "x"}, headers={"x-forwarded-for": f"10.9.0.{i}"}).status_code
                        for i in range(8)]
        assert statuses == [200] * 5 + [429] * 3


def test_a_trusted_proxy_names_the_client_and_its_scheme(node_dir):
    with served(node_dir, "--rate-limit", "search=0.6:5", "--trusted-proxy", "127.0.0.0/24") as (base, _):
        with caller(base, "127.0.0.12") as proxy:
            for i in range(8):  # eight readers behind the proxy: each has its own budget
                assert proxy.get("/search", params={"q": "x"},
                                 headers={"x-forwarded-for": f"10.9.0.{i}"}).status_code == 200
            same = [proxy.get("/search", params={"q": "x"}, headers={"x-forwarded-for": "10.9.1.1"}).status_code
                    for _ in range(6)]
            assert same == [200] * 5 + [429]
            # HTTPS at the proxy: cookies are Secure; plain HTTP: not.
            proxy.cookies.clear()
            https = proxy.get("/login", headers={"x-forwarded-proto": "https"})
            assert "secure" in cookie_attributes(https, "wikipeer_visitor")
            proxy.cookies.clear()
            http = proxy.get("/login")
            assert "secure" not in cookie_attributes(http, "wikipeer_visitor")
        with caller(base, "127.0.1.12") as outsider:  # not the proxy: its headers are ignored
            https = outsider.get("/login", headers={"x-forwarded-proto": "https"})
            assert "secure" not in cookie_attributes(https, "wikipeer_visitor")


def cookie_attributes(response: httpx.Response, name: str) -> set[str]:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return {a.strip().split("=")[0].lower() for a in header.split(";")[1:]}
    raise AssertionError(f"no cookie {name} in {response.headers.get_list('set-cookie')}")


def test_cookie_secure_marks_every_cookie(node_dir):
    with served(node_dir, "--cookie-secure") as (base, _):
        with caller(base, "127.0.0.13") as client:
            for path in ("/register", "/login"):  # register, then log in again
                client.cookies.clear()
                form = client.get(path)
                assert {"secure", "httponly", "samesite"} <= cookie_attributes(form, "wikipeer_visitor")
                csrf = _CSRF.search(form.text).group(1)
                # httpx sends Secure cookies over HTTPS only: send the visitor cookie by hand.
                cookie = form.headers["set-cookie"].split(";")[0]
                posted = client.post(path, data={"name": "alice", "password": PASSWORD, "csrf": csrf},
                                     headers={"cookie": cookie})
                assert posted.status_code == 303, posted.text
                assert {"secure", "httponly"} <= cookie_attributes(posted, "wikipeer_session")


@pytest.mark.parametrize("option, fragment", [
    (["--trusted-proxy", "not-an-address"], "bad --trusted-proxy"),
    (["--rate-limit", "search=lots"], "PER_MINUTE:BURST"),
    (["--rate-limit", "downloads=60:30"], "KIND one of rpc, search, login"),
])
def test_bad_serve_options_are_refused_with_a_message(node_dir, option, fragment):
    result = run_cli(node_dir, "serve", "--port", "1", *option, timeout=30)
    assert result.code == 2 and fragment in result.err and "Traceback" not in result.err, str(result)
