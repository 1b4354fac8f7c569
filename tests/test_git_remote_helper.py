"""git-remote-wikipeer with the real git binary against a served node on 127.0.0.1 (docs/git.md).

The helper is the one installed beside the venv's python; the user's node (their
keys) is a node directory of its own, as on a user's machine, and the served
node is another. A push must reach the served node as revisions signed by the
user's key, and what cannot be taken must fail the push naming the path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import cli_env, run_cli, start_server, stop_server

from wikipeer import authoring
from wikipeer.gitpeer.changes import MAX_PUSH_FILES
from wikipeer.gitpeer.layout import page_path
from wikipeer.gitpeer.remote_url import BadRemoteUrl, RemoteUrl, parse_remote_url
from wikipeer.model.cid import cid_to_str
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node

WIKI = "w"
VENV_BIN = Path(sys.executable).parent
PAGES = {"Alpha": "alpha's first text", "Beta": "beta's first text", "Gamma": "gamma's first text",
         "Delta": "delta's first text", "Epsilon": "epsilon's first text", "Theta": "theta's first text"}


@dataclass
class Served:
    """The served node, its address, and the user's own node (where their key lives)."""

    server_dir: Path
    user_dir: Path
    user_key: str
    url: str
    home: Path
    config: WikiConfig

    @property
    def remote(self) -> str:
        return f"wikipeer::{self.url}/{WIKI}"

    def env(self, **extra: str) -> dict[str, str]:
        """git's environment: the venv's bin on PATH (the helper), the user's node, no global git config."""
        env = cli_env({"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(self.home),
                       "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
                       "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org",
                       "WIKIPEER_NODE": str(self.user_dir)})
        env.update(extra)
        return env

    def git(self, *args: str, cwd: Path | None = None, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=self.env(**extra),
                              timeout=120)
        if check:
            assert proc.returncode == 0, f"git {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def clone(self, where: Path, *args: str) -> Path:
        self.git("clone", "--quiet", *args, self.remote, str(where))
        return where

    def path(self, title: str) -> str:
        return page_path(self.config, 0, title)

    def head(self, title: str):
        """The heads of a page on the served node, read from its store (the server keeps running)."""
        node = Node.open(self.server_dir)
        try:
            page = node.store.page(WIKI, 0, title)
            return [] if page is None else node.store.heads(page.id)
        finally:
            node.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    base = tmp_path_factory.mktemp("git-remote")
    server = Node.init(base / "server")
    server.wiki(WIKI)
    for title, text in PAGES.items():
        authoring.edit(server, WIKI, title, text, f"{title} begins")
    config = server.wiki(WIKI)
    server.close()
    user = Node.init(base / "user")
    user_key = user.user_key().public
    user.close()
    (base / "home").mkdir()
    # The module clones and fetches more often than a person would: past the default git rate of one client.
    proc, client = start_server(base / "server", "--rate-limit", "git=6000:6000")
    try:
        yield Served(base / "server", base / "user", user_key, str(client.base_url).rstrip("/"), base / "home", config)
    finally:
        stop_server(proc, client)


def commit_all(served: Served, repo: Path, message: str) -> None:
    served.git("add", "-A", cwd=repo)
    served.git("commit", "--quiet", "-m", message, cwd=repo)


