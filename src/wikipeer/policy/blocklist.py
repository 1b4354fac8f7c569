"""Bad-content lists: patterns checked against the text a new revision adds.

Patterns are RE2 regular expressions (google-re2): RE2 runs in time linear
in the text, with no backtracking, so a pattern written to backtrack
catastrophically costs what any other does; the features that need
backtracking (back-references, look-around) are refused when a list
arrives, naming the pattern. All patterns of a list are matched in one pass
(an RE2 set), so thousands of patterns cost little more than one.
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

from wikipeer.errors import InvalidObject
from wikipeer.model.objects import Blocklist

MAX_MEMORY = 64 << 20  # bytes RE2 may use for one list's automaton


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_MEMORY
    return options


def quoted(pattern: str, limit: int = 80) -> str:
    """A pattern as its author wrote it, in quotes (``'casino\\s+bonus'``, not repr's doubled backslashes),
    cut at ``limit`` characters; only characters that cannot be printed are escaped."""
    cut = pattern[:limit]
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return f"'{text}'" + ("…" if len(pattern) > limit else "")


def check_patterns(blocklist: Blocklist) -> None:
    """Refuse a list with a pattern RE2 cannot run; the message names it."""
    for pattern in blocklist.patterns:
        try:
            re2.compile(pattern, _options())
        except re2.error as exc:
            why = exc.args[0] if exc.args else exc
            why = why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)  # RE2 gives bytes
            raise InvalidObject(f"blocklist {blocklist.name!r}: the pattern {quoted(pattern)} cannot be used "
                                f"({why}); patterns are RE2 expressions, without back-references or look-around") from None


@dataclass(frozen=True, slots=True)
class Hit:
    blocklist: Blocklist
    pattern: str

    def __str__(self) -> str:
        return f"pattern {quoted(self.pattern)} of blocklist {self.blocklist.name!r} by {self.blocklist.key}"


class BlockGuard:
    """The blocklists a node enforces, compiled once."""

    def __init__(self, lists: list[Blocklist]) -> None:
        self.lists: list[tuple[Blocklist, re2.Set]] = []
        for blocklist in lists:
            patterns = re2.Set.SearchSet(_options())
            for pattern in blocklist.patterns:
                patterns.Add(pattern)
            if blocklist.patterns:
                patterns.Compile()
                self.lists.append((blocklist, patterns))

    def __bool__(self) -> bool:
        return bool(self.lists)

    def check(self, text: str) -> Hit | None:
        """The first pattern ``text`` matches, or None."""
        for blocklist, patterns in self.lists:
            matched = patterns.Match(text)
            if matched:
                return Hit(blocklist, blocklist.patterns[min(matched)])
        return None


def added_text(old: str, new: str) -> str:
    """What an edit adds: the lines of ``new`` that ``old`` does not have (all of it for a new page)."""
    if not old:
        return new
    before = set(old.split("\n"))
    return "\n".join(line for line in new.split("\n") if line not in before)
