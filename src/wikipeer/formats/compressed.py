"""Open a possibly compressed file or stdin, telling the format by its first bytes."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys
from dataclasses import dataclass
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

from wikipeer.errors import InvalidObject, UserError

_MAGIC = ((b"BZh", "bz2"), (b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"))


class CountingReader(io.RawIOBase):
    """Hands out ``head`` and then the rest of ``inner``, counting bytes and lines, for offsets and progress."""

    def __init__(self, inner: BinaryIO, head: bytes = b"") -> None:
        self.inner = inner
        self.head = head
        self.count = 0
        self.lines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        if self.head:
            data, self.head = self.head[:len(buffer)], self.head[len(buffer):]
        else:
            # read1, where the stream has it: a decompressor's read(n) waits for n bytes, and when its data
            # stops short it raises EOFError and drops what it had decompressed; read1 hands that out first.
            data = getattr(self.inner, "read1", self.inner.read)(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        self.lines += data.count(b"\n")
        return n


def read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Exactly ``size`` bytes, or fewer only at the end of the stream (a pipe gives less per read)."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        data = stream.read(left)
        if not data:
            break
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


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
        head = read_up_to(raw, HEAD)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    kind = sniff(head[:8])
    counter = CountingReader(raw, head)
    source = io.BufferedReader(counter, 1 << 20)
    opener = {"bz2": bz2.BZ2File, "gzip": lambda f: gzip.GzipFile(fileobj=f), "xz": lzma.LZMAFile}.get(kind)
    return Input(opener(source) if opener else source, counter, kind, head)


class StreamTooLarge(InvalidObject):
    """A stream went past what this node agreed to read."""


class BrokenStream(InvalidObject):
    """A compressed stream that is cut off or not what it claims to be."""


def file_chunks(stream: BinaryIO, size: int = 64 * 1024) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


class ZstdReader(io.RawIOBase):
    """A file-like reader of the zstd stream in an iterator of chunks, bounded and checked.

    ``max_bytes`` bounds what is decompressed, ``max_raw`` what is read; a
    stream that ends before its frame does is reported as cut off.
    """

    def __init__(self, chunks: Iterator[bytes], max_bytes: int, max_raw: int, peer: str = "the stream") -> None:
        self.chunks, self.max_bytes, self.max_raw, self.peer = chunks, max_bytes, max_raw, peer
        self.decompressor = zstandard.ZstdDecompressor().decompressobj()
        self.buffer = bytearray()
        self.raw_bytes = self.out_bytes = 0
        self.ended = False

    def readable(self) -> bool:
        return True

    def _fill(self, n: int) -> None:
        while len(self.buffer) < n and not self.ended:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.ended = True
                if not self.decompressor.eof:
                    raise BrokenStream(f"{self.peer}'s zstd stream is cut off after {self.raw_bytes} bytes")
                return
            self.raw_bytes += len(chunk)
            if self.raw_bytes > self.max_raw:
                raise StreamTooLarge(f"{self.peer} is longer than {self.max_raw} bytes: stopped reading")
            try:
                out = self.decompressor.decompress(chunk)
            except zstandard.ZstdError as exc:
                raise BrokenStream(f"{self.peer} is not a valid zstd stream: {exc}") from None
            self.out_bytes += len(out)
            if self.out_bytes > self.max_bytes:
                raise StreamTooLarge(f"{self.peer} inflates past {self.max_bytes} bytes: stopped reading")
            self.buffer += out

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = self.max_bytes
        self._fill(n)
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out