def assert_clear_failure(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """A failed git command whose output names the problem, without a Python traceback."""
    assert proc.returncode != 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr


# -- the address ----------------------------------------------------------------------------------

def test_a_remote_names_a_node_and_a_wiki():
    assert parse_remote_url("http://h:8080/w") == RemoteUrl("http://h:8080", "w")
    assert parse_remote_url("http://h:8080/git/w.git") == RemoteUrl("http://h:8080", "w")
    assert parse_remote_url("https://h/mirror/My%20wiki") == RemoteUrl("https://h/mirror", "My wiki")
    assert RemoteUrl("http://h:8080", "My wiki").git == "http://h:8080/git/My%20wiki.git"
    for bad in ("http://h:8080/", "ftp://h/w", "h:8080/w", "http://h/w?x=1"):
        with pytest.raises(BadRemoteUrl, match="wikipeer::http://HOST:PORT/WIKI"):
            parse_remote_url(bad)


def test_the_helper_is_installed_beside_python():
    found = shutil.which("git-remote-wikipeer", path=str(VENV_BIN))
    assert found is not None and Path(found).parent == VENV_BIN


def test_the_helper_speaks_gits_protocol(tmp_path):
    """What git asks first: the capabilities, then options (an unknown one is 'unsupported', not an error)."""
    proc = subprocess.run(["git-remote-wikipeer", "origin", "http://127.0.0.1:9/w"], cwd=tmp_path, text=True,
                          input="capabilities\noption verbosity 0\noption depth 1\noption cloning true\n\n",
                          capture_output=True, env=cli_env({"PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "fetch\npush\noption\n\nok\nok\nunsupported\n"


# -- clone, push, pull ------------------------------------------------------------------------------

def test_a_push_is_signed_by_the_users_key_and_verifies_from_a_fresh_clone(served, tmp_path):
    repo = served.clone(tmp_path / "mine")
    alpha = repo / served.path("Alpha")
    assert alpha.read_text() == PAGES["Alpha"]
    alpha.write_text("alpha, edited through git")
    new = repo / served.path("Zeta")
    new.parent.mkdir(parents=True, exist_ok=True)
    new.write_text("a page made in git")
    commit_all(served, repo, "Alpha and Zeta from git\n\nmore words")

    pushed = served.git("push", "origin", "main", cwd=repo)
    assert f"taken   {served.path('Alpha')} -> " in pushed.stderr and f"taken   {served.path('Zeta')} -> " in pushed.stderr
    assert "forked" not in pushed.stderr

    node_heads = {title: served.head(title) for title in ("Alpha", "Zeta")}
    for title, heads in node_heads.items():
        assert len(heads) == 1, title
        assert heads[0].author == served.user_key  # the user's key, not the node's nor an account's
        assert [s.key for s in heads[0].sigs] == [served.user_key]
        assert heads[0].comment == "Alpha and Zeta from git"
    old_alpha = served.head("Alpha")[0].parents
    assert len(old_alpha) == 1  # a child of the revision the clone held, so no fork

    # The node made its own commits of the revisions: pull --rebase drops the user's as applied.
    served.git("pull", "--quiet", "--rebase", cwd=repo)
    assert served.git("log", "--oneline", "origin/main..main", cwd=repo).stdout == ""
    assert served.git("status", "--porcelain", cwd=repo).stdout == ""
    log = served.git("log", "-1", "--format=%B", "--", served.path("Alpha"), cwd=repo).stdout
    assert f"Wikipeer-Revision: {cid_to_str(node_heads['Alpha'][0].cid)}" in log

    fresh = tmp_path / "fresh"
    served.git("clone", "--quiet", f"{served.url}/git/{WIKI}.git", str(fresh))
    assert (fresh / served.path("Alpha")).read_text() == "alpha, edited through git"
    verified = run_cli(None, "verify-git", str(fresh))
    assert verified.code == 0, str(verified)


def test_commits_of_one_push_chain_their_revisions(served, tmp_path):
    repo = served.clone(tmp_path / "chain")
    kappa = repo / served.path("Kappa")
    kappa.parent.mkdir(parents=True, exist_ok=True)
    for n, text in enumerate(("kappa begins", "kappa goes on", "kappa ends")):
        kappa.write_text(text)
        commit_all(served, repo, f"kappa {n}")
    served.git("push", "--quiet", "origin", "main", cwd=repo)
    node = Node.open(served.server_dir)
    try:
        (head,) = served.head("Kappa")
        chain = [head]
        while chain[-1].parents:
            chain.append(node.store.revision(chain[-1].parents[0]))
        assert [node.store.revision_text(r) for r in chain] == ["kappa ends", "kappa goes on", "kappa begins"]
        assert [r.comment for r in chain] == ["kappa 2", "kappa 1", "kappa 0"]
    finally:
        node.close()


def test_pull_brings_what_the_node_took_since(served, tmp_path):
    repo = served.clone(tmp_path / "mine")
    edited = run_cli(served.server_dir, "edit", WIKI, "Beta", "--summary", "on the node", input="beta, edited on the node")
    assert edited.code == 0, str(edited)
    served.git("pull", "--quiet", "--ff-only", cwd=repo)
    assert (repo / served.path("Beta")).read_text() == "beta, edited on the node"


def test_a_shallow_clone_through_the_helper_pushes_without_forking(served, tmp_path):
    repo = served.clone(tmp_path / "shallow", "--depth", "1")
    assert served.git("rev-list", "--count", "HEAD", cwd=repo).stdout.strip() == "1"
    assert (repo / served.path("Theta")).read_text() == PAGES["Theta"]
    (original,) = served.head("Theta")
    (repo / served.path("Theta")).write_text("theta, edited in a shallow clone")
    commit_all(served, repo, "shallow")
    served.git("push", "--quiet", "origin", "main", cwd=repo)
    (head,) = served.head("Theta")  # the parent came from the node: its revision with the base file's text
    assert head.parents == (original.cid,) and head.author == served.user_key


def test_a_forced_push_from_a_stale_clone_forks_the_page(served, tmp_path):
    first, stale = served.clone(tmp_path / "first"), served.clone(tmp_path / "stale")
    (first / served.path("Delta")).write_text("delta, the first edit")
    commit_all(served, first, "first")
    served.git("push", "--quiet", "origin", "main", cwd=first)

    (stale / served.path("Delta")).write_text("delta, the stale edit")
    commit_all(served, stale, "stale")
    refused = served.git("push", "origin", "main", cwd=stale, check=False)
    assert refused.returncode != 0 and "fetch first" in refused.stderr  # git's own check: nothing sent
    assert len(served.head("Delta")) == 1

    forced = served.git("push", "--force", "origin", "main", cwd=stale)
    assert f"taken   {served.path('Delta')} -> " in forced.stderr and "(forked: the page moved on" in forced.stderr
    heads = served.head("Delta")
    assert len(heads) == 2  # a fork: both edits are kept, children of the same revision
    assert heads[0].parents == heads[1].parents


def test_pushing_again_after_an_interruption_sends_the_same_revisions(served, tmp_path):
    """A push whose answer never came (origin/main not moved) is pushed again: the same signed revisions."""
    repo = served.clone(tmp_path / "again")
    before = served.git("rev-parse", "origin/main", cwd=repo).stdout.strip()
    (repo / served.path("Iota")).parent.mkdir(parents=True, exist_ok=True)
    (repo / served.path("Iota")).write_text("iota, pushed twice")
    commit_all(served, repo, "twice")
    served.git("push", "--quiet", "origin", "main", cwd=repo)
    (first,) = served.head("Iota")
    served.git("update-ref", "refs/remotes/origin/main", before, cwd=repo)  # as if the answer had been lost
    again = served.git("push", "--force", "origin", "main", cwd=repo)
    assert f"taken   {served.path('Iota')} -> {cid_to_str(first.cid)}" in again.stderr
    assert "forked" not in again.stderr and served.head("Iota") == [first]


# -- refused -------------------------------------------------------------------------------------

def test_a_refused_path_fails_the_push_and_is_named(served, tmp_path):
    repo = served.clone(tmp_path / "mine")
    (repo / served.path("Epsilon")).unlink()
    (repo / "notes.txt").write_text("not a page")
    (repo / served.path("Eta")).parent.mkdir(parents=True, exist_ok=True)
    (repo / served.path("Eta")).write_text("eta is fine")
    commit_all(served, repo, "a mixed bag")
    pushed = served.git("push", "origin", "main", cwd=repo, check=False)
    assert_clear_failure(pushed, f"refused {served.path('Epsilon')} (", "deleted", "refused notes.txt (",
                         "2 of 3 files refused; 1 taken", f"taken   {served.path('Eta')} -> ")
    assert "[remote rejected]" in pushed.stderr
    assert [h.author for h in served.head("Eta")] == [served.user_key]
    assert served.head("Epsilon")[0].author != served.user_key  # still there, as it was


def test_a_push_over_the_file_limit_is_refused_whole_before_signing(served, tmp_path):
    """One file past changes.py's limit (the node's push route tests 100,000 files, by the same code)."""
    repo = served.clone(tmp_path / "many")
    head = served.git("rev-parse", "HEAD", cwd=repo).stdout.strip()
    stream = [f"commit refs/heads/main\ncommitter Ada <ada@example.org> 1700000000 +0000\ndata 4\nmany\nfrom {head}\n"]
    stream += [f'M 100644 inline "{served.path(f"Many {i}")}"\ndata 5\npage\n\n' for i in range(MAX_PUSH_FILES + 1)]
    imported = subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=repo, input="".join(stream).encode(),
                              capture_output=True, env=served.env())
    assert imported.returncode == 0, imported.stderr
    pushed = served.git("push", "origin", "main", cwd=repo, check=False)
    assert_clear_failure(pushed, f"the push changes more than {MAX_PUSH_FILES} files", "[remote rejected]")
    assert served.head("Many 1") == []


def committed_edit(served: Served, tmp_path: Path, title: str) -> Path:
    repo = served.clone(tmp_path / "mine")
    (repo / served.path(title)).write_text(f"{title} edited, not to be pushed")
    commit_all(served, repo, "never taken")
    return repo


@pytest.mark.parametrize("setting, extra, said", [
    (("wikipeer.key", "nobody"), {}, "no key named 'nobody'"),
    (("wikipeer.key", "sealed"), {}, "protected by a passphrase"),
    (("wikipeer.key", "sealed"), {"WIKIPEER_PASSPHRASE": "not it"}, "wrong passphrase for key 'sealed'"),
    (("wikipeer.node", "/nonexistent/node"), {}, "no node at /nonexistent/node"),
])
def test_a_key_that_cannot_sign_is_a_clear_error(served, tmp_path, setting, extra, said):
    user = Node.open(served.user_dir)
    if not user.keyring.exists("sealed"):
        user.keyring.create("sealed", "the passphrase")
    user.close()
    repo = committed_edit(served, tmp_path, "Gamma")
    served.git("config", *setting, cwd=repo)
    pushed = served.git("push", "origin", "main", cwd=repo, check=False, **extra)
    assert_clear_failure(pushed, said, "[remote rejected]")
    assert served.head("Gamma")[0].author != served.user_key


def test_an_unknown_wiki_or_node_is_a_clear_error(served, tmp_path):
    cloned = served.git("clone", f"wikipeer::{served.url}/nosuchwiki", str(tmp_path / "x"), check=False)
    assert_clear_failure(cloned, "cannot list wiki 'nosuchwiki'")
    listed = served.git("ls-remote", "wikipeer::ftp://nowhere/w", check=False, cwd=tmp_path)
    assert_clear_failure(listed, "error: 'ftp://nowhere/w' is not a node's address")

