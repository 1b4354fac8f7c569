"""What the browser tests and the web error tests share: a served node, the
Ukrainian sample imported once per session, and headless Chromium.

Loaded as a plugin (``pytest_plugins = ["browser_support"]`` in the test
modules), so its session fixtures are made once however many modules use them.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest

from conftest import CLI, cli_env, free_port, run_cli, wait_serving
from dumps import sample

PROJECT = Path(__file__).resolve().parents[1]
SCREENSHOTS = PROJECT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
UK_WIKI = "ukwiki"
PASSWORD = "correct horse battery"
SERVER_START_SECONDS = 30

_LINK = re.compile(r"\[\[([^\[\]|#]+)")
_WORD = re.compile(r"\b[а-яіїєґА-ЯІЇЄҐʼ']{7,}\b")


# -- a served node ----------------------------------------------------------

@dataclass
class Server:
    """A running `wikipeer serve` on 127.0.0.1."""

    base: str
    node_dir: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""


@contextmanager
def serve(node_dir: Path) -> Iterator[Server]:
    """Run `wikipeer --node NODE_DIR serve` on a free port until the block ends; the process is always killed."""
    port = free_port()
    log = node_dir.parent / f"serve-{port}.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen([*CLI, "--node", str(node_dir), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=cli_env())
    server = Server(f"http://127.0.0.1:{port}", node_dir, log)
    try:
        with httpx.Client(base_url=server.base, timeout=5) as client:
            wait_serving(proc, client, time.monotonic() + SERVER_START_SECONDS, log=server.log_text)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the Ukrainian sample -----------------------------------------------------

@dataclass
class UkArticle:
    """A main-namespace article of the sample chosen from what the store holds, never from hard-coded text."""

    title: str
    linked: set[str] = field(default_factory=set)  # titles of held, non-redirect pages it links to
    word: str = ""  # a rare word of its text that the search finds it by


def pick_article(node_dir: Path, wiki: str = UK_WIKI) -> UkArticle:
    """The first article (by title) linking to pages the node holds, with a word to search it by."""
    from wikipeer.model.title import BadTitle, normalize_title
    from wikipeer.node import Node

    node = Node.open(node_dir)
    try:
        store, config = node.store, node.wiki_or_default(wiki)
        for row in store.pages(wiki):
            head = store.heads(row.id)[0]
            if row.ns != 0 or head.origin.get("redirect"):
                continue
            text = store.revision_text(head)
            names = {}
            for match in _LINK.finditer(text):
                try:
                    name = normalize_title(config, html.unescape(match.group(1)))
                except BadTitle:
                    continue
                if name.ns == 0 and name.full != config.full_title(row.ns, row.title):
                    names[name.full] = (name.ns, name.text)
            held = store.existing_pages(wiki, list(names.values()))
            linked = set()
            for full, (ns, text_) in names.items():
                if (ns, text_) in held and not store.heads(store.page(wiki, ns, text_).id)[0].origin.get("redirect"):
                    linked.add(full)
            if not linked:
                continue
            for word in sorted(set(_WORD.findall(text))):
                hits = store.search(word, limit=50)
                if 0 < len(hits) <= 5 and any(p.id == row.id for p, _ in hits):
                    return UkArticle(config.full_title(row.ns, row.title), linked, word)
        raise AssertionError(f"no article of {wiki} links to a page the node holds and has a rare word")
    finally:
        node.close()


@dataclass
class UkNode:
    dir: Path
    article: UkArticle


@pytest.fixture(scope="session")
def uk_node(tmp_path_factory) -> UkNode:
    """A node with the truncated Ukrainian sample imported (once per session)."""
    directory = tmp_path_factory.mktemp("ukwiki") / "node"
    init = run_cli(directory, "init")
    assert init.code == 0, str(init)
    result = run_cli(directory, "import", "--wait-index", str(sample(UK_WIKI)), timeout=300)  # searched next
    # The sample is cut off mid-page: exit 3, every complete page kept.
    assert result.code == 3 and "cut off" in result.err, str(result)
    assert re.search(r"imported (\d{3}) pages", result.out), str(result)
    return UkNode(directory, pick_article(directory))


@pytest.fixture(scope="session")
def uk_server(uk_node) -> Iterator[Server]:
    """The Ukrainian node served for the whole session."""
    with serve(uk_node.dir) as server:
        yield server


def unique_name(prefix: str = "tester") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- headless Chromium ------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    if not CHROMIUM.exists() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing: no executable {CHROMIUM}. Install the Debian package `chromium` "
                    "(scripts/system-deps.sh does it).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"Playwright for Python is missing ({exc}): install the project's test extra (pip install -e '.[test]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser page with what it saw: dialogs opened and console messages."""

    page: object
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def open_tab(browser, base_url: str) -> Iterator[Tab]:
    """A fresh context (no cookies) and page on ``base_url``; every dialog is recorded and dismissed."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    # Nothing leaves 127.0.0.1: a request for any other host fails at once.
    context.route(lambda url: not url.startswith(base_url + "/"), lambda route: route.abort())
    page = context.new_page()
    tab = Tab(page)

    def on_dialog(dialog) -> None:
        tab.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda msg: tab.console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()


def screenshot(page, name: str) -> Path:
    """A full-page PNG under build/screenshots/, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if path.exists():
        path.unlink()
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_png(path: Path, min_bytes: int = 5_000) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 800 and height >= 300, f"{path}: {width}x{height}"
    assert len(data) >= min_bytes, f"{path}: only {len(data)} bytes"


def page_path(wiki: str, title: str) -> str:
    """A page's URL path, as the app writes it (spaces become underscores)."""
    return f"/wiki/{quote(wiki)}/{quote(title.replace(' ', '_'))}"


def title_of(href: str, wiki: str) -> str | None:
    """The page title a link of ``wiki`` points at, or None for any other link."""
    path = unquote(urlsplit(href).path)
    prefix = f"/wiki/{wiki}/"
    return path[len(prefix):].replace("_", " ") if path.startswith(prefix) else None
