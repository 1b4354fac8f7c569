"""``meta=tokens``: the tokens a caller sends back with writes and logins (see session.py)."""

from __future__ import annotations

from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.query import Query
from wikipeer.mediawiki.api.registry import Module, register
from wikipeer.mediawiki.api.session import TOKEN_TYPES, session_of


def run(call: ApiCall, params: dict[str, Any], query: Query) -> None:
    session = session_of(call)
    query.result["tokens"] = {f"{kind}token": session.token(kind) for kind in params["type"]}


register(Module("tokens", "meta", "", (
    Param("type", multi=True, values=TOKEN_TYPES, default="csrf"),
), run, help="Tokens for writes (csrf), logins (login) and the rest; bound to the caller's session."))
