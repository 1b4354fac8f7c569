"""What the web page accepts and answers, at the HTTP level, against a real `wikipeer serve`:
request bodies bounded before they are read or spooled, forms whose fields must be text,
and HEAD wherever GET works (routes and the whole-page cache alike)."""

from __future__ import annotations

import os
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import copy_node, start_server, stop_server
from wikipeer.web.bodylimit import MAX_EDIT_FORM, MAX_SMALL_FORM

PASSWORD = "correct horse battery"
ARTICLE = "/wiki/wikipeer/Main_Page"
_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')
_PARENTS = re.compile(r'name="parents" value="([^"]*)"')
GIB = 1 << 30


class Served:
    """A served copy of the sample node whose temporary files go to a directory of their own."""

    def __init__(self, proc, client: httpx.Client, tmp: Path) -> None:
        self.proc, self.client, self.tmp = proc, client, tmp
        self.base = str(client.base_url)

    def temp_bytes(self) -> int:
        """Bytes in files the server holds open under its temp dir (spooled uploads are unlinked, but open)."""
        total = 0
        fd_dir = Path(f"/proc/{self.proc.pid}/fd")
        for fd in os.listdir(fd_dir):
            try:
                if os.readlink(fd_dir / fd).startswith(str(self.tmp)):
                    total += os.stat(fd_dir / fd).st_size
            except OSError:
                continue  # closed meanwhile
        return total


@pytest.fixture(scope="module")
def served(_sample_template, tmp_path_factory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("web-requests")
    node_dir, tmp = root / "node", root / "tmp"
    copy_node(_sample_template, node_dir)
    tmp.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(tmp))  # the served process inherits it: tempfile spools there
        proc, client = start_server(node_dir)
    try:
        yield Served(proc, client, tmp)
    finally:
        stop_server(proc, client)


@pytest.fixture(scope="module")
def user(served) -> httpx.Client:
    """A logged-in client (its own account)."""
    client = httpx.Client(base_url=served.base, timeout=30)
    csrf = _CSRF.search(client.get("/register").text).group(1)
    made = client.post("/register", data={"name": "bodies", "password": PASSWORD, "csrf": csrf})
    assert made.status_code == 303, made.text
    yield client
    client.close()


def edit_form(client: httpx.Client) -> dict[str, str]:
    form = client.get(f"{ARTICLE}?action=edit").text
    return {"csrf": _CSRF.search(form).group(1), "parents": _PARENTS.search(form).group(1)}


def raw_text(served: Served) -> str:
    return httpx.get(f"{served.base}{ARTICLE}?action=raw").text


def post_raw(served: Served, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int | None, int]:
    """POST over a plain socket, sending ``chunks`` until the server answers or hangs up.

    Returns the status the server answered with (None if none) and the body bytes sent. A plain
    socket, because a client library sends the whole body before it reads an early answer.
    """
    host, port = served.base.removeprefix("http://").split(":")
    sent, answer = 0, b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(head.encode() + b"\r\n")
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # it answered, or hung up
            try:
                sock.sendall(chunk)
            except OSError:
                break  # it hung up, or stopped reading for 10 s
            sent += len(chunk)
        try:
            while b"\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return (int(match.group(1)) if match else None), sent


