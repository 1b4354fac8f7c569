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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from wikipeer.errors import UserError
from wikipeer.formats.compressed import open_input
from wikipeer.formats.dump_build import BuiltBatch, BuiltPage, build_job
from wikipeer.formats.dump_convert import page_blocks, wiki_config
from wikipeer.formats.dump_files import close_files, upload_blocks
from wikipeer.formats.dump_reader import DumpError, DumpPage, SiteInfo, read_dump
from wikipeer.ingest import ACCEPTED, REJECTED
from wikipeer.model.block import Block
from wikipeer.model.objects import Page, parse
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.node import Node
from wikipeer.pipeline.pool import Job, shared
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


@dataclass(slots=True)
class _Pages:
    """A batch of whole pages read from the dump, and how far into the dump it ends (for the resume record)."""

    pages: list[DumpPage] = field(default_factory=list)
    revisions: int = 0
    bytes: int = 0
    seen: int = 0
    last: str | None = None

    def add(self, page: DumpPage) -> None:
        self.pages.append(page)
        self.revisions += len(page.revisions)
        self.bytes += sum(len(r.text) for r in page.revisions)

    @property
    def full(self) -> bool:
        return self.revisions >= BATCH_REVISIONS or self.bytes >= BATCH_BYTES

    @property
    def files(self) -> bool:
        return any(page.files for page in self.pages)


class _Importer:
    def __init__(self, node: Node, wiki_name: str | None, path: str) -> None:
        self.node, self.wiki_name, self.path = node, wiki_name, path
        self.key = node.keyring.signing_key(NODE_KEY, node.passphrase)
        self.node_key = node.keyring.get(NODE_KEY).public
        self.summary = ImportSummary()
        self.config = None
        self.site = ""
        self.batch_ids: dict[int, bytes] = {}

    def siteinfo(self, info: SiteInfo) -> None:
        self.config = wiki_config(info, self.wiki_name)
        self.site = info.dbname or self.config.name
        self.summary.wiki = self.config.name
        self.node.store.set_wiki_config(self.config)

    def read(self, page: DumpPage) -> bool:
        """Note a page read from the dump; False when it is skipped at once (the reader found it broken)."""
        if self.config is None:
            self.siteinfo(SiteInfo(dbname=self.wiki_name or "wiki"))
        if page.problem:
            close_files(page)
            self.skip(page, page.problem)
            return False
        for note in page.notes:
            self.summary.warnings.append(f"page {page.title!r} ({_where(page)}): {note}")
        return True

    def job(self, batch: _Pages) -> Job[BuiltBatch]:
        """The work of building and checking ``batch``, for a worker."""
        pages = batch.pages
        # A batch with files is built here (their bytes wait in spool files this process holds open).
        work = [] if batch.files else pages
        return Job(build_job, (self.config, self.site, work, bytes(self.key), self.node_key, self.node.policy().max_text),
                   lambda i: f"dump page {pages[i].title!r} ({_where(pages[i])}) of {self.path}",
                   f"{len(pages)} dump pages of {self.path} from {pages[0].title!r} ({_where(pages[0])})"
                   if pages else f"the end of {self.path}", batch)

    def build_here(self, batch: _Pages) -> BuiltBatch:
        """The batch built in this process, its parents looked up in the store: pages with files
        (their bytes wait in files this process holds), and pages a worker could not link."""
        self.batch_ids.clear()
        return BuiltBatch([self.build_page(page) for page in batch.pages])

    def build_page(self, page: DumpPage) -> BuiltPage:
        out = BuiltPage()
        try:
            out.blocks, out.ids = page_blocks(self.config, self.site, page, self.key, self.node_key, self.known_parent)
            if page.files:
                revisions = [b.cid for b in out.blocks[2::3]]
                files, versions = upload_blocks(_page_record(out.blocks[0]), page, revisions, self.site, self.key,
                                                self.node_key, self.node.policy().max_file)
                out.files = set(versions)
                out.blocks += files
        except ValueError as exc:
            out = BuiltPage(problem=str(exc))  # nothing of a page whose files cannot be read
        finally:
            close_files(page)
        self.batch_ids.update(out.ids)
        return out

    def known_parent(self, rev_id: int) -> bytes | None:
        # Revisions of earlier pages in this batch are not in the store yet.
        return self.batch_ids.get(rev_id) or self.node.store.origin_revision(self.site, rev_id)

    def linked(self, built: BuiltBatch) -> bool:
        """Whether every parent a worker could not find in its batch is still absent now that the
        batches before it are in (else the batch is built again, here)."""
        return not any(self.node.store.origin_revision(self.site, rev_id) for page in built.pages
                       for rev_id in page.unresolved)

    def skip(self, page: DumpPage, problem: str) -> None:
        self.summary.skipped_pages += 1
        self.summary.warnings.append(f"skipped page {page.title!r} ({_where(page)}): {problem}")

    def store(self, batch: _Pages, built: BuiltBatch) -> None:
        """Hand the batch's blocks to the door (with the workers' checks) and count what became of each page."""
        blocks = [b for page in built.pages for b in page.blocks]
        if not blocks:
            for page, result in zip(batch.pages, built.pages, strict=True):
                self.skip(page, result.problem or "it has no revisions")
            return
        prepared = built.prepared
        if prepared is not None:
            prepared.blocks = blocks
        report = self.node.ingest(blocks, f"dump:{self.site}", prepared=prepared)
        at = 0
        for page, result in zip(batch.pages, built.pages, strict=True):
            statuses = report.statuses[at:at + len(result.blocks)]
            at += len(result.blocks)
            bad = [s for s in statuses if s.state == REJECTED]
            if result.problem or bad:
                self.skip(page, result.problem or bad[0].reason)
                continue
            texts = 1 + 3 * len(page.revisions)  # the page, then text, rev, signature per revision
            self.summary.pages += 1
            self.summary.revisions += len(page.revisions)
            self.summary.new_revisions += sum(1 for s in statuses[2:texts:3] if s.state == ACCEPTED)
            self.summary.files += len(page.files)
            self.summary.new_files += sum(1 for s in statuses[texts:] if s.state == ACCEPTED and s.cid in result.files)


