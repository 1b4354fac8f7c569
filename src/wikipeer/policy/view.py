"""Views: which of a page's heads a reader is shown.

Heads signed (or seconded) by a key the viewer trusts win; among equals the
newest timestamp wins, and last the smaller CID, so every node agrees.

``shown`` and ``ordered`` ask the store, which applies the same rule in one
SQL query per page (store/shown.py); ``choose`` and ``order`` rank heads
already read, and are the rule's reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wikipeer.store.records import RevInfo
from wikipeer.store.store import Store


@dataclass(frozen=True, slots=True)
class View:
    """A set of trusted keys."""

    trusted: frozenset[str] = field(default_factory=frozenset)

    def is_trusted(self, rev: RevInfo) -> bool:
        return bool(rev.signers() & self.trusted)

    def rank(self, rev: RevInfo) -> tuple:
        # Python sorts ascending: negate what should win.
        return (not self.is_trusted(rev), -rev.ts, rev.cid)

    def order(self, heads: Iterable[RevInfo]) -> list[RevInfo]:
        """Heads best first."""
        return sorted(heads, key=self.rank)

    def choose(self, heads: Iterable[RevInfo]) -> RevInfo | None:
        ordered = self.order(heads)
        return ordered[0] if ordered else None

    def shown(self, store: Store, page_id: int) -> RevInfo | None:
        """The head of a page this view shows, chosen in the store; None if the page has none."""
        return store.shown_head(page_id, self.trusted)

    def ordered(self, store: Store, page_id: int) -> list[RevInfo]:
        """Every head of a page, best first, ranked in the store."""
        return store.ordered_heads(page_id, self.trusted)
