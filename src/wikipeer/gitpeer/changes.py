"""What a pushed series of git commits asks of a wiki: page changes to take, and files refused.

Works on any dulwich object store (the node's bare repository with a push's
quarantine, or a user's clone), knows nothing of HTTP and writes nothing.
The new commits are walked oldest first; each commit's tree is compared with
its first parent's: a changed file is an edit of its page, an added one a new
page. Everything else is a :class:`Refusal` naming the path and why: a
deleted file, a binary, a file outside the layout or whose name is no valid
title, a file over the text limit (its size read from the object's header,
before its bytes are loaded), a name that is not UTF-8 or tries to leave the
tree, a symlink or submodule, and every file a merge commit changes (merges
are not taken: rebase onto the node's main and push again).

Commits a node built (view commits, authored ``wikipeer <node@wikipeer>``,
and revision commits, authored ``...@wikipeer`` with a ``Wikipeer-Revision``
trailer) are skipped: they carry no edit of the pusher's. They are new to
this node when the pusher cloned another node, or this node built its
repository again (view commits are per node). Skipping one believes nothing
of it: its changes are simply not taken.

Pushed commits are new edits: their trailers are never read here, so a forged
``Wikipeer-Revision`` changes nothing. Only the base's commits, which the node
made itself, are read for trailers (:func:`base_revision`).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dulwich.diff_tree import CHANGE_DELETE, CHANGE_MODIFY, tree_changes
from dulwich.object_store import BaseObjectStore, iter_tree_contents
from dulwich.objects import Commit, Tree
from dulwich.walk import ORDER_TOPO, Walker

from wikipeer.errors import InvalidObject, UserError
from wikipeer.gitpeer.layout import NotAPagePath, path_title
from wikipeer.gitpeer.trailers import NODE_IDENTITY, parse_trailers
from wikipeer.model.title import WikiConfig
from wikipeer.policy.rules import MAX_TEXT

MAX_PUSH_COMMITS = 10_000
MAX_PUSH_FILES = 10_000
"""Page files one push may change, counted over all its commits: past it the push is refused whole
(push in parts). 10,000 signed revisions enter in one transaction in well under a minute."""
MAX_BASE_WALK = 100_000
"""Commits :func:`base_revision` reads before it gives up (the caller then looks elsewhere)."""

_REGULAR = {0o100644, 0o100755, 0o100664}
_TREE_MODE = 0o040000


class PushTooLarge(UserError):
    """A push over a documented limit: refused whole before any file is read."""


@dataclass(frozen=True, slots=True)
class PageChange:
    """One file of one pushed commit that becomes a revision of its page."""

    path: str
    ns: int
    title: str
    text: str
    summary: str
    commit_id: str
    ts: int = 0
    """The commit's author date, in milliseconds."""
    base_blob: str | None = None
    """The blob at this path in the commit's first parent (None: a new page); it names the edit's parent."""
    base_commit: str | None = None
    """The commit's first parent: the tree whose file this edit changes."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A file of a pushed commit that is not taken, and why."""

    path: str
    commit_id: str
    reason: str


