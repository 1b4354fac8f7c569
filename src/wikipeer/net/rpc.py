"""JSON-RPC 2.0, the envelope of the inter-node API.

Pure: it turns a request body into a response body by calling methods from
a table, and knows nothing of HTTP or the store. Batches are allowed (up to
``MAX_BATCH`` calls) and every call in a batch must carry its own id.
A response may carry ``redirect``: other nodes that may answer.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from wikipeer.net.params import BadParam, Check

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32601, -32602, -32603
APP_ERROR, BUSY, RATE_LIMITED, OVER_LIMIT = -32000, -32001, -32002, -32003
MAX_BATCH = 100
MAX_JSON_DEPTH = 64


class RpcError(Exception):
    """A call that fails with a JSON-RPC error code and a readable message."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


@dataclass(slots=True)
class Call:
    """One method call in flight; a method may add redirects to its answer."""

    method: str
    params: Any
    id: Any
    redirect: list[dict] = field(default_factory=list)
    caller: str = ""
    """Who calls, as the server proved it (its address), for bounds kept per caller."""


Method = Callable[[Call], Any]


def _error(id_: Any, code: int, message: str, data: Any = None) -> dict:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "error": err, "id": id_}


def _call(methods: dict[str, Method], request: Any, caller: str) -> dict | None:
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        return _error(None, INVALID_REQUEST, "not a JSON-RPC 2.0 request: it needs jsonrpc '2.0' and a method name")
    notification = "id" not in request
    id_ = request.get("id")
    if not notification and (not isinstance(id_, (str, int)) or isinstance(id_, bool)):
        return _error(None, INVALID_REQUEST, "the id must be a string or an integer")
    method = methods.get(request["method"])
    if method is None:
        return None if notification else _error(id_, METHOD_NOT_FOUND, f"no method {request['method']!r}; "
                                                f"this node knows {', '.join(sorted(methods))}")
    call = Call(request["method"], request.get("params", []), id_, caller=caller)
    try:
        result = method(call)
    except RpcError as exc:
        answer = _error(id_, exc.code, exc.message, exc.data)
    else:
        answer = {"jsonrpc": "2.0", "result": result, "id": id_}
    if call.redirect:
        answer["redirect"] = call.redirect
    return None if notification else answer


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text, found without parsing it (in linear time)."""
    if body.count(b"[") + body.count(b"{") <= 1:
        return 1
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    return max(accumulate(array("b", brackets.translate(_DEPTH_STEP))), default=0)


def loads(body: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON nested at most ``max_depth`` deep; raise ValueError otherwise.

    The depth is checked before parsing: the parser recurses once per level,
    and a body of nothing but ``[`` would exhaust the stack.
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    depth = json_depth(raw)
    if depth > max_depth:
        raise ValueError(f"nested {depth} deep; at most {max_depth}")
    return json.loads(raw)


def handle(methods: dict[str, Method], body: bytes, caller: str = "",
           admit: Callable[[int], None] = lambda calls: None) -> Any:
    """The response to a request body: a dict, a list for a batch, or None when nothing is owed.

    ``caller``: who sent it, as the server knows it (given to every call).
    ``admit(calls)`` is told how many calls the body holds before any runs; it may raise to refuse them all.
    """
    try:
        request = loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        admit(1)
        return _error(None, PARSE_ERROR, f"the request is not JSON: {exc}")
    admit(min(len(request), MAX_BATCH) if isinstance(request, list) and request else 1)
    if not isinstance(request, list):
        return _call(methods, request, caller)
    if not request:
        return _error(None, INVALID_REQUEST, "an empty batch")
    if len(request) > MAX_BATCH:
        return _error(None, INVALID_REQUEST, f"a batch of {len(request)} calls; at most {MAX_BATCH}")
    ids = [r.get("id") for r in request if isinstance(r, dict) and "id" in r]
    if len(ids) != len({json.dumps(i) for i in ids}):
        return _error(None, INVALID_REQUEST, "two calls in the batch share an id: each call needs its own")
    answers = [a for a in (_call(methods, r, caller) for r in request) if a is not None]
    return answers or None


def params(call: Call, *names: str, defaults: dict[str, Any] | None = None,
           checks: dict[str, Check] | None = None) -> list[Any]:
    """A call's parameters by position or by name, in the order of ``names``.

    ``checks``: per name, the check (net/params.py) a given value must pass;
    what it returns is the parameter's value. Defaults are not checked.
    """
    defaults, checks = defaults or {}, checks or {}
    given = call.params
    if isinstance(given, list):
        if len(given) > len(names):
            raise RpcError(INVALID_PARAMS, f"{call.method} takes at most {len(names)} parameters: {', '.join(names)}")
        values = dict(zip(names, given))
    elif isinstance(given, dict):
        unknown = set(given) - set(names)
        if unknown:
            raise RpcError(INVALID_PARAMS, f"{call.method} has no parameter {sorted(unknown)[0]!r}")
        values = dict(given)
    else:
        raise RpcError(INVALID_PARAMS, "params must be a list or an object")
    missing = [n for n in names if n not in values and n not in defaults]
    if missing:
        raise RpcError(INVALID_PARAMS, f"{call.method} needs the parameter {missing[0]!r}")
    for name, check in checks.items():
        if name in values:
            try:
                values[name] = check(values[name])
            except BadParam as exc:
                raise RpcError(INVALID_PARAMS, f"{call.method}: {name}: {exc}") from None
    return [values.get(n, defaults.get(n)) for n in names]
