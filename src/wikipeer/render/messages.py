"""Interface messages by MediaWiki's key and language, for ``{{int:}}``, Cite, ``#expr`` and the renderer.

A wiki's own ``MediaWiki:`` pages come first (the callers look there); then
MediaWiki's messages for the language and its fallbacks (core, Cite,
ParserFunctions and Scribunto, from render/language_data.py); then the few
English texts below, which stand in when the language data is not built.
"""

from __future__ import annotations

import re

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
    # The renderer's own errors and notices (MediaWiki core's and Scribunto's wording)
    "redirectto": "Redirect to:", "parser-template-loop-warning": "Template loop detected: [[$1]]",
    "parser-template-recursion-depth-warning": "Template recursion depth limit exceeded ($1)",
    "post-expand-template-inclusion-warning": "<strong>Warning:</strong> Template include size is too large.\n"
                                              "Some templates will not be included.",
    "node-count-exceeded-warning": "Page exceeded the node count",
    "scribunto-common-nosuchmodule": "Script error: No such module \"$2\".",
    "scribunto-common-nofunction": "Script error: You must specify a function to call.",
    "scribunto-common-nosuchfunction": "Script error: The function \"$2\" does not exist.",
    "scribunto-common-timeout": "The time allocated for running scripts has expired.",
    "scribunto-lua-error-location": "Lua error $1: $2.", "scribunto-lua-error": "Lua error: $2.",
    "scribunto-module-line": "in $1 at line $2",
}
# ParserFunctions' #time and #rel2abs errors (its i18n/en.json), for when the language data is not built
_MESSAGES.update({
    "pfunc_time_error": "Error: Invalid time.",
    "pfunc_time_too_long": "Error: Too many #time calls.",
    "pfunc_rel2abs_invalid_depth": "Error: Invalid depth in path: \"$1\" (tried to access a node above the root "
                                   "node).",
})


_REF = "<code>&lt;ref&gt;</code>"
_REFERENCES = "<code>&lt;references&gt;</code>"
# The Cite extension's messages (its i18n/en.json, in the wording of the Cite whose parser tests we run).
_MESSAGES.update({
    "cite_error": "Cite error: $1",
    "cite_error_ref_numeric_key": f"Invalid {_REF} tag; name cannot be a simple integer. Use a descriptive title.",
    "cite_error_ref_no_key": f"The opening {_REF} tag is malformed or has a bad name.",
    "cite_error_ref_too_many_keys": f"Invalid parameter \"$1\" in {_REF} tag. The supported parameters are: $2.",
    "cite_error_ref_no_input": f"Invalid {_REF} tag; refs with no name must have content.",
    "cite_error_ref_invalid_dir": 'Invalid <code>dir="$1"</code>, must be "ltr", "rtl" or "auto".',
    "cite_error_ref_conflicting_dir": f"One of the {_REF} tags with the name \"$1\" does have a conflicting "
                                      "dir attribute.",
    "cite_error_ref_follow_conflicts": "A <code>&lt;ref follow=\"…\"&gt;</code> tag that is the continuation of a "
                                       "previous one cannot be named individually or have details.",
    "cite_error_references_duplicate_key": f"Invalid {_REF} tag; name \"$1\" defined multiple times with "
                                           "different content.",
    "cite_error_references_invalid_parameters": f"Invalid parameter \"$1\" in {_REFERENCES} tag. "
                                                "The supported parameters are: $2.",
    "cite_error_references_no_text": f"Invalid {_REF} tag; no text was provided for refs named \"$1\".",
    "cite_error_included_references": f"Closing tag missing for {_REFERENCES}.",
    "cite_error_group_refs_without_references": f"{_REF} tags exist for a group named \"$1\", but no corresponding "
                                                "<code>&lt;references group=\"$1\"/&gt;</code> tag was found.",
    "cite_error_references_group_mismatch": f"{_REF} tag in {_REFERENCES} has conflicting group attribute \"$1\".",
    "cite_error_references_missing_key": f"{_REF} tag with name \"$1\" defined in {_REFERENCES} is not used in "
                                         "prior text.",
    "cite_error_references_no_key": f"{_REF} tag defined in {_REFERENCES} has no name attribute.",
    "cite_error_empty_references_define": f"{_REF} tag with name \"$1\" defined in {_REFERENCES} group \"$2\" "
                                          "has no content.",
    "cite_error_no_link_label_group": "Ran out of custom link labels for group \"$1\". Define more in the "
                                      "<code>MediaWiki:$2</code> message.",
    "cite_references_link_many_format_backlink_labels": " ".join(
        [chr(c) for c in range(97, 123)] + [chr(a) + chr(b) for a in range(97, 123) for b in range(97, 123)]),
})


def formatted(name: str, *params: str, lang: str = "en") -> str:
    """Message ``name`` in ``lang`` with ``$1``, ``$2``... replaced by ``params`` (⧼key⧽ when unknown)."""
    text = message(name, lang)
    return f"⧼{name}⧽" if text is None else substitute(text, *params)


def substitute(text: str, *params: str) -> str:
    """A message's ``$1``, ``$2``... replaced by ``params`` in one pass (a value holding ``$2`` stays so)."""
    def one(m: re.Match) -> str:
        k = int(m.group(1))
        return params[k - 1] if 0 < k <= len(params) else m.group(0)
    return re.sub(r"\$(\d+)", one, text)


def message(name: str, lang: str = "en") -> str | None:
    """The text of message ``name`` (``Mainpage``, ``history short``...) in ``lang``, or None.

    English comes from the table above first: its Cite wording is that of the
    Cite whose parser tests we run, newer than MediaWiki 1.39's data.
    """
    key = name.strip().replace(" ", "_")
    key = key[:1].lower() + key[1:]
    if not key:
        return None
    found = language_data.language(lang).message(key) if lang != "en" else None
    if found is None:
        found = _MESSAGES.get(key)
    return found if found is not None else language_data.language("en").message(key)
