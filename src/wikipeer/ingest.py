"""The one door: every object, from any source, enters the store here.

    decode -> check CID -> validate schema -> verify signatures
           -> policy -> one transaction

Each block gets a status: accepted, duplicate, held (something it needs has
not arrived; it is kept aside and accepted when that arrives), or rejected
with a reason a person can read. A batch commits in one transaction, so an
interruption leaves either all of it or none of it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import verify
from wikipeer.model.objects import Page, Profile, Record, Revision, Signature, Text, parse
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.policy.rules import Policy, required_signers
from wikipeer.policy.view import View
from wikipeer.store.schema import KIND_PROFILE
from wikipeer.store.store import Store, Writer

ACCEPTED, DUPLICATE, HELD, REJECTED = "accepted", "duplicate", "held", "rejected"


@dataclass(slots=True)
class Status:
    """What became of one block."""

    cid: bytes
    state: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{cid_to_str(self.cid)}: {self.state}" + (f" ({self.reason})" if self.reason else "")


@dataclass(slots=True)
class IngestReport:
    """Statuses of the blocks given, in their order, and how many held blocks were released."""

    statuses: list[Status] = field(default_factory=list)
    released: int = 0

    def counts(self) -> Counter:
        return Counter(s.state for s in self.statuses)

    def rejected(self) -> list[Status]:
        return [s for s in self.statuses if s.state == REJECTED]


class _Missing(Exception):
    """Raised inside the batch when an object needs a block that is not here."""

    def __init__(self, cid: bytes, what: str) -> None:
        super().__init__(what)
        self.cid = cid
        self.what = what


class _Batch:
    """The state of one ingest call inside its transaction."""

    def __init__(self, store: Store, writer: Writer, policy: Policy, source: str) -> None:
        self.store, self.writer, self.policy, self.source = store, writer, policy, source
        self.pending: dict[bytes, tuple[Block, Record]] = {}
        self.sigs_for: dict[bytes, list[tuple[Block, Signature]]] = defaultdict(list)
        self.ids: dict[bytes, int] = {}
        self.waiters: dict[bytes, list[bytes]] = defaultdict(list)
        self.missing: dict[bytes, _Missing] = {}
        self.state: dict[bytes, Status] = {}
        self.released = 0
        self.verified: set[bytes] = set()
        self.before: dict[bytes, int | None] = {}

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
        if isinstance(record, Signature):
            self.sigs_for[record.target].append((block, record))

    def from_held(self, cid: bytes) -> bool:
        """Bring a held block into this batch; True when there was one."""
        held = self.writer.held_block(cid)
        if held is None:
            return False
        self._revive(held[0])
        return True

    def _revive(self, block: Block) -> None:
        if block.cid in self.pending or self.id_of(block.cid) is not None:
            return
        self.add_pending(block, parse(block, self.policy.max_text))
        self.released += 1
        if isinstance(self.pending[block.cid][1], Signature):
            return
        for sig_block, _ in self.writer.held_waiting_for([block.cid]):
            self._revive(sig_block)

    def need(self, cid: bytes, what: str) -> int:
        """The id of a block this object needs, accepting it first if it is in the batch."""
        oid = self.id_of(cid)
        if oid is None and (cid in self.pending or self.from_held(cid)):
            self.attempt(cid)
            oid = self.id_of(cid)
        if oid is None:
            raise _Missing(cid, what)
        return oid

    # -- acceptance -----------------------------------------------------

    def attempt(self, cid: bytes) -> None:
        """Try to accept one pending object; it may end accepted, waiting or rejected."""
        if cid not in self.pending or cid in self.ids or cid in self.missing:
            return
        block, record = self.pending[cid]
        try:
            oid = self.accept(block, record)
        except _Missing as missing:
            self.missing[cid] = missing
            self.waiters[missing.cid].append(cid)
            return
        except InvalidObject as exc:
            self.reject(cid, str(exc))
            return
        if oid is None:
            return
        self.ids[cid] = oid
        self.done(cid, ACCEPTED)
        self.writer.release(cid)
        for waiter in self.waiters.pop(cid, []):
            self.missing.pop(waiter, None)
            self.attempt(waiter)
        for held, _ in self.writer.held_waiting_for([cid]):
            self._revive(held)
            self.attempt(held.cid)

    def done(self, cid: bytes, state: str, reason: str = "") -> None:
        self.state[cid] = Status(cid, state, reason)

    def reject(self, cid: bytes, reason: str) -> None:
        self.pending.pop(cid, None)
        self.writer.release(cid)
        self.done(cid, REJECTED, reason)
        for waiter in self.waiters.pop(cid, []):
            self.missing.pop(waiter, None)
            self.reject(waiter, f"it needs {cid_to_str(cid)}, which was rejected")

    def accept(self, block: Block, record: Record) -> int | None:
        if isinstance(record, Page):
            return self.accept_page(block, record)
        if isinstance(record, Revision):
            return self.accept_revision(block, record)
        if isinstance(record, Signature):
            target = self.need(record.target, "the object it signs")
            if record.target in self.ids and block.cid in self.ids:
                return self.ids[block.cid]
            self.check_signature(block.cid, record)
            return self.writer.add_signature(block, record, target)
        if isinstance(record, Profile):
            self.signed_by_required(block.cid, record)
            oid = self.writer.add_object(block.cid, KIND_PROFILE, block.data)
            self.ids[block.cid] = oid
            self.add_signatures(block.cid, oid)
            return oid
        return None  # a text enters with the revision that names it

    def accept_page(self, block: Block, page: Page) -> int:
        config = self.store.wiki_config(page.wiki)
        if config is not None:
            try:
                normal = normalize_title(config, page.title, page.ns).text
            except BadTitle as exc:
                raise InvalidObject(f"page: {exc}") from None
            if normal != page.title:
                raise InvalidObject(f"page: title {page.title!r} is not normalised for wiki {page.wiki} (expected {normal!r})")
        return self.writer.add_page(block, page)

    def accept_revision(self, block: Block, rev: Revision) -> int:
        self.signed_by_required(block.cid, rev)
        page_id = self.need(rev.page, "its page object")
        parent_ids = [self.need(p, "a parent revision") for p in rev.parents]
        text_id = self.accept_text(rev, parent_ids)
        oid = self.writer.add_revision(block, rev, page_id, text_id, parent_ids)
        self.ids[block.cid] = oid
        self.add_signatures(block.cid, oid)
        return oid

    def accept_text(self, rev: Revision, parent_ids: list[int]) -> int:
        oid = self.id_of(rev.text)
        if oid is None:
            if rev.text not in self.pending and not self.from_held(rev.text):
                raise _Missing(rev.text, "its text")
            text_block = self.pending[rev.text][0]
            self.check_size(rev, len(text_block.data))
            base = self.writer.text_of_revision(parent_ids[0]) if parent_ids else None
            oid = self.writer.add_text(rev.text, text_block.data, base)
            self.ids[rev.text] = oid
            self.done(rev.text, ACCEPTED)
            self.writer.release(rev.text)
        else:
            self.check_size(rev, len(self.writer.text(oid)))
        return oid

    @staticmethod
    def check_size(rev: Revision, actual: int) -> None:
        if rev.size != actual:
            raise InvalidObject(f"rev.size says {rev.size} bytes but its text has {actual}")

    # -- signatures -----------------------------------------------------

    def candidate_sigs(self, target: bytes) -> list[tuple[Block, Signature]]:
        for held, _ in self.writer.held_waiting_for([target]):
            if held.cid not in self.pending:
                self._revive(held)
        return self.sigs_for.get(target, [])

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
            raise InvalidObject(f"signature by {sig.key} does not verify (forged or corrupted)")

    def signed_by_required(self, cid: bytes, record: Revision | Profile) -> None:
        """Verify the signatures given for ``cid``; raise unless a required one is valid."""
        key, roles = required_signers(record)
        good = False
        bad: list[str] = []
        for sig_block, sig in self.candidate_sigs(cid):
            if not self.valid(sig_block.cid, sig):
                bad.append(sig.key)
                self.reject(sig_block.cid, f"signature by {sig.key} does not verify (forged or corrupted)")
            elif sig.role in roles and (key is None or sig.key == key):
                good = True
        if good:
            return
        who = f"its author {key}" if key else "a node or author key"
        if bad:
            raise InvalidObject(f"forged signature: the signature by {bad[0]} does not verify, and none by {who} does")
        raise InvalidObject(f"unsigned: no valid signature by {who} came with it")

    def add_signatures(self, target: bytes, target_id: int) -> None:
        for sig_block, sig in self.sigs_for.get(target, []):
            if sig_block.cid in self.pending and self.id_of(sig_block.cid) is None and sig_block.cid not in self.state:
                self.check_signature(sig_block.cid, sig)
                self.ids[sig_block.cid] = self.writer.add_signature(sig_block, sig, target_id)
                self.done(sig_block.cid, ACCEPTED)
                self.writer.release(sig_block.cid)

    # -- the end of the batch --------------------------------------------

    def hold_the_rest(self) -> None:
        for cid, (block, record) in self.pending.items():
            if cid in self.ids or cid in self.state:
                continue
            if isinstance(record, Text):
                self.writer.hold(block, cid, self.source)
                self.done(cid, HELD, "waiting for a revision that uses this text")
            elif isinstance(record, Signature) and record.target in self.missing:
                waiting = record.target
                self.writer.hold(block, waiting, self.source)
                self.done(cid, HELD, f"waiting for {cid_to_str(waiting)}")
            else:
                missing = self.missing.get(cid)
                waiting = missing.cid if missing else getattr(record, "target", cid)
                self.writer.hold(block, waiting, self.source)
                what = missing.what if missing else "the object it signs"
                self.done(cid, HELD, f"waiting for {what} {cid_to_str(waiting)}")


def ingest(store: Store, blocks: Iterable[Block], source: str, policy: Policy | None = None,
           view: View | None = None) -> IngestReport:
    """Validate and store ``blocks`` in one transaction; return a status for each."""
    policy = policy or Policy()
    order: list[bytes] = []
    report = IngestReport()
    early: dict[bytes, Status] = {}
    parsed: list[tuple[Block, Record]] = []
    for block in blocks:
        order.append(block.cid)
        if block.cid in early or any(block.cid == b.cid for b, _ in parsed[-1:]):
            early.setdefault(block.cid, Status(block.cid, DUPLICATE, "given twice"))
            continue
        try:
            record = parse(block, policy.max_text)
        except InvalidObject as exc:
            early[block.cid] = Status(block.cid, REJECTED, str(exc))
            continue
        parsed.append((block, record))
    with store.write() as writer:
        batch = _Batch(store, writer, policy, source)
        have = store.existing([b.cid for b, _ in parsed])
        for block, record in parsed:
            if block.cid in batch.pending or block.cid in have:
                early[block.cid] = Status(block.cid, DUPLICATE, "already held" if block.cid not in batch.pending else "given twice")
                continue
            batch.add_pending(block, record)
        for cid in list(batch.pending):
            if not isinstance(batch.pending[cid][1], Text):
                batch.attempt(cid)
        batch.hold_the_rest()
        writer.flush()
        _reindex(store, writer, view or View())
    seen: set[bytes] = set()
    for cid in order:
        first = cid not in seen
        seen.add(cid)
        status = batch.state.get(cid) if first else None
        report.statuses.append(status or early.get(cid) or Status(cid, DUPLICATE, "given twice"))
    report.released = batch.released - sum(1 for s in report.statuses if s.cid in batch.state and False)
    return report


def _reindex(store: Store, writer: Writer, view: View) -> None:
    """Put the shown head of every page this batch touched into the search index."""
    for page_id in writer.touched_pages:
        head = view.choose(store.heads(page_id))
        if head is not None:
            page = store.page_by_id(page_id)
            config = store.wiki_config(page.wiki)
            prefix = config.namespace_prefix(page.ns) if config else ""
            writer.index_page(page_id, f"{prefix}:{page.title}" if prefix else page.title, head.id)
