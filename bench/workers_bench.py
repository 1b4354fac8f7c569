"""Serving workers (issue 18, item 2): cached page views with wrk, `serve --workers 2` against `--workers 1`.

One sample node (`wikipeer init --sample`), served in turn by:

1. `wikipeer serve --workers 1` (the anchor: one uvicorn process);
2. `wikipeer serve --workers 2` (forked workers on one socket, web/workers.py);
3. uvicorn's own supervisor (`uvicorn --workers 2`, spawned workers that import the app anew),
   the other way to share a socket, to compare with the forked one;
4. granian (a Rust HTTP server for ASGI apps) with one and with two workers, when it is installed
   (`pip install granian`; not a dependency of wikipeer): whether uvicorn is what limits a worker.

All run at once (idle but for the one measured). Each gets a warm-up run of wrk (so every worker's whole-page
cache holds every page), then three rounds of one timed run per server in turn, ``wrk -t1 -c16 -d10s`` cycling
through every page URL; the median run counts. At the end one worker of each multi-worker server is killed and
the seconds until a new one answers are measured. The machine has 2 cores and wrk needs a share of one, so
beside the requests per second the run reports the CPU seconds the server's processes and wrk used: requests per
server CPU-second shows whether a worker got slower, or only got less CPU.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import httpx

from bench import servers

WRK_SECONDS, WARMUP_SECONDS, CONNECTIONS, ROUNDS = 10, 3, 16, 3
NODE_ENV = "WIKIPEER_BENCH_NODE"
TICKS = os.sysconf("SC_CLK_TCK")


def make_app() -> object:
    """The app of the node named by $WIKIPEER_BENCH_NODE (bench/workers_app.py builds it in each spawned worker)."""
    from wikipeer.node import Node
    from wikipeer.web.app import create_app
    from wikipeer.web.workers import WorkerHeader

    return WorkerHeader(create_app(Node.open(Path(os.environ[NODE_ENV]))))


def page_paths(node: Path, out: Path) -> int:
    """Every page's URL, one a line, for wrk_urls.lua; returns how many."""
    from wikipeer.node import Node

    opened = Node.open(node)
    try:
        paths = []
        for wiki in opened.store.wikis():
            config = opened.wiki_or_default(wiki)
            for row in opened.store.pages(wiki):
                name = config.full_title(row.ns, row.title).replace(" ", "_")
                paths.append(f"/wiki/{quote(wiki)}/{quote(name)}")
    finally:
        opened.close()
    out.write_text("\n".join(paths) + "\n")
    return len(paths)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and every live process below it."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / TICKS
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return total
    return total + sum(tree_cpu(int(k)) for k in kids)


def wrk_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def replace_seconds(base: str, supervisor: int) -> float:
    """Seconds from killing one worker until a new worker answers (new connections land on any worker)."""
    workers = {int(p) for p in Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()}
    served = {int(httpx.get(f"{base}/status").headers["x-wikipeer-worker"]) for _ in range(20)}
    victim = min(served & workers)
    start = time.perf_counter()
    os.kill(victim, signal.SIGKILL)
    deadline = start + 60
    while time.perf_counter() < deadline:
        try:
            answered = int(httpx.get(f"{base}/status", timeout=10).headers["x-wikipeer-worker"])
        except httpx.TransportError:
            continue  # the killed worker's connection: ask again
        if answered not in workers:
            return time.perf_counter() - start
    raise RuntimeError(f"no worker replaced {victim} within 60 s")


def children_cpu(pid: int) -> dict[int, float]:
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(k): tree_cpu(int(k)) for k in kids}


def timed_run(base: str, supervisor: int, paths: Path) -> dict[str, float]:
    """One timed wrk run, with the CPU the server's processes and wrk used meanwhile, and the busiest worker's
    share of it (0.5 when two workers shared the work evenly)."""
    server_before, wrk_before, kids_before = tree_cpu(supervisor), wrk_cpu(), children_cpu(supervisor)
    result = servers.wrk(base, paths, WRK_SECONDS, CONNECTIONS)
    server_cpu = tree_cpu(supervisor) - server_before
    kids = {pid: cpu - kids_before.get(pid, 0.0) for pid, cpu in children_cpu(supervisor).items()}
    return {"rps": result.requests_per_s, "p50": result.p50_ms, "p99": result.p99_ms, "bad": result.bad,
            "server_cpu": server_cpu, "wrk_cpu": wrk_cpu() - wrk_before,
            "per_cpu_s": result.requests / server_cpu if server_cpu else 0.0,
            "busiest": max(kids.values()) / sum(kids.values()) if len(kids) > 1 and sum(kids.values()) else 1.0}


