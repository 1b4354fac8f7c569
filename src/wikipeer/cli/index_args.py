"""The ``index`` command's arguments, and the ``--index-later`` option of the commands that bring data in
(argparse only: built at every start-up)."""

from __future__ import annotations

import argparse

LATER = "the next 'wikipeer serve' or 'wikipeer index'"


def add_index_later(parser: argparse.ArgumentParser) -> None:
    """The options of commands that bring data in: they return when the data is in (issue 15); a search
    index further behind than a search catches up by itself is built by a ``wikipeer index`` started in
    the background, unless one of these says otherwise."""
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--index-later", action="store_true",
                      help=f"leave the search index behind for {LATER} (no background indexer)")
    when.add_argument("--wait-index", action="store_true",
                      help="wait for the search index, with progress (default: return when the data is in "
                           "and build the index in the background)")


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
