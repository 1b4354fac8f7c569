"""git as a peer (issue 17, item 1): clone and fetch a served node's wiki with the real git binary, verify-git
and its hook, deterministic commit ids across nodes, forks as refs, shallow clones, the dulwich fallback."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo
from fastapi import FastAPI

from conftest import Author, free_port, run_cli, store_connect
from wikipeer.gitpeer.layout import page_path
from wikipeer.gitpeer.repo import catch_up, repo_path
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import key_from_str
from wikipeer.net.sync import sync
from wikipeer.node import Node
from wikipeer.store.peers import PeerBook
from wikipeer.store.schema import SCHEMA_VERSION
from wikipeer.web.app import create_app
from wikipeer.web import git_http

T0 = 1_700_000_000_000  # revision timestamps are milliseconds


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Node, str, dict]]:
    """A node with wiki 'w': three pages, one edited twice, one forked; served on a free port."""
    node = Node.init(tmp_path_factory.mktemp("git") / "node")
    node.wiki("w")
    author = Author(node)
    revs: dict[str, bytes] = {}

    def edit(name: str, title: str, text: str, parents: tuple[bytes, ...] = (), ts: int = 0, summary: str = "s"):
        blocks = author.edit(title, text, parents=parents, ts=T0 + ts, summary=summary)
        node.ingest(blocks, "test")
        revs[name] = blocks[2].cid

    edit("a1", "Alpha", "alpha one\n", ts=1000, summary="first")
    edit("a2", "Alpha", "alpha two\n", parents=(revs["a1"],), ts=2000, summary="")
    edit("b1", "Beta/Sub page", "beta\n", ts=3000)
    edit("c1", "Gamma", "gamma one\n", ts=4000)
    edit("c2", "Gamma", "gamma main\n", parents=(revs["c1"],), ts=6000)
    edit("c3", "Gamma", "gamma fork\n", parents=(revs["c1"],), ts=5000)
    with _uvicorn(create_app(node)) as port:
        yield node, f"http://127.0.0.1:{port}", {"revs": revs, "author": author, "edit": edit}
    node.close()


class _uvicorn:
    """A real uvicorn server for an app, in a thread, on a free loopback port."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive()
            time.sleep(0.02)
        return self.port

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result


def revision_commits(clone: Path, ref: str = "HEAD") -> list[str]:
    out = git("log", "--format=%H %ae", ref, cwd=clone).stdout.split("\n")
    return [line.split()[0] for line in out if line and not line.endswith("node@wikipeer")]


def test_clone_has_every_page_file_and_one_commit_per_revision(served, tmp_path):
    node, url, made = served
    clone = tmp_path / "clone"
    git("clone", "--quiet", f"{url}/git/w.git", str(clone))
    config = node.wiki("w")
    for title, text in [("Alpha", "alpha two\n"), ("Beta/Sub page", "beta\n"), ("Gamma", "gamma main\n")]:
        assert (clone / page_path(config, 0, title)).read_text() == text
    files = git("ls-files", "-z", cwd=clone).stdout.split("\0")[:-1]
    assert len(files) == 3 and all(f.startswith("Main/") for f in files)
    assert len(revision_commits(clone)) == 5  # the fork's head c3 is not on main
    assert git("rev-list", "--count", "--all", cwd=clone).stdout.strip() == "6"  # + one view commit
    alpha = git("log", "--format=%an|%ae|%at|%s", "--", page_path(config, 0, "Alpha"), cwd=clone).stdout.split("\n")
    key = key_from_str(made["author"].public).hex()
    assert alpha[0] == f"{key[:16]}|{key}@wikipeer|{(T0 + 2000) // 1000}|(no summary)"
    assert alpha[1] == f"{key[:16]}|{key}@wikipeer|{(T0 + 1000) // 1000}|first"
    message = git("log", "-1", "--format=%B", revision_commits(clone)[-1], cwd=clone).stdout
    assert f"Wikipeer-Revision: {cid_to_str(made['revs']['a1'])}" in message
    fsck = git("fsck", "--strict", cwd=clone)
    assert fsck.stderr.strip() == "" and fsck.stdout.strip() == ""
    result = run_cli(None, "verify-git", str(clone))
    assert result.code == 0 and result.out.strip() == "6 commits verified", str(result)


