"""Soak (issue 11): a busy day on one `wikipeer serve` process, then a count of what went wrong.

200 readers over articles, old revisions' raw texts, histories, diffs and
search; 5 writers saving edits through the web form, each with an account of
its own; 4 peers pulling the change log as `sync` does, for ``--seconds``
(10 minutes by default). Every simulated client has its own loopback address
(127.0.N.M), so per-client limits see many readers, not one.

Counted as errors: any 5xx, any connection error or timeout, and any answer
that differs from the one the same request got alone before the load (reader
requests are fixed: writers edit pages of their own, with words no search
asks for), or a log answer whose CAR does not hold the blocks it announces.
A 429 is not an error; it is counted and reported apart. Afterwards every
acknowledged edit must be there with its text, fsck must be clean, and the
server's RSS (sampled all along) must not grow from the first minute to the
last.

One asyncio process (httpx.AsyncClient) drives every client. Run alone:
``python -m bench.soak --seconds 600``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import math
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import zstandard

from bench import servers
from bench.synthetic import history, vocabulary
from wikipeer.formats.car import CarReader
from wikipeer.ingest import ingest
from wikipeer.model.cid import cid_to_str
from wikipeer.node import Node

WIKI = "bench"
LOG_LIMIT = 2000
PEER_POLL_SECONDS = 1.0
WRITER_PAUSE_SECONDS = 0.5
RSS_EVERY_SECONDS = 2.0
_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')
_PARENTS = re.compile(r'<input type="hidden" name="parents" value="([^"]*)"')


@dataclass
class Tally:
    """What the clients saw, per kind of request."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    limited: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)
    saved: list[tuple[str, str, str]] = field(default_factory=list)  # (page path, revision CID, text)
    pulled_blocks: int = 0

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {what}")


@dataclass(frozen=True)
class Load:
    """The shape of one soak run."""

    seconds: float = 600.0
    readers: int = 200
    writers: int = 5
    peers: int = 4
    pages: int = 200
    revisions: int = 20


def build_node(directory: Path, load: Load) -> list[list[str]]:
    """A node with ``pages`` synthetic pages of ``revisions`` revisions; returns each page's revision CIDs."""
    node = Node.init(directory)
    node.wiki(WIKI)
    revs: list[list[str]] = [[] for _ in range(load.pages)]
    batch = []
    for i, (_, blocks) in enumerate(history(load.pages, load.revisions, text_bytes=3000)):
        revs[i // load.revisions].append(cid_to_str(blocks[2].cid))
        batch += blocks
        if len(batch) >= 4000:
            ingest(node.store, batch, "bench")
            batch = []
    ingest(node.store, batch, "bench")
    node.catch_up_index()  # every search answer is then fixed from the start
    node.close()
    return revs


# How often a reader asks for each kind of page (a busy wiki is read far more than it is diffed).
KINDS = {"article": 30, "raw": 25, "history": 15, "diff": 15, "search": 15}


def reader_requests(revs: list[list[str]], rng: random.Random) -> dict[str, list[str]]:
    """Paths for the readers by kind; every answer is fixed while the writers edit their own pages.

    Raw texts: every revision, so that most reads miss the store's text cache and decompress a
    chain of zstd deltas (what crashed the server when its decompressor was shared).
    """
    out: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for p, cids in enumerate(revs):
        path = f"/wiki/{WIKI}/Page_{p}"
        out["article"].append(path)
        out["history"].append(f"{path}?action=history")
        out["raw"] += [f"{path}?action=raw&oldid={cid}" for cid in cids]
        for _ in range(2):
            a = rng.randrange(len(cids) - 1)
            out["diff"].append(f"{path}?diff={cids[rng.randrange(a + 1, len(cids))]}&oldid={cids[a]}")
    words = vocabulary(random.Random(1))  # the words the synthetic pages are made of (same seed)
    out["search"] = [f"/search?q={word}" for word in words[:40]]
    return out


def digest(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, hashlib.sha256(response.content).hexdigest()


async def reader(client: httpx.AsyncClient, requests: dict[str, list[str]], expected: dict[str, tuple[int, str]],
                 tally: Tally, until: float, rng: random.Random) -> None:
    kinds, weights = list(KINDS), list(KINDS.values())
    while time.monotonic() < until:
        kind = rng.choices(kinds, weights)[0]
        path = rng.choice(requests[kind])
        started = time.perf_counter()
        try:
            response = await client.get(path)
        except httpx.HTTPError as exc:
            tally.error(kind, f"{path}: {type(exc).__name__} {exc}")
            continue
        tally.latencies[kind].append(time.perf_counter() - started)
        if response.status_code == 429:
            tally.limited[kind] += 1
            await asyncio.sleep(float(response.headers.get("retry-after", "1") or 1))
        elif digest(response) != expected[path]:
            tally.error(kind, f"{path}: {response.status_code}, not the answer it had alone")


async def register(client: httpx.AsyncClient, name: str) -> None:
    csrf = _CSRF.search((await client.get("/register")).text).group(1)
    response = await client.post("/register", data={"name": name, "password": "a long password", "csrf": csrf,
                                                    "returnto": "/"})
    if response.status_code != 303:
        raise RuntimeError(f"could not register {name}: {response.status_code} {response.text[:300]}")


async def writer(client: httpx.AsyncClient, index: int, tally: Tally, until: float) -> None:
    """Edit a page of its own through the web form, as a browser does, keeping each acknowledged edit."""
    await register(client, f"Soakwriter{index}")
    path = f"/wiki/{WIKI}/Scratch_{index}"
    n = 0
    while time.monotonic() < until:
        n += 1
        text = f"Soak edit {n} by writer {index}.\n" * (1 + n % 7)
        started = time.perf_counter()
        try:
            form = (await client.get(f"{path}?action=edit")).text
            response = await client.post(f"{path}?action=submit", data={
                "csrf": _CSRF.search(form).group(1), "parents": _PARENTS.search(form).group(1), "text": text,
                "summary": f"soak {n}"})
        except (httpx.HTTPError, AttributeError) as exc:
            tally.error("edit", f"{path}: {type(exc).__name__} {exc}")
            continue
        tally.latencies["edit"].append(time.perf_counter() - started)
        location = response.headers.get("location", "")
        if response.status_code == 429:
            tally.limited["edit"] += 1
        elif response.status_code != 303 or "oldid=" not in location:
            tally.error("edit", f"{path}: {response.status_code} {response.text[:200]}")
        else:
            tally.saved.append((path, location.split("oldid=")[1].split("&")[0], text))
        await asyncio.sleep(WRITER_PAUSE_SECONDS)


def _count_blocks(body: bytes) -> int:
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)) as stream:
        return sum(1 for _ in CarReader(stream))


