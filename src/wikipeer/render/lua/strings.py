"""``mw.ustring`` in Python (code points) and the ``string`` calls too costly for Lua's C matcher.

Both share one implementation over sequences of integers: a text's code
points, or a byte string's bytes. Lua's conventions hold: positions are
1-based, negative positions count from the end, gsub replacements use ``%1``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from wikipeer.render.lua import patterns
from wikipeer.render.lua.sandbox import Clock, Sandbox, ScriptError, decode, encode, lua_type

MAX_RESULT = 50 * 1024 * 1024  # characters a gsub may build: the runtime's memory bound


class Strings:
    """The string functions one page's sandbox exposes."""

    def __init__(self, sandbox: Sandbox, clock: Clock) -> None:
        self.sandbox = sandbox
        self.unicode = patterns.Matcher(True, clock.check)
        self.bytes = patterns.Matcher(False, clock.check)
        self._points: dict[str, list[int]] = {}

    def functions(self) -> dict[str, tuple[Callable, bool]]:
        """Name -> (function, takes raw bytes)."""
        return {
            "u_len": (u_len, False), "u_sub": (u_sub, False),
            "u_upper": (lambda s: s.upper(), False), "u_lower": (lambda s: s.lower(), False),
            "u_char": (u_char, False), "u_codepoint": (u_codepoint, False),
            "u_isutf8": (u_isutf8, True), "u_normalize": (u_normalize, False),
            "u_find": (self.u_find, False), "u_gmatch": (self.u_gmatch, False),
            "u_gsub": (self.u_gsub, False), "u_split": (self.u_split, False),
            "byte_find": (self.byte_find, True), "byte_gmatch": (self.byte_gmatch, True),
            "byte_gsub": (self.byte_gsub, True),
        }

    # -- code points --------------------------------------------------------------

    def points(self, s: str) -> list[int]:
        """The code points of ``s`` (the last few texts are kept: gmatch asks again and again)."""
        found = self._points.get(s)
        if found is None:
            if len(self._points) > 8:
                self._points.clear()
            found = self._points[s] = [ord(c) for c in s]
        return found

    def u_find(self, s: str, pattern: str, init: int, plain: bool, match_only: bool):
        """``mw.ustring.find`` / ``match`` over code points."""
        start = _init(init, len(s))
        if start is None:
            return None
        if plain and not match_only:
            at = s.find(pattern, start)
            return (at + 1, at + len(pattern)) if at >= 0 else None
        found = _find(self.unicode, self.points(s), self.points(pattern), start)
        return _result(found, s, match_only)

    def u_gmatch(self, s: str, pattern: str, pos: int):
        """The next ``gmatch`` result from 1-based ``pos``: (next position, captures...) or None."""
        return _gmatch(self.unicode, self.points(s), self.points(pattern), pos, s)

    def u_gsub(self, s: str, pattern: str, repl: Any, limit: Any):
        """``mw.ustring.gsub`` over code points: (result, count)."""
        return _gsub(self.unicode, self.sandbox, self.points(s), self.points(pattern), repl, limit, s, "")

    def u_split(self, s: str, pattern: str, plain: bool) -> list[str]:
        """``mw.text.split``: the pieces between matches (an empty match splits after each character)."""
        points, pat = self.points(s), self.points(pattern)
        out: list[str] = []
        pos = 0
        while True:
            if plain:
                at = s.find(pattern, pos)
                span = (at, at + len(pattern)) if at >= 0 else None
            else:
                found = _find(self.unicode, points, pat, pos)
                span = (found.start, found.end) if found is not None else None
            if span is None or pos >= len(s):
                break
            start, end = span
            if end == start:  # an empty separator: split after the next character
                start = end = start + 1
                if start >= len(s):
                    break
            out.append(s[pos:start])
            pos = end
        out.append(s[pos:])
        return out

    # -- bytes --------------------------------------------------------------------

    def byte_find(self, s: bytes, pattern: bytes, init: Any, match_only: bool):
        """``string.find`` / ``match`` on bytes, interruptible."""
        start = _init(int(init) if init is not None else 1, len(s))
        if start is None:
            return None
        found = _find(self.bytes, s, pattern, start)
        return _result(found, s, match_only)

    def byte_gmatch(self, s: bytes, pattern: bytes, pos: int):
        """The next ``string.gmatch`` result on bytes from ``pos``."""
        return _gmatch(self.bytes, s, pattern, int(pos), s)

    def byte_gsub(self, s: bytes, pattern: bytes, repl: Any, limit: Any):
        """``string.gsub`` on bytes, interruptible and bounded."""
        return _gsub(self.bytes, self.sandbox, s, pattern, repl, limit, s, b"")


def _init(init: Any, length: int) -> int | None:
    """Lua's ``init`` as a 0-based start, or None past the end."""
    try:
        init = int(init)
    except (TypeError, ValueError):
        raise ScriptError("bad argument #3 (number expected)") from None
    if init < 0:
        init = max(length + init + 1, 1)
    elif init == 0:
        init = 1
    return min(init, length + 1) - 1  # past the end: at the end, as Lua 5.1 does


def _find(matcher: patterns.Matcher, src: Sequence[int], pat: Sequence[int], start: int):
    try:
        return matcher.find(src, pat, start)
    except patterns.PatternError as exc:
        raise ScriptError(str(exc)) from None


