"""Which pages a lost block belonged to, learnt from the blocks that could still be read.

A damaged pack's header names the CIDs it held; a page is named when one of
them is the page itself, one of its revisions (a head in a snapshot, or a parent
of a revision read elsewhere), a text such a revision uses, or a signature over
one of its revisions.
"""

from __future__ import annotations

from wikipeer.backup.snapshots import Head, Snapshot
from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block
from wikipeer.model.cid import DAG_CBOR, cid_to_str
from wikipeer.model.objects import Page, Revision, Signature, parse


def page_name(wiki: str, ns: int, title: str) -> str:
    """How a page is named in reports: wiki, then title (with its namespace number when not 0)."""
    return f"{wiki}:{title}" if ns == 0 else f"{wiki}:{{ns {ns}}}{title}"


class Affected:
    """Links from blocks to their pages, gathered while blocks are read."""

    def __init__(self, snaps: list[Snapshot]) -> None:
        self.titles: dict[bytes, str] = {}
        self.page_of: dict[bytes, bytes] = {}  # revision or text CID -> page CID
        self.target_of: dict[bytes, bytes] = {}  # signature CID -> what it signs
        for snap in snaps:
            for head in snap.heads:
                self._head(head)

    def _head(self, head: Head) -> None:
        self.titles[head.page] = page_name(head.wiki, head.ns, head.title)
        for rev in head.revs:
            self.page_of[rev] = head.page

    def learn(self, block: Block) -> None:
        """Note what a sound block says about pages (texts say nothing: they are skipped unparsed)."""
        if block.codec != DAG_CBOR:
            return
        try:
            record = parse(block, len(block.data))
        except InvalidObject:
            return
        if isinstance(record, Revision):
            for linked in (block.cid, record.text, *record.parents):
                self.page_of[linked] = record.page
        elif isinstance(record, Page):
            self.titles[block.cid] = page_name(record.wiki, record.ns, record.title)
        elif isinstance(record, Signature):
            self.target_of[block.cid] = record.target

    def pages(self, cids: set[bytes]) -> list[str]:
        """The pages (by name where known, else by CID) that ``cids`` belong to."""
        found = set()
        for cid in cids:
            page = cid if cid in self.titles else self.page_of.get(self.target_of.get(cid, cid))
            if page is not None:
                found.add(page)
        return sorted(self.titles.get(p) or f"page {cid_to_str(p)}" for p in found)