async def peer(client: httpx.AsyncClient, tally: Tally, until: float) -> None:
    """Pull the log from the start, then poll for what is new, as `sync --pull` does."""
    cursor = 0
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = await client.get("/api/v1/log", params={"since": cursor, "limit": LOG_LIMIT})
        except httpx.HTTPError as exc:
            tally.error("log", f"since={cursor}: {type(exc).__name__} {exc}")
            continue
        tally.latencies["log"].append(time.perf_counter() - started)
        if response.status_code == 429:
            tally.limited["log"] += 1
            await asyncio.sleep(PEER_POLL_SECONDS)
            continue
        try:
            count = int(response.headers["x-wikipeer-count"])
            blocks = _count_blocks(response.content) if response.status_code == 200 else -1
        except Exception as exc:  # a broken answer, whatever broke in it, is a wrong answer
            tally.error("log", f"since={cursor}: {response.status_code}, unreadable: {exc}")
            continue
        if blocks != count:
            tally.error("log", f"since={cursor}: {response.status_code}, {blocks} blocks where it announced {count}")
            continue
        tally.pulled_blocks += blocks
        cursor = int(response.headers["x-wikipeer-next"])
        if count < LOG_LIMIT:
            await asyncio.sleep(PEER_POLL_SECONDS)


async def sample_rss(pid: int, samples: list[tuple[float, float]], until: float) -> None:
    start = time.monotonic()
    while time.monotonic() < until:
        samples.append((time.monotonic() - start, rss_mb(pid)))
        await asyncio.sleep(RSS_EVERY_SECONDS)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _client(base: str, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, timeout=60, transport=httpx.AsyncHTTPTransport(local_address=address))


async def drive(base: str, pid: int, load: Load, requests: dict[str, list[str]],
                expected: dict[str, tuple[int, str]]) -> tuple[Tally, list[tuple[float, float]]]:
    """Run every client until ``load.seconds`` have passed."""
    tally, rss = Tally(), []
    until = time.monotonic() + load.seconds
    clients = ([_client(base, f"127.0.{1 + i // 250}.{1 + i % 250}") for i in range(load.readers)],
               [_client(base, f"127.0.10.{1 + i}") for i in range(load.writers)],
               [_client(base, f"127.0.11.{1 + i}") for i in range(load.peers)])
    try:
        tasks = [reader(c, requests, expected, tally, until, random.Random(i)) for i, c in enumerate(clients[0])]
        tasks += [writer(c, i, tally, until) for i, c in enumerate(clients[1])]
        tasks += [peer(c, tally, until) for c in clients[2]]
        await asyncio.gather(sample_rss(pid, rss, until), *tasks)
    finally:
        for client in (c for group in clients for c in group):
            await client.aclose()
    return tally, rss


