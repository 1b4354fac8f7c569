"""The one table of API modules: it routes requests and answers ``action=paraminfo``.

A module file calls ``register(Module(...))`` when imported; ``modules.py``
imports every module file, so adding a module is one file plus one import line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikipeer.mediawiki.api.params import Param

KINDS = ("action", "meta", "prop", "list")
Handler = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Module:
    """An API module.

    ``kind``: ``action`` (``action=NAME``) or a query submodule (``meta``,
    ``prop``, ``list``). ``handler``: for an action, ``handler(call, params) ->
    dict``, the answer's top-level keys (``{"paraminfo": ...}``); for a query
    submodule see query.py. ``params``: a tuple, or a function
    giving one when they depend on the table (``query``'s list its submodules).
    ``token``: the token type the module needs
    (``csrf``, ``login``...), checked before the handler runs. ``generator``:
    a ``list`` or ``prop`` module that can act as ``generator=``.
    """

    name: str
    kind: str
    prefix: str
    params: tuple[Param, ...] | Callable[[], tuple[Param, ...]]
    handler: Handler
    post_only: bool = False
    token: str | None = None
    generator: bool = False
    write: bool = False
    help: str = ""

    def parameters(self) -> tuple[Param, ...]:
        """The module's parameters; a callable stands for those that depend on other modules (query's)."""
        return table_params(self.params) if callable(self.params) else self.params

    @property
    def path(self) -> str:
        """The module's path as paraminfo names it: ``edit``, ``query+revisions``."""
        return self.name if self.kind == "action" else f"query+{self.name}"


_MODULES: dict[tuple[str, str], Module] = {}
_ADDED = [0]
"""Modules ever registered: with the table's size, tells whether the table changed (tests also remove modules)."""
_BUILT: dict[Callable[[], tuple[Param, ...]], tuple[tuple[int, int], tuple[Param, ...]]] = {}
"""Parameters built from the table, by the function that builds them, with the table's state they were built for."""


def table_params(build: Callable[[], tuple[Param, ...]]) -> tuple[Param, ...]:
    """``build()``, built again only when a module was added: every request reads them, and building
    them (the sorted names of every module) cost as much as answering a small query."""
    state = (_ADDED[0], len(_MODULES))
    built = _BUILT.get(build)
    if built is None or built[0] != state:
        built = _BUILT[build] = (state, build())
    return built[1]


def register(module: Module) -> Module:
    """Add a module to the table; a second module of one kind and name is a programming error."""
    if module.kind not in KINDS:
        raise ValueError(f"module {module.name}: kind must be one of {KINDS}")
    key = (module.kind, module.name)
    if key in _MODULES:
        raise ValueError(f"two API modules named {module.kind}={module.name}")
    _MODULES[key] = module
    _ADDED[0] += 1
    return module


def module(kind: str, name: str) -> Module | None:
    return _MODULES.get((kind, name))


def names(kind: str) -> tuple[str, ...]:
    """The names of the modules of one kind, sorted (the values of ``action=``, ``prop=``...)."""
    return tuple(sorted(n for k, n in _MODULES if k == kind))


def by_path(path: str) -> Module | None:
    """A module by its paraminfo path (``query+info``, ``edit``)."""
    if path.startswith("query+"):
        name = path[len("query+"):]
        for kind in ("prop", "list", "meta"):
            found = _MODULES.get((kind, name))
            if found is not None:
                return found
        return None
    return _MODULES.get(("action", path))


def all_modules() -> list[Module]:
    return list(_MODULES.values())
