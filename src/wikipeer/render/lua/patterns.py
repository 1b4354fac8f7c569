"""Lua patterns over code points: ``mw.ustring``'s find, match, gmatch and gsub.

A port of the matcher in Lua's ``lstrlib.c`` (its algorithm, written anew in
Python) that works on a sequence of integers: code points for ``mw.ustring``,
with MediaWiki's Unicode classes (``%a`` is every letter, ``%d`` every decimal
digit...), or bytes with the C locale's classes for ``string`` calls too costly
to leave to Lua's C matcher, which no hook can interrupt. Every few thousand
steps ``check`` is called, so a pathological pattern stops at the time limit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

ESC = ord("%")
MAX_CAPTURES = 32
MAX_DEPTH = 200  # Lua's MAXCCALLS: patterns nest no deeper
CHECK_EVERY = 4096
POSITION = -2  # a position capture ``()``
UNFINISHED = -1


class PatternError(ValueError):
    """A malformed pattern, with Lua's wording."""


def _unicode_class(letter: int, c: int) -> bool | None:
    ch = chr(c)
    cat = unicodedata.category(ch)
    lower = chr(letter).lower()
    if lower == "a":
        found = cat[0] == "L"
    elif lower == "c":
        found = cat == "Cc"
    elif lower == "d":
        found = cat == "Nd"
    elif lower == "l":
        found = cat == "Ll"
    elif lower == "p":
        found = cat[0] == "P"
    elif lower == "s":
        found = cat[0] == "Z" or 9 <= c <= 13
    elif lower == "u":
        found = cat == "Lu"
    elif lower == "w":
        found = cat[0] == "L" or cat == "Nd"
    elif lower == "x":
        found = ch in "0123456789abcdefABCDEF" or ch in "０１２３４５６７８９ａｂｃｄｅｆＡＢＣＤＥＦ"
    elif lower == "z":
        found = c == 0
    else:
        return None
    return found if chr(letter).islower() else not found


def _byte_class(letter: int, c: int) -> bool | None:
    lower = chr(letter).lower()
    if lower == "a":
        found = 65 <= c <= 90 or 97 <= c <= 122
    elif lower == "c":
        found = c < 32 or c == 127
    elif lower == "d":
        found = 48 <= c <= 57
    elif lower == "l":
        found = 97 <= c <= 122
    elif lower == "p":
        found = 33 <= c <= 47 or 58 <= c <= 64 or 91 <= c <= 96 or 123 <= c <= 126
    elif lower == "s":
        found = c == 32 or 9 <= c <= 13
    elif lower == "u":
        found = 65 <= c <= 90
    elif lower == "w":
        found = 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122
    elif lower == "x":
        found = 48 <= c <= 57 or 65 <= c <= 70 or 97 <= c <= 102
    elif lower == "z":
        found = c == 0
    else:
        return None
    return found if chr(letter).islower() else not found


@dataclass(slots=True)
class _State:
    src: Sequence[int]
    pat: Sequence[int]
    classes: Callable[[int, int], bool | None]
    check: Callable[[], None]
    level: int = 0
    capture: list[list[int]] = field(default_factory=list)  # [start, length]
    steps: int = 0
    depth: int = 0


def _class_end(ms: _State, p: int) -> int:
    pat = ms.pat
    c = pat[p]
    p += 1
    if c == ESC:
        if p >= len(pat):
            raise PatternError("malformed pattern (ends with '%')")
        return p + 1
    if c == ord("["):
        n = len(pat)
        missing = f"Missing close-bracket for character set beginning at pattern character {p}"
        if p < n and pat[p] == ord("^"):
            p += 1
        while True:  # look for the ']': the first character of the set is never it
            if p >= n:
                raise PatternError(missing)
            c = pat[p]
            p += 1
            if c == ESC:
                p += 1
            if p >= n:
                raise PatternError(missing)
            if pat[p] == ord("]"):
                return p + 1
    return p


def _match_class(ms: _State, c: int, letter: int) -> bool:
    found = ms.classes(letter, c)
    return c == letter if found is None else found


