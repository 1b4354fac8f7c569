"""``action=query``: the page set (titles, pageids, revids or a generator) and its submodules.

Submodules are ``meta``, ``prop`` and ``list`` modules of the table. Their handlers:

- meta: ``handler(call, params, query)`` writes into ``query.result``;
- prop: ``handler(call, params, query)`` adds to each ``query.pages[i].out``;
- list: ``handler(call, params, query) -> Listing``, its items (list form) and
  the pages they name (``generator=`` form).

Any of them may call ``query.continue_with(module, {name: value})`` (names with
the module's prefix); the answer then carries MediaWiki's ``continue`` object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.errors import ApiError
from wikipeer.mediawiki.api.params import Param, read_params
from wikipeer.mediawiki.api.reading import current, full_title, hidden_pages
from wikipeer.mediawiki.api.registry import Module, module, names, register
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.render.redirect import redirect_target
from wikipeer.store.records import PageRow
from wikipeer.store.revlists import pages_by_ids, revision_pages

MAX_REDIRECT_HOPS = 1  # MediaWiki resolves one level; double redirects stay as they are


@dataclass(slots=True)
class PageEntry:
    """One page of the answer's page set; ``row`` is None for a missing or invalid one."""

    out: dict[str, Any]
    row: PageRow | None = None
    revids: list[int] = field(default_factory=list)
    key: int = 0


@dataclass(slots=True)
class Listing:
    """What a list module found: its items, and the pages they name (for ``generator=``)."""

    items: list[dict[str, Any]]
    pages: list[PageRow] = field(default_factory=list)
    revids: dict[int, list[int]] = field(default_factory=dict)
    """For generators that give revisions (allrevisions): the revisions of each page, by page id."""


@dataclass(slots=True)
class Query:
    """The state of one ``action=query``."""

    call: ApiCall
    pages: list[PageEntry] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    cont: dict[str, str] = field(default_factory=dict)
    continuing: set[str] = field(default_factory=set)
    generator: str | None = None
    prop_continues: bool = False

    def continue_with(self, mod: Module, values: dict[str, str]) -> None:
        """Ask for another request: ``values`` are the module's continuation parameters (prefixed)."""
        prefix = "g" if self.generator == mod.name and mod.kind == "list" else ""
        self.cont.update({prefix + k: v for k, v in values.items()})
        self.continuing.add(mod.name)
        if mod.kind == "prop":
            self.prop_continues = True

    def existing(self) -> list[PageEntry]:
        """The entries that name a page this node holds."""
        return [p for p in self.pages if p.row is not None]


def _params() -> tuple[Param, ...]:
    generators = tuple(sorted(m.name for kind in ("list", "prop") for n in names(kind)
                              if (m := module(kind, n)) is not None and m.generator))
    return (
        Param("prop", multi=True, values=names("prop")),
        Param("list", multi=True, values=names("list")),
        Param("meta", multi=True, values=names("meta")),
        Param("indexpageids", "boolean"),
        Param("export", "boolean"),
        Param("iwurl", "boolean"),
        Param("continue"),
        Param("rawcontinue", "boolean"),
        Param("titles", multi=True),
        Param("pageids", "integer", multi=True),
        Param("revids", "integer", multi=True),
        Param("generator", values=generators),
        Param("redirects", "boolean"),
        Param("converttitles", "boolean"),
    )


