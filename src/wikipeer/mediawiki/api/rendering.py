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


def render_text(call: ApiCall, full_title: str, text: str, asked: set[str] | None = None) -> Rendered:
    """``text`` rendered as the page ``full_title`` of the call's wiki; ``asked`` collects the titles it linked."""
    return render(text, _context(call, full_title, asked))


def _name(call: ApiCall, title: str) -> tuple[int, str] | None:
    try:
        found = normalize_title(call.wiki, title)
    except BadTitle:
        return None
    return found.ns, found.text


def existing_titles(call: ApiCall, titles: Iterable[str]) -> set[str]:
    """Which of ``titles`` the node holds in the call's wiki."""
    names = {t: _name(call, t) for t in titles}
    held = call.node.store.existing_pages(call.wiki.name, [n for n in names.values() if n])
    return {t for t, n in names.items() if n in held}


def _context(call: ApiCall, full_title: str, asked: set[str] | None) -> RenderContext:
    store = call.node.store

    def exists(titles: Iterable[str]) -> set[str]:
        titles = list(titles)
        if asked is not None:
            asked.update(titles)
        return existing_titles(call, titles)

    def template(title: str) -> str | None:
        found = _name(call, title)
        row = store.page(call.wiki.name, *found) if found else None
        head = current(call, row.id) if row else None
        return store.revision_text(head) if head else None

    return RenderContext(config=call.wiki, title=full_title, exists=exists, template=template,
                         href=lambda t: call.page_url + quote(t.replace(" ", "_")))
