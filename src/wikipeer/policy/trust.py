"""Communities: whose signatures a view trusts, from the trust lists it subscribes to.

A view is a set of subscribed communities, each named by its issuer's key and
its name, plus the viewer's own keys. A community's members are the keys of
the newest trust list its issuer published under that name; a list may
include other communities ("ISSUER_KEY/name"), whose members count too.
Inclusion is followed breadth first, each community once, to a bounded depth
and number of lists: a list that includes itself, or communities that
include each other in a circle, end the walk instead of looping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wikipeer.model.objects import Trust

MAX_DEPTH = 8
MAX_LISTS = 1000

Community = tuple[str, str]  # (issuer key, community name)


@dataclass(frozen=True, slots=True)
class Members:
    """The keys a set of communities trusts, by role, and the communities that were read."""

    roles: dict[str, str]
    communities: tuple[Community, ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.roles)


def parse_community(text: str) -> Community:
    issuer, _, name = text.partition("/")
    return issuer, name


def members(subscriptions: Iterable[Community], newest: Callable[[str, str], Trust | None]) -> Members:
    """Everyone the subscribed communities trust, following inclusions without loops."""
    roles: dict[str, str] = {}
    seen: set[Community] = set()
    queue = deque((c, 0) for c in subscriptions)
    while queue and len(seen) < MAX_LISTS:
        community, depth = queue.popleft()
        if community in seen or depth > MAX_DEPTH:
            continue
        seen.add(community)
        trust = newest(*community)
        if trust is None:
            continue
        for key, role in trust.members.items():
            roles.setdefault(key, role)
        queue.extend((parse_community(c), depth + 1) for c in trust.includes)
    return Members(roles, tuple(sorted(seen)))
