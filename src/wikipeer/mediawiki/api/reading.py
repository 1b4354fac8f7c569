"""How the node's records look through MediaWiki's eyes: titles, current revisions, users, SHA-1s."""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.store import hidden
from wikipeer.store.records import PageRow, RevInfo
from wikipeer.store.revlists import TimeRange, head_origins, page_revisions, revisions_by_ids, text_sha1

HISTORY_BATCH = 500


def full_title(call: ApiCall, page: PageRow) -> str:
    return call.wiki.full_title(page.ns, page.title)


def current(call: ApiCall, page_id: int) -> RevInfo | None:
    """The head the API shows for a page: the one the chosen view puts first (MediaWiki's "latest")."""
    return call.shown_view().shown(call.node.store, page_id)


def hidden_pages(call: ApiCall) -> set[int]:
    """The pages this node hides (deleted, or moved without a redirect, on the MediaWiki it follows).

    MediaWiki's API knows no such page: not in a list, missing when named. Read once per request.
    """
    found = call.state.get("hidden pages")
    if found is None:
        found = call.state["hidden pages"] = hidden.hidden_pages(call.node.store)
    return found


def history_start(call: ApiCall, page_id: int) -> tuple[int, int] | None:
    """Where the page MediaWiki has at this title begins, as (timestamp, revision id); None: at the first revision.

    A title whose page was moved away or deleted on the MediaWiki this node
    follows goes on here (mediawiki/follow.py makes the new page's first
    revision, a move's redirect or a page made again, a child of the title's
    head: no fork). MediaWiki starts a new page there, whose history holds only
    its own revisions; so does the API: the history begins at the newest
    revision that began a page of the wiki (no parent there) on top of a
    revision of another of its pages. The revisions before it stay, signed, in
    the node's own history page.
    """
    store = call.node.store
    cursor = None
    while True:
        ids = page_revisions(store, page_id, TimeRange(False, cursor=cursor), HISTORY_BATCH + 1)
        revs = revisions_by_ids(store, ids)
        for rev in revs[:HISTORY_BATCH]:
            if _begins_a_page(call, rev):
                return rev.ts, rev.id
        if len(revs) <= HISTORY_BATCH:
            return None
        cursor = (revs[HISTORY_BATCH].ts, revs[HISTORY_BATCH].id)


def _begins_a_page(call: ApiCall, rev: RevInfo) -> bool:
    origin = rev.origin
    if "page_id" not in origin or origin.get("parent_id") or not rev.parents:
        return False
    parent_id = call.node.store.object_id(rev.parents[0])
    if parent_id is None:
        return False
    parent = revisions_by_ids(call.node.store, [parent_id])[0].origin
    # Another page of the same wiki: a dump that leaves parent ids out does not cut every history short.
    return parent.get("site") == origin.get("site") and parent.get("page_id") not in (None, origin["page_id"])


def on_shown_page(call: ApiCall, rev: RevInfo) -> bool:
    """Whether the page MediaWiki has at the revision's title holds it: not when it came from another page of
    the same wiki than the head the API shows (a page moved away, whose history is listed under its new
    title, or deleted and made again: see history_start). The shown head of each page is read once a request.
    """
    site, page_id = rev.origin.get("site"), rev.origin.get("page_id")
    if page_id is None:
        return True
    shown = call.state.setdefault("shown pages", {})
    if rev.page not in shown:
        head = current(call, rev.page)
        shown[rev.page] = (head.origin.get("site"), head.origin.get("page_id")) if head else (None, None)
    head_site, head_page = shown[rev.page]
    return head_page is None or head_site != site or head_page == page_id


def read_shown_pages(call: ApiCall, revs: list[RevInfo]) -> None:
    """Read ahead, in one query, what on_shown_page needs of these revisions' pages.

    A page with one head shows that head whatever the view, so only its origin
    is read; a page with several heads (a fork, where the view must weigh
    signatures) is left to on_shown_page, which reads it whole.
    """
    shown = call.state.setdefault("shown pages", {})
    wanted = sorted({rev.page for rev in revs if "page_id" in rev.origin and rev.page not in shown})
    if not wanted:
        return
    for page, origins in head_origins(call.node.store, wanted).items():
        if len(origins) == 1:
            shown[page] = (origins[0].get("site"), origins[0].get("page_id"))


@dataclass(slots=True)
class User:
    """A revision's author as MediaWiki names one.

    Not frozen: a list of changes makes one per change, and a frozen dataclass takes three times as long to make.
    """

    name: str
    id: int
    anon: bool


def rev_user(call: ApiCall, rev: RevInfo) -> User:
    """The imported user (or IP), else the local account or key that signed it.

    An imported user with no id (MediaWiki's "imported>Name", a user the source
    wiki has no account for) is anonymous, as MediaWiki says of it.
    """
    origin = rev.origin
    if origin.get("ip"):
        return User(str(origin["ip"]), 0, True)
    if origin.get("user"):
        user_id = int(origin.get("user_id") or 0)
        return User(str(origin["user"]), user_id, user_id == 0)
    return User(call.user_name(rev), 0, False)


def sha1_hex(call: ApiCall, rev: RevInfo) -> str:
    return text_sha1(call.node.store, rev.id).hex()


def page_dict(call: ApiCall, page: PageRow) -> dict:
    """``pageid``, ``ns``, ``title``: how every module names a page."""
    return {"pageid": page.id, "ns": page.ns, "title": full_title(call, page)}
