"""The 404 of a page or a wiki the node does not hold, naming the nearest it does hold (with links)."""

from __future__ import annotations

from wikipeer.model.title import Title
from wikipeer.store.nearest import did_you_mean, nearest_titles, nearest_wikis
from wikipeer.store.revlists import holds_wiki
from wikipeer.urls import page_url
from wikipeer.web.errors import Missing
from wikipeer.web.site import Site


def unknown_wiki(site: Site, wiki: str, full_title: str) -> Missing | None:
    """The error for a URL naming a wiki the node does not hold (None when it holds it): the nearest wikis,
    each linked to the same page in it."""
    store = site.node.store
    if holds_wiki(store, wiki):
        return None
    near = nearest_wikis(store, wiki)
    return Missing(f"This node holds no wiki {wiki!r}{did_you_mean(near)}; {_held(store.wikis())}.",
                   "No such wiki", [(w, page_url(w, full_title)) for w in near])


def missing_page(site: Site, wiki: str, name: Title) -> Missing:
    """The error for a page the node does not hold: an unknown wiki is named as that, else the nearest titles."""
    error = unknown_wiki(site, wiki, name.full)
    if error is not None:
        return error
    config = site.node.wiki_or_default(wiki)
    near = [config.full_title(name.ns, t) for t in nearest_titles(site.node.store, wiki, name.ns, name.text)]
    return Missing(f"There is no page {name.full!r} in the wiki {wiki!r} on this node{did_you_mean(near)}.",
                   "No such page", [(t, page_url(wiki, t)) for t in near])


def _held(wikis: list[str]) -> str:
    if not wikis:
        return "it holds none yet"
    if len(wikis) > 10:
        return f"it holds {len(wikis)} wikis"
    return f"it holds {', '.join(wikis)}"
