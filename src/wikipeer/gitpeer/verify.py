"""Offline verification of a wiki's git repository: nothing but the repository is needed (no node).

A revision commit passes when its trailers parse (the block hashes to its
revision CID, and the page, author and summary lines are the block's), its
author, committer and date are the revision's, its tree holds exactly the
page's file at the layout's place, the file's bytes hash to the revision's
text CID, its parent commits carry the revision's parents in order, every
signature verifies (Ed25519, over the revision CID in its role) and one of
them is the one the acceptance rule asks for (the author's; a node's for an
imported or anonymous revision). A view commit (the node's identity) passes
when every file it adds or changes is the file of one of the revision commits
it joins. Commits past a shallow clone's edge are checked as far as they can be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

from wikipeer.errors import InvalidObject, UserError
from wikipeer.gitpeer.commits import DIR_MODE, git_time
from wikipeer.gitpeer.layout import MAIN_DIR, file_name, title_digest
from wikipeer.gitpeer.trailers import NODE_IDENTITY, CommitTrailers, git_identity, parse_trailers
from wikipeer.model.cid import RAW, cid_to_str, compute_cid
from wikipeer.model.keys import verify
from wikipeer.model.objects import Revision
from wikipeer.policy.rules import required_signers


@dataclass(frozen=True, slots=True)
class Problem:
    """A commit that did not verify, and why."""

    commit: str
    reason: str


@dataclass(slots=True)
class Report:
    """What verifying a repository found."""

    verified: int = 0
    problems: list[Problem] = field(default_factory=list)
    shallow: int = 0
    """Commits whose parents a shallow clone does not hold: checked without them."""


def open_git(path: Path) -> Repo:
    """The repository at ``path`` (a clone's work tree or a bare repository), or a UserError saying it is none."""
    try:
        return Repo(str(path))
    except NotGitRepository:
        raise UserError(f"{path} is not a git repository") from None


def verify_repo(path: Path, tips: Iterable[bytes] | None = None, known: Iterable[bytes] = (),
                progress: Callable[[int], None] | None = None) -> Report:
    """Verify every commit reachable from ``tips`` (default: every ref) and not from ``known``."""
    repo = open_git(path)
    with repo:
        if tips is None:
            tips = {sha for name, sha in repo.refs.as_dict().items() if name != b"HEAD"}
        return _Verifier(repo, progress).run(list(tips), set(known))


class _Verifier:
    def __init__(self, repo: Repo, progress: Callable[[int], None] | None) -> None:
        self.repo, self.progress = repo, progress
        self.shallow = repo.get_shallow()
        self.revision_of: dict[bytes, bytes | None] = {}  # commit -> its revision CID (None: a view commit)
        self.report = Report()

    def run(self, tips: list[bytes], known: set[bytes]) -> Report:
        for sha in self._walk(tips, known):
            problem = self._check(sha)
            if problem:
                self.report.problems.append(Problem(sha.decode(), problem))
            else:
                self.report.verified += 1
            if self.progress and (self.report.verified + len(self.report.problems)) % 1000 == 0:
                self.progress(self.report.verified + len(self.report.problems))
        return self.report

    def _walk(self, tips: list[bytes], known: set[bytes]) -> list[bytes]:
        """Every commit reachable from ``tips`` but not from ``known``, parents before children."""
        excluded = self._reachable(known, set())
        order: list[bytes] = []
        seen: set[bytes] = set(excluded)
        stack = [(sha, False) for sha in tips if sha not in seen]
        while stack:
            sha, expanded = stack.pop()
            if expanded:
                order.append(sha)
                continue
            if sha in seen:
                continue
            seen.add(sha)
            stack.append((sha, True))
            commit = self._commit(sha)
            if commit is not None and sha not in self.shallow:
                stack.extend((p, False) for p in commit.parents if p not in seen)
        return order

    def _reachable(self, tips: set[bytes], into: set[bytes]) -> set[bytes]:
        stack = [t for t in tips if t in self.repo.object_store]
        while stack:
            sha = stack.pop()
            if sha in into:
                continue
            into.add(sha)
            commit = self._commit(sha)
            if commit is not None and sha not in self.shallow:
                stack.extend(p for p in commit.parents if p in self.repo.object_store)
        return into

    def _commit(self, sha: bytes) -> Commit | None:
        try:
            obj = self.repo[sha]
        except KeyError:
            return None
        return obj if isinstance(obj, Commit) else None

    def _check(self, sha: bytes) -> str | None:
        commit = self._commit(sha)
        if commit is None:
            return "the commit is not in the repository (or is not a commit)"
        if commit.author == NODE_IDENTITY:
            self.revision_of[sha] = None
            return self._check_view(sha, commit)
        try:
            trailers = parse_trailers(commit.message)
        except InvalidObject as exc:
            return f"bad trailers: {exc}"
        self.revision_of[sha] = trailers.revision
        rev = trailers.record()
        return (self._check_identity(commit, rev) or self._check_file(commit, trailers, rev)
                or self._check_parents(sha, commit, rev) or self._check_signatures(trailers, rev))

    def _check_identity(self, commit: Commit, rev: Revision) -> str | None:
        if commit.author != git_identity(rev) or commit.committer != commit.author:
            return f"author {commit.author.decode(errors='replace')!r} is not the revision's {git_identity(rev).decode()!r}"
        if commit.author_time != git_time(rev.ts) or commit.commit_time != git_time(rev.ts) \
                or commit.author_timezone != 0 or commit.commit_timezone != 0:
            return "the commit's date is not the revision's timestamp"
        return None

    def _check_file(self, commit: Commit, trailers: CommitTrailers, rev: Revision) -> str | None:
        files = list(self._files(commit.tree, b""))
        if len(files) != 1:
            return f"the tree holds {len(files)} files; a revision commit holds its page's file alone"
        path, sha = files[0]
        page = trailers.page
        digest = title_digest(page.title)
        parts = path.decode("utf-8", errors="replace").split("/")
        if (len(parts) != 4 or parts[1:] != [digest[:2], digest[2:4], file_name(page.title)]
                or (page.ns == 0) != (parts[0] == MAIN_DIR)):
            return f"the file {path.decode(errors='replace')} is not where the layout puts {page.title!r}"
        blob = self.repo[sha]
        if not isinstance(blob, Blob) or compute_cid(blob.as_raw_string(), RAW) != rev.text:
            return f"the file {path.decode(errors='replace')} was changed: its bytes are not the revision's text"
        return None

    def _check_parents(self, sha: bytes, commit: Commit, rev: Revision) -> str | None:
        if sha in self.shallow:
            self.report.shallow += 1
            return None
        if len(commit.parents) != len(rev.parents):
            return f"{len(commit.parents)} parent commits for a revision with {len(rev.parents)} parents"
        for parent, wanted in zip(commit.parents, rev.parents):
            got = self._revision_of(parent)
            if got != wanted:
                return (f"parent commit {parent.decode()} carries "
                        f"{cid_to_str(got) if got else 'no revision'}, not the revision's parent {cid_to_str(wanted)}")
        return None

    def _revision_of(self, sha: bytes) -> bytes | None:
        if sha not in self.revision_of:
            commit = self._commit(sha)
            try:
                self.revision_of[sha] = parse_trailers(commit.message).revision if commit else None
            except InvalidObject:
                self.revision_of[sha] = None
        return self.revision_of[sha]

    def _check_signatures(self, trailers: CommitTrailers, rev: Revision) -> str | None:
        key, roles = required_signers(rev)
        required = False
        for cid, sig in trailers.signature_records():
            if not verify(sig.key, sig.target, sig.role, sig.sig):
                return f"the signature {cid_to_str(cid)} by {sig.key} does not verify"
            required = required or (sig.role in roles and (key is None or sig.key == key))
        if not required:
            return f"no signature by {key or 'a node or the author'} ({' or '.join(roles)})"
        return None

    def _check_view(self, sha: bytes, commit: Commit) -> str | None:
        if sha in self.shallow or any(self._commit(p) is None for p in commit.parents):
            self.report.shallow += 1
            return None
        first = self._commit(commit.parents[0]) if commit.parents else None
        base = first.tree if first is not None and first.author == NODE_IDENTITY else None
        joined = commit.parents[1:] if base is not None else commit.parents
        offered: dict[bytes, bytes] = {}
        for parent in joined:
            parent_commit = self._commit(parent)
            if parent_commit is None or parent_commit.author == NODE_IDENTITY:
                return f"parent {parent.decode()} is not a revision commit"
            offered.update(self._files(parent_commit.tree, b""))
        for path, blob in self._changed(base, commit.tree, b""):
            if offered.get(path) != blob:
                return f"the file {path.decode(errors='replace')} is not the file of a revision commit it joins"
        return None

    def _files(self, tree_id: bytes, prefix: bytes) -> Iterable[tuple[bytes, bytes]]:
        tree = self.repo[tree_id]
        assert isinstance(tree, Tree)
        for entry in tree.iteritems():
            path = prefix + entry.path
            if entry.mode == DIR_MODE:
                yield from self._files(entry.sha, path + b"/")
            else:
                yield path, entry.sha

    def _changed(self, old: bytes | None, new: bytes, prefix: bytes) -> Iterable[tuple[bytes, bytes]]:
        """Files of tree ``new`` that tree ``old`` lacks or holds otherwise (a removed file is no claim)."""
        if old == new:
            return
        if old is None:
            yield from self._files(new, prefix)
            return
        before = {e.path: (e.mode, e.sha) for e in self.repo[old].iteritems()}
        for entry in self.repo[new].iteritems():
            had = before.get(entry.path)
            if had == (entry.mode, entry.sha):
                continue
            path = prefix + entry.path
            if entry.mode == DIR_MODE:
                yield from self._changed(had[1] if had and had[0] == DIR_MODE else None, entry.sha, path + b"/")
            else:
                yield path, entry.sha
