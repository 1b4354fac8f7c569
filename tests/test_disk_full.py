"""A full disk: the real cause in one line, reads that keep working, and peers that show the failure.

Each test mounts a small tmpfs of its own (we run as root), puts a node on
it and fills what is left with a ballast file; removing the ballast gives the
space back, and the node must then pass fsck and take writes again.
"""

from __future__ import annotations

import base64
import errno
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, start_server, stop_server

from wikipeer.model.cid import cid_to_str
from wikipeer.model.objects import build_text
from wikipeer.net.gossip import gossip_forever
from wikipeer.node import Node
from wikipeer.store import gossip_queue

# On PostgreSQL the store's rows live on the server's disk, not the full one under the node directory.
pytestmark = pytest.mark.sqlite_only

SAMPLE = "wikipeer"
_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')
_PARENTS = re.compile(r'<input type="hidden" name="parents" value="([^"]*)"')


@pytest.fixture
def disk(tmp_path) -> Iterator[Path]:
    """A 24 MiB tmpfs mounted for this test alone, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` with a ballast file until ``leave`` bytes are free; returns the ballast."""
    ballast = disk / "ballast"
    chunk = b"\xa5" * (1 << 20)
    with open(ballast, "ab") as out:
        while True:
            stat = os.statvfs(disk)
            room = stat.f_bavail * stat.f_frsize - leave
            if room <= 0:
                break
            try:
                out.write(chunk[:min(room, len(chunk))])
                out.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return ballast


def one_line_error(result, *fragments: str) -> str:
    """A failed command that said why in one line, without a traceback."""
    assert result.code != 0, str(result)
    assert "Traceback" not in result.err, str(result)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wikipeer: "), str(result)
    for fragment in fragments:
        assert fragment in lines[0], str(result)
    assert "no transaction is active" not in lines[0], str(result)
    return lines[0]


def cli_edit(node: Path, title: str, text: str):
    return run_cli(node, "edit", SAMPLE, title, "--summary", "on a small disk", input=text)


def test_cli_edit_on_a_full_disk_names_the_full_disk(disk, sample_node):
    node = disk / "node"
    shutil.copytree(sample_node, node)
    assert cli_edit(node, "Before", "room enough\n").code == 0
    ballast = fill(disk)
    line = one_line_error(cli_edit(node, "Main Page", "no room\n" * 50_000), "the disk is full")
    assert str(node / "store.sqlite") in line
    ballast.unlink()
    assert run_cli(node, "fsck").code == 0
    assert cli_edit(node, "After", "room again\n").code == 0
    assert run_cli(node, "show", SAMPLE, "After").out == "room again\n"


def register(client: httpx.Client) -> None:
    csrf = _CSRF.search(client.get("/register").text).group(1)
    response = client.post("/register", data={"name": "Filler", "password": "a long password", "csrf": csrf,
                                              "returnto": "/"})
    assert response.status_code == 303, response.text


def web_edit(client: httpx.Client, title: str, text: str) -> httpx.Response:
    form = client.get(f"/wiki/{SAMPLE}/{title}?action=edit").text
    return client.post(f"/wiki/{SAMPLE}/{title}?action=submit", data={
        "csrf": _CSRF.search(form).group(1), "parents": _PARENTS.search(form).group(1), "text": text,
        "summary": "on a full disk"})


