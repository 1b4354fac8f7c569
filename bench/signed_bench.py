"""Signed requests (issue 18): what signing every request between nodes costs a sync.

The source: 1,000 revisions (100 pages x 10, 5 KB texts, bench/synthetic.py),
about 3,100 objects, served by `wikipeer serve` on 127.0.0.1. Timed, signed
and unsigned alternately, REPEATS times each, the median kept:

1. clone: a fresh empty node takes the whole log with the real ``pull`` of
   net/sync.py (every object verified at the door), through a PeerClient
   that signs its requests (the node key; the peer checks the signature, the
   date, the digest and remembers the nonce in its store) against one that
   does not (an anonymous reader: the only way left to ask unsigned);
2. per request: REQUESTS empty log requests (a position past the end) of
   each kind, taking turns, the median of each: the fixed cost of a
   signature (making it, checking it, one nonce row) is all that differs;
3. push: the clone's 100 new revisions pushed back (uploads are always
   signed: the body is spooled and hashed before it is sent), for scale;
4. in this process, without HTTP: making and checking one signature, and
   remembering one nonce in a store: what a signed request adds, measured
   without the noise of a loaded machine's round trips.

The anchor is the unsigned run of the same work in the same run; the ratio
is signed / unsigned (1.0: no cost).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from nacl.signing import SigningKey

from bench import servers
from bench.synthetic import history
from wikipeer.authoring import edit
from wikipeer.net.client import PeerClient
from wikipeer.net.signing import EMPTY_DIGEST, RequestSigner, check, node_signer
from wikipeer.net.sync import SyncResult, pull, push
from wikipeer.node import Node
from wikipeer.store.log import Scope
from wikipeer.store.nonces import Nonces
from wikipeer.store.peers import PeerBook

PAGES, REVISIONS = 100, 10
REPEATS = 7
REQUESTS = 500
PUSHED = 100
CPU_ROUNDS = 2000


def _source(directory: Path) -> int:
    """A node holding the synthetic history; returns its number of objects."""
    node = Node.init(directory)
    try:
        node.wiki("bench")
        batch: list = []
        for _, blocks in history(PAGES, REVISIONS):
            batch += blocks
            if len(batch) >= 2000:
                node.ingest(batch, "bench")
                batch = []
        node.ingest(batch, "bench")
        return node.store.conn.execute("SELECT count(*) FROM objects").fetchone()[0]
    finally:
        node.close()


def _clone(target: Path, url: str, signed: bool) -> tuple[float, int]:
    """Seconds to pull the whole log into a new node at ``target``, and the objects taken."""
    node = Node.init(target)
    try:
        peers = PeerBook(node.store)
        peers.add(url)
        result = SyncResult(url)
        start = time.perf_counter()
        with PeerClient(url, signer=node_signer(node) if signed else None) as client:
            pull(node, peers, client, url, Scope(), result)
        return time.perf_counter() - start, result.pulled.accepted
    finally:
        node.close()


def _requests(node_dir: Path, url: str) -> dict[bool, float]:
    """Milliseconds an empty log request takes, signed and unsigned: the median of REQUESTS each.

    The two kinds take turns, request by request, so a load that comes and goes on the machine
    falls on both alike.
    """
    node = Node.open(node_dir)
    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        with PeerClient(url, signer=node_signer(node)) as signing, PeerClient(url) as anonymous:
            signing.audience = signing.descriptor().key  # learned before the clock starts
            for _ in range(REQUESTS):
                for signed, client in ((False, anonymous), (True, signing)):
                    start = time.perf_counter()
                    with client.log(10**9, 1) as batch:
                        list(batch.blocks)
                    times[signed].append(time.perf_counter() - start)
    finally:
        node.close()
    return {signed: statistics.median(t) * 1000 for signed, t in times.items()}


def _push(node_dir: Path, url: str) -> float:
    """Seconds to push PUSHED new revisions of the clone at ``node_dir`` back to the source."""
    node = Node.open(node_dir)
    try:
        peers = PeerBook(node.store)
        peers.set(url, push_cursor=node.store.last_seq())
        for i in range(PUSHED):
            edit(node, "bench", f"Page {i}", f"pushed back, edit {i}\n" * 200, "bench push")
        start = time.perf_counter()
        with PeerClient(url, signer=node_signer(node)) as client:
            push(node, peers, client, url, SyncResult(url))
        return time.perf_counter() - start
    finally:
        node.close()


def _cpu(directory: Path) -> dict[bool, float]:
    """Microseconds of work a signed request adds, in this process: making and checking its signature
    (False), and remembering its nonce in a store (True)."""
    signer, node_key = RequestSigner(SigningKey.generate()), RequestSigner(SigningKey.generate()).public
    target = "/api/v1/log?since=1000000000&limit=1&pack=1&holds=0"
    start = time.perf_counter()
    for _ in range(CPU_ROUNDS):
        check(signer.headers("GET", target, EMPTY_DIGEST, node_key), "GET", target, node_key)
    signing = time.perf_counter() - start
    node = Node.init(directory)
    try:
        nonces, now = Nonces(node.store), int(time.time())
        start = time.perf_counter()
        for i in range(CPU_ROUNDS):
            nonces.first_use(signer.public, f"nonce-{i:06d}-padding", now + 301)
        remembering = time.perf_counter() - start
    finally:
        node.close()
    return {False: signing / CPU_ROUNDS * 1e6, True: remembering / CPU_ROUNDS * 1e6}


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory(prefix="signed-bench-") as tmp:
        root = Path(tmp)
        objects = _source(root / "source")
        port = servers.free_port()
        url = f"http://127.0.0.1:{port}"
        with servers.running(servers.ours_command(root / "source", port), f"{url}/status", root / "serve.log"):
            clones: dict[bool, list[float]] = {True: [], False: []}
            taken = 0
            for i in range(REPEATS):
                for signed in (False, True):
                    seconds, taken = _clone(root / f"clone-{i}-{signed}", url, signed)
                    clones[signed].append(seconds)
            request = _requests(root / "clone-0-True", url)
            pushed = _push(root / "clone-0-True", url)
        cpu = _cpu(root / "cpu")
    clone = {s: statistics.median(v) for s, v in clones.items()}
    return {
        "objects in the source": objects,
        "objects taken per clone": taken,
        "clone unsigned (s, median)": clone[False],
        "clone signed (s, median)": clone[True],
        "clone signed / unsigned": clone[True] / clone[False],
        "empty log request unsigned (ms, median)": request[False],
        "empty log request signed (ms, median)": request[True],
        "request signed / unsigned": request[True] / request[False],
        f"push of {PUSHED} revisions, signed (s)": pushed,
        "sign + check a request (us)": cpu[False],
        "remember its nonce (us)": cpu[True],
    }
