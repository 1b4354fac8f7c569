"""How the node's records look through MediaWiki's eyes: titles, current revisions, users, SHA-1s."""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.store.records import PageRow, RevInfo
from wikipeer.store.revlists import text_sha1


def full_title(call: ApiCall, page: PageRow) -> str:
    return call.wiki.full_title(page.ns, page.title)


def current(call: ApiCall, page_id: int) -> RevInfo | None:
    """The head the API shows for a page: the one the chosen view puts first (MediaWiki's "latest")."""
    heads = call.node.store.heads(page_id)
    return call.shown_view().choose(heads) if heads else None


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
