"""Ed25519 keys and signatures in the forms objects carry them.

Keys and signatures travel as text (``ed25519:<base64url>`` and plain
base64url), never as byte strings: a byte string that happens to parse as a
CID would be encoded as a link, and a key must never be mistaken for one.
"""

from __future__ import annotations

import base64
from functools import lru_cache

import nacl.exceptions
import nacl.signing

from wikipeer.errors import InvalidObject

KEY_PREFIX = "ed25519:"
ROLES = ("author", "node", "second")
_DOMAIN = b"wikipeer-sig-v1\x00"


def b64(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    """Inverse of b64; raises InvalidObject on malformed input."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidObject(f"bad base64 text {text[:20]!r}") from exc


def key_to_str(public: bytes) -> str:
    """The text form of a 32-byte Ed25519 public key."""
    return KEY_PREFIX + b64(public)


@lru_cache(maxsize=4096)
def key_from_str(text: str) -> bytes:
    """Parse the text form of a public key, checking its length."""
    if not isinstance(text, str) or not text.startswith(KEY_PREFIX):
        raise InvalidObject(f"a key must look like 'ed25519:...', got {str(text)[:30]!r}")
    raw = unb64(text[len(KEY_PREFIX):])
    if len(raw) != 32 or b64(raw) != text[len(KEY_PREFIX):]:
        raise InvalidObject(f"malformed Ed25519 key {text[:30]!r}")
    return raw


def signed_message(target: bytes, role: str) -> bytes:
    """What a signature covers: a domain tag, the role and the target CID.

    Binding the role stops a 'second' from being replayed as an 'author'.
    """
    return _DOMAIN + role.encode("ascii") + b"\x00" + target


def sign(signing_key: nacl.signing.SigningKey, target: bytes, role: str) -> str:
    """Sign a target CID in a role; returns the signature's text form."""
    return b64(signing_key.sign(signed_message(target, role)).signature)


@lru_cache(maxsize=4096)
def _verify_key(public: str) -> nacl.signing.VerifyKey:
    return nacl.signing.VerifyKey(key_from_str(public))


def verify(public: str, target: bytes, role: str, signature: str) -> bool:
    """True when ``signature`` by ``public`` covers ``target`` in ``role``; False for anything malformed."""
    try:
        raw = unb64(signature)
    except InvalidObject:
        return False
    if len(raw) != 64:
        return False
    try:
        _verify_key(public).verify(signed_message(target, role), raw)
    except nacl.exceptions.BadSignatureError:
        return False
    return True
