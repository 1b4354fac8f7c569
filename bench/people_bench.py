"""People by name (issue 16, item 2): what naming authors costs a history page and an api.php answer.

One page with 500 revisions by 20 keys from elsewhere (no local name; the names come from the fallback
fingerprint after a profile lookup), served in-process through the app (Starlette's test client): the
median wall time of ``?action=history&limit=500`` and of ``prop=revisions&rvprop=user|ids&rvlimit=500``.
Run it with PYTHONPATH pointing at the tree to measure (main, then the branch) to compare.

    PYTHONPATH=src python -m bench.people_bench
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from nacl.signing import SigningKey

from wikipeer.authoring import edit, edit_blocks
from wikipeer.ingest import ingest
from wikipeer.model.keys import key_to_str
from wikipeer.model.objects import Page
from wikipeer.node import Node

REVISIONS, KEYS, RUNS = 500, 20, 15


def _node(directory: Path) -> Node:
    node = Node.init(directory)
    parent = edit(node, "w", "P", "start\n", "start").rev
    keys = [SigningKey.generate() for _ in range(KEYS)]
    blocks = []
    for number in range(REVISIONS):
        key = keys[number % KEYS]
        made = edit_blocks(Page("w", 0, "P"), f"text {number}\n", (parent,), f"edit {number}", key,
                           key_to_str(bytes(key.verify_key)), 10_000 + number)
        blocks += made
        parent = made[2].cid
    ingest(node.store, blocks, "bench")
    return node


def _median_ms(get, url: str) -> float:
    for _ in range(2):  # warm: templates compiled, caches filled
        get(url)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        assert get(url).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    from fastapi.testclient import TestClient

    from wikipeer.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        node = _node(Path(tmp) / "node")
        client = TestClient(create_app(node, default_wiki="w"))
        history = _median_ms(client.get, f"/wiki/w/P?action=history&limit={REVISIONS}")
        api = _median_ms(client.get, f"/w/w/api.php?action=query&prop=revisions&titles=P&rvprop=user|ids"
                                     f"&rvlimit={REVISIONS}&format=json")
        node.close()
    print(f"history of {REVISIONS} revisions: {history:.1f} ms (median of {RUNS})")
    print(f"api.php, {REVISIONS} revisions with their users: {api:.1f} ms (median of {RUNS})")


if __name__ == "__main__":
    main()