def test_forks_are_refs_and_the_server_repo_verifies(served, tmp_path):
    node, url, made = served
    refs = git("ls-remote", f"{url}/git/w.git", cwd=tmp_path).stdout
    fork = f"refs/forks/Main/{page_path(node.wiki('w'), 0, 'Gamma')[5:-5]}/{cid_to_str(made['revs']['c3'])}"
    assert fork in refs and "refs/heads/main" in refs
    clone = tmp_path / "all"
    git("clone", "--quiet", "--mirror", f"{url}/git/w.git", str(clone))
    assert git("log", "-1", "--format=%s", fork, cwd=clone).stdout.strip() == "s"
    result = run_cli(None, "verify-git", str(repo_path(node.dir, "w")))
    assert result.code == 0 and result.out.strip() == "7 commits verified", str(result)


def test_shallow_clone(served, tmp_path):
    _, url, _ = served
    clone = tmp_path / "shallow"
    git("clone", "--quiet", "--depth", "1", f"{url}/git/w.git", str(clone))
    assert git("rev-list", "--count", "HEAD", cwd=clone).stdout.strip() == "1"
    assert len(git("ls-files", "-z", cwd=clone).stdout.split("\0")[:-1]) == 3
    result = run_cli(None, "verify-git", str(clone))
    assert result.code == 0 and "shallow" in result.out, str(result)


def test_fetch_after_new_edits_brings_only_them(served, tmp_path):
    node, url, made = served
    clone = tmp_path / "fetching"
    git("clone", "--quiet", f"{url}/git/w.git", str(clone))
    before = git("rev-parse", "HEAD", cwd=clone).stdout.strip()
    made["edit"]("d1", "Delta", "delta\n", ts=7000)
    made["edit"]("a3", "Alpha", "alpha three\n", parents=(made["revs"]["a2"],), ts=8000)
    made["edit"]("a4", "Alpha", "alpha four\n", parents=(made["revs"]["a3"],), ts=9000)
    git("pull", "--quiet", "--ff-only", cwd=clone)
    new = git("rev-list", f"{before}..HEAD", cwd=clone).stdout.split()
    assert len(new) == 4  # three revision commits and one view commit
    assert (clone / page_path(node.wiki("w"), 0, "Alpha")).read_text() == "alpha four\n"
    assert catch_up(node, "w").commits == 0  # built once, kept


def test_a_removed_repository_is_built_again_to_the_same_ids(node, author, tmp_path):
    node.ingest(author.edit("Alpha", "alpha\n", ts=T0) + author.edit("Beta", "beta\n", ts=T0 + 1), "test")
    first = catch_up(node, "w")
    shutil.rmtree(repo_path(node.dir, "w"))
    again = catch_up(node, "w")
    assert again.commits == first.commits == 2 and again.main == first.main
    assert git("fsck", "--strict", cwd=repo_path(node.dir, "w")).returncode == 0


def test_two_nodes_with_the_same_revisions_make_the_same_commits(served, tmp_path):
    node, url, _ = served
    other = Node.init(tmp_path / "other")
    try:
        PeerBook(other.store).add(url)
        sync(other, url, do_push=False)
        catch_up(other, "w")
        catch_up(node, "w")
        ours, theirs = Repo(str(repo_path(node.dir, "w"))), Repo(str(repo_path(other.dir, "w")))
        rows = node.store.conn.execute("SELECT rev_cid, commit_id FROM git_commits").fetchall()
        assert rows and sorted(rows) == sorted(other.store.conn.execute("SELECT * FROM git_commits").fetchall())
        for _, commit in rows:
            assert ours[commit.encode()].as_raw_string() == theirs[commit.encode()].as_raw_string()
    finally:
        other.close()


