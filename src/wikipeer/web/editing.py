"""Editing through the web page: the edit form, saving a signed revision, merging heads.

Saving names the revision the form was opened on as the parent. When that is
no longer a head (an old revision was edited, or someone saved meanwhile) the
edit starts a fork, and the page says so; the merge form joins two heads.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from wikipeer.authoring import edit
from wikipeer.errors import InvalidObject, NotFound, UserError
from wikipeer.model.cid import cid_from_str, cid_to_str
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.notices import second
from wikipeer.policy.merge import merge3, merge_base
from wikipeer.web.bodylimit import MAX_EDIT_TEXT
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
    return site.page(request, "edit.html", wiki=wiki, title=full_title, text=text, visitor=visitor,
                     parents=[base.cid_str] if base else [], forking=forking, summary="", conflicts=None)


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
    return site.page(request, "edit.html", wiki=ref.wiki, title=ref.full_title, text=result.text, visitor=visitor,
                     parents=[a.cid_str, b.cid_str], forking=False, conflicts=result.conflicts,
                     summary=f"Merge {a.cid_str[-8:]} and {b.cid_str[-8:]}")


async def save(site: Site, request: Request, wiki: str, title: str) -> Response:
    """Sign and store the submitted text with the user's key."""
    form, visitor = await site.posted(request, MAX_EDIT_TEXT, account=True)
    require_login(visitor)
    parents = _parse_parents(field(form, "parents"))
    text = field(form, "text").replace("\r\n", "\n")
    if len(parents) == 1 and _text_of(site, parents[0]) == text:
        return RedirectResponse(page_url(wiki, title), status_code=303)  # nothing changed: nothing to sign
    try:
        made = edit(site.node, wiki, title, text, field(form, "summary")[:500], parents=parents,
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


def _text_of(site: Site, cid: bytes) -> str | None:
    try:
        return site.node.store.revision_text(site.node.store.revision(cid))
    except NotFound:
        return None


def _parse_parents(text: str) -> tuple[bytes, ...]:
    try:
        return tuple(cid_from_str(p) for p in text.split())
    except InvalidObject as exc:
        raise HttpError(400, str(exc), "Bad revision id") from None


def _maybe_find(site: Site, wiki: str, title: str) -> PageRef | None:
    try:
        return find(site, wiki, title)
    except Missing:
        return None


def _full_title(site: Site, wiki: str, title: str) -> str:
    try:
        return normalize_title(site.node.wiki_or_default(wiki), title).full
    except BadTitle as exc:
        raise HttpError(400, str(exc), "Bad title") from None
