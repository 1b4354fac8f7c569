"""What a search result shows: the page's text as a reader sees it around the first match, the matched
words marked (docs/search.md).

The index matches the wikitext (store/search.py); the snippet is cut from the same revision reduced to
plain text (model/plaintext.py), so a result never shows ``{{...}}``, ``[[...]]`` or ``<ref>``. Each
showing marks them its own way: ``<mark>`` on the web page, bold on a terminal,
``<span class="searchmatch">`` in api.php, always around escaped text.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from wikipeer.model.title import WikiConfig
from wikipeer.node import Node
from wikipeer.model.plaintext import hidden_prefixes, plain_text
from wikipeer.store.records import PageRow
from wikipeer.store.search import Query
from wikipeer.store.segment import is_unspaced

BEFORE = 60
"""Characters of text shown before the first match."""
WIDTH = 200
"""Characters a snippet holds at most (MediaWiki's are about as long)."""
SNAP = 20
"""How far a cut may move to fall between two words (text written without spaces is cut anywhere)."""
CACHED_TEXTS = 128
"""Plain texts kept in memory: a second results page, or the same search again, reduces nothing twice."""


@dataclass(frozen=True, slots=True)
class Snippet:
    """Plain text and the places in it (start, end) that match the query, in order, not overlapping."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def parts(self) -> Iterator[tuple[str, bool]]:
        """The text in pieces, each with whether it is a match."""
        at = 0
        for start, end in self.marks:
            if start > at:
                yield self.text[at:start], False
            yield self.text[start:end], True
            at = end
        if at < len(self.text):
            yield self.text[at:], False

    def html(self, open_tag: str = "<mark>", close_tag: str = "</mark>") -> str:
        """The text escaped, each match between ``open_tag`` and ``close_tag`` (the only markup)."""
        return "".join(open_tag + html.escape(piece, quote=False) + close_tag if hit else html.escape(piece, quote=False)
                       for piece, hit in self.parts())


def page_snippet(node: Node, row: PageRow, query: str) -> Snippet:
    """The snippet of a page a search for ``query`` found."""
    text = _plain(node.store.indexed_text(row.id), hidden_prefixes(node.wiki_or_default(row.wiki)))
    return cut(text, Query.parse(query))


def title_snippet(config: WikiConfig, row: PageRow, query: str) -> Snippet:
    """A found page's full title with the query's matches marked."""
    title = config.full_title(row.ns, row.title)
    return Snippet(title, tuple(matches(title, Query.parse(query))))


def cut(text: str, query: Query, before: int = BEFORE, width: int = WIDTH) -> Snippet:
    """The piece of ``text`` (one line of plain text) around the first match, its matches marked;
    the start of the text, unmarked, when the match was only in the markup (a template's name)."""
    found = matches(text, query)
    start = _snap_back(text, found[0][0] - before) if found else 0
    end = _snap_forward(text, start + width)
    lead = "… " if start else ""
    piece = lead + text[start:end] + (" …" if end < len(text) else "")
    shift = len(lead) - start
    marks = tuple((a + shift, b + shift) for a, b in found if a >= start and b <= end)
    return Snippet(piece, marks)


def matches(text: str, query: Query) -> list[tuple[int, int]]:
    """Where the query's terms occur in ``text``, merged where they touch or overlap.

    A long term matches anywhere, as the search does; a short one (a word of one or two letters) only
    as a whole word, except in scripts written without spaces, where words have no edges to see.
    """
    folded, where = _folded(text)
    spans: list[tuple[int, int]] = []
    for term in query.long + query.loose:
        spans += _occurrences(folded, term, whole_word=False)
    for term in query.short:
        spans += _occurrences(folded, term, whole_word=not is_unspaced(term))
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(where(a), where(b)) for a, b in merged]


def _occurrences(folded: str, term: str, whole_word: bool) -> list[tuple[int, int]]:
    spans = []
    at = folded.find(term)
    while at >= 0:
        end = at + len(term)
        if not whole_word or not (_in_word(folded, at - 1) or _in_word(folded, end)):
            spans.append((at, end))
        at = folded.find(term, at + 1)
    return spans


def _in_word(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or unicodedata.category(text[i])[0] == "M")


def _folded(text: str) -> tuple[str, Callable[[int], int]]:
    """``text`` lower-cased as the search folds it, and a map from its places back to ``text``'s.

    ``text`` is NFC already (``_plain``). Lower-casing keeps the length of every character but ``İ``
    (two: ``i`` and a combining dot), so places are the same, or shifted by the ``İ`` before them.
    """
    folded = text.lower()
    if len(folded) == len(text):
        return folded, lambda i: i
    starts = [m.start() + k for k, m in enumerate(re.finditer("\u0130", text))]  # each İ's place in ``folded``
    if len(folded) == len(text) + len(starts):
        return folded, lambda i: i - bisect_left(starts, i - 1)
    places: list[int] = []  # another case mapping that grows: fold character by character
    for i, ch in enumerate(text):
        places += [i] * len(ch.lower())
    places.append(len(text))
    return folded, lambda i: places[i]


def _snap_back(text: str, at: int) -> int:
    if at <= 0:
        return 0
    space = text.find(" ", at, at + SNAP)
    return space + 1 if space >= 0 and not is_unspaced(text[at:at + 1]) else at


def _snap_forward(text: str, at: int) -> int:
    if at >= len(text):
        return len(text)
    space = text.rfind(" ", at - SNAP, at)
    return space if space >= 0 and not is_unspaced(text[at - 1:at]) else at


@lru_cache(maxsize=CACHED_TEXTS)
def _plain(wikitext: str, hidden: frozenset[str]) -> str:
    # One line (a snippet is shown as one), NFC as the search folds it, so places match.
    text = " ".join(plain_text(wikitext, hidden).split())
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
