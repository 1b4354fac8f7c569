"""Who is calling the API, and what their session may do: tokens, rights, logging in and out.

The API shares the web page's account system (store/accounts.py): a login
through ``action=login`` or ``clientlogin`` opens the same kind of session a
login on the web page does, and web/ sets the same session cookie, so a bot's
cookie works on both. web/ builds an ``ApiSession`` from the request's cookies,
and afterwards sets or clears the cookies the modules asked for.

Tokens are MediaWiki-shaped (hex, then ``+\\``) and bound to the cookie that
carries the session, or to a visitor cookie for an anonymous caller's login
token, so a token from another session never passes. An anonymous caller's
``csrf`` token is ``+\\``, as in MediaWiki; it passes the token check, and the
module then refuses anonymous writes on its own terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.store.accounts import Accounts, Session

TOKEN_SUFFIX = "+\\"
TOKEN_TYPES = ("createaccount", "csrf", "login", "patrol", "rollback", "userrights", "watch")
Verifier = Callable[..., Any]
"""``verify(login_name, check, *args)``: runs a password check under the node's login limits
(per-address rate, back-off after failures, a bounded number of hashes at once); raises
RateLimited when the caller must wait, and whatever ``check`` raises."""

ANON_RIGHTS = ("read", "createaccount")
USER_RIGHTS = ("read", "createaccount", "writeapi", "edit", "createpage", "createtalk", "minoredit")
GRANT_RIGHTS = {
    "basic": ("read", "writeapi"),
    "editpage": ("edit", "createpage", "createtalk", "minoredit"),
    "highvolume": ("bot", "apihighlimits", "noratelimit"),
}


@dataclass(slots=True)
class ApiSession:
    """The caller's session as the modules see it, and what they change about it.

    ``cookie``: the value tokens are bound to (the session cookie when logged
    in, else the visitor cookie, which ``new_cookie`` says the client does
    not have yet). ``address``: the caller's address (an anonymous user's name,
    as in MediaWiki). After the modules ran, web/ sets ``opened`` as the session
    cookie, clears it when ``closed``, and sets the visitor cookie when
    ``visitor_used`` and ``new_cookie``.
    """

    accounts: Accounts
    cookie: str
    new_cookie: bool
    session: Session | None
    address: str
    verify: Verifier
    opened: str | None = None
    closed: bool = False
    visitor_used: bool = False

    def token(self, kind: str) -> str:
        """A token of ``kind`` for this caller."""
        if kind != "login" and self.session is None:
            return TOKEN_SUFFIX
        if self.session is None:
            self.visitor_used = True  # the token is bound to a cookie the client must keep
        return self._token(kind, self.cookie)

    def _token(self, kind: str, cookie: str) -> str:
        # csrf is the web forms' token itself, so one session has one token for both.
        return self.accounts.csrf_token(cookie if kind == "csrf" else f"{kind}:{cookie}") + TOKEN_SUFFIX

    def check(self, kind: str, value: str) -> bool:
        """Whether ``value`` is this caller's token of ``kind``."""
        if kind != "login" and self.session is None:
            return value == TOKEN_SUFFIX
        if self.new_cookie or not value.endswith(TOKEN_SUFFIX):
            return False  # no cookie yet: no token was ever given for it
        bound = self.cookie if kind == "csrf" else f"{kind}:{self.cookie}"
        return self.accounts.csrf_ok(bound, value.removesuffix(TOKEN_SUFFIX))

    @property
    def rights(self) -> tuple[str, ...]:
        """MediaWiki's rights of this caller: a bot password's follow its grants."""
        if self.session is None:
            return ANON_RIGHTS
        if self.session.bot is None:
            return USER_RIGHTS
        granted = [r for grant in sorted(self.session.bot.grants) for r in GRANT_RIGHTS.get(grant, ())]
        return tuple(dict.fromkeys(granted))

    @property
    def groups(self) -> tuple[str, ...]:
        if self.session is None:
            return ("*",)
        return ("*", "user", "bot") if "bot" in self.rights else ("*", "user")

    def may(self, right: str) -> bool:
        return right in self.rights

    def log_in(self, session: Session) -> None:
        """Open a session for ``session``'s account; the cookie goes out with the answer."""
        self.opened = self.accounts.open_session(session.account, session.bot)
        self.session, self.closed = session, False

    def log_out(self) -> None:
        if self.session is not None:
            self.accounts.close_session(self.cookie)
        self.session, self.closed, self.opened = None, True, None


def attach(call: ApiCall, session: ApiSession) -> None:
    """Give the modules of ``call`` its session (web/ does this before the call is handled)."""
    call.state["session"] = session


def session_of(call: ApiCall) -> ApiSession:
    """The session web/ attached to ``call`` (web/mwapi.py attaches one to every request)."""
    found = call.state.get("session")
    if found is None:
        raise RuntimeError("this API call has no session: web/mwapi.py attaches one to every request")
    return found
