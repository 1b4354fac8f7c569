"""What a worker computes for a batch of blocks before the door takes it (pure: no I/O).

A worker runs the very functions the door would run: ``parse`` (CID check,
canonical decoding, schema), ``verify`` (Ed25519) and ``textcodec.compress``
(each text against its parent revision's text, when both are in the same
batch). The door (ingest) looks the results up instead of computing them
again; anything not found there it computes itself, so a result missing is
never a different outcome, only a slower one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block
from wikipeer.model.cid import RAW
from wikipeer.model.keys import verify
from wikipeer.model.objects import Record, Revision, Signature, Text, parse
from wikipeer.store import textcodec

TEXT = "text"
"""Stands for ``Text(block.data)`` in ``Prepared.records``: the text's bytes need not travel back."""


@dataclass(slots=True)
class Prepared:
    """A worker's results for ``blocks``, position by position.

    ``records[i]``: what ``parse(blocks[i], max_text)`` returned (TEXT for a
    text) or the InvalidObject it raised. ``verified``: the CIDs of the
    signatures whose Ed25519 signature verifies. ``packed``: the compressed
    form of a text, by (text CID, the CID of the text it was compressed
    against, or b"" for none).
    """

    blocks: list[Block]
    max_text: int
    records: list[Record | str | InvalidObject] = field(default_factory=list)
    verified: set[bytes] = field(default_factory=set)
    packed: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict)

    def fits(self, blocks: list[Block], max_text: int) -> bool:
        """Whether these results were computed for exactly these block objects and limit."""
        return (max_text == self.max_text and len(blocks) == len(self.records) == len(self.blocks)
                and all(map(operator.is_, blocks, self.blocks)))

    def parse(self, position: int, block: Block, chunk: bool) -> Record:
        """``parse(block, max_text, chunk)`` as the worker found it, raising what it raised.

        A raw block a file names is a chunk: the worker parsed it as a text, so
        the door parses it itself.
        """
        result = self.records[position]
        if chunk and block.codec == RAW:
            return parse(block, self.max_text, chunk=True)
        if isinstance(result, str):  # TEXT
            return Text(block.data)
        if isinstance(result, InvalidObject):
            raise result
        return result

    def packed_texts(self) -> dict[tuple[bytes, bytes], bytes]:
        """``packed`` keyed by (text CID, the base text's bytes), as the store's writer looks it up."""
        raw = {b.cid: b.data for b in self.blocks if b.codec == RAW}
        return {(cid, raw[base] if base else b""): data for (cid, base), data in self.packed.items()
                if not base or base in raw}


def prepare(blocks: list[Block], max_text: int, progress: Callable[[int], None] | None = None) -> Prepared:
    """Parse every block, verify every signature and compress the texts whose base is here.

    ``progress(i)`` is called before block ``i`` (so a worker that dies can be
    said to have died on it).
    """
    out = Prepared(blocks, max_text)
    texts: dict[bytes, bytes] = {}
    revisions: dict[bytes, Revision] = {}
    for position, block in enumerate(blocks):
        if progress is not None:
            progress(position)
        try:
            record = parse(block, max_text)
        except InvalidObject as exc:
            out.records.append(exc)
            continue
        if isinstance(record, Text):
            texts[block.cid] = block.data
            out.records.append(TEXT)
            continue
        out.records.append(record)
        if isinstance(record, Signature):
            if verify(record.key, record.target, record.role, record.sig):
                out.verified.add(block.cid)
        elif isinstance(record, Revision):
            revisions[block.cid] = record
    _compress(out, texts, revisions)
    return out


def prepare_job(blocks: list[Block], max_text: int, progress: Callable[[int], None] | None = None) -> Prepared:
    """``prepare`` as a worker runs it: the blocks are not sent back (the caller holds them)."""
    out = prepare(blocks, max_text, progress)
    out.blocks = []
    return out


def merged(parts: list[Prepared], blocks: list[Block], max_text: int) -> Prepared:
    """One Prepared for ``blocks`` from the parts prepared for consecutive slices of it."""
    out = Prepared(blocks, max_text)
    for part in parts:
        out.records += part.records
        out.verified |= part.verified
        out.packed.update(part.packed)
    return out


def _compress(out: Prepared, texts: dict[bytes, bytes], revisions: dict[bytes, Revision]) -> None:
    """Each text against its parent revision's text when that is in the batch, alone when it has no parent.

    The writer decides the base (it cuts chains): it uses these when its
    choice is the same, and compresses itself otherwise.
    """
    for rev in revisions.values():
        text = texts.get(rev.text)
        if text is None:
            continue
        if not rev.parents:
            out.packed[(rev.text, b"")] = textcodec.compress(text, None)
            continue
        parent = revisions.get(rev.parents[0])
        base = texts.get(parent.text) if parent is not None else None
        if base and parent.text != rev.text:
            out.packed[(rev.text, parent.text)] = textcodec.compress(text, base)
