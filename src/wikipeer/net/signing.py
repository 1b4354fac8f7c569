"""Requests between nodes signed by the calling node's key: a fixed profile of RFC 9421.

The caller adds three headers (RFC 9421, HTTP Message Signatures, and RFC
9530's Content-Digest) and one of its own:

    content-digest:  sha-256=:BASE64:                 the body's SHA-256 (an empty body's for a GET)
    wikipeer-to:     ed25519:...                      the node key of the node asked (no replay elsewhere)
    signature-input: wp=("@method" "@request-target" "content-digest" "wikipeer-to");created=UNIX;
                     nonce="RANDOM";keyid="ed25519:...";alg="ed25519";tag="wikipeer-peer-v1"
    signature:       wp=:BASE64:

The signature base is RFC 9421's: one line per covered component, then the
``@signature-params`` line, joined by newlines. It is signed with the node
key through model/keys.py in the role ``request``: the signed bytes carry
wikipeer's domain tag, so a request's signature can never pass for an object
signature (or the reverse), and a generic RFC 9421 verifier would not check
it. Only this one profile is accepted: the components, their order and the
parameters are fixed, so the receiver parses with one pattern, not a general
structured-field parser.

The receiver's checks, each refusal a reason of its own (REASONS): the
signature verifies for the key named; ``created`` is within SKEW seconds of
its clock; the request was meant for it (``wikipeer-to``); the nonce was not
seen before within the window (the store remembers them: store/nonces.py);
the body's digest is the one signed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nacl.signing

from wikipeer.errors import InvalidObject, UserError
from wikipeer.model.keys import b64, key_from_str, key_to_str, sign, verify
from wikipeer.store.keyring import NODE_KEY

if TYPE_CHECKING:
    from wikipeer.node import Node

SKEW = 300
"""Seconds a request's ``created`` may be from the receiver's clock, either way; a nonce is kept twice that."""
ROLE = "request"  # the role a request's signature is made in (model/keys.py binds it)
LABEL = "wp"
TAG = "wikipeer-peer-v1"
COMPONENTS = ("@method", "@request-target", "content-digest", "wikipeer-to")
SIGNATURE_INPUT = "signature-input"
SIGNATURE = "signature"
DIGEST = "content-digest"
AUDIENCE = "wikipeer-to"
NONCE_BYTES = 16

BAD_SIGNATURE = "bad signature"
STALE_DATE = "stale date"
REPLAYED = "replayed nonce"
DIGEST_MISMATCH = "digest mismatch"
WRONG_NODE = "wrong node"
REASONS = (BAD_SIGNATURE, STALE_DATE, REPLAYED, DIGEST_MISMATCH, WRONG_NODE)

_COVERED = "(" + " ".join(f'"{c}"' for c in COMPONENTS) + ")"
_INPUT = re.compile(
    rf'{LABEL}=' + re.escape(_COVERED) + r';created=(\d{1,12});nonce="([A-Za-z0-9_-]{16,64})"'
    r';keyid="(ed25519:[A-Za-z0-9_-]{43})";alg="ed25519";tag="' + re.escape(TAG) + r'"\Z')
_SIGNATURE = re.compile(rf"{LABEL}=:([A-Za-z0-9+/]{{86}}==):\Z")
_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):\Z")


class RequestRefused(UserError):
    """A signed request the receiver refuses; ``reason`` is one of REASONS, the message says more."""

    status = 401

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Claim:
    """What a request's signature proved: who sent it, its nonce, when, and the body digest it signed."""

    key: str
    nonce: str
    created: int
    digest: bytes


def digest_header(digest: bytes) -> str:
    """The Content-Digest value of a body whose SHA-256 is ``digest``."""
    return "sha-256=:" + base64.b64encode(digest).decode("ascii") + ":"


def signature_base(method: str, target: str, digest: str, audience: str, params: str) -> bytes:
    """RFC 9421's signature base for this profile's components."""
    lines = [f'"@method": {method.upper()}', f'"@request-target": {target}', f'"{DIGEST}": {digest}',
             f'"{AUDIENCE}": {audience}', f'"@signature-params": {params}']
    return "\n".join(lines).encode("utf-8")


