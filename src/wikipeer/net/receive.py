"""Taking in a stream of blocks from a peer, a batch at a time, through the one door."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from wikipeer.errors import InvalidObject
from wikipeer.ingest import ACCEPTED, DUPLICATE, HELD, REJECTED, IngestReport
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW
from wikipeer.model.objects import parse
from wikipeer.node import Node
from wikipeer.policy.rules import MAX_TEXT
from wikipeer.store.store import Store

BATCH_BLOCKS = 2000
BATCH_BYTES = 64 << 20
"""A batch ends past this many bytes too (file chunks are up to 4 MiB each), at the next point where it may end."""
HARD_BATCH_BYTES = (1 << 30) + BATCH_BYTES
"""Past this a batch ends wherever it is: more than a file at the door's limit (Policy.max_file) and its object."""
MAX_REASONS = 20


@dataclass(slots=True)
class Tally:
    """What became of a stream's blocks."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    forgeries: int = 0
    reasons: list[str] = field(default_factory=list)
    forgery: str | None = None  # the first forgery's reason: what a ban names
    ranges: list[tuple[int, int]] = field(default_factory=list)
    held_cids: set[bytes] = field(default_factory=set)
    """What this stream left held and may since have been released (by a later batch) or dropped."""

    @property
    def held(self) -> int:
        """How many of this stream's blocks wait for something still."""
        return len(self.held_cids)

    def add(self, report: IngestReport) -> None:
        counts = report.counts()
        self.accepted += counts[ACCEPTED]
        self.duplicates += counts[DUPLICATE]
        for status in report.statuses:  # a block sent again is counted by its latest status only
            if status.state == HELD:
                self.held_cids.add(status.cid)
            else:
                self.held_cids.discard(status.cid)
        self.rejected += counts[REJECTED]
        forged = report.forgeries()
        self.forgeries += len(forged)
        if forged and self.forgery is None:
            self.forgery = str(forged[0])
        rejected = sorted(report.rejected(), key=lambda s: not s.forged)  # forgeries first
        self.reasons += [str(s) for s in rejected][:MAX_REASONS - len(self.reasons)]
        if report.positions:
            self.ranges.append(report.positions)

    def recount_held(self, store: Store) -> None:
        """``held`` as it stands now: what a later batch released counts as accepted, what was dropped not at all.

        A status says "held" when its batch ends; the parent it waited for may
        come in the next batch, or the next request of the same sync.
        """
        still = store.still_held(list(self.held_cids))
        self.accepted += len(store.existing(list(self.held_cids - still)))
        self.held_cids = still

    def extend(self, other: "Tally") -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.held_cids |= other.held_cids
        self.rejected += other.rejected
        self.forgeries += other.forgeries
        self.forgery = self.forgery or other.forgery
        self.reasons += other.reasons[:MAX_REASONS - len(self.reasons)]
        self.ranges += other.ranges

    def to_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "held": self.held,
                "rejected": self.rejected, "forgeries": self.forgeries, "reasons": self.reasons}


def first_causes(reasons: list[str], refused: int, shown: int = 5) -> list[str]:
    """The reasons a person needs of ``refused`` objects: a few causes, then how many more were refused
    (mostly what came with a refused revision: its page, text and signatures, "... was rejected)")."""
    causes = [r for r in reasons if "was rejected)" not in r] or reasons
    more = refused - len(causes[:shown])
    return causes[:shown] + ([f"... and {more} more (most came with what was refused)"] if more > 0 else [])


def take(node: Node, blocks: Iterable[Block], source: str, stop_on_forgery: bool = True,
         shallow: bool = False, batch_size: int | None = None) -> Tally:
    """Ingest ``blocks`` in batches; each batch commits on its own, so an interruption keeps what came.

    The batches are checked in the pipeline's workers a few batches ahead of
    the door (pipeline.feed); a stream of one small batch in this process.

    With ``stop_on_forgery`` the first batch holding a forgery ends the stream:
    a peer that lies once is not read further. ``shallow``: see ingest. The
    pages taken are marked for the search index, which the indexer builds
    behind (a page changed by many batches is indexed once).
    """
    from wikipeer.pipeline.feed import prepared_batches  # the workers start only for a stream worth them

    tally = Tally()
    for batch, prepared in prepared_batches(batches(blocks, batch_size or BATCH_BLOCKS), node.policy().max_text, source):
        report = node.ingest(batch, source, shallow=shallow, prepared=prepared)
        tally.add(report)
        if stop_on_forgery and tally.forgeries:
            break
    tally.recount_held(node.store)
    return tally


def _is_signature(block: Block) -> bool:
    # A signature's canonical map starts with its shortest key, "t": "sig".
    return block.data[1:7] == b"\x61t\x63sig"


def _binary(block: Block) -> bool:
    """A raw block the door would not take as a text (not UTF-8, control characters...): only a chunk."""
    if block.codec != RAW:
        return False
    try:
        parse(block, MAX_TEXT)
    except InvalidObject:
        return True
    return False


def batches(blocks: Iterable[Block], size: int = BATCH_BLOCKS, max_bytes: int | None = None) -> Iterator[list[Block]]:
    """Blocks in batches of about ``size`` blocks or ``max_bytes`` bytes, each ending only where it may.

    Ingest wants a revision's signatures in its batch (cut between them, the
    revision would be refused as unsigned), and a binary chunk with its file:
    what a raw block is (a text or a chunk) depends on the object that names
    it, and every log sends a file's chunks right before the file. A raw block
    that is no text (not UTF-8, or with characters a text may not hold) can
    only be a chunk, and would be refused as a text in a batch without its
    file; so a batch never ends before a signature nor right after such a
    block. (A chunk that reads as a text, of an SVG say, waits as a text and is
    taken as a chunk when its file comes.) Only a run of binary blocks past
    HARD_BATCH_BYTES, more than any file the door takes, is cut.
    """
    max_bytes = max_bytes or BATCH_BYTES
    batch: list[Block] = []
    held = 0
    for block in blocks:
        full = len(batch) >= size or held >= max_bytes
        if batch and ((full and not _is_signature(block) and not _binary(batch[-1])) or held >= HARD_BATCH_BYTES):
            yield batch
            batch, held = [], 0
        batch.append(block)
        held += len(block.data)
    if batch:
        yield batch
