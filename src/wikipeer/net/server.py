"""The inter-node API over HTTP, served beside the web page.

    POST /rpc              JSON-RPC 2.0: lookup, changes, query, search, submit
    GET  /api/v1/node      this node's signed descriptor
    GET  /api/v1/log       the change log as a zstd-compressed CAR stream (packed, texts as deltas, if asked)
    POST /api/v1/blocks    named blocks as a CAR stream
    POST /api/v1/car       upload a CAR; every block goes through the ingest door
    POST /api/v1/hello     a node says where it is reached (net/hello.py): a candidate, verified later

Nothing a peer sends is trusted for who sent it: uploads are verified block
by block like any other source. Who calls is proven by a signature over the
request (net/proof.py, net/signing.py) or not at all: an unsigned caller is an
anonymous reader, and only a proven node may upload (POST /api/v1/car).
"""

from __future__ import annotations

import hashlib
import tempfile
import threading

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from wikipeer.errors import InvalidObject
from wikipeer.formats.car import CarReader
from wikipeer.ingest import CALLER, HeldLimit
from wikipeer.model.cid import cid_from_str
from wikipeer.net import hello, rpc
from wikipeer.net.descriptor import signed_descriptor
from wikipeer.net.methods import Api
from wikipeer.net.ratelimit import Limits, RateLimited, client_of
from wikipeer.net.params import INT_MAX, INT_MIN, cid, integer
from wikipeer.net.proof import Caller, CallerBanned, Gate, Unsigned
from wikipeer.net.signing import EMPTY_DIGEST, RequestRefused, is_signed
from wikipeer.net.receive import take
from wikipeer.formats.compressed import ZstdReader, file_chunks
from wikipeer.net.client import PeerError
from wikipeer.net.gossip import only_notices, parse_range, queue_accepted
from wikipeer.net.wire import (CAR_ZSTD, COUNT_HEADER, NEXT_HEADER, PACK_ZSTD, RANGE_HEADER, Base, Bases,
                               car_chunks, pack_chunks)
from wikipeer.node import Node
from wikipeer.policy.rules import MAX_FILE
from wikipeer.store import log
from wikipeer.store.peers import PeerBook

MAX_RPC_BODY = 8 * 1024 * 1024
MAX_UPLOAD = MAX_FILE + 64 * 1024 * 1024
"""A push carries about 64 MiB (sync.PUSH_BYTES), but a file travels whole with its chunks: one the door takes
(policy.rules.MAX_FILE, 1 GiB; media hardly compresses) must fit, or a node holding one could never push past it."""
MAX_UPLOAD_INFLATED = 2 * 1024 * 1024 * 1024
MAX_LOG_LIMIT = 50_000
MAX_BLOCK_REQUEST = 10_000
MAX_INFLIGHT = 16
MAX_SKIP = 100
MAX_GOSSIP = 1024 * 1024
_IN_SQL_RANGE = integer()
LEECH_GRACE = 10_000  # objects any caller may take before its ratio counts
Refused = (RequestRefused, CallerBanned, Unsigned)


class Load:
    """How many API calls are being answered now; past the limit, callers get redirects."""

    def __init__(self, limit: int) -> None:
        self.limit, self.now = limit, 0
        self.lock = threading.Lock()

    def __enter__(self) -> bool:
        with self.lock:
            self.now += 1
            return self.now <= self.limit

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def _redirects(peers: PeerBook) -> list[dict]:
    return [{"address": p.url, "key": p.key} for p in peers.list() if not p.banned][:8]


