"""Forking a whole wiki: a new wiki whose pages start from the heads a view shows.

Each page of the new wiki gets one revision with the text of the head the
chosen view selects, signed by this node, its origin naming the revision it
was forked from. The two wikis share no page objects, so later edits in
either never reach the other unless someone merges them by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nacl.signing import SigningKey

from wikipeer.errors import UserError
from wikipeer.ingest import ACCEPTED
from wikipeer.model.block import Block
from wikipeer.model.keys import sign
from wikipeer.model.objects import Page, Revision, Signature, build_page, build_revision, build_signature, build_text
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node, require_wiki
from wikipeer.store.records import RevInfo
from wikipeer.store.keyring import NODE_KEY

BATCH = 500


@dataclass(slots=True)
class Forked:
    pages: int = 0
    unreviewed: int = 0  # pages whose head no key of the view vouches for
    refused: list[str] = field(default_factory=list)  # why some pages could not be copied (a blocklist, say)


def fork_wiki(node: Node, wiki: str, new: str, view_name: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> Forked:
    """Create ``new`` from ``wiki`` as ``view_name`` sees it; ``progress(done, of)`` is told how many of the
    wiki's pages are done after each batch taken in."""
    require_wiki(node, wiki)
    rows = node.store.pages(wiki)
    if not rows:
        raise UserError(f"the wiki {wiki!r} holds no pages to fork")
    if node.store.pages(new):
        raise UserError(f"the wiki {new!r} exists already: choose another name")
    view = node.view(view_name)
    node.store.set_wiki_config(WikiConfig.from_dict({**node.wiki_or_default(wiki).to_dict(), "name": new,
                                                     "sitename": new}))
    key = node.keyring.signing_key(NODE_KEY, node.passphrase)
    public = node.keyring.get(NODE_KEY).public
    result, blocks = Forked(), []
    if progress:
        progress(0, len(rows))
    for done, row in enumerate(rows, 1):
        head = view.shown(node.store, row.id)
        if head is None:
            continue
        result.unreviewed += not view.is_trusted(head)
        blocks += _copy(node, Page(new, row.ns, row.title), head, key, public)
        if len(blocks) >= BATCH * 4:
            _take(node, blocks, wiki, result)
            blocks = []
            if progress:
                progress(done, len(rows))
    if blocks:
        _take(node, blocks, wiki, result)
    if progress:
        progress(len(rows), len(rows))
    return result


def _take(node: Node, blocks: list[Block], wiki: str, result: Forked) -> None:
    report = node.ingest(blocks, f"fork:{wiki}")
    for block, status in zip(blocks[2::4], report.statuses[2::4]):  # each page's revision
        if status.state == ACCEPTED:
            result.pages += 1
        else:
            result.refused.append(status.reason)


def _copy(node: Node, page: Page, head: RevInfo, key: SigningKey, public: str) -> list[Block]:
    text = build_text(node.store.revision_text(head))
    page_block = build_page(page)
    rev = build_revision(Revision(page=page_block.cid, parents=(), text=text.cid, size=len(text.data),
                                  ts=int(time.time() * 1000), comment=f"Forked from {head.cid_str}",
                                  model=head.model, origin={"forked_from": head.cid_str}))
    sig = build_signature(Signature(rev.cid, "node", public, sign(key, rev.cid, "node")))
    return [page_block, text, rev, sig]
