"""Snapshot manifests: small, signed by the node key, sealed like packs.

A manifest says when it was taken, the node's log position, every page's heads,
the packs it needs, the snapshot before it, the wikis' configurations, and every
media file version held (its SHA-256, file object CID and page CID), so single
files can be found and damage named by file without reading every pack. Its
ID is the start of the SHA-256 of its signed body; its name on the target,
``snapshots/YYYYMMDDTHHMMSS.ffffffZ-ID``, sorts by time.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import libipld
import nacl.signing

from wikipeer.backup.sealing import Sealer, Unsealable
from wikipeer.model.keys import key_to_str, sign, verify

PREFIX = "snapshots/"
FORGOTTEN = "forgotten/"
ROLE = "backup-snapshot"


class DamagedSnapshot(Exception):
    """A manifest that does not open, decode or verify."""


@dataclass(frozen=True, slots=True)
class Head:
    """A page and the revisions that were its heads."""

    page: bytes
    wiki: str
    ns: int
    title: str
    revs: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A media file version in a snapshot: its SHA-256 (32 bytes), its file object's CID, its page's CID."""

    sha256: bytes
    cid: bytes
    page: bytes


@dataclass(slots=True)
class Snapshot:
    """One snapshot manifest."""

    time: float  # seconds since 1970 (UTC), to the microsecond
    position: int
    heads: list[Head]
    packs: list[str]
    previous: str | None
    wikis: dict[str, dict] = field(default_factory=dict)
    node: str = ""
    id: str = ""
    name: str = ""
    files: list[FileEntry] = field(default_factory=list)
    accounts: str | None = None  # digest of the account data copy (private targets only; backup/accounts.py)

    def body(self) -> bytes:
        """The DAG-CBOR bytes the node key signs."""
        return libipld.encode_dag_cbor({
            "v": 1, "time": self.time, "position": self.position, "previous": self.previous,
            "heads": [[h.page, h.wiki, h.ns, h.title, list(h.revs)] for h in self.heads],
            "packs": self.packs, "wikis": self.wikis, "node": self.node,
            **({"files": [[f.sha256, f.cid, f.page] for f in self.files]} if self.files else {}),
            **({"accounts": self.accounts} if self.accounts else {})})

    def heads_by_page(self) -> dict[bytes, Head]:
        return {h.page: h for h in self.heads}


def seal_snapshot(snap: Snapshot, signing_key: nacl.signing.SigningKey, sealer: Sealer) -> tuple[str, bytes]:
    """(name on the target, stored bytes) of a manifest, signed; fills in its node, id and name."""
    snap.node = key_to_str(bytes(signing_key.verify_key))
    body = snap.body()
    digest = hashlib.sha256(body).digest()
    sig = sign(signing_key, digest, ROLE)
    snap.id = digest.hex()[:16]
    # Microseconds in the name: two runs within a second still sort in the order they were taken.
    micros = int(round(snap.time * 1_000_000)) % 1_000_000
    snap.name = PREFIX + time.strftime("%Y%m%dT%H%M%S", time.gmtime(snap.time)) + f".{micros:06d}Z-" + snap.id
    return snap.name, sealer.seal(libipld.encode_dag_cbor({"body": body, "sig": sig}), b"snapshot")


def open_snapshot(name: str, data: bytes, sealer: Sealer) -> Snapshot:
    """A manifest read back: opened, decoded, its ID and node signature checked; DamagedSnapshot if not."""
    try:
        outer = libipld.decode_dag_cbor(sealer.open(data, b"snapshot"))
        body, sig = outer["body"], outer["sig"]
        fields = libipld.decode_dag_cbor(body)
        digest = hashlib.sha256(body).digest()
        snap = Snapshot(fields["time"], fields["position"],
                        [Head(p, w, n, t, tuple(r)) for p, w, n, t, r in fields["heads"]], list(fields["packs"]),
                        fields["previous"], dict(fields["wikis"]), fields["node"], digest.hex()[:16], name,
                        [FileEntry(*f) for f in fields.get("files", [])], fields.get("accounts"))
    except Unsealable as exc:
        raise DamagedSnapshot(f"{name} {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DamagedSnapshot(f"{name} cannot be decoded ({exc})") from None
    if not name.endswith("-" + snap.id):
        raise DamagedSnapshot(f"{name}: its contents are not the snapshot its name says ({snap.id})")
    if not verify(snap.node, digest, ROLE, sig):
        raise DamagedSnapshot(f"{name}: the node signature does not verify")
    return snap


def snapshot_id(name: str) -> str:
    """The ID part of a snapshot's name."""
    return name.rsplit("-", 1)[-1]
