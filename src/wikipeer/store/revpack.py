"""Compact forms of a revision's fields, as the store keeps them (schema 15).

A revision block is rebuilt from its rows: links (page, text, parents) and
``ts``/``size`` from the revision tables, the rest from ``objects.data`` in
one of three forms, told apart by the first byte:

- a CBOR map (0xa0-0xbf): the whole block, as the first stores kept it;
- ``0x00`` + a CBOR map of the fields that are not links (schema 9-14);
- ``0x01`` + a CBOR array, the compact form written now::

      [model, comment, author, minor, format, origin, extra]

  positional, trailing absent fields cut off, an absent field as null (so a
  field present at its default, which another node may have signed, is told
  from one left out). ``model`` and ``format`` are small numbers for the
  common values; ``author`` is a key id (``keys``). ``origin`` is a flat list
  ``[key, value, ...]``: a known key as its number in ORIGIN_KEYS, its value
  as is, or (number + INTERNED) with the id of the string in ``strings``
  (sites and user names repeat on every imported revision); ``sha1`` equal to
  MediaWiki's SHA-1 of the revision's own text is the key SHA1_OF_TEXT alone
  (value 0), ``parent_id`` is PARENT_DELTA with ``rev_id - parent_id``.
  Unknown keys stay strings. ``extra`` holds any field this list does not
  name (none today: the schema rejects them), so the round trip stays exact.

Every accepted block is canonical DAG-CBOR, so re-encoding the rebuilt map
gives the block's bytes exactly; fsck recomputes every CID from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libipld


PACKED = b"\x00"
COMPACT = b"\x01"
LINKS = ("t", "page", "text", "parents")
IN_ROWS = ("ts", "size")
FIELDS = ("model", "comment", "author", "minor", "format", "origin")
MODELS = ("wikitext", "Scribunto", "css", "javascript", "json", "text", "sanitized-css")
FORMATS = ("text/x-wiki", "text/plain", "text/css", "text/javascript", "application/json")
ORIGIN_KEYS = ("site", "page_id", "rev_id", "parent_id", "user", "user_id", "ip", "user_deleted",
               "comment_deleted", "text_deleted", "sha1", "redirect", "uploads")
_MODEL_CODES = {name: n for n, name in enumerate(MODELS)}
_FORMAT_CODES = {name: n for n, name in enumerate(FORMATS)}
_KEY_CODES = {name: n for n, name in enumerate(ORIGIN_KEYS)}
_KNOWN = frozenset(FIELDS + LINKS + IN_ROWS)
INTERNED = 64
"""Added to a key's number when its value is a ``strings`` id."""
INTERN = frozenset({"site", "user"})
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_PAIRS = [a + b for a in _DIGITS for b in _DIGITS]
SHA1_OF_TEXT = -1
PARENT_DELTA = -2


@dataclass(frozen=True, slots=True)
class Packer:
    """What packing needs from the store: ids for keys and strings, and the text's SHA-1 (raw bytes)."""

    key_id: Callable[[str], int]
    string_id: Callable[[str], int]
    text_sha1: Callable[[], bytes]


@dataclass(frozen=True, slots=True)
class Unpacker:
    """What unpacking needs: keys and strings by id, and the text's SHA-1 (asked only when derived)."""

    key: Callable[[int], str]
    string: Callable[[int], str]
    text_sha1: Callable[[], bytes]


def pack(obj: dict[str, Any], packer: Packer) -> bytes:
    """The compact form of a decoded revision block (links, ``ts`` and ``size`` left to the tables)."""
    extra = {k: obj[k] for k in obj.keys() - _KNOWN} or None
    model, fmt, author, origin = obj.get("model"), obj.get("format"), obj.get("author"), obj.get("origin")
    row: list[Any] = [
        _MODEL_CODES.get(model, model) if isinstance(model, str) else model,
        obj.get("comment"),
        packer.key_id(author) if isinstance(author, str) else author,
        obj.get("minor"),
        _FORMAT_CODES.get(fmt, fmt) if isinstance(fmt, str) else fmt,
        _pack_origin(origin, packer) if isinstance(origin, dict) else origin,
        extra,
    ]
    while row and row[-1] is None:
        row.pop()
    return COMPACT + libipld.encode_dag_cbor(row)


