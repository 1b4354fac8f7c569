"""Text compression: zstd, each text against its parent revision's text.

The parent's text serves as a raw-content dictionary, so a small edit costs a
few dozen bytes. Chains are cut every ``chain`` texts with a text that stands
alone, which bounds how many decompressions one read needs.
"""

from __future__ import annotations

import zstandard

LEVEL = 3
_plain_c = zstandard.ZstdCompressor(level=LEVEL)
_plain_d = zstandard.ZstdDecompressor()


def _dict(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def compress(text: bytes, base: bytes | None) -> bytes:
    """Compress ``text``, against ``base`` when given."""
    if base is None or not base:
        return _plain_c.compress(text)
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=_dict(base)).compress(text)


def decompress(data: bytes, base: bytes | None) -> bytes:
    """Inverse of compress with the same ``base``."""
    if base is None or not base:
        return _plain_d.decompress(data)
    return zstandard.ZstdDecompressor(dict_data=_dict(base)).decompress(data)
