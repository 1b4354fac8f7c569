"""Open a possibly compressed file or stdin, telling the format by its first bytes."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys
from dataclasses import dataclass
from typing import BinaryIO

from wikipeer.errors import UserError

_MAGIC = ((b"BZh", "bz2"), (b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"))


class CountingReader(io.RawIOBase):
    """A reader that counts the bytes handed out, for offsets in messages and progress."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def sniff(head: bytes) -> str:
    """The compression a file's first bytes announce: bz2, gzip, xz or plain."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "plain"


HEAD = 1 << 20


@dataclass(frozen=True, slots=True)
class Input:
    """An opened input: the decompressed stream, what it read, and its first MiB as stored."""

    stream: BinaryIO
    counter: CountingReader
    compression: str
    head: bytes


def open_input(path: str) -> Input:
    """Open ``path`` (``-`` for stdin), decompressing by what its first bytes say."""
    try:
        raw = sys.stdin.buffer.raw if path == "-" else open(path, "rb", buffering=0)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    buffered = io.BufferedReader(raw, HEAD)
    head = buffered.peek(HEAD)[:HEAD]
    kind = sniff(head[:8])
    counter = CountingReader(buffered)
    source = io.BufferedReader(counter, 1 << 20)
    opener = {"bz2": bz2.BZ2File, "gzip": lambda f: gzip.GzipFile(fileobj=f), "xz": lzma.LZMAFile}.get(kind)
    return Input(opener(source) if opener else source, counter, kind, head)
