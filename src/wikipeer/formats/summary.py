"""A compact summary of the CIDs a node holds: a salted Bloom filter.

Sent with a stick's requests so the far side sends only what is missing.
A Bloom filter can say "already have" for a block the node lacks (about one
time in two thousand at 16 bits per CID); it never says "missing" for one it
has. Each trip uses a new salt, so a block wrongly skipped once is very
unlikely to be skipped again: the request stays open until it is met, and
the next trip repairs the gap. Nothing is lost, at worst it comes a trip late.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from wikipeer.errors import InvalidObject

MAGIC = b"WPSUM1\n"
BITS_PER_ITEM = 16  # about one false "already have" in 2,000
MAX_BITS = 1 << 34  # 2 GiB of filter: more than any stick should carry


@dataclass(slots=True)
class Summary:
    """A Bloom filter of CIDs with ``k`` hashes over ``bits`` bits."""

    salt: bytes
    k: int
    bits: int
    count: int
    data: bytearray

    @classmethod
    def of(cls, cids: Iterable[bytes], count: int, salt: bytes) -> "Summary":
        bits = max(64, count * BITS_PER_ITEM)
        k = max(1, round(BITS_PER_ITEM * math.log(2)))
        summary = cls(salt, k, bits, 0, bytearray((bits + 7) // 8))
        for cid in cids:
            summary.add(cid)
        return summary

    def _positions(self, cid: bytes) -> list[int]:
        digest = hashlib.blake2b(cid, key=self.salt, digest_size=16).digest()
        h1, h2 = struct.unpack("<QQ", digest)
        return [(h1 + i * h2) % self.bits for i in range(self.k)]

    def add(self, cid: bytes) -> None:
        for p in self._positions(cid):
            self.data[p >> 3] |= 1 << (p & 7)
        self.count += 1

    def __contains__(self, cid: bytes) -> bool:
        return all(self.data[p >> 3] & (1 << (p & 7)) for p in self._positions(cid))

    def to_bytes(self) -> bytes:
        return MAGIC + struct.pack("<B16sBQQ", len(self.salt), self.salt.ljust(16, b"\0"), self.k, self.bits,
                                   self.count) + bytes(self.data)

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Summary":
        head = len(MAGIC) + struct.calcsize("<B16sBQQ")
        if not raw.startswith(MAGIC) or len(raw) < head:
            raise InvalidObject("not a have-summary (wrong header)")
        salt_len, salt, k, bits, count = struct.unpack("<B16sBQQ", raw[len(MAGIC):head])
        if not (0 < k <= 32 and 64 <= bits <= MAX_BITS and salt_len <= 16):
            raise InvalidObject("a have-summary with impossible parameters")
        data = bytearray(raw[head:])
        if len(data) != (bits + 7) // 8:
            raise InvalidObject(f"a have-summary cut off: {len(data)} of {(bits + 7) // 8} bytes")
        return cls(salt[:salt_len], k, bits, count, data)
