"""Edit conflicts: the page moved on while its edit form was open.

The form names the revision it was opened on. When that revision is no longer
a head on save (someone saved on top of it meanwhile), saving it as the
parent would quietly start a fork; MediaWiki instead stops and shows an edit
conflict, and so does this node: the current text, the user's text and what
differs. When the two edits touch different lines, the three-way merge joins
them and the form offers the merged text; otherwise it offers the user's own
text, to save on top of the current revision. The user's text is on the page
either way, so nothing they typed is lost.

A form opened on purpose on an old revision ("edit from here") says so, and
saving it starts a fork as before: that is no conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from wikipeer.policy.merge import merge3, merge_base
from wikipeer.store.records import RevInfo
from wikipeer.store.store import Store
from wikipeer.web.diff import DiffRow, side_by_side


@dataclass(slots=True)
class Conflict:
    """What the conflict page shows: the revision that moved on, both texts, the text offered and its diff."""

    current: RevInfo
    current_text: str
    your_text: str
    offered: str  # the merged text when the merge is clean, else the user's text
    merged: bool
    rows: list[DiffRow]  # from the current text to the offered one: what saving would change


def moved_on(store: Store, heads: list[RevInfo], parents: tuple[bytes, ...]) -> RevInfo | None:
    """The head that replaced the form's base revision, or None when saving on it is no conflict.

    ``heads``: the page's heads, best first (empty for a page that does not exist).
    A form for a new page (no parent) conflicts with a page made meanwhile; a
    merge form (two parents) is left to the merge.
    """
    if len(parents) > 1 or not heads:
        return None
    if parents and parents[0] in {h.cid for h in heads}:
        return None
    if parents:
        for head in heads:  # the head that built on the form's revision, if the reader's view holds one
            base = merge_base(store, head.cid, parents[0])
            if base is not None and base.cid == parents[0]:
                return head
    return heads[0]


def conflict(store: Store, base: RevInfo | None, current: RevInfo, your_text: str) -> Conflict:
    """The conflict between the user's text (written on ``base``, None for a new page) and the page's ``current`` head.

    ``base`` is the form's parent as the caller checked it (one of this page's revisions, not hidden):
    its text goes into the merge offered on the page.
    """
    base_text = store.revision_text(base) if base else ""
    current_text = store.revision_text(current)
    result = merge3(base_text, current_text, your_text, "stored revision", "your text")
    offered = result.text if result.clean else your_text
    return Conflict(current, current_text, your_text, offered, result.clean, side_by_side(current_text, offered))