@dataclass(slots=True)
class PushChanges:
    """Everything a push asks for, in commit order."""

    changes: list[PageChange] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Commits a node built (see the module's docstring), not read for changes."""


def push_changes(store: BaseObjectStore, config: WikiConfig, known: Iterable[bytes], new: bytes,
                 max_text: int = MAX_TEXT, max_files: int = MAX_PUSH_FILES,
                 max_commits: int = MAX_PUSH_COMMITS, shallow: frozenset[bytes] = frozenset()) -> PushChanges:
    """The page changes and refusals of the commits reachable from ``new`` and not from ``known``.

    ``known``: the commits the other side already has (the node's refs, or the
    old commit the push builds on). ``shallow``: the commits a shallow clone
    holds without their parents (the walk stops there). Raises
    :class:`PushTooLarge` over ``max_commits`` commits or ``max_files`` changed files.
    """
    result = PushChanges()
    exclude = [k for k in known if k in store]
    commits = list(_new_commits(store, new, exclude, max_commits, shallow))
    files = 0
    for commit in commits:
        if node_built(commit):
            result.skipped.append(commit.id.decode())
            continue
        result.commits.append(commit.id.decode())
        for entry in _commit_files(store, config, commit, max_text):
            files += 1
            if files > max_files:
                raise PushTooLarge(f"the push changes more than {max_files} files: the most one push may change; "
                                   "push the commits in parts")
            (result.changes if isinstance(entry, PageChange) else result.refusals).append(entry)
    return result


def _new_commits(store: BaseObjectStore, new: bytes, exclude: list[bytes], limit: int,
                 shallow: frozenset[bytes]) -> Iterator[Commit]:
    walker = Walker(store, [new], exclude=exclude, order=ORDER_TOPO, reverse=True, max_entries=limit + 1,
                    get_parents=lambda commit: [] if commit.id in shallow else commit.parents)
    entries = list(walker)
    if len(entries) > limit:
        raise PushTooLarge(f"the push holds more than {limit} new commits: push them in parts")
    for entry in entries:
        yield entry.commit


def node_built(commit: Commit) -> bool:
    """Whether a commit says a node built it: a view commit, or a revision commit (never a pusher's edit)."""
    if commit.author == NODE_IDENTITY:
        return True
    return commit.author.endswith(b"@wikipeer>") and b"\nWikipeer-Revision: " in commit.message


def summary_of(message: bytes) -> str:
    """A commit message's first paragraph, on one line: the edit summary."""
    text = message.decode("utf-8", errors="replace").strip()
    first = text.split("\n\n", 1)[0]
    return " ".join(first.split())[:500]


def _commit_files(store: BaseObjectStore, config: WikiConfig, commit: Commit,
                  max_text: int) -> Iterator[PageChange | Refusal]:
    commit_id = commit.id.decode()
    parent = commit.parents[0] if commit.parents else None
    base_tree = store[parent].tree if parent else None
    merge = len(commit.parents) > 1
    summary = summary_of(commit.message)
    for change in tree_changes(store, base_tree, commit.tree):
        path_bytes = (change.new.path if change.type != CHANGE_DELETE else change.old.path) or b""
        shown = path_bytes.decode("utf-8", errors="backslashreplace")
        if merge:
            yield Refusal(shown, commit_id, "changed in a merge commit: merges are not taken; "
                                            "rebase onto the node's main (git pull --rebase) and push again")
            continue
        if change.type == CHANGE_DELETE:
            yield Refusal(shown, commit_id, "deleted: pages are not deleted by a push")
            continue
        if change.type == CHANGE_MODIFY and change.old.sha == change.new.sha:
            continue  # only the mode changed: nothing of the page did
        checked = _check_file(store, config, path_bytes, change.new.sha, change.new.mode, max_text)
        if isinstance(checked, str):
            yield Refusal(shown, commit_id, checked)
            continue
        ns, title, text = checked
        base_blob = change.old.sha.decode() if change.type == CHANGE_MODIFY else None
        yield PageChange(shown, ns, title, text, summary, commit_id, commit.author_time * 1000, base_blob,
                         parent.decode() if parent else None)


def _check_file(store: BaseObjectStore, config: WikiConfig, path: bytes, sha: bytes, mode: int,
                max_text: int) -> str | tuple[int, str, str]:
    """(ns, title, text) of a pushed file, or the reason it is refused."""
    try:
        name = path.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the file's name is not UTF-8 (byte offset {exc.start})"
    parts = name.split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return "the path leaves the wiki's tree or names no file (path traversal)"
    if mode not in _REGULAR:
        return "not a regular file (a symlink or submodule)"
    try:
        named = path_title(config, name)
    except NotAPagePath as exc:
        return exc.reason
    if named is None:
        return "a cut long file name: its title cannot be read from the path (edit that page on the web)"
    size = object_size(store, sha)
    if size > max_text:
        return f"{size} bytes: over the {max_text}-byte limit of a page's text"
    data = store[sha].as_raw_string()
    nul = data.find(b"\0")
    if nul >= 0:
        return f"binary: a NUL byte at byte offset {nul}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"binary: not valid UTF-8 at byte offset {exc.start}"
    return named[0], named[1], text


# -- object sizes from headers ------------------------------------------------------------------

def object_size(store: BaseObjectStore, sha: bytes) -> int:
    """An object's size in bytes, read from its pack entry or loose header, without inflating all of it."""
    for candidate in _stores(store):
        size = _packed_size(candidate, sha)
        if size is None:
            size = _loose_size(candidate, sha)
        if size is not None:
            return size
    return len(store[sha].as_raw_string())  # a store of another kind: load it (it holds small objects)


def _stores(store: BaseObjectStore) -> Iterator[BaseObjectStore]:
    yield store
    for alternate in getattr(store, "alternates", []):
        yield from _stores(alternate)


def _packed_size(store: BaseObjectStore, sha: bytes) -> int | None:
    binary = bytes.fromhex(sha.decode())
    for pack in getattr(store, "packs", []):
        try:
            offset = pack.index.object_offset(binary)
        except KeyError:
            continue
        with open(pack._data_path, "rb") as f:  # the data file is read at one entry, not mapped whole
            f.seek(offset)
            return _entry_size(f.read(4096))
    return None


def _entry_size(head: bytes) -> int:
    """The size of the object a pack entry makes, from its header (or its delta's header)."""
    kind, size, at = (head[0] >> 4) & 7, head[0] & 15, 1
    shift, byte = 4, head[0]
    while byte & 0x80:
        byte = head[at]
        size |= (byte & 0x7F) << shift
        shift, at = shift + 7, at + 1
    if kind not in (6, 7):
        return size
    if kind == 7:
        at += 20
    else:
        while head[at] & 0x80:
            at += 1
        at += 1
    delta = zlib.decompressobj().decompress(head[at:], 32)
    _, pos = _varint(delta, 0)  # the base's size
    target, _ = _varint(delta, pos)
    return target


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        shift, pos = shift + 7, pos + 1
        if not byte & 0x80:
            return value, pos


def _loose_size(store: BaseObjectStore, sha: bytes) -> int | None:
    path_of = getattr(store, "_get_shafile_path", None)
    if path_of is None or not os.path.exists(path_of(sha)):
        return None
    with open(path_of(sha), "rb") as f:
        header = zlib.decompressobj().decompress(f.read(1024), 64)
    return int(header.split(b"\0", 1)[0].split(b" ", 1)[1])


# -- the revision a base file is --------------------------------------------------------------

def blob_at(store: BaseObjectStore, tree_id: bytes, path: str) -> bytes | None:
    """The blob id at ``path`` in a tree, or None."""
    tree = store[tree_id]
    parts = path.encode("utf-8").split(b"/")
    for part in parts[:-1]:
        if not isinstance(tree, Tree) or part not in tree:
            return None
        tree = store[tree[part][1]]
    if not isinstance(tree, Tree) or parts[-1] not in tree:
        return None
    mode, sha = tree[parts[-1]]
    return None if mode == _TREE_MODE else sha


def base_revision(store: BaseObjectStore, commit_id: bytes, path: str, max_walk: int = MAX_BASE_WALK) -> bytes | None:
    """The revision CID whose file is at ``path`` in commit ``commit_id``, from the node's commits (or None)."""
    return base_revisions(store, commit_id, [path], max_walk)[path]


def base_revisions(store: BaseObjectStore, commit_id: bytes, paths: Iterable[str],
                   max_walk: int = MAX_BASE_WALK) -> dict[str, bytes | None]:
    """For each path, the revision CID whose file is there in commit ``commit_id``, from the node's commits.

    A revision commit carries ``Wikipeer-Revision`` and holds its page's file;
    a view commit's first parent is the previous view commit and its other
    parents the revision commits it shows. The walk follows first parents,
    diffing each view commit against its first parent (O(files it changed):
    equal subtrees are skipped); a wanted file that changed there is found
    among that view commit's revision commits by (path, blob). So all the
    paths of a push cost one walk back to the oldest of their last changes,
    never a read of a pushed commit. None for a path no commit in reach
    explains (not a node's commit, or past ``max_walk`` commits).
    """
    current = store[commit_id]
    pending = {p: blob_at(store, current.tree, p) for p in paths}
    found: dict[str, bytes | None] = {p: None for p, blob in pending.items() if blob is None}
    pending = {p: blob for p, blob in pending.items() if blob is not None}
    for _ in range(max_walk):
        if not pending:
            break
        revision = _revision_of(current)
        if revision is not None:  # a revision commit holds its one page file
            found.update({p: revision if blob_at(store, current.tree, p) == blob else None
                          for p, blob in pending.items()})
            return found
        if not current.parents:
            break
        first = store[current.parents[0]]
        changed = {(c.new.path or c.old.path).decode("utf-8", "replace")
                   for c in tree_changes(store, first.tree, current.tree)}
        moved = {p: pending.pop(p) for p in list(pending) if p in changed}
        if moved:
            shown = _revision_files(store, current.parents)
            for p, blob in moved.items():
                holder = shown.get((p, blob))
                found[p] = _revision_of(store[holder]) if holder else None
        current = first
    found.update({p: None for p in pending})
    return found


def _revision_files(store: BaseObjectStore, commit_ids: list[bytes]) -> dict[tuple[str, bytes], bytes]:
    """(path, blob) -> commit id, for the commits among ``commit_ids`` that look like revision commits."""
    out = {}
    for commit_id in commit_ids:
        commit = store[commit_id]
        if b"Wikipeer-Revision:" not in commit.message:
            continue
        for entry in iter_tree_contents(store, commit.tree):
            out[(entry.path.decode("utf-8", "replace"), entry.sha)] = commit_id
    return out


def _revision_of(commit: Commit) -> bytes | None:
    """The revision a node's revision commit carries; None for any other commit."""
    if b"Wikipeer-Revision:" not in commit.message:
        return None
    try:
        return parse_trailers(commit.message).revision
    except InvalidObject:
        return None