def test_dulwich_serves_when_git_is_missing(served, tmp_path):
    node, _, _ = served
    app = FastAPI()
    app.include_router(git_http.router(node, use_git=False))
    with _uvicorn(app) as port:
        clone = tmp_path / "by-dulwich"
        git("clone", "--quiet", f"http://127.0.0.1:{port}/git/w.git", str(clone))
        assert len(git("ls-files", "-z", cwd=clone).stdout.split("\0")[:-1]) >= 3
        assert git("fsck", "--strict", cwd=clone).returncode == 0


def test_gzip_requests_pushes_and_unknown_wikis(served):
    node, url, _ = served
    with httpx.Client(base_url=url, timeout=30) as client:
        refs = client.get("/git/w.git/info/refs", params={"service": "git-upload-pack"})
        assert refs.status_code == 200 and refs.content.startswith(b"001e# service=git-upload-pack\n0000")
        main = catch_up(node, "w").main
        request = b"0032want " + main.encode() + b"\n00000009done\n"
        answer = client.post("/git/w.git/git-upload-pack", content=gzip.compress(request),
                             headers={"Content-Encoding": "gzip", "Content-Type": "application/x-git-upload-pack-request"})
        assert answer.status_code == 200 and answer.content.startswith(b"0008NAK\n") and b"PACK" in answer.content
        bomb = client.post("/git/w.git/git-upload-pack", content=b"not gzip", headers={"Content-Encoding": "gzip"})
        assert bomb.status_code == 400 and "gzip" in bomb.text
        push = client.get("/git/w.git/info/refs", params={"service": "git-receive-pack"})
        assert push.status_code == 401 and push.headers["www-authenticate"].startswith("Basic")  # tests/test_git_push.py
        assert client.get("/git/nope.git/info/refs", params={"service": "git-upload-pack"}).status_code == 404
        assert client.get("/git/w.git/info/refs").status_code == 403  # the dumb protocol


# -- verify-git finds what was altered, naming the commit ---------------------------------------------------


def _rewrite(clone: Path, change) -> str:
    """A copy of main's newest revision commit with ``change(commit, repo)`` applied, on a new branch."""
    repo = Repo(str(clone))
    target = repo[revision_commits(clone)[0].encode()]
    forged = Commit.from_string(target.as_raw_string())
    change(forged, repo)
    repo.object_store.add_object(forged)
    repo.refs[b"refs/heads/forged"] = forged.id
    return forged.id.decode()


def _forge_trailer(commit: Commit, repo: Repo) -> None:
    commit.message = commit.message.replace(b"Wikipeer-Page: w 0 ", b"Wikipeer-Page: w 0 X")


def _forge_signature(commit: Commit, repo: Repo) -> None:
    import base64
    import libipld
    lines = commit.message.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"Wikipeer-Signature: "):
            sig = libipld.decode_dag_cbor(base64.b64decode(line[20:]))
            sig["sig"] = ("A" if sig["sig"][0] != "A" else "B") + sig["sig"][1:]
            lines[i] = b"Wikipeer-Signature: " + base64.b64encode(libipld.encode_dag_cbor(sig))
    commit.message = b"\n".join(lines)


def _change_file(commit: Commit, repo: Repo) -> None:
    blob = Blob.from_string(b"vandalised\n")
    repo.object_store.add_object(blob)

    def swap(tree_id: bytes) -> bytes:
        tree = Tree.from_string(repo[tree_id].as_raw_string())
        for entry in list(tree.iteritems()):
            tree.add(entry.path, entry.mode, swap(entry.sha) if entry.mode == 0o40000 else blob.id)
        repo.object_store.add_object(tree)
        return tree.id

    commit.tree = swap(commit.tree)