def router(node: Node, max_inflight: int = MAX_INFLIGHT, limits: Limits | None = None) -> APIRouter:
    """The API routes for ``node``; ``limits``: the rate limits (None: none)."""
    limits = limits or Limits()
    api = APIRouter()
    peers = PeerBook(node.store)
    methods = Api(node, lambda call: _redirects(peers)).methods()
    load = Load(max_inflight)
    gate = Gate(node, peers)

    async def admitted(request: Request, body: bytes | None = None) -> Caller:
        """The caller, once its signature (and ``body``'s digest) passed; raises one of Refused."""
        if not is_signed(request.headers):  # nothing to check, nothing to write: no thread needed
            return Caller(None, caller_source(request))
        caller = await run_in_threadpool(gate.admit, request, caller_source(request))
        if body is not None:  # a mismatch is counted in the store: not on the event loop's thread
            await run_in_threadpool(gate.body, caller, hashlib.sha256(body).digest())
        return caller

    @api.post("/rpc", tags=["inter-node"], summary="JSON-RPC 2.0 (see docs/protocol.md)")
    async def call(request: Request) -> Response:
        body = await _body(request, MAX_RPC_BODY)
        if body is None:
            return JSONResponse(rpc._error(None, rpc.INVALID_REQUEST, f"request larger than {MAX_RPC_BODY} bytes"),
                                status_code=413)
        try:
            await admitted(request, body)
        except Refused as exc:
            return JSONResponse(rpc._error(None, rpc.INVALID_REQUEST, str(exc)), status_code=exc.status)
        with load as fits:
            if not fits:
                busy = rpc._error(None, rpc.BUSY, "this node is busy: ask the nodes in redirect")
                busy["redirect"] = _redirects(peers)
                return JSONResponse(busy, status_code=503)
            try:  # every call of a batch is charged, before any runs
                answer = await run_in_threadpool(rpc.handle, methods, body, caller_source(request),
                                                 limits.charger("rpc", request))
            except RateLimited as exc:
                return JSONResponse(rpc._error(None, rpc.RATE_LIMITED, str(exc)), status_code=exc.status,
                                    headers={"Retry-After": exc.retry_after_header})
        return Response(status_code=204) if answer is None else JSONResponse(answer)

    @api.get("/api/v1/node", tags=["inter-node"], summary="This node's signed descriptor")
    def descriptor(request: Request) -> dict:
        return signed_descriptor(node, str(request.base_url).rstrip("/"))

    @api.get("/api/v1/log", tags=["inter-node"], summary="The change log after a position, as a CAR stream")
    def change_log(request: Request, since: int = Query(0, ge=INT_MIN, le=INT_MAX),
                   limit: int = Query(10_000, ge=1, le=MAX_LOG_LIMIT),
                   wiki: list[str] = Query([]), ns: list[str] = Query([], description="WIKI:NUMBER"),
                   page: list[str] = Query([]),
                   skip: list[str] = Query([], description="ranges FIRST-LAST the caller has (it sent them)"),
                   pack: bool = Query(False, description="answer with a packed CAR (texts may come as deltas)"),
                   holds: int | None = Query(None, ge=INT_MIN, le=INT_MAX,
                                             description="the caller holds this log's texts up to this position")
                   ) -> Response:
        try:
            namespaces = tuple((w, _sql_int(n)) for w, n in (x.rsplit(":", 1) for x in ns))
            scope = log.Scope(tuple(wiki), namespaces, tuple(cid_from_str(p) for p in page))
            ranges = [_skip_range(r) for r in skip[:MAX_SKIP]]
        except (InvalidObject, ValueError) as exc:
            return JSONResponse({"error": f"bad log request: {exc}"}, status_code=400)
        try:
            caller = gate.admit(request, caller_source(request))
            gate.body(caller, EMPTY_DIGEST)
        except Refused as exc:
            return _refused(exc)
        ids = log.positions(node.store, since, limit, scope)
        next_cursor = ids[-1] if ids else max(since, 0)
        # A caller that proved its key (a known peer: banned ones were refused) is not sent what came
        # from it, nor what this node already pushed to it (up to its push cursor).
        known = peers.find_key(caller.key) if caller.key else None
        if known is not None:
            ranges += [(0, known.push_cursor), *peers.ranges(known.url, since, forget=False)]
        send = log.outside(ids, ranges)
        if _leeching(node, peers, caller.taker):
            return JSONResponse({"error": "this node serves first the nodes that give back: push your "
                                          "changes, or try later"}, status_code=429)
        _count_taker(node, peers, caller, served=len(send))
        headers = {NEXT_HEADER: str(next_cursor), COUNT_HEADER: str(len(ids))}
        if not pack:  # a caller that does not ask (an older node) gets a plain CAR of whole blocks
            return StreamingResponse(car_chunks(log.read(node.store, send)), media_type=CAR_ZSTD, headers=headers)
        bases = _delta_bases(node, send, holds, ranges) if holds is not None else _no_base
        return StreamingResponse(pack_chunks(log.read(node.store, send), bases),
                                 media_type=PACK_ZSTD, headers=headers)

    @api.post("/api/v1/blocks", tags=["inter-node"], summary="The named blocks this node holds, as a CAR stream")
    async def blocks(request: Request) -> Response:
        body = await _body(request, MAX_RPC_BODY)
        if body is None:
            return JSONResponse({"error": f"request larger than {MAX_RPC_BODY} bytes"}, status_code=413)
        try:
            await admitted(request, body)
        except Refused as exc:
            return _refused(exc)
        try:
            wanted = rpc.loads(body)
            if not isinstance(wanted, dict) or not isinstance(wanted.get("cids"), list):
                raise ValueError("not an object with a list 'cids'")
            cids = [cid(c) for c in wanted["cids"][:MAX_BLOCK_REQUEST]]  # past the bound: answered in part
        except ValueError as exc:
            return JSONResponse({"error": f"expected {{\"cids\": [CID, ...]}}: {exc}"}, status_code=400)
        found = (b for b in map(node.store.get_block, cids) if b is not None)
        return StreamingResponse(car_chunks(found), media_type=CAR_ZSTD)

    @api.post("/api/v1/car", tags=["inter-node"], summary="Upload a CAR; returns what became of its blocks")
    async def upload(request: Request) -> Response:
        try:
            caller = await admitted(request)
            if caller.key is None:
                raise Unsigned("an upload must be signed by the sending node's key (docs/scale-signed.md); "
                               "anonymous callers may read, not upload")
        except Refused as exc:
            return _refused(exc)
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
        size = 0
        digest = hashlib.sha256()
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD:
                return JSONResponse({"error": f"upload larger than {MAX_UPLOAD} bytes"}, status_code=413)
            spool.write(chunk)
            digest.update(chunk)
        spool.seek(0)
        try:
            await run_in_threadpool(gate.body, caller, digest.digest())
            return JSONResponse(await run_in_threadpool(_take_upload, node, peers, spool, caller,
                                                        request.headers.get("content-type", "")))
        except Refused as exc:
            return _refused(exc)
        except HeldLimit as exc:
            return JSONResponse({"error": str(exc)}, status_code=413)

    @api.post("/api/v1/gossip", tags=["inter-node"], summary="A notice passed on by gossip")
    async def gossip(request: Request) -> Response:
        body = await _body(request, MAX_GOSSIP)
        if body is None:
            return JSONResponse({"error": f"a gossip message is at most {MAX_GOSSIP} bytes"}, status_code=413)
        try:
            await admitted(request, body)
        except Refused as exc:
            return _refused(exc)
        lo, hi = parse_range(request.headers.get(RANGE_HEADER))
        try:
            return JSONResponse(await run_in_threadpool(_take_gossip, node, body, lo, hi, caller_source(request)))
        except HeldLimit as exc:
            return JSONResponse({"error": str(exc)}, status_code=413)

    @api.post(hello.PATH, tags=["inter-node"], summary="A node says the address it is reached at")
    async def say_hello(request: Request) -> Response:
        body = await _body(request, hello.MAX_BODY)
        if body is None:
            return JSONResponse({"error": f"a hello is at most {hello.MAX_BODY} bytes"}, status_code=413)
        try:
            limits.charge("rpc", request)
            caller = await admitted(request, body)
            if caller.key is None:
                raise Unsigned("a hello must be signed by the key of the node it announces "
                               "(docs/scale-signed.md)")
            return JSONResponse(await run_in_threadpool(hello.take, node, body, caller.key,
                                                        request.client.host if request.client else None))
        except RateLimited as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status,
                                headers={"Retry-After": exc.retry_after_header})
        except Refused as exc:
            return _refused(exc)
        except hello.BadHello as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)

    return api


