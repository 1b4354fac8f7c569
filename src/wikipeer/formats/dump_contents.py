"""The bytes of an ``<upload>``'s ``<contents encoding="base64">``, decoded as they stream by.

A dump made with ``dumpBackup.php --uploads --include-files`` carries every
file version in base 64 inside its page. The byte layer (formats/dump_bytes.py)
hands those characters here instead of to the XML parser, so a file of many
megabytes never becomes a string in an element tree: it is decoded in pieces
into a temporary file on disk, its SHA-1, SHA-256 and size taken on the way.
The parser sees only a short reference in its place (``SPOOL_PREFIX`` and a
number) that the reader turns back into this record.
"""

from __future__ import annotations

import binascii
import hashlib
import tempfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO

SPOOL_PREFIX = "wikipeer-spool:"
_WHITESPACE = b" \t\r\n"


@dataclass(slots=True)
class SpooledContents:
    """One upload's decoded bytes, on disk, with their digests; ``problem`` says why they are unusable."""

    offset: int
    """Byte offset of the ``<contents>`` element in the XML."""
    directory: str | None = None
    """Where the temporary file goes (the node's directory on import: /tmp may be memory)."""
    limit: int | None = None
    """The most decoded bytes taken: past it decoding stops, the rest only scanned by (the node's file limit)."""
    size: int = 0
    problem: str | None = None
    file: BinaryIO | None = None
    _carry: bytes = b""
    _sha1: Any = field(default_factory=hashlib.sha1)
    _sha256: Any = field(default_factory=hashlib.sha256)

    def feed(self, text: bytes) -> None:
        """Decode the next base-64 characters (whitespace anywhere is allowed, as MediaWiki breaks lines)."""
        if self.problem is not None:
            return
        data = self._carry + text.translate(None, _WHITESPACE)
        whole = len(data) - len(data) % 4
        self._carry = data[whole:]
        self._write(data[:whole])

    def finish(self) -> None:
        """The element ended: decode what is left; a length that is no multiple of four is a problem."""
        if self.problem is None and self._carry:
            self.problem = f"its base-64 contents end with {len(self._carry)} stray characters (cut off?)"
        if self.file is not None:
            self.file.seek(0)

    def _write(self, data: bytes) -> None:
        if not data:
            return
        try:
            raw = binascii.a2b_base64(data, strict_mode=True)
        except binascii.Error as exc:
            self.problem = f"its contents are not valid base 64 ({exc})"
            return
        if self.limit is not None and self.size + len(raw) > self.limit:
            # Refused as soon as the decoded size passes the limit: nothing more is decoded or kept.
            self.problem = (f"its decoded contents pass this node's limit of {self.limit} bytes per file "
                            f"(more than {self.size + len(raw)} bytes); refused, the rest not decoded")
            self.close()
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="wikipeer-upload-", dir=self.directory)  # noqa: SIM115
        self.file.write(raw)
        self._sha1.update(raw)
        self._sha256.update(raw)
        self.size += len(raw)

    @property
    def sha1(self) -> str:
        """The decoded bytes' SHA-1, hex."""
        return self._sha1.hexdigest()

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def read(self) -> bytes:
        """All the decoded bytes (the caller checked ``size`` against its limit first)."""
        if self.file is None:
            return b""
        self.file.seek(0)
        return self.file.read()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
