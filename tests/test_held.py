"""Held blocks sent by callers of a real `wikipeer serve`: bounded per caller address (not per
name the caller gives itself), bounded in total across addresses, expired after a while, and
counted by `wikipeer stats`.

The bounds are lowered in the node's config.json so that a few hundred KB show what
hundreds of MB would.
"""

from __future__ import annotations

import base64
import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, start_server, stop_server, store_db
from signed_calls import new_signer, node_key, signed
from starlette.requests import Request

from wikipeer.model.cid import cid_to_str
from wikipeer.model.objects import build_text
from wikipeer.net import rpc
from wikipeer.net.server import caller_source
from wikipeer.net.wire import CAR_ZSTD, NODE_HEADER, car_chunks

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL

PER_CALLER = 64 * 1024
TOTAL = 160 * 1024
UPLOAD = 20  # orphan texts of 1 KB each: 20 KB held per upload


@pytest.fixture
def served(node_dir: Path):
    config = json.loads((node_dir / "config.json").read_text())
    config.update(max_held_bytes=PER_CALLER, max_held_total_bytes=TOTAL, held_days=1)
    (node_dir / "config.json").write_text(json.dumps(config))
    proc, client = start_server(node_dir)
    yield node_dir, client.base_url
    stop_server(proc, client)


_rng = random.Random(11)


def orphans(count: int = UPLOAD) -> list:
    """Texts no revision uses: each one is held, waiting for a revision that never comes."""
    return [build_text(_rng.randbytes(512).hex()) for _ in range(count)]


def caller(base_url, address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (one of 127.0.0.0/8)."""
    return httpx.Client(base_url=base_url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def upload(client: httpx.Client, blocks: list, name: str) -> httpx.Response:
    """An upload signed by a node key of its own (``name`` is the old hint, which proves nothing)."""
    request = signed(client, new_signer(), node_key(client), "POST", "/api/v1/car",
                     content=b"".join(car_chunks(blocks)), headers={"content-type": CAR_ZSTD, NODE_HEADER: name})
    return client.send(request)


def held(node_dir: Path) -> dict[str, tuple[int, int]]:
    with store_db(node_dir) as conn:
        rows = conn.execute("SELECT source, count(*), sum(length(data)) FROM held GROUP BY source")
        return {source: (count, size) for source, count, size in rows}


def test_one_address_cannot_hold_more_by_calling_itself_other_names(served):
    node_dir, base = served
    with caller(base, "127.0.0.2") as client:
        for i in range(3):  # 60 KB: under the bound, whatever names it gives
            answer = upload(client, orphans(), f"name-{i}")
            assert answer.status_code == 200 and answer.json()["held"] == UPLOAD, answer.text
        refused = upload(client, orphans(), "yet-another-name")
        assert refused.status_code == 413
        assert "caller:127.0.0.2 would leave" in refused.json()["error"]
        assert f"at most 100000 objects and {PER_CALLER} bytes" in refused.json()["error"]
        # The JSON-RPC door counts against the same address, whatever id the call carries.
        wire = [{"cid": cid_to_str(b.cid), "data": base64.b64encode(b.data).decode()} for b in orphans()]
        answer = client.post("/rpc", json={"jsonrpc": "2.0", "method": "submit", "params": [wire], "id": "fresh"})
        assert answer.json()["error"]["code"] == rpc.OVER_LIMIT
        assert "caller:127.0.0.2 would leave" in answer.json()["error"]["message"]
    count, size = held(node_dir)["caller:127.0.0.2"]
    assert count == 3 * UPLOAD and size <= PER_CALLER  # nothing of the refused uploads was kept
    # Another address has its own allowance.
    with caller(base, "127.0.0.3") as client:
        assert upload(client, orphans(), "name-0").status_code == 200


def test_many_addresses_together_stay_under_the_total(served):
    """Ten callers at once: the bound is checked inside each upload's write transaction, so none slips past."""
    node_dir, base = served

    def one(n: int) -> httpx.Response:  # 20 KB from each of ten addresses, 200 KB against a 160 KB total
        with caller(base, f"127.0.0.{n}") as client:
            return upload(client, orphans(), "peer")

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(one, range(2, 12)))
    refused = [a for a in answers if a.status_code == 413]
    assert all(a.status_code == 200 for a in answers if a not in refused), [a.text for a in answers]
    assert len(refused) == 10 - TOTAL // (UPLOAD * 1024)
    assert all("callers may not take it past" in a.json()["error"] for a in refused)
    assert sum(size for _, size in held(node_dir).values()) <= TOTAL


@pytest.mark.parametrize("host, source", [
    ("127.0.0.2", "caller:127.0.0.2"), ("::ffff:10.1.2.3", "caller:10.1.2.3"),
    ("2001:db8:1:2:aaaa::1", "caller:2001:db8:1:2::/64"), ("2001:db8:1:2:bbbb::9", "caller:2001:db8:1:2::/64"),
    ("testclient", "caller:testclient"),
])
def test_a_caller_is_its_address_and_an_ipv6_caller_its_64(host, source):
    request = Request({"type": "http", "client": (host, 5000), "headers": [(NODE_HEADER.encode(), b"chosen")]})
    assert caller_source(request) == source


def test_held_blocks_expire_and_stats_count_them(served):
    node_dir, base = served
    with caller(base, "127.0.0.2") as client:
        assert upload(client, orphans(), "a").status_code == 200
    with caller(base, "127.0.0.3") as client:
        assert upload(client, orphans(5), "b").status_code == 200
    stats = run_cli(node_dir, "stats")
    assert stats.code == 0, str(stats)
    assert f"held (waiting for what has not come): {UPLOAD + 5} objects" in stats.out
    lines = [line.split() for line in stats.out.splitlines() if line.strip().startswith("caller:")]
    assert [(line[0], int(line[1])) for line in lines] == [("caller:127.0.0.2", UPLOAD), ("caller:127.0.0.3", 5)]
    # A day and a minute later (held_days is 1 here), the next write forgets them.
    with store_db(node_dir) as conn:
        conn.execute("UPDATE held SET held_at = held_at - 86460 WHERE source = 'caller:127.0.0.2'")
    with caller(base, "127.0.0.4") as client:
        assert upload(client, orphans(1), "c").status_code == 200
    assert held(node_dir).keys() == {"caller:127.0.0.3", "caller:127.0.0.4"}


@pytest.mark.parametrize("setting", [{"max_held_bytes": "lots"}, {"held_days": -1}, {"max_held": True}])
def test_a_bad_held_setting_is_a_clear_error(node_dir, setting):
    config = json.loads((node_dir / "config.json").read_text())
    (node_dir / "config.json").write_text(json.dumps({**config, **setting}))
    result = run_cli(node_dir, "edit", "w", "Page", "-m", "first", input="Some text.\n")
    assert result.code == 2 and "Traceback" not in result.err, str(result)
    assert "config.json: max_held, max_held_bytes" in result.err and "must be positive numbers" in result.err
