"""Packs and manifests sealed with XChaCha20-Poly1305 (PyNaCl), or left open on public targets.

A sealed string is a 24-byte random nonce and the ciphertext with its tag; the
associated data binds it to its target and to what it is (pack header, pack
body, snapshot), so a block of one cannot be passed off as another.
"""

from __future__ import annotations

import secrets

import nacl.exceptions
from nacl.bindings import (crypto_aead_xchacha20poly1305_ietf_decrypt, crypto_aead_xchacha20poly1305_ietf_encrypt,
                           crypto_aead_xchacha20poly1305_ietf_KEYBYTES, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)

from wikipeer.errors import UserError

KEY_BYTES = crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_BYTES = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
KEY_CHECK = b"wikipeer backup key check"


class Unsealable(Exception):
    """Bytes that do not decrypt and authenticate under this key (wrong key, or altered)."""


class WrongKey(UserError):
    """The key given is not the one this target was made with."""


def new_key() -> bytes:
    """A fresh random backup key."""
    return secrets.token_bytes(KEY_BYTES)


def parse_key(text: str) -> bytes:
    """A key as ``backup init`` printed it (64 hex digits)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise UserError(f"a backup key is {KEY_BYTES * 2} hex digits, as 'wikipeer backup init' printed it")
    return key


class Sealer:
    """Seals and opens byte strings for one target; with no key (a public target) it passes them through."""

    def __init__(self, key: bytes | None, target_id: str) -> None:
        self.key = key
        self.tag = b"wikipeer-backup:" + target_id.encode("ascii") + b":"

    def seal(self, data: bytes, what: bytes) -> bytes:
        if self.key is None:
            return data
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(data, self.tag + what, nonce, self.key)

    def open(self, data: bytes, what: bytes) -> bytes:
        if self.key is None:
            return data
        try:
            return crypto_aead_xchacha20poly1305_ietf_decrypt(data[NONCE_BYTES:], self.tag + what,
                                                              data[:NONCE_BYTES], self.key)
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise Unsealable(f"does not decrypt and authenticate ({exc})") from None

    def key_check(self) -> bytes:
        """What the target descriptor keeps so a wrong key is told at once, not as a damaged pack."""
        return self.seal(KEY_CHECK, b"key-check")

    def check_key(self, sealed: bytes, url: str) -> None:
        """WrongKey unless this sealer's key opened ``sealed`` (the descriptor's key check)."""
        try:
            if self.open(sealed, b"key-check") == KEY_CHECK:
                return
        except Unsealable:
            pass
        raise WrongKey(f"{url}: the backup key given is not this target's key "
                       "(use the key 'wikipeer backup init' printed for it)")