@pytest.mark.parametrize("change, reason", [
    (_forge_trailer, "bad trailers: Wikipeer-Page"),
    (_forge_signature, "does not verify"),
    (_change_file, "was changed"),
])
def test_verify_git_reports_each_bad_commit_by_id(served, tmp_path, change, reason):
    _, url, _ = served
    clone = tmp_path / "clone"
    git("clone", "--quiet", f"{url}/git/w.git", str(clone))
    forged = _rewrite(clone, change)
    result = run_cli(None, "verify-git", str(clone))
    assert result.code == 1, str(result)
    assert result.out.startswith(f"{forged}: ") and reason in result.out, str(result)
    assert "1 commit did not verify" in result.err


def test_verify_git_reports_a_view_commit_that_shows_a_file_no_revision_has(served, tmp_path):
    _, url, _ = served
    clone = tmp_path / "clone"
    git("clone", "--quiet", f"{url}/git/w.git", str(clone))
    repo = Repo(str(clone))
    main = repo[repo.refs[b"refs/heads/main"]]
    forged = Commit.from_string(main.as_raw_string())
    forged.parents = [main.id]
    _change_file(forged, repo)  # every file of the view replaced, no revision commit joined
    repo.object_store.add_object(forged)
    repo.refs[b"refs/heads/forged"] = forged.id
    result = run_cli(None, "verify-git", str(clone))
    assert result.code == 1 and result.out.startswith(f"{forged.id.decode()}: the file Main/"), str(result)
    assert "is not the file of a revision commit it joins" in result.out


def test_hook_refuses_a_fetch_of_forged_commits(served, tmp_path):
    _, url, _ = served
    evil = tmp_path / "evil"
    git("clone", "--quiet", f"{url}/git/w.git", str(evil))
    forged = _rewrite(evil, _forge_trailer)
    clone = tmp_path / "victim"
    git("clone", "--quiet", f"{url}/git/w.git", str(clone))
    result = run_cli(None, "verify-git", str(clone), "--install-hook")
    assert result.code == 0 and "installed" in result.out, str(result)
    git("fetch", "--quiet", "origin", cwd=clone)  # honest commits pass the hook
    refused = git("fetch", str(evil), "+refs/heads/forged:refs/remotes/evil/forged", cwd=clone, check=False)
    assert refused.returncode != 0 and forged in refused.stderr and "bad trailers" in refused.stderr
    assert git("show-ref", "refs/remotes/evil/forged", cwd=clone, check=False).returncode != 0


