"""Write a wiki of a node as a ZIM file for Kiwix (python-libzim), whole or refreshed from an older one.

Every page of the chosen namespaces at the head the view shows, rendered as the web page renders it
(formats/zim_pages.py); redirect pages as ZIM redirects; the current version of every file the node
holds; our stylesheet; the title and full-text indexes; the main page; the illustration and openZIM's
metadata (formats/zim_meta.py). With ``since`` (an earlier ZIM of ours) only stale pages are rendered
and every other entry is copied from it (formats/zim_since.py). The file appears under its name only
when complete (formats/output.py ``atomic_path``).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from wikipeer.formats.output import atomic_path
from wikipeer.formats.zim_meta import PAGES_KEY, MadeFrom, illustration, iso639_3, metadata, trusted_digest
from wikipeer.formats.zim_pages import CSS_PATH, ZimRenderer, file_path, page_path
from wikipeer.formats.zim_since import LEFT_OUT, PAGE, REDIRECT, OldZim, PageRecords
from wikipeer.model.media import NS_FILE
from wikipeer.model.title import WikiConfig, main_page_title
from wikipeer.node import Node
from wikipeer.reading import WikiReader
from wikipeer.store import hidden
from wikipeer.store.records import PageRow

Progress = Callable[[int, int], None]
"""``progress(done, of)``: pages and files written so far, of all."""

COMPRESSED_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "video/", "audio/")
"""Bytes already compressed: libzim stores them as they are."""


@dataclass(frozen=True, slots=True)
class ZimOptions:
    """What to export: the view (None: the node's default), the namespaces, an older ZIM to refresh."""

    view: str | None = None
    namespaces: frozenset[int] = frozenset({0})
    since: Path | None = None


@dataclass(slots=True)
class ZimSummary:
    """What went into the file, and how much of it was rendered now rather than copied."""

    pages: int = 0
    redirects: int = 0
    files: int = 0
    rendered: int = 0
    copied: int = 0
    full_reason: str | None = None
    """With ``since``: why every page was rendered all the same."""


@functools.cache
def _item_class() -> type:
    from libzim.writer import Hint, Item, StringProvider

    class ZimItem(Item):
        """One entry: its bytes held in memory until libzim takes them."""

        def __init__(self, path: str, title: str, mimetype: str, content: bytes, front: bool) -> None:
            super().__init__()
            self.path, self.title, self.mimetype, self.content, self.front = path, title, mimetype, content, front

        def get_path(self) -> str:
            return self.path

        def get_title(self) -> str:
            return self.title

        def get_mimetype(self) -> str:
            return self.mimetype

        def get_contentprovider(self) -> StringProvider:
            return StringProvider(self.content)

        def get_hints(self) -> dict:
            compress = not self.mimetype.startswith(COMPRESSED_TYPES)
            return {Hint.FRONT_ARTICLE: self.front, Hint.COMPRESS: compress}

    return ZimItem


def _stylesheet() -> bytes:
    return (resources.files("wikipeer.web") / "static" / "wiki.css").read_bytes()


@dataclass(slots=True)
class _Writer:
    """One export in progress: the node, the ZIM being written and what has gone into it."""

    node: Node
    creator: object  # libzim.writer.Creator
    renderer: ZimRenderer
    old: OldZim | None
    stale: set[str]
    summary: ZimSummary = field(default_factory=ZimSummary)
    records: PageRecords = field(default_factory=PageRecords)
    redirects: list[tuple[str, str, str]] = field(default_factory=list)
    added: set[str] = field(default_factory=set)

    def add(self, path: str, title: str, mimetype: str, content: bytes, front: bool) -> None:
        self.creator.add_item(_item_class()(path, title, mimetype, content, front))  # type: ignore[attr-defined]

    def page(self, page: PageRow, full: str) -> None:
        path = page_path(full)
        kept = self.old.records.kinds.get(path) if self.old is not None and path not in self.stale else None
        if kept is not None and (kept[0] != PAGE or self._copy(path, full)):
            kind, target = kept
            if kind == REDIRECT and target is not None:
                self.redirects.append((path, full, target))
            self.records.add(path, kind, target, self.old.used.get(path, set()))  # type: ignore[union-attr]
            self.summary.copied += 1
            return
        self._render(page, full, path)

    def _copy(self, path: str, full: str) -> bool:
        content = self.old.entry_bytes(path) if self.old is not None else None
        if content is None:
            return False
        self.add(path, full, "text/html", content, True)
        self.added.add(path)
        self.summary.pages += 1
        return True

    def _render(self, page: PageRow, full: str, path: str) -> None:
        store = self.node.store
        head = self.renderer.reader.view.shown(store, page.id)  # type: ignore[union-attr]
        if head is None or hidden.is_hidden_item(store, head.id):
            self.records.add(path, LEFT_OUT, None, set())
            return
        text = store.revision_text(head)
        self.summary.rendered += 1
        target = self.renderer.redirect(text)
        if target is not None:
            self.redirects.append((path, full, target))
            self.records.add(path, REDIRECT, target, {target})
            return
        rendered = self.renderer.render(full, head, text)
        self.add(path, full, "text/html", rendered.html, True)
        self.added.add(path)
        self.summary.pages += 1
        self.records.add(path, PAGE, None, rendered.uses)

    def finish_redirects(self) -> None:
        """Redirects to a page in the file become ZIM redirects; the rest lead nowhere and are left out."""
        from libzim.writer import Hint

        for path, full, target in self.redirects:
            if page_path(target) in self.added:
                self.creator.add_redirection(path, full, page_path(target), {Hint.FRONT_ARTICLE: True})  # type: ignore[attr-defined]
                self.summary.redirects += 1
            else:
                self.records.kinds[path] = (LEFT_OUT, target)

    def file(self, page: PageRow, changed: set[str]) -> None:
        store = self.node.store
        info = store.current_file(page.id)
        if info is None or hidden.is_hidden_item(store, info.id):
            return
        path = file_path(page.title)
        full = self.renderer.reader.config.full_title(NS_FILE, page.title)
        content = self.old.entry_bytes(path) if self.old is not None and full not in changed else None
        if content is None:
            content = b"".join(store.file_chunks(info))
        self.add(path, page.title, info.mime, content, False)
        self.summary.files += 1


@contextmanager
def _stdout_silenced() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def _made_from(node: Node, wiki: str, options: ZimOptions) -> MadeFrom:
    view = node.view(options.view)
    return MadeFrom(wiki=wiki, view=options.view or "", trusted=trusted_digest(view.trusted),
                    seq=node.store.last_seq(), hidden=hidden.changes(node.store),
                    namespaces=tuple(sorted(options.namespaces)))


def _base(config: WikiConfig, made: MadeFrom, since: Path | None) -> tuple[OldZim | None, str | None]:
    """The older ZIM to copy from (None: render every page), and why every page is rendered all the same."""
    old = OldZim.open(since, config.name) if since is not None else None
    reason = old.full_render_reason(made) if old is not None else None
    return (old if reason is None else None), reason


def _write(writer: _Writer, pages: list[PageRow], files: list[PageRow], changed: set[str],
           progress: Progress | None) -> None:
    """Every page, redirect and file, then the stylesheet and the main page."""
    config = writer.renderer.reader.config
    total = len(pages) + len(files)
    for done, page in enumerate(pages, 1):
        writer.page(page, config.full_title(page.ns, page.title))
        if progress is not None:
            progress(done, total)
    writer.finish_redirects()
    for done, page in enumerate(files, len(pages) + 1):
        writer.file(page, changed)
        if progress is not None:
            progress(done, total)
    writer.add(CSS_PATH, "", "text/css", _stylesheet(), False)
    main = page_path(main_page_title(config))
    writer.creator.set_mainpath(main if main in writer.added else min(writer.added, default=CSS_PATH))  # type: ignore[attr-defined]


def export_zim(node: Node, wiki: str, out: Path, options: ZimOptions, progress: Progress | None = None) -> ZimSummary:
    """Write the ZIM of ``wiki`` to ``out``; returns what went into it. UserError for a bad ``since``."""
    from libzim.writer import Creator

    store = node.store
    config = node.wiki_or_default(wiki)
    with store.reading():
        made = _made_from(node, wiki, options)
        base, reason = _base(config, made, options.since)
        changed = base.changed(store, config, made) if base is not None else set()
        gone = hidden.hidden_pages(store)
        every = [p for p in store.pages(wiki) if p.id not in gone]
        renderer = ZimRenderer(WikiReader(node, config, node.view(options.view)), frozenset(options.namespaces))
        with atomic_path(out) as tmp:
            creator = Creator(tmp).config_indexing(True, iso639_3(config.lang))
            creator.__enter__()
            try:
                writer = _Writer(node, creator, renderer, base, base.stale(changed) if base is not None else set())
                writer.summary.full_reason = reason
                _write(writer, [p for p in every if p.ns in options.namespaces],
                       [p for p in every if p.ns == NS_FILE], changed, progress)
                creator.add_illustration(48, illustration())
                for name, value in metadata(config, made).items():
                    creator.add_metadata(name, value)
                creator.add_metadata(PAGES_KEY, writer.records.to_json())
            finally:
                # Finished even when interrupted: an unfinished libzim creator deadlocks its worker threads
                # (waiting for the interpreter) on the way out; atomic_path then removes what it wrote.
                with _stdout_silenced():  # libzim prints its steps ("Resolve redirect") on stdout
                    creator.__exit__(None, None, None)
    return writer.summary
