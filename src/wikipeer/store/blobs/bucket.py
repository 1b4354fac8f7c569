"""Packs in an S3-compatible bucket, through boto3: ``s3://BUCKET/PREFIX?endpoint=http://HOST:PORT``.

S3 objects cannot be appended to, so a write transaction gathers its chunks in
memory, in the records of store/packs.py, and uploads them as whole pack objects
of at most ``pack_size`` bytes (a full one as soon as it fills, the rest when the
transaction syncs), all before the rows naming them commit. Reads are ranged GETs.

A pack object's name is a random 62-bit number (``PREFIX/packs/<16 hex>.pack``),
not the next in a sequence: two writers (processes, or machines sharing a cluster
store) never pick the same name, so one can never overwrite a pack the other's
committed rows name. A transaction that fails after an upload leaves an orphan
pack no row names: harmless, listed by ``wikipeer fsck``.

The endpoint comes from the URL's ``endpoint`` parameter, else WIKIPEER_S3_ENDPOINT,
else boto3's own settings; credentials from the AWS_* variables or boto3's usual places.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wikipeer.errors import UserError
from wikipeer.store.blobs.base import BlobError, BlobStore, BucketGone, IndexedEnd
from wikipeer.store.packs import HEADER, MAGIC, PACK_SIZE, ChunkPlace, PackError, record, whole

PACK_DIR = "packs/"
READ_SPAN = 16 << 20
"""Neighbouring chunks are fetched in one ranged GET of at most this many bytes (a file's chunks, uploaded
together, lie side by side): one request per chunk read a file at a fifth of the local packs' speed."""
TIMEOUT = 10.0
"""Seconds to connect, and to wait for each read of a response: a bucket that stopped answering fails the
write in about a minute (three tries), not never."""


