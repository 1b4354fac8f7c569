"""What a push asks for (gitpeer/changes.py): page changes and refusals from real git objects, no HTTP.

The node's side is built as the node builds it (a revision commit with its
trailers, a view commit over it); the pushed commits are built with dulwich
so that names git itself would not write (``..``, bytes that are not UTF-8)
can be tried too.
"""

from __future__ import annotations

import subprocess

import nacl.signing
import pytest
from dulwich.index import commit_tree
from dulwich.object_store import MemoryObjectStore, iter_tree_contents
from dulwich.objects import Blob, Commit
from dulwich.repo import Repo as DiskRepo

from wikipeer.authoring import edit_blocks
from wikipeer.gitpeer.changes import (
    PageChange, PushTooLarge, Refusal, base_revision, base_revisions, blob_at, object_size, push_changes, summary_of)
from wikipeer.gitpeer.layout import page_path
from wikipeer.gitpeer.trailers import NODE_IDENTITY, build_message, git_identity
from wikipeer.model.keys import key_to_str
from wikipeer.model.objects import Page, parse
from wikipeer.model.title import WikiConfig

CONFIG = WikiConfig("demo")
ALPHA = page_path(CONFIG, 0, "Alpha")
BETA = page_path(CONFIG, 0, "Beta")


class Repo:
    """A dulwich object store with the node's commits and helpers to add pushed ones."""

    def __init__(self) -> None:
        self.store = MemoryObjectStore()
        self.when = 1_700_000_000

    def blob(self, data: bytes) -> bytes:
        blob = Blob.from_string(data)
        self.store.add_object(blob)
        return blob.id

    def commit(self, files: dict[bytes, bytes | tuple[bytes, int]], parents: list[bytes], message: bytes) -> bytes:
        entries = []
        for path, value in files.items():
            data, mode = value if isinstance(value, tuple) else (value, 0o100644)
            entries.append((path, self.blob(data), mode))
        commit = Commit()
        commit.tree = commit_tree(self.store, entries)
        commit.parents = parents
        commit.author = commit.committer = b"someone <someone@example.org>"
        self.when += 60
        commit.author_time = commit.commit_time = self.when
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = message
        self.store.add_object(commit)
        return commit.id

    def files(self, commit_id: bytes) -> dict[bytes, bytes]:
        """Every file of a commit, to build the next tree from."""
        out = {}
        for entry in iter_tree_contents(self.store, self.store[commit_id].tree):
            out[entry.path] = self.store[entry.sha].as_raw_string()
        return out


@pytest.fixture
def repo() -> Repo:
    return Repo()


def node_commits(repo: Repo, texts: dict[str, str]) -> tuple[bytes, dict[str, bytes]]:
    """A view commit holding ``texts`` (title -> text) over one revision commit per page; the revision CIDs."""
    key = nacl.signing.SigningKey.generate()
    public = key_to_str(key.verify_key.encode())
    revisions, parents, files = {}, [], {}
    for title, text in texts.items():
        page, _, rev, sig = edit_blocks(Page("demo", 0, title), text, (), "made", key, public, 1_000)
        path = page_path(CONFIG, 0, title).encode()
        parents.append(repo.commit({path: text.encode()}, [], build_message(Page("demo", 0, title), rev, [sig])))
        revisions[title] = rev.cid
        files[path] = text.encode()
    return repo.commit(files, parents, b"2 revisions\n"), revisions


def test_an_edit_and_a_new_page_become_page_changes_with_summary_and_base(repo):
    view, revisions = node_commits(repo, {"Alpha": "old alpha"})
    files = repo.files(view) | {ALPHA.encode(): b"new alpha", BETA.encode(): b"beta text"}
    pushed = repo.commit(files, [view], b"Two changes\nsecond line\n\nbody paragraph\n")
    found = push_changes(repo.store, CONFIG, [view], pushed)
    assert found.refusals == []
    assert found.commits == [pushed.decode()]
    by_title = {c.title: c for c in found.changes}
    alpha, beta = by_title["Alpha"], by_title["Beta"]
    assert (alpha.path, alpha.ns, alpha.text, alpha.summary) == (ALPHA, 0, "new alpha", "Two changes second line")
    assert alpha.base_blob == blob_at(repo.store, repo.store[view].tree, ALPHA).decode()
    assert alpha.base_commit == view.decode() and alpha.ts == repo.store[pushed].author_time * 1000
    assert beta.base_blob is None and beta.text == "beta text"
    assert base_revision(repo.store, view, ALPHA) == revisions["Alpha"]
    assert base_revision(repo.store, view, BETA) is None