def _params(created: int, nonce: str, key: str) -> str:
    return f'{_COVERED};created={created};nonce="{nonce}";keyid="{key}";alg="ed25519";tag="{TAG}"'


@dataclass(frozen=True, slots=True)
class RequestSigner:
    """A node's key, signing the requests it makes to other nodes."""

    key: nacl.signing.SigningKey

    @property
    def public(self) -> str:
        return key_to_str(bytes(self.key.verify_key))

    def headers(self, method: str, target: str, digest: bytes, audience: str,
                created: int | None = None, nonce: str | None = None) -> dict[str, str]:
        """The headers that sign a request to the node ``audience`` for ``target`` (path and query, as sent)
        with a body whose SHA-256 is ``digest``."""
        created = int(time.time()) if created is None else created
        nonce = nonce or b64(os.urandom(NONCE_BYTES))
        params = _params(created, nonce, self.public)
        content = digest_header(digest)
        signature = sign(self.key, signature_base(method, target, content, audience, params), ROLE)
        raw = base64.urlsafe_b64decode(signature + "==")
        return {DIGEST: content, AUDIENCE: audience, SIGNATURE_INPUT: f"{LABEL}={params}",
                SIGNATURE: f"{LABEL}=:{base64.b64encode(raw).decode('ascii')}:"}


def node_signer(node: "Node") -> RequestSigner:
    """The signer of ``node``'s requests: its node key (a sealed one needs WIKIPEER_PASSPHRASE)."""
    return RequestSigner(node.keyring.signing_key(NODE_KEY, node.passphrase))


EMPTY_DIGEST = hashlib.sha256(b"").digest()


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether a request carries a signature at all (one without is an anonymous reader's)."""
    return SIGNATURE in headers or SIGNATURE_INPUT in headers


def check(headers: Mapping[str, str], method: str, target: str, me: str, now: float | None = None) -> Claim:
    """The claim of a signed request to the node ``me``, or RequestRefused naming what is wrong.

    The nonce is not looked at here (the store remembers them) nor the body (read later): the
    claim carries the digest the body must have.
    """
    found = _INPUT.match(headers.get(SIGNATURE_INPUT, ""))
    signature = _SIGNATURE.match(headers.get(SIGNATURE, ""))
    digest = _DIGEST.match(headers.get(DIGEST, ""))
    if found is None or signature is None or digest is None:
        raise RequestRefused(BAD_SIGNATURE, "the signature headers are missing or not in the form this node "
                                            "reads (docs/scale-signed.md)")
    created, nonce, key = int(found[1]), found[2], found[3]
    audience = headers.get(AUDIENCE, "")
    base = signature_base(method, target, headers[DIGEST], audience, headers[SIGNATURE_INPUT][len(LABEL) + 1:])
    try:
        key_from_str(key)
        valid = verify(key, base, ROLE, b64(base64.b64decode(signature[1])))
    except (InvalidObject, ValueError):
        valid = False
    if not valid:
        raise RequestRefused(BAD_SIGNATURE, f"the signature does not verify for key {key} over "
                                            f"{method.upper()} {target[:200]}")
    if audience != me:
        raise RequestRefused(WRONG_NODE, f"the request was signed for node {audience[:60]!r}, not this one ({me})")
    now = time.time() if now is None else now
    if abs(now - created) > SKEW:
        raise RequestRefused(STALE_DATE, f"signed at {created}, {int(now - created)} s from this node's clock "
                                         f"(at most {SKEW} s either way)")
    return Claim(key, nonce, created, base64.b64decode(digest[1]))


def check_digest(claim: Claim, digest: bytes) -> None:
    """RequestRefused unless the body read (its SHA-256: ``digest``) is the one the caller signed."""
    if digest != claim.digest:
        raise RequestRefused(DIGEST_MISMATCH, "the body is not the one signed (its SHA-256 differs from "
                                              "the content-digest header)")
