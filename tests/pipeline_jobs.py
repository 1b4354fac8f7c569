"""Job functions for the pipeline tests: module-level, so worker processes can import them."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable


def slow_square(n: int, pause: float, progress: Callable[[int], None] | None = None) -> int:
    """n * n after ``pause`` seconds: jobs that finish out of order."""
    time.sleep(pause)
    return n * n


def die_on(items: list[str], bad: str, pause: float = 0.0, progress: Callable[[int], None] | None = None) -> int:
    """Go through ``items`` after ``pause`` seconds; the process kills itself on ``bad`` (a decoder that
    crashes on one input)."""
    time.sleep(pause)
    for position, item in enumerate(items):
        if progress is not None:
            progress(position)
        if item == bad:
            os.kill(os.getpid(), signal.SIGKILL)
    return len(items)
