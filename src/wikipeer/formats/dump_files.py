"""The file versions a dump's ``<upload>`` elements carry, as signed ``file`` blocks.

Each upload with its contents becomes one file version of its page, signed by
the importing node (role ``node``) like an imported revision, its provenance
(site, uploader, file name, source URL) in ``origin``. The bytes are checked
against the dump's SHA-1 here, before any block is made: a mismatch refuses
the whole page, naming the file and where its contents stand in the XML, so
nothing of the page is written. Everything else (type from the bytes, size,
hashes again) is checked by the one ingest door, as for any upload.
"""

from __future__ import annotations

from typing import Any

import nacl.signing

from wikipeer.errors import UserError
from wikipeer.formats.dump_convert import parse_timestamp
from wikipeer.formats.dump_reader import DumpPage, DumpUpload
from wikipeer.model.block import Block
from wikipeer.model.media import sha1_base36
from wikipeer.model.objects import Page
from wikipeer.uploading import file_blocks

MAX_ORIGIN_TEXT = 1024
"""A value kept in ``origin`` at most this long (model/objects.py's limit); a longer URL is left out."""


def upload_origin(site: str, upload: DumpUpload) -> dict[str, Any]:
    """Where an uploaded version came from: what MediaWiki's upload record says beyond the bytes."""
    origin = {"site": site, "filename": upload.filename, "src": upload.src, "user": upload.user,
              "user_id": upload.user_id, "ip": upload.ip, "archivename": upload.archivename}
    return {k: v for k, v in origin.items()
            if v not in (None, "") and not (isinstance(v, str) and len(v.encode("utf-8")) > MAX_ORIGIN_TEXT)}


def check_upload(page: DumpPage, upload: DumpUpload, max_file: int) -> None:
    """ValueError naming the page, the file and the byte offset unless the bytes are what the dump says."""
    where = f"the file {upload.filename!r} of page {page.title!r} (its contents at byte offset " \
            f"{upload.contents.offset} of the XML)"
    got = upload.contents
    if got.size > max_file:
        raise ValueError(f"{where} has {got.size} bytes; this node takes at most {max_file}")
    if upload.sha1_base36 and sha1_base36(got.sha1) != upload.sha1_base36.lower().rjust(31, "0"):
        raise ValueError(f"{where}: its bytes have the SHA-1 {sha1_base36(got.sha1)} (base 36), "
                         f"the dump says {upload.sha1_base36}; damaged, nothing of the page imported")
    if upload.size is not None and upload.size != got.size:
        raise ValueError(f"{where}: it holds {got.size} bytes, the dump says {upload.size}")
    if not upload.timestamp:
        raise ValueError(f"{where} has no <timestamp>")


def description_at(page: DumpPage, revisions: list[bytes], ts: int) -> bytes | None:
    """The description revision an upload at ``ts`` was made against: the last one saved by then, else the first."""
    chosen = revisions[0] if revisions else None
    for rev, cid in zip(page.revisions, revisions, strict=True):
        if parse_timestamp(rev.timestamp) <= ts:
            chosen = cid
    return chosen


def upload_blocks(page: Page, dump_page: DumpPage, revisions: list[bytes], site: str,
                  key: nacl.signing.SigningKey, node_key: str, max_file: int) -> tuple[list[Block], list[bytes]]:
    """The blocks of every file version of ``dump_page`` and the versions' CIDs (ValueError for a
    damaged or unusable one).

    ``revisions`` are the CIDs of the page's revisions as converted, in dump
    order: each version names the one it was uploaded against.
    """
    blocks: list[Block] = []
    versions: list[bytes] = []
    for upload in dump_page.files:
        check_upload(dump_page, upload, max_file)
        try:
            ts = parse_timestamp(upload.timestamp)
        except ValueError:
            raise ValueError(f"the file {upload.filename!r} has a malformed <timestamp> {upload.timestamp!r}") from None
        try:
            made = file_blocks(page, upload.contents.read(), ts, key, node_key, upload.comment,
                               description_at(dump_page, revisions, ts), role="node",
                               origin=upload_origin(site, upload))
        except UserError as exc:
            raise ValueError(f"the file {upload.filename!r} (at byte offset {upload.contents.offset}): {exc}") from None
        blocks += made
        versions.append(made[-2].cid)
    return blocks, versions


def close_files(page: DumpPage) -> None:
    """Give back the temporary files holding the page's uploads."""
    for upload in page.files:
        upload.contents.close()
