"""`wikipeer serve` in everyday use (issue 16, items 6 to 8), against real served processes:
it binds before it says it serves and a busy port is one line and exit 2; `--access-log`
writes common log format; keys, trust and views changed by another process reach a running
server without a restart; every option has help; the communities a node issues are trusted by
its default view from their creation (and a setting turns that off); and building the project
shows no warning about our own pyproject.toml.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import CLI, assert_user_error, cli_env, free_port, run_cli, start_server, stop_server
from nacl.signing import SigningKey

from wikipeer.authoring import edit_blocks
from wikipeer.cli.main import build_parser
from wikipeer.model.block import Block
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import Page, Signature, Trust, build_signature, build_trust
from wikipeer.node import Node

WIKI = "w"
ROOT = Path(__file__).resolve().parent.parent
CLF = re.compile(r'^(?P<host>\S+) - (?P<user>\S+) \[(?P<day>\d{2})/(?P<month>[A-Z][a-z]{2})/(?P<year>\d{4}):'
                 r'\d{2}:\d{2}:\d{2} \+0000\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-)$')


class Outsider:
    """A key no node here holds, signing edits and trust lists built in the test."""

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        self.public = key_to_str(bytes(self.key.verify_key))

    def edit(self, title: str, text: str, ts: int) -> list[Block]:
        return edit_blocks(Page(WIKI, 0, title), text, (), "edit", self.key, self.public, ts)

    def trust(self, community: str, members: dict[str, str]) -> list[Block]:
        block = build_trust(Trust(self.public, community, 1, 1_000, members, ()))
        return [block, build_signature(Signature(block.cid, "author", self.public, sign(self.key, block.cid, "author")))]


def two_heads(node: Node, title: str, newer: Outsider, older: Outsider) -> None:
    """A page with two heads: "newer TITLE" (shown while nobody is trusted) and "older TITLE"."""
    for who, text, ts in ((newer, f"newer {title}", 2_000), (older, f"older {title}", 1_000)):
        report = node.ingest(who.edit(title, text, ts), "test")
        assert {s.state for s in report.statuses} <= {"accepted", "duplicate"}, report  # the page block is shared


def raw(client: httpx.Client, title: str) -> str:
    response = client.get(f"/wiki/{WIKI}/{title}?action=raw")
    assert response.status_code == 200, response.text
    return response.text


def eventually(check, what: str, seconds: float = 15) -> None:
    """Poll until ``check()`` is true: the server takes a change in on its next request."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"the running server never saw: {what}")
        time.sleep(0.1)


# -- binding ------------------------------------------------------------------------------

