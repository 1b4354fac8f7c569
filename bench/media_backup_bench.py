"""Media backup benchmark (issue 14): our backups against restic and borgbackup on one media corpus,
and thumbnail latency.

The corpus (seeded, made anew each run): files with the sizes of a Commons-like
image mix (log-normal around 2 MiB for photos, clipped to 20 KiB - 24 MiB; one
in five a small PNG-sized file around 60 KiB). Each is a real JPEG header
followed by random bytes, so every reader takes it for a JPEG and nothing
compresses it, as real JPEG data does not compress. Of the files, 10% are
re-uploads of an earlier file with a small change (a few bytes overwritten at
one place) and 5% exact duplicates of an earlier one (on another page).
``$WIKIPEER_BENCH_MEDIA_MB`` sets the corpus size (default 1024).

The same bytes go into a node (`wikipeer.uploading.upload`, one file page each;
not timed against the others: restic and borg read plain files) and into a
directory of plain files that restic and borg back up. Timed, each tool in turn,
as commands (interpreter start-up included):

1. first backup to a local directory: time, MB/s of corpus bytes, bytes stored;
2. incremental after 5% new files (uploaded, or written to the directory);
3. an unchanged re-run;
4. verify: ``backup verify`` / ``restic check --read-data`` / ``borg check --verify-data``;
5. full restore: ``backup restore --to`` (a node, fsck-clean) / ``restic restore`` / ``borg extract``;
6. one file's restore: ``backup restore --files SHA256`` / ``restic dump`` / ``borg extract PATH``.

Then ours and restic to the same SeaweedFS S3 (``weed mini`` on 127.0.0.1):
first backup and full restore. An unchanged re-run of a 10,000-file node
(small files) is timed against the 2 s target, and the p50 of a first and a
cached thumbnail of a 4000x3000 JPEG through the served node's /thumb/ URL.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from bench import servers
from bench.servers import S3_ENV, Weed
from wikipeer.node import Node
from wikipeer.uploading import upload

CLI = [sys.executable, "-m", "wikipeer.cli.main"]
PASSWORD = "wikipeer-bench-password"
MB = 1 << 20


# -- the corpus -----------------------------------------------------------------------


def _jpeg_head(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (seed % 256, (seed >> 8) % 256, 128)).save(out, "JPEG")
    return out.getvalue()


def _size(rng: random.Random) -> int:
    if rng.random() < 0.2:
        return max(4096, int(rng.lognormvariate(math.log(60 * 1024), 0.6)))
    return min(24 * MB, max(20 * 1024, int(rng.lognormvariate(math.log(2 * MB), 0.7))))


def corpus(total: int, seed: int = 14) -> list[bytes]:
    """Files summing to about ``total`` bytes: 85% new, 10% changed re-uploads, 5% exact duplicates."""
    rng = random.Random(seed)
    files: list[bytes] = []
    size = 0
    while size < total:
        roll = rng.random()
        if files and roll < 0.10:
            data = bytearray(rng.choice(files))
            at = rng.randrange(len(_jpeg_head(0)), len(data))
            data[at:at + 16] = rng.randbytes(min(16, len(data) - at))
            data = bytes(data)
        elif files and roll < 0.15:
            data = rng.choice(files)
        else:
            head = _jpeg_head(len(files))
            data = head + rng.randbytes(max(0, _size(rng) - len(head)))
        files.append(data)
        size += len(data)
    return files


def new_node(node: Path) -> None:
    """An initialised node with wiki 'w'."""
    made = Node.init(node)
    made.wiki("w")
    made.close()


def fill_node(node: Path, files: list[bytes], start: int = 0) -> None:
    """Upload each file to its own page File:Bench-N.jpg."""
    opened = Node.open(node)
    try:
        for n, data in enumerate(files, start):
            upload(opened, "w", f"File:Bench-{n:06d}.jpg", data, "bench", ts=1_000_000 + n)
    finally:
        opened.close()


def write_dir(folder: Path, files: list[bytes], start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(files, start):
        (folder / f"Bench-{n:06d}.jpg").write_bytes(data)


# -- helpers ---------------------------------------------------------------------------


def timed(cmd: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> float:
    """Run a command to its end; its wall time in seconds (it must succeed)."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env={**os.environ, **(env or {})})
    took = time.perf_counter() - started
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return took


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ours(node: Path, *args: str, env: dict[str, str] | None = None) -> float:
    return timed([*CLI, "--node", str(node), "backup", *args, *(["--quiet"] if args[0] in ("run", "verify", "restore") else [])],
                 env)


