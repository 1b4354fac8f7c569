"""Account data in private backups: the node's web accounts and their identity keys.

Accounts (``accounts.sqlite``: names, password hashes, bot passwords) and the
keys that sign their edits (``keys/user-*.key``) are private: they go only to
private (encrypted) targets, never to public ones. A run copies them as one
object, ``accounts/SHA256`` (the SHA-256 of the plain copy, so an unchanged
copy is neither written nor named anew), zstd-compressed and sealed. Sessions
are left out: they are short-lived, and copying them would make every login
a change to back up. A snapshot names the copy it goes with; restore writes it
back into the new node directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import libipld
import zstandard

from wikipeer.backup.sealing import Sealer, Unsealable
from wikipeer.backup.targets import Target, TargetError
from wikipeer.store.accounts import ACCOUNTS_FILE
from wikipeer.store.accounts_copy import dump_accounts, load_accounts
from wikipeer.store.keyring import ACCOUNT_PREFIX

PREFIX = "accounts/"
_AD = b"accounts"


class DamagedAccounts(Exception):
    """The accounts copy a snapshot names cannot be read back whole."""


def account_data(node_dir: Path) -> bytes | None:
    """The node's accounts and account keys as one DAG-CBOR value, or None when it has neither."""
    keys_dir = node_dir / "keys"
    keys = {p.name: p.read_bytes() for p in sorted(keys_dir.glob(ACCOUNT_PREFIX + "*.key"))} \
        if keys_dir.is_dir() else {}
    path = node_dir / ACCOUNTS_FILE
    if not path.exists() and not keys:
        return None
    sql = ""
    if path.exists():
        sql = dump_accounts(path)
    return libipld.encode_dag_cbor({"v": 1, "sql": sql, "keys": keys})


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def send(target: Target, sealer: Sealer, data: bytes) -> str:
    """Write the copy unless the target holds it already; its digest (what a snapshot names)."""
    name = PREFIX + digest(data)
    if name not in target.list(PREFIX):
        target.put(name, sealer.seal(zstandard.ZstdCompressor(level=3).compress(data), _AD))
    return digest(data)


def fetch(target: Target, sealer: Sealer, wanted: str) -> bytes:
    """The copy named ``wanted``, checked; DamagedAccounts naming what is wrong."""
    name = PREFIX + wanted
    try:
        data = zstandard.ZstdDecompressor().decompress(sealer.open(target.get(name), _AD), max_output_size=1 << 30)
    except TargetError as exc:
        raise DamagedAccounts(f"{name}: {exc}") from None
    except Unsealable as exc:
        raise DamagedAccounts(f"{name} {exc}") from None
    except zstandard.ZstdError as exc:
        raise DamagedAccounts(f"{name} cannot be decompressed ({exc})") from None
    if digest(data) != wanted:
        raise DamagedAccounts(f"{name}: its contents are not the copy its name says")
    return data


def write_back(data: bytes, node_dir: Path) -> int:
    """Recreate accounts.sqlite and the account keys in a new node directory; returns the accounts restored."""
    fields = libipld.decode_dag_cbor(data)
    keys_dir = node_dir / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True)
    for name, raw in fields["keys"].items():
        if "/" in name or not name.startswith(ACCOUNT_PREFIX):
            continue  # only account keys were sent; anything else is not ours to write
        fd = os.open(keys_dir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
    if not fields["sql"]:
        return 0
    return load_accounts(node_dir / ACCOUNTS_FILE, fields["sql"])
