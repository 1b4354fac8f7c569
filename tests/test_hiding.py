"""Hiding one revision or one file version (`wikipeer hide` / `unhide`; MediaWiki's revision deletion
and suppression reach the same records through mediawiki/follow.py): the web page, its history, api.php
and the file URLs hide it, its signed history stays, and the revision or version a page shows is refused.

A real node, the real command line and a real `wikipeer serve` on loopback.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from conftest import assert_user_error, run_cli, start_server, stop_server
from wikipeer.model.cid import cid_from_str
from wikipeer.node import Node

pytestmark = pytest.mark.backends  # runs on SQLite and, in `make test`, on PostgreSQL


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 10), (seed * 40 % 256, 20, 90)).save(out, "PNG")
    return out.getvalue()


def test_a_hidden_revision_and_file_version_are_shown_to_no_one_and_come_back_when_unhidden(node_dir, tmp_path):
    slip = "the page with a slip: 555-0199 is my phone"
    first = run_cli(node_dir, "edit", "w", "Slip", "-m", "oops", "-q", input=slip)
    second = run_cli(node_dir, "edit", "w", "Slip", "-m", "removed", "-q", input="the page without it")
    assert first.code == 0 and second.code == 0
    old, new = first.out.strip(), second.out.strip()
    images = [png(1), png(2)]
    for number, data in enumerate(images):
        (tmp_path / f"v{number}.png").write_bytes(data)
        assert run_cli(node_dir, "upload", str(tmp_path / f"v{number}.png"), "--title", "File:Two.png").code == 0
    old_sha = hashlib.sha256(images[0]).hexdigest()

    # what the page shows cannot be hidden, as on MediaWiki
    assert_user_error(run_cli(node_dir, "hide", "w", "Slip", "--revision", new), "head of the page")
    assert_user_error(run_cli(node_dir, "hide", "w", "File:Two.png", "--file",
                              hashlib.sha256(images[1]).hexdigest()[:12]), "upload a new version first")
    assert_user_error(run_cli(node_dir, "unhide", "w", "Slip", "--revision", old), "not hidden")
    hid = run_cli(node_dir, "hide", "w", "Slip", "--revision", old, "--reason", "personal data")
    assert hid.code == 0 and "hidden" in hid.out, str(hid)
    assert run_cli(node_dir, "hide", "w", "File:Two.png", "--file", old_sha[:12], "--reason", "a mistake").code == 0
    shown = run_cli(node_dir, "show", "w", "Slip", "--rev", old)
    assert shown.code != 0 and "personal data" in shown.err and slip not in shown.out
    compared = run_cli(node_dir, "diff", old, new)
    assert compared.code != 0 and "hidden" in compared.err and "555-0199" not in compared.out

    node = Node.open(node_dir)
    try:
        revid = node.store.object_id(cid_from_str(old))
    finally:
        node.close()
    proc, client = start_server(node_dir)
    try:
        for url in (f"/wiki/w/Slip?oldid={old}", f"/wiki/w/Slip?oldid={old}&action=raw", f"/wiki/w/Slip?diff={new}",
                    f"/wiki/w/Slip?diff={old}"):
            answer = client.get(url)
            assert answer.status_code == 404 and "555-0199" not in answer.text, url
            assert "personal data" in answer.text, url
        assert "the page without it" in client.get("/wiki/w/Slip").text  # the page itself is shown
        history = client.get("/wiki/w/Slip?action=history").text
        assert "revision hidden: personal data" in history and f"oldid={new}" in history
        api = client.get("/w/w/api.php", params={"action": "query", "prop": "revisions", "titles": "Slip",
                                                "rvprop": "ids|content|sha1", "rvslots": "main", "rvlimit": "5",
                                                "format": "json", "formatversion": "2"}).json()
        revs = {r["revid"]: r for r in api["query"]["pages"][0]["revisions"]}
        assert revs[revid]["texthidden"] and revs[revid]["sha1hidden"] and "content" not in revs[revid]["slots"]["main"]
        assert "555-0199" not in str(api) and len(revs) == 2  # its place in the history stays
        assert client.get("/w/w/index.php", params={"title": "Slip", "oldid": revid, "action": "raw"}).status_code == 404
        parsed = client.get("/w/w/api.php", params={"action": "parse", "oldid": revid, "format": "json"}).json()
        assert "error" in parsed and "555-0199" not in str(parsed)

        page = client.get("/wiki/w/File:Two.png").text
        assert "file version hidden: a mistake" in page and old_sha not in page
        assert hashlib.sha256(images[1]).hexdigest() in page
        assert client.get(f"/file/w/Two.png?v={old_sha[:16]}").status_code == 404
        assert client.get("/file/w/Two.png").content == images[1]

        assert run_cli(node_dir, "unhide", "w", "Slip", "--revision", old).code == 0
        assert run_cli(node_dir, "unhide", "w", "File:Two.png", "--file", old_sha).code == 0
        assert "555-0199" in client.get(f"/wiki/w/Slip?oldid={old}&action=raw").text
        assert client.get(f"/file/w/Two.png?v={old_sha[:16]}").content == images[0]

        assert run_cli(node_dir, "hide", "w", "Slip", "--reason", "taken down").code == 0  # the whole page
        gone = client.get("/wiki/w/Slip")
        assert gone.status_code == 404 and "taken down" in gone.text
        assert run_cli(node_dir, "unhide", "w", "Slip").code == 0
        assert client.get("/wiki/w/Slip").status_code == 200
    finally:
        stop_server(proc, client)
    assert run_cli(node_dir, "fsck").code == 0
