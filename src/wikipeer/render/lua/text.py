"""``mw.text``'s Python half: entities, ``nowiki``, JSON, trimming and strip markers."""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

from wikipeer.render.lua.sandbox import ScriptError, decode, lua_type
from wikipeer.render.strip import MARKER

JSON_PRESERVE_KEYS, JSON_TRY_FIXING, JSON_PRETTY = 1, 2, 4
MAX_JSON_DEPTH = 100
_NAMED = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#039;", "\u00a0": "&nbsp;"}
_BASIC = re.compile(r"&(?:(lt|gt|amp|quot|nbsp)|#(\d+)|#[xX]([0-9a-fA-F]+));")
_NOWIKI = re.compile(r"""["&'<=>\[\]{|};\uff3f]""")
_LINE_START = re.compile(r"(?m)^([#*:! ]|-{4})")
_MAGIC = re.compile(r"\b(ISBN|RFC|PMID)(\s)")
_ENTITY = {"\uff3f": "&#xFF3F;"}


def trim(s: str) -> str:
    """Trim MediaWiki's default whitespace (tab, CR, LF, FF, space)."""
    return s.strip("\t\r\n\f ")


def encode(s: str, charset: str | None) -> str:
    """Characters of ``charset`` (a Lua set's content; default ``<>&"'`` and nbsp) as entities."""
    if charset is None:
        chosen = set('<>&"\'\u00a0')
        return "".join(_entity(c) if c in chosen else c for c in s)
    from wikipeer.render.lua import patterns
    matcher = patterns.Matcher(True, lambda: None)
    pattern = [ord(c) for c in f"[{charset}]"]
    out = []
    for c in s:
        try:
            hit = patterns.match_at(matcher, [ord(c)], pattern, 0) is not None
        except patterns.PatternError as exc:
            raise ScriptError(f"bad argument #2 to 'encode' ({exc})") from None
        out.append(_entity(c) if hit else c)
    return "".join(out)


def _entity(c: str) -> str:
    return _NAMED.get(c) or f"&#{ord(c)};"


def decode_entities(s: str, named: bool) -> str:
    """Entities back to characters: the basic five and numeric ones, or every HTML5 name."""
    if named:
        return html.unescape(s)

    def one(m: re.Match) -> str:
        if m.group(1):
            return {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "nbsp": "\u00a0"}[m.group(1)]
        code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else m.group(0)

    return _BASIC.sub(one, s)


def nowiki(s: str) -> str:
    """Text that wikitext shows literally wherever it is put (mw.text.nowiki).

    Besides the characters markup is made of, what could join the text around
    it is escaped too: a first ``+ - _ ~`` or newline, a last ``_ ~``.
    """
    if not s:
        return s
    first = f"&#{ord(s[0])};" if s[0] in "+-_~\n" else ""
    last = f"&#{ord(s[-1])};" if len(s) > 1 and s[-1] in "_~" else ""
    body = s[1 if first else 0:len(s) - 1 if last else len(s)]
    body = _NOWIKI.sub(lambda m: _ENTITY.get(m.group(0)) or f"&#{ord(m.group(0))};", body)
    # The body starts a line unless an escaped character stands before it on the same line.
    glued = bool(first) and s[0] != "\n"
    body = _LINE_START.sub(lambda m: f"&#{ord(m.group(1)[0])};" + m.group(1)[1:], ("\x00" if glued else "") + body)
    body = body[1:] if glued else body
    body = body.replace("\n\n", "\n&#10;").replace("!!", "&#33;!").replace("~~~", "~~&#126;")
    body = body.replace("__", "_&#95;").replace("://", "&#58;//")
    return first + _MAGIC.sub(lambda m: f"{m.group(1)}&#{ord(m.group(2))};", body) + last


def kill_markers(s: str) -> str:
    """``s`` without strip markers."""
    return MARKER.sub("", s)


def json_encode(value: Any, flags: Any) -> str:
    """A Lua value as JSON (tables with keys 1..n are arrays)."""
    pretty = bool(int(flags or 0) & JSON_PRETTY)
    data = _from_lua(value, 0, set(), bool(int(flags or 0) & JSON_PRESERVE_KEYS))
    return json.dumps(data, ensure_ascii=False, indent=4 if pretty else None,
                      separators=None if pretty else (",", ":"))


def _from_lua(value: Any, depth: int, seen: set[int], preserve: bool = False) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise ScriptError("mw.text.jsonEncode: the data nests too deeply")
    if isinstance(value, bytes):
        return decode(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ScriptError("mw.text.jsonEncode: Cannot encode non-finite numbers")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if lua_type(value) != "table":
        raise ScriptError(f"mw.text.jsonEncode: Cannot encode type '{lua_type(value) or 'userdata'}'")
    if id(value) in seen:
        raise ScriptError("mw.text.jsonEncode: Cannot use recursive tables")
    seen = seen | {id(value)}
    items = list(value.items())
    keys = [k for k, _ in items]
    numbers = all(isinstance(k, (int, float)) and not isinstance(k, bool) for k in keys)
    if numbers and not preserve and sorted(keys) in (list(range(1, len(keys) + 1)), list(range(len(keys)))):
        return [_from_lua(v, depth + 1, seen, preserve) for _, v in sorted(items, key=lambda kv: kv[0])]
    out = {}
    for k, v in items:
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        if isinstance(k, float):
            raise ScriptError(f"mw.text.jsonEncode: Cannot use '{_number_text(k)}' as a table key")
        if not isinstance(k, (bytes, int)) or isinstance(k, bool):
            kind = "boolean" if isinstance(k, bool) else lua_type(k) or "userdata"
            raise ScriptError(f"mw.text.jsonEncode: Cannot use type '{kind}' as a table key")
        out[decode(k) if isinstance(k, bytes) else str(k)] = _from_lua(v, depth + 1, seen, preserve)
    return out


def _number_text(value: float) -> str:
    return "nan" if value != value else ("inf" if value > 0 else "-inf")


def json_decode(s: str, flags: Any) -> Any:
    """JSON as Lua data: arrays 1-based; objects with keys "1".."n" as sequences unless PRESERVE_KEYS."""
    preserve = bool(int(flags or 0) & JSON_PRESERVE_KEYS)
    if int(flags or 0) & JSON_TRY_FIXING:
        s = re.sub(r",(\s*[\]}])", r"\1", s)  # trailing commas, as MediaWiki's FormatJson fixes them
    try:
        data = json.loads(s)
    except (ValueError, RecursionError):
        raise ScriptError("mw.text.jsonDecode: Syntax error") from None
    return _to_lua_data(data, preserve)


def _to_lua_data(data: Any, preserve: bool) -> Any:
    if isinstance(data, list):
        first = 0 if preserve else 1  # PRESERVE_KEYS keeps JSON's (PHP's) 0-based indexes
        return {i + first: _to_lua_data(v, preserve) for i, v in enumerate(data) if v is not None}
    if isinstance(data, dict):
        out: dict = {}
        for k, v in data.items():
            if v is None:
                continue
            key: Any = k
            if not preserve and re.fullmatch(r"-?[1-9]\d{0,15}|0", k):
                key = int(k)
            out[key] = _to_lua_data(v, preserve)
        return out
    return data