def _match_bracket(ms: _State, c: int, p: int, ec: int) -> bool:
    pat = ms.pat
    sig = True
    p += 1
    if pat[p] == ord("^"):
        sig = False
        p += 1
    while p < ec:
        if pat[p] == ESC:
            p += 1
            if _match_class(ms, c, pat[p]):
                return sig
            p += 1
        elif p + 2 < ec and pat[p + 1] == ord("-"):
            if pat[p] <= c <= pat[p + 2]:
                return sig
            p += 3
        else:
            if pat[p] == c:
                return sig
            p += 1
    return not sig


def _single(ms: _State, s: int, p: int, ep: int) -> bool:
    if s >= len(ms.src):
        return False
    c = ms.src[s]
    pc = ms.pat[p]
    if pc == ord("."):
        return True
    if pc == ESC:
        return _match_class(ms, c, ms.pat[p + 1])
    if pc == ord("["):
        return _match_bracket(ms, c, p, ep - 1)
    return pc == c


def _tick(ms: _State) -> None:
    ms.steps += 1
    if ms.steps % CHECK_EVERY == 0:
        ms.check()


def _match(ms: _State, s: int, p: int) -> int | None:
    ms.depth += 1
    if ms.depth > MAX_DEPTH:
        raise PatternError("pattern too complex")
    try:
        return _match_body(ms, s, p)
    finally:
        ms.depth -= 1


def _match_body(ms: _State, s: int, p: int) -> int | None:
    pat, src = ms.pat, ms.src
    while True:
        _tick(ms)
        if p >= len(pat):
            return s
        pc = pat[p]
        if pc == ord("("):
            if p + 1 < len(pat) and pat[p + 1] == ord(")"):
                return _start_capture(ms, s, p + 2, POSITION)
            return _start_capture(ms, s, p + 1, UNFINISHED)
        if pc == ord(")"):
            return _end_capture(ms, s, p + 1)
        if pc == ord("$") and p + 1 == len(pat):
            return s if s == len(src) else None
        if pc == ESC and p + 1 < len(pat):
            nxt = pat[p + 1]
            if nxt == ord("b"):
                s = _match_balance(ms, s, p + 2)
                if s is None:
                    return None
                p += 4
                continue
            if nxt == ord("f"):
                p += 2
                if p >= len(pat) or pat[p] != ord("["):
                    raise PatternError("missing '[' after '%f' in pattern")
                ep = _class_end(ms, p)
                prev = src[s - 1] if s > 0 else 0
                cur = src[s] if s < len(src) else 0
                if not _match_bracket(ms, prev, p, ep - 1) and _match_bracket(ms, cur, p, ep - 1):
                    p = ep
                    continue
                return None
            if 48 <= nxt <= 57:
                s = _match_capture(ms, s, nxt)
                if s is None:
                    return None
                p += 2
                continue
        ep = _class_end(ms, p)
        m = _single(ms, s, p, ep)
        q = pat[ep] if ep < len(pat) else None
        if q == ord("?"):
            if m:
                res = _match(ms, s + 1, ep + 1)
                if res is not None:
                    return res
            p = ep + 1
            continue
        if q == ord("*"):
            return _max_expand(ms, s, p, ep)
        if q == ord("+"):
            return _max_expand(ms, s + 1, p, ep) if m else None
        if q == ord("-"):
            return _min_expand(ms, s, p, ep)
        if not m:
            return None
        s += 1
        p = ep


def _max_expand(ms: _State, s: int, p: int, ep: int) -> int | None:
    i = 0
    while _single(ms, s + i, p, ep):
        i += 1
        _tick(ms)
    while i >= 0:
        res = _match(ms, s + i, ep + 1)
        if res is not None:
            return res
        i -= 1
    return None


def _min_expand(ms: _State, s: int, p: int, ep: int) -> int | None:
    while True:
        res = _match(ms, s, ep + 1)
        if res is not None:
            return res
        if _single(ms, s, p, ep):
            s += 1
        else:
            return None


