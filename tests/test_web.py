"""`wikipeer serve`: the read-only page per wiki page, served by a real subprocess."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import httpx
import pytest

from conftest import CLI, cli_env, run_cli

SCRIPT_TEXT = ("== Hostile ==\n"
               "Hello <script>alert('pwned')</script> and <img src=x onerror=alert(1)>.\n"
               "[[Main Page|<b>bold label</b>]] and '''really bold'''.\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sample_node(_sample_template, tmp_path_factory):
    """One sample node for this module's server (the tests only read, but for the last)."""
    target = tmp_path_factory.mktemp("web") / "node"
    shutil.copytree(_sample_template, target)
    return target


@pytest.fixture(scope="module")
def server(sample_node):
    edit = run_cli(sample_node, "edit", "wikipeer", "Script test", "--summary", "xss",
                   input=SCRIPT_TEXT)
    assert edit.code == 0, str(edit)
    port = _free_port()
    proc = subprocess.Popen([*CLI, "--node", str(sample_node), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    with httpx.Client(base_url=base, timeout=5) as client:
        while True:
            try:
                client.get("/")
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    out, err = proc.communicate()
                    pytest.fail(f"the server did not start: {err.decode()}")
                time.sleep(0.05)
        try:
            yield client
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()


def test_main_page_is_served(server, sample_node):
    response = server.get("/wiki/wikipeer/Main_Page")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<h1>Main Page</h1>" in html
    assert "Welcome" in html
    head = run_cli(sample_node, "heads", "wikipeer", "Main Page").out.split()[1]
    assert head in html  # the shown revision's CID
    assert 'href="/wiki/wikipeer/Signed_objects"' in html  # internal links point at pages
    assert "signed by a trusted key" in html
    # Any spelling of the title names the same page.
    assert server.get("/wiki/wikipeer/main_Page").text == html


def test_page_text_is_escaped(server):
    response = server.get("/wiki/wikipeer/Script_test")
    assert response.status_code == 200
    html = response.text
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html or "&lt;script&gt;alert('pwned')&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>bold label</b>" not in html and "&lt;b&gt;bold label&lt;/b&gt;" in html
    assert "<b>really bold</b>" in html  # wikitext markup still renders
    assert "<h2>Hostile</h2>" in html


def test_unknown_page_is_404(server):
    assert server.get("/wiki/wikipeer/No_such_page").status_code == 404
    assert server.get("/wiki/wikipeer/Bad[title]").status_code == 404
    index = server.get("/")
    assert index.status_code == 200 and "wikipeer" in index.text


def test_unknown_wiki_is_404_and_not_created(server):
    assert server.get("/wiki/nosuchwiki/Foo").status_code == 404
    assert "nosuchwiki" not in server.get("/").text
