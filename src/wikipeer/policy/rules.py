"""Acceptance rules applied at ingest, after schemas and signatures.

Size limits, which signature a revision or notice needs, and the blocklists
a node enforces on the text new revisions add.
"""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.errors import InvalidObject
from wikipeer.model.media import File
from wikipeer.model.objects import Blocklist, Notice, Revision
from wikipeer.policy.blocklist import BlockGuard, added_text, check_patterns

MAX_TEXT = 4 << 20
MAX_FILE = 1 << 30
MAX_HELD, MAX_HELD_BYTES = 100_000, 256 << 20
MAX_HELD_TOTAL, MAX_HELD_TOTAL_BYTES = 1_000_000, 1 << 30
HELD_SECONDS = 7 * 86400


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits a node enforces on everything that enters."""

    max_text: int = MAX_TEXT
    max_file: int = MAX_FILE  # bytes of one media file
    guard: BlockGuard | None = None
    max_held: int = MAX_HELD  # objects one source may leave waiting for something that has not come
    max_held_bytes: int = MAX_HELD_BYTES
    max_held_total: int = MAX_HELD_TOTAL  # all sources together, past which callers of the API may hold no more
    max_held_total_bytes: int = MAX_HELD_TOTAL_BYTES
    held_seconds: int = HELD_SECONDS  # how long a held block may wait before it is forgotten

    def check_blocklist(self, blocklist: Blocklist) -> None:
        check_patterns(blocklist)

    def check_added(self, old: str, new: str) -> None:
        """Refuse a revision whose added text matches an enforced blocklist."""
        if self.guard:
            hit = self.guard.check(added_text(old, new))
            if hit is not None:
                raise InvalidObject(f"blocked: the text it adds matches {hit}")


def required_signers(record: Revision | File | Notice) -> tuple[str | None, tuple[str, ...]]:
    """Who must sign a record, as (key or None for any key, accepted roles).

    A file version is signed like a revision. An authored revision needs its author's own signature; one without an
    author (imported or anonymous) needs a node's; a notice (profile, ban,
    trust list, blocklist), its issuer's: so only its issuer can supersede it.
    """
    if not isinstance(record, (Revision, File)):
        return record.key, ("author",)
    if record.author:
        return record.author, ("author",)
    return None, ("node", "author")
