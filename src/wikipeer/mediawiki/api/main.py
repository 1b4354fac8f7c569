"""``api.php``'s main module: the parameters every request shares, the checks before a module runs, the answer.

Order of checks, as MediaWiki 1.39's ApiMain: the action is known; a POST-only
module came by POST; its token is there and valid; ``maxlag``; ``assert``;
then the module runs and parameters nobody read are warned about.
"""

from __future__ import annotations

import time
from typing import Any

from wikipeer.mediawiki.api.call import ApiCall, ApiResponse
from wikipeer.mediawiki.api.errors import ApiError, ApiWarning
from wikipeer.mediawiki.api.output import content_key, encode, html_page
from wikipeer.mediawiki.api.params import Param, format_timestamp, read_params
from wikipeer.mediawiki.api.registry import module, names, table_params

ERROR_FORMATS = ("bc", "plaintext", "wikitext", "html", "raw", "none")
LAG_SECONDS = 0
"""The node's replication lag for ``maxlag``: it answers from its own store, which has no replicas to wait for."""


def main_params() -> tuple[Param, ...]:
    """The parameters of the main module and of the json format (paraminfo lists both)."""
    return (
        Param("action", values=names("action"), default="help"),
        Param("format", values=("json", "jsonfm"), default="jsonfm"),
        Param("maxlag", "integer"),
        Param("smaxage", "integer", default=0, min=0),
        Param("maxage", "integer", default=0, min=0),
        Param("assert", values=("anon", "user", "bot")),
        Param("assertuser", "user"),
        Param("requestid"),
        Param("servedby", "boolean"),
        Param("curtimestamp", "boolean"),
        Param("responselanginfo", "boolean"),
        Param("origin"),
        Param("uselang", default="user"),
        Param("variant"),
        Param("errorformat", values=ERROR_FORMATS, default="bc"),
        Param("errorlang", default="uselang"),
        Param("errorsuselocal", "boolean"),
        Param("view", help="wikipeer: the named view (see 'wikipeer view list') whose heads the answer shows; "
                           "the node's default view if unset"),
    )


def format_params() -> tuple[Param, ...]:
    return (Param("callback"), Param("utf8", "boolean"), Param("ascii", "boolean"),
            Param("formatversion", values=("1", "2", "latest"), default="1"))


def handle(call: ApiCall) -> ApiResponse:
    """Answer one request; never raises for anything a caller sent."""
    started = time.time()
    fmt, version, utf8, errorformat = "json", 1, False, "bc"
    try:
        fmt, version, utf8 = _format(call)
    except ApiError:
        pass  # answered below, in json, by the main module's own reading of them
    call.formatversion = version
    headers: dict[str, str] = {}
    result: dict[str, Any] = {}
    try:
        # Read first, so that an error in any other parameter is told in the format asked for.
        errorformat = read_params(call, "main", "", (Param("errorformat", values=ERROR_FORMATS, default="bc"),)
                                  )["errorformat"]
        main = read_params(call, "main", "", table_params(main_params))
        result = _run(call, main)
    except ApiError as exc:
        headers.update(exc.headers)
        headers["MediaWiki-API-Error"] = exc.code
        result = {"error": _error(call, exc, errorformat)}
        main = {k: call.params.get(k) for k in ("requestid", "servedby", "curtimestamp")}
        main["servedby"] = "servedby" in call.params
        main["curtimestamp"] = "curtimestamp" in call.params
        if errorformat == "bc":
            result["error"][content_key("docref")] = _docref(call)
    answer = _envelope(call, main, result, errorformat, started)
    body = encode(answer, version, utf8, pretty=fmt == "jsonfm")
    if fmt == "jsonfm":
        return ApiResponse(200, html_page(body), "text/html; charset=utf-8", headers, call.cookies)
    return ApiResponse(200, body, "application/json; charset=utf-8", headers, call.cookies)


def _format(call: ApiCall) -> tuple[str, int, bool]:
    fmt = read_params(call, "main", "", (Param("format", values=("json", "jsonfm"), default="jsonfm"),))["format"]
    params = read_params(call, "json", "", table_params(format_params))
    return fmt, 1 if params["formatversion"] == "1" else 2, params["utf8"]