def _capture_values(found: patterns.Found, s: Any) -> list:
    if not found.captures:
        return [s[found.start:found.end]]
    return [c if isinstance(c, int) else s[c[0]:c[1]] for c in found.captures]


def _result(found: patterns.Found | None, s: Any, match_only: bool):
    if found is None:
        return None
    values = _capture_values(found, s)
    if match_only:
        return tuple(values)
    return (found.start + 1, found.end, *([] if not found.captures else values))


def _gmatch(matcher: patterns.Matcher, src: Sequence[int], pat: Sequence[int], pos: int, s: Any):
    try:
        for start in range(pos - 1, len(src) + 1):
            found = patterns.match_at(matcher, src, pat, start)
            if found is not None:
                following = found.end + 1 if found.end > start else start + 2
                return (following, *_capture_values(found, s))
            if start % 4096 == 0:
                matcher.check()
    except patterns.PatternError as exc:
        raise ScriptError(str(exc)) from None
    return None


def _gsub(matcher: patterns.Matcher, sandbox: Sandbox, src: Sequence[int], pat: Sequence[int], repl: Any,
          limit: Any, s: Any, empty: Any):
    text = isinstance(s, str)
    kind = _lua_kind(repl)
    if kind == "string" and text:
        repl = decode(repl)
    out: list = []
    size = 0
    last = 0
    count = 0
    try:
        limit = int(limit) if limit is not None else None
        for found in matcher.all(src, pat, limit):
            count += 1
            whole = s[found.start:found.end]
            values = _capture_values(found, s)
            if kind == "string":
                piece = _expand_repl(repl, whole, values, found)
            else:
                key = values[0]
                if kind == "table":
                    value = repl[encode(key) if isinstance(key, str) else key]
                else:
                    value = repl(*[encode(v) if isinstance(v, str) else v for v in values])
                    value = value[0] if isinstance(value, tuple) else value
                if value is None or value is False:
                    piece = whole
                elif isinstance(value, (bytes, int, float)) and not isinstance(value, bool):
                    piece = _lua_string(value, text)
                else:
                    raise ScriptError(f"invalid replacement value (a {_lua_kind(value)})")
            out.append(s[last:found.start])
            out.append(piece)
            size += found.start - last + len(piece)
            if size > MAX_RESULT:
                raise MemoryError
            last = found.end
    except patterns.PatternError as exc:
        raise ScriptError(str(exc)) from None
    out.append(s[last:])
    return empty.join(out), count


def _lua_kind(value: Any) -> str:
    if isinstance(value, (bytes, str)):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return lua_type(value) or "userdata"


def _lua_string(value: Any, text: bool) -> Any:
    if isinstance(value, bytes):
        return decode(value) if text else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if text else str(value).encode()


def _expand_repl(repl: Any, whole: Any, values: list, found: patterns.Found) -> Any:
    text = isinstance(repl, str)
    percent = "%" if text else b"%"
    if percent not in repl:
        return repl
    out = []
    i = 0
    while i < len(repl):
        c = repl[i:i + 1]
        if c != percent:
            out.append(c)
            i += 1
            continue
        i += 1
        d = repl[i:i + 1]
        i += 1
        if not d:
            out.append(percent)  # a lone '%' at the end stays, as in Scribunto
            break
        if d.isdigit():
            n = int(d)
            if n == 0:
                out.append(whole)
            elif n <= len(values) and (found.captures or n == 1):
                v = values[n - 1]
                out.append(_lua_string(v, text) if isinstance(v, int) else v)
            else:
                raise ScriptError(f"invalid capture index %{n} in replacement string")
        elif d == percent:
            out.append(percent)
        else:
            out.append(percent + d)  # '%' before another character is kept, as in Scribunto
    return ("" if text else b"").join(out)


def u_sub(s: str, i: Any, j: Any) -> str:
    """``mw.ustring.sub``: code points ``i`` to ``j`` (1-based, negative from the end)."""
    length = len(s)
    i, j = int(i), int(j)
    if i < 0:
        i = max(length + i + 1, 1)
    elif i == 0:
        i = 1
    if j < 0:
        j = length + j + 1
    elif j > length:
        j = length
    return s[i - 1:j] if i <= j else ""


def u_char(codes: Any) -> str:
    """``mw.ustring.char``: text of code points."""
    out = []
    for index, code in sorted(codes.items()):
        try:
            value = int(code)
        except (TypeError, ValueError):
            raise ScriptError(f"bad argument #{index} to 'char' (number expected, got {_lua_kind(code)})") from None
        if not 0 <= value <= 0x10FFFF:
            raise ScriptError(f"bad argument #{index} to 'char' (value out of range)")
        out.append(chr(value))
    return "".join(out)


def u_codepoint(s: str, i: Any, j: Any) -> list[int]:
    """A list (one Lua table: a long string's code points would overflow Lua's stack as values)."""
    return [ord(c) for c in u_sub(s, i, j)]


def u_len(s: str) -> int | None:
    """Code points in ``s``; nil for invalid UTF-8, as Scribunto."""
    return None if any("\udc80" <= c <= "\udcff" for c in s) else len(s)


def u_isutf8(s: bytes) -> bool:
    """Whether the bytes are valid UTF-8."""
    try:
        s.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def u_normalize(s: str, form: str) -> str:
    """``mw.ustring.toNFC`` and friends."""
    return unicodedata.normalize(form, s)
