"""Who calls this node: a node that proved its key by signing the request, or an anonymous reader.

Only a request signed by its sender's node key (net/signing.py) names a
node; the ``x-wikipeer-node`` header counts for nothing. What is tied to a
node (leech accounting, bans, the take-ratio limit, "not sent back") applies
to the proven sender only; an unsigned caller reads what anyone can. A
signed request that does not pass is refused (401), never served as
anonymous: a caller that signs wants its name to count, and a forgery must
not be mistaken for an anonymous read.

Every refusal is counted by reason in the store (store/nonces.py), and the
nonces live there too, so several serving processes on one store refuse
the same replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from wikipeer.errors import UserError
from wikipeer.net.signing import REPLAYED, SKEW, Claim, RequestRefused, check, check_digest, is_signed
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.nonces import Nonces
from wikipeer.store.peers import PeerBook


class CallerBanned(UserError):
    """A proven sender this node banned: it is refused, whatever it asks."""

    status = 403


class Unsigned(UserError):
    """An anonymous caller asked for what only a proven node may do (upload)."""

    status = 401


@dataclass(frozen=True, slots=True)
class Caller:
    """A request's sender: ``key`` the node key it proved (None: anonymous), ``source`` its address."""

    key: str | None
    source: str
    claim: Claim | None = None

    @property
    def taker(self) -> str:
        """What its taking is counted against: its key, or (anonymous) its address."""
        return self.key or self.source


class Gate:
    """The checks a request to ``node`` passes before it is served."""

    def __init__(self, node: Node, peers: PeerBook) -> None:
        self.nonces = Nonces(node.store)
        self.peers = peers
        self.me = node.keyring.get(NODE_KEY).public

    def admit(self, request: Request, source: str) -> Caller:
        """The request's caller; RequestRefused (counted) for a signed request that does not pass,
        CallerBanned for a proven sender this node banned."""
        if not is_signed(request.headers):
            return Caller(None, source)
        try:
            claim = check(request.headers, request.method, target(request), self.me)
            if not self.nonces.first_use(claim.key, claim.nonce, claim.created + SKEW + 1):
                raise RequestRefused(REPLAYED, f"nonce {claim.nonce} of key {claim.key} was used before")
        except RequestRefused as exc:
            self.nonces.count_refusal(exc.reason)
            raise
        known = self.peers.find_key(claim.key)
        if known is not None and known.banned:
            raise CallerBanned(f"this node banned {claim.key} ({known.banned})")
        return Caller(claim.key, source, claim)

    def body(self, caller: Caller, digest: bytes) -> None:
        """RequestRefused (counted) unless the body read (its SHA-256) is the one its caller signed."""
        if caller.claim is None:
            return
        try:
            check_digest(caller.claim, digest)
        except RequestRefused as exc:
            self.nonces.count_refusal(exc.reason)
            raise


def target(request: Request) -> str:
    """The request's path and query exactly as they came (what the caller signed)."""
    path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    query = request.scope.get("query_string") or b""
    return (path + (b"?" + query if query else b"")).decode("latin-1")