def split_url(url: str) -> tuple[str, str, str | None]:
    """(bucket, prefix ending in "/" or empty, endpoint or None) of ``s3://bucket/prefix?endpoint=...``."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise UserError(f"{url}: a bucket for blobs is s3://BUCKET/PREFIX (optionally ?endpoint=http://HOST:PORT)")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"endpoint"})
    if unknown:
        raise UserError(f"{url}: unknown parameter {unknown[0]!r} (only endpoint=URL is understood)")
    prefix = parts.path.strip("/")
    return parts.netloc, prefix + "/" if prefix else "", query.get("endpoint", [None])[0]


class BucketBlobs(BlobStore):
    """The packs of one store in an S3 bucket under a prefix: its chunks and its texts' compressed bytes."""

    holds_texts = True

    def __init__(self, url: str, pack_size: int = PACK_SIZE) -> None:
        self.bucket, self.prefix, self.endpoint = split_url(url)
        self.url = url
        self.pack_size = pack_size

    @cached_property
    def client(self) -> Any:  # boto3 makes its client classes at run time
        """The S3 client, made at first use: a command that reads no chunk does not import boto3 (0.3 s)."""
        import boto3  # only stores in a bucket need it
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint or os.environ.get("WIKIPEER_S3_ENDPOINT") or None,
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"},
                          connect_timeout=TIMEOUT, read_timeout=TIMEOUT,
                          # The chunks are hashed already (their CIDs); a CRC of every pack body costs CPU for nothing.
                          request_checksum_calculation="when_required", response_checksum_validation="when_required"))

    def key(self, pack: int) -> str:
        return f"{self.prefix}{PACK_DIR}{pack:016x}.pack"

    def where(self) -> str:
        """The bucket and prefix, for messages (not the endpoint's parameters)."""
        return f"s3://{self.bucket}/{self.prefix}"

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"cannot use {self.where()}: {_reason(exc)} (is the bucket there, and the endpoint "
                            "and AWS_* credentials right?)") from None

    def read(self, place: ChunkPlace) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        name = self.key(place.pack)
        try:
            data = self.client.get_object(Bucket=self.bucket, Key=name,
                                          Range=f"bytes={place.offset}-{place.offset + place.length - 1}")["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            if _status(exc) in (404, 416):  # the bucket answered: the pack is not there, or shorter than named
                raise PackError(f"pack s3://{self.bucket}/{name} cannot be read: {_reason(exc)}") from None
            raise BucketGone(f"pack s3://{self.bucket}/{name} cannot be read just now: {_reason(exc)}") from None
        return whole(f"s3://{self.bucket}/{name}", place, data)

    def read_many(self, places: Sequence[ChunkPlace]) -> Iterator[bytes]:
        run: list[ChunkPlace] = []
        for place in places:
            if run and not (place.pack == run[-1].pack and place.offset == run[-1].offset + run[-1].length + HEADER
                            and place.offset + place.length - run[0].offset <= READ_SPAN):
                yield from self._read_run(run)
                run = []
            run.append(place)
        yield from self._read_run(run)

    def _read_run(self, run: list[ChunkPlace]) -> Iterator[bytes]:
        """Chunks that lie one after another in one pack, from one ranged GET."""
        if not run:
            return
        first, last = run[0], run[-1]
        data = self.read(ChunkPlace(first.pack, first.offset, last.offset + last.length - first.offset))
        for place in run:
            yield data[place.offset - first.offset:place.offset - first.offset + place.length]

    def writer(self, indexed_end: IndexedEnd) -> "BucketWriter":
        return BucketWriter(self)

    def put(self, pack: int, data: bytes) -> None:
        """Upload one whole pack; BlobError, naming the bucket, if it is not stored."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(pack), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"cannot write to {self.where()}: {_reason(exc)}; nothing of this change was kept; "
                            "try again when the bucket can be reached") from None

    def pack_sizes(self) -> dict[int, int]:
        from botocore.exceptions import BotoCoreError, ClientError

        sizes: dict[int, int] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=self.prefix + PACK_DIR)
            for page in pages:
                for item in page.get("Contents", []):
                    stem = item["Key"].rsplit("/", 1)[-1].removesuffix(".pack")
                    if len(stem) == 16 and all(c in "0123456789abcdef" for c in stem):
                        sizes[int(stem, 16)] = item["Size"]
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"cannot list {self.where()}: {_reason(exc)}") from None
        return sizes

    def delete(self, pack: int) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(pack))
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"cannot delete a pack in {self.where()}: {_reason(exc)}") from None


def _status(exc: Exception) -> int | None:
    """The HTTP status S3 answered with, or None when it did not answer (a connection failure, a timeout)."""
    response = getattr(exc, "response", None)
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(response, dict) else None


def _reason(exc: Exception) -> str:
    """One line of what S3 said (its error code and message), or of the connection failure."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        error = response["Error"]
        return f"{error.get('Code', '?')}: {error.get('Message') or 'no message'}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class BucketWriter:
    """One transaction's chunks, gathered into packs of at most ``pack_size`` bytes and uploaded whole."""

    def __init__(self, blobs: BucketBlobs) -> None:
        self.blobs = blobs
        self._pack: int | None = None
        self._buffer = bytearray()

    def append(self, cid: bytes, data: bytes, magic: bytes = MAGIC) -> ChunkPlace:
        if self._pack is not None and len(self._buffer) >= self.blobs.pack_size:
            self._upload()
        if self._pack is None:
            self._pack = secrets.randbits(62)
        place = ChunkPlace(self._pack, len(self._buffer) + HEADER, len(data))
        self._buffer += record(cid, data, magic)
        return place

    def _upload(self) -> None:
        assert self._pack is not None
        self.blobs.put(self._pack, bytes(self._buffer))
        self._pack, self._buffer = None, bytearray()

    def sync(self) -> None:
        if self._pack is not None:
            self._upload()

    def close(self) -> None:
        self._pack, self._buffer = None, bytearray()


def same_bucket(one: str, other: str) -> bool:
    """Whether two s3:// locations name the same bucket and prefix (their endpoints may differ)."""
    try:
        return split_url(one)[:2] == split_url(other)[:2]
    except UserError:
        return False
