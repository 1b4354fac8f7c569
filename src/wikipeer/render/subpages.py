"""Subpage links: ``[[/Child]]``, ``[[/Child/]]``, ``[[../]]``, ``[[../Sibling]]`` and ``{{/Child}}``.

MediaWiki's Linker::normalizeSubpageLink, done only where the page's namespace
has subpages (MediaWiki's default $wgNamespacesWithSubpages: every talk
namespace, User, Project, Template, Help; not the main namespace).
"""

from __future__ import annotations

import re

# MediaWiki's default $wgNamespacesWithSubpages, and Module (Scribunto's)
DEFAULT_SUBPAGE_NAMESPACES = frozenset({1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15, 828, 829})


def is_relative(target: str) -> bool:
    """Whether ``target`` is written relative to the page (``/x`` or ``../x``)."""
    target = target.strip()
    return target.startswith("/") or target.startswith("../")


def resolve(context: str, target: str) -> tuple[str, str | None]:
    """(the page ``target`` names from the page ``context``, the text the link shows when it has no label, or None
    to show the page's name); ``target`` unchanged when it is not relative or climbs above the root page."""
    target, hash_, fragment = target.partition("#")
    suffix = hash_ + fragment
    target = target.strip()
    if target.startswith("/"):
        trailing = re.search(r"/+\Z", target)
        if trailing:  # a slash at the end: the link shows the child's name without slashes
            target = noslash = target[1:trailing.start()]
        else:
            noslash = target[1:]
        return f"{context}/{noslash.strip()}{suffix}", target + suffix
    levels = 0
    rest = target
    while rest.startswith("../"):
        levels += 1
        rest = rest[3:]
    if not levels:
        return target + suffix, None
    pieces = context.split("/")
    if len(pieces) <= levels:  # above the root page: not a subpage link
        return target + suffix, None
    resolved = "/".join(pieces[:-levels])
    shown = None
    if rest.endswith("/"):
        rest = rest.rstrip("/")
        shown = (rest + suffix) or None  # nothing left to show: the page's name
    rest = rest.strip()
    if rest:
        resolved += "/" + rest
    return resolved + suffix, shown
