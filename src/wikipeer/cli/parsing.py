"""The command line's parser class: a mistake in a subcommand's arguments is answered with that subcommand's usage.

argparse lets a subcommand's parser hand the arguments it does not know back
to the top level, which then prints ``usage: wikipeer [-h] ...`` for
``wikipeer sync --bogus``: the wrong usage, and not the one that helps. Here
the subcommand's own parser refuses them (exit 2, as every argparse error).
"""

from __future__ import annotations

import argparse
from typing import Any


class _Subcommands(argparse._SubParsersAction):
    """Subparsers whose leftover arguments are refused by the subparser that was given them."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        super().__call__(parser, namespace, values, option_string)
        extra = getattr(namespace, argparse._UNRECOGNIZED_ARGS_ATTR, None)
        if extra:
            # An option of the level above written after the command (`wikipeer sync --node DIR`) is the
            # likeliest of these mistakes: say where it goes.
            misplaced = [a.split("=", 1)[0] for a in extra if a.split("=", 1)[0] in parser._option_string_actions]
            hint = (f" ({misplaced[0]} is an option of '{parser.prog}': write it before '{values[0]}')"
                    if misplaced else "")
            self._name_parser_map[values[0]].error(f"unrecognized arguments: {' '.join(extra)}{hint}")


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands (and theirs, since they are made of this class) use _Subcommands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Subcommands)