def _refused(exc: RequestRefused | CallerBanned | Unsigned) -> JSONResponse:
    """The answer to a request refused for who sent it (401: not proven, 403: banned)."""
    challenge = {"WWW-Authenticate": 'Signature realm="wikipeer"'} if exc.status == 401 else None
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=challenge)


def _delta_bases(node: Node, send: list[int], holds: int, ranges: list[tuple[int, int]]) -> Bases:
    """What the texts of ``send`` may go against: their first parent's text, where the caller holds it.

    The caller holds what is at or before ``holds`` (it took it) or in ``ranges`` (it sent it), but
    a text only with its revision: a page of the log that ended between the two left the text
    waiting, not stored. So both the parent's text and the parent revision must be held.
    """
    def held(position: int) -> bool:
        return position <= holds or any(first <= position <= last for first, last in ranges)

    parents = {cid: p for cid, p in node.store.parent_texts(send).items() if held(p.base_id) and held(p.parent_id)}

    def base(cid: bytes) -> Base | None:
        found = parents.get(cid)
        return Base(found.base, node.store.text_bytes(found.base_id), found.rev) if found else None
    return base


def _no_base(cid: bytes) -> None:
    """A caller that does not say what it holds gets whole texts."""
    return None


def _leeching(node: Node, peers: PeerBook, key: str) -> bool:
    """Whether a caller only takes, past the ratio this node allows (``max_take_ratio``; off by default)."""
    ratio = node.config.max_take_ratio
    if ratio is None:
        return False
    served, given = peers.taker(key)
    return served > LEECH_GRACE and served > ratio * (given + 1)


