"""A node's bare repository of one wiki (``NODE/git/{wiki}.git``), caught up with the store's log.

``catch_up`` builds the commits of the revisions that arrived since the
position the repository is built to (O(k) for k new revisions), writes them
in one pack per batch, then moves ``refs/heads/main`` to a new view commit
and the fork refs of the pages that changed. It runs under a lock (a thread
lock and a file lock), so two requests or a request and a command never
build the same commits twice; what a killed build left is built again, to
the same ids.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from dulwich.objects import Blob, ShaFile, Tree
from dulwich.pack import write_pack_index, write_pack_objects
from dulwich.repo import Repo

from wikipeer.errors import NotFound
from wikipeer.gitpeer.commits import TreeEditor, git_time, revision_commit, view_commit
from wikipeer.gitpeer.git_command import run_git
from wikipeer.gitpeer.layout import SUFFIX, page_path
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.objects import Page, Revision, parse
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node, require_wiki
from wikipeer.policy.rules import required_signers
from wikipeer.store import gitmap
from wikipeer.store.gitmap import GitState, Shown
from wikipeer.store.records import RevInfo

MAIN = b"refs/heads/main"
FORKS = "refs/forks/"
BATCH = 5000
"""Revisions per pack and per transaction: a kill loses at most one batch of work."""
REPACK_AFTER = 10_000
"""Objects written in one catch-up after which the repository is repacked with deltas (git's own repack):
without deltas every clone would make git compute them again."""
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What one catch-up did."""

    commits: int
    skipped: int
    """Revisions left out: their text or a parent's commit is not here (a partial node)."""
    main: str | None


@dataclass(slots=True)
class _Batch:
    """One batch's revision commits, before they are written."""

    objects: list[ShaFile] = field(default_factory=list)
    rows: list[tuple[bytes, str]] = field(default_factory=list)
    """(revision CID, commit id) for git_commits."""
    built: dict[int, tuple[str, str, bytes]] = field(default_factory=dict)
    """Revision id -> (commit id, file path, blob id)."""
    left_out: int = 0


def repo_path(node_dir: Path, wiki: str) -> Path:
    """Where the node keeps ``wiki``'s bare repository."""
    return node_dir / "git" / f"{wiki}.git"


def open_repo(path: Path) -> Repo:
    """The bare repository at ``path``, made (HEAD naming main) if it is not there yet."""
    if (path / "HEAD").exists():
        return Repo(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    Repo.init_bare(str(tmp)).refs.set_symbolic_ref(b"HEAD", MAIN)
    tmp.rename(path)  # a repository is either whole or not there
    return Repo(str(path))


def write_pack(pack_dir: Path, objects: list[ShaFile]) -> None:
    """One pack (no deltas) and its index, from objects whose ids are known: dulwich's own pack writer reads a
    new pack back whole to index it, which was half of what a fetch of 100 revisions cost the node."""
    unique = list({obj.id: obj for obj in objects}.values())  # one text in two revisions is one blob
    fd, tmp = tempfile.mkstemp(dir=pack_dir, prefix="tmp_pack_")
    try:
        with os.fdopen(fd, "wb") as out:
            entries, checksum = write_pack_objects(out.write, [(obj, None) for obj in unique], deltify=False)
            out.flush()
            os.fsync(out.fileno())
        base = pack_dir / f"pack-{checksum.hex()}"
        with open(f"{tmp}.idx", "wb") as out:
            write_pack_index(out, sorted((sha, offset, crc) for sha, (offset, crc) in entries.items()), checksum)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, base.with_suffix(".pack"))  # git takes a pack once its index is there: the index last
        os.replace(f"{tmp}.idx", base.with_suffix(".idx"))
    finally:
        for leftover in (tmp, f"{tmp}.idx"):
            if os.path.exists(leftover):
                os.unlink(leftover)


@contextmanager
def building(path: Path) -> Iterator[None]:
    """Hold the build lock of one repository: one thread of this process and one process at a time."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(path, threading.Lock())
    with lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / f"{path.name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def view_fingerprint(trusted: frozenset[str]) -> str:
    """Names the set of keys a view trusts: when it changes, every page's shown head is looked at again."""
    return hashlib.sha256("\n".join(sorted(trusted)).encode()).hexdigest()


def fork_prefix(path: str) -> bytes:
    """``refs/forks/{page path without .wiki, escaped}/``: under it, one ref per head of a forked page the view
    does not show, named by the head's revision CID.

    Characters git refuses in ref names (spaces, ``~``, ``:``, ...) and dots are %-escaped.
    """
    stem = quote(path[:-len(SUFFIX)], safe="/-_").replace(".", "%2E").replace("~", "%7E")
    return f"{FORKS}{stem}/".encode("ascii")


def catch_up(node: Node, wiki: str, progress: Callable[[int], None] | None = None) -> CatchUp:
    """Build ``wiki``'s commits up to the store's newest object; move main and the fork refs."""
    require_wiki(node, wiki)
    path = repo_path(node.dir, wiki)
    with building(path):
        return _Builder(node, wiki, open_repo(path), progress).run()


class _Builder:
    """One catch-up of one wiki's repository (under its lock)."""

    def __init__(self, node: Node, wiki: str, repo: Repo, progress: Callable[[int], None] | None) -> None:
        self.node, self.store, self.wiki, self.repo, self.progress = node, node.store, wiki, repo, progress
        self.config: WikiConfig = node.wiki_or_default(wiki)
        self.trusted = node.view().trusted
        self.written = 0

    def run(self) -> CatchUp:
        state = gitmap.state(self.store, self.wiki)
        if state.main is not None and state.main.encode() not in self.repo.object_store:
            # The repository was removed or replaced: build it again from the start (to the same commit ids).
            gitmap.forget(self.store, self.wiki)
            state = gitmap.state(self.store, self.wiki)
        last = self.store.last_seq()
        fingerprint = view_fingerprint(self.trusted)
        commits = skipped = 0
        self._sync_main(state)
        if state.built_to >= last and state.view == fingerprint:
            return CatchUp(0, 0, state.main)
        recheck_all = state.view != fingerprint
        since = state.built_to
        while True:
            revs = [r for r in gitmap.new_revisions(self.store, self.wiki, since, BATCH) if r.id <= last]
            upto = revs[-1].id if len(revs) == BATCH else last
            touched = gitmap.signed_pages(self.store, self.wiki, since, upto) | {r.page for r in revs}
            batch = self._revision_commits(revs)
            state = self._view(state, batch, touched, recheck_all, upto, fingerprint)
            commits, skipped, since, recheck_all = commits + len(batch.built), skipped + batch.left_out, upto, False
            if self.progress:
                self.progress(commits)
            if upto >= last:
                break
        if self.written >= REPACK_AFTER and shutil.which("git"):
            run_git(["repack", "-a", "-d", "-q"], Path(self.repo.path), check=False)
        return CatchUp(commits, skipped, state.main)

    def _sync_main(self, state: GitState) -> None:
        """A build killed between its transaction and its ref update left main behind the table: move it."""
        if state.main is not None and self.repo.refs.read_ref(MAIN) != state.main.encode():
            self.repo.refs[MAIN] = state.main.encode()

    def _revision_commits(self, revs: list[gitmap.NewRevision]) -> _Batch:
        """Build the commits of ``revs`` (parents first: the log's order), leaving out those that cannot be built."""
        infos = {r.id: self.store.revision_by_id(r.id) for r in revs}
        known = gitmap.commit_ids(self.store, [p for info in infos.values() for p in info.parents])
        batch = _Batch()
        pages: dict[int, Page] = {}
        for rev in revs:
            info = infos[rev.id]
            parent_ids = [known.get(p) for p in info.parents]
            text = self._text(rev.cid)
            if text is None or None in parent_ids:
                batch.left_out += 1
                continue
            page = pages.get(info.page)
            if page is None:
                row = self.store.page_by_id(info.page)
                page = pages[info.page] = Page(row.wiki, row.ns, row.title)
            block = self.store.get_block(rev.cid)
            record = parse(block, 0)
            assert isinstance(record, Revision)
            made = revision_commit(page_path(self.config, page.ns, page.title), page, record, block,
                                   self._signature_blocks(info, record), text, [p.encode() for p in parent_ids])
            batch.objects += made.objects
            commit_id = made.commit.id.decode()
            known[rev.cid] = commit_id
            batch.built[rev.id] = (commit_id, made.path, made.blob)
            batch.rows.append((rev.cid, commit_id))
        return batch

    def _text(self, cid: bytes) -> bytes | None:
        try:
            return self.store.revision_text_bytes(cid)
        except NotFound:
            return None  # a partial node may hold a revision without its text

    def _signature_blocks(self, info: RevInfo, record: Revision) -> list[Block]:
        """The signatures the acceptance rule asks for (the author's, or a node's): seconds come and go with
        views, so they stay out of the commit (docs/git.md)."""
        key, roles = required_signers(record)
        blocks = []
        for sig in info.sigs:
            if sig.role in roles and (key is None or sig.key == key):
                block = self.store.get_block(sig.cid)
                if block is not None:
                    blocks.append(block)
        return blocks

    def _view(self, state: GitState, batch: _Batch, touched: set[int], recheck_all: bool, upto: int,
              fingerprint: str) -> GitState:
        """Write the batch, a view commit for the pages whose shown head changed, then move the refs."""
        built = batch.built
        pages = gitmap.wiki_pages(self.store, self.wiki) if recheck_all else sorted(touched)
        shown_ids = self.store.shown_head_ids(self.trusted, pages)
        heads = gitmap.page_head_ids(self.store, pages)
        old = gitmap.shown(self.store, pages)
        commit_of = gitmap.commit_of_revisions(
            self.store, [r for r in shown_ids.values() if r not in built] + [h for hs in heads.values() for h in hs])
        commit_of.update({rid: c for rid, (c, _, _) in built.items()})
        editor = TreeEditor(self._tree, self._root(state.main))
        new_parents: list[bytes] = []
        shown_now: dict[int, Shown] = {}
        newest = self.repo[state.main.encode()].commit_time if state.main else 0
        for page in pages:
            rev = shown_ids.get(page)
            if rev is None or rev not in commit_of:
                continue
            forks = len(heads.get(page, [])) > 1
            before = old.get(page)
            if before is not None and before.rev == rev:
                if before.forks != forks:
                    shown_now[page] = Shown(rev, forks)
                continue
            path, blob_id, when = self._file_of(rev, built)
            editor.set(path, blob_id)
            new_parents.append(commit_of[rev].encode())
            newest = max(newest, when)
            shown_now[page] = Shown(rev, forks)
        objects = batch.objects
        main = state.main
        if new_parents:
            tree = editor.commit()
            objects += editor.written
            parents = ([main.encode()] if main else []) + new_parents
            commit = view_commit(tree, parents, newest, len(new_parents))
            objects.append(commit)
            main = commit.id.decode()
        if objects:
            write_pack(Path(self.repo.object_store.pack_dir), objects)
            self.written += len(objects)
        new_state = GitState(upto, main, fingerprint)
        gitmap.record(self.store, self.wiki, batch.rows, new_state, shown_now)
        if main is not None:
            self.repo.refs[MAIN] = main.encode()
        self._fork_refs(pages, heads, shown_ids, commit_of, old)
        return new_state

    def _root(self, main: str | None) -> bytes | None:
        return self.repo[main.encode()].tree if main else None

    def _tree(self, tree_id: bytes) -> Tree:
        tree = self.repo[tree_id]
        assert isinstance(tree, Tree)
        return tree

    def _file_of(self, rev_id: int, built: dict[int, tuple[str, str, bytes]]) -> tuple[str, bytes, int]:
        """(path, blob id, git time) of a revision's file, from this batch or from the store."""
        info = self.store.revision_by_id(rev_id)
        page = self.store.page_by_id(info.page)
        if rev_id in built:
            return built[rev_id][1], built[rev_id][2], git_time(info.ts)
        text = self.store.revision_text_bytes(info.cid) or b""
        return page_path(self.config, page.ns, page.title), Blob.from_string(text).id, git_time(info.ts)

    def _fork_refs(self, pages: list[int], heads: dict[int, list[int]], shown_ids: dict[int, int],
                   commit_of: dict[int, str], old: dict[int, Shown]) -> None:
        """refs/forks/... of these pages: one per head the view does not show, none for a page without forks."""
        refs = self.repo.refs
        for page in pages:
            page_heads = heads.get(page, [])
            had = old.get(page)
            if len(page_heads) < 2 and not (had and had.forks):
                continue
            row = self.store.page_by_id(page)
            prefix = fork_prefix(page_path(self.config, row.ns, row.title))
            wanted = {}
            for rev in page_heads if len(page_heads) > 1 else []:
                if rev != shown_ids.get(page) and rev in commit_of:
                    wanted[prefix + cid_to_str(self.store.revision_by_id(rev).cid).encode()] = commit_of[rev].encode()
            for name in {prefix + name for name in refs.keys(base=prefix.rstrip(b"/"))} - set(wanted):
                refs.remove_if_equals(name, None)
            for name, sha in wanted.items():
                refs[name] = sha


def pending(node: Node, wiki: str) -> int:
    """How many revisions of ``wiki`` arrived after its repository's built position."""
    require_wiki(node, wiki)
    return gitmap.count_after(node.store, wiki, gitmap.state(node.store, wiki).built_to)


def wiki_repo(node: Node, wiki: str) -> Path:
    """The path of ``wiki``'s repository, caught up with the store; UserError when the node has no such wiki."""
    catch_up(node, wiki)
    return repo_path(node.dir, wiki)

