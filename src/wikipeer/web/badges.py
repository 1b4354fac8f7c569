"""What a reader is told about a revision's signatures, at a glance: whose they are, and whether the reader's
view trusts them."""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.policy.view import View
from wikipeer.store.people import People
from wikipeer.store.records import RevInfo


@dataclass(frozen=True, slots=True)
class Badge:
    """One label: ``kind`` picks its colour (local, trusted, unknown, second)."""

    kind: str
    label: str
    title: str = ""


def badges(rev: RevInfo, view: View, local_keys: frozenset[str], people: People) -> list[Badge]:
    """Who signed ``rev``, by name, and whether ``view`` trusts them; and how many seconded it.

    "local" is a trusted signature made on this node; a local key the view does not
    trust (a web account's, read by someone else) is "unknown" like any other.
    """
    keys = sorted({s.key for s in rev.sigs if s.role != "second"})
    trusted = any(k in view.trusted for k in keys)
    names = ", ".join(people.label(k, k in view.trusted) for k in keys) or "nobody"
    hover = "; ".join(people.person(k).explain(k in view.trusted) for k in keys)
    if trusted:
        kind = "local" if any(k in local_keys and k in view.trusted for k in keys) else "trusted"
        out = [Badge(kind, f"signed by {names} (trusted by your view)", hover)]
    else:
        out = [Badge("unknown", f"signed by {names} — not trusted by this view", hover)]
    seconds = sorted({s.key for s in rev.sigs if s.role == "second"})
    if seconds:
        out.append(Badge("second", f"seconded by {len(seconds)}",
                         ", ".join(people.label(k, k in view.trusted) for k in seconds)))
    return out