def test_commits_are_walked_oldest_first_each_against_its_first_parent(repo):
    view, _ = node_commits(repo, {"Alpha": "a0"})
    first = repo.commit(repo.files(view) | {ALPHA.encode(): b"a1"}, [view], b"one")
    second = repo.commit(repo.files(first) | {ALPHA.encode(): b"a2"}, [first], b"two")
    found = push_changes(repo.store, CONFIG, [view], second)
    assert [(c.text, c.summary, c.commit_id) for c in found.changes] == [
        ("a1", "one", first.decode()), ("a2", "two", second.decode())]
    assert found.changes[1].base_blob == blob_at(repo.store, repo.store[first].tree, ALPHA).decode()


def test_base_revision_walks_back_through_view_commits_that_did_not_touch_the_page(repo):
    view, revisions = node_commits(repo, {"Alpha": "a0", "Beta": "b0"})
    key = nacl.signing.SigningKey.generate()
    _, _, rev, sig = edit_blocks(Page("demo", 0, "Beta"), "b1", (revisions["Beta"],), "again", key,
                                 key_to_str(key.verify_key.encode()), 2_000)
    beta_commit = repo.commit({BETA.encode(): b"b1"}, [], build_message(Page("demo", 0, "Beta"), rev, [sig]))
    later = repo.commit(repo.files(view) | {BETA.encode(): b"b1"}, [view, beta_commit], b"1 revision\n")
    assert base_revision(repo.store, later, ALPHA) == revisions["Alpha"]
    assert base_revision(repo.store, later, BETA) == rev.cid


def refusals(repo: Repo, changed: dict[bytes, bytes | tuple[bytes, int]], drop: tuple[bytes, ...] = (),
             **limits) -> list[Refusal]:
    view, _ = node_commits(repo, {"Alpha": "a0"})
    files = {p: d for p, d in repo.files(view).items() if p not in drop} | changed
    pushed = repo.commit(files, [view], b"bad files")
    found = push_changes(repo.store, CONFIG, [view], pushed, **limits)
    assert all(isinstance(r, Refusal) and r.commit_id == pushed.decode() for r in found.refusals)
    return found.refusals


@pytest.mark.parametrize("path, data, reason", [
    (b"README.md", b"hello", "four levels"),
    (b"Main/00/00/Gamma.wiki", b"x", "belongs under"),
    (page_path(CONFIG, 0, "Nul").encode(), b"a\0b", "NUL byte at byte offset 1"),
    (page_path(CONFIG, 0, "Latin").encode(), b"caf\xe9", "not valid UTF-8 at byte offset 3"),
    (b"Main/00/00/caf\xe9.wiki", b"x", "not UTF-8 (byte offset 14)"),
    (b"Main/../../etc/passwd.wiki", b"x", "path traversal"),
    (b"Main/00/00/a<b.wiki", b"x", "not a valid title"),
    (page_path(CONFIG, 0, "Link").encode(), (b"Main", 0o120000), "not a regular file"),
])
def test_each_bad_file_is_refused_naming_its_path(repo, path, data, reason):
    found = refusals(repo, {path: data})
    assert len(found) == 1
    assert found[0].path == path.decode("utf-8", errors="backslashreplace")
    assert reason in found[0].reason


def test_a_deleted_file_is_refused(repo):
    found = refusals(repo, {}, drop=(ALPHA.encode(),))
    assert [(r.path, r.reason.split(":")[0]) for r in found] == [(ALPHA, "deleted")]


def test_a_file_over_the_text_limit_is_refused_by_its_size(repo):
    found = refusals(repo, {BETA.encode(): b"x" * 5000}, max_text=4096)
    assert [r.path for r in found] == [BETA] and "5000 bytes" in found[0].reason


