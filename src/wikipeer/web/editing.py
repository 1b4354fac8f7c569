"""Editing through the web page: the edit form, its preview and changes, saving a signed revision, merging heads.

Saving names the revision the form was opened on as the parent. A form opened
on an old revision on purpose ("edit from here") starts a fork, and the page
says so; a form opened on the head that someone built on meanwhile is an edit
conflict (web/conflict.py), as in MediaWiki. The merge form joins two heads.
"Show preview" and "Show changes" post the same form (the same CSRF check) and
save nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from wikipeer.authoring import edit
from wikipeer.errors import InvalidObject, UserError
from wikipeer.model.cid import cid_from_str, cid_to_str
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.notices import second
from wikipeer.policy.merge import merge3, merge_base
from wikipeer.policy.view import View
from wikipeer.render import render
from wikipeer.store.records import RevInfo
from wikipeer.web.bodylimit import MAX_EDIT_TEXT
from wikipeer.web.conflict import conflict, moved_on
from wikipeer.web.diff import side_by_side
from wikipeer.web.errors import HttpError, Missing
from wikipeer.web.forms import field
from wikipeer.web.pages import PageRef, find, revision_of
from wikipeer.urls import page_url
from wikipeer.web.site import Site, Visitor, safe_returnto


def require_login(visitor: Visitor) -> None:
    if visitor.account is None:
        raise HttpError(401, "Log in to save edits: they are signed with your account's key.", "Not logged in")
    if not visitor.may_edit:
        raise HttpError(403, "You logged in with a bot password that may not edit: log in with your password, "
                        "or use a bot password granted editpage.", "Not allowed to edit")


@dataclass(slots=True)
class PostedEdit:
    """The edit form as posted: the revisions it was opened on, the text and what goes with it."""

    parents: tuple[bytes, ...]
    text: str
    summary: str
    minor: bool
    fork: bool  # opened on an old revision on purpose: saving starts a fork, no conflict

    @classmethod
    def read(cls, form: FormData) -> PostedEdit:
        return cls(_parse_parents(field(form, "parents")), field(form, "text").replace("\r\n", "\n"),
                   field(form, "summary")[:500], bool(field(form, "minor")), bool(field(form, "fork")))


def edit_form(site: Site, request: Request, wiki: str, title: str, oldid: str | None) -> Response:
    visitor = site.visitor(request)
    if visitor.account is None:
        back = quote(f"{request.url.path}?{request.url.query}")
        return RedirectResponse(f"/login?returnto={back}", status_code=303)
    ref = _maybe_find(site, wiki, title)
    base = None
    if ref is not None:
        base = revision_of(site, ref, oldid) if oldid else ref.heads[0]
    full_title = ref.full_title if ref else _full_title(site, wiki, title)
    text = site.node.store.revision_text(base) if base else ""
    forking = bool(ref and base and base.cid not in {h.cid for h in ref.heads})
    return _form_page(site, request, visitor, wiki, full_title, text, [base.cid_str] if base else [], forking=forking)


def merge_form(site: Site, request: Request, ref: PageRef, a_id: str | None, b_id: str | None) -> Response:
    visitor = site.visitor(request)
    if visitor.account is None:
        return RedirectResponse(f"/login?returnto={quote(f'{request.url.path}?{request.url.query}')}", status_code=303)
    if a_id and b_id:
        a, b = revision_of(site, ref, a_id), revision_of(site, ref, b_id)
    elif len(ref.heads) >= 2:
        a, b = ref.heads[0], ref.heads[1]
    else:
        raise HttpError(400, f"{ref.full_title!r} has one head: there is nothing to merge.", "Nothing to merge")
    if a.cid == b.cid:
        raise HttpError(400, "A revision cannot be merged with itself: name two heads.", "Nothing to merge")
    store = site.node.store
    base = merge_base(store, a.cid, b.cid)
    result = merge3(store.revision_text(base) if base else "", store.revision_text(a), store.revision_text(b),
                    f"revision {a.cid_str[-8:]}", f"revision {b.cid_str[-8:]}")
    return _form_page(site, request, visitor, ref.wiki, ref.full_title, result.text, [a.cid_str, b.cid_str],
                      conflicts=result.conflicts, summary=f"Merge {a.cid_str[-8:]} and {b.cid_str[-8:]}")


def _form_page(site: Site, request: Request, visitor: Visitor, wiki: str, full_title: str, text: str,
               parents: list[str], status: int = 200, **shown) -> Response:
    """The edit form with ``text`` on ``parents``; ``shown``: what else the page holds (a preview, changes,
    a merge's conflict count, an edit conflict) and the form's summary, minor box and fork flag."""
    context = {"forking": False, "summary": "", "minor": False, "conflicts": None, "preview": None,
               "changes": None, "conflict": None, **shown}
    return site.page(request, "edit.html", status=status, wiki=wiki, title=full_title, text=text, visitor=visitor,
                     parents=parents, **context)


async def submit(site: Site, request: Request, wiki: str, title: str) -> Response:
    """The edit form's buttons: "Save page" signs and stores; "Show preview" and "Show changes" store nothing."""
    form, visitor = await site.posted(request, MAX_EDIT_TEXT, account=True)
    require_login(visitor)
    posted = PostedEdit.read(form)
    if "preview" in form or "diff" in form:
        return await _look(site, request, visitor, wiki, title, posted, preview="preview" in form)
    return await _save(site, request, visitor, wiki, title, posted)


async def _look(site: Site, request: Request, visitor: Visitor, wiki: str, title: str, posted: PostedEdit,
                preview: bool) -> Response:
    """The form again with the text rendered (the same renderer as the article) or diffed against its base."""
    ref = _maybe_find(site, wiki, title)
    full_title = ref.full_title if ref else _full_title(site, wiki, title)
    shown = {}
    if preview:
        reader = site.reader(wiki, request)
        shown["preview"] = await run_in_threadpool(render, posted.text, reader.context(full_title))
    else:
        base = _base(site, ref, posted.parents)
        base_text = site.node.store.revision_text(base) if base else ""
        shown["changes"] = await run_in_threadpool(side_by_side, base_text, posted.text)
    return _form_page(site, request, visitor, wiki, full_title, posted.text, [cid_to_str(p) for p in posted.parents],
                      forking=posted.fork, summary=posted.summary, minor=posted.minor, **shown)


async def _save(site: Site, request: Request, visitor: Visitor, wiki: str, title: str, posted: PostedEdit) -> Response:
    """Sign and store the submitted text with the user's key, unless the page moved on since the form opened."""
    parents, text = posted.parents, posted.text
    ref = _maybe_find(site, wiki, title, visitor.view)
    base = _base(site, ref, parents)
    if len(parents) == 1 and site.node.store.revision_text(base) == text:
        return RedirectResponse(page_url(wiki, title), status_code=303)  # nothing changed: nothing to sign
    current = None if posted.fork or ref is None else moved_on(site.node.store, ref.heads, parents)
    if current is not None:
        if site.node.store.revision_text(current) == text:
            return RedirectResponse(page_url(wiki, title), status_code=303)  # someone saved the very same text
        found = await run_in_threadpool(conflict, site.node.store, base, current, text)  # a merge and a diff
        return _form_page(site, request, visitor, wiki, ref.full_title, found.offered, [current.cid_str], status=409,
                          summary=posted.summary, minor=posted.minor, conflict=found)
    try:
        made = edit(site.node, wiki, title, text, posted.summary, parents=parents, minor=posted.minor,
                    key_name=visitor.account.key)
    except (UserError, InvalidObject) as exc:
        raise HttpError(400, str(exc), "Edit not saved") from None
    ref = find(site, wiki, title)
    notice = "fork" if len(ref.heads) > 1 else "saved"
    return RedirectResponse(f"{page_url(wiki, ref.full_title)}?oldid={cid_to_str(made.rev)}&notice={notice}",
                            status_code=303)


async def second_revision(site: Site, request: Request) -> Response:
    """The second button: sign a revision as reviewed, with the user's key."""
    form, visitor = await site.posted(request, account=True)
    require_login(visitor)
    cids = _parse_parents(field(form, "cid"))
    if len(cids) != 1:
        raise HttpError(400, "Name the one revision to second.", "Nothing to second")
    try:
        second(site.node, cids[0], visitor.account.key)
    except UserError as exc:
        raise HttpError(404, str(exc), "Not seconded") from None
    return RedirectResponse(safe_returnto(field(form, "returnto")), status_code=303)


def _base(site: Site, ref: PageRef | None, parents: tuple[bytes, ...]) -> RevInfo | None:
    """The revision a posted form was opened on (its first parent), or None for a new page.

    The form is the poster's to write, so its parent is checked as a revision named in a URL is:
    one of this page's and not hidden (404 otherwise). Its text is diffed and merged against,
    so an unchecked one would show any revision's text, hidden or of another page.
    """
    if not parents:
        return None
    if ref is None:  # a page that does not exist has no revision to start from
        raise HttpError(404, f"Revision {cid_to_str(parents[0])} is not a revision of this page.", "No such revision")
    return revision_of(site, ref, cid_to_str(parents[0]))


def _parse_parents(text: str) -> tuple[bytes, ...]:
    try:
        return tuple(cid_from_str(p) for p in text.split())
    except InvalidObject as exc:
        raise HttpError(400, str(exc), "Bad revision id") from None


def _maybe_find(site: Site, wiki: str, title: str, view: View | None = None) -> PageRef | None:
    try:
        return find(site, wiki, title, view)
    except Missing:
        return None


def _full_title(site: Site, wiki: str, title: str) -> str:
    try:
        return normalize_title(site.node.wiki_or_default(wiki), title).full
    except BadTitle as exc:
        raise HttpError(400, str(exc), "Bad title") from None
