"""A push's page changes become revisions signed by the pushing account, through the one door.

Each change's parent is the revision whose file the pushed commit's first
parent holds: an earlier change of the same push, else the node's revision
that the base commit's file is (changes.base_revision, checked against the
store; the store's revisions of the page with the same text if the commits
do not say). A change whose parent is no longer the page's head makes a fork:
another head, never lost work. All the revisions enter in one ingest call,
so one transaction: a refused one leaves the others taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob
from dulwich.protocol import ZERO_SHA

from wikipeer.authoring import edit_blocks, now_ms, save_edits, signer
from wikipeer.errors import NotFound
from wikipeer.gitpeer.changes import PageChange, PushChanges, PushTooLarge, Refusal, base_revisions, push_changes
from wikipeer.gitpeer.receive import RefAnswer, Taker
from wikipeer.ingest import ACCEPTED, DUPLICATE, HELD
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.objects import Page, build_text
from wikipeer.node import Node


@dataclass(frozen=True, slots=True)
class Taken:
    """A file that became a revision."""

    path: str
    commit_id: str
    revision: bytes
    forked: bool = False


@dataclass(slots=True)
class PushOutcome:
    """What became of every file of a push."""

    taken: list[Taken] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def problem(self) -> str | None:
        """None when every file was taken; else the short reason the ref update reports."""
        if not self.refused:
            return None
        total = len(self.taken) + len(self.refused)
        if not self.taken:
            return f"all {total} files refused" if total > 1 else "the file was refused"
        return f"{len(self.refused)} of {total} files refused; {len(self.taken)} taken"

    def lines(self) -> list[str]:
        """One line per file, for the pusher: taken with the new revision, refused with the reason."""
        out = [f"taken   {t.path} -> {cid_to_str(t.revision)}" + (" (forked: the page moved on since your base; "
               "it has another head now)" if t.forked else "") for t in self.taken]
        out += [f"refused {r.path} ({r.commit_id[:12]}): {r.reason}" for r in self.refused]
        return out


@dataclass(slots=True)
class _Planned:
    change: PageChange
    blocks: list[Block]
    forked: bool


def take_push(node: Node, wiki: str, key_name: str, found: PushChanges, base: BaseObjectStore,
              pushed: BaseObjectStore) -> PushOutcome:
    """Sign ``found``'s changes with the key ``key_name`` and ingest them in one call; what was taken and refused.

    ``base``: the node's own object store: only the node's commits are read
    for the revision a base file is, never a pushed one. ``pushed``: the
    push's quarantine (which sees the node's objects too), for blobs.
    """
    key, public = signer(node, key_name)
    known = _base_revisions(base, found.changes)
    made: dict[tuple[str, bytes], tuple[bytes, int]] = {}  # (path, blob id) -> the revision this push made, its ts
    planned: list[_Planned] = []
    outcome = PushOutcome(refused=list(found.refusals))
    now = now_ms()
    for change in found.changes:
        page = Page(wiki, change.ns, change.title)
        earlier = made.get((change.path, change.base_blob.encode())) if change.base_blob else None
        parent = earlier or _parent(node, known, pushed, page, change)
        parents = (parent[0],) if parent else ()
        ts = revision_timestamp(change.ts, parent[1] if parent else None, now)
        blocks = edit_blocks(page, change.text, parents, change.summary, key, public, ts)
        planned.append(_Planned(change, blocks, earlier is None and _forks(node, page, parents)))
        made[(change.path, Blob.from_string(change.text.encode("utf-8")).id)] = (blocks[2].cid, ts)
    if not planned:
        return outcome
    report = save_edits(node, wiki, [p.blocks for p in planned], f"git-push:{key_name}")
    state = {s.cid: s for s in report.statuses}
    for item in planned:
        status = state[item.blocks[2].cid]
        if status.state in (ACCEPTED, DUPLICATE):  # a duplicate: the same commit pushed again, taken before
            forked = item.forked and status.state == ACCEPTED
            outcome.taken.append(Taken(item.change.path, item.change.commit_id, item.blocks[2].cid, forked))
        else:
            reason = "an earlier edit of it in this push was refused" if status.state == HELD else status.reason
            outcome.refused.append(Refusal(item.change.path, item.change.commit_id, reason))
    if report.counts()[HELD]:
        node.store.drop_held(f"git-push:{key_name}")  # a push's edits never wait for a parent that will not come
    return outcome


def revision_timestamp(authored: int, parent_ts: int | None, now: int) -> int:
    """A pushed commit's revision time: its author date, unless that is in the future or not after the parent's;
    then now (or just after the parent). Both push paths (HTTP and git-remote-wikipeer) use this rule."""
    if authored <= now and (parent_ts is None or parent_ts < authored):
        return authored
    return max(now, parent_ts + 1) if parent_ts is not None else now


def _base_revisions(base: BaseObjectStore, changes: list[PageChange]) -> dict[tuple[str, str], bytes | None]:
    """(base commit, path) -> the node's revision whose file that is, one walk per base commit of the node's."""
    wanted: dict[str, list[str]] = {}
    for change in changes:
        if change.base_blob is not None and change.base_commit and change.base_commit.encode() in base:
            wanted.setdefault(change.base_commit, []).append(change.path)
    return {(commit, path): cid for commit, paths in wanted.items()
            for path, cid in base_revisions(base, commit.encode(), paths).items()}


def _parent(node: Node, known: dict[tuple[str, str], bytes | None], pushed: BaseObjectStore, page: Page,
            change: PageChange) -> tuple[bytes, int] | None:
    """The node's revision (cid, ts) whose file the change edits; None for a new page."""
    if change.base_blob is None:
        return None
    row = node.store.page(page.wiki, page.ns, page.title)
    if row is None:
        return None
    cid = known.get((change.base_commit or "", change.path))
    if cid is not None:
        try:
            rev = node.store.revision(cid)
        except NotFound:
            rev = None
        if rev is not None and rev.page == row.id:
            return rev.cid, rev.ts
    return _same_text(node, row.id, pushed, change.base_blob)