def test_object_size_reads_loose_headers_pack_entries_and_their_deltas(tmp_path):
    work = tmp_path / "w"
    git = ["git", "-C", str(work), "-c", "user.name=a", "-c", "user.email=a@b"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    big = "".join(f"line {i}\n" for i in range(20_000))
    for n, text in enumerate([big, big + "one more\n"]):
        (work / "f").write_text(text)
        subprocess.run([*git, "add", "f"], check=True)
        subprocess.run([*git, "commit", "-qm", str(n)], check=True)
    blobs = subprocess.run([*git, "rev-parse", "HEAD:f", "HEAD~1:f"], check=True, capture_output=True,
                           text=True).stdout.split()
    expected = [len(big) + 9, len(big)]
    loose = DiskRepo(str(work)).object_store
    assert [object_size(loose, b.encode()) for b in blobs] == expected
    subprocess.run([*git, "gc", "-q", "--aggressive"], check=True)  # one blob becomes a delta of the other
    packed = DiskRepo(str(work)).object_store
    assert not any(loose.contains_loose(b.encode()) for b in blobs)
    assert [object_size(packed, b.encode()) for b in blobs] == expected


def test_merge_commits_are_not_taken(repo):
    view, _ = node_commits(repo, {"Alpha": "a0"})
    side = repo.commit(repo.files(view) | {BETA.encode(): b"b"}, [view], b"side")
    merge = repo.commit(repo.files(side) | {ALPHA.encode(): b"merged"}, [side, view], b"Merge")
    found = push_changes(repo.store, CONFIG, [view], merge)
    assert [c.title for c in found.changes] == ["Beta"]
    assert [(r.path, r.commit_id) for r in found.refusals] == [(ALPHA, merge.decode())]
    assert "merge" in found.refusals[0].reason and "git pull --rebase" in found.refusals[0].reason


def test_forged_trailers_on_pushed_commits_are_never_read(repo):
    view, revisions = node_commits(repo, {"Alpha": "a0"})
    forged = repo.store[repo.store[view].parents[0]].message  # a real revision's trailers, copied
    pushed = repo.commit(repo.files(view) | {ALPHA.encode(): b"a1"}, [view], forged)
    found = push_changes(repo.store, CONFIG, [view], pushed)
    assert [c.text for c in found.changes] == ["a1"] and found.changes[0].base_commit == view.decode()
    assert base_revision(repo.store, view, ALPHA) == revisions["Alpha"]  # read from the node's commits only


def test_too_many_files_or_commits_are_refused_whole(repo):
    view, _ = node_commits(repo, {"Alpha": "a0"})
    files = repo.files(view) | {page_path(CONFIG, 0, f"P{i}").encode(): b"x" for i in range(12)}
    pushed = repo.commit(files, [view], b"many")
    with pytest.raises(PushTooLarge, match="more than 10 files"):
        push_changes(repo.store, CONFIG, [view], pushed, max_files=10)
    again = repo.commit(files, [pushed], b"more")
    with pytest.raises(PushTooLarge, match="more than 1 new commits"):
        push_changes(repo.store, CONFIG, [view], again, max_commits=1)


def test_summary_is_the_first_paragraph_on_one_line():
    assert summary_of(b"Fix typo\nin intro\n\nLong body\n") == "Fix typo in intro"
    assert summary_of(b"") == ""


def test_page_change_keeps_its_stable_names():
    change = PageChange("Main/00/00/A.wiki", 0, "A", "t", "s", "c" * 40)
    assert (change.path, change.ns, change.title, change.text, change.summary, change.commit_id) == (
        "Main/00/00/A.wiki", 0, "A", "t", "s", "c" * 40)


def test_base_revisions_resolves_many_paths_in_one_walk(repo):
    view, revisions = node_commits(repo, {"Alpha": "a0", "Beta": "b0", "Gamma": "g0"})
    later = repo.commit(repo.files(view), [view], b"a view commit that changed nothing\n")
    paths = [page_path(CONFIG, 0, t) for t in ("Alpha", "Beta", "Gamma")] + [page_path(CONFIG, 0, "Nowhere")]
    found = base_revisions(repo.store, later, paths)
    assert found == {paths[0]: revisions["Alpha"], paths[1]: revisions["Beta"], paths[2]: revisions["Gamma"],
                     paths[3]: None}


def test_a_base_that_is_no_node_commit_has_no_base_revision(repo):
    plain = repo.commit({ALPHA.encode(): b"a0"}, [], b"someone else's commit\n")
    assert base_revision(repo.store, plain, ALPHA) is None


def test_commits_a_node_built_are_skipped_not_taken_or_refused(repo):
    """A clone of another node's repository: its view and revision commits are new here, and no edit of the pusher's."""
    base = repo.commit({ALPHA.encode(): b"a0"}, [], b"the base this node knows\n")
    key = nacl.signing.SigningKey.generate()
    _, _, rev, sig = edit_blocks(Page("demo", 0, "Beta"), "b0", (), "elsewhere", key,
                                 key_to_str(key.verify_key.encode()), 1_000)
    elsewhere = Commit()
    elsewhere.tree = repo.store[repo.commit({BETA.encode(): b"b0"}, [], b"x")].tree
    elsewhere.parents = []
    elsewhere.author = elsewhere.committer = git_identity(parse(rev, 1 << 20))
    elsewhere.author_time = elsewhere.commit_time = 1
    elsewhere.author_timezone = elsewhere.commit_timezone = 0
    elsewhere.message = build_message(Page("demo", 0, "Beta"), rev, [sig])
    repo.store.add_object(elsewhere)
    view = Commit()
    view.tree = repo.store[repo.commit(repo.files(base) | {BETA.encode(): b"b0"}, [], b"x")].tree
    view.parents = [base, elsewhere.id]
    view.author = view.committer = NODE_IDENTITY
    view.author_time = view.commit_time = 2
    view.author_timezone = view.commit_timezone = 0
    view.message = b"1 revision\n"
    repo.store.add_object(view)
    mine = repo.commit(repo.files(view.id) | {ALPHA.encode(): b"a1"}, [view.id], b"my edit")
    found = push_changes(repo.store, CONFIG, [base], mine)
    assert sorted(found.skipped) == sorted([elsewhere.id.decode(), view.id.decode()])
    assert found.refusals == [] and [(c.title, c.text) for c in found.changes] == [("Alpha", "a1")]