def _run(call: ApiCall, main: dict[str, Any]) -> dict[str, Any]:
    name = main["action"]
    if name == "help":
        raise ApiError("help", "This node answers MediaWiki's Action API in JSON; its help is action=paraminfo "
                               "(see docs/mediawiki.md). action=help is not offered.")
    target = module("action", name)
    if target is None:
        raise ApiError("badvalue", f'Unrecognized value for parameter "action": {name}.')
    if target.post_only and call.method != "POST":
        raise ApiError("mustbeposted", f'The "{name}" module requires a POST request.')
    if target.token is not None:
        _check_token(call, target.token)
    if main["maxlag"] is not None and LAG_SECONDS > main["maxlag"]:
        raise ApiError("maxlag", f"Waiting for {call.servedby}: {LAG_SECONDS} seconds lagged.",
                       headers={"Retry-After": "5", "X-Database-Lag": str(LAG_SECONDS)})
    _check_asserts(call, main)
    if main["view"]:
        if main["view"] not in call.node.config.views:
            raise ApiError("badvalue", f'Unrecognized value for parameter "view": {main["view"]}. '
                                       f"This node's views: {', '.join(sorted(call.node.config.views)) or 'none'}.")
        call.view = call.node.view(main["view"])
    params = read_params(call, name, target.prefix, target.parameters())
    out = target.handler(call, params)
    _warn_unused(call)
    return out


def _check_token(call: ApiCall, kind: str) -> None:
    token = call.params.get("token")
    call.used.add("token")
    if token is None:
        raise ApiError("missingparam", 'The "token" parameter must be set.')
    if call.check_token is None or not call.check_token(kind, token):
        raise ApiError("badtoken", "Invalid CSRF token." if kind == "csrf" else f"Invalid {kind} token.")


def _check_asserts(call: ApiCall, main: dict[str, Any]) -> None:
    wanted = main["assert"]
    if wanted == "user" and call.account is None:
        raise ApiError("assertuserfailed", "You are no longer logged in, so the action could not be completed.")
    if wanted == "bot" and not call.is_bot:
        raise ApiError("assertbotfailed", 'You do not have the "bot" right, so the action could not be completed.')
    if wanted == "anon" and call.account is not None:
        raise ApiError("assertanonfailed", "You are no longer logged out, so the action could not be completed.")
    named = main["assertuser"]
    if named is not None and (call.account is None or getattr(call.account, "name", None) != named):
        raise ApiError("assertnameduserfailed",
                       f'You are no longer logged in as "{named}", so the action could not be completed.')


def _warn_unused(call: ApiCall) -> None:
    unused = [name for name in call.params if name not in call.used]
    if unused:
        plural = "s" if len(unused) > 1 else ""
        call.warn("main", "unrecognizedparams", f"Unrecognized parameter{plural}: {', '.join(unused)}.")


def _error(call: ApiCall, exc: ApiError, errorformat: str) -> dict[str, Any]:
    if errorformat == "bc":
        return {"code": exc.code, "info": exc.info}
    return {"code": exc.code, "text": exc.info, "module": exc.module}


def _docref(call: ApiCall) -> str:
    return (f"See {call.script_url} for API usage. This node answers the part of MediaWiki's Action API "
            "described in wikipeer's docs/mediawiki.md.")


def _envelope(call: ApiCall, main: dict[str, Any], result: dict[str, Any], errorformat: str,
              started: float) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    if "error" in result and errorformat != "bc":
        answer["errors"] = [result.pop("error")]
        answer["docref"] = _docref(call)
    if call.warnings:
        answer["warnings"] = _warnings(call.warnings, errorformat)
    answer.update(result)
    if main.get("requestid") is not None:
        answer["requestid"] = main["requestid"]
    if main.get("servedby"):
        answer["servedby"] = call.servedby
    if main.get("curtimestamp"):
        answer["curtimestamp"] = format_timestamp(int(started * 1000))
    return answer


def _warnings(warnings: list[ApiWarning], errorformat: str) -> Any:
    if errorformat != "bc":
        return [{"code": w.code, "text": w.text, "module": w.module} for w in warnings]
    by_module: dict[str, list[str]] = {}
    for warning in warnings:
        by_module.setdefault(warning.module, []).append(warning.text)
    return {name: {content_key("warnings"): "\n".join(texts)} for name, texts in by_module.items()}
