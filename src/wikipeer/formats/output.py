"""Write an output file whole or not at all, compressed by its name's ending."""

from __future__ import annotations

import bz2
import glob
import gzip
import lzma
import os
import shutil
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


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary name next to ``path`` for a writer that wants a file name, not a stream; renamed to
    ``path`` when the block ends normally. On any exit else, the temporary file and whatever the writer
    made next to it under that name (``NAME.tmp``, an index folder) are removed: nothing is left half-written."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        for leftover in path.parent.glob(glob.escape(tmp.name) + "*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
