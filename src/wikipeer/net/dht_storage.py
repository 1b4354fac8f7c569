"""What one DHT participant keeps for others: signed records merged per DHT key, within bounds.

The kademlia package keeps one value per key; wikipeer needs every holder of a wiki under the
wiki's key. This storage keeps, per DHT key, one record per node key (the newest), and answers
with a bundle of them. Every record is verified before it is kept (forged, expired, misplaced,
oversized: refused), and every bound below refuses the excess and counts it, so no peer can make
a participant hold more than ``MAX_RECORDS`` records of at most ``MAX_RECORD`` bytes each.
In memory only; no I/O, so the simulation can run it too.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kademlia.storage import IStorage
from kademlia.utils import digest

from wikipeer.net.dht_records import BadRecord, Holder, check_record, decode_bundle, encode_bundle, fitting

MAX_HOLDERS = 64
"""Records kept per DHT key (one per node key)."""
MAX_KEYS = 4096
"""DHT keys kept in all."""
MAX_KEYS_PER_NODE = 80
"""DHT keys one node key may file records under: its wikis and its page prefixes."""
MAX_KEYS_PER_ADDRESS = 64
"""Distinct node keys whose records one network address may hand over."""
MAX_RECORDS = 16384
"""Records kept in all (with MAX_RECORD bytes each: at most 16 MiB)."""
MAX_SEEN_ADDRESSES = 4096
"""Addresses remembered for the per-address bound; the quietest are forgotten beyond it."""


def now_ms() -> int:
    """The wall clock in milliseconds, as records carry time."""
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Kept:
    """One record held: its bytes, what it says, and the address it came from (None: this node)."""

    data: bytes
    holder: Holder
    source: str | None


class RecordStorage(IStorage):
    """A kademlia storage of signed records, merged per key and bounded; ``refused`` counts by reason
    (a record already held is no refusal: ``duplicates``)."""

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        self.clock = clock
        self.keys: dict[bytes, dict[str, Kept]] = {}
        self.accepted = 0
        self.duplicates = 0
        self.refused: Counter[str] = Counter()
        self._per_node: Counter[str] = Counter()
        self._per_address: dict[str, Counter[str]] = {}
        self._records = 0

    def put(self, dkey: bytes, value: object, source: str | None = None) -> int:
        """Merge the records of a DHT value under ``dkey``; how many were taken."""
        try:
            records = decode_bundle(value)
        except BadRecord as exc:
            self.refused[exc.reason] += 1
            return 0
        return sum(self._merge(dkey, data, source) for data in records)

    def _merge(self, dkey: bytes, data: bytes, source: str | None) -> bool:
        try:
            holder = check_record(data, self.clock())
        except BadRecord as exc:
            self.refused[exc.reason] += 1
            return False
        if digest(holder.dht_key) != dkey:
            self.refused["misplaced"] += 1
            return False
        reason = self._refusal(dkey, holder, source)
        if reason == "duplicate":  # the package hands records on more than once: no one's fault
            self.duplicates += 1
            return False
        if reason:
            self.refused[reason] += 1
            return False
        self._keep(dkey, Kept(data, holder, source))
        self.accepted += 1
        return True

    def _refusal(self, dkey: bytes, holder: Holder, source: str | None) -> str | None:
        """Why a verified record may not be kept here, or None."""
        held = self.keys.get(dkey, {})
        old = held.get(holder.key)
        if old is not None:
            return "replayed" if holder.ts < old.holder.ts else ("duplicate" if holder.ts == old.holder.ts else None)
        self._cull()
        if dkey not in self.keys and len(self.keys) >= MAX_KEYS:
            return "store_full"
        if len(held) >= MAX_HOLDERS:
            return "key_full"
        if self._records >= MAX_RECORDS:
            return "store_full"
        if self._per_node[holder.key] >= MAX_KEYS_PER_NODE:
            return "node_full"
        if source is not None:
            seen = self._per_address.get(source, Counter())
            if holder.key not in seen and len(seen) >= MAX_KEYS_PER_ADDRESS:
                return "address_full"
        return None

    def _keep(self, dkey: bytes, kept: Kept) -> None:
        held = self.keys.setdefault(dkey, {})
        old = held.pop(kept.holder.key, None)
        if old is not None:
            self._forget(old)
        held[kept.holder.key] = kept
        self._records += 1
        self._per_node[kept.holder.key] += 1
        if kept.source is not None:
            if kept.source not in self._per_address and len(self._per_address) >= MAX_SEEN_ADDRESSES:
                del self._per_address[min(self._per_address, key=lambda a: len(self._per_address[a]))]
            self._per_address.setdefault(kept.source, Counter())[kept.holder.key] += 1

    def _forget(self, kept: Kept) -> None:
        self._records -= 1
        self._per_node[kept.holder.key] -= 1
        if self._per_node[kept.holder.key] <= 0:
            del self._per_node[kept.holder.key]
        seen = self._per_address.get(kept.source) if kept.source is not None else None
        if seen is not None:
            seen[kept.holder.key] -= 1
            if seen[kept.holder.key] <= 0:
                del seen[kept.holder.key]
            if not seen:
                del self._per_address[kept.source]

    def _cull(self) -> None:
        """Drop expired records (only when room is wanted or a key is read: cheap enough at these bounds)."""
        now = self.clock()
        for dkey in list(self.keys):
            held = self.keys[dkey]
            for key in [k for k, kept in held.items() if kept.holder.expires <= now]:
                self._forget(held.pop(key))
            if not held:
                del self.keys[dkey]

    def records(self, dkey: bytes) -> list[bytes]:
        """The live records under ``dkey``, newest first, as many as fit in one answer."""
        held = self.keys.get(dkey)
        if not held:
            return []
        now = self.clock()
        live = sorted((k for k in held.values() if k.holder.expires > now), key=lambda k: -k.holder.ts)
        return fitting([kept.data for kept in live])

    def __setitem__(self, key: bytes, value: object) -> None:
        self.put(key, value)

    def get(self, key: bytes, default: object = None) -> object:
        records = self.records(key)
        return encode_bundle(records) if records else default

    def __getitem__(self, key: bytes) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def iter_older_than(self, seconds_old: float) -> list[tuple[bytes, bytes]]:
        """Nothing: each holder refreshes its own records before they expire (so the package's hourly
        republishing of everything a participant holds, a flood amplifier, does not happen)."""
        return []

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        self._cull()
        for dkey in list(self.keys):
            value = self.get(dkey)
            if value is not None:
                yield dkey, value

    def counts(self) -> dict[str, int]:
        """What was taken and refused (by reason), and what is held."""
        return {"accepted": self.accepted, "duplicates": self.duplicates, "held": self._records,
                "keys": len(self.keys), **self.refused}
