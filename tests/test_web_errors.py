"""Bad input to the web page over plain HTTP (httpx), against the served Ukrainian
sample: wrong passwords, expired sessions, missing or wrong CSRF tokens, unknown
pages and revisions, malformed ids, open redirects; and the security headers on
every response."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

pytest.register_assert_rewrite("browser_support")  # before its import: its asserts explain themselves

from browser_support import PASSWORD, UK_WIKI, page_path, unique_name
from wikipeer.model.cid import DAG_CBOR, compute_cid, cid_to_str

pytest_plugins = ["browser_support"]

_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')
SEEN: list[str] = []  # responses the header check saw


def _security_headers(response: httpx.Response) -> None:
    """Every response, errors and redirects included, forbids inline script."""
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    csp = response.headers.get("content-security-policy")
    assert csp, f"{where}: no Content-Security-Policy"
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None and "'unsafe-inline'" not in script_src and "*" not in script_src, f"{where}: {csp}"
    assert response.headers.get("x-content-type-options") == "nosniff", where
    SEEN.append(where)


@pytest.fixture
def client(uk_server) -> Iterator[httpx.Client]:
    """A fresh visitor (no cookies); every response goes through the header check."""
    with httpx.Client(base_url=uk_server.base, timeout=30, event_hooks={"response": [_security_headers]}) as c:
        yield c


def csrf_of(response: httpx.Response) -> str:
    match = _CSRF.search(response.text)
    assert match, f"no CSRF field in {response.request.url}:\n{response.text[:2000]}"
    return match.group(1)


def register(client: httpx.Client) -> str:
    """A new account, logged in on ``client``."""
    name = unique_name()
    csrf = csrf_of(client.get("/register"))
    response = client.post("/register", data={"name": name, "password": PASSWORD, "csrf": csrf, "returnto": "/status"})
    assert response.status_code == 303 and response.headers["location"] == "/status", response.text
    assert "wikipeer_session" in client.cookies
    assert f'<span class="user">{name}</span>' in client.get("/status").text
    return name


def log_in(client: httpx.Client, name: str, password: str, returnto: str = "/") -> httpx.Response:
    csrf = csrf_of(client.get("/login"))
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf, "returnto": returnto})


def head_of(client: httpx.Client, title: str) -> str:
    """The raw text the node shows for a page."""
    response = client.get(f"{page_path(UK_WIKI, title)}?action=raw")
    assert response.status_code == 200
    return response.text


# -- logging in ---------------------------------------------------------------------

def test_wrong_password_is_401_with_the_form_and_a_message(uk_server):
    with httpx.Client(base_url=uk_server.base, event_hooks={"response": [_security_headers]}) as owner:
        name = register(owner)
    with httpx.Client(base_url=uk_server.base, event_hooks={"response": [_security_headers]}) as client:
        for who, password in ((name, "not the password"), (unique_name("nobody"), PASSWORD)):
            response = log_in(client, who, password)
            assert response.status_code == 401, response.text
            assert '<form class="login" action="/login" method="post">' in response.text
            assert 'class="error" role="alert">wrong user name or password<' in response.text
            assert "wikipeer_session" not in client.cookies
        assert log_in(client, name, PASSWORD).status_code == 303  # the right one still works
        assert "wikipeer_session" in client.cookies


def test_expired_session_is_401_when_saving(client, uk_server, uk_node):
    name = register(client)
    title = uk_node.article.title
    url = page_path(UK_WIKI, title)
    form = client.get(f"{url}?action=edit")
    assert form.status_code == 200 and "<textarea" in form.text
    csrf, parents = csrf_of(form), re.search(r'name="parents" value="([^"]*)"', form.text).group(1)
    before = head_of(client, title)
    with sqlite3.connect(uk_server.node_dir / "accounts.sqlite") as conn:
        changed = conn.execute("UPDATE sessions SET expires = 1 WHERE name = ?", (name,)).rowcount
    assert changed == 1
    response = client.post(url, data={"csrf": csrf, "parents": parents, "text": before + "\nexpired", "summary": "x"})
    assert response.status_code == 401, response.text
    assert "session has expired" in response.text
    assert head_of(client, title) == before
    # The edit form itself now sends the visitor to the log-in page, coming back to the form.
    again = client.get(f"{url}?action=edit")
    assert again.status_code == 303 and again.headers["location"].startswith("/login?returnto=")


def test_missing_or_wrong_csrf_token_is_403(client, uk_node):
    register(client)
    title = uk_node.article.title
    url = page_path(UK_WIKI, title)
    form = client.get(f"{url}?action=edit")
    parents = re.search(r'name="parents" value="([^"]*)"', form.text).group(1)
    before = head_of(client, title)
    good = csrf_of(form)
    edit = {"parents": parents, "text": before + "\nforged", "summary": "forged"}
    for token in (None, "", "0" * 64, good[:-1] + ("0" if good[-1] != "0" else "1")):
        data = edit if token is None else {**edit, "csrf": token}
        response = client.post(url, data=data)
        assert response.status_code == 403, (token, response.text)
        assert "security token is missing or wrong" in response.text
    # Another visitor's token is not this session's.
    with httpx.Client(base_url=str(client.base_url)) as stranger:
        other = csrf_of(stranger.get("/login"))
    assert other != good and client.post(url, data={**edit, "csrf": other}).status_code == 403
    assert head_of(client, title) == before
    # Log in and log out forms check theirs too.
    assert client.post("/login", data={"name": "x", "password": PASSWORD}).status_code == 403
    assert client.post("/logout", data={"csrf": "nope"}).status_code == 403
    assert "wikipeer_session" in client.cookies


def test_saving_needs_an_account_and_forms_check_their_input(client, uk_node):
    title = uk_node.article.title
    url = page_path(UK_WIKI, title)
    before = head_of(client, title)
    # A visitor's own token is a valid token, but a visitor cannot sign: 401, nothing saved.
    anonymous = client.post(url, data={"csrf": csrf_of(client.get("/login")), "text": before + "\nanon", "summary": ""})
    assert anonymous.status_code == 401 and "Log in" in anonymous.text
    assert head_of(client, title) == before
    # The forms behind a log-in send a visitor to it.
    for query in ("action=edit", "action=merge"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 303 and response.headers["location"].startswith("/login?returnto="), query
    # Registering: the cookie is HttpOnly and SameSite; bad names and short passwords are refused with the form.
    csrf = csrf_of(client.get("/register"))
    for name, password in (("bad/name", PASSWORD), ("", PASSWORD), (unique_name(), "short")):
        refused = client.post("/register", data={"name": name, "password": password, "csrf": csrf})
        assert refused.status_code == 400 and 'class="error"' in refused.text, (name, password)
        assert "wikipeer_session" not in client.cookies
    name = unique_name()
    made = client.post("/register", data={"name": name, "password": PASSWORD, "csrf": csrf})
    assert made.status_code == 303
    cookie = made.headers["set-cookie"].lower()
    assert "wikipeer_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    taken = client.post("/register", data={"name": name, "password": PASSWORD, "csrf": csrf_of(client.get("/register"))})
    assert taken.status_code == 400 and "taken" in taken.text
    # Logged in now: edit and merge forms with bad revisions.
    nothing = cid_to_str(compute_cid(b"no revision here", DAG_CBOR))
    assert client.get(f"{url}?action=edit&oldid=not-a-cid").status_code == 400
    assert client.get(f"{url}?action=edit&oldid={nothing}").status_code == 404
    one_head = client.get(f"{url}?action=merge")
    assert one_head.status_code == 400 and "Nothing to merge" in one_head.text
    form = client.get(f"{url}?action=edit")
    bad_parent = client.post(url, data={"csrf": csrf_of(form), "parents": "not-a-cid", "text": "x", "summary": ""})
    assert bad_parent.status_code == 400
    assert head_of(client, title) == before


# -- pages, revisions, actions ----------------------------------------------------------

def test_unknown_page_revision_and_action(client, uk_node):
    url = page_path(UK_WIKI, uk_node.article.title)
    assert client.get(url).status_code == 200

    missing = client.get(page_path(UK_WIKI, unique_name("No such page")))
    assert missing.status_code == 404 and "No such page" in missing.text
    assert client.get("/wiki/nosuchwiki/Foo").status_code == 404
    assert client.get("/no/such/route").status_code == 404

    nothing = cid_to_str(compute_cid(b"no block has these bytes", DAG_CBOR))
    for query in (f"oldid={nothing}", f"diff={nothing}", f"action=raw&oldid={nothing}"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 404 and "No such revision" in response.text, query
    # A revision of another page is not one of this page's.
    other = sorted(uk_node.article.linked)[0]
    history = client.get(f"{page_path(UK_WIKI, other)}?action=history").text
    other_rev = re.search(r'name="diff" value="([^"]+)"', history).group(1)
    assert client.get(f"{url}?oldid={other_rev}").status_code == 404

    for bad in ("not-a-cid", "bafy", "123", "b" + "a" * 58, "%00"):
        response = client.get(f"{url}?oldid={bad}")
        assert response.status_code == 400 and "Bad revision id" in response.text, bad
    assert client.get(f"{url}?diff=not-a-cid").status_code == 400

    unknown = client.get(f"{url}?action=delete")
    assert unknown.status_code == 400 and "Unknown action" in unknown.text
    assert "&lt;script&gt;" in client.get(f"{url}?action=<script>").text  # echoed escaped


def test_reflected_input_is_escaped(client, uk_node):
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    for path, params in (("/search", {"q": attack}), ("/search", {"q": "x", "wiki": attack}),
                         ("/login", {"returnto": "/" + attack}), ("/recent", {"wiki": attack}),
                         (page_path(UK_WIKI, uk_node.article.title), {"action": attack})):
        response = client.get(path, params=params)
        assert response.status_code in (200, 400), (path, response.status_code)
        assert "<script>" not in response.text and "<img" not in response.text, (path, params)
        assert "&lt;script&gt;" in response.text, (path, params)


def test_raw_is_wikitext(client, uk_node):
    response = client.get(f"{page_path(UK_WIKI, uk_node.article.title)}?action=raw")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0].strip() == "text/x-wiki"
    assert "charset=utf-8" in response.headers["content-type"].lower()
    assert "[[" in response.text and "<html" not in response.text


# -- redirects after logging in ---------------------------------------------------------

@pytest.fixture(scope="module")
def account(uk_server) -> str:
    """One account for the redirect checks (hashing a password takes a while)."""
    with httpx.Client(base_url=uk_server.base, event_hooks={"response": [_security_headers]}) as owner:
        return register(owner)


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "http:evil.example", " //evil.example",
                                    "\\\\evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example"])
def test_log_in_never_redirects_to_another_host(uk_server, account, target):
    name = account
    with httpx.Client(base_url=uk_server.base, event_hooks={"response": [_security_headers]}) as client:
        form = client.get("/login", params={"returnto": target})
        assert form.status_code == 200
        hidden = re.search(r'name="returnto" value="([^"]*)"', form.text).group(1)
        response = log_in(client, name, PASSWORD, returnto=target)
        assert response.status_code == 303
        location = response.headers["location"]
        # Where a browser goes, resolved as browsers do: tabs and newlines dropped, backslashes read as slashes.
        resolved = urlsplit(urljoin(uk_server.base + "/login", re.sub(r"[\t\n\r]", "", location).replace("\\", "/")))
        assert resolved.netloc == urlsplit(uk_server.base).netloc, f"{target!r} redirects to {location!r}"
        assert location.startswith("/") and not location.startswith("//"), location
        if target.startswith(("//", "http", " ", "\\")):
            assert hidden == "/" and location == "/", (hidden, location)


def test_every_kind_of_response_has_the_security_headers(client, uk_node):
    """The hook checks each response; here one of every kind: page, static file, redirect, and each error."""
    url = page_path(UK_WIKI, uk_node.article.title)
    SEEN.clear()
    expected = {url: 200, f"{url}?action=history": 200, f"{url}?action=raw": 200, "/static/wiki.css": 200,
                "/search?q=x": 200, "/recent": 200, "/status": 200, "/login": 200, "/register": 200, "/": 307,
                "/random": 303, f"{url}?action=edit": 303, f"{url}?action=bogus": 400, f"{url}?oldid=x": 400,
                "/recent?limit=x": 400, page_path(UK_WIKI, "No such page " + unique_name()): 404, "/nope": 404,
                "/static/nope.css": 404, "/logout": 405}
    for path, status in expected.items():
        assert client.get(path).status_code == status, path
    # An anonymous edit is refused before its body is read (no account can sign it), a log-in without a token by CSRF.
    assert client.post(url, data={"text": "x"}).status_code == 401
    assert client.post("/login", data={"name": "x", "password": "y"}).status_code == 403
    assert client.post("/login", content=b"x" * (1 << 20)).status_code == 413
    assert client.head(url).status_code == 200
    assert len(SEEN) == len(expected) + 4
