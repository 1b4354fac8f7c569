"""Batches of blocks on their way to the door, prepared in the workers a few batches ahead.

A stream of one small batch (a local edit, a short sync) is checked in this
process: starting the workers would cost more than the checks (see
docs/architecture.md, "Pipeline", for the measurement behind SMALL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING

from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str

if TYPE_CHECKING:  # the workers' modules load only when a stream is worth them (a no-op sync stays fast)
    from wikipeer.pipeline.pool import Job, Pool
    from wikipeer.pipeline.prepared import Prepared

SMALL = 5000
"""Blocks below which a lone batch is checked in this process: starting the workers took 0.4 s here,
checking 5,000 blocks (about 1,700 signed revisions) in one process takes about as long."""


def _job(blocks: list[Block], max_text: int, source: str) -> Job[Prepared]:
    from wikipeer.pipeline.pool import Job
    from wikipeer.pipeline.prepared import prepare_job

    return Job(prepare_job, (blocks, max_text), lambda i: f"block {cid_to_str(blocks[i].cid)} from {source}",
               f"a batch of {len(blocks)} blocks from {source} (first {cid_to_str(blocks[0].cid)})", blocks)


def prepared_batches(batches: Iterable[list[Block]], max_text: int, source: str,
                     pool: Pool | None = None) -> Iterator[tuple[list[Block], Prepared | None]]:
    """Each batch with what the workers computed for it (None: the door computes it all), in order.

    The workers run ahead of the caller by a few batches at most.
    """
    batches = iter(batches)
    first = next(batches, None)
    if first is None:
        return
    second = next(batches, None)
    if second is None and len(first) < SMALL:
        yield first, None
        return
    from wikipeer.pipeline.pool import shared

    pool = pool or shared()
    rest = chain([first] if second is None else [first, second], batches)
    for job, prepared in pool.ordered(_job(batch, max_text, source) for batch in rest):
        prepared.blocks = job.tag  # this process's own block objects: the door checks it holds these
        yield job.tag, prepared


def prepare_batch(blocks: list[Block], max_text: int, source: str, pool: Pool | None = None) -> Prepared | None:
    """One big batch prepared in slices, a slice per worker; None for a small one."""
    if len(blocks) < SMALL:
        return None
    from wikipeer.pipeline.pool import shared
    from wikipeer.pipeline.prepared import merged

    pool = pool or shared()
    size = -(-len(blocks) // pool.workers)
    slices = [blocks[i:i + size] for i in range(0, len(blocks), size)]
    parts = [prepared for _, prepared in pool.ordered((_job(s, max_text, source) for s in slices),
                                                      ahead=len(slices) + 1)]
    return merged(parts, blocks, max_text)
