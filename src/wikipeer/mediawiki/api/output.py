"""Answers in MediaWiki's JSON shapes: ``formatversion=1`` and ``2``.

Modules build their results in the shape of format version 2 (real booleans,
lists); a key made with ``content_key("content")`` is the "content" of its
object, written ``*`` in version 1. For version 1 every ``True`` becomes
``""`` and every ``False`` leaves its key out, as MediaWiki does.
"""

from __future__ import annotations

import html
import json
from typing import Any


class ContentKey(str):
    """A key that format version 1 writes as ``*``."""


def content_key(name: str) -> ContentKey:
    return ContentKey(name)


_PLAIN = (str, int, float, type(None))


def shape(value: Any, version: int) -> Any:
    """``value`` in the shape of a format version."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if version == 1:
                if item is False:
                    continue
                key = "*" if isinstance(key, ContentKey) else key
            # Strings and numbers (not True: it is an int) pass as they are, without a call each.
            out[str(key)] = item if type(item) in _PLAIN else shape(item, version)
        return out
    if isinstance(value, (list, tuple)):
        return [item if type(item) in _PLAIN else shape(item, version) for item in value]
    if version == 1 and value is True:
        return ""
    return value


def encode(result: dict, version: int, utf8: bool, pretty: bool) -> bytes:
    """The JSON bytes; version 1 escapes non-ASCII unless ``utf8`` was asked for."""
    # Version 2 is the shape modules build: json writes a ContentKey as the string it is.
    text = json.dumps(shape(result, version) if version == 1 else result, ensure_ascii=not (utf8 or version == 2),
                      indent=4 if pretty else None, separators=None if pretty else (",", ":"))
    return text.encode("utf-8")


def html_page(json_bytes: bytes) -> bytes:
    """``format=jsonfm``: the same JSON, pretty, in an HTML page (for people reading it in a browser)."""
    body = html.escape(json_bytes.decode("utf-8"))
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>MediaWiki API result</title></head>"
            f"<body><p>This is the HTML form of the JSON format; use format=json for programs.</p>"
            f"<pre>{body}</pre></body></html>").encode("utf-8")
