"""api.php's fast paths keep its answers: parameters built once per table, requests answered on the event loop."""

from __future__ import annotations

import json

import pytest

from wikipeer.mediawiki.api import ApiCall, handle
from wikipeer.mediawiki.api.bounded import QUICK_ROWS, is_quick
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.registry import Module, _MODULES, register

Q = {"format": "json", "formatversion": "2", "action": "query"}


def _ask(node, **params) -> dict:
    return json.loads(handle(ApiCall(node=node, wiki=node.wiki("w"), params={**Q, **params})).body)


def test_a_module_added_after_requests_is_routed_and_one_removed_is_not(node) -> None:
    """The main and query modules' parameters (which list every module) are built once, and again when
    the table changes: a module added or removed between two requests is seen by the second."""
    assert "error" not in _ask(node, meta="siteinfo")
    module = register(Module("speedtest", "meta", "st", (), lambda call, params, query: query.result.update(
        speedtest={"ok": True})))
    try:
        assert _ask(node, meta="speedtest")["query"]["speedtest"] == {"ok": True}
    finally:
        del _MODULES[("meta", module.name)]
    gone = _ask(node, meta="speedtest")
    assert gone["warnings"]["query"]["warnings"] == 'Unrecognized value for parameter "meta": speedtest'


def test_parameters_not_sent_take_their_defaults(node) -> None:
    """The short way for parameters not sent gives what the full checks gave: a boolean's False, a
    multi-valued parameter's default as a list of its own (a handler changing it changes no later answer),
    and a required one still missing."""
    def handler(call, params):
        params["many"].append("changed")
        return {"speedtest": {"flag": params["flag"], "many": params["many"], "value": params["value"]}}

    module = register(Module("speedtest", "action", "", (Param("value", required=True), Param("flag", "boolean"),
                                                          Param("many", multi=True, default="a|b")), handler))
    try:
        for _ in range(2):
            answer = _ask(node, action="speedtest", value="v")
            assert answer["speedtest"] == {"flag": False, "many": ["a", "b", "changed"], "value": "v"}
        assert _ask(node, action="speedtest")["error"] == {
            "code": "missingparam", "info": 'The "value" parameter must be set.',
            "docref": _ask(node, action="speedtest")["error"]["docref"]}
    finally:
        del _MODULES[("action", module.name)]


@pytest.mark.parametrize("params", [
    {"prop": "revisions", "titles": "Apple", "rvprop": "ids|content", "rvslots": "main"},
    {"prop": "info|revisions", "pageids": "3"},
    {"list": "recentchanges", "rclimit": str(QUICK_ROWS), "rcprop": "title|ids|timestamp|user|comment|sizes"},
    {"list": "recentchanges"},
])
def test_bounded_reads_are_quick(params) -> None:
    assert is_quick("GET", {**Q, **params})


@pytest.mark.parametrize("method, params", [
    ("POST", {"prop": "revisions", "titles": "Apple"}),  # logins and writes come by POST
    ("GET", {"prop": "revisions", "titles": "Apple|Banana"}),
    ("GET", {"prop": "revisions", "titles": "Apple", "rvlimit": "max"}),
    ("GET", {"list": "recentchanges", "rclimit": str(QUICK_ROWS + 1)}),
    ("GET", {"list": "recentchanges", "rclimit": "max"}),
    ("GET", {"list": "recentchanges", "rcuser": "Nobody"}),  # a filter can walk the whole wiki
    ("GET", {"list": "recentchanges", "rcshow": "minor"}),
    ("GET", {"list": "recentchanges", "rcprop": "title|redirect"}),
    ("GET", {"list": "search", "srsearch": "apple"}),
    ("GET", {"generator": "allpages", "prop": "info"}),
    ("GET", {"meta": "siteinfo", "siprop": "statistics"}),
])
def test_anything_else_goes_to_a_worker_thread(method, params) -> None:
    assert not is_quick(method, {**Q, **params})


def test_only_queries_are_quick() -> None:
    assert not is_quick("GET", {"format": "json", "action": "parse", "text": "x"})
    assert not is_quick("GET", {"format": "json"})