def test_store_upgraded_from_schema_15_builds_its_repository(tmp_path):
    node = Node.init(tmp_path / "old")
    node.wiki("w")
    node.ingest(Author(node).edit("Alpha", "text\n", ts=T0), "test")
    node.close()
    conn = store_connect(tmp_path / "old")
    for table in ("git_commits", "git_state", "git_shown"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE meta SET value = '15' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    node = Node.open(tmp_path / "old")
    try:
        assert node.store.meta("schema") == SCHEMA_VERSION
        assert catch_up(node, "w").commits == 1
        clone = tmp_path / "clone"
        git("clone", "--quiet", str(repo_path(node.dir, "w")), str(clone))
        assert git("ls-files", cwd=clone).stdout.strip() == page_path(node.wiki("w"), 0, "Alpha")
    finally:
        node.close()


def test_git_is_required_on_this_machine():
    assert shutil.which("git"), "the git tests need Debian's git (scripts/system-deps.sh)"


def test_a_trust_change_alone_moves_main_and_the_fork_refs(node, author, tmp_path):
    import nacl.signing

    from wikipeer.authoring import edit_blocks
    from wikipeer.model.keys import key_to_str
    from wikipeer.model.objects import Page

    friend = nacl.signing.SigningKey(b"\x07" * 32)
    friend_public = key_to_str(bytes(friend.verify_key))
    base = author.edit("Alpha", "base\n", ts=T0)
    ours = author.edit("Alpha", "ours\n", parents=(base[2].cid,), ts=T0 + 1000)
    theirs = edit_blocks(Page("w", 0, "Alpha"), "theirs\n", (base[2].cid,), "s", friend, friend_public, T0 + 2000)
    node.ingest(base + ours + theirs, "test")
    path = repo_path(node.dir, "w")
    page = page_path(node.wiki("w"), 0, "Alpha")
    fork_prefix = f"refs/forks/Main/{page[5:-5]}/"

    first = catch_up(node, "w")
    assert git("show", f"main:{page}", cwd=path).stdout == "ours\n"  # the newer head is by a key not trusted
    assert git("for-each-ref", "--format=%(refname)", fork_prefix, cwd=path).stdout.strip() == \
        fork_prefix + cid_to_str(theirs[2].cid)

    node.keyring.import_public("friend", friend_public)
    node.refresh()
    second = catch_up(node, "w")
    assert second.commits == 0 and second.main != first.main
    assert git("show", f"main:{page}", cwd=path).stdout == "theirs\n"
    assert git("for-each-ref", "--format=%(refname)", fork_prefix, cwd=path).stdout.strip() == \
        fork_prefix + cid_to_str(ours[2].cid)
    result = run_cli(None, "verify-git", str(path))
    assert result.code == 0 and result.out.strip() == "5 commits verified", str(result)


def test_revisions_whose_text_is_missing_are_skipped_with_their_descendants(node, author, tmp_path):
    a1 = author.edit("Alpha", "alpha one\n", ts=T0)
    a2 = author.edit("Alpha", "alpha two\n", parents=(a1[2].cid,), ts=T0 + 1000)
    node.ingest(a1 + a2 + author.edit("Beta", "beta\n", ts=T0 + 2000), "test")
    with node.store.write() as writer:  # what a partial node lacks: the text of Alpha's first revision
        writer.conn.execute("DELETE FROM texts WHERE id = (SELECT id FROM objects WHERE cid = ?)", (a1[1].cid,))
    done = catch_up(node, "w")
    assert (done.commits, done.skipped) == (1, 2)
    clone = tmp_path / "partial"
    git("clone", "--quiet", str(repo_path(node.dir, "w")), str(clone))
    assert git("ls-files", cwd=clone).stdout.strip() == page_path(node.wiki("w"), 0, "Beta")


def test_upload_pack_requests_are_rate_limited_per_client(served):
    from wikipeer.net.ratelimit import Limits, Rate

    node, _, _ = served
    app = FastAPI()
    app.include_router(git_http.router(node, limits=Limits.from_rates({"git": Rate(1, 2)})))
    main = catch_up(node, "w").main
    request = b"0032want " + main.encode() + b"\n00000009done\n"
    with _uvicorn(app) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        answers = [client.post("/git/w.git/git-upload-pack", content=request) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1 and "git fetches and clones" in answers[2].text


def test_git_build_builds_ahead_and_a_clone_then_builds_nothing(tmp_path):
    node = Node.init(tmp_path / "n")
    node.wiki("w")
    author = Author(node)
    first = author.edit("Alpha", "one\n", ts=T0)
    node.ingest(first + author.edit("Alpha", "two\n", parents=(first[2].cid,), ts=T0 + 1), "test")
    node.close()
    result = run_cli(tmp_path / "n", "git-build", "w")
    assert result.code == 0 and "2 new commits, main at " in result.out, str(result)
    again = run_cli(tmp_path / "n", "git-build", "w")
    assert again.code == 0 and "0 new commits" in again.out, str(again)
    missing = run_cli(tmp_path / "n", "git-build", "nope")
    assert missing.code != 0 and "nope" in missing.err and "Traceback" not in missing.err, str(missing)
