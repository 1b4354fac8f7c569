"""The pages of one wiki page: article, old revision, raw, history, diff, forks.

URLs follow MediaWiki's: ``/wiki/{wiki}/{Title}`` with ``?action=history|edit|
raw|forks|merge``, ``?oldid=CID`` and ``?diff=CID&oldid=CID``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from wikipeer.errors import InvalidObject, NotFound
from wikipeer.model.cid import cid_from_str
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.policy.view import View
from wikipeer.store.cache import PageCache
from wikipeer.store.records import PageRow, RevInfo
from wikipeer.web.diff import side_by_side
from wikipeer.web.errors import HttpError
from wikipeer.web.site import Site


@dataclass(slots=True)
class PageRef:
    """A page the reader named, found in the store, with its heads best first."""

    wiki: str
    row: PageRow
    full_title: str
    heads: list[RevInfo]
    view: View


def find(site: Site, wiki: str, title: str, view: View | None = None) -> PageRef:
    """The page at this URL with its heads in ``view``'s order (the node's default view if None), or a 404 page."""
    config = site.node.wiki_or_default(wiki)
    try:
        name = normalize_title(config, title)
    except BadTitle as exc:
        raise HttpError(400, str(exc), "Bad title") from None
    row = site.node.store.page(wiki, name.ns, name.text)
    if row is None:
        raise HttpError(404, f"There is no page {name.full!r} in the wiki {wiki!r} on this node.", "No such page")
    view = view or site.node.view()
    return PageRef(wiki, row, name.full, view.order(site.node.store.heads(row.id)), view)


def revision_of(site: Site, ref: PageRef, text: str) -> RevInfo:
    """A revision named in the URL, which must be one of this page's."""
    try:
        rev = site.node.store.revision(cid_from_str(text))
    except InvalidObject as exc:
        raise HttpError(400, str(exc), "Bad revision id") from None
    except NotFound:
        raise HttpError(404, f"This node holds no revision {text}.", "No such revision") from None
    if rev.page != ref.row.id:
        raise HttpError(404, f"Revision {text} is not a revision of {ref.full_title!r}.", "No such revision")
    return rev


def article(site: Site, request: Request, ref: PageRef, oldid: str | None) -> Response:
    rev = revision_of(site, ref, oldid) if oldid else ref.heads[0]
    PageCache(site.node.store).touch(ref.row.id)
    rendered = site.cache.render(site.reader(ref.wiki), ref.full_title, rev)
    redirected_from = None
    if rendered.redirect and not oldid and request.query_params.get("redirect") != "no":
        try:
            target = find(site, ref.wiki, rendered.redirect.split("#", 1)[0], ref.view)
        except HttpError:
            target = None
        if target is not None and target.row.id != ref.row.id:
            redirected_from, ref, rev = ref.full_title, target, target.heads[0]
            rendered = site.cache.render(site.reader(ref.wiki), ref.full_title, rev)
    return site.page(request, "article.html", wiki=ref.wiki, ref=ref, rev=rev, rendered=rendered,
                     is_head=any(h.cid == rev.cid for h in ref.heads), shown=ref.heads[0],
                     unreviewed=not ref.view.is_trusted(ref.heads[0]), badges=site.badges(rev, ref.view),
                     redirected_from=redirected_from, notice=request.query_params.get("notice"))


def raw(site: Site, ref: PageRef, oldid: str | None) -> Response:
    rev = revision_of(site, ref, oldid) if oldid else ref.heads[0]
    return PlainTextResponse(site.node.store.revision_text(rev), media_type="text/x-wiki; charset=utf-8")


def history(site: Site, request: Request, ref: PageRef) -> Response:
    revs = site.node.store.history(ref.row.id)
    sizes = {r.cid: r.size for r in revs}
    head_cids = {h.cid for h in ref.heads}
    lines = [{"rev": r, "badges": site.badges(r, ref.view), "head": r.cid in head_cids,
              "change": r.size - (sizes.get(r.parents[0], 0) if r.parents else 0),
              "seconders": [site.key_name(s.key) for s in r.sigs if s.role == "second"],
              "parent": r.parents[0] if r.parents else None} for r in revs]
    return site.page(request, "history.html", wiki=ref.wiki, ref=ref, lines=lines)


def diff(site: Site, request: Request, ref: PageRef, new_id: str, old_id: str | None) -> Response:
    new = revision_of(site, ref, new_id)
    if old_id:
        old = revision_of(site, ref, old_id)
    elif new.parents:
        old = site.node.store.revision(new.parents[0])
    else:
        old = None
    old_text = site.node.store.revision_text(old) if old else ""
    rows = side_by_side(old_text, site.node.store.revision_text(new))
    return site.page(request, "diff.html", wiki=ref.wiki, ref=ref, old=old, new=new, rows=rows,
                     old_badges=site.badges(old, ref.view) if old else [], new_badges=site.badges(new, ref.view))


def forks(site: Site, request: Request, ref: PageRef) -> Response:
    reader = site.reader(ref.wiki)
    columns = [{"rev": h, "badges": site.badges(h, ref.view), "html": site.cache.render(reader, ref.full_title, h).html}
               for h in ref.heads]
    return site.page(request, "forks.html", wiki=ref.wiki, ref=ref, columns=columns)
