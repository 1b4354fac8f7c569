"""Command start-up benchmark (issue 15, item 3): wall time of short commands as whole processes.

Each command runs as `python -m wikipeer.cli.main ...` in a fresh interpreter (interpreter
start-up included, as a user sees it), N times; the median is reported against the 150 ms
target. The commands:

- `wikipeer --version`;
- `wikipeer stats` on the built-in sample wiki;
- a no-op `wikipeer sync`: a node that has already synced with its one peer (a `wikipeer
  serve` of the sample wiki on 127.0.0.1), which has nothing new.

A bare `python -c pass` is timed beside them: the floor no command can go under.

The commands run with compiled bytecode, as an installed wikipeer has (pip writes it): the
bytecode goes to a private PYTHONPYCACHEPREFIX for the run (so the source tree stays
clean, and PYTHONDONTWRITEBYTECODE in the caller's environment does not leave every run
compiling ~60 modules from source, about 0.2 s), and one unmeasured run of each command
fills it.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import servers

TARGET_MS = 150.0
RUNS = 15


_PYCACHE = Path(tempfile.gettempdir()) / f"wikipeer-startup-pycache-{os.getuid()}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _cli(node: Path | None, *args: str) -> list[str]:
    cmd = [sys.executable, "-m", "wikipeer.cli.main"]
    if node is not None:
        cmd += ["--node", str(node)]
    return cmd + list(args)


def median_ms(cmd: list[str], runs: int = RUNS) -> float:
    """Median wall time of ``cmd`` as a process, in milliseconds; a failing run stops the benchmark."""
    return timed(cmd, runs)[0]


def timed(cmd: list[str], runs: int = RUNS) -> tuple[float, float]:
    """Medians of ``cmd``'s wall time and CPU time (user + system), in milliseconds.

    CPU time is the steadier figure on a shared machine: wall time also counts waiting for a core.
    """
    env = _env()
    subprocess.run(cmd, env=env, capture_output=True, check=False)  # fills the bytecode cache
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(cmd, env=env, capture_output=True, check=False)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr.decode(errors='replace')[-2000:]}")
    return statistics.median(walls), statistics.median(cpus)


def run(runs: int = RUNS) -> dict[str, float | str]:
    """Time --version, stats and a no-op sync; figures in ms and their ratio to the target."""
    env = _env()
    results: dict[str, float | str] = {"target (ms)": TARGET_MS}
    with tempfile.TemporaryDirectory(prefix="wikipeer-startup-") as tmp_name:
        tmp = Path(tmp_name)
        source, clone = tmp / "source", tmp / "clone"
        subprocess.run(_cli(source, "init", "--sample"), env=env, check=True, capture_output=True)
        subprocess.run(_cli(clone, "init"), env=env, check=True, capture_output=True)
        commands = {"python -c pass": [sys.executable, "-c", "pass"], "--version": _cli(None, "--version"),
                    "stats": _cli(source, "stats")}
        for name, cmd in commands.items():
            results[f"{name} (ms)"], results[f"{name} CPU (ms)"] = timed(cmd, runs)
        port = servers.free_port()
        url = f"http://127.0.0.1:{port}"
        with servers.running(servers.ours_command(source, port), url + "/api/v1/node", tmp / "serve.log", env=env):
            subprocess.run(_cli(clone, "peer", "add", url), env=env, check=True, capture_output=True)
            subprocess.run(_cli(clone, "sync"), env=env, check=True, capture_output=True)
            results["no-op sync (ms)"], results["no-op sync CPU (ms)"] = timed(_cli(clone, "sync"), runs)
    for key in ("--version (ms)", "stats (ms)", "no-op sync (ms)"):
        results[key.replace("(ms)", "/ target")] = results[key] / TARGET_MS  # type: ignore[operator]
    return results


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:<24} {value:,.3f}" if isinstance(value, float) else f"{name:<24} {value}")
