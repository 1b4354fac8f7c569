"""`git push` over HTTP to a served node (issue 17 item 2): the real git binary against `wikipeer serve`.

A pushed commit becomes a revision signed by the pushing account's key, through
the one door; refused files are named with their reason; a push that is not on
the node's tip forks; bad input (wrong password, forged trailers, a 100 MB
file, 100,000 files, traversal and non-UTF-8 names, two pushes at once, a push
killed mid-transfer) is refused or stopped with nothing half-applied.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit
from dulwich.object_store import iter_tree_contents
from dulwich.repo import Repo

from conftest import run_cli, start_server, stop_server
from wikipeer.authoring import edit
from wikipeer.gitpeer.layout import page_path
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node
from wikipeer.store.accounts import ACCOUNTS_FILE, Accounts

WIKI = "demo"
USER, PASSWORD = "Alice", "correct horse battery staple"
CONFIG = WikiConfig(WIKI)
BOTS: dict[str, str] = {}


def path_of(title: str) -> str:
    return page_path(CONFIG, 0, title)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A node holding wiki 'demo' (pages Alpha and Gamma) with account Alice, served; (node dir, client, port)."""
    directory = tmp_path_factory.mktemp("push") / "node"
    node = Node.init(directory)
    try:
        for title in ("Alpha", "Gamma", "Delta"):
            edit(node, WIKI, title, f"{title} text, first version.\n", "start")
        accounts = Accounts(directory / ACCOUNTS_FILE, node.keyring)
        accounts.create(USER, PASSWORD)
        BOTS["git"] = accounts.create_bot_password(USER, "git", frozenset({"basic", "editpage"}))
        BOTS["reader"] = accounts.create_bot_password(USER, "reader", frozenset({"basic"}))
    finally:
        node.close()
    # Every push logs in twice (its refs, its pack): the test's pushes are more than the default login rate.
    proc, client = start_server(directory, "--rate-limit", "login=6000:6000", "--rate-limit", "git=6000:6000")
    yield directory, client, int(str(client.base_url).rsplit(":", 1)[1].strip("/"))
    stop_server(proc, client)


def git(cwd: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    environment.update({"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
                        "GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.org",
                        "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@example.org", **(env or {})})
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=environment, timeout=120,
                          errors="replace")
    if check:
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def url(port: int, password: str = PASSWORD, user: str = USER) -> str:
    return f"http://{user.replace('@', '%40')}:{password.replace(' ', '%20')}@127.0.0.1:{port}/git/{WIKI}.git"


def clone(served, tmp_path: Path, name: str = "clone") -> Path:
    _, _, port = served
    git(tmp_path, "clone", "-q", url(port), name)
    return tmp_path / name


def write(work: Path, title: str, text: str | bytes) -> str:
    path = path_of(title)
    target = work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def commit(work: Path, message: str) -> None:
    git(work, "add", "-A")
    git(work, "commit", "-qm", message)


def raw(client: httpx.Client, title: str) -> str:
    answer = client.get(f"/wiki/{WIKI}/{title}", params={"action": "raw"})
    assert answer.status_code == 200, answer.text
    return answer.text


def page_heads(node_dir: Path, title: str) -> list:
    node = Node.open(node_dir)
    try:
        row = node.store.page(WIKI, 0, title)
        return [(h, node.store.revision_text(h)) for h in node.store.heads(row.id)] if row else []
    finally:
        node.close()


def account_key(node_dir: Path) -> str:
    node = Node.open(node_dir)
    try:
        account = Accounts(node_dir / ACCOUNTS_FILE, node.keyring).get(USER)
        return node.keyring.get(account.key).public
    finally:
        node.close()


def quarantine_left(node_dir: Path) -> list[str]:
    root = node_dir / "git" / f"{WIKI}.git" / "quarantine"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# -- the everyday push -------------------------------------------------------------------------

