"""MediaWiki's English text of a few interface messages, for ``{{int:}}`` and ``{{MediaWiki:...}}``.

A wiki's own ``MediaWiki:`` pages come first; these stand in for the
messages MediaWiki ships that pages commonly use. Other languages' messages
are issue 13's item 3.
"""

from __future__ import annotations

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


def message(name: str) -> str | None:
    """The text of message ``name`` (``Mainpage``, ``history short``...), or None."""
    key = name.strip().replace(" ", "_")
    return _MESSAGES.get(key[:1].lower() + key[1:])
