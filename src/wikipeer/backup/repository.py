"""A backup target opened for use: its descriptor, its key, its snapshots and its index of packs.

The target holds ``wikipeer-backup.json`` (format, target ID, public or not, the
node key that signs its snapshots, and a key check), ``packs/`` and ``snapshots/``.
The encryption key is never on the target: the operator's copy lives in the node
directory's ``backup.json`` (mode 0600) and is printed once by ``backup init``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from wikipeer.backup import accounts, packs
from wikipeer.backup.sealing import Sealer, Unsealable, new_key, parse_key
from wikipeer.backup.snapshots import FORGOTTEN, PREFIX, DamagedSnapshot, Snapshot, open_snapshot, snapshot_id
from wikipeer.backup.targets import Target, TargetError, TargetMissing, open_target
from wikipeer.errors import UserError

DESCRIPTOR = "wikipeer-backup.json"
SETTINGS = "backup.json"
KEY_ENV = "WIKIPEER_BACKUP_KEY"


@dataclass(slots=True)
class TargetSettings:
    """What the operator's node keeps about one target."""

    url: str
    id: str
    public: bool
    key: str | None = None
    endpoint: str | None = None
    # The last snapshot this node wrote there: a target whose newest is older was rolled back.
    last_snapshot: str | None = None
    last_time: float | None = None
    last_position: int | None = None


def load_settings(node_dir: Path) -> dict[str, TargetSettings]:
    """The targets this node was set up to back up to, by URL."""
    path = node_dir / SETTINGS
    if not path.exists():
        return {}
    return {url: TargetSettings(url=url, **t) for url, t in json.loads(path.read_text())["targets"].items()}


def save_settings(node_dir: Path, settings: dict[str, TargetSettings]) -> None:
    """Write backup.json readable by its owner alone (it holds keys)."""
    path, tmp = node_dir / SETTINGS, node_dir / (SETTINGS + ".tmp")
    data = {"targets": {url: {"id": s.id, "public": s.public, "key": s.key, "endpoint": s.endpoint,
                              "last_snapshot": s.last_snapshot, "last_time": s.last_time,
                              "last_position": s.last_position}
                        for url, s in settings.items()}}
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def target_url(url: str) -> str:
    """The form a target is known by in the settings (a directory as an absolute path)."""
    return url if "://" in url else str(Path(url).expanduser().absolute())


@dataclass(slots=True)
class Index:
    """What the target's whole packs hold, rebuilt from their headers."""

    cids: set[bytes] = field(default_factory=set)
    packs: dict[str, list[packs.Entry]] = field(default_factory=dict)
    damaged: dict[str, str] = field(default_factory=dict)


class Repository:
    """An opened target with the key that reads it."""

    def __init__(self, target: Target, descriptor: dict, key: bytes | None) -> None:
        self.target, self.descriptor = target, descriptor
        self.public = bool(descriptor["public"])
        self.sealer = Sealer(None if self.public else key, descriptor["id"])

    @property
    def url(self) -> str:
        return self.target.url

    def snapshot_names(self) -> list[str]:
        """Snapshot names on the target, oldest first."""
        return self.target.list(PREFIX)

    def load(self, name: str) -> Snapshot:
        """One snapshot, checked (DamagedSnapshot if it does not open or verify, TargetMissing if absent)."""
        snap = open_snapshot(name, self.target.get(name), self.sealer)
        if snap.node != self.descriptor["node"]:
            raise DamagedSnapshot(f"{name}: signed by {snap.node}, not by this target's node {self.descriptor['node']}")
        return snap

    def latest(self) -> Snapshot | None:
        """The newest snapshot that opens and verifies, or None."""
        for name in reversed(self.snapshot_names()):
            try:
                return self.load(name)
            except (DamagedSnapshot, TargetMissing):
                continue
        return None

    def find(self, wanted: str | None) -> Snapshot:
        """The snapshot a user named by ID (or a unique start of it), or the latest; UserError if none."""
        names = self.snapshot_names()
        if wanted is None:
            snap = self.latest()
            if snap is None:
                raise UserError(f"{self.url} holds no snapshot that can be read: run 'wikipeer backup run' first")
            return snap
        matches = [n for n in names if snapshot_id(n).startswith(wanted.lower())]
        if len(matches) != 1:
            known = ", ".join(snapshot_id(n) for n in names) or "none"
            if not matches:
                if wanted.lower() in self.forgotten():
                    raise UserError(f"snapshot {wanted} was dropped by 'backup forget' (snapshots held: {known})")
                raise UserError(f"snapshot {wanted} is not on {self.url} (snapshots held: {known})")
            raise UserError(f"{wanted} names {len(matches)} snapshots; give more of its ID")
        try:
            return self.load(matches[0])
        except DamagedSnapshot as exc:
            raise UserError(f"snapshot {wanted} cannot be used: {exc}") from None

    def forgotten(self) -> set[str]:
        """IDs of snapshots 'backup forget' dropped on purpose (a marker each, sealed)."""
        out = set()
        for name in self.target.list(FORGOTTEN):
            try:
                out.add(self.sealer.open(self.target.get(name), b"forgotten").decode("ascii"))
            except (Unsealable, TargetError, UnicodeDecodeError):
                continue  # an unreadable marker proves nothing: the snapshot counts as lost
        return out

    def pack_entries(self, name: str) -> list[packs.Entry]:
        """What a pack's header says it holds, read with one ranged get (two when the header is large);
        packs.DamagedPack or TargetError when it cannot be read."""
        head = self.target.get(name, 0, packs.HEADER_GUESS)
        end = packs.header_length(head)
        if end > len(head):
            head = self.target.get(name, 0, end)
        return packs.parse_header(head, self.sealer)

    def check_present(self, names: list[str]) -> None:
        """TargetError naming those of ``names`` (packs, account copies) the target no longer holds: a
        snapshot must never name them. Called by a run just before it writes its snapshot."""
        held = set(self.target.list(packs.PREFIX)) | set(self.target.list(accounts.PREFIX))
        gone = sorted(set(names) - held)
        if gone:
            raise TargetError(f"{self.url}: {len(gone)} of the packs this run's snapshot needs vanished while it ran "
                              f"({', '.join(gone[:5])}{' ...' if len(gone) > 5 else ''}), deleted by a prune or "
                              "by hand; no snapshot was written: run the backup again, it sends them again")

    def index(self) -> Index:
        """The CIDs every whole pack on the target holds, from the packs' headers."""
        index = Index()
        for name in self.target.list(packs.PREFIX):
            try:
                entries = self.pack_entries(name)
            except (packs.DamagedPack, TargetError) as exc:
                index.damaged[name] = str(exc)
                continue
            index.packs[name] = entries
            index.cids.update(e.cid for e in entries)
        return index


