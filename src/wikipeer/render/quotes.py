"""Bold and italic from runs of apostrophes, per line, as MediaWiki's ``doQuotes``.

The quirks are MediaWiki's own: four apostrophes are one apostrophe and
bold, more than five are text and bold-italic, and when a line has an odd
number of both bold and italic runs, one bold run turns into an apostrophe
plus italic (preferably after a one-letter word).
"""

from __future__ import annotations

import re

_RUNS = re.compile(r"(''+)")


def all_quotes(text: str) -> str:
    """``text`` with ``''`` and ``'''`` runs turned into ``<i>`` and ``<b>``, line by line."""
    if "''" not in text:
        return text
    return "\n".join(quotes(line) if "''" in line else line for line in text.split("\n"))


def quotes(line: str) -> str:
    """One line's apostrophe runs as HTML, every tag closed by the end of the line."""
    arr = _RUNS.split(line)
    bold = italic = 0
    for i in range(1, len(arr), 2):
        n = len(arr[i])
        if n == 4:
            arr[i - 1] += "'"
            arr[i], n = "'''", 3
        elif n > 5:
            arr[i - 1] += "'" * (n - 5)
            arr[i], n = "'''''", 5
        if n == 2:
            italic += 1
        elif n == 3:
            bold += 1
        elif n == 5:
            italic += 1
            bold += 1
    if bold % 2 and italic % 2:
        _demote_one_bold(arr)
    return _convert(arr)


def _demote_one_bold(arr: list[str]) -> None:
    single = multi = space = -1
    for i in range(1, len(arr), 2):
        if len(arr[i]) != 3:
            continue
        before = arr[i - 1]
        x1, x2 = before[-1:], before[-2:-1]
        if x1 == " ":
            if space == -1:
                space = i
        elif x2 == " ":
            single = i
            break
        elif multi == -1:
            multi = i
    chosen = single if single > -1 else multi if multi > -1 else space
    if chosen > -1:
        arr[chosen] = "''"
        arr[chosen - 1] += "'"


_TWO = {"i": ("</i>", ""), "bi": ("</i>", "b"), "ib": ("</b></i><b>", "b")}
_THREE = {"b": ("</b>", ""), "bi": ("</i></b><i>", "i"), "ib": ("</b>", "i")}
_FIVE = {"b": ("</b><i>", "i"), "i": ("</i><b>", "b"), "bi": ("</i></b>", ""), "ib": ("</b></i>", "")}


def _convert(arr: list[str]) -> str:
    out: list[str] = []
    buffer: list[str] = []
    state = ""
    for i, piece in enumerate(arr):
        if i % 2 == 0:
            (buffer if state == "both" else out).append(piece)
            continue
        n = len(piece)
        if state == "both":
            held = "".join(buffer)
            if n == 2:
                out.append(f"<b><i>{held}</i>")
                state = "b"
            elif n == 3:
                out.append(f"<i><b>{held}</b>")
                state = "i"
            else:
                out.append(f"<i><b>{held}</b></i>")
                state = ""
            continue
        table = _TWO if n == 2 else _THREE if n == 3 else _FIVE
        if state in table:
            html, state = table[state]
            out.append(html)
        elif n == 5:
            buffer, state = [], "both"
        else:
            tag = "i" if n == 2 else "b"
            out.append(f"<{tag}>")
            state += tag
    if state in ("b", "ib"):
        out.append("</b>")
    if state in ("i", "bi", "ib"):
        out.append("</i>")
    if state == "bi":
        out.append("</b>")
    if state == "both" and buffer:
        out.append("<b><i>" + "".join(buffer) + "</i></b>")
    return "".join(out)
