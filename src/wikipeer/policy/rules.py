"""Acceptance rules applied at ingest, after schemas and signatures.

For now: size limits, and which signature a revision or profile needs. Trust
lists, blocklists and bans join here in later issues.
"""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.model.objects import Ban, Profile, Revision

MAX_TEXT = 4 << 20


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits a node enforces on everything that enters."""

    max_text: int = MAX_TEXT


def required_signers(record: Revision | Profile | Ban) -> tuple[str | None, tuple[str, ...]]:
    """Who must sign a record, as (key or None for any key, accepted roles).

    An authored revision needs its author's own signature; one without an
    author (imported or anonymous) needs a node's; a profile or a ban, its issuer's.
    """
    if isinstance(record, (Profile, Ban)):
        return record.key, ("author",)
    if record.author:
        return record.author, ("author",)
    return None, ("node", "author")
