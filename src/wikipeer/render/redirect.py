"""``#REDIRECT [[Target]]``, in English or in the wiki's own language.

As MediaWiki: the words are the ``redirect`` magic word's synonyms in the
wiki's language (its fallback chain's too) and English's, matched without
regard to case (``#הפניה``, ``#تحويل``, ``#WEITERLEITUNG`` on a German wiki);
a word of another language is no redirect. Without the language data only
``#REDIRECT`` is known.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from wikipeer.model.title import WikiConfig
from wikipeer.render import language_data
from wikipeer.render.names import PageName, page_name


@lru_cache(maxsize=64)
def _pattern(lang: str) -> re.Pattern:
    words = {"#redirect"}
    for code in dict.fromkeys([lang or "en", "en"]):
        words.update(w for w in language_data.language(code).magic_words("redirect")[1])
    names = sorted((w[1:] if w.startswith("#") else w for w in words), key=len, reverse=True)
    return re.compile(r"\A\s*#(?:" + "|".join(map(re.escape, names)) + r")\s*:?\s*\[\[([^\[\]|\n]+)(?:\|[^\[\]\n]*)?\]\]",
                      re.I)


def redirect_words(lang: str) -> re.Pattern:
    """The pattern of a redirect line in ``lang`` (English's words included)."""
    if not language_data.current().available:
        return _pattern.__wrapped__(lang)  # not cached: a data file built later is taken up
    return _pattern(lang)


def redirect_target(config: WikiConfig, text: str) -> PageName | None:
    """The page a redirect page leads to, or None when ``text`` is no redirect."""
    m = redirect_words(config.lang).match(text)
    if m is None:
        return None
    name = page_name(config, html.unescape(m.group(1)))
    return name if name is not None and name.full else None
