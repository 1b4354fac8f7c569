"""Write an output file whole or not at all, compressed by its name's ending."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_COMPRESSORS = {".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}


@contextmanager
def atomic_output(path: str) -> Iterator[BinaryIO]:
    """A stream to ``path`` (``-``: stdout) that appears under its name only when complete."""
    if path == "-":
        yield sys.stdout.buffer
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.partial")
    opener = _COMPRESSORS.get(target.suffix, open)
    try:
        with opener(tmp, "wb") as stream:
            yield stream
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
