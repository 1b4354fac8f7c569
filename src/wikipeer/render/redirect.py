"""``#REDIRECT [[Target]]``, in English or in a wiki's own language."""

from __future__ import annotations

import html
import re

from wikipeer.model.title import WikiConfig
from wikipeer.render.names import PageName, page_name

# MediaWiki's redirect magic words for the languages we meet (case-insensitive).
REDIRECT_WORDS = (
    "redirect", "перенаправлення", "перенаправление", "перенапр", "đổi", "転送", "リダイレクト",
    "पुनर्निर्देशन", "पुर्ननिर्देशन", "weiterleitung", "redirection", "redirección", "redireccion",
)
_REDIRECT = re.compile(
    r"\A\s*#(?:" + "|".join(map(re.escape, REDIRECT_WORDS)) + r")\s*:?\s*\[\[([^\[\]|\n]+)(?:\|[^\[\]\n]*)?\]\]",
    re.I,
)


def redirect_target(config: WikiConfig, text: str) -> PageName | None:
    """The page a redirect page leads to, or None when ``text`` is no redirect."""
    m = _REDIRECT.match(text)
    if m is None:
        return None
    name = page_name(config, html.unescape(m.group(1)))
    return name if name is not None and name.full else None
