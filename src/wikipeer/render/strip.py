"""Strip markers: finished HTML held out of the wikitext passes.

Extension tags (``<nowiki>``, ``<pre>``, ``<ref>``...) and error messages are
rendered once and replaced in the text by a marker the later passes treat as
an opaque word; the markers are swapped back at the end. A block marker
(``b``) stands for block-level HTML, so paragraphs are not wrapped round it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

MARK = "\x7f"
MARKER = re.compile("\x7fUNIQ([bi])(\\d+)QINU\x7f")
BLOCK_PREFIX = "\x7fUNIQb"


@dataclass(slots=True)
class StripState:
    """The HTML (or deferred renderers) behind each marker."""

    items: list[str | Callable[[], str]] = field(default_factory=list)

    def add(self, html: str | Callable[[], str], block: bool = False) -> str:
        self.items.append(html)
        return f"{MARK}UNIQ{'b' if block else 'i'}{len(self.items) - 1}QINU{MARK}"

    def unstrip(self, text: str) -> str:
        """Put back every marker's HTML (markers inside that HTML too)."""
        for _ in range(8):  # markers nest a few levels at most (a nowiki in a ref)
            if MARK not in text:
                break
            text = MARKER.sub(self._lookup, text)
        return text.replace(MARK, "")

    def unstrip_finished(self, text: str) -> str:
        """Put back the markers whose HTML is finished; a deferred one (a list of notes) stays a marker.

        For text that is read again before the end: a tag's attributes
        (MediaWiki unstrips them before its sanitizer reads them), two notes'
        texts compared. Rendering a deferred item then would be too early.
        """
        for _ in range(8):
            if MARK not in text:
                break
            text = MARKER.sub(self._lookup_finished, text)
        return text

    def _lookup_finished(self, m: re.Match) -> str:
        item = self.items[int(m.group(2))]
        return m.group(0) if callable(item) else item

    def _lookup(self, m: re.Match) -> str:
        item = self.items[int(m.group(2))]
        if callable(item):
            item = item()
            self.items[int(m.group(2))] = item
        return item
