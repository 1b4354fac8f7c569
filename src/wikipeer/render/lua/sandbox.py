"""One Lua runtime for one page: no files, no network, no Python, bounded in time and memory.

The runtime is lupa's Lua 5.1 (Scribunto's language). ``lib/sandbox.lua``
runs first with the whole standard library, keeps what it needs in locals and
empties the global table; modules then only see the environment it builds.
Python objects never reach Lua: functions Lua may call are wrapped by
:func:`exposed`, which converts strings to bytes and lists/dicts to Lua
tables, and lupa's attribute filter refuses every attribute anyway.
Time is enforced by a count hook calling :meth:`Clock.expired`; memory by
lupa's ``max_memory``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

try:
    import lupa.lua51 as lua51  # Scribunto's Lua 5.1: lupa >= 2 ships it
except ImportError:  # an older or trimmed lupa: LuaJIT keeps Lua 5.1's language (setfenv, loadstring)
    try:
        import lupa.luajit21 as lua51
    except ImportError:
        import lupa.luajit20 as lua51

TIMEOUT = "The time allocated for running scripts has expired."
MEMORY = "not enough memory"
LIBRARIES = ("mw", "libraryUtil", "bit32", "text", "ustring", "html", "uri", "title", "language",
             "message", "site", "hash")
LuaError = lua51.LuaError
LuaMemoryError = lua51.LuaMemoryError
lua_type = lua51.lua_type
# LuaJIT cannot bound its memory through lupa: there only the time limit holds a hog.
BOUNDED_MEMORY = "jit" not in lua51.__name__


class ScriptError(Exception):
    """An error a module made (bad argument to a library function...): shown as a Lua error."""


class Timeout(Exception):
    """The page's or the call's Lua time is used up."""


@dataclass(slots=True)
class Clock:
    """CPU time of this thread spent in Lua: per page and per outermost call."""

    page_seconds: float
    call_seconds: float
    used: float = 0.0
    started: float | None = None
    deadline: float = 0.0
    depth: int = 0

    def enter(self) -> None:
        if self.depth == 0:
            self.started = time.thread_time()
            left = self.page_seconds - self.used
            self.deadline = self.started + min(left, self.call_seconds)
        self.depth += 1

    def leave(self) -> None:
        self.depth -= 1
        if self.depth == 0 and self.started is not None:
            self.used += time.thread_time() - self.started
            self.started = None

    def expired(self) -> bool:
        if self.depth == 0:
            return self.used >= self.page_seconds
        return time.thread_time() >= self.deadline

    def check(self) -> None:
        """Raise :class:`Timeout` when time is up (for long Python work Lua asked for)."""
        if self.expired():
            raise Timeout(TIMEOUT)


def _refuse(obj: Any, name: Any, setting: bool) -> Any:
    raise AttributeError("Python objects are not accessible from Lua")


def error_text(exc: BaseException) -> str:
    """The message of a Lua error, without lupa's traceback, as text."""
    if isinstance(exc, LuaMemoryError):
        return MEMORY
    message = str(exc).split("\nstack traceback:", 1)[0]
    try:
        return message.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return message


def decode(value: Any) -> Any:
    """Lua's bytes as text (invalid UTF-8 kept as surrogates, so it goes back unchanged)."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def encode(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


@dataclass(slots=True)
class Sandbox:
    """A Lua runtime with Scribunto's environment; ``api`` is what ``lib/mw.lua`` returns."""

    clock: Clock
    memory: int
    runtime: Any = None
    api: Any = None
    # Text into Lua and back out: strip markers in MediaWiki's form while Lua holds them (StripState).
    outbound: Callable[[str], str] = str
    inbound: Callable[[str], str] = str

    def start(self, functions: dict[str, Callable]) -> None:
        """Make the runtime and load the libraries; ``functions`` are what Lua may call."""
        memory = {"max_memory": self.memory} if BOUNDED_MEMORY else {}
        self.runtime = lua51.LuaRuntime(
            encoding=None, register_eval=False, register_builtins=False, unpack_returned_tuples=True,
            attribute_filter=_refuse, **memory)
        functions = dict(functions, check=self.clock.expired)
        bridge = self.runtime.table_from({encode(k): v for k, v in functions.items()})
        sources = self.runtime.table_from({encode(name): _source(name) for name in LIBRARIES})
        boot = self.runtime.eval("loadstring")(_source("sandbox"), b"=sandbox.lua")
        self.clock.enter()
        try:
            self.api = boot(bridge, sources, encode(TIMEOUT))
        finally:
            self.clock.leave()

    def to_lua(self, value: Any) -> Any:
        """A Python value as Lua sees it: text as bytes, lists and dicts as tables."""
        if isinstance(value, str):
            return encode(self.outbound(value))
        if isinstance(value, (list, tuple)):
            return self.runtime.table_from([self.to_lua(v) for v in value])
        if isinstance(value, dict):
            return self.runtime.table_from({self.to_lua(k): self.to_lua(v) for k, v in value.items()})
        if value is None or isinstance(value, (bool, int, float, bytes)) or lua_type(value):
            return value
        raise TypeError(f"{type(value).__name__} cannot be handed to Lua")


def _source(name: str) -> bytes:
    return resources.files("wikipeer.render.lua").joinpath("lib", f"{name}.lua").read_bytes()


def exposed(sandbox: Sandbox, function: Callable, raw: bool = False, markers: bool = True) -> Callable:
    """``function`` as Lua may call it: answers ``(true, results...)`` or ``(false, message, keep_position)``.

    MARKERS False: the function gets strip markers in the form Lua holds them (MediaWiki's), as a pure
    string function (``mw.ustring``) must, so that lengths, positions and patterns are MediaWiki's."""
    inbound = sandbox.inbound if markers else str

    def call(*args: Any) -> tuple:
        try:
            result = function(*(args if raw else [inbound(a) if isinstance(a, str) else a
                                                  for a in map(decode, args)]))
            if isinstance(result, tuple):
                return (True, *[sandbox.to_lua(v) for v in result])
            return True, sandbox.to_lua(result)
        except ScriptError as exc:
            return False, encode(str(exc)), False
        except Timeout:
            return False, encode(TIMEOUT), True
        except LuaMemoryError:  # before LuaError: it is one
            return False, encode(MEMORY), True
        except LuaError as exc:  # a Lua function Python called failed: its message as it was
            return False, encode(error_text(exc)), True
        except RecursionError:
            return False, encode("too much recursion"), True
        except MemoryError:
            return False, encode(MEMORY), True
        except Exception as exc:  # a bug of ours: the module sees an error, the page still renders
            return False, encode(f"internal error in {function.__name__}: {type(exc).__name__}: {exc}"), True

    call.__name__ = function.__name__
    return call
