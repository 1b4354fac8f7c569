"""Field rules for each object type, checked when an object is decoded.

A rule names a field's kind and limits; ``check_fields`` reports the first
violation with the field's name, so a rejected object says what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wikipeer.errors import InvalidObject
from wikipeer.model.cid import cid_codec
from wikipeer.model.keys import key_from_str
from wikipeer.model.roles import MEMBER_ROLES

_SIG_TEXT = re.compile(r"^[A-Za-z0-9_-]{85}[AQgw]\Z")
"""Unpadded base64url of exactly 64 bytes (the last character carries 4 bits)."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field: its kind (str, int, bool, link, links, chain, key, sig, map, strs, rolemap), whether required, a size limit.

    ``links`` is a set of CID links (no repeats); ``chain`` an ordered list that may repeat one (a file's chunks).
    """

    kind: str
    required: bool = True
    limit: int = 0


def _check_str(name: str, value: Any, limit: int) -> None:
    if not isinstance(value, str):
        raise InvalidObject(f"field {name!r} must be text, not {type(value).__name__}")
    if limit and len(value.encode("utf-8")) > limit:
        raise InvalidObject(f"field {name!r} is longer than {limit} bytes")


def _check_link(name: str, value: Any) -> None:
    if not isinstance(value, bytes):
        raise InvalidObject(f"field {name!r} must be a CID link, not {type(value).__name__}")
    try:
        cid_codec(value)
    except InvalidObject as exc:
        raise InvalidObject(f"field {name!r}: {exc}") from None


def _check_map(name: str, value: Any, limit: int) -> None:
    if not isinstance(value, dict):
        raise InvalidObject(f"field {name!r} must be a map")
    for key, item in value.items():
        if not isinstance(item, (str, int, bool)) or isinstance(item, bytes):
            raise InvalidObject(f"field {name}.{key} must be text, a number or a flag")
        if isinstance(item, str):
            _check_str(f"{name}.{key}", item, limit)




def _check_rolemap(name: str, value: Any, limit: int) -> None:
    """A map from keys to the role each is given (editor, reviewer, node)."""
    if not isinstance(value, dict) or len(value) > limit:
        raise InvalidObject(f"field {name!r} must be a map of at most {limit} keys to roles")
    for key, role in value.items():
        _check_str(name, key, 64)
        key_from_str(key)
        if role not in MEMBER_ROLES:
            raise InvalidObject(f"field {name}[{key[:20]}…] has the role {role!r}, not one of {', '.join(MEMBER_ROLES)}")


def _check_value(name: str, rule: Field, value: Any) -> None:
    kind = rule.kind
    if kind in ("str", "sig"):
        _check_str(name, value, rule.limit)
        if kind == "sig" and not _SIG_TEXT.match(value):
            raise InvalidObject(f"field {name!r} is not a 64-byte Ed25519 signature")
    elif kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidObject(f"field {name!r} must be an integer")
        if value < 0 or value >= 1 << 53:
            raise InvalidObject(f"field {name!r} is out of range: {value}")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise InvalidObject(f"field {name!r} must be true or false")
    elif kind == "link":
        _check_link(name, value)
    elif kind in ("links", "chain"):
        if not isinstance(value, list) or len(value) > rule.limit:
            raise InvalidObject(f"field {name!r} must be a list of at most {rule.limit} CID links")
        for item in value:
            _check_link(name, item)
        if kind == "links" and len(set(value)) != len(value):
            raise InvalidObject(f"field {name!r} names the same CID twice")
    elif kind == "key":
        _check_str(name, value, 64)
        key_from_str(value)
    elif kind == "strs":
        if not isinstance(value, list) or len(value) > rule.limit:
            raise InvalidObject(f"field {name!r} must be a list of at most {rule.limit} texts")
        for item in value:
            _check_str(name, item, 1024)
        if len(set(value)) != len(value):
            raise InvalidObject(f"field {name!r} names the same text twice")
    elif kind == "rolemap":
        _check_rolemap(name, value, rule.limit)
    elif kind == "map":
        _check_map(name, value, rule.limit)
    else:  # a rule table with a typo is our bug, not the sender's
        raise AssertionError(f"unknown field kind {kind}")


def check_fields(type_name: str, obj: dict[str, Any], rules: dict[str, Field]) -> None:
    """Raise InvalidObject naming the first field of ``obj`` that breaks ``rules``."""
    for name in obj:
        if name != "t" and name not in rules:
            raise InvalidObject(f"{type_name}: unknown field {name!r}")
    for name, rule in rules.items():
        if name not in obj:
            if rule.required:
                raise InvalidObject(f"{type_name}: missing field {name!r}")
            continue
        _check_value(f"{type_name}.{name}", rule, obj[name])