def run(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    """The query module's handler."""
    done = _done_modules(params["continue"])
    query = Query(call, generator=params["generator"])
    _page_set(query, params)
    if params["redirects"]:
        _follow_redirects(query)
    for kind in ("meta", "prop", "list"):
        for name in params[kind]:
            if name in done:
                continue
            sub = module(kind, name)
            sub_params = read_params(call, name, sub.prefix, sub.parameters())
            if kind == "list":
                listing = sub.handler(call, sub_params, query)
                query.result[name] = listing.items
            else:
                sub.handler(call, sub_params, query)
    return _answer(query, params, done)


def _done_modules(value: str | None) -> set[str]:
    """The modules an earlier batch finished, from the ``continue`` value it sent ("GEN||DONE|DONE")."""
    if not value or "||" not in value:
        return set()
    return {name for name in value.split("||", 1)[1].split("|") if name}


def _page_set(query: Query, params: dict[str, Any]) -> None:
    given = [name for name in ("titles", "pageids", "revids") if params[name]]
    prop_generator = module("prop", params["generator"]) if params["generator"] else None
    if params["generator"] and prop_generator is None:  # a prop generator reads the pages the others name
        given.append("generator")
    if len(given) > 1:
        raise ApiError("multisource", f'Cannot use "{given[0]}" with "{given[1]}": a query takes its pages '
                                      "from one source.")
    if params["titles"]:
        _from_titles(query, params["titles"])
    elif params["pageids"]:
        _from_pageids(query, params["pageids"])
    elif params["revids"]:
        _from_revids(query, params["revids"])
    elif params["generator"] and prop_generator is None:
        _from_generator(query, params["generator"])
    if prop_generator is not None:
        _from_prop_generator(query, prop_generator)


def _from_titles(query: Query, titles: list[str]) -> None:
    call = query.call
    normalized: list[dict[str, Any]] = []
    for raw in titles:
        try:
            name = normalize_title(call.wiki, raw)
        except BadTitle as exc:
            query.pages.append(PageEntry({"title": raw, "invalidreason": _invalid_reason(raw, exc), "invalid": True},
                                         key=_next_missing(query)))
            continue
        if name.full != raw:
            normalized.append({"fromencoded": False, "from": raw, "to": name.full})
        _add_title(query, name.ns, name.text, name.full)
    if normalized:
        query.result["normalized"] = normalized


def _next_missing(query: Query) -> int:
    """The key of the next missing or invalid page in format version 1: -1, -2... (MediaWiki's)."""
    return -1 - sum(1 for p in query.pages if p.key < 0)


def _invalid_reason(raw: str, exc: BadTitle) -> str:
    if not raw.strip(" _:"):
        return "The requested page title is empty or contains only the name of a namespace."
    return f"The requested page title contains invalid characters: {exc}"


def _add_title(query: Query, ns: int, text: str, full: str) -> PageEntry:
    for entry in query.pages:  # a title named twice is one page
        if entry.out.get("title") == full and "invalid" not in entry.out:
            return entry
    row = query.call.node.store.page(query.call.wiki.name, ns, text)
    if row is None or row.id in hidden_pages(query.call):
        entry = PageEntry({"ns": ns, "title": full, "missing": True}, key=_next_missing(query))
    else:
        entry = PageEntry({"pageid": row.id, "ns": ns, "title": full}, row, key=row.id)
    query.pages.append(entry)
    return entry


def _row(query: Query, page_id: int) -> PageRow | None:
    row = pages_by_ids(query.call.node.store, [page_id]).get(page_id)
    return row if row and row.wiki == query.call.wiki.name and row.id not in hidden_pages(query.call) else None


def _from_pageids(query: Query, ids: list[int]) -> None:
    for page_id in ids:
        row = _row(query, page_id)
        if row is None:
            query.pages.append(PageEntry({"pageid": page_id, "missing": True}, key=page_id))
        else:
            _add_row(query, row)


def _add_row(query: Query, row: PageRow) -> PageEntry:
    for entry in query.pages:
        if entry.row is not None and entry.row.id == row.id:
            return entry
    entry = PageEntry({"pageid": row.id, "ns": row.ns, "title": full_title(query.call, row)}, row, key=row.id)
    query.pages.append(entry)
    return entry


def _from_revids(query: Query, revids: list[int]) -> None:
    found = revision_pages(query.call.node.store, revids)
    bad = {}
    for revid in revids:
        page_id = found.get(revid)
        row = _row(query, page_id) if page_id is not None else None
        if row is None:
            bad[str(revid)] = {"revid": revid, "missing": True}
            continue
        _add_row(query, row).revids.append(revid)
    if bad:
        query.result["badrevids"] = bad


def _from_generator(query: Query, name: str) -> None:
    gen = module("list", name)
    if gen is None:
        raise ApiError("badvalue", f'Unrecognized value for parameter "generator": {name}.')
    params = read_params(query.call, name, "g" + gen.prefix, gen.parameters())
    listing = gen.handler(query.call, params, query)
    for row in listing.pages:
        _add_row(query, row).revids += listing.revids.get(row.id, [])


def _from_prop_generator(query: Query, gen: Module) -> None:
    """``generator=templates`` (or another prop module): the pages it lists for the pages named become the set.

    The module runs on the named pages as ``prop=`` would, with its ``g``-prefixed
    parameters; the ``{ns, title}`` items it lists under its name are the new pages.
    """
    params = read_params(query.call, gen.name, "g" + gen.prefix, gen.parameters())
    gen.handler(query.call, params, query)
    titles = [item["title"] for entry in query.pages for item in entry.out.get(gen.name, [])]
    query.pages = []
    for title in dict.fromkeys(titles):
        name = normalize_title(query.call.wiki, title)
        _add_title(query, name.ns, name.text, name.full)


def _follow_redirects(query: Query) -> None:
    call = query.call
    redirects = []
    for entry in list(query.pages):
        if entry.row is None:
            continue
        head = current(call, entry.row.id)
        target = redirect_target(call.wiki, call.node.store.revision_text(head)) if head else None
        if target is None or target.ns < 0:
            continue
        query.pages.remove(entry)
        _add_title(query, target.ns, target.text, target.full)
        item = {"from": entry.out["title"], "to": target.full}
        if target.fragment:
            item["tofragment"] = target.fragment
        redirects.append(item)
    if redirects:
        query.result["redirects"] = redirects


def _answer(query: Query, params: dict[str, Any], done: set[str]) -> dict[str, Any]:
    call = query.call
    out: dict[str, Any] = {}
    if query.prop_continues and query.generator:
        # The pages' properties are not all out yet: the next request must make the same batch of pages.
        gen = module("list", query.generator)
        query.cont = {k: v for k, v in query.cont.items() if not k.startswith("g" + gen.prefix)}
        query.cont.update({k: v for k, v in call.params.items()
                           if k.startswith("g" + gen.prefix) and k.endswith("continue")})
    if query.cont:
        gen_keys = [k for k in query.cont if query.generator and k.startswith("g")]
        ran = [n for kind in ("prop", "list") for n in params[kind]]
        finished = sorted((done | set(ran)) - query.continuing)
        out["continue"] = {**query.cont, "continue": f"{'|'.join(gen_keys) or '-'}||{'|'.join(finished)}"}
    if not query.prop_continues:
        out["batchcomplete"] = True
    result = dict(query.result)
    if query.pages:
        if params["indexpageids"]:
            result["pageids"] = [str(p.key) for p in query.pages]
        if call.formatversion == 1:
            result["pages"] = {str(p.key): p.out for p in query.pages}
        else:
            result["pages"] = [p.out for p in query.pages]
    if result:
        out["query"] = result
    return out


register(Module("query", "action", "", _params, run,
                help="Pages, their revisions and lists from the node's store, as MediaWiki's query module."))
