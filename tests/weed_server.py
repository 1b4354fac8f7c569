"""A real SeaweedFS for the tests that need S3: bench/servers.py's `weed mini` starter (its S3 gateway on random
127.0.0.1 ports, bucket "wikipeer" made), with a start that fails the test instead of raising. Shared by the
backup tests and the S3 blob store tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import servers  # noqa: E402
from bench.servers import S3_ENV, WeedStartError  # noqa: E402, F401 - S3_ENV: the tests' credentials


class Weed(servers.Weed):
    """bench's SeaweedFS, whose failure to start fails the test with the server's log."""

    def start(self, timeout: float = 60.0) -> None:
        try:
            super().start(timeout)
        except WeedStartError as error:
            pytest.fail(str(error))


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