def _start_capture(ms: _State, s: int, p: int, what: int) -> int | None:
    if ms.level >= MAX_CAPTURES:
        raise PatternError("too many captures")
    ms.capture.append([s, what])
    ms.level += 1
    res = _match(ms, s, p)
    if res is None:
        ms.level -= 1
        ms.capture.pop()
    return res


def _end_capture(ms: _State, s: int, p: int) -> int | None:
    for index in range(ms.level - 1, -1, -1):
        if ms.capture[index][1] == UNFINISHED:
            break
    else:
        raise PatternError("invalid pattern capture")
    ms.capture[index][1] = s - ms.capture[index][0]
    res = _match(ms, s, p)
    if res is None:
        ms.capture[index][1] = UNFINISHED
    return res


def _match_balance(ms: _State, s: int, p: int) -> int | None:
    if p + 1 >= len(ms.pat):
        raise PatternError("missing arguments to '%b'")
    src = ms.src
    if s >= len(src) or src[s] != ms.pat[p]:
        return None
    b, e = ms.pat[p], ms.pat[p + 1]
    cont = 1
    s += 1
    while s < len(src):
        _tick(ms)
        c = src[s]
        if c == e:
            cont -= 1
            if cont == 0:
                return s + 1
        elif c == b:
            cont += 1
        s += 1
    return None


def _match_capture(ms: _State, s: int, letter: int) -> int | None:
    index = letter - ord("1")
    if index < 0 or index >= ms.level or ms.capture[index][1] == UNFINISHED:
        raise PatternError(f"invalid capture index %{index + 1}")
    start, length = ms.capture[index]
    if ms.src[start:start + length] == ms.src[s:s + length] and s + length <= len(ms.src):
        return s + length
    return None


@dataclass(slots=True)
class Found:
    """One match: where it is (0-based, end exclusive) and its captures (slices or positions)."""

    start: int
    end: int
    captures: list[tuple[int, int] | int]  # (start, end) of a capture, or a 1-based position


class Matcher:
    """Patterns over one alphabet: ``unicode=True`` for code points, else bytes."""

    def __init__(self, unicode: bool, check: Callable[[], None]) -> None:
        self.classes = _unicode_class if unicode else _byte_class
        self.check = check

    def find(self, src: Sequence[int], pat: Sequence[int], init: int) -> Found | None:
        """The first match at or after ``init`` (0-based)."""
        anchor = len(pat) > 0 and pat[0] == ord("^")
        p = 1 if anchor else 0
        s = init
        ms = _State(src, pat, self.classes, self.check)
        while True:
            ms.level, ms.capture, ms.depth = 0, [], 0
            end = _match(ms, s, p)
            if end is not None:
                return Found(s, end, self._captures(ms, s, end))
            s += 1
            if anchor or s > len(src):
                return None

    def _captures(self, ms: _State, s: int, end: int) -> list[tuple[int, int] | int]:
        out: list[tuple[int, int] | int] = []
        for start, length in ms.capture[:ms.level]:
            if length == POSITION:
                out.append(start + 1)
            elif length == UNFINISHED:
                raise PatternError("unfinished capture")
            else:
                out.append((start, start + length))
        return out

    def all(self, src: Sequence[int], pat: Sequence[int], limit: int | None = None):
        """Successive matches as gsub and gmatch see them (empty matches step on)."""
        anchor = len(pat) > 0 and pat[0] == ord("^")
        p = 1 if anchor else 0
        s = 0
        count = 0
        ms = _State(src, pat, self.classes, self.check)
        while limit is None or count < limit:
            ms.level, ms.capture, ms.depth = 0, [], 0
            end = _match(ms, s, p)
            if end is not None:
                count += 1
                yield Found(s, end, self._captures(ms, s, end))
            if end is not None and end > s:
                s = end
            elif s < len(src):
                s += 1
            else:
                break
            if anchor:
                break


def match_at(matcher: Matcher, src: Sequence[int], pat: Sequence[int], s: int) -> Found | None:
    """A match starting exactly at ``s`` (no anchor handling: gmatch's rule)."""
    ms = _State(src, pat, matcher.classes, matcher.check)
    end = _match(ms, s, 0)
    return Found(s, end, matcher._captures(ms, s, end)) if end is not None else None