def _page_record(block: Block) -> Page:
    """The page a block page_blocks just built names."""
    return parse(block, MAX_TEXT)


def _where(page: DumpPage) -> str:
    return f"line {page.line}, near byte offset {page.offset} of the XML"


def import_dump(node: Node, path: str, wiki_name: str | None = None, progress: Progress | None = None,
                total_bytes: int | None = None) -> ImportSummary:
    """Import the dump at ``path`` (``-`` for stdin); resumes a run that was stopped.

    This process reads the XML and writes; the pipeline's workers build and
    check the blocks of the batches read ahead (a dump of one batch is built
    here), and the door takes the batches in dump order.
    """
    source = open_input(path)
    # The target wiki is part of the key: the same dump into another wiki is another import.
    state_key = f"import:{wiki_name or ''}:{_fingerprint(source.head)}"
    state = json.loads(node.store.meta(state_key) or '{"pages": 0, "last": null}')
    importer = _Importer(node, wiki_name, path)
    try:
        for batch, built in _built(importer, _read(importer, node, source, state)):
            _flush(node, importer, state_key, batch, built)
            if progress:
                progress(importer.summary, source.counter.count, total_bytes)
    except _StartOver:
        return _start_over(node, path, state_key, wiki_name, progress, total_bytes)
    return importer.summary


class _StartOver(Exception):
    """The page the last run ended on is not this dump's: the saved state is for another dump."""


def _read(importer: _Importer, node: Node, source, state: dict) -> Iterator[_Pages]:
    """The dump's pages in batches, skipping those a stopped run already imported; the last batch may be empty."""
    batch = _Pages()
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
                raise _StartOver()
            if importer.read(item):
                batch.add(item)
            if batch.full:
                batch.seen, batch.last = seen, last
                yield batch
                batch = _Pages()
    except DumpError as exc:
        importer.summary.error = exc
    batch.seen, batch.last = seen, last
    yield batch


def _built(importer: _Importer, batches: Iterator[_Pages]) -> Iterator[tuple[_Pages, BuiltBatch]]:
    """Each batch with its pages built and checked, in order: in the workers a few batches ahead, or
    here for a dump of one batch, for pages with files, and for a batch a worker could not link."""
    first = next(batches)
    second = next(batches, None)
    if second is None or not second.pages:
        yield first, importer.build_here(first)
        if second is not None:
            yield second, importer.build_here(second)
        return
    jobs = (importer.job(batch) for batch in chain([first, second], batches))
    for job, built in shared().ordered(jobs):
        batch = job.tag
        if batch.files or not importer.linked(built):
            built = importer.build_here(batch)
        yield batch, built


def _flush(node: Node, importer: _Importer, state_key: str, batch: _Pages, built: BuiltBatch) -> None:
    """Store the batch and record how far the import got, even when Ctrl-C lands right after the commit.

    The record is written when every block of the batch is in the store, so a
    resumed run never skips a page that is not in, and does not start over
    because the interruption fell between the commit and the record.
    """
    revisions = [b.cid for page, result in zip(batch.pages, built.pages, strict=True)  # page, text, rev, sig...
                 for b in result.blocks[2:1 + 3 * len(page.revisions):3]]
    record = json.dumps({"pages": batch.seen, "last": batch.last})
    try:
        importer.store(batch, built)
    except BaseException:
        if len(node.store.existing(revisions)) == len(set(revisions)):
            node.store.set_meta(state_key, record)
        raise
    node.store.set_meta(state_key, record)


def _start_over(node: Node, path: str, state_key: str, wiki_name: str | None, progress: Progress | None,
                total_bytes: int | None) -> ImportSummary:
    """The dump is not the one the saved state was for: import it from the start."""
    if path == "-":
        raise UserError("this dump differs from the one whose import was stopped; give it as a file, not stdin")
    node.store.set_meta(state_key, json.dumps({"pages": 0, "last": None}))
    return import_dump(node, path, wiki_name, progress, total_bytes)
