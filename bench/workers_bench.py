"""Serving workers (issue 18, item 2): cached page views with wrk, `serve --workers 2` against `--workers 1`.

One sample node (`wikipeer init --sample`), served in turn by:

1. `wikipeer serve --workers 1` (the anchor: one uvicorn process);
2. `wikipeer serve --workers 2` (forked workers on one socket, web/workers.py);
3. uvicorn's own supervisor (`uvicorn --factory --workers 2`, spawned workers that import the app anew),
   the other way to share a socket, to compare with the forked one.

Each gets a warm-up run of wrk (so every worker's whole-page cache holds every page) and then a timed run:
``wrk -t1 -c16`` cycling through every page URL. The machine has 2 cores and wrk needs a share of one, so
beside the requests per second the run reports the CPU seconds the server's processes and wrk used: requests per
server CPU-second shows whether a worker got slower, or only got less CPU.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench import servers

WRK_SECONDS, WARMUP_SECONDS, CONNECTIONS = 10, 3, 16
NODE_ENV = "WIKIPEER_BENCH_NODE"
TICKS = os.sysconf("SC_CLK_TCK")


def make_app() -> object:
    """The app of the node named by $WIKIPEER_BENCH_NODE, for `uvicorn --factory` (each spawned worker calls it)."""
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


def measure(name: str, cmd: list[str], port: int, paths: Path, work: Path, env: dict[str, str] | None = None) -> dict:
    base = f"http://127.0.0.1:{port}"
    with servers.running(cmd, f"{base}/status", work / f"{name}.log", env=env) as proc:
        servers.wrk(base, paths, WARMUP_SECONDS, CONNECTIONS)  # fills every worker's whole-page cache
        server_before, wrk_before = tree_cpu(proc.pid), wrk_cpu()
        result = servers.wrk(base, paths, WRK_SECONDS, CONNECTIONS)
        server_cpu, client_cpu = tree_cpu(proc.pid) - server_before, wrk_cpu() - wrk_before
    return {"rps": result.requests_per_s, "p50": result.p50_ms, "p99": result.p99_ms, "bad": result.bad,
            "server_cpu": server_cpu, "wrk_cpu": client_cpu,
            "per_cpu_s": result.requests / server_cpu if server_cpu else 0.0}


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp:
        work = Path(tmp)
        node = work / "node"
        subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), "init", "--sample"],
                       check=True, capture_output=True)
        paths = work / "paths.txt"
        count = page_paths(node, paths)
        runs = {}
        for name, workers in (("one worker", 1), ("two workers (fork)", 2)):
            port = servers.free_port()
            runs[name] = measure(name, [*servers.ours_command(node, port), "--workers", str(workers)], port, paths,
                                 work)
        port = servers.free_port()
        uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "bench.workers_bench:make_app", "--workers", "2",
                   "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
        runs["two workers (uvicorn)"] = measure("uvicorn", uvicorn, port, paths, work,
                                                env={**os.environ, NODE_ENV: str(node)})
    results: dict[str, float | str] = {"pages cycled": count, "wrk": f"-t1 -c{CONNECTIONS} -d{WRK_SECONDS}s, "
                                       f"{os.cpu_count()} cores shared by server and wrk"}
    for name, r in runs.items():
        results[f"{name}: views/s"] = r["rps"]
        results[f"{name}: p50 / p99 ms"] = f"{r['p50']:.2f} / {r['p99']:.2f}"
        results[f"{name}: CPU s server / wrk"] = f"{r['server_cpu']:.1f} / {r['wrk_cpu']:.1f}"
        results[f"{name}: views per server CPU-s"] = r["per_cpu_s"]
        results[f"{name}: errors"] = r["bad"]
    anchor = runs["one worker"]["rps"]
    results["ratio two workers (fork) / one"] = runs["two workers (fork)"]["rps"] / anchor
    results["ratio two workers (uvicorn) / one"] = runs["two workers (uvicorn)"]["rps"] / anchor
    return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"  {key:<40} {value:,.3f}" if isinstance(value, float) else f"  {key:<40} {value}")
