"""Views: which of a page's heads a reader is shown.

Heads signed (or seconded) by a key the viewer trusts win; among equals the
newest timestamp wins, and last the smaller CID, so every node agrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wikipeer.store.records import RevInfo


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
