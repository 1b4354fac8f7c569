"""``prop=templates``: the templates each page's shown revision uses, as the renderer found them.

pywikibot asks for it, as ``generator=templates``, before every save (it honours ``{{bots}}``/``{{nobots}}``).
"""

from __future__ import annotations

from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.query import Query
from wikipeer.mediawiki.api.reading import current, full_title
from wikipeer.mediawiki.api.registry import Module, register
from wikipeer.mediawiki.api.rendering import render_text
from wikipeer.model.title import BadTitle, normalize_title

TL_LIMIT = 500


def run(call: ApiCall, params: dict[str, Any], query: Query) -> None:
    store = call.node.store
    for entry in query.existing():
        head = current(call, entry.row.id)
        if head is None:
            continue
        used = render_text(call, full_title(call, entry.row), store.revision_text(head)).templates
        links = []
        for title in used:
            try:
                name = normalize_title(call.wiki, title)
            except BadTitle:
                continue
            if params["namespace"] and name.ns not in params["namespace"]:
                continue
            if params["templates"] and name.full not in params["templates"]:
                continue
            links.append({"ns": name.ns, "title": name.full})
        links.sort(key=lambda link: (link["ns"], link["title"]), reverse=params["dir"] == "descending")
        if links:
            entry.out["templates"] = links[:params["limit"]]


register(Module("templates", "prop", "tl", (
    Param("namespace", "namespace", multi=True),
    Param("limit", "limit", default=10, max=TL_LIMIT, highmax=TL_LIMIT * 10),
    Param("continue"),
    Param("templates", multi=True),
    Param("dir", values=("ascending", "descending"), default="ascending"),
), run, generator=True, help="Templates the shown revision of each page uses (found by rendering it)."))
