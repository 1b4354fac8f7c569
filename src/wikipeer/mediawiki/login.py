"""Logging in to a MediaWiki before pushing: bot passwords or the main account.

``Name@Label`` is a bot password (Special:BotPasswords), logged in with
``action=login`` and a login token, as MediaWiki asks bots to. A plain name
is the main account, logged in with ``action=clientlogin``, the form
MediaWiki keeps for interactive clients (``action=login`` with a main
password is deprecated). Either way a refusal is one LoginFailed naming the
wiki, the account and MediaWiki's reason, never the password.
"""

from __future__ import annotations

from typing import Any

from wikipeer.mediawiki.credentials import Account
from wikipeer.mediawiki.remote import MediaWikiError, RemoteWiki


class LoginFailed(MediaWikiError):
    """MediaWiki did not let the account in; the message says why, as MediaWiki put it."""

    def __init__(self, url: str, user: str, reason: str) -> None:
        super().__init__(url, f"cannot log in as {user}: {reason}", "loginfailed", reason)


def is_bot_password(user: str) -> bool:
    """``Name@Label``: a bot password's login name."""
    return "@" in user


def log_in(remote: RemoteWiki, account: Account) -> str:
    """Log the session of ``remote`` in as ``account``; returns the user name MediaWiki reports."""
    remote.forget_tokens()  # a login token belongs to the session before the login, a csrf token to the one after
    try:
        if is_bot_password(account.user):
            name = _bot_login(remote, account)
        else:
            name = _client_login(remote, account)
    finally:
        remote.forget_tokens()
    return name


def _bot_login(remote: RemoteWiki, account: Account) -> str:
    answer = remote.post(action="login", lgname=account.user, lgpassword=account.password.reveal(),
                         lgtoken=remote.token("login"))
    result = _part(remote, answer, "login")
    if result.get("result") != "Success":
        reason = str(result.get("reason") or result.get("result") or "no reason given")
        raise LoginFailed(remote.url, account.user, f"the bot password was refused: {reason}")
    return str(result.get("lgusername", account.user))


def _client_login(remote: RemoteWiki, account: Account) -> str:
    answer = remote.post(action="clientlogin", username=account.user, password=account.password.reveal(),
                         logintoken=remote.token("login"), loginreturnurl=remote.url)
    result = _part(remote, answer, "clientlogin")
    if result.get("status") != "PASS":
        status = str(result.get("status", "?"))
        reason = str(result.get("message") or result.get("messagecode") or "no reason given").replace("\n", " ")
        hint = (" (the wiki asks for more than a password, a second factor say: use a bot password, "
                "--user NAME@LABEL)" if status in ("UI", "REDIRECT") else "")
        raise LoginFailed(remote.url, account.user, f"{reason}{hint}")
    return str(result.get("username", account.user))


def _part(remote: RemoteWiki, answer: dict[str, Any], name: str) -> dict[str, Any]:
    part = answer.get(name)
    if not isinstance(part, dict):
        raise MediaWikiError(remote.url, f"answered {name} without its {name!r} part", "badjson")
    return part
