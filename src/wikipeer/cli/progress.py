"""Progress on a terminal for the commands that can run for seconds: a bar when the total is known, a line otherwise.

Drawn on stderr, and only when stderr is a terminal and the command was not asked to be quiet: piped
or redirected, a command prints its report and nothing else. rich is imported only when something is
drawn, so a quick command in a script does not pay for it (issue 15, docs/architecture.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

Update = Callable[..., None]
"""``update(done, text=None, total=None)`` of a bar (``total`` once it is known)."""


def shown(quiet: bool = False) -> bool:
    """Whether progress is drawn: stderr is a terminal and the user did not ask for quiet."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(label: str, total: int | None, quiet: bool = False, unit: str = "") -> Iterator[Update]:
    """A bar of ``total`` steps (None: not known yet), removed when done; yields ``update(done, text=None,
    total=None)`` (a no-op when not shown). ``unit="bytes"`` counts in kB, MB... with the speed; otherwise
    N/TOTAL, followed by ``unit`` ("pages") when given."""
    if not shown(quiet):
        yield lambda done, text=None, total=None: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, ProgressColumn,
                               TextColumn, TimeRemainingColumn, TransferSpeedColumn)

    count: tuple[ProgressColumn, ...] = (
        (DownloadColumn(), TransferSpeedColumn()) if unit == "bytes"
        else (MofNCompleteColumn(), TextColumn(unit)) if unit else (MofNCompleteColumn(),))
    columns = (TextColumn("{task.description}"), BarColumn(), *count, TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int, text: str | None = None, total: int | None = None) -> None:
            bar.update(task, completed=done, description=f"{label}: {text}" if text else label,
                       **({"total": total} if total is not None else {}))

        yield update


@contextmanager
def progress_line(label: str, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A spinner with ``label`` and the latest ``show(text)``, removed when done (a no-op when not shown)."""
    if not shown(quiet):
        yield lambda text: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=Console(stderr=True),
                  transient=True) as line:
        task = line.add_task(label)
        yield lambda text: line.update(task, description=f"{label}: {text}")


def counted(items: Iterable[T], update: Update, every: int = 256) -> Iterator[T]:
    """The items, telling ``update`` how many went by every ``every`` items and at the end."""
    count = 0
    for count, item in enumerate(items, 1):
        if count % every == 0:
            update(count)
        yield item
    update(count)
