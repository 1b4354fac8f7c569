"""`wikipeer export WIKI --zim OUT.zim [--since OLD.zim]`: checked by Debian's zimcheck, read back with
libzim, served and searched by Debian's kiwix-serve (docs/zim.md)."""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from libzim.reader import Archive
from PIL import Image

from conftest import CLI, assert_user_error, cli_env, copy_node, free_port, on_a_terminal, plain_screen, run_cli
from wikipeer.authoring import edit
from wikipeer.node import Node
from wikipeer.uploading import upload

WIKI = "wikipeer"


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def wiki_node(tmp_path_factory) -> Path:
    """The sample wiki plus a redirect, an image, a template and a page using all three."""
    directory = tmp_path_factory.mktemp("zim") / "node"
    assert run_cli(directory, "init", "--sample").code == 0
    node = Node.open(directory)
    try:
        edit(node, WIKI, "CID", "#REDIRECT [[Content identifiers]]\n", "a redirect")
        upload(node, WIKI, "File:Red box.png", _png(20, 10), "a red box")
        edit(node, WIKI, "Template:Greeting", "Greetings from a template.", "template")
        edit(node, WIKI, "Box", "A page with [[File:Red box.png|thumb|A red box]], a [[Nowhere page]], "
                                "[[Wikipeer|a link]] and {{Greeting}}. Its own word: quokkafish.\n", "box")
    finally:
        node.close()
    return directory


def _export(node: Path, out: Path, *extra: str) -> str:
    result = run_cli(node, "export", WIKI, "--zim", str(out), *extra)
    assert result.code == 0, str(result)
    assert result.out == "", str(result)  # libzim's own chatter does not reach stdout
    return result.err


