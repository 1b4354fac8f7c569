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
# MediaWiki's own marker, as Lua modules see markers (Parser::MARKER_PREFIX, the tag's name, 8 hex digits):
# CS1 tells a nowiki or math marker in a parameter from a stray "delete" character by its name.
MEDIAWIKI_MARKER = re.compile("\x7f'\"`UNIQ--([A-Za-z]+)-([0-9A-F]{8})-QINU`\"'\x7f")


@dataclass(slots=True)
class StripState:
    """The HTML (or deferred renderers) behind each marker."""

    items: list[str | Callable[[], str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # what made each item: the tag's name (nowiki, ref...)

    def add(self, html: str | Callable[[], str], block: bool = False, name: str = "item") -> str:
        self.items.append(html)
        self.names.append(name)
        return f"{MARK}UNIQ{'b' if block else 'i'}{len(self.items) - 1}QINU{MARK}"

    def to_mediawiki(self, text: str) -> str:
        """TEXT with its markers in MediaWiki's form (``\\x7f'"`UNIQ--nowiki-0000000A-QINU`"'\\x7f``), for Lua.

        The 8 hex digits hold the item's number and, last, A (inline) or B (block)."""
        if MARK not in text:
            return text

        def one(m: re.Match) -> str:
            index = int(m.group(2))
            name = self.names[index] if index < len(self.names) else "item"
            return f"{MARK}'\"`UNIQ--{name}-{index:07X}{'B' if m.group(1) == 'b' else 'A'}-QINU`\"'{MARK}"

        return MARKER.sub(one, text)

    def from_mediawiki(self, text: str) -> str:
        """TEXT from Lua with MediaWiki-form markers back in ours; one naming no item of ours is dropped."""
        if MARK not in text:
            return text

        def one(m: re.Match) -> str:
            digits = m.group(2)
            index = int(digits[:7], 16)
            if index >= len(self.items) or digits[7] not in "AB":
                return ""
            return f"{MARK}UNIQ{'b' if digits[7] == 'B' else 'i'}{index}QINU{MARK}"

        return MEDIAWIKI_MARKER.sub(one, text)

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
