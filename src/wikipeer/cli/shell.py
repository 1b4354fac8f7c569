"""What every command shares: the node directory it opens, the console it prints to, a CID argument.

Kept light (no rich, no ingest, no HTTP at import): every command module imports it, and a
command's start-up time is the sum of what it imports (issue 15, docs/architecture.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wikipeer.errors import InvalidObject, UserError
from wikipeer.node import Node, default_node_dir

if TYPE_CHECKING:
    from rich.console import Console

    from wikipeer.store.keyring import Identity
    from wikipeer.store.people import People


class _Console:
    """Where commands print: plain lines go straight to stdout, anything else to rich's Console.

    Nearly every line a command prints is a plain string, which rich (markup, highlighting
    and wrapping all off here) would write unchanged; printing it directly spares a short
    command rich's import (a third of a no-op sync's start-up) and keeps text such as
    ":smile:" in a title as it is (rich would make it an emoji). Styled output (``style=``)
    and everything else (``out.is_terminal``, ...) go to the Console, made on first use;
    ``out.rich`` is the Console itself, for a progress bar's ``console=``.
    """

    def __init__(self) -> None:
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        if self._console is None:
            from rich.console import Console
            self._console = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        if options or not all(isinstance(o, str) for o in objects):
            self.rich.print(*objects, **options)
        elif self._console is not None:
            self._console.print(*objects)  # a live progress bar may be drawing on it
        else:
            print(*objects)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)


out = _Console()


def _dir(args: argparse.Namespace) -> Path:
    return args.node or default_node_dir()


def _open(args: argparse.Namespace) -> Node:
    return Node.open(_dir(args))


def _cid(text: str) -> bytes:
    from wikipeer.model.cid import cid_from_str
    try:
        return cid_from_str(text)
    except InvalidObject:
        raise UserError(f"not a revision CID: {text!r}") from None


def people_of(node: Node) -> People:
    """Names for keys as this node knows them (store/people.py), for a command's lines."""
    from wikipeer.store.people import People

    return People(node.keyring, node.store, node.dir)


def none_yet(what: str, how: str) -> None:
    """What a listing prints when it has no entries: that there are none, and the command that adds one."""
    out.print(f"no {what} yet: {how}")


def key_created(node: Node, identity: Identity) -> str:
    """The line that says a key was made: its name, its public key and where its private half is kept."""
    return f"created key {identity.name!r} ({identity.public}), kept in {node.keyring.file(identity.name).resolve()}"


@contextmanager
def announcing_new_key(node: Node) -> Iterator[None]:
    """Around a command that signs with the user's key, made on first use: when the command made it, the
    user is told (on stderr, so that stdout holds only the command's own answer).

    Only a command that succeeded says so: a failed one says why in one line. (The key is made once the
    input is known to be good, so only a failure past that, a full disk say, leaves a key made unannounced.)
    """
    import sys

    from wikipeer.node import DEFAULT_USER_KEY

    name = node.config.default_key or DEFAULT_USER_KEY
    fresh = not node.keyring.exists(name)
    yield
    if fresh and node.keyring.exists(name):
        print(f"{key_created(node, node.keyring.get(name))}; it signs your edits from now on "
              "('wikipeer key new NAME --default' makes another)", file=sys.stderr)
