"""An operator hides one revision, one file version or a whole page from this node's views, or shows it again.

Hiding deletes nothing: the revision or file version keeps its place in the
page's signed history (other revisions name it as their parent, peers hold it),
but no one reads its text or its bytes here and backups send it only to
private targets (store/hidden.py). As on MediaWiki, the revision a page shows
and the file version it shows cannot be hidden: edit or upload over them first.
The MediaWiki peer hides the same way when the wiki it follows deletes or
suppresses a revision or a file version (mediawiki/follow.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.authoring import now_ms
from wikipeer.errors import InvalidObject, NotFound, UserError
from wikipeer.model.cid import cid_from_str
from wikipeer.node import Node, find_page
from wikipeer.store import hidden
from wikipeer.store.records import FileInfo, PageRow, RevInfo


@dataclass(frozen=True, slots=True)
class Target:
    """What one hide or unhide names: a page, and in it a revision or a file version (or neither: the page)."""

    page: PageRow
    revision: RevInfo | None = None
    file: FileInfo | None = None


def target(node: Node, wiki: str, title: str, revision: str | None = None, file: str | None = None) -> Target:
    """The page, revision (a CID) or file version (SHA-256 digits, at least 8) a user named, or NotFound."""
    page = find_page(node, wiki, title)
    if revision and file:
        raise UserError("name a revision (--revision) or a file version (--file), not both")
    if revision:
        try:
            rev = node.store.revision(cid_from_str(revision))
        except InvalidObject:
            raise UserError(f"not a revision CID: {revision!r}") from None
        if rev.page != page.id:
            raise UserError(f"revision {revision} belongs to another page")
        return Target(page, revision=rev)
    if file:
        digits = file.lower().removeprefix("sha256:")
        if len(digits) < 8 or any(c not in "0123456789abcdef" for c in digits):
            raise UserError(f"not a SHA-256 (at least 8 hex digits): {file!r}")
        found = [v for v in node.store.file_versions(page.id) if v.sha256.startswith(digits)]
        if not found:
            raise NotFound(f"the page holds no file version with SHA-256 {digits}…")
        return Target(page, file=found[0])
    return Target(page)


def hide(node: Node, named: Target, reason: str, when: int | None = None) -> None:
    """Hide what ``named`` names; the revision or file version the page shows is refused."""
    store, when = node.store, when if when is not None else now_ms()
    reason = reason or "hidden by this node's operator"
    if named.revision is not None:
        if any(h.cid == named.revision.cid for h in store.heads(named.page.id)):
            raise UserError("that revision is a head of the page (the text it shows): edit the page first, "
                            "then hide the old revision (MediaWiki refuses to hide the current revision too)")
        hidden.hide_item(store, named.revision.id, named.page.id, when, reason)
    elif named.file is not None:
        if _current_file(node, named.page.id) == named.file.id:
            raise UserError("that is the file version the page shows: upload a new version first, then hide "
                            "this one (MediaWiki refuses to hide the current version too)")
        hidden.hide_item(store, named.file.id, named.page.id, when, reason)
    else:
        hidden.hide(store, named.page.id, when, reason)


def unhide(node: Node, named: Target) -> bool:
    """Show what ``named`` names again; False if it was not hidden."""
    item = named.revision or named.file
    if item is not None:
        return hidden.unhide_item(node.store, item.id)
    was = hidden.hidden(node.store, named.page.id) is not None
    hidden.unhide(node.store, named.page.id)
    return was


def _current_file(node: Node, page_id: int) -> int | None:
    """The id of the file version the page shows: the newest one not hidden."""
    gone = hidden.hidden_items(node.store, page_id)
    shown = [v.id for v in node.store.file_versions(page_id) if v.id not in gone]
    return shown[0] if shown else None
