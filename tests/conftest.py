"""Shared fixtures: node directories (empty or with the sample wiki), a helper
that runs the real `wikipeer` command in a subprocess, and store helpers
(a dump of every table, signed edits built from a node's keys)."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings

from wikipeer.authoring import edit_blocks
from wikipeer.model.block import Block
from wikipeer.model.objects import Page
from wikipeer.node import Node
from wikipeer.store.store import Store

import pg_server

settings.register_profile(
    "wikipeer", deadline=None, max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("wikipeer")

CLI = [sys.executable, "-m", "wikipeer.cli.main"]


@dataclass
class Result:
    """What one run of the command line did."""

    code: int
    out: str
    err: str
    raw_out: bytes

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def pytest_addoption(parser) -> None:
    parser.addoption("--store", choices=("sqlite", "postgresql"), default="sqlite",
                     help="the store backend the nodes and stores the tests make use (postgresql: a server the "
                          "tests start themselves)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "backends: passes on both store backends; `make test` runs these a second "
                                       "time with --store=postgresql")
    config.addinivalue_line("markers", "sqlite_only: a test of SQLite itself (its query plans, its file, "
                                       "the node directory's disk holding it): left out of --store=postgresql runs")


def pytest_collection_modifyitems(config, items) -> None:
    """On PostgreSQL, tests marked sqlite_only are left out (deselected, so the count says so)."""
    if config.getoption("--store") != "postgresql":
        return
    left_out = [item for item in items if item.get_closest_marker("sqlite_only")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("sqlite_only")]


_PG: pg_server.PgServer | None = None
"""The PostgreSQL server of a --store=postgresql run."""


@pytest.fixture(scope="session", autouse=True)
def store_backend(request):
    """With --store=postgresql: a server of our own, new nodes' stores in it ($WIKIPEER_STORE, which `wikipeer
    init` reads), and every Store a test opens on a path kept in a database standing for that path."""
    global _PG
    if request.config.getoption("--store") != "postgresql":
        yield None
        return
    _PG = pg_server.start_server()
    original = Store.__init__

    def on_postgres(self, path, chain=None, blobs=None, database=None):
        original(self, path, chain, blobs, database if database is not None else _database_of(Path(path)))

    Store.__init__ = on_postgres
    os.environ["WIKIPEER_STORE"] = _PG.url("{node}")
    try:
        yield _PG
    finally:
        Store.__init__ = original
        del os.environ["WIKIPEER_STORE"]
        _PG.stop()
        _PG = None


def _database_of(path: Path) -> str:
    """The database a test's ``Store(path)`` opens on PostgreSQL: a node's own (its config.json names it)
    for ``NODE/store.sqlite``, else one standing for the path."""
    config = path.parent / "config.json"
    if path.name == "store.sqlite" and config.exists():
        url = json.loads(config.read_text()).get("store")
        if url:
            return url
    return _PG.database_for(path)


def sqlite_store(path: Path) -> Store:
    """The SQLite store in the file ``path`` on either backend's run (`migrate --to FILE` made one)."""
    store = Store.__new__(Store)
    _SQLITE_INIT(store, path)
    return store


_SQLITE_INIT = Store.__init__
"""Store's own __init__, which a --store=postgresql run replaces (store_backend)."""


def copy_node(source: Path, target: Path) -> None:
    """A copy of a node directory; on PostgreSQL its database is copied too, and the copy names its own."""
    shutil.copytree(source, target)
    if _PG is None:
        return
    config = json.loads((target / "config.json").read_text())
    source_db = config["store"].split("?")[0].rsplit("/", 1)[1]
    config["store"] = _PG.copy_database(source_db, "c_" + hashlib.sha256(str(target).encode()).hexdigest()[:24])
    (target / "config.json").write_text(json.dumps(config, indent=1))


def store_connect(directory: Path):
    """A new connection to a node's store database, as sqlite3's (on PostgreSQL: the store's own wrapper)."""
    config = json.loads((directory / "config.json").read_text()) if (directory / "config.json").exists() else {}
    if config.get("store"):
        from wikipeer.store.postgres.connection import connect
        return connect(config["store"])
    return sqlite3.connect(directory / "store.sqlite")


@contextmanager
def store_db(directory: Path) -> Iterator:
    """A connection to a node's store database, as sqlite3's (on PostgreSQL: the store's own wrapper), closed after."""
    conn = store_connect(directory)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def holds_store(directory: Path) -> bool:
    """Whether a node's store was made: its SQLite file, or on PostgreSQL the database its config.json names."""
    if _PG is None:
        return (directory / "store.sqlite").exists()
    if not (directory / "config.json").exists() or not json.loads((directory / "config.json").read_text())["store"]:
        return False
    with store_db(directory) as conn:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() is not None


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKIPEER_")}
    if _PG is not None:
        env["WIKIPEER_STORE"] = _PG.url("{node}")
    env["PYTHONIOENCODING"] = "utf-8"
    env["COLUMNS"] = "250"
    env.update(extra or {})
    return env


def run_cli(node: Path | None, *args: str, input: bytes | str | None = None,
            env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    """Run `wikipeer [--node NODE] ARGS...` and return its exit code and output."""
    cmd = [*CLI, *(["--node", str(node)] if node is not None else []), *args]
    data = input.encode("utf-8") if isinstance(input, str) else input
    proc = subprocess.run(cmd, input=data if data is not None else b"", capture_output=True,
                          env=cli_env(env), timeout=timeout)
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"), proc.stdout)


# -- a command on a terminal -------------------------------------------------------------------


def on_a_terminal(node: Path, *args: str) -> tuple[int, str, bytes]:
    """Run a command with stderr on a pseudo-terminal: (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CLI, "--node", str(node), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=cli_env({"TERM": "xterm"}))
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed: the command is done
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read().decode()
    proc.stdout.close()
    os.close(master)
    return proc.wait(timeout=60), out, bytes(shown)


def plain_screen(shown: bytes) -> bytes:
    """What the terminal showed without its control sequences (colours, cursor moves)."""
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", shown)


def assert_user_error(result: Result, *fragments: str) -> None:
    """A user error: exit 2, exactly one line on stderr, no traceback, nothing on stdout."""
    assert result.code == 2, str(result)
    assert "Traceback" not in result.err, str(result)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, str(result)
    assert lines[0].startswith("wikipeer: "), str(result)
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), str(result)


@pytest.fixture(scope="session")
def _sample_template(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("sample-template") / "node"
    result = run_cli(directory, "init", "--sample")
    assert result.code == 0, str(result)
    return directory


@pytest.fixture
def sample_node(_sample_template, tmp_path) -> Path:
    """A node directory of its own holding the sample wiki."""
    target = tmp_path / "sample-node"
    copy_node(_sample_template, target)
    return target


@pytest.fixture
def node_dir(tmp_path) -> Path:
    """An initialised, empty node directory (made through the CLI)."""
    directory = tmp_path / "node"
    result = run_cli(directory, "init")
    assert result.code == 0, str(result)
    return directory


@pytest.fixture
def node(tmp_path):
    """An opened empty node (in-process) with wiki 'w' configured (MediaWiki defaults)."""
    n = Node.init(tmp_path / "inproc-node")
    n.wiki("w")
    yield n
    n.close()


def dump_tables(conn: sqlite3.Connection) -> dict[str, list]:
    """Every row of every table (FTS shadow tables and sqlite_sequence included)."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))


class Author:
    """A node's signing key, to build signed edits without ingesting them."""

    def __init__(self, node: Node, name: str = "me") -> None:
        identity = node.user_key() if name == "me" else node.keyring.get(name)
        self.public = identity.public
        self.key = node.keyring.signing_key(identity.name)

    def edit(self, title: str, text: str, parents: tuple[bytes, ...] = (), ts: int = 1_000,
             wiki: str = "w", summary: str = "edit") -> list[Block]:
        """[page, text, rev, sig] of one signed edit."""
        return edit_blocks(Page(wiki, 0, title), text, parents, summary, self.key, self.public, ts)


@pytest.fixture
def author(node) -> Author:
    return Author(node)


# -- `wikipeer serve` processes ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_server(node_dir: Path, *extra: str) -> tuple[subprocess.Popen, httpx.Client]:
    """A `wikipeer serve` process on a free port and a client for it, not yet waited for."""
    port = free_port()
    proc = subprocess.Popen([*CLI, "--node", str(node_dir), "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env())
    return proc, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)


def wait_serving(proc: subprocess.Popen, client: httpx.Client, deadline: float, path: str = "/status",
                 log=lambda: "") -> None:
    """Poll until the server answers; fail the test if it dies or ``deadline`` (monotonic) passes."""
    while True:
        try:
            client.get(path)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                died = proc.poll() is not None
                error = (proc.stderr.read().decode() if died and proc.stderr else "") or log() or "timeout"
                pytest.fail(f"`wikipeer serve` did not start (exit {proc.poll()}): {error}")
            time.sleep(0.05)  # polling a port that is not open yet: nothing to wait on


def start_server(node_dir: Path, *extra: str) -> tuple[subprocess.Popen, httpx.Client]:
    """A `wikipeer serve` process on a random port, and a client once it answers."""
    proc, client = spawn_server(node_dir, *extra)
    try:
        wait_serving(proc, client, time.monotonic() + 30)
    except BaseException:
        stop_server(proc, client)
        raise
    return proc, client


def stop_server(proc: subprocess.Popen, client: httpx.Client) -> None:
    client.close()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr:
        proc.stderr.close()
