"""A million-page node (issue 15, item 7): import, serve and clone a synthetic Wikipedia.

The wiki: bench/synthetic_wiki.py, SCALE pages (default 1,000,000; set the
SCALE environment variable or pass it to ``python -m bench.million_bench``
to run at 10,000 or 100,000), written once as a multistream bz2 dump under
MILLION_DIR (default /tmp/million) and reused while the generator's source
is unchanged. Then, as a user would, one after the other:

1. ``wikipeer import --quiet`` of the bz2 dump into an empty node, as a
   subprocess under ``/usr/bin/time -v``: wall time, peak RSS (time's
   "maximum resident set size": the largest of the import process and the
   children it waited for), and every 15 s the revisions in the store (read
   from a second, read-only connection) for the rates along the way;
2. the store's size on disk (every file of the node) against the bz2 file;
3. ``wikipeer serve`` (one uvicorn worker): the first view of SAMPLE
   articles chosen by a fixed seed (filling the render cache, p50/p99 of
   those first views), then wrk cycling through them (8 connections, 2 s
   warm-up, 10 s timed: p50/p99 of cached views, as web_bench measures);
   search: a fixed set of queries (words of every frequency, title words,
   phrases), one untimed and SEARCH_REPEATS (default 3) timed requests each
   (p50/p99);
4. a full clone: a second node, ``wikipeer peer add``, ``wikipeer sync
   --pull`` timed whole, with the revisions in the clone polled every 15 s;
   bytes from the sync's report line.

MILLION_DEADLINE (HH:MM, UTC) stops the clone when it is reached, and the
import MILLION_IMPORT_MARGIN seconds (default 600) before it, leaving time for
views and search (SIGINT to
its process group: both stop safely and resume later),
and the figures then say how far it got, at what rate, and what the rate
gives for the rest (an extrapolation, labelled as one).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from bench import servers, synthetic_wiki, web_bench
from bench.web_bench import our_hits, pct, time_queries

SCALE = int(os.environ.get("SCALE", "1000000"))
OUT = Path(os.environ.get("MILLION_DIR", "/tmp/million"))
SEED = 1
SAMPLE = int(os.environ.get("VIEW_SAMPLE", "2000"))  # articles whose cached views are timed
POLL_S = 15.0
WRK_SECONDS, WRK_WARMUP_SECONDS, WRK_CONNECTIONS = 10, 2, 8

TARGETS = {"import s": 3600, "peak RSS MB": 1000, "store / bz2": 1.0, "view p50 ms": 2.0, "search p50 ms": 50.0}


def say(text: str) -> None:
    """A line of the run's log, flushed at once (the run may be cut off)."""
    print(f"  [{time.strftime('%H:%M:%S', time.gmtime())}] {text}", flush=True)


# An import still running this long before the deadline is stopped: views and search need the time.
IMPORT_MARGIN_S = float(os.environ.get("MILLION_IMPORT_MARGIN", "600"))
SEARCH_REPEATS = int(os.environ.get("SEARCH_REPEATS", "3"))  # timed requests per query, after one untimed


def deadline() -> float | None:
    """MILLION_DEADLINE as a Unix time (UTC, within the next 12 hours), or None."""
    text = os.environ.get("MILLION_DEADLINE")
    if not text:
        return None
    hour, minute = map(int, text.split(":"))
    now = datetime.now(timezone.utc)
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at < now - timedelta(hours=12):  # 00:15 said at 23:30 is tomorrow's
        at += timedelta(days=1)
    return at.timestamp()


PY_SPY = Path(sys.executable).with_name("py-spy")


def profiled(cmd: list[str], name: str) -> list[str]:
    """``cmd`` under py-spy (collapsed stacks into MILLION_PROFILE/name.txt) when MILLION_PROFILE is set."""
    folder = os.environ.get("MILLION_PROFILE")
    if not folder:
        return cmd
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [str(PY_SPY), "record", "--subprocesses", "--rate", "50", "--format", "raw", "--nonblocking",
            "-o", str(Path(folder) / f"{name}.txt"), "--", *cmd]


def _cli(node: Path) -> list[str]:
    return [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]


