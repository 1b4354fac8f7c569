"""A page of a node as a ZIM entry: rendered by the node's renderer, links made relative inside the ZIM.

Paths inside the ZIM: a page is its full title with underscores (``Talk:Foo_bar``), a file is
``_files/NAME``, our stylesheet ``_res/wiki.css`` (a title never starts with ``_``, so they cannot
collide). A link to a page the ZIM lacks (not held, or of a namespace left out) is a red link without
an ``href``, so no link leads out of the file. Each rendering also says which titles it used
(templates and modules, the files it shows, the red links it drew, a redirect's target): ``--since``
renders a page again when one of those changed (formats/zim_since.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from wikipeer.model.media import NS_FILE
from wikipeer.model.title import BadTitle, Title, normalize_title
from wikipeer.reading import WikiReader, revision_of
from wikipeer.render import render
from wikipeer.render.context import FileMeta
from wikipeer.render.langtags import direction
from wikipeer.render.redirect import redirect_target
from wikipeer.store.records import RevInfo

CSS_PATH = "_res/wiki.css"
FILES = "_files/"
_SAFE = "/:,()'!*;=@$&+-._~"
_RED_HREF = re.compile(r'<a href="[^"]*"([^>]*\sclass="new")')
_FILE_MARK = "/_zim_file_/"
"""What a file's URL starts with while rendering (the sanitizer keeps only images at a path starting
with ``/``); made relative once the page is rendered."""


def page_path(full_title: str) -> str:
    """A page's path in the ZIM."""
    return full_title.replace(" ", "_")


def file_path(name: str) -> str:
    """A file's path in the ZIM (``name`` without ``File:``)."""
    return FILES + name.replace(" ", "_")


def relative(from_path: str, to_path: str) -> str:
    """The URL of ``to_path`` as the entry at ``from_path`` links to it (``./`` first, so that
    ``Talk:Foo`` is never read as a URL scheme)."""
    return ("../" * from_path.count("/") or "./") + quote(to_path, safe=_SAFE)


@dataclass(slots=True)
class ZimPage:
    """A page rendered for the ZIM: its HTML, and the titles whose change makes it stale."""

    html: bytes
    uses: set[str] = field(default_factory=set)


@dataclass(slots=True)
class ZimRenderer:
    """Renders pages of one wiki for a ZIM holding the namespaces ``namespaces``."""

    reader: WikiReader
    namespaces: frozenset[int]

    def title(self, raw: str, ns: int | None = None) -> Title | None:
        try:
            return normalize_title(self.reader.config, raw, ns)
        except BadTitle:
            return None

    def redirect(self, text: str) -> str | None:
        """The full title a redirect page leads to; None when ``text`` is no redirect."""
        target = redirect_target(self.reader.config, text)
        return None if target is None else target.full

    def render(self, full_title: str, rev: RevInfo, text: str) -> ZimPage:
        """The page's HTML document, as the web page renders its body."""
        here = page_path(full_title)
        uses: set[str] = set()
        context = self.reader.context(full_title)
        context.revision = revision_of(rev)
        context.href = lambda target: self._href(here, target)
        context.exists = lambda titles: self._exists(titles, uses)
        context.template = lambda name: self._template(name, uses)
        context.file = lambda name: self._file(name, uses)
        context.upload_url = lambda name: ""
        rendered = render(text, context)
        body = _RED_HREF.sub(r"<a\1", rendered.html).replace(_FILE_MARK, relative(here, FILES))
        config = self.reader.config
        cats = ""
        if rendered.categories:
            label = html.escape(config.namespaces.get(14, "Category"))
            cats = f'<div class="catlinks">{label}: ' + " · ".join(html.escape(c) for c in rendered.categories) + "</div>"
        lang, name = html.escape(config.lang), html.escape(full_title)
        doc = (f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction(config.lang)}"><head><meta charset="utf-8">'
               f'<title>{name}</title><link rel="stylesheet" href="{relative(here, CSS_PATH)}"></head>'
               f'<body><main id="content"><h1 id="firstHeading">{name}</h1>'
               f'<div class="content">{body}</div>{cats}</main></body></html>\n')
        return ZimPage(doc.encode("utf-8"), uses)

    def _href(self, here: str, target: str) -> str:
        """A link to a page in the file; to a file itself for a file page left out; else nowhere."""
        title = self.title(target.partition("#")[0])
        if title is None or title.ns in self.namespaces:
            return relative(here, page_path(target))
        return relative(here, file_path(title.text)) if title.ns == NS_FILE else "#"

    def _exists(self, titles: Iterable[str], uses: set[str]) -> set[str]:
        """Titles held and in the ZIM's namespaces; the others are red links, remembered in ``uses``."""
        named = {raw: self.title(raw) for raw in titles}
        inside = [raw for raw, t in named.items() if t is not None and t.ns in self.namespaces]
        found = self.reader.exists(inside)
        uses.update(t.full for raw, t in named.items() if t is not None and raw not in found)
        return found

    def _template(self, name: str, uses: set[str]) -> str | None:
        title = self.title(name)
        if title is not None:
            uses.add(title.full)
        return self.reader.template(name)

    def _file(self, name: str, uses: set[str]) -> FileMeta | None:
        title = self.title(name, NS_FILE)
        if title is None:
            return None
        uses.add(title.full)
        info = self.reader.file_version(name)
        if info is None:
            return None
        url = _FILE_MARK + quote(title.text.replace(" ", "_"), safe=_SAFE)
        return FileMeta(info.width, info.height, info.mime, url, url)
