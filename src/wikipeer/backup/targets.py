"""Where backups go: a small object-store interface with a directory and an S3 implementation.

Every write is whole or absent: a directory write goes to a temporary name and is
renamed into place; an S3 put is one whole-object request. A reader never sees a
name whose bytes are not complete.
"""

from __future__ import annotations

import os
import secrets
from abc import ABC, abstractmethod
from pathlib import Path

from wikipeer.errors import UserError


class TargetError(UserError):
    """The backup target refused or failed a request (full disk, S3 error, missing bucket)."""


class TargetMissing(TargetError):
    """A name the target does not hold."""


TMP_MARK = ".tmp-"


class Target(ABC):
    """Named byte strings under a root: the whole interface backups need of a place to keep them."""

    url: str
    read_only = False  # a mirror: verify and restore read it, run and forget cannot write it

    def modified(self, name: str) -> float | None:
        """When ``name`` was last written (seconds since 1970), or None when the target cannot tell."""
        return None

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Names under ``prefix`` ("packs/", "snapshots/"), sorted; never a partial write."""

    @abstractmethod
    def get(self, name: str, start: int = 0, length: int | None = None) -> bytes:
        """The bytes of ``name`` (or a range of them); TargetMissing if it is not there."""

    @abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Write ``name`` whole (readers see all of it or nothing)."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove ``name`` (absent already: nothing to do)."""


class DirectoryTarget(Target):
    """A directory: a USB disk, a mounted share, an offline copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def _path(self, name: str) -> Path:
        return self.root / name

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(prefix + p.name for p in base.iterdir() if p.is_file() and TMP_MARK not in p.name)

    def get(self, name: str, start: int = 0, length: int | None = None) -> bytes:
        try:
            with open(self._path(name), "rb") as f:
                f.seek(start)
                return f.read() if length is None else f.read(length)
        except FileNotFoundError:
            raise TargetMissing(f"{self.url}: {name} is missing") from None
        except OSError as exc:
            raise TargetError(f"{self.url}: cannot read {name}: {exc.strerror}") from None

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        tmp = path.with_name(path.name + TMP_MARK + secrets.token_hex(4))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise TargetError(f"{self.url}: cannot write {name}: {exc.strerror}; "
                              "nothing partial was kept, run the backup again when it can be written") from None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def modified(self, name: str) -> float | None:
        try:
            return self._path(name).stat().st_mtime
        except OSError:
            return None

    def clean_partial(self) -> int:
        """Remove what interrupted writes left under temporary names; returns how many."""
        gone = 0
        for tmp in self.root.rglob(f"*{TMP_MARK}*"):
            tmp.unlink(missing_ok=True)
            gone += 1
        return gone


class S3Target(Target):
    """``s3://bucket/prefix`` on any S3-compatible store, through boto3.

    The endpoint comes from ``endpoint`` (target option), else WIKIPEER_S3_ENDPOINT, else
    boto3's own AWS_ENDPOINT_URL / configuration; credentials from AWS_* variables or
    boto3's usual places.
    """

    def __init__(self, url: str, endpoint: str | None = None) -> None:
        import boto3  # only S3 targets need it
        from botocore.config import Config

        rest = url[len("s3://"):]
        self.bucket, _, prefix = rest.partition("/")
        if not self.bucket:
            raise UserError(f"{url}: an S3 target is s3://BUCKET/PREFIX")
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = url
        endpoint = endpoint or os.environ.get("WIKIPEER_S3_ENDPOINT") or None
        self.client = boto3.client("s3", endpoint_url=endpoint,
                                   region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                                   config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                                 s3={"addressing_style": "path"}))

    def _error(self, doing: str, name: str, exc: Exception) -> TargetError:
        return TargetError(f"{self.url}: cannot {doing} {name}: {exc}")

    def list(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        names: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                              Prefix=self.prefix + prefix):
                names += [o["Key"][len(self.prefix):] for o in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as exc:
            raise self._error("list", prefix or "/", exc) from None
        return sorted(names)

    def get(self, name: str, start: int = 0, length: int | None = None) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {}
        if start or length is not None:
            extra["Range"] = f"bytes={start}-" + (str(start + length - 1) if length is not None else "")
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + name, **extra)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise TargetMissing(f"{self.url}: {name} is missing") from None
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise self._error("read", name, exc) from None
        except BotoCoreError as exc:
            raise self._error("read", name, exc) from None

    def put(self, name: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise self._error("write", name, exc) from None

    def delete(self, name: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)
        except (BotoCoreError, ClientError) as exc:
            raise self._error("delete", name, exc) from None

    def modified(self, name: str) -> float | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.prefix + name)["LastModified"].timestamp()
        except (BotoCoreError, ClientError):
            return None


def open_target(url: str, endpoint: str | None = None) -> Target:
    """The target a user named: ``s3://bucket/prefix``, a read-only ``http(s)://`` mirror or a directory path."""
    if url.startswith("s3://"):
        return S3Target(url, endpoint)
    if url.startswith(("http://", "https://")):
        from wikipeer.backup.mirror import HttpTarget  # only mirrors need it

        return HttpTarget(url)
    if "://" in url:
        raise UserError(f"{url}: a backup target is a directory, s3://BUCKET/PREFIX or (to read) http(s)://HOST/PATH")
    return DirectoryTarget(Path(url).expanduser().absolute())