def test_served_node_on_a_full_disk_still_shows_pages_and_refuses_edits_clearly(disk, sample_node):
    node = disk / "node"
    shutil.copytree(sample_node, node)
    assert cli_edit(node, "Before", "room enough\n").code == 0  # the CLI's signing key is made while there is room
    proc, client = start_server(node)
    try:
        register(client)
        assert web_edit(client, "Early", "written while there was room\n").status_code == 303
        ballast = fill(disk)
        # Never rendered before, so the render cache would have to be written: it cannot, and the page is shown.
        anonymous = httpx.Client(base_url=client.base_url, timeout=30)
        for path in ("Main_Page", "Main_Page?action=history", "Early?action=raw", "Main_Page?action=raw"):
            page = anonymous.get(f"/wiki/{SAMPLE}/{path}")
            assert page.status_code == 200, (path, page.text[:2000])
        assert anonymous.get(f"/wiki/{SAMPLE}/Main_Page").status_code == 200  # and again, still uncached
        anonymous.close()

        refused = web_edit(client, "Main_Page", "no room for this\n" * 50_000)
        assert refused.status_code == 507, refused.text[:2000]
        assert "disk is full" in refused.text and "nothing was saved" in refused.text
        assert str(node) not in refused.text  # the server's paths are not a visitor's business
        one_line_error(cli_edit(node, "Main Page", "nor for this\n" * 50_000), "the disk is full")
        # Its base64 stays under the 1 Mi characters a parameter may hold.
        text = build_text("a text a peer submits while the disk is full\n" * 12_000)
        submitted = client.post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "submit", "params": {"objects": [
            {"cid": cid_to_str(text.cid), "data": base64.b64encode(text.data).decode()}]}})
        assert submitted.status_code == 507 and "disk is full" in submitted.json()["error"], submitted.text[:2000]
        assert proc.poll() is None

        ballast.unlink()
        saved = web_edit(client, "Later", "room again\n")
        assert saved.status_code == 303, saved.text[:2000]
        assert client.get(f"/wiki/{SAMPLE}/Later?action=raw").text == "room again\n"
    finally:
        stop_server(proc, client)
    check = run_cli(node, "fsck")
    assert check.code == 0, str(check)


def test_peer_list_shows_a_sync_that_failed_on_a_full_disk(disk, sample_node):
    node = disk / "node"
    assert run_cli(node, "init").code == 0
    proc, client = start_server(sample_node)
    url = str(client.base_url).rstrip("/")
    try:
        assert run_cli(node, "peer", "add", url).code == 0
        assert run_cli(node, "sync", "--pull").code == 0
        assert run_cli(node, "peer", "list").out.rstrip().endswith(": ok")
        # The peer gets a text of 2 MB that does not compress; our disk keeps 512 KB free.
        big = os.urandom(1_500_000).hex()
        assert run_cli(sample_node, "edit", SAMPLE, "Big", "--summary", "big", input=big).code == 0
        ballast = fill(disk, leave=512 * 1024)
        one_line_error(run_cli(node, "sync", "--pull"), "the disk is full")
        listing = run_cli(node, "peer", "list").out
        row = next(line for line in listing.splitlines() if line.startswith(url))
        assert re.search(r"last sync \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: failed: .*the disk is full", row), listing

        ballast.unlink()
        assert run_cli(node, "sync", "--pull").code == 0
        row = next(line for line in run_cli(node, "peer", "list").out.splitlines() if line.startswith(url))
        assert re.search(r"last sync \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: ok$", row.rstrip()), row
        assert run_cli(node, "show", SAMPLE, "Big").out == big
        assert run_cli(node, "fsck").code == 0
    finally:
        stop_server(proc, client)


def test_gossip_outlives_a_full_disk_and_passes_the_notice_on_after(disk, sample_node):
    node_dir = disk / "node"
    shutil.copytree(sample_node, node_dir)
    node = Node.open(node_dir)
    notice = node.store.object_id(node.store.pages(SAMPLE)[0].cid)  # any object: no peer will be asked
    gossip_queue.queue(node.store, notice)
    errors: list[str] = []
    stop = threading.Event()
    loop = threading.Thread(target=gossip_forever, args=(node, 0.05, stop, errors.append), daemon=True)
    ballast = fill(disk)
    loop.start()
    try:
        deadline = time.monotonic() + 30
        while len(errors) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(errors) >= 3 and loop.is_alive(), errors  # failed rounds, and still going
        assert all(e.startswith("gossip: ") for e in errors) and "disk is full" in errors[0], errors
        assert gossip_queue.pending(node.store)  # the notice was not lost
        ballast.unlink()
        while gossip_queue.pending(node.store) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not gossip_queue.pending(node.store) and loop.is_alive()
    finally:
        stop.set()
        loop.join(5)
        node.store.close()
