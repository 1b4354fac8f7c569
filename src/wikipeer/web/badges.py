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


def badges(rev: RevInfo, view: View, people: People) -> list[Badge]:
    """Who signed ``rev``, by name, and whether ``view`` trusts them; and how many seconded it.

    "local" is a trusted signature made on this node; a local key the view does not
    trust (a web account's, read by someone else) is "unknown" like any other.
    """
    signers = [people.person(k) for k in sorted({s.key for s in rev.sigs if s.role != "second"})]
    trusted = [p.key in view.trusted for p in signers]
    names = ", ".join(p.label(t) for p, t in zip(signers, trusted)) or "nobody"
    hover = "; ".join(p.explain(t) for p, t in zip(signers, trusted))
    if any(trusted):
        kind = "local" if any(p.held and t for p, t in zip(signers, trusted)) else "trusted"
        out = [Badge(kind, f"signed by {names} (trusted by your view)", hover)]
    else:
        out = [Badge("unknown", f"signed by {names} — not trusted by this view", hover)]
    seconds = sorted({s.key for s in rev.sigs if s.role == "second"})
    if seconds:
        out.append(Badge("second", f"seconded by {len(seconds)}",
                         ", ".join(people.label(k, k in view.trusted) for k in seconds)))
    return out
