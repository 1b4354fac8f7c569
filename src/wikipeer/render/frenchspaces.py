"""French spacing: a no-break space before ``? : ; ! % » ›`` and after ``« ‹``.

MediaWiki's Sanitizer::armorFrenchSpaces, which its HTML serializer (Remex)
applies to every text node of the finished page, so a question mark or a
colon never starts a line on its own: ``Quoi ?`` keeps its space, as
French typography writes it. Applied here to the text between the tags of
the sanitised HTML, never inside a tag.
"""

from __future__ import annotations

import re

_PARTS = re.compile(r"(<[^>]*>)|([^<]+)")
_BEFORE = re.compile(r" (?=[?:;!%»›](?!\w))")
_AFTER = re.compile(r"(?<!\w)([«‹]) ")  # not after a word: »quotes« pointing inward (T378404)
NBSP = "&#160;"


def armor(html: str) -> str:
    """``html`` with the blanks French spacing binds written as no-break spaces."""
    if not any(mark in html for mark in (" ?", " :", " ;", " !", " %", " »", " ›", "« ", "‹ ")):
        return html
    return _PARTS.sub(lambda m: m.group(1) or _AFTER.sub(r"\1" + NBSP, _BEFORE.sub(NBSP, m.group(2))), html)
