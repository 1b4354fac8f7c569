"""Crash safety of the pipeline: SIGKILL of a worker or of the writer (the command's own process) at
seeded random points of a real `wikipeer import` and of a clone from a real `wikipeer serve`; the same
command run again resumes, and the store is identical to an uninterrupted run's (store_digest.py)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CLI, Author, cli_env, run_cli, spawn_server, stop_server, wait_serving

from store_digest import store_digest
from wikipeer.node import Node

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma omega".split()
HEADER = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
  <siteinfo><sitename>Crash</sitename><dbname>crashwiki</dbname><base>http://t/</base><case>first-letter</case>
    <namespaces><namespace key="0" case="first-letter" /></namespaces></siteinfo>
"""


def _dump(path: Path, pages: int = 110, revisions: int = 3, words: int = 4000) -> Path:
    """A dump of two import batches and a bit (each ends past 4 MB of text): 110 pages x 3 revisions of ~25 KB."""
    rng = random.Random(11)
    parts = [HEADER]
    rev_id = 0
    for page in range(pages):
        parts.append(f"  <page><title>Page {page}</title><ns>0</ns><id>{page + 1}</id>\n")
        text = " ".join(rng.choice(WORDS) for _ in range(words))
        parent = None
        for number in range(revisions):
            rev_id += 1
            text += f"\nedit {number} " + " ".join(rng.choice(WORDS) for _ in range(20))
            parent_xml = f"<parentid>{parent}</parentid>" if parent else ""
            parts.append(f"    <revision><id>{rev_id}</id>{parent_xml}<timestamp>2020-01-01T00:00:{number:02d}Z"
                         f"</timestamp><contributor><username>Ann</username><id>7</id></contributor>"
                         f"<model>wikitext</model><format>text/x-wiki</format>"
                         f"<text xml:space=\"preserve\">{text}</text></revision>\n")
            parent = rev_id
        parts.append("  </page>\n")
    parts.append("</mediawiki>\n")
    path.write_text("".join(parts), encoding="utf-8")
    return path


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(b")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _workers(pid: int) -> list[int]:
    """The pipeline's worker processes of process ``pid``: the children of its forkserver."""
    workers = []
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"forkserver" in command:
            workers += _children(child)
    return workers


DUMP_HANGS = {"PYTHONFAULTHANDLER": "1"}  # a SIGABRT prints every thread's stack


def _kill_a_worker(proc: subprocess.Popen, rng: random.Random, deadline: float) -> bool:
    """SIGKILL one worker a random moment after the workers start; False if the command ended first."""
    while proc.poll() is None and time.monotonic() < deadline:
        workers = _workers(proc.pid)
        if workers:
            time.sleep(rng.uniform(0.0, 0.15))
            try:
                os.kill(rng.choice(workers), signal.SIGKILL)
            except ProcessLookupError:
                continue
            return True
        time.sleep(0.01)
    return False


def _assert_reported(proc: subprocess.Popen) -> bool:
    """A command whose worker was killed says so in one clear message (or it had finished its work);
    whether it reported a death."""
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # seen once in CI: faulthandler (PYTHONFAULTHANDLER) shows where it hangs
        proc.send_signal(signal.SIGABRT)
        _, err = proc.communicate(timeout=30)
        pytest.fail("the command hung after a worker was killed; its threads:\n" + err.decode("utf-8", "replace")[-8000:])
    text = (out + err).decode("utf-8", "replace")
    assert "Traceback" not in text, text
    assert proc.returncode == 0 or ("worker process died" in text and proc.returncode != 0), (proc.returncode, text)
    return proc.returncode != 0


def _kill(proc: subprocess.Popen, victim: str, rng: random.Random, seconds: float) -> None:
    """SIGKILL the command itself ("writer") at a random share of ``seconds``, or one of its workers."""
    if victim == "writer":
        time.sleep(rng.uniform(0.1, 0.9) * seconds)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    else:
        _kill_a_worker(proc, rng, time.monotonic() + 60)
        _assert_reported(proc)


def _same_keys(reference: Path, node: Path) -> None:
    """The same node key, so an import makes the same blocks."""
    for key in (reference / "keys").iterdir():
        (node / "keys" / key.name).write_bytes(key.read_bytes())


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A dump and a node that imported it uninterrupted, with the seconds that took."""
    tmp = tmp_path_factory.mktemp("crash-import")
    dump = _dump(tmp / "crash.xml")
    reference = tmp / "reference"
    assert run_cli(reference, "init").code == 0
    start = time.monotonic()
    result = run_cli(reference, "import", "--quiet", str(dump), timeout=300)
    assert result.code == 0, str(result)
    return dump, reference, time.monotonic() - start


@pytest.mark.parametrize("seed", [1, 2])
def test_import_killed_at_random_points_resumes_to_the_same_store(imported, tmp_path, seed):
    dump, reference, seconds = imported
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    _same_keys(reference, node)
    rng = random.Random(seed)
    for victim in ("writer", "worker", "writer"):
        proc = subprocess.Popen([*CLI, "--node", str(node), "import", "--quiet", str(dump)], env=cli_env(DUMP_HANGS),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _kill(proc, victim, rng, seconds)
        assert run_cli(node, "fsck").code == 0
    final = run_cli(node, "import", "--quiet", str(dump), timeout=300)
    assert final.code == 0, str(final)
    assert store_digest(node / "store.sqlite") == store_digest(reference / "store.sqlite")


def test_a_worker_killed_during_an_import_is_reported_and_nothing_half_written_stays(imported, tmp_path):
    dump, reference, _ = imported
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    _same_keys(reference, node)
    rng = random.Random(5)
    for _ in range(5):  # until a kill lands while the workers have work
        if (node / "store.sqlite").exists():
            shutil.rmtree(node)
            assert run_cli(node, "init").code == 0
            _same_keys(reference, node)
        proc = subprocess.Popen([*CLI, "--node", str(node), "import", "--quiet", str(dump)], env=cli_env(DUMP_HANGS),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # A kill may miss: the import can end while the random delay runs (it takes about a second here).
        landed = _kill_a_worker(proc, rng, time.monotonic() + 60)
        if _assert_reported(proc) and landed:
            break
    else:
        pytest.fail("no kill landed while a worker had work, in five tries")
    assert run_cli(node, "fsck").code == 0
    again = run_cli(node, "import", "--quiet", str(dump), timeout=300)
    assert again.code == 0, str(again)
    assert store_digest(node / "store.sqlite") == store_digest(reference / "store.sqlite")


# -- a clone from a served node ---------------------------------------------------------------------

WIKI = "w"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A served node with 1,800 revisions (5,700 blocks: three ingest batches) and an uninterrupted clone of it."""
    tmp = tmp_path_factory.mktemp("crash-clone")
    source = Node.init(tmp / "source")
    source.wiki(WIKI)
    author = Author(source)
    rng = random.Random(3)
    blocks = []
    for page in range(300):
        parents: tuple[bytes, ...] = ()
        for number in range(6):
            text = f"Page {page}, revision {number}.\n" + " ".join(rng.choice(WORDS) for _ in range(300))
            edit = author.edit(f"Page {page}", text, parents, ts=1_000 + number, wiki=WIKI)
            parents = (edit[2].cid,)
            blocks += edit
    report = source.ingest(blocks, "local")
    assert report.counts()["accepted"] == len(set(b.cid for b in blocks)) == 5_700
    source.close()
    proc, client = spawn_server(tmp / "source")
    try:
        wait_serving(proc, client, time.monotonic() + 60, "/api/v1/node")
        url = str(client.base_url).rstrip("/")
        reference = tmp / "reference"
        start = time.monotonic()
        _clone(reference, url)
        yield url, reference, time.monotonic() - start
    finally:
        stop_server(proc, client)


def _sync(node: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "--node", str(node), "sync", "--pull"], env=cli_env(DUMP_HANGS),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _clone(node: Path, url: str) -> None:
    if not (node / "store.sqlite").exists():
        assert run_cli(node, "init").code == 0
        assert run_cli(node, "peer", "add", url).code == 0
    result = run_cli(node, "sync", "--pull", timeout=300)
    assert result.code == 0, str(result)


@pytest.mark.parametrize("seed", [1])
def test_a_clone_killed_at_random_points_resumes_to_the_same_store(served, tmp_path, seed):
    url, reference, seconds = served
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    assert run_cli(node, "peer", "add", url).code == 0
    rng = random.Random(seed)
    for victim in ("worker", "writer", "writer"):
        proc = _sync(node)
        _kill(proc, victim, rng, seconds)
        assert run_cli(node, "fsck").code == 0
    _clone(node, url)
    assert store_digest(node / "store.sqlite") == store_digest(reference / "store.sqlite")
