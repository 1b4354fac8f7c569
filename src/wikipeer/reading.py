"""A wiki of a node as the renderer reads it: which pages exist, what templates and modules say, which files it holds.

The renderer is pure (``wikipeer.render``); a WikiReader hands it the store
through a RenderContext, with the heads a view shows. The web pages
(web/rendering.py, which caches what it renders) and api.php
(mediawiki/api/rendering.py: ``action=parse``, ``prop=templates``) both
render through it, so a page, its templates, its ``{{#invoke:}}`` modules and
its ``[[File:]]`` images come out the same in both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wikipeer.model.media import NS_FILE
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title
from wikipeer.node import Node
from wikipeer.policy.view import View
from wikipeer.render import RenderContext
from wikipeer.render.context import FileMeta, Revision
from wikipeer.store.records import FileInfo, RevInfo
from wikipeer.urls import file_url, page_url, thumb_url, upload_url


def file_meta(wiki: str, name: str, info: FileInfo) -> FileMeta:
    """A held file as the renderer sees it."""
    return FileMeta(info.width, info.height, info.mime, file_url(wiki, name, info.sha256),
                    thumb_url(wiki, name, "{width}", info.sha256))


def revision_of(rev: RevInfo) -> Revision:
    """The revision as REVISION* and CURRENT* read it; REVISIONUSER is the imported user name or
    address, else the author's key."""
    user = str(rev.origin.get("user") or rev.origin.get("ip") or rev.author or "")
    return Revision(id=rev.cid_str, timestamp=rev.ts // 1000, user=user, size=rev.size)


@dataclass(slots=True)
class WikiReader:
    """The pages of one wiki as the renderer asks for them, by the heads ``view`` shows (None: the node's)."""

    node: Node
    config: WikiConfig
    view: View | None = None
    server: str = ""  # the node's URL as the reader reached it ({{SERVER}}), "" when unknown

    def _name(self, full_title: str) -> tuple[int, str] | None:
        try:
            title = normalize_title(self.config, full_title)
        except BadTitle:
            return None
        return title.ns, title.text

    def exists(self, full_titles: Iterable[str]) -> set[str]:
        """Which of these pages the node holds."""
        names = {t: self._name(t) for t in full_titles}
        held = self.node.store.existing_pages(self.config.name, [n for n in names.values() if n])
        return {t for t, n in names.items() if n in held}

    def head(self, full_title: str) -> RevInfo | None:
        """The revision the view shows for a page, if the node holds the page."""
        name = self._name(full_title)
        page = self.node.store.page(self.config.name, *name) if name else None
        view = self.view if self.view is not None else self.node.view()
        return view.shown(self.node.store, page.id) if page else None

    def template(self, full_title: str) -> str | None:
        """The shown text of a template or module, None when the node lacks it."""
        rev = self.head(full_title)
        return self.node.store.revision_text(rev) if rev else None

    def file_version(self, name: str) -> FileInfo | None:
        """The version of ``File:name`` pages show (the newest), if the node holds the file."""
        try:
            title = normalize_title(self.config, name, NS_FILE)
        except BadTitle:
            return None
        page = self.node.store.page(self.config.name, NS_FILE, title.text)
        return self.node.store.current_file(page.id) if page else None

    def file(self, name: str) -> FileMeta | None:
        """A held file as the renderer sees it, None when the node lacks it."""
        info = self.file_version(name)
        return file_meta(self.config.name, name, info) if info else None

    def context(self, full_title: str) -> RenderContext:
        """What the renderer needs to render the page ``full_title`` of this wiki."""
        return RenderContext(config=self.config, title=full_title,
                             href=lambda t: page_url(self.config.name, t),
                             exists=self.exists, template=self.template, file=self.file,
                             upload_url=lambda name: upload_url(self.config.name, name), server=self.server)
