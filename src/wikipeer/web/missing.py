"""The 404 of a page or a wiki the node does not hold, naming the nearest it does hold (with links)."""

from __future__ import annotations

from wikipeer.model.title import Title
from wikipeer.store import nearest
from wikipeer.store.nearest import did_you_mean, nearest_titles
from wikipeer.urls import page_url
from wikipeer.web.errors import Missing
from wikipeer.web.site import Site


def unknown_wiki(site: Site, wiki: str, full_title: str) -> Missing | None:
    """The error for a URL naming a wiki the node does not hold (None when it holds it): the nearest wikis,
    each linked to the same page in it."""
    unknown = nearest.unknown_wiki(site.node.store, wiki)
    if unknown is None:
        return None
    return Missing(as_sentence(unknown.sentence), "No such wiki", [(w, page_url(w, full_title)) for w in unknown.near])


def missing_page(site: Site, wiki: str, name: Title) -> Missing:
    """The error for a page the node does not hold: an unknown wiki is named as that, else the nearest titles."""
    error = unknown_wiki(site, wiki, name.full)
    if error is not None:
        return error
    config = site.node.wiki_or_default(wiki)
    near = [config.full_title(name.ns, t) for t in nearest_titles(site.node.store, wiki, name.ns, name.text)]
    return Missing(f"There is no page {name.full!r} in the wiki {wiki!r} on this node{did_you_mean(near)}.",
                   "No such page", [(t, page_url(wiki, t)) for t in near])


def as_sentence(text: str) -> str:
    """A message of the layers below (lower case, no full stop, as the CLI prints it) as a page's sentence."""
    return text[:1].upper() + text[1:] + "."