def test_a_push_edits_a_page_and_adds_one_signed_by_the_account_and_pull_rebase_drops_its_commits(served, tmp_path):
    node_dir, client, _ = served
    work = clone(served, tmp_path)
    before = page_heads(node_dir, "Alpha")
    write(work, "Alpha", "Alpha text, pushed from git.\n")
    beta = write(work, "Beta", "A new page from git.\n")
    commit(work, "Edit Alpha and start Beta")
    pushed = git(work, "push", "origin", "main")
    assert f"remote: taken   {beta} -> " in pushed.stderr
    assert f"remote: taken   {path_of('Alpha')} -> " in pushed.stderr
    assert raw(client, "Alpha") == "Alpha text, pushed from git.\n"
    assert raw(client, "Beta") == "A new page from git.\n"
    heads = page_heads(node_dir, "Alpha")
    assert len(heads) == 1 and heads[0][0].parents == (before[0][0].cid,)  # an edit of the head, not a fork
    assert heads[0][0].comment == "Edit Alpha and start Beta"
    assert account_key(node_dir) in heads[0][0].signers()
    taken = heads[0][0].cid_str
    assert taken in pushed.stderr
    # The node's main now holds its own signed commits for these; the pusher's commit drops out on rebase.
    git(work, "pull", "-q", "--rebase")
    assert git(work, "rev-list", "--count", "origin/main..HEAD").stdout.strip() == "0"
    assert git(work, "status", "--porcelain").stdout == ""
    assert f"Wikipeer-Revision: {taken}" in git(work, "log", "-1", "--format=%B", "--", path_of("Alpha")).stdout
    assert (work / path_of("Beta")).read_text() == "A new page from git.\n"


def test_a_chain_of_commits_on_one_page_makes_a_chain_of_revisions(served, tmp_path):
    node_dir, client, _ = served
    work = clone(served, tmp_path)
    for n in range(1, 4):
        write(work, "Delta", f"Delta, take {n}.\n")
        commit(work, f"take {n}")
    git(work, "push", "origin", "main")
    heads = page_heads(node_dir, "Delta")
    assert [text for _, text in heads] == ["Delta, take 3.\n"]
    node = Node.open(node_dir)
    try:
        history = node.store.history(node.store.page(WIKI, 0, "Delta").id)
        assert [r.comment for r in sorted(history, key=lambda r: r.ts)][-3:] == ["take 1", "take 2", "take 3"]
    finally:
        node.close()


def test_refused_files_are_named_with_their_reason_and_the_ref_is_ng(served, tmp_path):
    node_dir, client, _ = served
    work = clone(served, tmp_path)
    (work / path_of("Gamma")).unlink()
    (work / "README.md").write_text("not a page\n")
    binary = write(work, "Blob", b"\x89PNG\r\n\x1a\n\0\0\0")
    good = write(work, "Epsilon", "Taken with the others refused.\n")
    commit(work, "mixed")
    pushed = git(work, "push", "origin", "main", check=False)
    assert pushed.returncode != 0
    assert f"remote: refused {path_of('Gamma')}" in pushed.stderr and "deleted" in pushed.stderr
    assert "remote: refused README.md" in pushed.stderr and "four levels" in pushed.stderr
    assert f"remote: refused {binary}" in pushed.stderr and "binary" in pushed.stderr
    assert f"remote: taken   {good}" in pushed.stderr
    assert "[remote rejected] main -> main (3 of 4 files refused; 1 taken)" in pushed.stderr
    assert raw(client, "Epsilon") == "Taken with the others refused.\n"
    assert raw(client, "Gamma").startswith("Gamma text")


def test_a_push_not_on_the_nodes_tip_forks_the_page_and_says_so(served, tmp_path):
    node_dir, client, _ = served
    first, second = clone(served, tmp_path, "first"), clone(served, tmp_path, "second")
    write(first, "Gamma", "Gamma as the first one wrote it.\n")
    commit(first, "first")
    git(first, "push", "origin", "main")
    write(second, "Gamma", "Gamma as the second one wrote it.\n")
    commit(second, "second")
    behind = git(second, "push", "origin", "main", check=False)
    assert behind.returncode != 0 and "fetch first" in behind.stderr  # git itself stops a plain push
    forced = git(second, "push", "--force", "origin", "main")
    assert "forked" in forced.stderr and path_of("Gamma") in forced.stderr
    texts = sorted(text for _, text in page_heads(node_dir, "Gamma"))
    assert texts == ["Gamma as the first one wrote it.\n", "Gamma as the second one wrote it.\n"]


# -- bad input --------------------------------------------------------------------------------

