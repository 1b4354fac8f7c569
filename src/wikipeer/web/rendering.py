"""Rendered pages of a node kept in a cache.

The renderer itself is pure (``wikipeer.render``); wikipeer.reading's
WikiReader tells it which pages exist and what the templates say, using the
head the node's view shows (api.php renders through the same reader).
Rendered HTML is kept per revision in ``DIR/cache.sqlite`` together with the
head of every template it consulted, and thrown away when one of those moved.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from wikipeer.reading import WikiReader, file_meta, revision_of
from wikipeer.render import Rendered, render
from wikipeer.render.context import FileMeta
from wikipeer.store.engine_errors import OperationalError
from wikipeer.store.rendered import RenderedFile
from wikipeer.store.records import RevInfo

MAX_CHECKED = 200_000


class RenderCache(RenderedFile):
    """Rendered revisions, valid while every template they used has the same head
    and every page they link to is still there (or still missing).

    A cache only: deleting the file loses nothing but time, and a cache that
    cannot be read or written (a full disk, an I/O error) is a cache that
    holds nothing: the page is rendered and shown all the same.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._warned = threading.Event()
        # Revision -> the store's log position when its dependencies were last checked:
        # while nothing has arrived since, they cannot have changed.
        self._checked: dict[bytes, int] = {}

    def render(self, reader: WikiReader, full_title: str, rev: RevInfo) -> Rendered:
        """The rendering of ``rev``, from the cache when still valid."""
        try:
            cached = self._get(reader, rev)
        except OperationalError as exc:
            self._unusable(exc)
            cached = None
        if cached is not None:
            return cached
        context = reader.context(full_title)
        # REVISION* and CURRENT* read the revision: the cache holds one rendering per revision
        context.revision = revision_of(rev)
        asked: set[str] = set()
        found: set[str] = set()

        def exists(titles: Iterable[str]) -> set[str]:
            titles = list(titles)
            answer = reader.exists(titles)
            asked.update(titles)
            found.update(answer)
            return answer

        files: dict[str, str | None] = {}

        def file(name: str) -> FileMeta | None:
            info = reader.file_version(name)
            files[name] = info.sha256 if info else None
            return file_meta(reader.config.name, name, info) if info else None

        context.exists = exists
        context.file = file
        rendered = render(reader.node.store.revision_text(rev), context)
        try:
            self._put(reader, rev, rendered, sorted(asked), sorted(found), files)
        except OperationalError as exc:
            self._unusable(exc)
        return rendered

    def _unusable(self, exc: OperationalError) -> None:
        """Say once that the cache file cannot be used (not per request: a full disk would flood the log)."""
        if not self._warned.is_set():
            self._warned.set()
            print(f"wikipeer: the render cache {self.path} cannot be used ({exc}): pages are rendered on every "
                  "read until it can", file=sys.stderr)

    def _deps(self, reader: WikiReader, titles: Iterable[str]) -> dict[str, str | None]:
        heads = {t: reader.head(t) for t in titles}
        return {t: (h.cid_str if h else None) for t, h in heads.items()}

    def _get(self, reader: WikiReader, rev: RevInfo) -> Rendered | None:
        row = self.stored(rev.cid)
        if row is None:
            return None
        html, meta = row
        if "files" not in meta:
            return None  # rendered before pages showed files: its File: links are placeholders
        if meta.get("server", "") != reader.server:
            return None  # {{SERVER}} reads the node's URL as the reader reached it: another URL renders anew
        seq = reader.node.store.last_seq()
        if self._checked.get(rev.cid) != seq:
            # A template moved on, or a linked page was created or went away: render again.
            if self._deps(reader, meta["deps"]) != meta["deps"]:
                return None
            if sorted(reader.exists(meta["links"])) != meta["existing"]:
                return None
            if self._file_deps(reader, meta["files"]) != meta["files"]:
                return None  # a file it shows was uploaded, or a new version of one
            self._remember(rev.cid, seq)
        return Rendered(html=html, categories=meta["categories"], templates=list(meta["deps"]),
                        redirect=meta["redirect"], errors=meta["errors"])

    def _remember(self, cid: bytes, seq: int) -> None:
        if len(self._checked) >= MAX_CHECKED:
            self._checked.clear()  # a crude bound: forgetting costs only a check
        self._checked[cid] = seq

    @staticmethod
    def _file_deps(reader: WikiReader, names: Iterable[str]) -> dict[str, str | None]:
        versions = {n: reader.file_version(n) for n in names}
        return {n: (v.sha256 if v else None) for n, v in versions.items()}

    def _put(self, reader: WikiReader, rev: RevInfo, rendered: Rendered, links: list[str],
             existing: list[str], files: dict[str, str | None] | None = None) -> None:
        meta = {"categories": rendered.categories, "redirect": rendered.redirect, "errors": rendered.errors,
                "deps": self._deps(reader, rendered.templates), "links": links,
                "existing": existing, "files": files or {}, "server": reader.server}
        self.keep(rev.cid, rendered.html, meta)
        self._remember(rev.cid, reader.node.store.last_seq())
