"""Interface messages by MediaWiki's key and language, for ``{{int:}}``, Cite, ``#expr`` and the renderer.

A wiki's own ``MediaWiki:`` pages come first (the callers look there); then
MediaWiki's messages for the language and its fallbacks (core, Cite,
ParserFunctions and Scribunto, from render/language_data.py); then the few
English texts below, which stand in when the language data is not built.
"""

from __future__ import annotations

from wikipeer.render import language_data

_MESSAGES = {
    "ok": "OK", "cancel": "Cancel", "mainpage": "Main Page", "mainpage-description": "Main page",
    "new-messages": "You have $1 ($2).", "search": "Search", "edit": "Edit", "history": "History",
    "talk": "Discussion", "history_short": "History", "help": "Help", "categories": "Categories",
    "retrievedfrom": "Retrieved from \"$1\"",
    "lang": "Language", "print": "Print", "redirectedfrom": "(Redirected from $1)", "toc": "Contents",
    "hidetoc": "hide", "showtoc": "show", "and": " and", "word-separator": " ", "comma-separator": ", ",
    "colon-separator": ": ", "pipe-separator": " | ", "parentheses": "($1)", "brackets": "[$1]",
    "returnto": "Return to $1.", "qbfind": "Find", "january": "January", "february": "February",
    "march": "March", "april": "April", "may_long": "May", "june": "June", "july": "July", "august": "August",
    "september": "September", "october": "October", "november": "November", "december": "December",
}


def message(name: str, lang: str = "en") -> str | None:
    """The text of message ``name`` (``Mainpage``, ``history short``...) in ``lang``, or None."""
    key = name.strip().replace(" ", "_")
    key = key[:1].lower() + key[1:]
    found = language_data.language(lang).message(key) if key else None
    return found if found is not None else _MESSAGES.get(key)
