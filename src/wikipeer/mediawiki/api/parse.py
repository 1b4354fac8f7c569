"""``action=parse``: a page, a revision or a given text rendered by the node's own renderer.

What MediaWiki's parser adds that ours does not make (the limit report,
edit-section links, language variants) is absent; ``prop`` values the node
cannot fill (images, modules, indicators...) answer empty lists.
"""

from __future__ import annotations

import html
from typing import Any

from wikipeer.errors import NotFound
from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.errors import ApiError
from wikipeer.mediawiki.api.output import content_key
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.reading import current
from wikipeer.mediawiki.api.registry import Module, register
from wikipeer.mediawiki.api.rendering import existing_titles, render_text
from wikipeer.mediawiki.api.sections import get_section, headings
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.render.redirect import redirect_target
from wikipeer.store import hidden
from wikipeer.store.records import RevInfo
from wikipeer.store.revlists import revision_pages

PROPS = ("text", "langlinks", "categories", "categorieshtml", "links", "templates", "images", "externallinks",
         "sections", "revid", "displaytitle", "subtitle", "headhtml", "modules", "jsconfigvars",
         "encodedjsconfigvars", "indicators", "iwlinks", "wikitext", "properties", "limitreportdata",
         "limitreporthtml", "parsetree", "parsewarnings", "parsewarningshtml")
DEFAULT_PROPS = "text|langlinks|categories|links|templates|images|externallinks|sections|revid|displaytitle|" \
                "iwlinks|properties|parsewarnings"
EMPTY_LISTS = ("images", "externallinks", "iwlinks", "properties", "modules", "indicators", "parsewarnings")


