"""One request to api.php: what the web layer hands over, and what it sends back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wikipeer.mediawiki.api.errors import ApiWarning
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node
from wikipeer.policy.view import View
from wikipeer.store.records import RevInfo

TokenCheck = Callable[[str, str], bool]
"""(token type, value sent) -> whether it is valid for this caller; the web layer supplies it."""


@dataclass(slots=True)
class ApiCall:
    """A request as the modules see it.

    ``params``: every parameter sent (query string and body merged, the last of
    a repeated name wins, as in PHP). ``account``: whoever the session cookie
    logs in (the web layer resolves it; None: anonymous); its ``name`` is
    read. ``user_name``: how a revision's author is named (an imported user, a
    local account, else the key). ``check_token``: validates ``token=`` for
    modules that need one; None refuses every token. ``cookies``: what the
    modules want set on the response (name, value, max-age or None).
    ``files``: uploaded parts of a multipart body, by name.
    """

    node: Node
    wiki: WikiConfig
    params: dict[str, str]
    method: str = "GET"
    account: Any = None
    is_bot: bool = False
    user_name: Callable[[RevInfo], str] = lambda rev: rev.origin.get("user") or rev.author or ""
    check_token: TokenCheck | None = None
    script_url: str = "/w/api.php"
    page_url: str = "/wiki/"
    servedby: str = "wikipeer"
    view: View | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)
    warnings: list[ApiWarning] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    formatversion: int = 1
    state: dict[str, Any] = field(default_factory=dict)

    def warn(self, module: str, code: str, text: str) -> None:
        """Add a warning to the answer (once per text)."""
        warning = ApiWarning(module, code, text)
        if warning not in self.warnings:
            self.warnings.append(warning)

    def shown_view(self) -> View:
        """The view whose heads the API shows: ``view=`` if set, else the node's default."""
        return self.view if self.view is not None else self.node.view()


@dataclass(slots=True)
class ApiResponse:
    """What goes back over HTTP."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)
