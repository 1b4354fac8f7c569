"""Pages rendered for the API (``action=parse``, ``prop=templates``): the node's renderer, the API's view.

The renderer reads the wiki through wikipeer.reading's WikiReader, the one the
web pages use, with the heads of the view the call chooses: templates,
``{{#invoke:}}`` modules, red links and ``[[File:]]`` images come out as on
the node's own page, and links point at the node's pages.
"""

from __future__ import annotations

from collections.abc import Iterable

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.reading import WikiReader
from wikipeer.render import Rendered, render


def reader(call: ApiCall) -> WikiReader:
    """The call's wiki as the renderer reads it, by the heads of the call's view."""
    return WikiReader(call.node, call.wiki, call.shown_view(), server=str(call.state.get("server", "")))


def render_text(call: ApiCall, full_title: str, text: str, asked: set[str] | None = None) -> Rendered:
    """``text`` rendered as the page ``full_title`` of the call's wiki; ``asked`` collects the titles it linked."""
    wiki = reader(call)
    context = wiki.context(full_title)
    if asked is not None:
        def exists(titles: Iterable[str]) -> set[str]:
            titles = list(titles)
            asked.update(titles)
            return wiki.exists(titles)
        context.exists = exists
    return render(text, context)


def existing_titles(call: ApiCall, titles: Iterable[str]) -> set[str]:
    """Which of ``titles`` the node holds in the call's wiki."""
    return reader(call).exists(titles)
