"""The one door: every object, from any source, enters the store here.

    decode -> check CID -> validate schema -> verify signatures
           -> policy -> one transaction

Each block gets a status: accepted, duplicate, held (something it needs has
not arrived; it is kept aside and accepted when that arrives), or rejected
with a reason a person can read. A batch commits in one transaction, so an
interruption leaves either all of it or none of it.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wikipeer.errors import Forgery, InvalidObject, WikipeerError
from wikipeer.model.block import Block, TamperedBlock
from wikipeer.model.cid import RAW, cid_to_str
from wikipeer.model.keys import verify
from wikipeer.model.media import NS_FILE, Chunk, File, digests
from wikipeer.model.objects import Ban, Blocklist, Notice, Page, Profile, Record, Revision, Signature, Text, Trust, parse
from wikipeer.model.sniff import inspect
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title
from wikipeer.policy.rules import Policy, required_signers
from wikipeer.store import indexer
from wikipeer.store.store import Store, Writer, notice_identity

if TYPE_CHECKING:
    from wikipeer.pipeline.prepared import Prepared

ACCEPTED, DUPLICATE, HELD, REJECTED = "accepted", "duplicate", "held", "rejected"
CALLER = "caller:"
"""Sources named so (``caller:ADDRESS``) sent blocks unasked, through the node's API: together
they may not take the held total past the node-wide bound."""


class HeldLimit(WikipeerError):
    """A batch would leave more waiting than a bound allows; it was refused whole."""

    exit_code = 2


@dataclass(slots=True)
class Status:
    """What became of one block."""

    cid: bytes
    state: str
    reason: str = ""
    forged: bool = False
    """Rejected as a forgery (see errors.Forgery): proof against whoever sent it."""

    def __str__(self) -> str:
        return f"{cid_to_str(self.cid)}: {self.state}" + (f" ({self.reason})" if self.reason else "")


@dataclass(slots=True)
class IngestReport:
    """Statuses of the blocks given, in their order, and how many held blocks were released."""

    statuses: list[Status] = field(default_factory=list)
    released: int = 0
    positions: tuple[int, int] | None = None
    """The log positions the accepted objects took, first and last."""

    def counts(self) -> Counter:
        return Counter(s.state for s in self.statuses)

    def rejected(self) -> list[Status]:
        return [s for s in self.statuses if s.state == REJECTED]

    def forgeries(self) -> list[Status]:
        return [s for s in self.statuses if s.forged]


class _Missing(Exception):
    """Raised inside the batch when an object needs a block that is not here."""

    def __init__(self, cid: bytes, what: str) -> None:
        super().__init__(what)
        self.cid = cid
        self.what = what


class _Batch:
    """The state of one ingest call inside its transaction.

    Revisions, signatures and profiles are attempted; pages and texts enter
    only when a revision that needs them is accepted, so a refused edit
    leaves nothing of itself behind.
    """

    def __init__(self, store: Store, writer: Writer, policy: Policy, source: str, shallow: bool = False) -> None:
        self.store, self.writer, self.policy, self.source = store, writer, policy, source
        self.now = int(time.time())
        self.shallow = shallow
        self.shallow_now = False
        self.pending: dict[bytes, tuple[Block, Record]] = {}
        self.sigs_for: dict[bytes, list[tuple[Block, Signature]]] = defaultdict(list)
        self.ids: dict[bytes, int] = {}
        self.rejected: dict[bytes, str] = {}
        self.active: set[bytes] = set()
        self.waiters: dict[bytes, list[bytes]] = defaultdict(list)
        self.missing: dict[bytes, _Missing] = {}
        self.state: dict[bytes, Status] = {}
        self.orphaned: set[bytes] = set()
        self.released = 0
        self.verified: set[bytes] = set()
        self.before: dict[bytes, int | None] = {}
        self.queue: deque[bytes] = deque()
        self.configs: dict[str, WikiConfig | None] = {}
        self.pages_checked: set[Page] = set()
        self.chunk_cids: set[bytes] = set()
        """Raw blocks a file of this batch names as its content: they are parsed as chunks, not texts."""

    # -- lookups --------------------------------------------------------

    def id_of(self, cid: bytes) -> int | None:
        oid = self.ids.get(cid)
        if oid is None:
            # What the store held before this batch does not change under it.
            if cid not in self.before:
                self.before[cid] = self.store.object_id(cid)
            oid = self.before[cid]
        return oid

    def add_pending(self, block: Block, record: Record) -> None:
        self.pending[block.cid] = (block, record)
        if isinstance(record, File):
            self.chunk_cids.update(record.chunks)
        if isinstance(record, Signature):
            self.sigs_for[record.target].append((block, record))

    def revive_waiting_for(self, cids: list[bytes]) -> None:
        """Bring into the batch the held blocks that wait for any of ``cids``."""
        for block, _ in self.writer.held_waiting_for(cids):
            self._revive(block)

    def _revive(self, block: Block) -> None:
        """Bring a held block into the batch, with everything held behind it (no recursion: chains are long)."""
        stack = [block]
        while stack:
            block = stack.pop()
            if block.cid in self.pending or block.cid in self.rejected or self.id_of(block.cid) is not None:
                continue
            try:
                record = parse(block, self.policy.max_text, chunk=block.cid in self.chunk_cids)
            except InvalidObject as exc:  # the rules changed since it was held
                self.writer.release(block.cid)
                self.rejected[block.cid] = str(exc)
                continue
            self.add_pending(block, record)
            self.queue.append(block.cid)
            self.released += 1
            stack += [held for held, _ in self.writer.held_waiting_for([block.cid])]

    def pending_or_held(self, cid: bytes) -> tuple[Block, Record] | None:
        """A block of this batch, reviving it from the held ones if it waits there."""
        if cid not in self.pending:
            held = self.writer.held_block(cid)
            if held is not None:
                self._revive(held[0])
        return self.pending.get(cid)

    def need(self, cid: bytes, what: str) -> int:
        """The id of a block this object needs; a page in the batch is accepted on the spot.

        Anything else that is not accepted yet raises _Missing: the object
        waits, and is tried again when that block is accepted.
        """
        if cid in self.rejected:
            raise InvalidObject(f"{what} {cid_to_str(cid)} was rejected: {self.rejected[cid]}")
        oid = self.id_of(cid)
        if oid is None:
            entry = self.pending_or_held(cid)
            if entry is not None and isinstance(entry[1], Page):
                self.attempt(cid)
                if cid in self.rejected:
                    raise InvalidObject(f"{what} {cid_to_str(cid)} was rejected: {self.rejected[cid]}")
                oid = self.id_of(cid)
        if oid is None:
            raise _Missing(cid, what)
        return oid

    # -- acceptance -----------------------------------------------------

    def attempt(self, cid: bytes) -> None:
        """Try to accept one pending object; it may end accepted, waiting or rejected."""
        if cid not in self.pending or cid in self.ids or cid in self.missing or cid in self.active:
            return
        block, record = self.pending[cid]
        self.active.add(cid)
        try:
            oid = self.accept(block, record)
        except _Missing as missing:
            self.missing[cid] = missing
            self.waiters[missing.cid].append(cid)
            return
        except InvalidObject as exc:
            self.reject(cid, str(exc), forged=isinstance(exc, Forgery))
            return
        finally:
            self.active.discard(cid)
        self.accepted(cid, oid)

    def accepted(self, cid: bytes, oid: int) -> None:
        """Record an acceptance and retry what waited for it."""
        self.ids[cid] = oid
        self.done(cid, ACCEPTED)
        self.writer.release(cid)
        for waiter in self.waiters.pop(cid, []):
            self.missing.pop(waiter, None)
            self.queue.append(waiter)
        self.revive_waiting_for([cid])

    def done(self, cid: bytes, state: str, reason: str = "", forged: bool = False) -> None:
        self.state[cid] = Status(cid, state, reason, forged)

    def reject(self, cid: bytes, reason: str, forged: bool = False) -> None:
        """Reject an object and everything in the batch that depends on it.

        Only the object itself counts as a forgery; what is refused because of it is not.
        """
        stack = [(cid, reason)]
        first = cid
        while stack:
            cid, reason = stack.pop()
            if cid in self.ids or (cid in self.state and self.state[cid].state == REJECTED):
                continue
            entry = self.pending.pop(cid, None)
            self.rejected[cid] = reason
            self.writer.release(cid)
            self.done(cid, REJECTED, reason, forged and cid == first)
            if entry is not None and isinstance(entry[1], Revision):
                self.orphaned.update((entry[1].page, entry[1].text))
            elif entry is not None and isinstance(entry[1], File):
                self.orphaned.update((entry[1].page, *entry[1].chunks))
            stack += [(sig.cid, f"it signs {cid_to_str(cid)}, which was rejected") for sig, _ in self.sigs_for.get(cid, [])]
            for waiter in self.waiters.pop(cid, []):
                self.missing.pop(waiter, None)
                stack.append((waiter, f"it needs {cid_to_str(cid)}, which was rejected"))

    def accept(self, block: Block, record: Record) -> int:
        if isinstance(record, Page):
            return self.accept_page(block, record)
        if isinstance(record, Revision):
            return self.accept_revision(block, record)
        if isinstance(record, File):
            return self.accept_file(block, record)
        if isinstance(record, Signature):
            target = self.need(record.target, "the object it signs")
            if block.cid in self.ids:  # accepted with its target just now
                return self.ids[block.cid]
            self.check_signature(block.cid, record)
            return self.writer.add_signature(block, record, target)
        if isinstance(record, (Profile, Ban, Trust, Blocklist)):
            self.signed_by_required(block.cid, record)
            self.check_notice(block.cid, record)
            oid = self.writer.add_notice(block, record)
            self.ids[block.cid] = oid
            self.add_signatures(block.cid, oid)
            return oid
        raise _Missing(block.cid, "a revision that uses this text")

    def check_notice(self, cid: bytes, record: Notice) -> None:
        """An issuer may publish one notice per name and number: a second, different one is refused."""
        kind, name, seq = notice_identity(record)
        other = self.store.notice_at(kind, record.key, name, seq)
        if other is not None and other != cid:
            raise InvalidObject(f"its issuer {record.key} already published a different {type(record).__name__.lower()} "
                                f"{name!r} with the number {seq}: a newer one needs a higher number")
        if isinstance(record, Blocklist):
            self.policy.check_blocklist(record)

    def accept_page(self, block: Block, page: Page) -> int:
        self.check_page(page)
        return self.writer.add_page(block, page)

    def config(self, wiki: str) -> WikiConfig | None:
        if wiki not in self.configs:
            self.configs[wiki] = self.store.wiki_config(wiki)
        return self.configs[wiki]

    def check_page(self, page: Page) -> None:
        """A page's title must be normalised by its wiki's rules, when this node knows the wiki."""
        if page in self.pages_checked:
            return
        config = self.config(page.wiki)
        if config is not None:
            try:
                normal = normalize_title(config, page.title, page.ns).text
                # Read back from its full form, the title must name this very page: {0, "Talk:Foo"}
                # would be a second GUID for {1, "Foo"}.
                if page.ns == 0 or config.namespaces.get(page.ns):
                    reread = normalize_title(config, config.full_title(page.ns, normal))
                    if (reread.ns, reread.text) != (page.ns, normal):
                        raise BadTitle(f"title {page.title!r} in namespace {page.ns} reads as "
                                       f"{reread.full!r} in namespace {reread.ns}")
            except BadTitle as exc:
                raise InvalidObject(f"page: {exc}") from None
            if normal != page.title:
                raise InvalidObject(f"page: title {page.title!r} is not normalised for wiki {page.wiki} (expected {normal!r})")
        self.pages_checked.add(page)

    def accept_revision(self, block: Block, rev: Revision) -> int:
        """Accept a revision; everything that can refuse it is checked before its page is written."""
        self.signed_by_required(block.cid, rev)
        parent_ids = [self.parent_id(p) for p in rev.parents]
        known_page = self.id_of(rev.page)
        for parent, parent_id in zip(rev.parents, parent_ids, strict=True):
            if parent_id is not None and self.writer.page_of_revision(parent_id) != known_page:
                raise InvalidObject(f"its parent {cid_to_str(parent)} is not a revision of the same page")
        text = self.find_text(rev)
        if self.policy.guard:
            parent_text = self.writer.text(self.writer.text_of_revision(parent_ids[0])) if parent_ids and parent_ids[0] else b""
            self.policy.check_added(parent_text.decode("utf-8"), text.decode("utf-8"))
        page_id = self.need(rev.page, "its page")
        text_id = self.id_of(rev.text)
        if text_id is None:
            base = self.writer.text_of_revision(parent_ids[0]) if parent_ids and parent_ids[0] else None
            text_id = self.writer.add_text(rev.text, text, base, self.writer.wiki_of_page(page_id))
            self.accepted(rev.text, text_id)
        oid = self.writer.add_revision(block, rev, page_id, text_id, parent_ids)
        self.ids[block.cid] = oid
        self.add_signatures(block.cid, oid)
        return oid

    def accept_file(self, block: Block, record: File) -> int:
        """Accept a file version once its bytes are here and are what it says: hashes, size, type, pixels.

        Its chunks are written to the packs only then, so a refused file leaves nothing behind.
        """
        self.signed_by_required(block.cid, record)
        if record.size > self.policy.max_file:
            raise InvalidObject(f"a file of {record.size} bytes exceeds this node's limit of {self.policy.max_file}")
        parts = [self.chunk_data(cid) for cid in record.chunks]
        sha256, sha1, size = digests(parts)
        if (sha256, size) != (record.sha256, record.size):
            raise InvalidObject(f"its chunks hold {size} bytes with SHA-256 {sha256}, not the {record.size} bytes "
                                f"with SHA-256 {record.sha256} it names (wrong or damaged chunk list)")
        if sha1 != record.sha1:
            raise InvalidObject(f"file.sha1 says {record.sha1} but the bytes' SHA-1 is {sha1}")
        head = b"".join(parts) if size <= 16 << 20 else b"".join(parts[:4])
        info = inspect(head)
        if (info.mime, info.width, info.height) != (record.mime, record.width, record.height):
            raise InvalidObject(f"it says {record.mime} {record.width}x{record.height} but the bytes are "
                                f"{info.mime} {info.width}x{info.height}")
        page_id = self.need(record.page, "its page")
        self.check_file_page(record.page)
        if record.desc is not None:
            desc_id = self.need(record.desc, "its description revision")
            if self.writer.page_of_revision(desc_id) != page_id:
                raise InvalidObject(f"its description revision {cid_to_str(record.desc)} is not of its page")
        for cid, data in zip(record.chunks, parts, strict=True):
            if self.id_of(cid) is None:
                self.accepted(cid, self.writer.add_chunk(Block(cid, data)))
        oid = self.writer.add_file(block, record, page_id)
        self.ids[block.cid] = oid
        self.add_signatures(block.cid, oid)
        return oid

    def chunk_data(self, cid: bytes) -> bytes:
        """The bytes of a file's chunk, from this batch or the store."""
        if cid in self.rejected:
            raise InvalidObject(f"its chunk {cid_to_str(cid)} was rejected: {self.rejected[cid]}")
        oid = self.id_of(cid)
        if oid is not None:
            return self.writer.raw(oid, cid)
        entry = self.pending_or_held(cid)
        if entry is None:
            raise _Missing(cid, "its content")
        return entry[0].data

    def check_file_page(self, page_cid: bytes) -> None:
        entry = self.pending.get(page_cid)
        page = entry[1] if entry is not None else None
        if page is None:
            row = self.store.page_by_id(self.id_of(page_cid))
            page = Page(row.wiki, row.ns, row.title)
        if not isinstance(page, Page) or page.ns != NS_FILE:
            raise InvalidObject("a file belongs to a page in the File: namespace (6)")

    def parent_id(self, cid: bytes) -> int | None:
        """A parent's id; None for one a shallow batch lets go missing (see settle)."""
        try:
            return self.need(cid, "its parent revision")
        except _Missing:
            if self.shallow_now and cid not in self.pending:
                return None
            raise

    def find_text(self, rev: Revision) -> bytes:
        """The bytes of a revision's text, wherever they are, checked against its size."""
        if rev.text in self.rejected:
            raise InvalidObject(f"its text {cid_to_str(rev.text)} was rejected: {self.rejected[rev.text]}")
        oid = self.id_of(rev.text)
        if oid is not None:
            text = self.writer.text(oid)
        else:
            entry = self.pending_or_held(rev.text)
            if entry is None:
                raise _Missing(rev.text, "its text")
            text = entry[0].data
        self.check_size(rev, len(text))
        return text

    @staticmethod
    def check_size(rev: Revision, actual: int) -> None:
        if rev.size != actual:
            raise InvalidObject(f"rev.size says {rev.size} bytes but its text has {actual}")

    # -- signatures -----------------------------------------------------

    def valid(self, cid: bytes, sig: Signature) -> bool:
        """Verify a signature once per batch."""
        if cid in self.verified:
            return True
        if verify(sig.key, sig.target, sig.role, sig.sig):
            self.verified.add(cid)
            return True
        return False

    def check_signature(self, cid: bytes, sig: Signature) -> None:
        if not self.valid(cid, sig):
            raise Forgery(f"signature by {sig.key} does not verify (forged or corrupted)")

    def signed_by_required(self, cid: bytes, record: Revision | File | Notice) -> None:
        """Verify the signatures given for ``cid``; raise unless a required one is valid."""
        key, roles = required_signers(record)
        good = False
        bad: list[str] = []
        for sig_block, sig in list(self.sigs_for.get(cid, [])):
            if sig_block.cid in self.rejected:
                continue
            if not self.valid(sig_block.cid, sig):
                bad.append(sig.key)
                self.reject(sig_block.cid, f"signature by {sig.key} does not verify (forged or corrupted)", forged=True)
            elif sig.role in roles and (key is None or sig.key == key):
                good = True
        if good:
            return
        who = f"its author {key}" if key else "a node or author key"
        if bad:
            raise Forgery(f"forged signature: the signature by {bad[0]} does not verify, and none by {who} does")
        raise InvalidObject(f"unsigned: no valid signature by {who} came with it")

    def add_signatures(self, target: bytes, target_id: int) -> None:
        for sig_block, sig in self.sigs_for.get(target, []):
            cid = sig_block.cid
            if cid in self.pending and cid not in self.ids and cid not in self.rejected and self.id_of(cid) is None:
                self.check_signature(cid, sig)
                self.accepted(cid, self.writer.add_signature(sig_block, sig, target_id))

    def run(self) -> None:
        """Attempt every object in the batch, and again whatever gets unblocked on the way."""
        self.queue.extend(self.pending)
        self.run_queue()
        if self.shallow:
            self.accept_shallow()

    def run_queue(self) -> None:
        checked: set[bytes] = set()
        while self.queue:
            cid = self.queue.popleft()
            entry = self.pending.get(cid)
            if entry is None:
                continue
            if isinstance(entry[1], Page):
                if cid not in checked:
                    checked.add(cid)
                    try:
                        self.check_page(entry[1])
                    except InvalidObject as exc:
                        self.reject(cid, str(exc))
            elif not isinstance(entry[1], (Text, Chunk)):
                self.attempt(cid)

    # -- the end of the batch --------------------------------------------

    def accept_shallow(self) -> None:
        """In a shallow batch, accept the revisions whose parents did not come.

        Only after everything that could arrive in the batch was tried: a parent
        that is here is always linked.
        """
        self.shallow_now = True
        waiting = [cid for cid, m in self.missing.items() if m.what == "its parent revision"]
        for cid in waiting:
            self.missing.pop(cid, None)
            self.queue.append(cid)
        self.run_queue()
        self.shallow_now = False

    def settle(self) -> None:
        """Hold what waits for something absent; reject what only a rejected revision needed.

        Only so much may wait (Policy.max_held*, see check_held): a stream of
        texts no revision ever uses cannot fill the store.
        """
        held = False
        for cid, (block, record) in self.pending.items():
            if cid in self.ids or cid in self.rejected:
                continue
            if isinstance(record, (Text, Page, Chunk)) and cid in self.orphaned:
                self.done(cid, REJECTED, f"the {'file' if isinstance(record, Chunk) else 'revision'} it came with "
                                         "was rejected")
                self.writer.release(cid)
                continue
            held = True
            if isinstance(record, (Text, Page, Chunk)):
                self.writer.hold(block, cid, self.source, self.now)
                self.done(cid, HELD, f"waiting for a {'file' if isinstance(record, Chunk) else 'revision'} that uses it")
                continue
            missing = self.missing.get(cid)
            waiting = missing.cid if missing else getattr(record, "target", cid)
            what = missing.what if missing else "the object it signs"
            self.writer.hold(block, waiting, self.source, self.now)
            self.done(cid, HELD, f"waiting for {what} {cid_to_str(waiting)}")
        if held:  # only batches that hold anything pay for counting
            self.check_held()

    def check_held(self) -> None:
        """Raise HeldLimit when what waits now is past a bound: the whole batch is then rolled back.

        Each source has its own bound; callers of the node's API (``CALLER``
        sources) also may not take the node-wide total past its bound.
        """
        policy = self.policy
        count, size = self.writer.held_by(self.source)
        if count > policy.max_held or size > policy.max_held_bytes:
            raise HeldLimit(f"{self.source} would leave {count} objects ({size} bytes) waiting for what has not "
                            f"come; one source may leave at most {policy.max_held} objects and "
                            f"{policy.max_held_bytes} bytes: nothing of this batch was kept")
        if self.source.startswith(CALLER):
            count, size = self.writer.held_by(None)
            if count > policy.max_held_total or size > policy.max_held_total_bytes:
                raise HeldLimit(f"this node would have {count} objects ({size} bytes) waiting for what has not come; "
                                f"callers may not take it past {policy.max_held_total} objects and "
                                f"{policy.max_held_total_bytes} bytes: nothing of this batch was kept; try later")


