"""Stand-ins for modules another part of the node owns, registered only while that part is absent.

``meta=userinfo`` belongs with the accounts (login, tokens); mwclient and
pywikibot ask for it before anything else, so until the accounts' module is
in the table a reader gets this one: who the session cookie names, else an
anonymous user. ``register_missing`` runs after every module file has been
imported, so a real module always wins, whatever the order of imports.
"""

from __future__ import annotations

from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.query import Query
from wikipeer.mediawiki.api.registry import Module, module, register

READER_RIGHTS = ["read", "writeapi"]


def userinfo(call: ApiCall, params: dict[str, Any], query: Query) -> None:
    name = getattr(call.account, "name", None)
    out: dict[str, Any] = {"id": 0, "name": name or call.state.get("client", "127.0.0.1")}
    if name is None:
        out["anon"] = True
    if "groups" in params["prop"]:
        out["groups"] = ["*"] if name is None else ["*", "user"]
    if "rights" in params["prop"]:
        out["rights"] = READER_RIGHTS
    if "hasmsg" in params["prop"]:
        out["messages"] = False
    query.result["userinfo"] = out


def register_missing() -> None:
    """Register the stand-ins whose real module is not in the table."""
    if module("meta", "userinfo") is None:
        register(Module("userinfo", "meta", "ui", (
            Param("prop", multi=True, values=("blockinfo", "hasmsg", "groups", "groupmemberships", "implicitgroups",
                                              "rights", "changeablegroups", "options", "editcount", "ratelimits",
                                              "theoretical ratelimits", "email", "realname", "acceptlang",
                                              "registrationdate", "unreadcount", "centralids", "latestcontrib",
                                              "cancreateaccount")),
            Param("attachedwiki"),
        ), userinfo, help="Who is asking: the logged-in account, else an anonymous reader."))