def _same_text(node: Node, page_id: int, objects: BaseObjectStore, blob_id: str) -> tuple[bytes, int] | None:
    """The newest revision of the page whose text is the base file's (the commits did not say which)."""
    try:
        data = objects[blob_id.encode()].as_raw_string()
    except KeyError:
        return None
    text_cid = build_text(data.decode("utf-8", errors="replace")).cid
    for rev in sorted(node.store.history(page_id), key=lambda r: r.ts, reverse=True):
        if rev.text == text_cid:
            return rev.cid, rev.ts
    return None


def _forks(node: Node, page: Page, parents: tuple[bytes, ...]) -> bool:
    """Whether an edit on ``parents`` adds a head beside the page's current ones."""
    row = node.store.page(page.wiki, page.ns, page.title)
    if row is None:
        return False
    heads = {h.cid for h in node.store.heads(row.id)}
    return bool(heads) and not (parents and parents[0] in heads)


def push_taker(node: Node, wiki: str, key_name: str, base: BaseObjectStore, known: list[bytes],
               after: Callable[[], None]) -> Taker:
    """The taker receive.py calls for a push of main by the account whose key is ``key_name``.

    ``known``: the node's ref values (its commits end the walk of new ones);
    ``after``: called once revisions were taken, to move the node's main to its own commits for them.
    """
    def take(pushed: BaseObjectStore, old: bytes, new: bytes) -> RefAnswer:
        try:
            found = push_changes(pushed, node.wiki_or_default(wiki), [c for c in (old, *known) if c != ZERO_SHA], new)
        except PushTooLarge as exc:
            return RefAnswer("push too large: push in parts", [str(exc)])
        outcome = take_push(node, wiki, key_name, found, base, pushed)
        if outcome.taken:
            after()
        lines = outcome.lines() or ["no page file changed: nothing to take"]
        if found.skipped:
            lines.append(f"skipped {len(found.skipped)} commit(s) a node built (view or revision commits of "
                         "another node's repository, or of this one's before it was built again): no edit of yours")
        forked = sum(t.forked for t in outcome.taken)
        if forked:
            lines.append(f"{forked} page(s) forked: see the page's history on the node, or merge its heads")
        if outcome.taken:
            lines.append("the node made its own signed commits for what it took: run `git pull --rebase` "
                         "(your commits drop out as already applied)")
        return RefAnswer(outcome.problem(), lines)

    return take
