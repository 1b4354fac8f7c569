"""S3 blobs (issue 18, item 1): storing and reading media chunks in a bucket vs the local packs.

The same generated files (``BLOBS_MB`` MB in all, default 200: JPEGs of 8 MB,
a small picture followed by random bytes, incompressible as photos are) are
uploaded through the door into two nodes: one with its chunks in local pack
files (the anchor), one with them in a bucket of a real SeaweedFS (`weed mini`
on 127.0.0.1). Then each file is read back whole from
a fresh opening of each store (ranged GETs on S3). SeaweedFS is started by
bench/servers.py, as for the tests. Figures: seconds, MB/s and
the S3/local ratio of each.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from bench.servers import Weed
from wikipeer.node import Node
from wikipeer.uploading import upload

MB = 1 << 20
FILE_MB = 8


def _photo(rng: random.Random, index: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (64, 48), (index % 256, 120, 40)).save(out, "JPEG")
    return out.getvalue() + rng.randbytes(FILE_MB * MB)


def _store_and_read(directory: Path, photos: list[bytes], blobs: str | None) -> tuple[float, float]:
    """(seconds to upload every photo, seconds to read every one back from a new opening of the store)."""
    node = Node.init(directory, blobs=blobs)
    node.user_key()
    node.wiki("w")
    started = time.perf_counter()
    for i, data in enumerate(photos):
        upload(node, "w", f"File:Photo {i}.jpg", data, "bench")
    stored = time.perf_counter() - started
    node.close()
    node = Node.open(directory)
    started = time.perf_counter()
    for i, data in enumerate(photos):
        page = node.store.page("w", 6, f"Photo {i}.jpg")
        assert page is not None
        read = b"".join(node.store.file_chunks(node.store.file_versions(page.id)[0]))
        assert read == data
    took = time.perf_counter() - started
    node.close()
    return stored, took


def run() -> dict[str, float | str]:
    total = int(os.environ.get("BLOBS_MB", "200"))
    rng = random.Random(18)
    photos = [_photo(rng, i) for i in range(max(1, total // FILE_MB))]
    size = sum(len(p) for p in photos) / MB
    with tempfile.TemporaryDirectory(prefix="blobs-bench-") as tmp:
        root = Path(tmp)
        (root / "weed").mkdir()
        with Weed(root / "weed", bucket="bench") as weed:
            env = weed.env
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                local = _store_and_read(root / "local", photos, None)
                s3 = _store_and_read(root / "s3", photos, "s3://bench/blobs")
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
    results: dict[str, float | str] = {"files": len(photos), "file bytes (MB)": size}
    for what, at in (("store", 0), ("read", 1)):
        results[f"{what}: local packs (s)"] = local[at]
        results[f"{what}: S3 bucket (s)"] = s3[at]
        results[f"{what}: local packs (MB/s)"] = size / local[at]
        results[f"{what}: S3 bucket (MB/s)"] = size / s3[at]
        results[f"{what}: S3 / local time"] = f"{s3[at] / local[at]:.2f}x"
    return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<36} {value:,.3f}" if isinstance(value, float) else f"{key:<36} {value}")
