"""The password of a MediaWiki account a node pushes with: asked once, kept sealed, opened for a sync.

Where it comes from: ``WIKIPEER_MW_PASSWORD`` when set, else a prompt
(``getpass`` on a terminal; one line of stdin when stdin is not one). Never an
argument on the command line, where any user of the machine could read it
in the process list.

How it is kept: in the MediaWiki peer's record (store/mw_peers.py), sealed with NaCl's SecretBox.
The box key is derived (keyed BLAKE2b) from the node's own private key, with
the peer's address and the account name mixed in, so a sealed password opens
only for the node, the wiki and the account it was given for. The node key is
already what a node guards most (it signs in the node's name, from
``keys/node.key``, mode 0600): whoever can read it could act as the node
anyway. Where the node key is sealed with a passphrase (the keyring allows
it), the MediaWiki passwords are sealed by it too: a sync then needs
``WIKIPEER_PASSPHRASE``, and says so.

A password travels inside a ``Secret``, whose repr and str hide it: it cannot
reach a log line, an exception message or a traceback's locals by accident.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.secret

from wikipeer.errors import UserError
from wikipeer.mediawiki.remote import MediaWikiError
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.mw_peers import MediaWikiPeers

PASSWORD_ENV = "WIKIPEER_MW_PASSWORD"
SEALED_PREFIX = b"box1:"
_PERSON = b"wikipeer-mw-pass"  # BLAKE2b's personalisation: these keys serve this purpose only


@dataclass(frozen=True, slots=True)
class Secret:
    """A password that does not show itself: ``reveal()`` is the only way to its text."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "********"

    def __repr__(self) -> str:
        return "Secret(********)"


@dataclass(frozen=True, slots=True)
class Account:
    """A MediaWiki account a peer pushes with: ``Name`` (main account) or ``Name@Label`` (bot password)."""

    user: str
    password: Secret


def read_password(user: str, peer_url: str) -> Secret:
    """The password for ``user``: from WIKIPEER_MW_PASSWORD, else asked (no echo on a terminal)."""
    value = os.environ.get(PASSWORD_ENV)
    if value is None:
        prompt = f"password of {user} on {peer_url}: "
        if sys.stdin is not None and sys.stdin.isatty():
            value = getpass.getpass(prompt)
        else:
            value = sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""
    if not value:
        raise UserError(f"no password for {user} on {peer_url}: set {PASSWORD_ENV} or type it when asked")
    return Secret(value)


def _box(node: Node, peer_url: str, user: str) -> nacl.secret.SecretBox:
    seed = bytes(node.keyring.signing_key(NODE_KEY, node.passphrase))
    what = peer_url.encode("utf-8") + b"\x00" + user.encode("utf-8")
    key = nacl.hash.blake2b(what, digest_size=nacl.secret.SecretBox.KEY_SIZE, key=seed, person=_PERSON,
                            encoder=nacl.encoding.RawEncoder)
    return nacl.secret.SecretBox(key)


def seal(node: Node, peer_url: str, user: str, password: Secret) -> bytes:
    """The password sealed for this node, peer and account (a version prefix, the nonce, the box)."""
    return SEALED_PREFIX + bytes(_box(node, peer_url, user).encrypt(password.reveal().encode("utf-8")))


def unseal(node: Node, peer_url: str, user: str, sealed: bytes) -> Secret:
    """The password ``seal`` sealed; MediaWikiError when it cannot be opened (another node key, a damaged
    record), UserError when the node key is sealed and WIKIPEER_PASSPHRASE is not set."""
    box = _box(node, peer_url, user)  # a sealed node key without its passphrase says so itself
    try:
        if not isinstance(sealed, bytes) or not sealed.startswith(SEALED_PREFIX):
            raise ValueError("not a sealed password")
        return Secret(box.decrypt(bytes(sealed[len(SEALED_PREFIX):])).decode("utf-8"))
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        raise MediaWikiError(peer_url, f"the password kept for {user} cannot be opened with this node's key: give "
                             f"it again with 'wikipeer peer add --mediawiki {peer_url} --wiki WIKI --user {user}'",
                             "sealed") from None


def store_password(node: Node, peer_url: str, user: str, password: Secret) -> None:
    """Keep ``user``'s password, sealed, in the record of the MediaWiki peer at ``peer_url``."""
    MediaWikiPeers(node.store).set(peer_url, user=user, secret=seal(node, peer_url, user, password))


def account_for(node: Node, peer_url: str) -> Account | None:
    """The account the peer at ``peer_url`` pushes with, password opened; None when it has none."""
    peer = MediaWikiPeers(node.store).get(peer_url)
    if peer.user is None:
        return None
    if peer.secret is None:
        raise MediaWikiError(peer.url, f"no password is kept for {peer.user}: give it with 'wikipeer peer add "
                             f"--mediawiki {peer.url} --wiki {peer.wiki} --user {peer.user}'", "nopassword")
    return Account(peer.user, unseal(node, peer.url, peer.user, peer.secret))