def run(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    sources = [n for n in ("page", "pageid", "oldid", "text") if params[n] is not None]
    if len(sources) > 1:
        raise ApiError("invalidparammix", f'The parameters "{sources[0]}" and "{sources[1]}" can not be used '
                                          "together.")
    out: dict[str, Any] = {}
    if params["text"] is not None or not sources:
        title, text, rev, page_id = _title(call, params["title"] or "API"), params["text"] or "", None, 0
    else:
        title, rev, page_id = _revision(call, params, out)
        text = call.node.store.revision_text(rev)
    if params["section"] is not None:
        text = _section(text, params["section"])
    out = {"title": title, "pageid": page_id, **({"revid": rev.id} if rev else {}), **out}
    out.update(_props(call, params["prop"], title, text))
    return {"parse": out}


def _title(call: ApiCall, raw: str) -> str:
    try:
        return normalize_title(call.wiki, raw).full
    except BadTitle:
        raise ApiError("invalidtitle", f'Bad title "{raw}".') from None


def _revision(call: ApiCall, params: dict[str, Any], out: dict[str, Any]) -> tuple[str, RevInfo, int]:
    """The revision to parse (``oldid``, or the shown head of ``page``/``pageid``), its title and page id."""
    store = call.node.store
    if params["oldid"] is not None:
        page_id = revision_pages(store, [params["oldid"]]).get(params["oldid"])
        row = store.page_by_id(page_id) if page_id is not None else None
        if row is None or row.wiki != call.wiki.name:
            raise ApiError("nosuchrevid", f"There is no revision with ID {params['oldid']}.")
        if hidden.is_hidden_item(store, params["oldid"]):  # MediaWiki's answer for a deleted revision's text
            raise ApiError("permissiondenied", f"The text of revision {params['oldid']} has been hidden.")
        return call.wiki.full_title(row.ns, row.title), store.revision_by_id(params["oldid"]), row.id
    if params["pageid"] is not None:
        try:
            row = store.page_by_id(params["pageid"])
        except NotFound:
            raise ApiError("nosuchpageid", f"There is no page with ID {params['pageid']}.") from None
    else:
        name = normalize_title(call.wiki, _title(call, params["page"]))
        row = store.page(call.wiki.name, name.ns, name.text)
    head = current(call, row.id) if row is not None and row.wiki == call.wiki.name else None
    if head is None:
        raise ApiError("missingtitle", "The page you specified doesn't exist.")
    target = redirect_target(call.wiki, store.revision_text(head)) if params["redirects"] else None
    if target is not None:
        target_name = normalize_title(call.wiki, target.full)
        target_row = store.page(call.wiki.name, target_name.ns, target_name.text)
        target_head = current(call, target_row.id) if target_row else None
        if target_head is not None:
            out["redirects"] = [{"from": call.wiki.full_title(row.ns, row.title), "to": target_name.full}]
            return target_name.full, target_head, target_row.id
    return call.wiki.full_title(row.ns, row.title), head, row.id


def _section(text: str, section: str) -> str:
    part = get_section(text, int(section)) if section.isdigit() else None
    if part is None:
        raise ApiError("nosuchsection", f"There is no section {section} in the page.")
    return part


def _props(call: ApiCall, props: list[str], title: str, text: str) -> dict[str, Any]:
    asked: set[str] = set()
    rendered = render_text(call, title, text, asked=asked)
    out: dict[str, Any] = {}
    if "text" in props:
        out["text"] = {content_key("text"): rendered.html}  # the renderer wraps it in mw-parser-output already
    if "langlinks" in props:
        out["langlinks"] = [{"lang": link.split(":", 1)[0], content_key("title"): link.split(":", 1)[1]}
                            for link in rendered.language_links]
    if "categories" in props:
        out["categories"] = [{"sortkey": "", content_key("category"): c.replace(" ", "_")}
                             for c in rendered.categories]
    if "links" in props or "templates" in props:
        out.update(_links(call, props, asked, rendered.templates))
    if "sections" in props:
        out["sections"] = _sections(title, text)
    if "displaytitle" in props:
        out["displaytitle"] = f'<span class="mw-page-title-main">{html.escape(title)}</span>'
    if "wikitext" in props:
        out["wikitext"] = {content_key("wikitext"): text}
    for name in EMPTY_LISTS:
        if name in props:
            out[name] = []
    return _flatten(call, out)


def _links(call: ApiCall, props: list[str], asked: set[str], templates: list[str]) -> dict[str, Any]:
    existing = existing_titles(call, list(asked) + templates)
    out: dict[str, Any] = {}

    def entries(titles, keep) -> list[dict[str, Any]]:
        found = []
        for title in sorted(set(titles)):
            try:
                name = normalize_title(call.wiki, title)
            except BadTitle:
                continue
            if keep(name.ns):
                found.append({"ns": name.ns, "exists": title in existing, content_key("title"): name.full})
        return found

    if "links" in props:
        out["links"] = entries(asked, lambda ns: ns not in (6, 14))
    if "templates" in props:
        out["templates"] = entries(templates, lambda ns: True)
    return out


def _sections(title: str, text: str) -> list[dict[str, Any]]:
    """The headings as MediaWiki's table of contents numbers them (``1``, ``1.1``, ``2``...)."""
    out: list[dict[str, Any]] = []
    levels: list[int] = []  # the heading level at each depth of the table of contents
    numbers: list[int] = []  # the count at each depth
    for index, heading in enumerate(headings(text), start=1):
        popped = 0
        while levels and levels[-1] > heading.level:
            levels.pop()
            popped = numbers.pop()
        if levels and levels[-1] == heading.level:
            numbers[-1] += 1
        elif not levels and popped:  # back out to the top after deeper headings: the next top-level number
            levels.append(heading.level)
            numbers.append(popped + 1)
        else:
            levels.append(heading.level)
            numbers.append(1)
        out.append({"toclevel": len(levels), "level": str(heading.level), "line": heading.title,
                    "number": ".".join(map(str, numbers)), "index": str(index),
                    "fromtitle": title.replace(" ", "_"), "byteoffset": len(text[:heading.start].encode()),
                    "anchor": heading.title.replace(" ", "_")})
    return out


def _flatten(call: ApiCall, out: dict[str, Any]) -> dict[str, Any]:
    """Format version 2 writes ``text`` and ``wikitext`` as plain strings, not objects."""
    if call.formatversion == 1:
        return out
    for name in ("text", "wikitext"):
        if name in out:
            out[name] = out[name][content_key(name)]
    return out


register(Module("parse", "action", "", (
    Param("title"),
    Param("text", "text"),
    Param("revid", "integer"),
    Param("summary"),
    Param("page"),
    Param("pageid", "integer"),
    Param("redirects", "boolean"),
    Param("oldid", "integer"),
    Param("prop", multi=True, values=PROPS, default=DEFAULT_PROPS),
    Param("wrapoutputclass", default="mw-parser-output"),
    Param("pst", "boolean"),
    Param("onlypst", "boolean"),
    Param("section"),
    Param("sectiontitle"),
    Param("disablelimitreport", "boolean"),
    Param("disableeditsection", "boolean"),
    Param("disabletoc", "boolean"),
    Param("preview", "boolean"),
    Param("useskin"),
    Param("contentformat", values=("text/x-wiki",)),
    Param("contentmodel", values=("wikitext",)),
), run, help="Render a page, a revision or a text with the node's renderer."))
