"""``action=login``, ``clientlogin`` and ``logout``, answering as MediaWiki 1.39 does.

``login`` takes bot passwords (``Name@Label``, or ``Name`` with the password
``Label@password``) and, like MediaWiki 1.39 by default, the account's own
password too, with MediaWiki's deprecation warning. Without ``lgtoken`` it
answers ``NeedToken`` with a token; a wrong one ``WrongToken``; wrong
credentials ``Failed`` with a reason that never says which part was wrong.
``clientlogin`` takes the account's own password (never a bot password, as in
MediaWiki) in one step: ``PASS`` or ``FAIL``. Passwords and tokens must come
in the POST body: in the query string they would land in access logs.
Every password check runs under the node's login limits (see web/mwapi.py).
"""

from __future__ import annotations

from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.errors import ApiError
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.registry import Module, register
from wikipeer.mediawiki.api.session import ApiSession, session_of
from wikipeer.net.ratelimit import RateLimited
from wikipeer.store.accounts import BOT_PASSWORD_LENGTH, LoginFailed, Session

WRONG = "Incorrect username or password entered. Please try again."
SESSION_LOST = "Unable to continue login. Your session most likely timed out."
MAIN_ACCOUNT_WARNING = ('Main-account login via "action=login" is deprecated and may stop working without warning. '
                        'To continue login with "action=login", see [[Special:BotPasswords]] (on this node: '
                        '"wikipeer account botpassword NAME LABEL"). To safely continue using main-account login, '
                        'see "action=clientlogin".')
TOKEN_WARNING = 'Fetching a token via "action=login" is deprecated. Use "action=query&meta=tokens&type=login" instead.'
QUERY_NAMES = "query_names"
"""``call.state`` key: the parameter names that came in the query string (web/ fills it)."""


def require_posted(call: ApiCall, names: tuple[str, ...]) -> None:
    """MediaWiki's ``mustpostparams``: these parameters may not travel in the URL."""
    found = [n for n in names if n in call.state.get(QUERY_NAMES, ())]
    if found:
        many = len(found) > 1
        raise ApiError("mustpostparams", f"The following parameter{'s' if many else ''} "
                                         f"{'were' if many else 'was'} found in the query string, but must be in "
                                         f"the POST body: {', '.join(found)}.")


def bot_login_name(name: str, password: str) -> tuple[str, str] | None:
    """``(Name@Label, password)`` for the two ways MediaWiki takes a bot password; None for a main-account login."""
    if "@" in name:
        return name, password
    label, _, secret = password.rpartition("@")
    if label and len(secret) == BOT_PASSWORD_LENGTH:
        return f"{name}@{label}", secret
    return None


def login(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    return {"login": _login(call, params)}


def _login(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    require_posted(call, ("lgpassword", "lgtoken"))
    session = session_of(call)
    if not params["token"]:
        call.warn("login", "deprecation", TOKEN_WARNING)
        return {"result": "NeedToken", "token": session.token("login")}
    if session.new_cookie:  # no token was ever given to this caller: MediaWiki's "session lost"
        return {"result": "Failed", "reason": SESSION_LOST}
    if not session.check("login", params["token"]):
        return {"result": "WrongToken"}
    name, password = (params["name"] or "").strip(), params["password"] or ""
    try:
        opened = _check(call, session, name, password)
    except LoginFailed:
        return {"result": "Failed", "reason": WRONG}
    except RateLimited as exc:
        return {"result": "Failed", "reason": str(exc)}
    session.log_in(opened)
    account = opened.account
    return {"result": "Success", "lguserid": session.accounts.user_id(account.name), "lgusername": account.name}


def _check(call: ApiCall, session: ApiSession, name: str, password: str) -> Session:
    accounts = session.accounts
    bot = bot_login_name(name, password)
    if bot is not None:
        try:
            return session.verify(bot[0], accounts.check_bot_password, *bot)
        except LoginFailed:
            if "@" in name:
                raise
            # "Label@secret" may be an account's own password that has an @ in it: MediaWiki tries that too.
    account = session.verify(name, accounts.check_password, name, password)
    call.warn("login", "deprecation", MAIN_ACCOUNT_WARNING)
    return Session(account)


def clientlogin(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    return {"clientlogin": _clientlogin(call, params)}


def _clientlogin(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    require_posted(call, ("password", "logintoken"))
    session = session_of(call)
    token = params["token"]
    if token is None:
        raise ApiError("missingparam", 'The "logintoken" parameter must be set.')
    if not session.check("login", token):
        raise ApiError("badtoken", "Invalid CSRF token.")
    if not params["continue"] and params["returnurl"] is None:
        raise ApiError("missingparam", 'At least one of the parameters "logincontinue" and "loginreturnurl" is '
                                       "required.")
    call.used.update(("username", "password", "rememberMe"))
    if params["continue"]:
        return _fail("authmanager-authn-not-in-progress",
                     "Authentication is not in progress or session data has been lost. Please start again "
                     "from the beginning.")
    name, password = call.params.get("username", "").strip(), call.params.get("password", "")
    if not name or not password:
        return _fail("authmanager-authn-no-primary", "Log in with username and password: both are needed.")
    try:
        account = session.verify(name, session.accounts.check_password, name, password)
    except LoginFailed:
        return _fail("wrongpassword", WRONG.replace(" Please", "\nPlease"))
    except RateLimited as exc:
        return _fail("login-throttled", str(exc))
    session.log_in(Session(account))
    return {"status": "PASS", "username": account.name}


def _fail(code: str, message: str) -> dict[str, Any]:
    return {"status": "FAIL", "message": message, "messagecode": code, "canpreservestate": False}


def logout(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    session_of(call).log_out()
    return {}


register(Module("login", "action", "lg", (
    Param("name", "user"),
    Param("password", "password", sensitive=True),
    Param("domain"),
    Param("token", sensitive=True),
), login, post_only=True, help="Log in with a bot password (Name@Label), or the account's own (deprecated)."))

register(Module("clientlogin", "action", "login", (
    Param("requests", multi=True),
    Param("messageformat", values=("html", "wikitext", "raw", "none"), default="wikitext"),
    Param("mergerequestfields", "boolean"),
    Param("preservestate", "boolean"),
    Param("returnurl"),
    Param("continue", "boolean"),
    Param("token", sensitive=True, help="a login token (meta=tokens&type=login); also username and password"),
), clientlogin, post_only=True,
    help="Log in with the account's own password (username=, password=): PASS or FAIL in one step."))

register(Module("logout", "action", "", (), logout, post_only=True, token="csrf",
                help="End the session (a csrf token from meta=tokens)."))
