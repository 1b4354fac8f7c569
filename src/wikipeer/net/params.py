"""Checks of the values a JSON-RPC call carries: type and range, before any use.

A check takes a JSON value and returns it (or what it stands for: a CID's
bytes), or raises ``BadParam`` saying what was expected; ``rpc.params``
turns that into an invalid-params error. Integers must fit SQLite's 64 bits
and strings must be valid Unicode (no lone surrogates), so nothing a caller
sends can fail later, inside a query, as a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wikipeer.errors import InvalidObject
from wikipeer.model.cid import cid_from_str

INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what an SQLite INTEGER holds
MAX_STRING = 1 << 20

Check = Callable[[Any], Any]


class BadParam(ValueError):
    """A parameter of the wrong type or out of range; the message says what was expected."""


def _name(value: Any) -> str:
    return "null" if value is None else {dict: "an object", list: "a list", bool: "a boolean", str: "a string",
                                         int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def integer(low: int = INT_MIN, high: int = INT_MAX) -> Check:
    """An integer from ``low`` to ``high`` (a boolean is not one)."""
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadParam(f"expected an integer, not {_name(value)}")
        if not low <= value <= high:
            raise BadParam(f"{value} is out of range: from {low} to {high}")
        return value
    return check


def text(max_chars: int = MAX_STRING) -> Check:
    """A string of valid Unicode, at most ``max_chars`` long."""
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise BadParam(f"expected a string, not {_name(value)}")
        if len(value) > max_chars:
            raise BadParam(f"a string of {len(value)} characters; at most {max_chars}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadParam("the string holds a lone surrogate (not valid Unicode)") from None
        return value
    return check


def one_of(*choices: str) -> Check:
    """One of these strings."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise BadParam(f"expected one of {', '.join(repr(c) for c in choices)}")
        return value
    return check


def optional(inner: Check) -> Check:
    """null, or what ``inner`` accepts."""
    return lambda value: None if value is None else inner(value)


def list_of(inner: Check, max_items: int) -> Check:
    """A list of at most ``max_items`` values, each checked by ``inner``."""
    def check(value: Any) -> list:
        if not isinstance(value, list):
            raise BadParam(f"expected a list, not {_name(value)}")
        if len(value) > max_items:
            raise BadParam(f"a list of {len(value)} items; at most {max_items}")
        out = []
        for i, item in enumerate(value):
            try:
                out.append(inner(item))
            except BadParam as exc:
                raise BadParam(f"item {i}: {exc}") from None
        return out
    return check


def record(**fields: Check) -> Check:
    """An object with only these keys, each optional and checked by its check."""
    def check(value: Any) -> dict:
        if not isinstance(value, dict):
            raise BadParam(f"expected an object, not {_name(value)}")
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise BadParam(f"no key {unknown[0]!r}: the keys are {', '.join(fields)}")
        out = {}
        for key, item in value.items():
            try:
                out[key] = fields[key](item)
            except BadParam as exc:
                raise BadParam(f"{key}: {exc}") from None
        return out
    return check


def cid(value: Any) -> bytes:
    """A CID in its text form, as its bytes."""
    if not isinstance(value, str):
        raise BadParam(f"a GUID is a CID string, not {_name(value)}")
    try:
        return cid_from_str(value)
    except (InvalidObject, ValueError) as exc:
        raise BadParam(str(exc)) from None
