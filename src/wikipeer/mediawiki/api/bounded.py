"""Which api.php requests are small enough to answer without leaving the web server's event loop.

Handing a request to a worker thread and its answer back costs two thread
switches: on a request that takes a third of a millisecond that was half the
node's work. Only requests whose work has a small bound are answered on the
loop: a GET ``action=query`` about at most one page (its current revision or
facts, one revision's content) or one batch of at most ``QUICK_ROWS`` recent
changes with no filter that could make the scan walk the whole wiki. Anything
else (searches, enumerations, generators, parsing, logins with their password
hashing, every write) still runs in a worker thread, so that no long answer
holds up the others.
"""

from __future__ import annotations

from collections.abc import Mapping

from wikipeer.mediawiki.api.params import split_multi

QUICK_ROWS = 50
_PAGE_SOURCES = ("titles", "pageids", "revids")
_REVISION_RANGES = ("rvlimit", "rvstartid", "rvendid", "rvstart", "rvend", "rvuser", "rvexcludeuser", "rvcontinue",
                    "rvsection")
_CHANGE_FILTERS = ("rcuser", "rcexcludeuser", "rcshow", "rctoponly", "rctype", "rctag", "rcgeneraterevisions")


def is_quick(method: str, params: Mapping[str, str]) -> bool:
    """Whether this request's work is bounded small (see the module's docstring); False when unsure."""
    if method != "GET" or params.get("action") != "query" or "generator" in params:
        return False
    if any(len(split_multi(params[name])) > 1 for name in _PAGE_SOURCES if name in params):
        return False
    if params.get("meta"):
        return False
    props = set(split_multi(params.get("prop", "")))
    lists = set(split_multi(params.get("list", "")))
    if not props <= {"revisions", "info"} or not lists <= {"recentchanges"}:
        return False
    if "revisions" in props and any(name in params for name in _REVISION_RANGES):
        return False
    if "recentchanges" in lists:
        limit = params.get("rclimit", "10")
        if any(name in params for name in _CHANGE_FILTERS) or not limit.isdigit() or int(limit) > QUICK_ROWS:
            return False
        if "redirect" in split_multi(params.get("rcprop", "")):  # a text read per change
            return False
    return True
