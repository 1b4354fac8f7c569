"""Import a MediaWiki XML dump into a node through the one ingest door.

Pages are gathered into batches of whole pages and each batch is one ingest
transaction, so a page is never half-written. The number of pages done is
kept per dump (keyed by a hash of its first MiB), so a run that was stopped
skips what is already in; since conversion is deterministic, anything done
twice comes back as a duplicate and the end result is the same.

A page's ``<upload>`` elements with their contents (``dumpBackup.php
--uploads --include-files``) become file versions of that page in the same
batch (formats/dump_files.py), so a page and its files go in together or not
at all; their bytes wait on disk, never in the XML tree (formats/dump_contents.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from wikipeer.errors import UserError
from wikipeer.formats.compressed import open_input
from wikipeer.formats.dump_convert import page_blocks, wiki_config
from wikipeer.formats.dump_files import close_files, upload_blocks
from wikipeer.formats.dump_reader import DumpError, DumpPage, SiteInfo, read_dump
from wikipeer.ingest import ACCEPTED, REJECTED
from wikipeer.model.block import Block
from wikipeer.model.objects import Page, parse
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY

BATCH_REVISIONS = 2000
BATCH_BYTES = 4 << 20
"""A batch ends at whichever comes first: progress and resume points stay a few seconds apart."""


@dataclass(slots=True)
class ImportSummary:
    """What an import did."""

    wiki: str = ""
    pages: int = 0
    revisions: int = 0
    new_revisions: int = 0
    skipped_pages: int = 0
    files: int = 0            # file versions read (uploads with their contents)
    new_files: int = 0        # of those, new here
    resumed_after: int = 0
    warnings: list[str] = field(default_factory=list)
    error: DumpError | None = None


Progress = Callable[[ImportSummary, int, int | None], None]
"""Called after each batch with the summary so far, compressed bytes read and the total if known."""


def _fingerprint(head: bytes) -> str:
    return hashlib.sha256(head).hexdigest()[:32]


class _Importer:
    def __init__(self, node: Node, wiki_name: str | None) -> None:
        self.node, self.wiki_name = node, wiki_name
        self.key = node.keyring.signing_key(NODE_KEY, node.passphrase)
        self.node_key = node.keyring.get(NODE_KEY).public
        self.summary = ImportSummary()
        self.config = None
        self.site = ""
        self.batch: list[tuple[DumpPage, list[Block]]] = []
        self.batch_revisions = 0
        self.batch_bytes = 0
        self.batch_ids: dict[int, bytes] = {}
        self.batch_files: set[bytes] = set()

    def siteinfo(self, info: SiteInfo) -> None:
        self.config = wiki_config(info, self.wiki_name)
        self.site = info.dbname or self.config.name
        self.summary.wiki = self.config.name
        self.node.store.set_wiki_config(self.config)

    def add(self, page: DumpPage) -> None:
        if self.config is None:
            self.siteinfo(SiteInfo(dbname=self.wiki_name or "wiki"))
        if page.problem:
            close_files(page)
            self.skip(page, page.problem)
            return
        for note in page.notes:
            self.summary.warnings.append(f"page {page.title!r} ({_where(page)}): {note}")
        try:
            blocks, ids = page_blocks(self.config, self.site, page, self.key, self.node_key, self.known_parent)
            if page.files:
                revisions = [b.cid for b in blocks[2::3]]
                files, versions = upload_blocks(_page_record(blocks[0]), page, revisions, self.site, self.key,
                                                self.node_key, self.node.policy().max_file)
                self.batch_files.update(versions)
                blocks += files
        except ValueError as exc:
            self.skip(page, str(exc))
            return
        finally:
            close_files(page)
        self.batch.append((page, blocks))
        self.batch_ids.update(ids)
        self.batch_revisions += len(page.revisions)
        self.batch_bytes += sum(len(b.data) for b in blocks)

    def known_parent(self, rev_id: int) -> bytes | None:
        # Revisions of earlier pages in this batch are not in the store yet.
        return self.batch_ids.get(rev_id) or self.node.store.origin_revision(self.site, rev_id)

    def skip(self, page: DumpPage, problem: str) -> None:
        self.summary.skipped_pages += 1
        self.summary.warnings.append(f"skipped page {page.title!r} ({_where(page)}): {problem}")

    def flush(self) -> None:
        if not self.batch:
            return
        blocks = [b for _, bs in self.batch for b in bs]
        report = self.node.ingest(blocks, f"dump:{self.site}")
        for (page, page_blocks_), offset in zip(self.batch, _offsets(self.batch), strict=True):
            statuses = report.statuses[offset:offset + len(page_blocks_)]
            bad = [s for s in statuses if s.state == REJECTED]
            if bad:
                self.skip(page, bad[0].reason)
            else:
                texts = 1 + 3 * len(page.revisions)  # the page, then text, rev, signature per revision
                self.summary.pages += 1
                self.summary.revisions += len(page.revisions)
                self.summary.new_revisions += sum(1 for s in statuses[2:texts:3] if s.state == ACCEPTED)
                self.summary.files += len(page.files)
                self.summary.new_files += sum(1 for s in statuses[texts:] if s.state == ACCEPTED
                                              and s.cid in self.batch_files)
        self.batch.clear()
        self.batch_ids.clear()
        self.batch_files.clear()
        self.batch_revisions = 0
        self.batch_bytes = 0


def _page_record(block: Block) -> Page:
    """The page a block page_blocks just built names."""
    return parse(block, MAX_TEXT)


def _where(page: DumpPage) -> str:
    return f"line {page.line}, near byte offset {page.offset} of the XML"


def _offsets(batch: list[tuple[DumpPage, list[Block]]]) -> list[int]:
    out, at = [], 0
    for _, blocks in batch:
        out.append(at)
        at += len(blocks)
    return out


def import_dump(node: Node, path: str, wiki_name: str | None = None, progress: Progress | None = None,
                total_bytes: int | None = None) -> ImportSummary:
    """Import the dump at ``path`` (``-`` for stdin); resumes a run that was stopped."""
    source = open_input(path)
    # The target wiki is part of the key: the same dump into another wiki is another import.
    state_key = f"import:{wiki_name or ''}:{_fingerprint(source.head)}"
    state = json.loads(node.store.meta(state_key) or '{"pages": 0, "last": null}')
    importer = _Importer(node, wiki_name)
    seen = 0
    last = None
    try:
        for item in read_dump(source.stream, spool_dir=str(node.dir), max_file=node.policy().max_file):
            if isinstance(item, SiteInfo):
                importer.siteinfo(item)
                continue
            seen += 1
            last = item.title
            if seen < state["pages"]:
                continue
            if seen == state["pages"]:
                # The page the last run ended on: only if it matches is the rest trusted as done.
                if item.title == state["last"]:
                    importer.summary.resumed_after = seen
                    continue
                return _start_over(node, path, state_key, wiki_name, progress, total_bytes)
            importer.add(item)
            if importer.batch_revisions >= BATCH_REVISIONS or importer.batch_bytes >= BATCH_BYTES:
                _flush(node, importer, state_key, seen, last)
                if progress:
                    progress(importer.summary, source.counter.count, total_bytes)
    except DumpError as exc:
        importer.summary.error = exc
    _flush(node, importer, state_key, seen, last)
    if progress:
        progress(importer.summary, source.counter.count, total_bytes)
    return importer.summary


def _flush(node: Node, importer: _Importer, state_key: str, seen: int, last: str | None) -> None:
    """Ingest the batch and record how far the import got, even when Ctrl-C lands right after the commit.

    The record is written when every block of the batch is in the store, so a
    resumed run never skips a page that is not in, and does not start over
    because the interruption fell between the commit and the record.
    """
    revisions = [b.cid for page, blocks in importer.batch  # the page, then text, rev, sig each; then its files
                 for b in blocks[2:1 + 3 * len(page.revisions):3]]
    try:
        importer.flush()
    except BaseException:
        if len(node.store.existing(revisions)) == len(set(revisions)):
            node.store.set_meta(state_key, json.dumps({"pages": seen, "last": last}))
        raise
    node.store.set_meta(state_key, json.dumps({"pages": seen, "last": last}))


def _start_over(node: Node, path: str, state_key: str, wiki_name: str | None, progress: Progress | None,
                total_bytes: int | None) -> ImportSummary:
    """The dump is not the one the saved state was for: import it from the start."""
    if path == "-":
        raise UserError("this dump differs from the one whose import was stopped; give it as a file, not stdin")
    node.store.set_meta(state_key, json.dumps({"pages": 0, "last": None}))
    return import_dump(node, path, wiki_name, progress, total_bytes)
