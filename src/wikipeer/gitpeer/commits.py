"""Git objects made from revisions: a revision commit per revision, and the view commits main follows.

Pure: records in, dulwich objects out; nothing here reads the store or writes
the repository (repo.py does both). A revision commit C(r) is deterministic:
its tree holds only r's page file (the blob is r's text), its parents are
the commits of r's parents in r's order, its author and committer are the
revision's author at the revision's time (+0000), its message trailers.py's.
So two nodes holding the same revisions make the same commit ids.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from dulwich.objects import Blob, Commit, ShaFile, Tree

from wikipeer.gitpeer.trailers import NODE_IDENTITY, build_message, git_identity
from wikipeer.model.block import Block
from wikipeer.model.objects import Page, Revision

FILE_MODE = stat.S_IFREG | 0o644
DIR_MODE = stat.S_IFDIR


@dataclass(slots=True)
class Built:
    """The objects of one revision commit, and where its file is."""

    commit: Commit
    objects: list[ShaFile]
    path: str
    blob: bytes
    """The file's blob id (hex, as dulwich names objects)."""


def git_time(ts_ms: int) -> int:
    """A revision's timestamp (milliseconds) as git's seconds; git has no time before 1970."""
    return max(0, ts_ms // 1000)


def single_file_tree(path: str, blob_id: bytes) -> tuple[list[Tree], bytes]:
    """The trees of a tree holding one file at ``path``, innermost first; and the root's id."""
    parts = path.encode("utf-8").split(b"/")
    trees: list[Tree] = []
    tree = Tree()
    tree.add(parts[-1], FILE_MODE, blob_id)
    trees.append(tree)
    for name in reversed(parts[:-1]):
        outer = Tree()
        outer.add(name, DIR_MODE, tree.id)
        trees.append(outer)
        tree = outer
    return trees, tree.id


def revision_commit(path: str, page: Page, rev: Revision, block: Block, signatures: list[Block], text: bytes,
                    parents: list[bytes]) -> Built:
    """C(r): the commit of revision ``block`` (record ``rev``) of ``page``, its file at ``path``.

    ``parents``: the commit ids of the revision's parents, in the revision's order.
    """
    blob = Blob.from_string(text)
    trees, root = single_file_tree(path, blob.id)
    commit = Commit()
    commit.tree = root
    commit.parents = parents
    commit.author = commit.committer = git_identity(rev)
    commit.author_time = commit.commit_time = git_time(rev.ts)
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = build_message(page, block, signatures)
    return Built(commit, [blob, *trees, commit], path, blob.id)


def view_commit(tree: bytes, parents: list[bytes], when: int, revisions: int) -> Commit:
    """A view commit: the whole wiki as the view shows it, after the revision commits it joins."""
    commit = Commit()
    commit.tree = tree
    commit.parents = parents
    commit.author = commit.committer = NODE_IDENTITY
    commit.author_time = commit.commit_time = when
    commit.author_timezone = commit.commit_timezone = 0
    plural = "s" if revisions != 1 else ""
    commit.message = f"wikipeer view: {revisions} revision{plural} newly shown\n".encode("utf-8")
    return commit


@dataclass(slots=True)
class TreeEditor:
    """Changes to a big tree that touch only the trees on the changed paths (O(k) for k files).

    ``read`` finds an existing tree by id; new trees are collected in ``written``.
    """

    read: Callable[[bytes], Tree]
    root: bytes | None
    _changes: dict[str, bytes] = field(default_factory=dict)
    written: list[Tree] = field(default_factory=list)

    def set(self, path: str, blob_id: bytes) -> None:
        self._changes[path] = blob_id

    def commit(self) -> bytes:
        """Write the changed trees (into ``written``) and return the new root's id."""
        nested: dict = {}
        for path, blob_id in self._changes.items():
            node = nested
            *dirs, name = path.encode("utf-8").split(b"/")
            for part in dirs:
                node = node.setdefault(part, {})
            node[name] = blob_id
        self._changes.clear()
        self.root = self._apply(self.root, nested)
        return self.root

    def _apply(self, tree_id: bytes | None, changes: dict) -> bytes:
        tree = Tree()
        if tree_id is not None:
            for entry in self.read(tree_id).iteritems():
                tree.add(entry.path, entry.mode, entry.sha)
        for name, change in changes.items():
            if isinstance(change, dict):
                old = tree[name][1] if name in tree else None
                tree.add(name, DIR_MODE, self._apply(old, change))
            else:
                tree.add(name, FILE_MODE, change)
        self.written.append(tree)
        return tree.id