@pytest.fixture(scope="module")
def zim(wiki_node, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zim-out") / "wiki.zim"
    report = _export(wiki_node, out)
    assert re.search(r"wrote .*wiki\.zim: 13 pages, 1 redirects, 1 files", report), report
    return out


def _content(archive: Archive, path: str) -> bytes:
    return bytes(archive.get_entry_by_path(path).get_item().content)


def test_zimcheck_passes_every_check(zim):
    result = subprocess.run(["zimcheck", "-A", str(zim)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Overall Test Status: Pass" in result.stdout


def test_the_file_holds_rendered_pages_metadata_redirects_and_files(zim):
    archive = Archive(zim)
    assert archive.has_fulltext_index and archive.has_title_index
    assert archive.main_entry.get_item().path == "Main_Page"
    page = _content(archive, "Box").decode()
    assert "<title>Box</title>" in page and 'href="./_res/wiki.css"' in page
    assert "Greetings from a template." in page  # rendered, not wikitext
    assert '<img src="./_files/Red_box.png"' in page
    assert '<a href="./Wikipeer" title="Wikipeer">a link</a>' in page
    assert '<a title="Nowhere page" class="new">' in page  # a red link leads nowhere
    assert _content(archive, "_files/Red_box.png") == _png(20, 10)
    assert archive.get_entry_by_path("_files/Red_box.png").get_item().mimetype == "image/png"
    redirect = archive.get_entry_by_path("CID")
    assert redirect.is_redirect and redirect.get_redirect_entry().path == "Content_identifiers"
    assert not archive.has_entry_by_path("Template:Greeting")  # namespace 10 was not asked for
    for name, value in (("Language", b"eng"), ("Publisher", b"wikipeer"), ("Title", b"wikipeer"),
                        ("Name", b"wikipeer_eng_wikipeer")):
        assert bytes(archive.get_metadata(name)) == value
    for name in ("Creator", "Description", "Date"):
        assert bytes(archive.get_metadata(name))
    assert re.fullmatch(rb"\d{4}-\d\d-\d\d", bytes(archive.get_metadata("Date")))
    assert archive.get_illustration_sizes() == {48}
    icon = Image.open(io.BytesIO(bytes(archive.get_illustration_item(48).content)))
    assert (icon.format, icon.size) == ("PNG", (48, 48))
    made = json.loads(bytes(archive.get_metadata("X-Wikipeer-Log")))
    assert made["wiki"] == WIKI and made["namespaces"] == [0] and made["seq"] > 0


def test_kiwix_serve_serves_the_file_and_its_search_finds_a_page_by_a_word(zim):
    port = free_port()
    proc = subprocess.Popen(["kiwix-serve", "--address", "127.0.0.1", "--port", str(port), "--threads", "1",
                             str(zim)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, "kiwix-serve did not start"
                    time.sleep(0.05)
            page = client.get(f"/{zim.stem}/Box")
            assert page.status_code == 200 and "quokkafish" in page.text
            image = client.get(f"/{zim.stem}/_files/Red_box.png")
            assert image.status_code == 200 and image.content == _png(20, 10)
            found = client.get("/search", params={"content": zim.stem, "pattern": "quokkafish"})
            assert found.status_code == 200
            assert f'href="/{zim.stem}/Box"' in found.text
            assert re.search(r"of\s*<b>\s*1\s*</b>", found.text), found.text[-2000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _rendered(report: str) -> int:
    m = re.search(r"\((\d+) rendered, (\d+) copied", report)
    assert m, report
    return int(m.group(1))


def test_since_renders_only_what_changed_and_copies_the_rest(wiki_node, zim, tmp_path):
    node_dir = tmp_path / "node"
    copy_node(wiki_node, node_dir)
    old = Archive(zim)
    node = Node.open(node_dir)
    try:
        edit(node, WIKI, "Wikipeer", "A new text of the page, with the word wombatcake.\n", "rewrite")
    finally:
        node.close()
    first = tmp_path / "first.zim"
    assert _rendered(_export(node_dir, first, "--since", str(zim))) == 1
    new = Archive(first)
    assert "wombatcake" in _content(new, "Wikipeer").decode()
    for path in ("Main_Page", "Box", "Content_identifiers", "Signed_objects"):
        assert _content(new, path) == _content(old, path), path
    assert _content(new, "_files/Red_box.png") == _png(20, 10)
    assert new.get_entry_by_path("CID").get_redirect_entry().path == "Content_identifiers"

    # A template changes and a missing page is made: the page using them is rendered again with them.
    node = Node.open(node_dir)
    try:
        edit(node, WIKI, "Template:Greeting", "Hello again from the template.", "template")
        edit(node, WIKI, "Nowhere page", "Now somewhere.\n", "made")
    finally:
        node.close()
    second = tmp_path / "second.zim"
    assert _rendered(_export(node_dir, second, "--since", str(first))) == 2  # Nowhere page, and Box
    box = _content(Archive(second), "Box").decode()
    assert "Hello again from the template." in box and '<a href="./Nowhere_page"' in box
    check = subprocess.run(["zimcheck", "-A", str(second)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout

    # Nothing changed: nothing is rendered.
    third = tmp_path / "third.zim"
    assert _rendered(_export(node_dir, third, "--since", str(second))) == 0

    # The view trusts another key: only a forked page's shown head can change with it.
    node = Node.open(node_dir)
    try:
        first_rev = node.store.history(node.store.page(WIKI, 0, "Main Page").id)[-1].cid
        edit(node, WIKI, "Main Page", "An older line of the main page.\n", "fork", parents=(first_rev,))
    finally:
        node.close()
    forked = tmp_path / "forked.zim"
    assert _rendered(_export(node_dir, forked, "--since", str(third))) == 1
    assert run_cli(node_dir, "key", "new", "another").code == 0
    trusting = tmp_path / "trusting.zim"
    report = _export(node_dir, trusting, "--since", str(forked))
    assert _rendered(report) == 1 and "every page" not in report

    # A page hidden changes what every page may link to: every page is rendered again, the hidden one left out.
    assert run_cli(node_dir, "hide", WIKI, "Signed objects", "--reason", "test").code == 0
    fourth = tmp_path / "fourth.zim"
    report = _export(node_dir, fourth, "--since", str(trusting))
    assert "every page was rendered again: pages or revisions were hidden or shown again" in report
    assert _rendered(report) == 14  # 15 pages of namespace 0 (a redirect among them), one hidden
    assert not Archive(fourth).has_entry_by_path("Signed_objects")


def test_since_refuses_what_is_not_one_of_ours(wiki_node, zim, tmp_path):
    out = tmp_path / "out.zim"
    garbage = tmp_path / "garbage.zim"
    garbage.write_bytes(b"not a zim file at all" * 10)
    assert_user_error(run_cli(wiki_node, "export", WIKI, "--zim", str(out), "--since", str(garbage)),
                      "garbage.zim", "not a ZIM file")
    assert_user_error(run_cli(wiki_node, "export", WIKI, "--zim", str(out), "--since", str(tmp_path / "none.zim")),
                      "no such file")
    other = tmp_path / "other-node"
    assert run_cli(other, "init").code == 0
    assert run_cli(other, "edit", "elsewhere", "Some page", "-m", "x", input="Text.\n").code == 0
    other_zim = tmp_path / "other.zim"
    assert run_cli(other, "export", "elsewhere", "--zim", str(other_zim)).code == 0
    assert_user_error(run_cli(wiki_node, "export", WIKI, "--zim", str(out), "--since", str(other_zim)),
                      "holds the wiki 'elsewhere'")
    assert_user_error(run_cli(wiki_node, "export", WIKI, "--zim", str(out), "--since", str(zim), "--namespaces",
                              "0,10"), "namespaces 0", "not 0,10")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.zim")] == []


def test_the_command_line_says_what_is_wrong(wiki_node, tmp_path):
    out = tmp_path / "x.zim"
    assert_user_error(run_cli(wiki_node, "export", WIKI, "--zim", str(out), "--current"), "--current", "XML")
    assert_user_error(run_cli(wiki_node, "export", WIKI, "--zim", str(tmp_path / "x.txt")), "must end in .zim")
    assert_user_error(run_cli(wiki_node, "export", WIKI, "--zim", str(out), "--namespaces", "main"),
                      "namespace numbers")
    assert_user_error(run_cli(wiki_node, "export", WIKI, "-o", str(tmp_path / "d.xml"), "--view", "x"), "--view")
    for args in ((), ("-o", str(tmp_path / "d.xml"), "--zim", str(out))):
        result = run_cli(wiki_node, "export", WIKI, *args)
        assert result.code == 2 and "Traceback" not in result.err
        assert "-o/--output" in result.err and "--zim" in result.err
    assert not out.exists()


def test_an_interrupted_export_leaves_no_file(tmp_path):
    node_dir = tmp_path / "node"
    node = Node.init(node_dir)
    try:
        words = " ".join(f"word{i} [[Page {i % 97}]] '''bold''' ''it''" for i in range(300))
        for i in range(400):
            edit(node, "big", f"Page {i}", f"== Section ==\n{words}\n", "page", ts=1_700_000_000_000 + i)
    finally:
        node.close()
    out = tmp_path / "big.zim"
    proc = subprocess.Popen([*CLI, "--node", str(node_dir), "export", "big", "--zim", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".big.zim.partial") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "the export never started its file"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node"]


def test_progress_is_shown_on_a_terminal_and_a_file_is_refreshed_in_place(wiki_node, zim, tmp_path):
    node_dir = tmp_path / "node"
    copy_node(wiki_node, node_dir)
    out = tmp_path / "wiki.zim"
    shutil.copy(zim, out)
    code, stdout, shown = on_a_terminal(node_dir, "export", WIKI, "--zim", str(out), "--since", str(out))
    assert code == 0 and stdout == ""
    assert b"ZIM of wikipeer" in plain_screen(shown)
    assert b"(0 rendered, 14 copied from" in plain_screen(shown)
    assert _content(Archive(out), "Box") == _content(Archive(zim), "Box")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node", "wiki.zim"]