def read_descriptor(target: Target) -> dict:
    """The target's descriptor; UserError if the target was never set up."""
    try:
        return json.loads(target.get(DESCRIPTOR))
    except TargetMissing:
        raise UserError(f"{target.url} is not a backup target: run 'wikipeer backup init {target.url}' first") from None
    except ValueError:
        raise UserError(f"{target.url}: {DESCRIPTOR} is damaged (not JSON)") from None


def create(url: str, public: bool, node_key: str, endpoint: str | None = None) -> tuple[Repository, bytes | None]:
    """Set up a new target; returns it and its new key (None for a public target)."""
    target = open_target(url, endpoint)
    try:
        target.get(DESCRIPTOR, 0, 1)
        raise UserError(f"{target.url} is a backup target already; use it with 'wikipeer backup run {url}'")
    except TargetMissing:
        pass
    key = None if public else new_key()
    target_id = secrets.token_hex(8)
    descriptor = {"format": "wikipeer-backup 1", "id": target_id, "public": public, "node": node_key,
                  "key_check": None if key is None else Sealer(key, target_id).key_check().hex()}
    target.put(DESCRIPTOR, json.dumps(descriptor, indent=1).encode("utf-8"))
    return Repository(target, descriptor, key), key


def open_repository(url: str, key_text: str | None = None, settings: TargetSettings | None = None,
                    endpoint: str | None = None) -> Repository:
    """Open a target with its key: ``key_text`` (from --key-file), else $WIKIPEER_BACKUP_KEY, else the node's copy."""
    target = open_target(url, endpoint or (settings.endpoint if settings else None))
    descriptor = read_descriptor(target)
    if settings is not None and (settings.id != descriptor.get("id") or settings.public != descriptor.get("public")):
        raise UserError(f"{target.url}: its {DESCRIPTOR} is not the one this node wrote at 'backup init' "
                        "(replaced or altered); nothing was read")
    key_text = key_text or os.environ.get(KEY_ENV) or (settings.key if settings else None)
    if descriptor.get("public"):
        if key_text:
            # A private target whose descriptor now says "public" would have its sealed packs
            # skipped unchecked and plain ones an intruder wrote read instead.
            raise UserError(f"{target.url}: a key was given but {DESCRIPTOR} says the target is public and "
                            "unencrypted; if it was made private, its descriptor was altered")
        return Repository(target, descriptor, None)
    if not key_text:
        raise UserError(f"{target.url} is encrypted: give its key with --key-file FILE or ${KEY_ENV}, "
                        "or run from the node that made it (--node)")
    repo = Repository(target, descriptor, parse_key(key_text))
    repo.sealer.check_key(bytes.fromhex(descriptor["key_check"]), target.url)
    return repo
