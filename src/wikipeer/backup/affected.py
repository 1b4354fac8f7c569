"""Which pages a lost block belonged to, learnt from the blocks that could still be read.

A damaged pack's header names the CIDs it held; a page is named when one of
them is the page itself, one of its revisions (a head in a snapshot, or a parent
of a revision read elsewhere), a text such a revision uses, or a signature over
one of its revisions. A media file version is named (SHA-256 and page) when one
of them is its file object (the snapshot lists those), a chunk of it (known from
file objects that could be read), or a signature over it.
"""

from __future__ import annotations

from wikipeer.backup.snapshots import Head, Snapshot
from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block
from wikipeer.model.cid import DAG_CBOR, cid_to_str
from wikipeer.model.media import File
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
        self.file_sha: dict[bytes, str] = {}  # file object CID -> SHA-256 (hex)
        self.files_of: dict[bytes, set[bytes]] = {}  # chunk CID -> file object CIDs
        for snap in snaps:
            for head in snap.heads:
                self._head(head)
            for entry in snap.files:
                self.file_sha[entry.cid] = entry.sha256.hex()
                self.page_of[entry.cid] = entry.page

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
        elif isinstance(record, File):
            self.file_sha[block.cid] = record.sha256
            self.page_of[block.cid] = record.page
            for chunk in record.chunks:
                self.files_of.setdefault(chunk, set()).add(block.cid)

    def pages(self, cids: set[bytes]) -> list[str]:
        """The pages (by name where known, else by CID) that ``cids`` belong to."""
        found = set()
        for cid in cids:
            owners = self.files_of.get(cid) or {self.target_of.get(cid, cid)}
            for owner in owners:
                page = cid if cid in self.titles else self.page_of.get(owner)
                if page is not None:
                    found.add(page)
        return sorted(self.titles.get(p) or f"page {cid_to_str(p)}" for p in found)

    def files(self, cids: set[bytes]) -> list[str]:
        """The media file versions ``cids`` belong to, as "SHA-256 (page)", sorted."""
        found: set[bytes] = set()
        for cid in cids:
            found.update(f for f in self.files_of.get(cid) or {self.target_of.get(cid, cid)} if f in self.file_sha)
        named = []
        for file in found:
            page = self.page_of.get(file)
            title = self.titles.get(page) if page is not None else None
            named.append(f"{self.file_sha[file]} ({title or 'page unknown'})")
        return sorted(named)