def _pack_origin(origin: dict[str, Any], packer: Packer) -> list[Any]:
    out: list[Any] = []
    rev_id = origin.get("rev_id")
    for key, value in origin.items():
        if key == "sha1" and _is_sha1_of(value, packer.text_sha1):
            out += [SHA1_OF_TEXT, 0]
        elif key == "parent_id" and _is_int(value) and _is_int(rev_id):
            out += [PARENT_DELTA, rev_id - value]
        elif key in INTERN and isinstance(value, str):
            out += [_KEY_CODES[key] + INTERNED, packer.string_id(value)]
        else:
            out += [_KEY_CODES.get(key, key), value]
    return out


def _is_sha1_of(value: Any, text_sha1: Callable[[], bytes]) -> bool:
    """Whether ``value`` is exactly MediaWiki's base-36 form of the text's SHA-1 (31 digits, lower case):
    compared as numbers, as formatting one costs more than packing the rest of the revision."""
    if not (isinstance(value, str) and len(value) == 31 and value.isascii() and value.isalnum()
            and value == value.lower()):
        return False
    return int(value, 36) == int.from_bytes(text_sha1(), "big")


def _base36(value: int) -> str:
    """``value`` (a SHA-1) as MediaWiki writes it: 31 base-36 digits (media.sha1_base36, two digits a step)."""
    parts = []
    for _ in range(16):
        value, rest = divmod(value, 1296)
        parts.append(_PAIRS[rest])
    return "".join(reversed(parts))[1:]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def unpack(data: bytes, ts: int, size: int, unpacker: Unpacker) -> dict[str, Any]:
    """A revision's fields from any stored form, without its links (``t``, page, text, parents).

    ``ts`` and ``size`` come from its revisions row; the whole-block form has them (and its links) itself.
    """
    if data.startswith(COMPACT):
        return _unpack_compact(libipld.decode_dag_cbor(data[1:]), ts, size, unpacker)
    obj = libipld.decode_dag_cbor(data[1:] if data.startswith(PACKED) else data)
    if isinstance(obj.get("author"), int):
        obj["author"] = unpacker.key(obj["author"])
    return obj


def _unpack_compact(row: list[Any], ts: int, size: int, unpacker: Unpacker) -> dict[str, Any]:
    row = row + [None] * (len(FIELDS) + 1 - len(row))
    model, comment, author, minor, fmt, origin, extra = row
    obj: dict[str, Any] = {"ts": ts, "size": size, "model": MODELS[model] if _is_int(model) else model}
    if comment is not None:
        obj["comment"] = comment
    if author is not None:
        obj["author"] = unpacker.key(author) if _is_int(author) else author
    if minor is not None:
        obj["minor"] = minor
    if fmt is not None:
        obj["format"] = FORMATS[fmt] if _is_int(fmt) else fmt
    if origin is not None:
        obj["origin"] = _unpack_origin(origin, unpacker) if isinstance(origin, list) else origin
    if extra:
        obj.update(extra)
    return obj


def _unpack_origin(flat: list[Any], unpacker: Unpacker) -> dict[str, Any]:
    origin: dict[str, Any] = {}
    delta = None
    for key, value in zip(flat[::2], flat[1::2], strict=True):
        if key == SHA1_OF_TEXT:
            origin["sha1"] = _base36(int.from_bytes(unpacker.text_sha1(), "big"))
        elif key == PARENT_DELTA:
            delta = value
        elif isinstance(key, str):
            origin[key] = value
        elif key >= INTERNED:
            origin[ORIGIN_KEYS[key - INTERNED]] = unpacker.string(value)
        else:
            origin[ORIGIN_KEYS[key]] = value
    if delta is not None:
        origin["parent_id"] = origin["rev_id"] - delta
    return origin
