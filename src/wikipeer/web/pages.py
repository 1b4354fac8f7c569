"""The pages of one wiki page: article, old revision, raw, history, diff, forks.

URLs follow MediaWiki's: ``/wiki/{wiki}/{Title}`` with ``?action=history|edit|
raw|forks|merge``, ``?oldid=CID`` and ``?diff=CID&oldid=CID``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from wikipeer.errors import InvalidObject, NotFound
from wikipeer.model.cid import cid_from_str
from wikipeer.model.media import NS_FILE
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.policy.view import View
from wikipeer.render import Rendered
from wikipeer.store import hidden
from wikipeer.store.cache import PageCache
from wikipeer.store.records import PageRow, RevInfo
from wikipeer.store.revlists import holds_wiki
from wikipeer.urls import page_url
from wikipeer.web import media
from wikipeer.web.diff import side_by_side
from wikipeer.web.errors import HttpError
from wikipeer.web.missing import missing_page
from wikipeer.web.site import Site

HISTORY_LIMIT = 50  # MediaWiki's default
MAX_HISTORY_LIMIT = 5000  # and its most
MAX_REVISION_ID = (1 << 63) - 1  # SQLite's largest integer
_OFFSET = re.compile(r"(\d{14})(\d{3})?(?:\|(\d{1,18}))?")


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
        raise missing_page(site, wiki, name)
    view = view or site.node.view()
    return PageRef(wiki, row, name.full, view.ordered(site.node.store, row.id), view)


def missing(site: Site, request: Request, wiki: str, title: str, error: Missing) -> Response:
    """The 404 of a page this node does not hold, offering to create it (as MediaWiki's "create this page").

    A reader who is not logged in is offered the log-in form, which comes back to the edit form. A wiki
    this node knows nothing of gets no such offer: the name is more likely mistyped than meant.
    """
    if not holds_wiki(site.node.store, wiki):
        raise error
    full_title = normalize_title(site.node.wiki_or_default(wiki), title).full  # find() has checked it
    edit_url = f"{page_url(wiki, full_title)}?action=edit"
    logged_in = site.visitor(request).account is not None
    create = edit_url if logged_in else f"/login?returnto={quote(edit_url)}"
    return site.page(request, "missing.html", status=404, wiki=wiki, title=full_title, create=create,
                     logged_in=logged_in, suggestions=error.suggestions)


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
    check_revision_shown(site, rev, text)
    return rev


def check_revision_shown(site: Site, rev: RevInfo, name: str) -> None:
    """A 404 for a revision hidden on its own (revision deletion, suppression, `wikipeer hide`), saying why."""
    record = hidden.hidden_items(site.node.store, rev.page).get(rev.id)
    if record is not None:
        raise HttpError(404, f"Revision {name} was hidden ({record.reason}). This node keeps it signed in the "
                             "page's history but shows its text to no one.", "Revision hidden")


def check_shown(site: Site, ref: PageRef) -> None:
    """A 404 for a page hidden on this node (deleted on the MediaWiki it follows), saying why."""
    record = hidden.hidden(site.node.store, ref.row.id)
    if record is not None:
        raise HttpError(404, f"The page {ref.full_title!r} was {record.reason}. This node keeps its signed "
                             "history (its history page still lists it) but no longer shows it.", "Page deleted")


def article(site: Site, request: Request, ref: PageRef, oldid: str | None) -> Response:
    if not oldid:
        check_shown(site, ref)
    if not ref.heads and not oldid and ref.row.ns == NS_FILE:
        return _file_without_description(site, request, ref)
    rev = revision_of(site, ref, oldid) if oldid else ref.heads[0]
    PageCache(site.node.store).touch(ref.row.id)
    rendered = site.cache.render(site.reader(ref.wiki, request), ref.full_title, rev)
    redirected_from = None
    if rendered.redirect and not oldid and request.query_params.get("redirect") != "no":
        try:
            target = find(site, ref.wiki, rendered.redirect.split("#", 1)[0], ref.view)
        except HttpError:
            target = None
        if target is not None and target.row.id != ref.row.id:
            redirected_from, ref, rev = ref.full_title, target, target.heads[0]
            rendered = site.cache.render(site.reader(ref.wiki, request), ref.full_title, rev)
    shown_file = media.file_section(site, ref.wiki, ref.row.id, ref.row.title, ref.view) if ref.row.ns == NS_FILE else None
    return site.page(request, "article.html", wiki=ref.wiki, ref=ref, rev=rev, rendered=rendered, file=shown_file,
                     is_head=any(h.cid == rev.cid for h in ref.heads), shown=ref.heads[0],
                     unreviewed=not ref.view.is_trusted(ref.heads[0]), badges=site.badges(rev, ref.view),
                     redirected_from=redirected_from, notice=request.query_params.get("notice"))


def _file_without_description(site: Site, request: Request, ref: PageRef) -> Response:
    """A File: page that holds file versions but no revision yet (a file can arrive before its description)."""
    shown_file = media.file_section(site, ref.wiki, ref.row.id, ref.row.title, ref.view)
    if shown_file is None:
        raise HttpError(404, f"{ref.full_title!r} holds neither a revision nor a file on this node.", "No such page")
    return site.page(request, "article.html", wiki=ref.wiki, ref=ref, rev=None, rendered=Rendered(html=""),
                     file=shown_file, is_head=True, shown=None, unreviewed=False, badges=[], redirected_from=None,
                     notice=request.query_params.get("notice"))


def raw(site: Site, ref: PageRef, oldid: str | None) -> Response:
    if not oldid:
        check_shown(site, ref)
    rev = revision_of(site, ref, oldid) if oldid else ref.heads[0]
    return PlainTextResponse(site.node.store.revision_text(rev), media_type="text/x-wiki; charset=utf-8")


def history(site: Site, request: Request, ref: PageRef) -> Response:
    """One page of the history, as MediaWiki's ``action=history``: ``limit``, ``offset``, ``dir=prev``."""
    q = request.query_params
    limit = history_limit(q.get("limit"))
    older = _history_dir(q.get("dir")) != "prev"
    offset = history_offset(q.get("offset"), older)
    store = site.node.store
    revs = store.history_page(ref.row.id, limit + 1, offset, older)
    more = len(revs) > limit  # one more than shown: there is a next page the way we went
    revs = revs[:limit] if older else revs[len(revs) - limit:] if more else revs
    if not revs:
        has_newer = has_older = False
    elif older:
        has_older = more
        has_newer = bool(store.history_page(ref.row.id, 1, history_key(revs[0]), older=False))
    else:
        has_newer = more
        has_older = bool(store.history_page(ref.row.id, 1, history_key(revs[-1])))
    sizes = {r.cid: r.size for r in revs}
    head_cids = {h.cid for h in ref.heads}
    gone = hidden.hidden_items(store, ref.row.id)
    lines = [{"rev": r, "badges": site.badges(r, ref.view), "head": r.cid in head_cids,
              "hidden": gone[r.id].reason if r.id in gone else None,
              "change": r.size - (_parent_size(site, sizes, r.parents[0]) if r.parents else 0),
              "seconders": [site.key_name(s.key, ref.view) for s in r.sigs if s.role == "second"],
              "parent": r.parents[0] if r.parents else None} for r in revs]
    pager = HistoryPager(limit, history_offset_str(revs[0]) if has_newer else None,
                         history_offset_str(revs[-1]) if has_older else None, q.get("offset"), q.get("dir"))
    return site.page(request, "history.html", wiki=ref.wiki, ref=ref, lines=lines, pager=pager)


@dataclass(slots=True)
class HistoryPager:
    """Where the history's navigation links lead: offsets of the newer and older pages (None: no such page)."""

    limit: int
    newer: str | None
    older: str | None
    here: str | None = None  # this page's offset and dir, kept when only the limit changes
    here_dir: str | None = None

    def query(self, **params: str | int | None) -> str:
        """``?action=history`` with these parameters (None or "" leaves one out), the limit kept unless given."""
        params.setdefault("limit", self.limit)
        return "?" + urlencode({"action": "history", **{k: v for k, v in params.items() if v not in (None, "")}})


def history_limit(text: str | None) -> int:
    """``limit`` as MediaWiki takes it: default 50, at most 5000 (more is cut to 5000); 400 if not a positive number."""
    if text is None or text == "":
        return HISTORY_LIMIT
    digits = text.lstrip("0")
    if not text.isascii() or not text.isdigit() or not digits:
        raise HttpError(400, f"limit must be a whole number from 1 to {MAX_HISTORY_LIMIT}, not {text[:40]!r}.")
    return MAX_HISTORY_LIMIT if len(digits) > 6 else min(int(digits), MAX_HISTORY_LIMIT)  # no huge int() to parse


def history_offset(text: str | None, older: bool = True) -> tuple[int, int] | None:
    """``offset``: MediaWiki's ``YYYYMMDDHHMMSS`` or ``YYYYMMDDHHMMSS|revision``, milliseconds optional, as (ts, id).

    Without an id it is a time, as in MediaWiki: ``older`` revisions are those before it, newer
    ones those after it (after its whole second when no milliseconds are given).
    """
    if not text:
        return None
    match = _OFFSET.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        when = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        raise HttpError(400, f"offset must be a time as YYYYMMDDHHMMSS, optionally followed by |ID "
                             f"(as in the history's links), not {text[:40]!r}.") from None
    ms = int(when.timestamp()) * 1000 + int(match.group(2) or 0)
    if match.group(3):
        return ms, int(match.group(3))
    if older:
        return ms, 0  # ids start at 1: every revision of that instant is at or after it
    return ms + (0 if match.group(2) else 999), MAX_REVISION_ID


def history_key(rev: RevInfo) -> tuple[int, int]:
    """A revision's position in its page's history (the store's order: time, then arrival)."""
    return rev.ts, rev.id


def history_offset_str(rev: RevInfo) -> str:
    """The ``offset`` that names ``rev``'s position: its time to the millisecond, and its id."""
    when = datetime.fromtimestamp(rev.ts // 1000, timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"{when}{rev.ts % 1000:03d}|{rev.id}"


def _history_dir(text: str | None) -> str:
    if text not in (None, "", "next", "prev"):
        raise HttpError(400, f"dir must be prev (newer revisions) or next (older ones), not {text[:40]!r}.")
    return text or "next"


def _parent_size(site: Site, sizes: dict[bytes, int], parent: bytes) -> int:
    if parent in sizes:
        return sizes[parent]
    try:
        return site.node.store.revision(parent).size
    except NotFound:
        return 0


def diff(site: Site, request: Request, ref: PageRef, new_id: str, old_id: str | None) -> Response:
    new = revision_of(site, ref, new_id)
    if old_id:
        old = revision_of(site, ref, old_id)
    elif new.parents:
        old = site.node.store.revision(new.parents[0])
        check_revision_shown(site, old, old.cid_str)
    else:
        old = None
    old_text = site.node.store.revision_text(old) if old else ""
    rows = side_by_side(old_text, site.node.store.revision_text(new))
    return site.page(request, "diff.html", wiki=ref.wiki, ref=ref, old=old, new=new, rows=rows,
                     old_badges=site.badges(old, ref.view) if old else [], new_badges=site.badges(new, ref.view))


def forks(site: Site, request: Request, ref: PageRef) -> Response:
    reader = site.reader(ref.wiki, request)
    columns = [{"rev": h, "badges": site.badges(h, ref.view), "html": site.cache.render(reader, ref.full_title, h).html}
               for h in ref.heads]
    return site.page(request, "forks.html", wiki=ref.wiki, ref=ref, columns=columns)
