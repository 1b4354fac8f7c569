"""Local edits: build and sign a revision, then send it through the one door."""

from __future__ import annotations

import time
from dataclasses import dataclass

from wikipeer.errors import NotFound, UserError
from wikipeer.ingest import REJECTED, IngestReport
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import sign
from wikipeer.model.objects import Page, Revision, Signature, build_page, build_revision, build_signature, build_text
from wikipeer.model.title import normalize_title
from wikipeer.node import Node


@dataclass(frozen=True, slots=True)
class Edit:
    """What a local edit produced."""

    rev: bytes
    page: bytes
    report: IngestReport


def now_ms() -> int:
    return int(time.time() * 1000)


def edit_blocks(page: Page, text: str, parents: tuple[bytes, ...], summary: str, signing_key, author: str,
                ts: int, minor: bool = False) -> list[Block]:
    """The blocks of one signed edit: page, text, revision and the author's signature."""
    page_block = build_page(page)
    text_block = build_text(text)
    rev = Revision(page=page_block.cid, parents=parents, text=text_block.cid, size=len(text_block.data), ts=ts,
                   comment=summary, author=author, minor=minor)
    rev_block = build_revision(rev)
    sig = build_signature(Signature(rev_block.cid, "author", author, sign(signing_key, rev_block.cid, "author")))
    return [page_block, text_block, rev_block, sig]


def signer(node: Node, key_name: str | None = None) -> tuple[object, str]:
    """The signing key and public key edits are signed with: the named key (an account's), else the user's."""
    identity = node.keyring.get(key_name) if key_name else node.user_key()
    return node.keyring.signing_key(identity.name, node.passphrase), identity.public


def save_edits(node: Node, wiki: str, edits: list[list[Block]], source: str) -> IngestReport:
    """Several signed edits (each edit_blocks' list) through the door in one transaction: all decided together.

    Each revision gets its own status in the report; a later edit may name an
    earlier one of the same batch as its parent.
    """
    report = node.ingest([block for blocks in edits for block in blocks], source)
    if any(s.state != REJECTED for s in report.statuses):
        node.wiki(wiki)  # the first accepted edit of a wiki records its configuration
    return report


def _check_parents(node: Node, page_id: int | None, title: str, parents: tuple[bytes, ...]) -> None:
    for parent in parents:
        try:
            rev = node.store.revision(parent)
        except NotFound:
            raise UserError(f"--parent {cid_to_str(parent)} is not a revision this node holds") from None
        if rev.page != page_id:
            raise UserError(f"--parent {cid_to_str(parent)} is a revision of another page, not of {title!r}")


def edit(node: Node, wiki: str, raw_title: str, text: str, summary: str, parents: tuple[bytes, ...] | None = None,
         ts: int | None = None, minor: bool = False, key_name: str | None = None) -> Edit:
    """Save ``text`` as a new revision of a page, signed by the user's key.

    Without ``parents`` the edit follows the head this node shows; naming an
    older revision as parent makes a fork, as it should.
    """
    title = normalize_title(node.wiki_or_default(wiki), raw_title)
    existing = node.store.page(wiki, title.ns, title.text)
    if parents is None:
        head = node.view().shown(node.store, existing.id) if existing else None
        parents = (head.cid,) if head else ()
        if head is not None and node.store.revision_text(head) == text:
            raise UserError(f"no change: the text is the same as the current revision of {title.full!r}")
    else:
        _check_parents(node, existing.id if existing else None, title.full, parents)
    # The user's key is made on first use: only once the edit is known to be one, not for a mistake.
    key, public = signer(node, key_name)
    blocks = edit_blocks(Page(wiki, title.ns, title.text), text, parents, summary, key, public,
                         ts if ts is not None else now_ms(), minor)
    report = node.ingest(blocks, "local")
    # The revision's own reason says why; its page and text only say they came with it.
    rejected = sorted((s for s in report.statuses if s.state == REJECTED), key=lambda s: s.cid != blocks[2].cid)
    if rejected:
        raise UserError(f"edit refused: {rejected[0].reason}")
    node.wiki(wiki)  # the first accepted edit of a wiki records its configuration
    return Edit(blocks[2].cid, blocks[0].cid, report)
