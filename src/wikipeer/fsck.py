"""Verify a store end to end: every CID recomputed, every signature checked.

Media: every chunk is re-read from its pack and re-hashed against its CID, and
every file version's bytes are assembled and their SHA-256 compared, on either
blob store (store/blobs: local packs or an S3 bucket). Packs no chunk row names
(a write that failed after its upload) are listed apart by the command
(store/integrity.orphan_packs): harmless, not faults.

Also checks that the indexes agree with the objects (every revision has its
page, text, parents and a signature the rules require) and SQLite's own
integrity check. Returns the faults found; none means the store is sound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wikipeer.errors import InvalidObject, NotFound
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import verify
from wikipeer.model.media import File, digests
from wikipeer.model.objects import Ban, Blocklist, Profile, Revision, Signature, Trust, parse
from wikipeer.policy.rules import Policy, required_signers
from wikipeer.store import integrity
from wikipeer.store.store import Store, StoreDamage


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing wrong with the store."""

    cid: str
    problem: str

    def __str__(self) -> str:
        return f"{self.cid}: {self.problem}"


def fsck(store: Store, progress: Callable[[int], None] | None = None) -> tuple[int, list[Fault]]:
    """Check every object; return (objects checked, faults)."""
    faults: list[Fault] = []
    engine = integrity.engine_check(store)
    if engine != "ok":
        faults.append(Fault("store.sqlite", f"SQLite integrity check: {engine}"))
    needs_sig: dict[bytes, object] = {}
    signed: dict[bytes, list[Signature]] = {}
    checked = 0
    policy = Policy()
    chunk_ids = integrity.chunk_ids(store)
    for oid, block in store.iter_readable():
        checked += 1
        if progress and checked % 1000 == 0:
            progress(checked)
        if isinstance(block, StoreDamage):
            faults.append(Fault(cid_to_str(block.cid), str(block)))
            continue
        try:
            record = parse(block, max(policy.max_text, len(block.data)), chunk=oid in chunk_ids)
        except InvalidObject as exc:
            faults.append(Fault(cid_to_str(block.cid), str(exc)))
            continue
        if isinstance(record, (Revision, File, Profile, Ban, Trust, Blocklist)):
            needs_sig[block.cid] = record
        elif isinstance(record, Signature):
            if not verify(record.key, record.target, record.role, record.sig):
                faults.append(Fault(cid_to_str(block.cid), f"signature by {record.key} does not verify"))
            else:
                signed.setdefault(record.target, []).append(record)
    for cid, record in needs_sig.items():
        key, roles = required_signers(record)
        if not any(s.role in roles and (key is None or s.key == key) for s in signed.get(cid, [])):
            faults.append(Fault(cid_to_str(cid), "no valid signature of the kind the rules require"))
    faults += _index_faults(store)
    faults += _file_faults(store)
    return checked, faults


def _file_faults(store: Store) -> list[Fault]:
    """File versions whose bytes, assembled from their chunks, are not what they name."""
    faults = []
    for page_id in integrity.pages_with_files(store):
        for info in store.file_versions(page_id):
            try:
                sha256, _, size = digests(store.file_chunks(info))
            except (StoreDamage, NotFound) as exc:
                faults.append(Fault(info.cid_str, f"file {info.sha256} cannot be read whole: {exc}"))
                continue
            if (sha256, size) != (info.sha256, info.size):
                faults.append(Fault(info.cid_str, f"file {info.sha256}: its chunks hold {size} bytes with "
                                                  f"SHA-256 {sha256}"))
    return faults


def _index_faults(store: Store) -> list[Fault]:
    """Rows that point at objects the store lacks."""
    return [Fault(cid_to_str(row.cid) if row.cid else f"#{row.id}", row.problem)
            for row in integrity.dangling_rows(store)]