# -- the dump -------------------------------------------------------------------


def the_dump(pages: int) -> tuple[synthetic_wiki.DumpInfo, float | None]:
    """The synthetic dump of ``pages`` pages, and the seconds it took to write (None if reused)."""
    path = OUT / f"synth-{pages}-s{SEED}.xml.bz2"
    info = synthetic_wiki.existing_dump(path, pages, SEED)
    if info is not None:
        return info, None
    say(f"writing the synthetic dump of {pages:,} pages to {path} ...")
    start = time.perf_counter()
    info = synthetic_wiki.write_dump(path, pages, SEED, jobs=2)
    return info, time.perf_counter() - start


# -- watching a long command -------------------------------------------------------


@dataclass(slots=True)
class Watched:
    """A command that ran (or was stopped), and the revisions seen in a store along the way."""

    seconds: float
    returncode: int
    output: str
    stopped: bool  # by the deadline
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, revisions)


def revisions_in(node: Path) -> int:
    """Revisions stored so far, read while another process writes."""
    try:
        conn = sqlite3.connect(f"file:{node / 'store.sqlite'}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return 0
    try:
        return conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def watch(cmd: list[str], store: Path, label: str, log: Path, margin_s: float = 0) -> Watched:
    """Run ``cmd``, polling ``store``'s revisions; stop it with SIGINT ``margin_s`` before MILLION_DEADLINE."""
    end = deadline()
    end = None if end is None else end - margin_s
    samples: list[tuple[float, int]] = []
    start = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    stopped = False
    try:
        while proc.poll() is None:
            try:
                proc.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.perf_counter() - start
            revs = revisions_in(store)
            samples.append((elapsed, revs))
            rate = revs / elapsed if elapsed else 0
            say(f"{label}: {revs:,} revisions after {elapsed:,.0f} s ({rate:,.0f}/s)")
            if end is not None and time.time() >= end and proc.poll() is None:
                say(f"{label}: deadline reached, stopping it (SIGINT)")
                stopped = True
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    except BaseException:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait()
        raise
    seconds = time.perf_counter() - start
    samples.append((seconds, revisions_in(store)))
    return Watched(seconds, proc.returncode, log.read_text(errors="replace"), stopped, samples)


def rates(samples: list[tuple[float, int]]) -> str:
    """Revisions per second over each fifth of the run: does the rate hold as the store grows?"""
    if len(samples) < 6:
        return ""
    out, step = [], max(1, len(samples) // 5)
    for a in range(0, len(samples) - step, step):
        (t0, r0), (t1, r1) = samples[a], samples[min(a + step, len(samples) - 1)]
        out.append(f"{r0:,}-{r1:,}: {(r1 - r0) / max(t1 - t0, 1e-9):,.0f}/s")
    return "; ".join(out)


def _time_v(output: str, field_name: str) -> str | None:
    m = re.search(rf"^\s*{re.escape(field_name)}: (.+)$", output, re.MULTILINE)
    return m.group(1).strip() if m else None


# -- 1, 2: import and size ------------------------------------------------------------


def run_import(info: synthetic_wiki.DumpInfo, node: Path, results: dict, targets: list) -> bool:
    """Import the dump; True when every page is in."""
    subprocess.run([*_cli(node), "init"], check=True, capture_output=True)
    # --wait-index: the time to a node whose search works, as the issue measures it (the index included).
    command = [*_cli(node), "import", "--quiet", "--wait-index", str(info.path)]
    cmd = ["/usr/bin/time", "-v", *profiled(command, f"import-{info.pages}")]
    say(f"importing {info.path.name} ({info.bz2_bytes / 1e6:,.0f} MB bz2, {info.xml_bytes / 1e6:,.0f} MB XML) ...")
    run = watch(cmd, node, "import", OUT / f"import-{info.pages}.log", IMPORT_MARGIN_S)
    revisions = run.samples[-1][1]
    rss_kb = _time_v(run.output, "Maximum resident set size (kbytes)")
    rss_mb = int(rss_kb) / 1024 if rss_kb else float("nan")
    complete = run.returncode == 0 and not run.stopped
    say(f"import: {'done' if complete else 'NOT complete'} (exit {run.returncode}), {revisions:,} revisions "
        f"in {run.seconds:,.0f} s; peak RSS {rss_mb:,.0f} MB")
    summary = [line for line in run.output.splitlines() if line.startswith(("imported", "wikipeer:"))]
    for line in summary:
        say(f"  {line}")
    if rates(run.samples):
        say(f"import rates along the way: {rates(run.samples)}")
    results.update({
        "import complete": int(complete),
        "import s": run.seconds,
        "import revisions": revisions,
        "import revisions/s": revisions / run.seconds,
        "import MB/s (XML)": info.xml_bytes * revisions / info.pages / 1e6 / run.seconds,
        "import MB/s (bz2)": info.bz2_bytes * revisions / info.pages / 1e6 / run.seconds,
        "import peak RSS MB": rss_mb,
        "import user+sys CPU s": sum(float(_time_v(run.output, k) or 0) for k in
                                     ("User time (seconds)", "System time (seconds)")),
    })
    if complete:
        targets.append(("import within 1 hour", f"{run.seconds / 60:,.1f} min", run.seconds <= TARGETS["import s"]))
    else:
        whole = run.seconds * info.pages / max(revisions, 1)
        results["import s for all pages (EXTRAPOLATED at the mean rate)"] = whole
        targets.append(("import within 1 hour", f"stopped at {revisions:,}/{info.pages:,}; extrapolated "
                        f"{whole / 60:,.0f} min", whole <= TARGETS["import s"]))
    targets.append(("import peak RSS <= 1 GB", f"{rss_mb:,.0f} MB", rss_mb <= TARGETS["peak RSS MB"]))
    size = sum(p.stat().st_size for p in node.rglob("*") if p.is_file())
    store = (node / "store.sqlite").stat().st_size
    results.update({
        "bz2 dump MB": info.bz2_bytes / 1e6,
        "XML MB": info.xml_bytes / 1e6,
        "node on disk MB": size / 1e6,
        "store.sqlite MB": store / 1e6,
        "node / bz2 dump": size / info.bz2_bytes,
        "node bytes per page": size / max(revisions, 1),
    })
    label = "" if complete else f" (at {revisions:,} pages: against that share of the dump)"
    ratio = size / (info.bz2_bytes * max(revisions, 1) / info.pages)
    results["node / bz2 (share imported)"] = ratio
    targets.append(("store no larger than the bz2 dump", f"{ratio:.2f}x{label}", ratio <= TARGETS["store / bz2"]))
    say(f"node on disk: {size / 1e6:,.0f} MB, store.sqlite {store / 1e6:,.0f} MB; bz2 {info.bz2_bytes / 1e6:,.0f} MB; "
        f"{ratio:.2f}x{label}")
    return complete


# -- 3: views and search ----------------------------------------------------------------


def sample_urls(shape: synthetic_wiki.Shape, wiki: str, count: int, imported: int) -> list[str]:
    """``count`` article URLs chosen by a fixed seed among the first ``imported`` pages."""
    rng = random.Random(f"views-{shape.seed}")
    urls: dict[str, None] = {}
    while len(urls) < min(count, shape.articles):
        i = shape.article_index(rng.randrange(shape.articles))
        if i < imported:
            title = synthetic_wiki.full_title(shape, i).replace(" ", "_")
            urls.setdefault(f"/wiki/{quote(wiki)}/{quote(title)}", None)
    return list(urls)


def queries(shape: synthetic_wiki.Shape) -> list[str]:
    """Words of every frequency band, title words, and two-word phrases: the same for a seed."""
    w = synthetic_wiki.words(shape.seed)
    rng = random.Random(f"queries-{shape.seed}")
    out = [w.prose[r] for r in (0, 3, 10, 30, 100, 300, 1000, 3000, 10000, 25000)]
    out += [f"{w.prose[rng.randrange(50)]} {w.prose[rng.randrange(50, 2000)]}" for _ in range(4)]
    out += [synthetic_wiki.page_title(shape, shape.article_index(rng.randrange(shape.articles)))[1].split(" ")[0]
            for _ in range(4)]
    out += [synthetic_wiki.page_title(shape, shape.article_index(rng.randrange(shape.articles)))[1]
            for _ in range(2)]
    return out


def first_views(base: str, urls: list[str]) -> tuple[list[float], int]:
    import httpx

    seconds, bad = [], 0
    with httpx.Client(base_url=base, timeout=120) as client:
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            seconds.append(time.perf_counter() - start)
            bad += response.status_code != 200
    return seconds, bad


def attach_profiler(pid: int, name: str) -> subprocess.Popen | None:
    """py-spy on a running server (MILLION_PROFILE set) until it is stopped with SIGINT."""
    folder = os.environ.get("MILLION_PROFILE")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([str(PY_SPY), "record", "--pid", str(pid), "--rate", "100", "--format", "raw",
                             "--nonblocking", "-o", str(Path(folder) / f"{name}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def detach_profiler(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def views_and_search(base: str, shape: synthetic_wiki.Shape, wiki: str, imported: int, results: dict,
                     targets: list, server_pid: int) -> None:
    urls = sample_urls(shape, wiki, SAMPLE, imported)
    say(f"first views of {len(urls):,} articles (filling the render cache) ...")
    seconds, bad = first_views(base, urls)
    ms = [s * 1000 for s in seconds]
    results.update({"view sample (articles)": len(urls), "first views not 200": bad,
                    "first view p50 ms": pct(ms, 0.5), "first view p99 ms": pct(ms, 0.99)})
    say(f"first views: p50 {pct(ms, 0.5):.1f} ms, p99 {pct(ms, 0.99):.1f} ms, {bad} not 200")
    paths = OUT / f"paths-{shape.pages}.txt"
    paths.write_text("".join(u + "\n" for u in urls))
    servers.wrk(base, paths, WRK_WARMUP_SECONDS, WRK_CONNECTIONS)
    profiler = attach_profiler(server_pid, f"views-{shape.pages}")
    view = servers.wrk(base, paths, WRK_SECONDS, WRK_CONNECTIONS)
    detach_profiler(profiler)
    results.update({"cached views/s": view.requests_per_s, "cached view p50 ms": view.p50_ms,
                    "cached view p99 ms": view.p99_ms, "cached views bad responses": view.bad})
    say(f"cached views (wrk, {WRK_CONNECTIONS} connections): {view.requests_per_s:,.0f}/s, p50 {view.p50_ms:.2f} ms, "
        f"p99 {view.p99_ms:.2f} ms, {view.bad} bad")
    targets.append(("cached view p50 <= 2 ms", f"{view.p50_ms:.2f} ms (p99 {view.p99_ms:.2f})",
                    view.p50_ms <= TARGETS["view p50 ms"]))
    qs = queries(shape)
    profiler = attach_profiler(server_pid, f"search-{shape.pages}")
    web_bench.SEARCH_REPEATS = SEARCH_REPEATS  # time_queries reads it when called
    latencies, hits = time_queries(base, [("/search", {"q": q}) for q in qs], our_hits, "search")
    detach_profiler(profiler)
    results.update({"search queries": len(qs), "queries with hits": sum(h > 0 for h in hits),
                    "search p50 ms": pct(latencies, 0.5), "search p99 ms": pct(latencies, 0.99)})
    say(f"search: {len(qs)} queries, {sum(h > 0 for h in hits)} with hits; p50 {pct(latencies, 0.5):.1f} ms, "
        f"p99 {pct(latencies, 0.99):.1f} ms")
    for q, h in zip(qs, hits):
        say(f"  {q!r}: {h} hits")
    targets.append(("search p50 <= 50 ms", f"{pct(latencies, 0.5):.1f} ms (p99 {pct(latencies, 0.99):.1f})",
                    pct(latencies, 0.5) <= TARGETS["search p50 ms"]))


# -- 4: clone -------------------------------------------------------------------------------


def clone(url: str, clone_dir: Path, source_revisions: int, results: dict, targets: list) -> None:
    cli = _cli(clone_dir)
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    subprocess.run([*cli, "peer", "add", url], check=True, capture_output=True)
    say(f"cloning {source_revisions:,} revisions (wikipeer sync --pull) ...")
    run = watch([*cli, "sync", "--pull", "--wait-index", url], clone_dir, "clone", OUT / f"clone-{SCALE}.log")
    got = run.samples[-1][1]
    complete = run.returncode == 0 and not run.stopped and got >= source_revisions
    results.update({"clone complete": int(complete), "clone s": run.seconds, "clone revisions": got,
                    "clone revisions/s": got / run.seconds})
    m = re.search(r"(\d+) requests, (\d+) bytes in, (\d+) out", run.output)
    if m:
        results.update({"clone requests": int(m.group(1)), "clone MB in": int(m.group(2)) / 1e6,
                        "clone MB out": int(m.group(3)) / 1e6})
    size = sum(p.stat().st_size for p in clone_dir.rglob("*") if p.is_file())
    results["clone node on disk MB"] = size / 1e6
    say(f"clone: {'done' if complete else 'NOT complete'} (exit {run.returncode}), {got:,} revisions in "
        f"{run.seconds:,.0f} s ({got / run.seconds:,.0f}/s); {run.output.strip().splitlines()[-1:] }")
    if rates(run.samples):
        say(f"clone rates along the way: {rates(run.samples)}")
    if not complete:
        whole = run.seconds * source_revisions / max(got, 1)
        results["clone s for all (EXTRAPOLATED at the mean rate)"] = whole
        targets.append(("full clone (no target; figure)", f"stopped at {got:,}/{source_revisions:,}; extrapolated "
                        f"{whole / 60:,.0f} min", False))
    else:
        targets.append(("full clone (no target; figure)", f"{run.seconds / 60:,.1f} min", True))


# -- the run ---------------------------------------------------------------------------------


def run(scale: int | None = None) -> dict[str, float]:
    """The whole benchmark at ``scale`` pages (default SCALE)."""
    pages = scale or SCALE
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, float] = {"pages": pages}
    targets: list[tuple[str, str, bool]] = []
    started = time.perf_counter()
    info, gen_s = the_dump(pages)
    if gen_s is not None:
        results.update({"dump written s": gen_s, "dump written MB/s (XML)": info.xml_bytes / 1e6 / gen_s})
        say(f"dump written in {gen_s:,.0f} s ({info.xml_bytes / 1e6 / gen_s:,.1f} MB/s of XML)")
    results.update({"XML / bz2": info.xml_bytes / info.bz2_bytes})
    run_dir = OUT / f"run-{pages}"
    if run_dir.exists():
        subprocess.run(["rm", "-rf", str(run_dir)], check=True)
    run_dir.mkdir(parents=True)
    node, clone_dir = run_dir / "node", run_dir / "clone"
    run_import(info, node, results, targets)
    imported = int(results["import revisions"])
    shape = synthetic_wiki.Shape(pages, SEED)
    if imported:
        port = servers.free_port()
        base = f"http://127.0.0.1:{port}"
        say("serving the node (wikipeer serve) ...")
        # Searches from one address would soon meet the search rate limit (60 a minute): off, as for a
        # node serving many readers behind a proxy that spreads them
        serve = [*servers.ours_command(node, port), "--rate-limit", "search=off"]
        with servers.running(serve, base + "/api/v1/node", run_dir / "serve.log") as server:
            views_and_search(base, shape, "synthwiki", imported, results, targets, server.pid)
            clone(base, clone_dir, imported, results, targets)
    results["benchmark s"] = time.perf_counter() - started
    print("\n  | target | figure | met |\n  |---|---|---|")
    for name, figure, met in targets:
        print(f"  | {name} | {figure} | {'yes' if met else 'no'} |")
    (OUT / f"results-{pages}.json").write_text(json.dumps(results, indent=1))
    return results


def main(argv: list[str]) -> int:
    """python -m bench.million_bench [PAGES]"""
    results = run(int(argv[0]) if argv else None)
    print(f"\n## A synthetic wiki of {int(results['pages']):,} pages: import, serve, clone (issue 15)")
    for key, value in results.items():
        print(f"  {key:<48} {value:,.3f}" if isinstance(value, float) else f"  {key:<48} {value:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
