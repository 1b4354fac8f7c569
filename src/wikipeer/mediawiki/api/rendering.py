"""Pages rendered for the API (``action=parse``, ``prop=templates``): the node's renderer, the API's view.

The renderer sees the wiki as the API shows it: templates and red links by
the heads of the chosen view. Built as web/rendering.py's WikiReader builds
its context (web/ cannot be imported from here); links point at the node's
own pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.reading import current
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.render import RenderContext, Rendered, render


def render_text(call: ApiCall, full_title: str, text: str) -> Rendered:
    """``text`` rendered as the page ``full_title`` of the call's wiki."""
    return render(text, _context(call, full_title))


def _context(call: ApiCall, full_title: str) -> RenderContext:
    store, wiki = call.node.store, call.wiki

    def name(title: str) -> tuple[int, str] | None:
        try:
            found = normalize_title(wiki, title)
        except BadTitle:
            return None
        return found.ns, found.text

    def exists(titles: Iterable[str]) -> set[str]:
        names = {t: name(t) for t in titles}
        held = store.existing_pages(wiki.name, [n for n in names.values() if n])
        return {t for t, n in names.items() if n in held}

    def template(title: str) -> str | None:
        found = name(title)
        row = store.page(wiki.name, *found) if found else None
        head = current(call, row.id) if row else None
        return store.revision_text(head) if head else None

    return RenderContext(config=wiki, title=full_title, exists=exists, template=template,
                         href=lambda t: call.page_url + quote(t.replace(" ", "_")))
