"""Files over sync (issue 14, item 3): a media clone, an incremental sync after re-uploads, a no-op sync.

A source node holds a generated media corpus: ``FILES`` JPEGs of 2 to 8 MB (a
small picture followed by random bytes: incompressible, as real photos are),
then 10% of them re-uploaded with a 16-byte change and 5% uploaded again as
exact duplicates on other pages. An empty node clones it with ``sync()``
(in-process, against `wikipeer serve` on 127.0.0.1); then the source gets
another round of small-change re-uploads and the clone syncs again; then a
sync with nothing new. Figures: time, MB/s of file bytes, and bytes on the
wire against the unique chunk bytes (what must travel at least).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from bench.servers import free_port, ours_command, running
from wikipeer.model.media import chunk_blocks
from wikipeer.net.sync import sync
from wikipeer.node import Node
from wikipeer.store.peers import PeerBook
from wikipeer.uploading import upload

FILES = 20
MB = 1 << 20


def _photo(rng: random.Random, index: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (64, 48), (index % 256, 80, 160)).save(out, "JPEG")
    return out.getvalue() + rng.randbytes(rng.randrange(2 * MB, 8 * MB))


def _changed(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) // 2, len(data) - 16)
    return data[:at] + bytes(b ^ 0x5A for b in data[at:at + 16]) + data[at + 16:]


def _unique_bytes(datas: list[bytes]) -> int:
    seen: dict[bytes, int] = {}
    for data in datas:
        for block in chunk_blocks(data):
            seen[block.cid] = len(block.data)
    return sum(seen.values())


def run() -> dict[str, float | str]:
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="media-sync-") as tmp:
        root = Path(tmp)
        source, clone = Node.init(root / "source"), Node.init(root / "clone")
        for node in (source, clone):
            node.user_key()
            node.wiki("w")
        photos = [_photo(rng, i) for i in range(FILES)]
        uploaded = list(photos)
        for i, data in enumerate(photos):
            upload(source, "w", f"File:Photo {i}.jpg", data, "first")
        for i in range(max(1, FILES // 10)):
            uploaded.append(_changed(photos[i], rng))
            upload(source, "w", f"File:Photo {i}.jpg", uploaded[-1], "a small change")
        for i in range(max(1, FILES // 20)):
            upload(source, "w", f"File:Duplicate {i}.jpg", photos[-1 - i], "the same again")
            uploaded.append(photos[-1 - i])
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        results: dict[str, float | str] = {}
        with running(ours_command(root / "source", port), f"{url}/api/v1/node", root / "serve.log"):
            PeerBook(clone.store).add(url)
            started = time.perf_counter()
            first = sync(clone, url, do_push=False)
            took = time.perf_counter() - started
            file_bytes = sum(len(d) for d in uploaded)
            results["clone: file versions"] = len(uploaded)
            results["clone: file bytes (MB)"] = file_bytes / MB
            results["clone: unique chunk bytes (MB)"] = _unique_bytes(uploaded) / MB
            results["clone: bytes on the wire (MB)"] = first.bytes_in / MB
            results["clone: seconds"] = took
            results["clone: MB/s of file bytes"] = file_bytes / MB / took

            again = [_changed(photos[FILES - 1 - i], rng) for i in range(max(1, FILES // 10))]
            for i, data in enumerate(again):
                upload(source, "w", f"File:Photo {FILES - 1 - i}.jpg", data, "another small change")
            before = _unique_bytes(uploaded)
            started = time.perf_counter()
            second = sync(clone, url, do_push=False)
            took = time.perf_counter() - started
            results["incremental: re-uploads"] = len(again)
            results["incremental: new chunk bytes (MB)"] = (_unique_bytes(uploaded + again) - before) / MB
            results["incremental: bytes on the wire (MB)"] = second.bytes_in / MB
            results["incremental: seconds"] = took

            started = time.perf_counter()
            third = sync(clone, url, do_push=False)
            results["no-op: seconds"] = time.perf_counter() - started
            results["no-op: requests"] = third.requests
        source.close()
        clone.close()
    return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value:,.3f}" if isinstance(value, float) else f"{key:<40} {value}")
