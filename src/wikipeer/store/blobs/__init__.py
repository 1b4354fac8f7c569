"""Blob stores: where a store's media chunks (and, later, large packs) live.

``open_blobs(location, store_path)``: ``None`` for the default directory of packs
beside the SQLite file, ``s3://BUCKET/PREFIX[?endpoint=URL]`` for a bucket.
"""

from __future__ import annotations

import os
from pathlib import Path

from wikipeer.errors import UserError
from wikipeer.store.blobs.base import BlobError, BlobStore, IndexedEnd, PackWriter
from wikipeer.store.packs import PACK_SIZE

__all__ = ["BlobError", "BlobStore", "IndexedEnd", "PackWriter", "check_location", "local_directory", "open_blobs"]


def local_directory(store_path: Path) -> Path:
    """The default pack directory of the store file ``store_path``: ``store.sqlite`` -> ``store.packs``."""
    return store_path.parent / (store_path.stem + ".packs")


def check_location(location: str) -> str:
    """``location`` if it names a blob store wikipeer can use (for argparse and config.json), else UserError."""
    if location.startswith("s3://"):
        from wikipeer.store.blobs.bucket import split_url

        split_url(location)
        return location
    raise UserError(f"--blobs {location}: give s3://BUCKET/PREFIX (optionally ?endpoint=http://HOST:PORT); "
                    "without --blobs, chunks stay in pack files beside the store")


def open_blobs(location: str | None, store_path: Path) -> BlobStore:
    """The blob store at ``location`` (None: the local pack directory of ``store_path``)."""
    # Tests and benchmarks make small packs to see many of them; a node never needs to set this.
    pack_size = int(os.environ.get("WIKIPEER_BLOB_PACK_BYTES") or PACK_SIZE)
    if location is None:
        from wikipeer.store.blobs.local import LocalBlobs

        return LocalBlobs(local_directory(store_path), pack_size)
    from wikipeer.store.blobs.bucket import BucketBlobs

    return BucketBlobs(check_location(location), pack_size)