def caller_source(request: Request) -> str:
    """The source name of what a caller sends: its address, which it cannot choose (headers it can)."""
    return f"{CALLER}{client_of(request)}"


def _sql_int(text: str) -> int:
    """An integer from a query string, in the range SQLite holds; ValueError otherwise."""
    return _IN_SQL_RANGE(int(text))


def _skip_range(text: str) -> tuple[int, int]:
    """A ``skip`` range FIRST-LAST; ValueError when it is not one."""
    first, sep, last = text.partition("-")
    if not sep:
        raise ValueError(f"skip range {text!r} is not FIRST-LAST")
    return _sql_int(first), _sql_int(last)


def _count_taker(node: Node, peers: PeerBook, caller: Caller, served: int = 0, given: int = 0) -> None:
    """Count for the leech ratio what a caller took or gave.

    A proven sender is counted by its key: a row for a peer this node added
    (``peer list`` shows its counts) or, when the node throttles takers, for
    any node key (each one costs its owner a key pair and a signed request).
    An anonymous caller is counted by its address, and only when the node
    throttles takers: it gives nothing, so it gets the grace and no more.
    """
    if caller.key is None or peers.find_key(caller.key) is None:
        if node.config.max_take_ratio is None:
            return
    peers.count_taker(caller.taker, served=served, given=given)


def _take_gossip(node: Node, body: bytes, lo: int, hi: int, source: str) -> dict:
    try:
        blocks = only_notices(CarReader(ZstdReader(iter([body]), MAX_GOSSIP * 16, MAX_GOSSIP, "the gossip")))
    except (InvalidObject, PeerError) as exc:
        return {"error": str(exc)}
    report = node.ingest(blocks, source)
    return {"accepted": report.counts()["accepted"], "queued": queue_accepted(node, report, lo, hi)}


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it is longer than ``limit`` (read no further)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _take_upload(node: Node, peers: PeerBook, spool, caller: Caller, content_type: str) -> dict:
    stream = ZstdReader(file_chunks(spool), MAX_UPLOAD_INFLATED, MAX_UPLOAD, "the upload") \
        if content_type.startswith(CAR_ZSTD) else spool
    try:
        tally = take(node, CarReader(stream), caller.source)
    except InvalidObject as exc:
        return {"error": str(exc)}
    _count_taker(node, peers, caller, given=tally.accepted)
    known = peers.find_key(caller.key) if caller.key else None
    if known is not None:
        # What a peer pushed to us is never pushed back to it.
        for first, last in tally.ranges:
            peers.add_range(known.url, first, last)
    # The uploader keeps these so its next pull does not fetch its own blocks back.
    return {**tally.to_dict(), "ranges": tally.ranges}
