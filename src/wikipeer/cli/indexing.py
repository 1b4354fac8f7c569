"""The search index from the command line: ``wikipeer index``, and the catch-up after a command
that brought data in (import, sync, bundle import).

Those commands return when the data is in (issue 15). A lag no longer than what a search catches up by
itself is indexed at once; a longer one is built by a ``wikipeer index`` started in the background
(detached, as ``git gc --auto`` is), while searches say how far behind the index is. ``--wait-index``
waits for it with progress instead, ``--index-later`` leaves it to the next ``serve`` or ``index``.
Ctrl-C or a kill of either loses nothing: the data is in, and the pages still to index stay marked.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from wikipeer.cli.index_args import LATER
from wikipeer.cli.shell import _open, out
from wikipeer.node import Node, require_wiki


BACKGROUND_LOG = "index.log"
"""Where a background indexer's output goes, in the node's directory."""


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def catch_up(node: Node, quiet: bool = False, later: bool = False, wait: bool = False) -> int:
    """After a command's data is in: catch the search index up, or leave that to a background indexer
    (see the module's docstring). Returns the pages indexed here."""
    from wikipeer.store import indexer

    pending = node.store.index_lag()
    if not pending:
        return 0
    if pending <= indexer.SEARCH_CATCH_UP and not later:
        return node.catch_up_index()
    if later:
        _note(f"search index: {pending} pages behind; {LATER} finishes it")
        return 0
    if not wait:
        pid = _index_in_background(node)
        _note(f"search index: {pending} pages behind, built in the background (process {pid}, messages in "
              f"{node.dir / BACKGROUND_LOG}); searches say how far behind it is meanwhile, and "
              "'wikipeer index' catches it up in the foreground")
        return 0
    if not quiet:
        _note(f"search index: {pending} pages to index (Ctrl-C stops it safely; {LATER} finishes it)")
    try:
        return _with_progress(node, pending, quiet)
    except KeyboardInterrupt:
        _note(f"search index: stopped {node.store.index_lag()} pages behind; {LATER} finishes it")
        raise


def _index_in_background(node: Node) -> int:
    """Start ``wikipeer index`` on this node, detached: it outlives this command, and what it says (a
    failure too) goes to BACKGROUND_LOG in the node's directory, not to a terminal that may be gone."""
    import subprocess

    command = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node.dir), "index", "--quiet"]
    with open(node.dir / BACKGROUND_LOG, "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True, close_fds=True)
    return process.pid


def _with_progress(node: Node, total: int, quiet: bool) -> int:
    from wikipeer.cli.progress import progress_bar

    with progress_bar("indexing", total, quiet, "pages") as update:
        return node.catch_up_index(lambda done: update(min(done, total)))


def index(args: argparse.Namespace) -> int:
    """``wikipeer index``: turn search on or off for a wiki, then catch the index up (``--wait``: and follow)."""
    node = _open(args)
    if args.on or args.off:
        _switch(node, args.on, args.off)
    pending = node.store.index_lag()
    start = time.monotonic()
    done = _with_progress(node, pending, args.quiet) if pending else 0
    out.print(f"search index up to date: {done} pages indexed in {time.monotonic() - start:.1f} s"
              if done else "search index up to date")
    if args.wait:
        _follow(node)
    return 0


def _switch(node: Node, on: str | None, off: str | None) -> None:
    from wikipeer.store import indexer

    wiki = on or off
    require_wiki(node, wiki)
    marked = indexer.set_search(node.store, wiki, on=bool(on))
    out.print(f"search is now {'on' if on else 'off'} for {wiki}: its {marked} pages "
              f"{'enter' if on else 'leave'} the index")


def _follow(node: Node) -> None:
    """Index new changes as they come, until Ctrl-C (a node written by other commands, with no server)."""
    from wikipeer.store import indexer

    out.print("indexing changes as they come; Ctrl-C stops")
    stop = threading.Event()
    try:
        indexer.follow(node.store, node.index_keys, stop, _note)
    finally:
        stop.set()
