"""``action=paraminfo``: the modules' parameters, read from the same table that routes requests."""

from __future__ import annotations

from typing import Any

from wikipeer.mediawiki.api import main
from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.params import HIGH_MULTI_LIMIT, MULTI_LIMIT, Param
from wikipeer.mediawiki.api.registry import Module, all_modules, by_path, names, register

LICENSE = ("GPL-2.0-or-later", "https://www.gnu.org/copyleft/gpl.html")
_SUBMODULE_PARAMS = {("main", "action"): "action", ("query", "prop"): "prop", ("query", "list"): "list",
                     ("query", "meta"): "meta"}


def run(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    paths = list(params["modules"]) + [f"query+{name}" for name in params["querymodules"]]
    if params["mainmodule"]:
        paths.insert(0, "main")
    if params["pagesetmodule"]:
        paths.append("pageset")
    paths += params["formatmodules"]
    out: list[dict[str, Any]] = []
    for path in paths:
        if path == "*":
            out += [_describe(m) for m in all_modules() if m.kind == "action"]
            continue
        if path == "query+*":
            out += [_describe(m) for m in all_modules() if m.kind != "action"]
            continue
        info = _special(path) or (_describe(found) if (found := by_path(path)) else None)
        out.append(info if info is not None else {"name": path.rsplit("+", 1)[-1], "path": path, "missing": True})
    return {"paraminfo": {"modules": out}}


def _special(path: str) -> dict[str, Any] | None:
    """The modules that are not in the table: main, the json formats and the page set."""
    if path == "main":
        return _info("main", "main", "main", "", main.main_params(), group=None)
    if path in ("json", "jsonfm"):
        return _info(path, path, path, "", main.format_params(), group="format")
    if path == "pageset":
        from wikipeer.mediawiki.api import query
        wanted = {"titles", "pageids", "revids", "generator", "redirects", "converttitles"}
        return _info("pageset", "pageset", "pageset", "", tuple(p for p in query._params() if p.name in wanted),
                     group=None)
    return None


def _describe(mod: Module) -> dict[str, Any]:
    params = mod.parameters()
    info = _info(mod.name, mod.path, mod.path, mod.prefix, params, group=mod.kind if mod.kind != "action" else "action")
    if mod.token:
        info["parameters"].append({"index": len(info["parameters"]) + 1, "name": "token", "type": "string",
                                   "required": True, "tokentype": mod.token, "sensitive": True})
    info.update(mustbeposted=mod.post_only, writerights=mod.write, generator=mod.generator)
    if mod.help:
        info["description"] = mod.help
    return info


def _info(name: str, path: str, owner: str, prefix: str, params: tuple[Param, ...],
          group: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": name, "classname": "Wikipeer" + name.title().replace("+", ""), "path": path,
        "source": "wikipeer", "licensetag": LICENSE[0], "licenselink": LICENSE[1], "readrights": True,
        "helpurls": [], "examples": [], "prefix": prefix,
        "parameters": [_param(owner, index, p) for index, p in enumerate(params, 1)],
        "templatedparameters": [],
    }
    if group is not None:
        info["group"] = group
    return info


def _param(owner: str, index: int, param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"index": index, "name": param.name,
                           "type": list(param.values) if param.values is not None else param.type,
                           "required": param.required, "multi": param.multi}
    if param.default is not None and param.type != "boolean":
        default = param.default
        out["default"] = "|".join(map(str, default)) if isinstance(default, (list, tuple)) else default
    if param.multi:
        out.update(limit=MULTI_LIMIT, lowlimit=MULTI_LIMIT, highlimit=HIGH_MULTI_LIMIT)
        if param.allows_duplicates:
            out["allowsduplicates"] = True
    if param.type in ("integer", "limit"):
        if param.min is not None or param.type == "limit":
            out["min"] = param.min if param.min is not None else 1
        if param.max is not None:
            out["max"] = param.max
        if param.highmax is not None:
            out["highmax"] = param.highmax
    if param.sensitive:
        out["sensitive"] = True
    kind = _SUBMODULE_PARAMS.get((owner, param.name))
    if kind is not None:
        out["submodules"] = {n: (n if kind == "action" else f"query+{n}") for n in names(kind)}
    if (owner, param.name) == ("main", "format"):
        out["submodules"] = {n: n for n in param.values or ()}
    if param.help:
        out["description"] = param.help
    return out


def _params() -> tuple[Param, ...]:
    return (
        Param("modules", multi=True),
        Param("querymodules", multi=True),
        Param("mainmodule", "boolean"),
        Param("pagesetmodule", "boolean"),
        Param("formatmodules", multi=True, values=("json", "jsonfm")),
        Param("helpformat", values=("html", "wikitext", "raw", "none"), default="none"),
    )


register(Module("paraminfo", "action", "", _params, run, help="The parameters of this node's API modules."))
