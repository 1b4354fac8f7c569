"""What a reader is told about a revision's signatures, at a glance."""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.policy.view import View
from wikipeer.store.records import RevInfo


@dataclass(frozen=True, slots=True)
class Badge:
    """One label: ``kind`` picks its colour (local, trusted, unknown, second)."""

    kind: str
    label: str
    title: str = ""


def badges(rev: RevInfo, view: View, local_keys: frozenset[str]) -> list[Badge]:
    """Who signed ``rev``: this node, a trusted key or an unknown key; and how many seconded it."""
    signed = [s for s in rev.sigs if s.role != "second"]
    keys = ", ".join(sorted({s.key for s in signed}))
    out: list[Badge] = []
    if any(s.key in local_keys for s in signed):
        out.append(Badge("local", "signed by this node", keys))
    elif any(s.key in view.trusted for s in signed):
        out.append(Badge("trusted", "signed by a trusted key", keys))
    else:
        out.append(Badge("unknown", "signed by an unknown key", keys))
    seconds = {s.key for s in rev.sigs if s.role == "second"}
    if seconds:
        out.append(Badge("second", f"seconded by {len(seconds)}", ", ".join(sorted(seconds))))
    return out
