"""A batch of dump pages made into signed blocks and checked, as a pipeline worker does it (pure: no I/O).

The work of an import that depends only on the pages' bytes: titles
normalised, texts hashed, revisions encoded and signed with the node key
(dump_convert.page_blocks), then the door's checks (pipeline.prepared). The
importer hands the results to the door in dump order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import nacl.signing

from wikipeer.formats.dump_convert import page_blocks
from wikipeer.formats.dump_reader import DumpPage
from wikipeer.model.block import Block
from wikipeer.model.title import WikiConfig
from wikipeer.pipeline.prepared import Prepared, prepare


@dataclass(slots=True)
class BuiltPage:
    """One page's blocks and revision CIDs by dump id, or why it cannot be imported.

    ``unresolved``: ``<parentid>``s that name no revision of this batch: the
    importer looks them up in the store when the batch's turn comes (the
    revisions of earlier batches are in by then), and builds the page again
    if one is found there.
    """

    blocks: list[Block] = field(default_factory=list)
    ids: dict[int, bytes] = field(default_factory=dict)
    unresolved: list[int] = field(default_factory=list)
    problem: str | None = None
    files: set[bytes] = field(default_factory=set)
    """The CIDs of its file versions (pages with files are built by the importer itself)."""


@dataclass(slots=True)
class BuiltBatch:
    """A batch of pages built, and the door's checks of all their blocks, in order."""

    pages: list[BuiltPage]
    prepared: Prepared | None = None


@lru_cache(maxsize=4)
def _signing_key(seed: bytes) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(seed)


def build_pages(config: WikiConfig, site: str, pages: list[DumpPage], seed: bytes, node_key: str,
                max_text: int, progress: Callable[[int], None] | None = None,
                known: Callable[[int], bytes | None] | None = None) -> BuiltBatch:
    """Blocks for ``pages`` (none of them with files), signed with the node key whose seed is ``seed``.

    A ``<parentid>`` is looked up among the batch's earlier pages, then with
    ``known`` (the store, when this runs in the writer); ``progress(i)`` is
    called before page ``i``.
    """
    key = _signing_key(seed)
    by_id: dict[int, bytes] = {}
    built: list[BuiltPage] = []
    for number, page in enumerate(pages):
        if progress is not None:
            progress(number)
        out = BuiltPage()

        def parent(rev_id: int) -> bytes | None:
            found = by_id.get(rev_id) or (known(rev_id) if known is not None else None)
            if found is None:
                out.unresolved.append(rev_id)
            return found

        try:
            out.blocks, out.ids = page_blocks(config, site, page, key, node_key, parent)
        except ValueError as exc:
            out.problem = str(exc)
        by_id.update(out.ids)
        built.append(out)
    blocks = [b for page in built for b in page.blocks]
    return BuiltBatch(built, prepare(blocks, max_text) if blocks else None)


def build_job(config: WikiConfig, site: str, pages: list[DumpPage], seed: bytes, node_key: str,
              max_text: int, progress: Callable[[int], None] | None = None) -> BuiltBatch:
    """build_pages as a worker runs it: the checked blocks are not sent back twice."""
    batch = build_pages(config, site, pages, seed, node_key, max_text, progress)
    if batch.prepared is not None:
        batch.prepared.blocks = []
    return batch
