"""A wikitext page's sections, as MediaWiki numbers them for ``section=`` (pure text work).

Section 0 is what comes before the first heading; section N runs from the
Nth heading to the next heading of the same or a higher level. Heading lines
inside comments, ``<nowiki>`` and ``<pre>`` (and the code tags) are not headings.
Headings made by templates are not counted, as MediaWiki's ``T-`` sections
are not offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(={1,6})(.+?)(={1,6})[ \t]*(?:<!--.*?-->[ \t]*)*$")
_OPAQUE = re.compile(r"<!--.*?(?:-->|\Z)|<(nowiki|pre|source|syntaxhighlight|math)\b[^>]*>.*?(?:</\1\s*>|\Z)",
                     re.S | re.I)


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading line: where it starts in the text, and its level (2 for ``== x ==``)."""

    start: int
    level: int
    title: str


def headings(text: str) -> list[Heading]:
    """The section headings of ``text``, in order."""
    hidden = _hidden_spans(text)
    found = []
    offset = 0
    for line in text.split("\n"):
        match = _HEADING.match(line) if line.startswith("=") else None
        if match and not any(a <= offset < b for a, b in hidden):
            level = min(len(match.group(1)), len(match.group(3)))
            found.append(Heading(offset, level, match.group(2).strip()))
        offset += len(line) + 1
    return found


def _hidden_spans(text: str) -> list[tuple[int, int]]:
    if "<" not in text:
        return []
    return [m.span() for m in _OPAQUE.finditer(text)]


def section_span(text: str, number: int) -> tuple[int, int] | None:
    """Where section ``number`` starts and ends in ``text``; None when there is no such section."""
    found = headings(text)
    if number == 0:
        return 0, found[0].start if found else len(text)
    if not 1 <= number <= len(found):
        return None
    heading = found[number - 1]
    end = next((h.start for h in found[number:] if h.level <= heading.level), len(text))
    return heading.start, end


def get_section(text: str, number: int) -> str | None:
    span = section_span(text, number)
    return None if span is None else text[span[0]:span[1]].rstrip("\n")


def replace_section(text: str, number: int, new: str) -> str | None:
    """``text`` with section ``number`` replaced by ``new``, as MediaWiki joins them (a blank line after it)."""
    span = section_span(text, number)
    if span is None:
        return None
    return text[:span[0]] + (new + "\n\n" if new else "") + text[span[1]:]


def add_section(text: str, title: str, body: str) -> str:
    """``section=new``: a heading (when titled) and ``body`` after the text, a blank line between."""
    subject = f"== {title} ==\n\n" if title else ""
    return f"{text}\n\n{subject}{body}" if text.strip() else f"{subject}{body}"