# -- the three tools -------------------------------------------------------------------


def bench_ours(tmp: Path, files: list[bytes], extra: list[bytes], data_mb: float) -> dict[str, float]:
    node, target = tmp / "node", tmp / "ours-repo"
    new_node(node)
    started = time.perf_counter()
    fill_node(node, files)
    ingest = time.perf_counter() - started
    ours(node, "init", str(target))
    first = ours(node, "run", str(target))
    stored = du(target)
    fill_node(node, extra, len(files))
    before = du(target)
    incremental = ours(node, "run", str(target))
    added = du(target) - before
    unchanged = ours(node, "run", str(target))
    verify = ours(node, "verify", str(target))
    restore = ours(node, "restore", str(target), "--to", str(tmp / "ours-restored"))
    fsck = subprocess.run([*CLI, "--node", str(tmp / "ours-restored"), "fsck"], capture_output=True, text=True)
    one = hashlib.sha256(files[len(files) // 2]).hexdigest()
    single = ours(node, "restore", str(target), "--files", one, "--to", str(tmp / "ours-one"))
    shutil.rmtree(tmp / "ours-restored")
    return {"ingest into the node s": ingest, "first backup s": first, "first backup MB/s": data_mb / first,
            "bytes stored MB": stored / MB, "incremental (5% new) s": incremental, "incremental bytes MB": added / MB,
            "unchanged re-run s": unchanged, "verify s": verify, "verify MB/s": data_mb / verify,
            "full restore s": restore, "full restore MB/s": data_mb / restore, "one file restore s": single,
            "restored node fsck clean": float("no faults" in fsck.stdout)}


def bench_restic(tmp: Path, files: list[bytes], extra: list[bytes], data_mb: float) -> dict[str, float]:
    folder, repo = tmp / "corpus", tmp / "restic-repo"
    env = {"RESTIC_PASSWORD": PASSWORD, "RESTIC_REPOSITORY": str(repo), "RESTIC_CACHE_DIR": str(tmp / "restic-cache")}
    timed(["restic", "init"], env)
    first = timed(["restic", "backup", "--quiet", str(folder)], env)
    stored = du(repo)
    write_dir(folder, extra, len(files))
    incremental = timed(["restic", "backup", "--quiet", str(folder)], env)
    added = du(repo) - stored
    unchanged = timed(["restic", "backup", "--quiet", str(folder)], env)
    verify = timed(["restic", "check", "--read-data"], env)
    restore = timed(["restic", "restore", "latest", "--target", str(tmp / "restic-restored")], env)
    name = folder / f"Bench-{len(files) // 2:06d}.jpg"
    with open(tmp / "restic-one", "wb") as out:
        started = time.perf_counter()
        subprocess.run(["restic", "dump", "latest", str(name)], stdout=out, check=True, env={**os.environ, **env})
        single = time.perf_counter() - started
    shutil.rmtree(tmp / "restic-restored")
    return {"first backup s": first, "first backup MB/s": data_mb / first, "bytes stored MB": stored / MB,
            "incremental (5% new) s": incremental, "incremental bytes MB": added / MB,
            "unchanged re-run s": unchanged, "verify s": verify, "verify MB/s": data_mb / verify,
            "full restore s": restore, "full restore MB/s": data_mb / restore, "one file restore s": single}


def bench_borg(tmp: Path, files: list[bytes], data_mb: float, extra_count: int) -> dict[str, float]:
    folder, repo = tmp / "corpus", tmp / "borg-repo"
    # The corpus directory already holds the 5% extra files: back up the first ones, then all.
    env = {"BORG_PASSPHRASE": PASSWORD, "BORG_BASE_DIR": str(tmp / "borg-home"), "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes"}
    first_names = [f"Bench-{n:06d}.jpg" for n in range(len(files))]
    timed(["borg", "init", "--encryption", "repokey-blake2", str(repo)], env)
    list_file = tmp / "borg-first.txt"
    list_file.write_text("".join(f"{folder / n}\n" for n in first_names))
    first = _borg_create(repo, "first", list_file, env)
    stored = du(repo)
    incremental = timed(["borg", "create", f"{repo}::second", str(folder)], env)
    added = du(repo) - stored
    unchanged = timed(["borg", "create", f"{repo}::third", str(folder)], env)
    verify = timed(["borg", "check", "--verify-data", str(repo)], env)
    out = tmp / "borg-restored"
    out.mkdir()
    started = time.perf_counter()
    subprocess.run(["borg", "extract", f"{repo}::third"], cwd=out, check=True, capture_output=True,
                   env={**os.environ, **env})
    restore = time.perf_counter() - started
    one = str(folder / f"Bench-{len(files) // 2:06d}.jpg").lstrip("/")
    started = time.perf_counter()
    subprocess.run(["borg", "extract", "--stdout", f"{repo}::third", one], check=True, capture_output=True,
                   env={**os.environ, **env})
    single = time.perf_counter() - started
    shutil.rmtree(out)
    return {"first backup s": first, "first backup MB/s": data_mb / first, "bytes stored MB": stored / MB,
            "incremental (5% new) s": incremental, "incremental bytes MB": added / MB,
            "unchanged re-run s": unchanged, "verify s": verify, "verify MB/s": data_mb / verify,
            "full restore s": restore, "full restore MB/s": data_mb / restore, "one file restore s": single}


def _borg_create(repo: Path, name: str, list_file: Path, env: dict[str, str]) -> float:
    """`borg create --paths-from-stdin` of the first files only (the incremental's 5% come after)."""
    started = time.perf_counter()
    with open(list_file, "rb") as names:
        proc = subprocess.run(["borg", "create", "--paths-from-stdin", f"{repo}::{name}"], stdin=names,
                              capture_output=True, env={**os.environ, **env})
    if proc.returncode != 0:
        raise RuntimeError(f"borg create exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


# -- S3 ---------------------------------------------------------------------------------


def bench_s3(tmp: Path, data_mb: float) -> dict[str, float]:
    """Ours and restic to one SeaweedFS: first backup (of the whole node / corpus) and full restore."""
    (tmp / "weed").mkdir()
    with Weed(tmp / "weed", bucket="bench") as weed:
        env = weed.env
        node = tmp / "node"
        subprocess.run([*CLI, "--node", str(node), "backup", "init", "s3://bench/ours"], check=True,
                       capture_output=True, env={**os.environ, **env})
        first = ours(node, "run", "s3://bench/ours", env=env)
        restore = ours(node, "restore", "s3://bench/ours", "--to", str(tmp / "s3-restored"), env=env)
        shutil.rmtree(tmp / "s3-restored")
        renv = {**S3_ENV, "RESTIC_PASSWORD": PASSWORD, "RESTIC_REPOSITORY": f"s3:{weed.endpoint}/bench/restic",
                "RESTIC_CACHE_DIR": str(tmp / "restic-cache-s3")}
        timed(["restic", "init"], renv)
        rfirst = timed(["restic", "backup", "--quiet", str(tmp / "corpus")], renv)
        rrestore = timed(["restic", "restore", "latest", "--target", str(tmp / "restic-s3-restored")], renv)
        shutil.rmtree(tmp / "restic-s3-restored")
    return {"ours to S3: first backup MB/s": data_mb / first, "ours to S3: full restore MB/s": data_mb / restore,
            "restic to S3: first backup MB/s": data_mb / rfirst, "restic to S3: full restore MB/s": data_mb / rrestore}


# -- 10,000 small files, and thumbnails ----------------------------------------------------------


def bench_many(tmp: Path, count: int = 10_000) -> dict[str, float]:
    """An unchanged re-run of a node holding ``count`` small files (median of 3)."""
    rng = random.Random(10)
    files = [_jpeg_head(n) + rng.randbytes(rng.randrange(2000, 30000)) for n in range(count)]
    node, target = tmp / "many-node", tmp / "many-repo"
    new_node(node)
    fill_node(node, files)
    ours(node, "init", str(target))
    first = ours(node, "run", str(target))
    reruns = [ours(node, "run", str(target)) for _ in range(3)]
    return {f"{count} small files: first backup s": first,
            f"{count} small files: unchanged re-run s (median of 3)": statistics.median(reruns)}


def bench_thumbs(tmp: Path) -> dict[str, float]:
    """p50 of first and cached thumbnails of a 4000x3000 JPEG through /thumb/w/WIDTH/NAME."""
    node = tmp / "thumb-node"
    new_node(node)
    rng = random.Random(3)
    img = Image.effect_noise((1000, 750), 60).convert("RGB").resize((4000, 3000))
    img = Image.blend(img, Image.linear_gradient("L").convert("RGB").resize((4000, 3000)), 0.5)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    opened = Node.open(node)
    try:
        upload(opened, "w", "File:Big photo.jpg", out.getvalue(), "4000x3000", ts=1000)
    finally:
        opened.close()
    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    widths = rng.sample(range(120, 1600), 15)
    with servers.running(servers.ours_command(node, port), base + "/status", tmp / "thumb-serve.log"):
        with httpx.Client(base_url=base, timeout=120) as client:
            first, cached = [], []
            for width in widths:
                started = time.perf_counter()
                assert client.get(f"/thumb/w/{width}/Big_photo.jpg").status_code == 200
                first.append((time.perf_counter() - started) * 1000)
            for _ in range(5):
                for width in widths:
                    started = time.perf_counter()
                    assert client.get(f"/thumb/w/{width}/Big_photo.jpg").status_code == 200
                    cached.append((time.perf_counter() - started) * 1000)
    return {"thumbnail of 4000x3000 JPEG: first p50 ms": pct(first, 0.5),
            "thumbnail of 4000x3000 JPEG: cached p50 ms": pct(cached, 0.5), "JPEG size MB": len(out.getvalue()) / MB}


def run() -> dict[str, float]:
    total = int(float(os.environ.get("WIKIPEER_BENCH_MEDIA_MB", "1024")) * MB)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="wikipeer-media-bench-") as name:
        tmp = Path(name)
        files = corpus(total)
        extra = corpus(total // 20, seed=15)[: max(1, len(files) // 20)]
        data_mb = sum(map(len, files)) / MB
        results.update({"corpus files": len(files), "corpus MB": data_mb,
                        "distinct MB (duplicates once)": sum(len(d) for d in {hashlib.sha256(f).digest(): f
                                                                             for f in files}.values()) / MB})
        print(f"  corpus: {len(files)} files, {data_mb:.0f} MB; 5% more: {len(extra)} files", flush=True)
        write_dir(tmp / "corpus", files)
        for tool, fn in (("ours", lambda: bench_ours(tmp, files, extra, data_mb)),
                         ("restic", lambda: bench_restic(tmp, files, extra, data_mb)),
                         ("borg", lambda: bench_borg(tmp, files, data_mb, len(extra)))):
            print(f"  {tool} ...", flush=True)
            results.update({f"{tool}: {k}": v for k, v in fn().items()})
        print("  S3 ...", flush=True)
        results.update(bench_s3(tmp, data_mb))
        shutil.rmtree(tmp / "corpus")
        print("  10,000 small files ...", flush=True)
        results.update(bench_many(tmp, int(os.environ.get("WIKIPEER_BENCH_MEDIA_FILES", "10000"))))
        print("  thumbnails ...", flush=True)
        results.update(bench_thumbs(tmp))
    for key in ("first backup MB/s", "full restore MB/s"):
        results[f"ours / restic: {key}"] = results[f"ours: {key}"] / results[f"restic: {key}"]
    results["ours / restic: bytes stored"] = results["ours: bytes stored MB"] / results["restic: bytes stored MB"]
    return results