def test_wrong_or_missing_credentials_get_401_asking_for_basic(served, tmp_path):
    _, client, port = served
    answer = client.get(f"/git/{WIKI}.git/info/refs", params={"service": "git-receive-pack"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Basic")
    work = clone(served, tmp_path)
    write(work, "Alpha", "never taken\n")
    commit(work, "bad password")
    pushed = git(work, "push", url(port, "wrong password"), "main", check=False)
    assert pushed.returncode != 0 and "Authentication failed" in pushed.stderr
    assert raw(client, "Alpha") != "never taken\n"


def test_a_bot_password_granted_editpage_pushes_as_its_account_and_one_without_is_refused(served, tmp_path):
    node_dir, client, port = served
    work = clone(served, tmp_path)
    write(work, "Iota", "Pushed with a bot password.\n")
    commit(work, "bot")
    refused = git(work, "push", url(port, BOTS["reader"], f"{USER}@reader"), "main", check=False)
    assert refused.returncode != 0 and "403" in refused.stderr
    git(work, "push", url(port, BOTS["git"], f"{USER}@git"), "main")
    assert raw(client, "Iota") == "Pushed with a bot password.\n"
    assert page_heads(node_dir, "Iota")[0][0].signers() == {account_key(node_dir)}


def test_forged_trailers_on_a_pushed_commit_are_ignored(served, tmp_path):
    node_dir, client, _ = served
    work = clone(served, tmp_path)
    forged = git(work, "log", "-1", "--format=%B", "--", path_of("Alpha")).stdout  # a node revision's trailers
    write(work, "Alpha", "Alpha under forged trailers.\n")
    git(work, "add", "-A")
    (tmp_path / "msg").write_text(forged)
    git(work, "commit", "-q", "-F", str(tmp_path / "msg"))
    pushed = git(work, "push", "origin", "main")
    head = page_heads(node_dir, "Alpha")[0][0]
    claimed = forged.split("Wikipeer-Revision: ")[1].split()[0]
    assert head.cid_str != claimed and head.cid_str in pushed.stderr
    assert head.signers() == {account_key(node_dir)}  # the forged block's signatures were not taken
    assert raw(client, "Alpha") == "Alpha under forged trailers.\n"


def test_a_100_mb_file_is_refused_by_its_size_and_an_oversized_body_gets_413(served, tmp_path):
    _, client, port = served
    work = clone(served, tmp_path)
    big = work / path_of("Huge")
    big.parent.mkdir(parents=True, exist_ok=True)
    with open(big, "wb") as out:  # compresses to a small pack: it reaches the node, which reads its size
        line = b"x" * 1023 + b"\n"
        for _ in range(100 * 1024):
            out.write(line)
    commit(work, "huge")
    pushed = git(work, "push", "origin", "main", check=False)
    assert f"remote: refused {path_of('Huge')}" in pushed.stderr
    assert "104857600 bytes: over the 4194304-byte limit" in pushed.stderr
    with socket.create_connection(("127.0.0.1", port)) as raw_socket:  # a body over the bound: 413 before it is read
        raw_socket.sendall(f"POST /git/{WIKI}.git/git-receive-pack HTTP/1.1\r\nHost: x\r\n"
                           f"Content-Length: {100 << 20}\r\n\r\n".encode())
        answer = raw_socket.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413")


def fast_import(work: Path, files: dict[bytes, bytes], message: str = "generated") -> None:
    """A commit on main holding ``files`` over the clone's head, made with git fast-import."""
    head = git(work, "rev-parse", "HEAD").stdout.strip()
    parts = [f"commit refs/heads/main\ncommitter Alice <alice@example.org> 1700000000 +0000\n"
             f"data {len(message)}\n{message}\nfrom {head}\n".encode()]
    for path, data in files.items():
        parts.append(b'M 100644 inline "' + path.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"\n')
        parts.append(b"data %d\n" % len(data) + data + b"\n")
    proc = subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=work, input=b"".join(parts),
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()  # main moved; the work tree is left as it was


def test_a_push_of_100000_files_is_refused_whole_by_the_documented_limit(served, tmp_path):
    node_dir, client, _ = served
    work = clone(served, tmp_path)
    fast_import(work, {path_of(f"Many {i}").encode(): f"page {i}\n".encode() for i in range(100_000)})
    pushed = git(work, "push", "origin", "main", check=False)
    assert pushed.returncode != 0
    assert "more than the 50000 one push may hold: push the commits in parts" in pushed.stderr
    assert "(push too large: push in parts)" in pushed.stderr
    assert client.get(f"/wiki/{WIKI}/Many 5", params={"action": "raw"}).status_code == 404
    assert quarantine_left(node_dir) == []


def test_traversal_and_non_utf8_names_are_refused_naming_the_path(served, tmp_path):
    _, client, _ = served
    work = clone(served, tmp_path)
    repo = Repo(str(work))
    store = repo.object_store
    head = store[repo.refs[b"refs/heads/main"]]
    entries = [(e.path, e.sha, e.mode) for e in iter_tree_contents(store, head.tree)]
    extra = {b"Main/../../escape.wiki": b"out\n", b"Main/00/00/caf\xe9.wiki": b"latin\n",
             path_of("Zeta").encode(): b"fine\n"}
    for path, data in extra.items():
        blob = Blob.from_string(data)
        store.add_object(blob)
        entries.append((path, blob.id, 0o100644))
    bad = Commit()
    bad.tree = commit_tree(store, entries)  # dulwich writes the names git itself would not
    bad.parents = [head.id]
    bad.author = bad.committer = b"Alice <alice@example.org>"
    bad.author_time = bad.commit_time = 1_700_000_000
    bad.author_timezone = bad.commit_timezone = 0
    bad.message = b"odd names\n"
    store.add_object(bad)
    repo.refs[b"refs/heads/main"] = bad.id
    pushed = git(work, "push", "origin", "main", check=False)
    assert "remote: refused Main/../../escape.wiki" in pushed.stderr and "path traversal" in pushed.stderr
    assert "remote: refused Main/00/00/caf\\xe9.wiki" in pushed.stderr and "not UTF-8" in pushed.stderr
    assert "2 of 3 files refused; 1 taken" in pushed.stderr
    assert raw(client, "Zeta") == "fine\n"


def test_two_pushes_at_once_both_land_one_as_a_fork(served, tmp_path):
    node_dir, _, _ = served
    works = [clone(served, tmp_path, f"w{n}") for n in range(2)]
    for n, work in enumerate(works):
        write(work, "Theta", f"Theta from pusher {n}.\n")
        commit(work, f"pusher {n}")
    results: list = [None, None]

    def push(n: int) -> None:
        results[n] = git(works[n], "push", "--force", "origin", "main", check=False)

    threads = [threading.Thread(target=push, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    texts = sorted(text for _, text in page_heads(node_dir, "Theta"))
    assert texts == ["Theta from pusher 0.\n", "Theta from pusher 1.\n"]  # no lost edit: two heads
    assert quarantine_left(node_dir) == []
    assert run_cli(node_dir, "fsck").code == 0


def eventually(check, what: str) -> None:
    """Poll ``check`` until true (the node acts on a dropped connection when its next read fails)."""
    for _ in range(600):
        if check():
            return
        threading.Event().wait(0.05)
    pytest.fail(f"never happened: {what}")


class Cutter:
    """A TCP relay to the node that stops relaying after ``limit`` bytes of request: then the test kills git."""

    def __init__(self, port: int, limit: int) -> None:
        self.port, self.limit = port, limit
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.cut = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> int:
        return self.listener.getsockname()[1]

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(client, upstream, self.limit), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, limit: int | None) -> None:
        counting, sent = False, 0
        try:
            while data := source.recv(65536):
                if limit is not None:
                    counting = counting or data.startswith(b"POST ")  # only the push request is cut
                    if counting and sent >= limit:
                        self.cut.set()
                        continue  # swallow the rest: the node waits for bytes that never come
                    if counting:
                        data = data[:limit - sent]
                        sent += len(data)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):  # shutdown wakes the other direction's recv and tells the node
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self) -> None:
        self.listener.close()


def test_a_push_killed_mid_transfer_applies_nothing_and_leaves_no_quarantine(served, tmp_path):
    node_dir, client, port = served
    work = clone(served, tmp_path)
    write(work, "Kappa", os.urandom(3 << 20).hex()[: 3 << 20] + "\n")  # 3 MB that do not compress much
    commit(work, "cut off")
    cutter = Cutter(port, 1 << 20)
    try:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        environment.update({"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_GLOBAL": "/dev/null"})
        target = f"http://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{cutter.address}/git/{WIKI}.git"
        proc = subprocess.Popen(["git", "push", target, "main"], cwd=work, env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        assert cutter.cut.wait(60), "the push never sent its first megabyte"
        eventually(lambda: any(n.startswith("body-") for n in quarantine_left(node_dir)), "the node spooling the push")
        os.killpg(proc.pid, 9)  # git and its helpers, mid-transfer
        proc.wait()
    finally:
        cutter.close()
    eventually(lambda: quarantine_left(node_dir) == [], "the node dropping the cut-off push")
    assert client.get(f"/wiki/{WIKI}/Kappa", params={"action": "raw"}).status_code == 404
    assert run_cli(node_dir, "fsck").code == 0


# -- the door's side, in process ----------------------------------------------------------------

def test_without_node_commits_the_parent_is_the_revision_with_the_base_files_text(tmp_path):
    """A base the node did not make (another node's clone): the page's revision with the same text is the parent."""
    from dulwich.object_store import MemoryObjectStore
    from wikipeer.gitpeer.changes import push_changes
    from wikipeer.gitpeer.push import take_push

    node = Node.init(tmp_path / "node")
    try:
        first = edit(node, WIKI, "Alpha", "shared text\n", "start")
        edit(node, WIKI, "Alpha", "newer text\n", "moved on")
        store = MemoryObjectStore()
        commits = []
        for text, parents in ((b"shared text\n", []), (b"pushed text\n", None)):
            blob = Blob.from_string(text)
            store.add_object(blob)
            made = Commit()
            made.tree = commit_tree(store, [(path_of("Alpha").encode(), blob.id, 0o100644)])
            made.parents = parents if parents is not None else [commits[-1]]
            made.author = made.committer = b"Alice <alice@example.org>"
            made.author_time = made.commit_time = 1_700_000_000 + len(commits)
            made.author_timezone = made.commit_timezone = 0
            made.message = b"from elsewhere\n"
            store.add_object(made)
            commits.append(made.id)
        found = push_changes(store, CONFIG, [commits[0]], commits[1])
        outcome = take_push(node, WIKI, node.user_key().name, found, MemoryObjectStore(), store)
        assert [t.forked for t in outcome.taken] == [True] and outcome.problem() is None
        rev = node.store.revision(outcome.taken[0].revision)
        assert rev.parents == (first.rev,)  # found by its text, and a fork: the page had moved on
    finally:
        node.close()


def test_a_corrupt_pack_is_reported_unpack_failed_and_leaves_nothing(served):
    node_dir, client, _ = served
    auth = (USER, PASSWORD)
    refs = client.get(f"/git/{WIKI}.git/info/refs", params={"service": "git-receive-pack"}, auth=auth)
    assert refs.status_code == 200 and refs.content.startswith(b"001f# service=git-receive-pack\n0000")
    main = refs.content.split(b"0000", 1)[1][4:44].decode()
    command = f"{main} {'1' * 40} refs/heads/main\0report-status side-band-64k".encode()
    body = b"%04x" % (len(command) + 4) + command + b"0000" + b"PACK\0\0\0\2\0\0\0\1" + b"garbage" * 10
    answer = client.post(f"/git/{WIKI}.git/git-receive-pack", content=body, auth=auth,
                         headers={"Content-Type": "application/x-git-receive-pack-request"})
    assert answer.status_code == 200
    assert b"unpack " in answer.content and b"unpack ok" not in answer.content
    assert b"ng refs/heads/main unpack failed" in answer.content
    assert quarantine_left(node_dir) == []


def test_a_push_to_a_repository_the_node_removed_builds_it_again_first(served, tmp_path):
    node_dir, client, _ = served
    earlier = clone(served, tmp_path, "earlier")  # a push first: main is then more than one view commit
    write(earlier, "Mu", "Mu, so that main has a history.\n")
    commit(earlier, "mu")
    git(earlier, "push", "origin", "main")
    work = clone(served, tmp_path)
    write(work, "Lambda", "After the repository was removed.\n")
    commit(work, "lambda")
    shutil.rmtree(node_dir / "git" / f"{WIKI}.git")
    nothing = client.post(f"/git/{WIKI}.git/git-receive-pack", content=b"0000", auth=(USER, PASSWORD))
    assert nothing.status_code == 200 and (node_dir / "git" / f"{WIKI}.git" / "HEAD").exists()
    # Rebuilt in one batch, main is one view commit now, not the clone's: git wants --force (or a pull first).
    pushed = git(work, "push", "--force", "origin", "main")  # the old view commits are skipped, not refused
    assert "commit(s) a node built" in pushed.stderr and "refused" not in pushed.stderr
    assert raw(client, "Lambda") == "After the repository was removed.\n"
