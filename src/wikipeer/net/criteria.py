"""Search criteria of the inter-node API, evaluated against a store.

A criterion is either a leaf ``[type, property, operator, value]`` or a
combination ``["AND", c1, c2, ...]``, ``["OR", c1, c2, ...]``, ``["NOT", c]``.
Leaves (every one selects pages):

    ["page", "wiki",  "=", "enwiki"]
    ["page", "ns",    "=", 0]
    ["page", "title", "=", "Paris"]        exact title, without its namespace (add an "ns" leaf)
    ["page", "title", "~", "ari"]          title contains, case-folded
    ["page", "text",  "~", "Eiffel tower"] the shown text matches (trigram index, every word)
    ["rev",  "author","=", "ed25519:..."]  pages with a revision signed as author by that key

Each leaf yields at most ``MAX_SET`` pages, so a criterion can never make
the node walk more than that many rows per leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wikipeer.model.title import clean_title
from wikipeer.net.params import BadParam, Check, integer, text
from wikipeer.net.rpc import INVALID_PARAMS, RpcError
from wikipeer.store import page_sets
from wikipeer.store.store import Store

MAX_SET = 100_000
MAX_DEPTH = 8
MAX_LEAVES = 16


def _bounded(select: Callable[[Store, Any, int], set[int]]) -> Callable[[Store, Any], set[int]]:
    return lambda store, value: select(store, value, MAX_SET)


def _title_is(store: Store, value: str) -> set[int]:
    return page_sets.pages_titled(store, clean_title(value), MAX_SET)


def _text_matches(store: Store, value: str) -> set[int]:
    return {row.id for row, _ in store.search(value, limit=MAX_SET)}


LEAVES: dict[tuple[str, str, str], tuple[Check, Callable[[Store, Any], set[int]]]] = {
    ("page", "wiki", "="): (text(256), _bounded(page_sets.pages_of_wiki)),
    ("page", "ns", "="): (integer(), _bounded(page_sets.pages_in_namespace)),
    ("page", "title", "="): (text(1024), _title_is),
    ("page", "title", "~"): (text(1024), _bounded(page_sets.pages_title_containing)),
    ("page", "text", "~"): (text(1024), _text_matches),
    ("rev", "author", "="): (text(256), _bounded(page_sets.pages_authored_by)),
}
"""Each leaf: the check its value must pass, and the pages it selects."""


def _leaf(store: Store, leaf: list) -> set[int]:
    kind, prop, op, value = leaf
    try:
        check, select = LEAVES[(kind, prop, op)]
    except (KeyError, TypeError):  # TypeError: a list or map where a name belongs
        raise RpcError(INVALID_PARAMS, f"unknown criterion {leaf!r}: see the protocol documentation for the leaves") from None
    try:
        return select(store, check(value))
    except BadParam as exc:
        raise RpcError(INVALID_PARAMS, f"criterion {kind} {prop} {op}: {exc}") from None


def _eval(store: Store, criterion: Any, depth: int, leaves: list[int]) -> set[int]:
    if depth > MAX_DEPTH:
        raise RpcError(INVALID_PARAMS, f"criteria nested deeper than {MAX_DEPTH}")
    if not isinstance(criterion, list) or not criterion:
        raise RpcError(INVALID_PARAMS, f"a criterion is a list, not {criterion!r}")
    op = criterion[0]
    if op in ("AND", "OR") and len(criterion) >= 2:
        sets = [_eval(store, c, depth + 1, leaves) for c in criterion[1:]]
        return set.intersection(*sets) if op == "AND" else set.union(*sets)
    if op == "NOT" and len(criterion) == 2:
        excluded = _eval(store, criterion[1], depth + 1, leaves)
        return page_sets.any_pages(store, MAX_SET) - excluded
    if len(criterion) == 4:
        leaves.append(1)
        if len(leaves) > MAX_LEAVES:
            raise RpcError(INVALID_PARAMS, f"more than {MAX_LEAVES} criteria in one search")
        return _leaf(store, criterion)
    raise RpcError(INVALID_PARAMS, f"a criterion is [type, property, operator, value] or AND/OR/NOT: {criterion!r}")


def evaluate(store: Store, criteria: Any, limit: int) -> list[bytes]:
    """The CIDs of the first ``limit`` pages (in store order) that ``criteria`` selects."""
    ids = sorted(_eval(store, criteria, 0, []))[:limit]
    return [store.page_by_id(i).cid for i in ids]