def measure_all(compared: list[tuple[str, list[str], int]], paths: Path, work: Path,
                env: dict[str, str]) -> dict[str, dict[str, float]]:
    """Every server up at once, each warmed, then ROUNDS rounds of one timed run per server in turn (the load other
    work puts on the machine falls on all alike); per server the median run by views/s, and its replacement time."""
    with ExitStack() as stack:
        procs = {}
        for name, cmd, port in compared:
            procs[name] = stack.enter_context(servers.running(cmd, f"http://127.0.0.1:{port}/status",
                                                              work / f"{name}.log", env=env))
            servers.wrk(f"http://127.0.0.1:{port}", paths, WARMUP_SECONDS, CONNECTIONS)  # fills every worker's cache
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in compared}
        for _ in range(ROUNDS):
            for name, _, port in compared:
                runs[name].append(timed_run(f"http://127.0.0.1:{port}", procs[name].pid, paths))
        chosen = {name: sorted(r, key=lambda run: run["rps"])[len(r) // 2] for name, r in runs.items()}
        for name, _, port in compared:
            several = name.startswith("two")
            chosen[name]["replace_s"] = replace_seconds(f"http://127.0.0.1:{port}", procs[name].pid) if several else 0
    return chosen


def servers_to_compare(node: Path) -> list[tuple[str, list[str], int]]:
    """(name, command, port) of every server measured; granian's only where it is installed."""
    compared = []
    for name, workers in (("one worker", 1), ("two workers (fork)", 2)):
        port = servers.free_port()
        compared.append((name, [*servers.ours_command(node, port), "--workers", str(workers)], port))
    port = servers.free_port()
    compared.append(("two workers (uvicorn)", [sys.executable, "-m", "uvicorn", "bench.workers_app:app", "--workers",
                                               "2", "--host", "127.0.0.1", "--port", str(port), "--log-level",
                                               "warning", "--no-access-log"], port))
    if importlib.util.find_spec("granian") is not None:
        for name, workers in (("one worker (granian)", 1), ("two workers (granian)", 2)):
            port = servers.free_port()
            compared.append((name, [sys.executable, "-m", "granian", "--interface", "asgi", "--workers", str(workers),
                                    "--respawn-failed-workers", "--respawn-interval", "0", "--host", "127.0.0.1",
                                    "--port", str(port), "--no-access-log", "--log-level", "warning",
                                    "bench.workers_app:app"], port))
    return compared


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp:
        work = Path(tmp)
        node = work / "node"
        subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), "init", "--sample"],
                       check=True, capture_output=True)
        paths = work / "paths.txt"
        count = page_paths(node, paths)
        load = os.getloadavg()[0]
        runs = measure_all(servers_to_compare(node), paths, work, {**os.environ, NODE_ENV: str(node)})
    results: dict[str, float | str] = {"pages cycled": count, "wrk": f"-t1 -c{CONNECTIONS} -d{WRK_SECONDS}s, median "
                                       f"of {ROUNDS} rounds, {os.cpu_count()} cores shared by servers and wrk",
                                       "load average before (1 min)": load}
    for name, r in runs.items():
        results[f"{name}: views/s"] = r["rps"]
        results[f"{name}: p50 / p99 ms"] = f"{r['p50']:.2f} / {r['p99']:.2f}"
        results[f"{name}: CPU s server / wrk"] = f"{r['server_cpu']:.1f} / {r['wrk_cpu']:.1f}"
        results[f"{name}: views per server CPU-s"] = r["per_cpu_s"]
        results[f"{name}: busiest worker's CPU share"] = r["busiest"]
        results[f"{name}: errors"] = r["bad"]
        if r["replace_s"]:
            results[f"{name}: a killed worker replaced in s"] = r["replace_s"]
    anchor = runs["one worker"]
    for name, r in runs.items():
        if name != "one worker":
            results[f"ratio {name} / one worker"] = r["rps"] / anchor["rps"]
            results[f"ratio {name} / one worker, per server CPU-s"] = r["per_cpu_s"] / anchor["per_cpu_s"]
    return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"  {key:<40} {value:,.3f}" if isinstance(value, float) else f"  {key:<40} {value}")
