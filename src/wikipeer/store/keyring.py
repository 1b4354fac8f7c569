"""Identity keys kept in the node directory, one JSON file per key, mode 0600.

A key file holds the public key and the Ed25519 seed, either in the clear or
sealed with a passphrase (Argon2id to derive a key, then NaCl's SecretBox).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from wikipeer.errors import NotFound, UserError
from wikipeer.model.keys import b64, key_from_str, key_to_str, unb64

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}\Z")
NODE_KEY = "node"
ACCOUNT_PREFIX = "user-"
"""Keys of the web page's accounts: held here to sign for their users, never trusted by the node's views."""
SETTLED_NS = 2_000_000_000
"""A folder whose mtime is older than this has settled: a change made since would show in its mtime."""


@dataclass(frozen=True, slots=True)
class Identity:
    """A named key pair this node holds."""

    name: str
    public: str
    encrypted: bool
    private: bool


@dataclass(frozen=True, slots=True)
class _Listing:
    """The key folder as last read: its mtime, whether that mtime had settled, the names and their keys."""

    mtime: int
    settled: bool
    names: tuple[str, ...]
    identities: tuple[Identity, ...]


class Keyring:
    """The keys in ``DIR/keys``."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._unlocked: dict[str, nacl.signing.SigningKey] = {}
        self._lock = threading.Lock()
        self._listed: _Listing | None = None
        self.generation = 0
        """Goes up with every key written here or seen arriving from another process (a `key import`
        while the node serves), so views built from it know they are stale."""

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise UserError(f"bad key name {name!r}: use letters, digits, '_', '.' or '-'")
        return self.dir / f"{name}.key"

    def list(self) -> list[Identity]:
        """Every key in the folder, by name.

        Kept while the folder is unchanged: pages ask on every view which keys
        are local, and reading every key file each time was a fifth of a busy
        server's time. Unchanged means the same mtime, once that mtime is old
        enough that a write since would have moved it; before then (a clock
        tick holds several writes) the names are listed again, which costs no
        file reads.
        """
        mtime = self.dir.stat().st_mtime_ns
        cached = self._listed
        if cached is not None and cached.mtime == mtime and cached.settled:
            return list(cached.identities)
        names = tuple(sorted(p.name for p in self.dir.glob("*.key")))
        if cached is not None and cached.names == names:
            identities = cached.identities
        else:
            identities = tuple(self._identity(json.loads((self.dir / n).read_text())) for n in names)
            with self._lock:
                self.generation += 1
        self._listed = _Listing(mtime, time.time_ns() - mtime > SETTLED_NS, names, identities)
        return list(identities)

    def get(self, name: str) -> Identity:
        path = self._path(name)
        if not path.exists():
            raise NotFound(f"no key named {name!r} (see 'wikipeer key list')")
        return self._identity(json.loads(path.read_text()))

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def file(self, name: str) -> Path:
        """Where the key named ``name`` is kept (a command that creates one says so)."""
        return self._path(name)

    @staticmethod
    def _identity(data: dict) -> Identity:
        return Identity(data["name"], data["public"], "sealed" in data, "seed" in data or "sealed" in data)

    def create(self, name: str, passphrase: str | None = None) -> Identity:
        return self._write(name, nacl.signing.SigningKey.generate(), passphrase)

    def import_seed(self, name: str, seed_text: str, passphrase: str | None = None) -> Identity:
        """Import a private key given as the text `key export --private` prints."""
        try:
            seed = unb64(seed_text.strip().removeprefix("ed25519-seed:"))
        except Exception:
            seed = b""
        if len(seed) != 32:
            raise UserError("not an exported private key (expected 'ed25519-seed:' and 32 bytes of base64)")
        return self._write(name, nacl.signing.SigningKey(seed), passphrase)

    def import_public(self, name: str, public: str) -> Identity:
        """Keep someone else's public key under a name; this node then trusts it."""
        return self._save(name, {"name": name, "public": check_public(public)})

    def _write(self, name: str, key: nacl.signing.SigningKey, passphrase: str | None) -> Identity:
        data: dict = {"name": name, "public": key_to_str(bytes(key.verify_key))}
        if passphrase:
            salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
            box = nacl.secret.SecretBox(_derive(passphrase, salt))
            data["sealed"] = {"salt": b64(salt), "box": b64(bytes(box.encrypt(bytes(key))))}
        else:
            data["seed"] = b64(bytes(key))
        identity = self._save(name, data)
        self._unlocked[name] = key
        return identity

    def _save(self, name: str, data: dict) -> Identity:
        """Write a new key file whole, or not at all; a name that exists already is never overwritten.

        Each call writes a temporary file of its own and publishes it with link(), which fails when
        the name exists: two threads (or processes) creating the same key cannot both win, nor
        overwrite each other's key (a shared temporary name and replace() let the loser's key file
        land under the winner's account).
        """
        path = self._path(name)
        if path.exists():
            raise UserError(f"a key named {name!r} exists already")
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{name}.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            os.link(tmp, path)
        except FileExistsError:
            raise UserError(f"a key named {name!r} exists already") from None
        finally:
            os.unlink(tmp)
        with self._lock:
            self.generation += 1
        return self._identity(data)

    def signing_key(self, name: str, passphrase: str | None = None) -> nacl.signing.SigningKey:
        """The private key; a sealed one needs its passphrase."""
        if name in self._unlocked:
            return self._unlocked[name]
        path = self._path(name)
        if not path.exists():
            raise NotFound(f"no key named {name!r} (see 'wikipeer key list')")
        data = json.loads(path.read_text())
        if "sealed" in data:
            if not passphrase:
                raise UserError(f"key {name!r} is protected by a passphrase: set WIKIPEER_PASSPHRASE to it")
            sealed = data["sealed"]
            try:
                seed = nacl.secret.SecretBox(_derive(passphrase, unb64(sealed["salt"]))).decrypt(unb64(sealed["box"]))
            except nacl.exceptions.CryptoError:
                raise UserError(f"wrong passphrase for key {name!r}") from None
        elif "seed" in data:
            seed = unb64(data["seed"])
        else:
            raise UserError(f"key {name!r} is someone else's public key; it cannot sign")
        key = nacl.signing.SigningKey(seed)
        if key_to_str(bytes(key.verify_key)) != data["public"]:
            raise UserError(f"key file {path} is damaged: its private and public halves do not match")
        self._unlocked[name] = key
        return key

    def export_seed(self, name: str, passphrase: str | None = None) -> str:
        return "ed25519-seed:" + b64(bytes(self.signing_key(name, passphrase)))

    def public_keys(self) -> frozenset[str]:
        """Every key held here, accounts' included."""
        return frozenset(i.public for i in self.list())

    def trusted_keys(self) -> frozenset[str]:
        """The keys the node itself vouches for: its own and those imported, not its accounts'.

        Anyone may open an account on a node's web page; their key counts for
        them (the web page adds it to their own view), not for every reader.
        """
        return frozenset(i.public for i in self.list() if not i.name.startswith(ACCOUNT_PREFIX))


def _derive(passphrase: str, salt: bytes) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, memlimit=nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE)


def check_public(text: str) -> str:
    """Validate a public key given by a user; return it unchanged."""
    try:
        key_from_str(text.strip())
    except Exception:
        raise UserError(f"not a public key: {text.strip()[:40]!r} (expected 'ed25519:...')") from None
    return text.strip()