def chunked(total: int, piece: bytes) -> Iterator[bytes]:
    """``total`` bytes of ``piece`` as HTTP/1.1 chunks."""
    for _ in range(total // len(piece)):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


MULTIPART = "multipart/form-data; boundary=wikipeerbound"


def file_part(csrf: str) -> bytes:
    """The start of a form whose `text` is a file part (as `curl -F text=@big` sends): what used to be spooled whole."""
    return (f"--wikipeerbound\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            "--wikipeerbound\r\nContent-Disposition: form-data; name=\"text\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()


class TempWatch:
    """Polls the server's temp files while a request runs; stops the sender if they grow past ``limit``."""

    def __init__(self, served: Served, limit: int) -> None:
        self.served, self.limit = served, limit
        self.peak, self.stop, self.done = 0, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.served.temp_bytes())
            if self.peak > self.limit:
                self.stop.set()
            self.done.wait(0.01)

    def __enter__(self) -> "TempWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


# -- request bodies ----------------------------------------------------------------------

def test_a_1_gb_post_with_its_length_is_refused_at_once(served):
    """Content-Length over the bound: 413 before a byte of the body is read (nothing reaches /tmp)."""
    with TempWatch(served, 64 << 20) as watch:
        started = time.monotonic()
        body = _prepend(file_part("none"), (b"y" * 65536 for _ in range(GIB // 65536)), watch.stop)
        status, sent = post_raw(served, ARTICLE, {"Content-Length": str(GIB), "Content-Type": MULTIPART}, body)
        took = time.monotonic() - started
    assert watch.peak == 0, f"the server spooled {watch.peak} bytes of a body it should have refused unread"
    assert status == 413
    assert sent < 64 << 20, f"the server read {sent} bytes of a body it should have refused unread"
    assert took < 30
    assert served.client.get("/status").status_code == 200  # still serving


@pytest.mark.parametrize("who", ["anonymous", "user"])
def test_a_1_gb_chunked_post_is_cut_off_and_never_spooled(served, user, who):
    """No length given: counted as it comes and cut off at the bound; the temp dir never grows."""
    cookies = "; ".join(f"{k}={v}" for k, v in user.cookies.items()) if who == "user" else ""
    csrf = edit_form(user)["csrf"] if who == "user" else "none"
    preamble = file_part(csrf)
    headers = {"Transfer-Encoding": "chunked", "Content-Type": MULTIPART}
    if cookies:
        headers["Cookie"] = cookies
    before = raw_text(served)
    with TempWatch(served, 64 << 20) as watch:
        first = f"{len(preamble):x}\r\n".encode() + preamble + b"\r\n"
        status, sent = post_raw(served, ARTICLE, headers, _prepend(first, chunked(GIB, b"y" * 65536), watch.stop))
    assert watch.peak < 2 << 20, f"the server spooled {watch.peak} bytes of a refused body"
    assert status in (401, 403, 413) if who == "anonymous" else status in (400, 413), status
    assert sent < MAX_EDIT_FORM + (64 << 20), sent
    assert raw_text(served) == before
    assert served.client.get("/status").status_code == 200


@pytest.mark.parametrize("path", ["/login", "/rpc"])
def test_a_chunked_body_is_cut_off_at_the_routes_bound(served, path):
    """Where nothing refuses the request sooner, the body guard cuts a chunked body off at the bound: 413."""
    visitor = httpx.Client(base_url=served.base)
    csrf = _CSRF.search(visitor.get("/login").text).group(1)  # a visitor cookie: the form is read, not refused unread
    cookie = "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())
    visitor.close()
    kind = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
    headers = {"Transfer-Encoding": "chunked", "Content-Type": kind, "Cookie": cookie}
    first = f"csrf={csrf}&name=".encode() if path == "/login" else b"["
    stop = threading.Event()
    with TempWatch(served, 64 << 20) as watch:
        status, sent = post_raw(served, path, headers, _prepend(f"{len(first):x}\r\n".encode() + first + b"\r\n",
                                                                chunked(GIB, b"a" * 65536), stop))
    assert status == 413
    assert sent < (64 << 20), f"{sent} bytes sent before the server refused"
    assert watch.peak == 0
    assert served.client.get("/status").status_code == 200


def _prepend(first: bytes, rest: Iterator[bytes], stop: threading.Event) -> Iterator[bytes]:
    """``first``, then ``rest`` until ``stop`` is set (the server spooled too much: the test has seen enough)."""
    yield first
    for chunk in rest:
        if stop.is_set():
            return
        yield chunk


def test_bounds_follow_the_route(served, user):
    """An edit takes the largest page text; a log-in form a few KB; each 413 says the bound."""
    big_login = user.post("/login", content=b"name=x&password=" + b"y" * (MAX_SMALL_FORM + 1),
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert big_login.status_code == 413 and str(MAX_SMALL_FORM) in big_login.text
    rpc = httpx.post(f"{served.base}/rpc", content=b"[" * (9 << 20))
    assert rpc.status_code == 413 and rpc.json()["error"]["code"] == -32600
    # The largest text the node accepts (4 MiB) fits in an edit form even when every byte is escaped.
    text = "ї" * (2 << 20)  # 4 MiB of UTF-8, 12 MiB urlencoded
    saved = user.post(ARTICLE, data={**edit_form(user), "text": text, "summary": "big"})
    assert saved.status_code == 303, saved.text[:500]
    assert raw_text(served) == text


@pytest.mark.backends  # PostgreSQL cannot be asked about a NUL: these were its 500s
@pytest.mark.parametrize("path, says", [("/wiki/%00", "NUL"), ("/wiki/wikipeer/A%00B?action=history", "NUL"),
                                        ("/wiki/wikipeer/Main_Page?oldid=%00", "Bad revision id")])
def test_a_nul_in_the_address_is_a_bad_request_that_names_it(served, path, says):
    answer = httpx.get(served.base + path)
    assert answer.status_code == 400 and says in answer.text, answer.text[:300]
    assert httpx.get(served.base + ARTICLE).status_code == 200


@pytest.mark.backends
def test_a_nul_in_a_search_splits_it_as_a_space(served):
    together, split = (httpx.get(served.base + "/search", params={"q": q}) for q in ("main\0page", "main page"))
    assert together.status_code == split.status_code == 200
    assert together.text.count("class=\"snippet\"") == split.text.count("class=\"snippet\"") > 0


def test_a_file_part_is_never_saved_as_the_page_text(served, user):
    """A multipart edit whose `text` is a file: 400 naming the problem, nothing saved."""
    before = raw_text(served)
    fields = edit_form(user)
    response = user.post(ARTICLE, data={**fields, "summary": "file"}, files={"text": ("page.txt", b"from a file")})
    assert response.status_code == 400, response.text[:500]
    assert "file" in response.text
    assert "UploadFile" not in raw_text(served) and raw_text(served) == before
    # The same edit as a text field is saved: the refusal is about the file, not the form.
    fine = user.post(ARTICLE, data={**fields, "summary": "text"}, files={"text": (None, "from a field")})
    assert fine.status_code == 303 and raw_text(served) == "from a field"


# -- HEAD ----------------------------------------------------------------------------

# One URL for each GET route of the app; the test fails when a route is added without one here.
GET_URLS = {
    "/": "/", "/search": "/search?q=signature", "/recent": "/recent", "/status": "/status",
    "/random": "/random", "/view": "/view?name=nope", "/login": "/login", "/register": "/register",
    "/wiki/{wiki}": "/wiki/wikipeer", "/wiki/{wiki}/{title}": ARTICLE,
    "/api/v1/node": "/api/v1/node", "/api/v1/log": "/api/v1/log?limit=5",
    "/api/docs": "/api/docs", "/api/openapi.json": "/api/openapi.json",
    "/file/{wiki}/{name}": "/file/wikipeer/Absent.png", "/thumb/{wiki}/{width}/{name}": "/thumb/wikipeer/120/Absent.png",
    "/upload": "/upload",
    "/w/api.php": "/w/api.php?action=query&titles=Main_Page&prop=info&format=json",
    "/w/index.php": "/w/index.php?title=Main_Page&action=raw",
    "/w/{wiki}/index.php": "/w/wikipeer/index.php?title=Main_Page&action=history",
    "/git/{name}.git/info/refs": "/git/wikipeer.git/info/refs?service=git-upload-pack",
}
EXTRA_URLS = [f"{ARTICLE}?action=history", f"{ARTICLE}?action=raw", f"{ARTICLE}?action=forks",
              "/wiki/wikipeer/No_such_page_here", f"{ARTICLE}?action=bogus", "/static/wiki.css", "/nope",
              "/logout", "/rpc", "/w/wikipeer/api.php?action=query&list=allpages&format=json",
              "/w/wikipeer/api.php?action=nosuch"]
VARYING = {"date", "set-cookie", "location", "transfer-encoding"}  # new cookie, random page; framing


def test_head_answers_wherever_get_does(served):
    routes = {path for path, ops in served.client.get("/api/openapi.json").json()["paths"].items() if "get" in ops}
    routes |= {"/api/docs", "/api/openapi.json"}
    assert routes <= set(GET_URLS), f"GET routes with no URL in this test: {routes - set(GET_URLS)}"
    for url in [*GET_URLS.values(), *EXTRA_URLS]:
        got, head = httpx.get(f"{served.base}{url}"), httpx.head(f"{served.base}{url}")  # each a new visitor
        assert head.status_code == got.status_code, url
        assert head.content == b"", url
        same = {k: v for k, v in got.headers.items() if k not in VARYING}
        assert {k: v for k, v in head.headers.items() if k not in VARYING} == same, url
        assert ("set-cookie" in head.headers) == ("set-cookie" in got.headers), url


def test_head_of_a_cached_article(served):
    """The whole-page cache answers HEAD too, first request or replay."""
    url = "/wiki/wikipeer/Signed_objects"
    first = httpx.head(f"{served.base}{url}")  # fills the cache through HEAD
    get = httpx.get(f"{served.base}{url}")
    again = httpx.head(f"{served.base}{url}")  # replayed from it
    assert first.status_code == get.status_code == again.status_code == 200
    assert first.content == again.content == b""
    assert int(first.headers["content-length"]) == len(get.content) == int(again.headers["content-length"])
    assert get.headers["content-security-policy"] == again.headers["content-security-policy"]
