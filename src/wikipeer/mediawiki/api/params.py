"""Parameters of API modules and their validation, by MediaWiki's rules.

A multi-valued parameter splits on ``|`` (or on U+001F when its value starts
with one); a value a multi-valued parameter does not know is dropped with a
warning, one a single-valued parameter does not know is a ``badvalue`` error.
Limits (``type="limit"``) take ``max`` and are clamped, with a warning, when
over it; integers likewise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from wikipeer.formats.dump_convert import format_timestamp  # noqa: F401 (the API modules take it from here)
from wikipeer.mediawiki.api.errors import ApiError, bad_value

if TYPE_CHECKING:  # call.py needs nothing from here; the import is for the types only
    from wikipeer.mediawiki.api.call import ApiCall

MULTI_LIMIT = 50
"""Values one multi-valued parameter takes (MediaWiki's ISMULTI_LIMIT1; bots get HIGH_MULTI_LIMIT)."""
HIGH_MULTI_LIMIT = 500
TYPES = ("string", "text", "integer", "limit", "boolean", "timestamp", "namespace", "title", "user", "password",
         "upload", "raw")
_INTEGER = re.compile(r"[-+]?\d{1,18}\Z")


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter, named without its module's prefix.

    ``values``: the values an enumerated parameter takes (its paraminfo type
    is that list). ``max``/``highmax``: a limit's bounds (``highmax`` for bots);
    ``min``/``max`` an integer's. ``sensitive``: never echoed (passwords, tokens).
    """

    name: str
    type: str = "string"
    multi: bool = False
    values: tuple[str, ...] | None = None
    default: Any = None
    required: bool = False
    min: int | None = None
    max: int | None = None
    highmax: int | None = None
    sensitive: bool = False
    allows_duplicates: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if self.values is None and self.type not in TYPES:
            raise ValueError(f"parameter {self.name}: unknown type {self.type!r}")


def split_multi(value: str) -> list[str]:
    """The values of a multi-valued parameter, as MediaWiki splits them."""
    if value.startswith("\x1f"):
        return value[1:].split("\x1f")
    return value.split("|") if value != "" else []


def read_params(call: ApiCall, module_name: str, prefix: str, params: tuple[Param, ...]) -> dict[str, Any]:
    """The module's parameters from ``call.params``, validated; marks them used."""
    out: dict[str, Any] = {}
    for param in params:
        name = prefix + param.name
        raw = call.params.get(name)
        if raw is None and not param.required:
            # Most parameters are not sent: their default, without the checks of a sent value.
            out[param.name] = False if param.type == "boolean" else _default(param)
            continue
        if raw is not None:
            call.used.add(name)
        out[param.name] = _value(call, module_name, name, param, raw)
    return out


def _value(call: ApiCall, module: str, name: str, param: Param, raw: str | None) -> Any:
    if param.type == "boolean":
        return raw is not None  # MediaWiki: present means true, whatever its value
    if raw is None:
        if param.required:
            raise ApiError("missingparam", f'The "{name}" parameter must be set.')
        return _default(param)
    if param.required and raw == "" and param.type not in ("text", "string"):
        raise ApiError("missingparam", f'The "{name}" parameter must be set.')
    if param.multi:
        values = split_multi(raw)
        limit = HIGH_MULTI_LIMIT if call.is_bot else MULTI_LIMIT
        if len(values) > limit:
            raise ApiError("toomanyvalues", f'Too many values supplied for parameter "{name}". The limit is {limit}.')
        checked = [v for v in (_one(call, module, name, param, v, multi=True) for v in values) if v is not None]
        if not param.allows_duplicates:
            checked = list(dict.fromkeys(checked))
        if param.required and not checked:
            raise ApiError("missingparam", f'The "{name}" parameter must be set.')
        return checked
    return _one(call, module, name, param, raw, multi=False)


def _default(param: Param) -> Any:
    if param.multi:
        if param.default is None:
            return []
        return list(param.default) if isinstance(param.default, (list, tuple)) else split_multi(str(param.default))
    return param.default


def _one(call: ApiCall, module: str, name: str, param: Param, value: str, multi: bool) -> Any:
    if param.values is not None:
        if value in param.values:
            return value
        if multi:
            call.warn(module, "unrecognizedvalues", f'Unrecognized value for parameter "{name}": {value}')
            return None
        raise bad_value(name, value)
    if param.type in ("integer", "limit", "namespace"):
        return _integer(call, module, name, param, value, multi)
    if param.type == "timestamp":
        return parse_timestamp(name, value)
    return value


def _integer(call: ApiCall, module: str, name: str, param: Param, value: str, multi: bool) -> int | None:
    if param.type == "limit" and value == "max":
        return param.highmax if call.is_bot and param.highmax else param.max
    if not _INTEGER.match(value.strip()):
        if param.type == "namespace" and multi:
            call.warn(module, "unrecognizedvalues", f'Unrecognized value for parameter "{name}": {value}')
            return None
        raise ApiError("badinteger", f'Invalid value "{value}" for integer parameter "{name}".')
    number = int(value)
    if param.type == "namespace":
        if number not in call.wiki.namespaces:
            if multi:
                call.warn(module, "unrecognizedvalues", f'Unrecognized value for parameter "{name}": {value}')
                return None
            raise bad_value(name, value)
        return number
    low = param.min if param.min is not None else (1 if param.type == "limit" else None)
    high = param.highmax if param.type == "limit" and call.is_bot and param.highmax else param.max
    if (low is not None and number < low) or (high is not None and number > high):
        call.warn(module, "integeroutofrange", out_of_range(name, value, low, high))
        return low if low is not None and number < low else high
    return number


def out_of_range(name: str, value: object, low: int | None, high: int | None) -> str:
    """MediaWiki's warning for an integer outside its bounds (it is then clamped)."""
    if low is not None and high is not None:
        bound = f"must be between {low} and {high}"
    else:
        bound = f"must be no less than {low}" if low is not None else f"must be no greater than {high}"
    return f'The value "{value}" for parameter "{name}" {bound}.'


_TS_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S",
               "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def parse_timestamp(name: str, value: str) -> int:
    """A timestamp parameter (ISO 8601, MediaWiki's 14 digits, unix seconds or ``now``) as ms since 1970."""
    text = value.strip()
    if text == "now":
        return int(datetime.now(timezone.utc).timestamp()) * 1000
    if re.fullmatch(r"\d{1,13}", text) and len(text) != 14 and len(text) != 8:
        return int(text) * 1000
    for fmt in _TS_FORMATS:
        try:
            when = datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        return int(when.timestamp() * 1000)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError("badtimestamp", f'Invalid value "{value}" for timestamp parameter "{name}".') from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