def test_a_busy_port_is_one_line_and_exit_2_and_never_says_serving(node_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(node_dir, "serve", "--port", str(port), timeout=30)
    assert_user_error(result, f"port {port} on 127.0.0.1 is in use: choose another with --port")
    assert "serving" not in result.out, str(result)


def test_serving_is_said_once_the_port_is_bound(node_dir):
    port = free_port()
    proc = subprocess.Popen([*CLI, "--node", str(node_dir), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    try:
        line = proc.stdout.readline().decode()
        assert line == f"serving {node_dir} on http://127.0.0.1:{port}/\n", line + proc.stderr.read().decode()
        # No retry: the socket listens before the line is printed, so this first connection is queued.
        socket.create_connection(("127.0.0.1", port), timeout=30).close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_every_serve_option_has_help():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve = sub.choices["serve"]
    options = [a for a in serve._actions if a.option_strings and a.dest != "help"]
    assert {"--host", "--port", "--access-log"} <= {o for a in options for o in a.option_strings}
    assert [a.option_strings for a in options if not a.help or a.help == argparse.SUPPRESS] == []
    shown = run_cli(None, "serve", "--help").out
    for action in options:
        assert action.help.split()[0] in shown, action.option_strings


# -- the access log -------------------------------------------------------------------------

def test_the_access_log_is_common_log_format_appended_and_names_the_logged_in(sample_node, tmp_path):
    log = tmp_path / "logs" / "access.log"
    log.parent.mkdir()
    log.write_text("an earlier line\n")
    proc, client = start_server(sample_node, "--access-log", str(log))
    try:
        answers = [client.get("/wiki/wikipeer/Main_Page"), client.get("/wiki/wikipeer/Main_Page"),  # the cache
                   client.get('/wiki/wikipeer/No such page?x="y"'), client.head("/recent")]
        with ThreadPoolExecutor(8) as pool:  # lines from the server's threads at once do not mix
            answers += pool.map(lambda i: client.get(f"/search?q=wiki{i}"), range(24))
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/register").text).group(1)
        registered = client.post("/register", data={"name": "Logger", "password": "a long password 1",
                                                    "csrf": csrf, "returnto": "/status"})
        assert registered.status_code == 303, registered.text
        answers += [registered, client.get("/status")]
        answers.append(client.get("/static/wiki.css"))
    finally:
        stop_server(proc, client)
    lines = log.read_text().splitlines()
    assert lines[0] == "an earlier line"
    entries = [CLF.match(line) for line in lines[1:]]
    assert None not in entries, lines
    assert len(entries) == len(answers) + 1 + 1  # and the start-up poll of /status, and the GET /register
    assert entries[0]["request"] == "GET /status HTTP/1.1"  # start_server's poll: the server answered at once
    by_request = {}
    for entry in entries[1:]:
        by_request.setdefault(entry["request"], []).append(entry)
        assert entry["host"] == "127.0.0.1" and entry["month"] in ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov "
                                                                   "Dec").split()
    for answer in answers:
        target = answer.request.url.raw_path.decode()
        entry = by_request[f"{answer.request.method} {target} HTTP/1.1".replace('"', "\\x22")].pop(0)
        assert int(entry["status"]) == answer.status_code
        size = len(answer.content)
        assert entry["bytes"] == (str(size) if size else "-"), (entry.group(0), size)
    users = {e["request"]: e["user"] for e in entries[1:]}
    assert users["GET /status HTTP/1.1"] == users["GET /static/wiki.css HTTP/1.1"] == "Logger"  # logged in
    assert {e["user"] for e in entries if "/search" in e["request"]} == {"-"}
    assert {e["status"] for e in entries if "No%20such" in e["request"]} == {"404"}


def test_an_access_log_that_cannot_be_written_is_one_line(node_dir, tmp_path):
    result = run_cli(node_dir, "serve", "--port", str(free_port()), "--access-log", str(tmp_path / "no" / "log"))
    assert_user_error(result, "cannot write the access log", str(tmp_path / "no" / "log"))


# -- keys, trust and views change under a running server --------------------------------------

def test_key_import_trust_subscribe_and_view_default_reach_a_running_server(tmp_path):
    node = Node.init(tmp_path / "node")
    x, y, w, v, u, t, z = (Outsider() for _ in range(7))
    try:
        node.wiki(WIKI)
        two_heads(node, "P", x, y)  # y's head shows once y's key is imported
        two_heads(node, "Q", w, v)  # v's once the view subscribes z/c
        two_heads(node, "R", u, t)  # t's once the default view is "tv"
        for blocks in (z.trust("c", {v.public: "reviewer"}), z.trust("c2", {t.public: "reviewer"})):
            assert {s.state for s in node.ingest(blocks, "test").statuses} == {"accepted"}
        node.config.views = {"tv": [f"{z.public}/c2"]}
        node.save_config()
    finally:
        node.close()
    d = tmp_path / "node"
    proc, client = start_server(d)
    try:
        assert [raw(client, p) for p in "PQR"] == ["newer P", "newer Q", "newer R"]
        assert "newer P" in client.get(f"/wiki/{WIKI}/P").text  # now in the whole-page cache

        (tmp_path / "y.pub").write_text(y.public)
        assert run_cli(d, "key", "import", "y", str(tmp_path / "y.pub")).code == 0
        eventually(lambda: raw(client, "P") == "older P", "key import")
        eventually(lambda: "older P" in client.get(f"/wiki/{WIKI}/P").text, "key import, on a cached page")

        assert run_cli(d, "trust", "subscribe", f"{z.public}/c").code == 0
        eventually(lambda: raw(client, "Q") == "older Q", "trust subscribe")

        assert run_cli(d, "view", "default", "tv").code == 0
        eventually(lambda: raw(client, "R") == "older R", "view default")
        assert raw(client, "Q") == "newer Q"  # the view "default" is no longer the default
        assert raw(client, "P") == "older P"  # imported keys count in every view
    finally:
        stop_server(proc, client)


# -- the communities a node issues ----------------------------------------------------------

def test_a_community_the_node_issues_is_trusted_by_its_default_view_from_creation(tmp_path):
    node = Node.init(tmp_path / "node")
    reviewer, other = Outsider(), Outsider()
    try:
        node.user_key()
        node.wiki(WIKI)
        two_heads(node, "P", other, reviewer)
    finally:
        node.close()
    d = tmp_path / "node"
    created = run_cli(d, "trust", "create", "rev")
    assert created.code == 0 and "this node's default view trusts its members" in created.out, str(created)
    assert run_cli(d, "trust", "add", "rev", reviewer.public, "--role", "reviewer").code == 0
    # No `trust subscribe`: the reviewer's head shows at once, and a fork calls it reviewed.
    assert run_cli(d, "show", WIKI, "P").out == "older P"
    assert "/rev" in run_cli(d, "view", "list").out
    forked = run_cli(d, "fork", WIKI, "w2")
    assert forked.out.strip() == "wiki 'w2' forked from 'w': 1 pages", str(forked)

    off = run_cli(d, "view", "own-communities", "off")
    assert off.code == 0 and "only its subscribed communities" in off.out, str(off)
    assert run_cli(d, "show", WIKI, "P").out == "newer P"
    forked = run_cli(d, "fork", WIKI, "w3")
    assert forked.out.strip() == "wiki 'w3' forked from 'w': 1 pages, 1 of them unreviewed in that view", str(forked)
    assert run_cli(d, "view", "own-communities", "on").code == 0
    assert run_cli(d, "show", WIKI, "P").out == "older P"


# -- set-up ---------------------------------------------------------------------------------

def test_building_the_project_shows_no_warning_about_our_pyproject(tmp_path):
    """The build backend pip picks for pyproject.toml reads it without a word (setuptools warned
    three times that `project.license` as a table is deprecated)."""
    (tmp_path / "src" / "wikipeer").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "README.md", tmp_path)
    shutil.copy(ROOT / "src" / "wikipeer" / "__init__.py", tmp_path / "src" / "wikipeer")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                            "-w", str(tmp_path / "out"), str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "warning" not in built.stderr.lower(), built.stderr
    assert "deprecat" not in (built.stdout + built.stderr).lower(), built.stdout + built.stderr
    assert len(list((tmp_path / "out").glob("wikipeer-*.whl"))) == 1
