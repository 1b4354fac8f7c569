"""The ``index`` command's arguments, and the ``--index-later`` option of the commands that bring data in
(argparse only: built at every start-up)."""

from __future__ import annotations

import argparse

LATER = "the next 'wikipeer serve' or 'wikipeer index'"


def add_index_later(parser: argparse.ArgumentParser) -> None:
    """The option of commands that bring data in: return when the data is in, leaving the index behind."""
    parser.add_argument("--index-later", action="store_true",
                        help=f"return once the data is in; the search index catches up at {LATER} "
                             "(default: wait for it, with progress)")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="catch the search index up with the store (resumable; Ctrl-C is safe), "
                                     "or turn search on or off for a wiki")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--off", metavar="WIKI", help="turn search off for this wiki: its pages leave the index")
    which.add_argument("--on", metavar="WIKI", help="turn search on again for this wiki")
    p.add_argument("--wait", action="store_true",
                   help="once caught up, go on indexing changes as other commands make them, until Ctrl-C")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func="wikipeer.cli.indexing:index")