def missing_edits(client: httpx.Client, saved: list[tuple[str, str, str]]) -> int:
    """Acknowledged edits that are not there afterwards, with their text."""
    return sum(1 for path, cid, text in saved if client.get(f"{path}?action=raw&oldid={cid}").text != text)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN when there are no values)."""
    xs = sorted(values)
    return xs[max(0, min(len(xs) - 1, math.ceil(q * len(xs)) - 1))] if xs else math.nan


def rss_windows(samples: list[tuple[float, float]], seconds: float) -> list[tuple[float, float]]:
    """(start, mean RSS) of each minute of the run (of each fifth, when it is shorter than 5 minutes)."""
    window = min(60.0, seconds / 5)
    out = []
    for k in range(max(1, math.ceil(seconds / window))):
        inside = [r for t, r in samples if k * window <= t < (k + 1) * window]
        if inside:
            out.append((k * window, statistics.mean(inside)))
    return out


def fsck_clean(node: Path) -> bool:
    proc = subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), "fsck"],
                          capture_output=True, text=True)
    return proc.returncode == 0 and "no faults" in proc.stdout


def run(load: Load = Load(), out=print) -> dict[str, float]:
    """One soak run; returns its figures (errors, 429s, missing edits, fsck faults, latencies, RSS)."""
    with tempfile.TemporaryDirectory(prefix="wikipeer-soak-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        revs = build_node(tmp / "node", load)
        requests = reader_requests(revs, random.Random(7))
        paths = [p for group in requests.values() for p in group]
        out(f"  node: {load.pages} pages x {load.revisions} revisions, built in {time.perf_counter() - started:.0f} s; "
            f"{len(paths)} reader URLs")
        port = servers.free_port()
        base = f"http://127.0.0.1:{port}"
        with servers.running(servers.ours_command(tmp / "node", port), base + "/status", tmp / "server.log") as proc:
            with httpx.Client(base_url=base, timeout=120) as client:
                expected = answers_alone(base, paths)
                bad = [p for p, (status, _) in expected.items() if status != 200]
                if bad:
                    raise RuntimeError(f"{len(bad)} reader URLs do not answer 200 alone, e.g. {bad[:3]}")
                out(f"  {len(paths)} answers taken alone; load for {load.seconds:.0f} s: {load.readers} readers, "
                    f"{load.writers} writers, {load.peers} log pullers")
                tally, rss = asyncio.run(drive(base, proc.pid, load, requests, expected))
                alive = proc.poll() is None
                missing = missing_edits(client, tally.saved) if alive else len(tally.saved)
        clean = fsck_clean(tmp / "node")
        if not alive:
            out((tmp / "server.log").read_text(errors="replace")[-3000:])
    return report(load, tally, rss, alive, missing, clean, out)


def answers_alone(base: str, paths: list[str], addresses: int = 16) -> dict[str, tuple[int, str]]:
    """Each URL's answer with nothing else running, taken one at a time before the load.

    The requests come from a few loopback addresses in turn, as readers would:
    from one address, the searches alone would pass its rate limit.
    """
    clients = [httpx.Client(base_url=base, timeout=120,
                            transport=httpx.HTTPTransport(local_address=f"127.0.12.{1 + i}")) for i in range(addresses)]
    try:
        return {path: digest(clients[i % addresses].get(path)) for i, path in enumerate(paths)}
    finally:
        for client in clients:
            client.close()


def report(load: Load, tally: Tally, rss: list[tuple[float, float]], alive: bool, missing: int, clean: bool,
           out=print) -> dict[str, float]:
    for example in tally.examples:
        out(f"  error: {example}")
    windows = rss_windows(rss, load.seconds)
    figures: dict[str, float] = {
        "seconds": load.seconds, "readers": load.readers, "writers": load.writers, "log pullers": load.peers,
        "requests": sum(len(v) for v in tally.latencies.values()) + sum(tally.errors.values()),
        "errors": sum(tally.errors.values()), "429 answers": sum(tally.limited.values()),
        "edits acknowledged": len(tally.saved), "edits missing": missing, "blocks pulled": tally.pulled_blocks,
        "server alive after": int(alive), "fsck clean after": int(clean),
        "RSS MB first minute": windows[0][1], "RSS MB last minute": windows[-1][1],
        "RSS MB max": max(r for _, r in rss),
    }
    # The whole curve: caches filling up level off, a leak keeps climbing.
    figures.update({f"RSS MB from {start:.0f} s": mean for start, mean in windows})
    for kind in sorted(tally.latencies):
        lat = tally.latencies[kind]
        figures[f"{kind}: requests"] = len(lat)
        figures[f"{kind}: p50 ms"] = pct(lat, 0.5) * 1000
        figures[f"{kind}: p99 ms"] = pct(lat, 0.99) * 1000
        if tally.errors.get(kind) or tally.limited.get(kind):
            figures[f"{kind}: errors"] = tally.errors.get(kind, 0)
            figures[f"{kind}: 429"] = tally.limited.get(kind, 0)
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--writers", type=int, default=5)
    parser.add_argument("--peers", type=int, default=4)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--revisions", type=int, default=20)
    args = parser.parse_args(argv)
    figures = run(Load(args.seconds, args.readers, args.writers, args.peers, args.pages, args.revisions))
    for key, value in figures.items():
        print(f"  {key:<32} {value:,.1f}" if isinstance(value, float) else f"  {key:<32} {value:,}")
    ok = figures["errors"] == 0 and figures["edits missing"] == 0 and figures["fsck clean after"] == 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