def ingest(store: Store, blocks: Iterable[Block], source: str, policy: Policy | None = None,
           shallow: bool = False, prepared: Prepared | None = None) -> IngestReport:
    """Validate and store ``blocks`` in one transaction; return a status for each.

    ``shallow``: a page's history fetched to a chosen depth; revisions whose
    parents did not come are accepted, their parent links kept by CID.
    The pages touched are only marked for the search index, in the same
    transaction: the indexer builds it behind (store/indexer.py).
    ``prepared``: what the pipeline's workers computed for exactly these
    blocks (parsed records, verified signatures, compressed texts), used
    instead of computing it again here; results for other blocks are ignored.
    """
    policy = policy or Policy()
    blocks = list(blocks)
    if prepared is not None and not prepared.fits(blocks, policy.max_text):
        prepared = None
    chunk_cids = _chunks_named(blocks, policy, store)
    order: list[bytes] = []
    early: dict[bytes, Status] = {}
    refused: dict[bytes, str] = {}
    tampered: dict[int, Status] = {}
    parsed: dict[bytes, tuple[Block, Record]] = {}
    for position, block in enumerate(blocks):
        order.append(block.cid)
        if block.cid in parsed:
            continue
        try:
            chunk = block.cid in chunk_cids
            record = prepared.parse(position, block, chunk) if prepared else parse(block, policy.max_text, chunk=chunk)
            parsed[block.cid] = (block, record)
        except TamperedBlock as exc:
            # Bytes that do not match their CID say nothing of the genuine block,
            # which may come later in the same batch.
            tampered[position] = Status(block.cid, REJECTED, str(exc), forged=True)
        except InvalidObject as exc:
            early[block.cid] = Status(block.cid, REJECTED, str(exc))
            refused[block.cid] = str(exc)
    with store.write() as writer:
        batch = _Batch(store, writer, policy, source, shallow)
        writer.purge_held(batch.now - policy.held_seconds)
        batch.rejected.update(refused)
        if prepared is not None:
            batch.verified |= prepared.verified
            writer.packed = prepared.packed_texts()
        have = store.existing(list(parsed))
        for cid, (block, record) in parsed.items():
            if cid in have:
                early[cid] = Status(cid, DUPLICATE, "already held")
            else:
                batch.before[cid] = None  # the query just made says so: id_of need not ask again
                batch.add_pending(block, record)
        batch.revive_waiting_for(list(batch.pending) + list(early))
        batch.run()
        batch.settle()
        writer.flush()
        indexer.mark(writer, writer.touched_pages)
    report = IngestReport(released=batch.released, positions=writer.positions)
    seen: set[bytes] = set()
    for position, cid in enumerate(order):
        status = tampered.get(position)
        if status is None and cid not in seen and (cid in parsed or cid in early):
            status = batch.state.get(cid) or early.get(cid)
            seen.add(cid)
        report.statuses.append(status or Status(cid, DUPLICATE, "given twice"))
    return report


def _chunks_named(blocks: list[Block], policy: Policy, store: Store) -> set[bytes]:
    """The raw blocks that file objects name as content: those among ``blocks``, and held files
    waiting for their content (a raw block is a text otherwise)."""
    named: set[bytes] = set()
    raw: list[bytes] = []
    for block in blocks:
        if block.codec == RAW:
            raw.append(block.cid)
        elif b"\x64file" in block.data:  # the CBOR text "file": only then is it worth parsing twice
            named.update(_file_chunks(block, policy))
    for held in store.held_waiting_on(raw):
        if b"\x64file" in held.data:
            named.update(_file_chunks(held, policy))
    return named


def _file_chunks(block: Block, policy: Policy) -> tuple[bytes, ...]:
    try:
        record = parse(block, policy.max_text)
    except InvalidObject:
        return ()  # the main pass reports it
    return record.chunks if isinstance(record, File) else ()
