"""Local uploads: build and sign a file version, then send it through the one door.

The bytes decide the type, never the name; the name's ending must fit that
type, as MediaWiki insists. The first upload to a ``File:`` page also creates
the page's description revision (its text is the upload comment); every
version names the description revision it was uploaded against.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wikipeer.authoring import edit_blocks, now_ms
from wikipeer.errors import InvalidObject, UserError
from wikipeer.ingest import REJECTED, IngestReport
from wikipeer.model.block import Block
from wikipeer.model.keys import sign
from wikipeer.model.media import NS_FILE, File, build_file, chunk_blocks, digests
from wikipeer.model.objects import Page, Signature, build_page, build_signature
from wikipeer.model.sniff import EXTENSIONS, inspect
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.node import Node


@dataclass(frozen=True, slots=True)
class Upload:
    """What an upload produced."""

    file: bytes
    sha256: str
    title: str
    report: IngestReport


def file_blocks(page: Page, data: bytes, ts: int, signing_key, author: str, comment: str = "",
                desc: bytes | None = None, *, role: str = "author", origin: dict | None = None) -> list[Block]:
    """The blocks of one signed file version: its content blocks, the file object, the signature.

    ``author`` is the signing key's public half. With ``role`` "author" the
    version names it as its author; with "node" (an import: dumps, the
    MediaWiki peer) it has no author and the node vouches for it, its
    provenance in ``origin``, as imported revisions are.
    """
    try:
        info = inspect(data)
    except InvalidObject as exc:
        raise UserError(f"upload refused: {exc}") from None
    chunks = chunk_blocks(data)
    sha256, sha1, size = digests([data])
    record = File(page=build_page(page).cid, sha256=sha256, sha1=sha1, size=size, mime=info.mime,
                  chunks=tuple(c.cid for c in chunks), ts=ts, width=info.width, height=info.height, desc=desc,
                  author=author if role == "author" else None, comment=comment, origin=origin or {})
    block = build_file(record)
    sig = build_signature(Signature(block.cid, role, author, sign(signing_key, block.cid, role)))
    unique = list({c.cid: c for c in chunks}.values())
    return [*unique, block, sig]


def read_file(path: Path, max_file: int) -> bytes:
    """The bytes of the file at ``path``, refused by its size before any is read when over ``max_file``.

    The size comes from the file system first, so a file of many gigabytes
    costs nothing to refuse; the read stops one byte past the limit as well,
    for a file that grows (or a pipe that says nothing of its size).
    """
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_file:
                raise UserError(too_big(size, max_file))
            data = handle.read(max_file + 1)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > max_file:
        raise UserError(too_big(len(data), max_file, at_least=True))
    return data


def too_big(size: int, max_file: int, at_least: bool = False) -> str:
    """The refusal of a file over the node's limit, in words a user can act on."""
    has = f"at least {size}" if at_least else str(size)
    return (f"upload refused: the file has {has} bytes; this node takes files of at most {max_file} bytes "
            f"({max_file / (1 << 30):g} GiB)")


def check_name(name: str, data: bytes) -> None:
    """The file name's ending must be one the bytes' type may carry."""
    mime = inspect(data).mime
    ending = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ending not in EXTENSIONS[mime]:
        endings = ", ".join("." + e for e in EXTENSIONS[mime])
        raise UserError(f"the bytes are {mime}, but the name {name!r} ends in {ending or 'nothing'!r}: "
                        f"name it with one of {endings}")


def upload(node: Node, wiki: str, raw_title: str, data: bytes, comment: str = "", key_name: str | None = None,
           ts: int | None = None) -> Upload:
    """Store ``data`` as a new version of the file ``raw_title`` (``File:NAME``), signed by the user's key."""
    config = node.wiki_or_default(wiki)
    try:
        title = normalize_title(config, raw_title)
        if title.ns == 0:  # a bare name: the file's own page is meant
            title = normalize_title(config, raw_title, NS_FILE)
    except BadTitle as exc:
        raise UserError(f"bad file title {raw_title!r}: {exc}") from None
    if title.ns != NS_FILE:
        raise UserError(f"{raw_title!r} is not a file title: name it File:NAME")
    if len(data) > node.policy().max_file:
        raise UserError(too_big(len(data), node.policy().max_file))
    try:
        check_name(title.text, data)
    except InvalidObject as exc:
        raise UserError(f"upload refused: {exc}") from None
    identity = node.keyring.get(key_name) if key_name else node.user_key()
    key = node.keyring.signing_key(identity.name, node.passphrase)
    page = Page(wiki, title.ns, title.text)
    ts = ts if ts is not None else now_ms()
    blocks: list[Block] = []
    existing = node.store.page(wiki, title.ns, title.text)
    head = node.view().shown(node.store, existing.id) if existing else None
    if existing is not None:
        current = node.store.current_file(existing.id)
        if current is not None and current.sha256 == digests([data])[0]:
            raise UserError(f"no change: {title.full!r} already shows these bytes (SHA-256 {current.sha256})")
    if head is None:
        blocks = edit_blocks(page, comment, (), comment, key, identity.public, ts)
        desc = blocks[2].cid
    else:
        blocks = [build_page(page)] if existing is None else []
        desc = head.cid
    made = file_blocks(page, data, ts, key, identity.public, comment, desc)
    report = node.ingest(blocks + made, "local")
    file_cid = made[-2].cid
    rejected = sorted((s for s in report.statuses if s.state == REJECTED), key=lambda s: s.cid != file_cid)
    if rejected:
        raise UserError(f"upload refused: {rejected[0].reason}")
    node.wiki(wiki)
    return Upload(file_cid, digests([data])[0], title.full, report)
