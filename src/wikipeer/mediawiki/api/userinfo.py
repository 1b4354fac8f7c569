"""``meta=userinfo``: who the caller is, in MediaWiki's words.

An account's ``id`` is its row number in the node's accounts file (stable
while the account exists); an anonymous caller is named by its address, as
MediaWiki names one. A session opened with a bot password has the rights of
its grants (``highvolume`` brings the ``bot`` right and group).
"""

from __future__ import annotations

from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.params import Param, format_timestamp
from wikipeer.mediawiki.api.query import Query
from wikipeer.mediawiki.api.registry import Module, register
from wikipeer.mediawiki.api.session import ApiSession, session_of
from wikipeer.store.authorship import authored_count

PROPS = ("blockinfo", "hasmsg", "groups", "groupmemberships", "implicitgroups", "rights", "changeablegroups",
         "options", "editcount", "ratelimits", "theoreticalratelimits", "email", "realname", "acceptlang",
         "registrationdate", "unreadcount", "centralids", "latestcontrib", "cancreateaccount")


def run(call: ApiCall, params: dict[str, Any], query: Query) -> None:
    session = session_of(call)
    if session.session is None:
        info: dict[str, Any] = {"id": 0, "name": session.address, "anon": True}
    else:
        account = session.session.account
        info = {"id": session.accounts.user_id(account.name), "name": account.name}
    for prop in params["prop"]:
        info.update(_prop(call, session, prop))
    query.result["userinfo"] = info


def _prop(call: ApiCall, session: ApiSession, prop: str) -> dict[str, Any]:
    account = session.session.account if session.session else None
    if prop == "groups":
        return {"groups": list(session.groups)}
    if prop == "implicitgroups":
        return {"implicitgroups": [g for g in session.groups if g in ("*", "user")]}
    if prop == "groupmemberships":
        return {"groupmemberships": [{"group": "bot", "expiry": "infinity"}] if "bot" in session.groups else []}
    if prop == "rights":
        return {"rights": list(session.rights)}
    if prop == "changeablegroups":
        return {"changeablegroups": {"add": [], "remove": [], "add-self": [], "remove-self": []}}
    if prop == "editcount":
        return {"editcount": _edit_count(call, account.key) if account else 0}
    if prop == "registrationdate" and account is not None:
        created = session.accounts.created(account.name)
        return {"registrationdate": format_timestamp(created * 1000) if created else None}
    if prop == "cancreateaccount":
        return {"cancreateaccount": session.session is None}
    if prop in ("options", "ratelimits", "theoreticalratelimits"):
        return {prop: {}}
    if prop in ("realname", "email"):
        return {prop: ""}
    if prop in ("hasmsg",):
        return {"messages": False}
    if prop == "unreadcount":
        return {"unreadcount": 0}
    return {}


def _edit_count(call: ApiCall, key_name: str) -> int:
    """Revisions of this wiki the account's key signed as author."""
    public = call.node.keyring.get(key_name).public
    return authored_count(call.node.store, call.wiki.name, public)


register(Module("userinfo", "meta", "ui", (
    Param("prop", multi=True, values=PROPS),
    Param("attachedwiki"),
), run, help="The caller: name, id, groups and rights (a bot password's follow its grants)."))
