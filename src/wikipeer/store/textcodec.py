"""Text compression: zstd, each text against its parent revision's text.

The parent's text serves as a raw-content dictionary, so a small edit costs a
few dozen bytes. Chains are cut every ``chain`` texts with a text that stands
alone, which bounds how many decompressions one read needs.

zstandard's compressor and decompressor objects must never be used by two
threads at once (the server reads from a thread pool: sharing them gave wrong
bytes, "Data corruption detected" and segfaults). Texts that stand alone use
one pair per thread: making a pair per call costs about 14 us more per text
(timed: 3.3 us per-thread vs 17 us per-call to compress 3 KB, 1.5 vs 14.5 us to
decompress), which a read of a 16-text chain would pay 16 times. Texts with a
dictionary need a compressor built for that dictionary, so those are per call.

A text that stands alone may instead be compressed with a dictionary trained
from its wiki's own texts (``train``): its compressor and decompressor are
kept per thread too, for the last few dictionaries used, since one dictionary
serves thousands of texts.
"""

from __future__ import annotations

import threading

import zstandard

LEVEL = 3
TRAINED_LEVEL = 9
"""Level for texts compressed with a trained dictionary: on the Ukrainian sample's pages 11% smaller than
level 3 at 36 MB/s (level 3: 200 MB/s; level 19: 17% smaller at 3 MB/s, too slow for an import)."""
DICT_MIN, DICT_MAX = 16 * 1024, 110 * 1024
DICT_SHARE = 32
"""A dictionary takes 1/32 of the text it is trained from, within DICT_MIN..DICT_MAX: a larger one
fits a larger wiki better (110 KiB: 3.5% smaller texts than 32 KiB on the Ukrainian sample) but is
stored once per training, which a small wiki pays for."""
KEPT_DICTS = 4
_local = threading.local()


def _plain_compressor() -> zstandard.ZstdCompressor:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
    return compressor


def _plain_decompressor() -> zstandard.ZstdDecompressor:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def _dict(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _trained(dictionary: bytes) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    """This thread's compressor and decompressor for a trained dictionary (the last few used are kept)."""
    kept = getattr(_local, "trained", None)
    if kept is None:
        kept = _local.trained = {}
    pair = kept.pop(dictionary, None)
    if pair is None:
        loaded = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_FULLDICT)
        pair = (zstandard.ZstdCompressor(level=TRAINED_LEVEL, dict_data=loaded),
                zstandard.ZstdDecompressor(dict_data=loaded))
        while len(kept) >= KEPT_DICTS:
            kept.pop(next(iter(kept)))
    kept[dictionary] = pair  # most recently used last
    return pair


def compress(text: bytes, base: bytes | None, dictionary: bytes | None = None) -> bytes:
    """Compress ``text``, against ``base`` when given, else with the trained ``dictionary`` when given.

    Safe to call from any number of threads.
    """
    if base:
        return zstandard.ZstdCompressor(level=LEVEL, dict_data=_dict(base)).compress(text)
    if dictionary:
        return _trained(dictionary)[0].compress(text)
    return _plain_compressor().compress(text)


def decompress(data: bytes, base: bytes | None, dictionary: bytes | None = None) -> bytes:
    """Inverse of compress with the same ``base`` and ``dictionary``. Safe to call from any number of threads."""
    if base:
        return zstandard.ZstdDecompressor(dict_data=_dict(base)).decompress(data)
    if dictionary:
        return _trained(dictionary)[1].decompress(data)
    return _plain_decompressor().decompress(data)


def train(samples: list[bytes], size: int | None = None) -> bytes | None:
    """A zstd dictionary trained from ``samples`` (a wiki's texts), or None when they are too few or too
    alike to train one (zstd refuses: the texts are then compressed without).

    ``size``: its bytes; by default 1/DICT_SHARE of the samples', within DICT_MIN..DICT_MAX.
    """
    total = sum(len(s) for s in samples)
    if size is None:
        size = max(DICT_MIN, min(DICT_MAX, total // DICT_SHARE))
    size = min(size, total // 10)
    if len(samples) < 8 or size < 1024:
        return None
    try:
        return zstandard.train_dictionary(size, samples, level=LEVEL).as_bytes()
    except zstandard.ZstdError:
        return None
