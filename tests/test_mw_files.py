"""Files through MediaWiki dumps (issue 14, item 3): the real MediaWiki 1.39, uploads made through its API.

``dumpBackup.php --full --uploads --include-files`` writes every file version
in base 64 inside its page; ``wikipeer import`` takes each as a file version
(SHA-256, SHA-1, order, the page shows the image), and ``wikipeer export
--include-files`` gives a dump that ``importDump.php --uploads`` turns back
into the same files in a fresh MediaWiki.

MediaWiki must be installed (``bash scripts/system-deps.sh``): without it
these tests fail, saying so; they never skip.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from conftest import run_cli, start_server, stop_server
from mediawiki_instance import MediaWikiInstance
from mw_populate import SVG_SETTINGS, USERS, create_account, edit, login, upload_media
from wikipeer.node import Node

WIKI = "my_wiki"
PAGE_TEXT = "[[File:Red square.png|thumb|A square]] and [[File:Drawing.svg|120px]]"


@pytest.fixture(scope="module")
def mw(tmp_path_factory):
    """A real MediaWiki with uploads: the files of media_versions(), and a page that shows two of them."""
    instance = MediaWikiInstance(tmp_path_factory.mktemp("mw"), uploads=True, extra_settings=SVG_SETTINGS)
    instance.install()
    instance.serve()
    create_account(instance, "Bob", USERS["Bob"])
    instance.uploaded = upload_media(instance)
    bob = login(instance, "Bob")
    edit(bob, "Pictures", PAGE_TEXT, "pictures")
    bob.close()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def files_dump(mw, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "with-files.xml"
    mw.dump_backup(path, extra_args=("--uploads", "--include-files"))
    return path


def _imported(tmp_path: Path, dump: Path) -> Path:
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    result = run_cli(node, "import", str(dump), "--quiet", timeout=120)
    assert result.code == 0, str(result)
    return node


def _versions(node_dir: Path, name: str) -> list:
    """The node's versions of File:NAME, oldest first."""
    node = Node.open(node_dir)
    try:
        page = node.store.page(WIKI, 6, name)
        assert page is not None, f"no File:{name} on the node"
        return list(reversed(node.store.file_versions(page.id)))
    finally:
        node.close()


def test_a_dump_with_files_gives_every_version_with_its_hashes_in_order(mw, files_dump, tmp_path):
    text = files_dump.read_text(encoding="utf-8")
    assert '<contents encoding="base64">' in text  # the dump really carries the bytes
    node = _imported(tmp_path, files_dump)
    for name, versions in mw.uploaded.items():
        held = _versions(node, name.replace("_", " "))
        assert [v.sha256 for v in held] == [hashlib.sha256(v).hexdigest() for v in versions], name
        assert [v.sha1 for v in held] == [hashlib.sha1(v).hexdigest() for v in versions], name
        assert [v.size for v in held] == [len(v) for v in versions], name
        assert all(v.origin.get("user") == "Bob" and v.author is None for v in held), name
    again = run_cli(node, "import", str(files_dump), "--quiet", timeout=120)
    assert again.code == 0 and "0 pages skipped" in again.out, str(again)
    assert len(_versions(node, "Red square.png")) == 3  # a second import adds nothing


def test_an_imported_page_shows_the_imported_image(mw, files_dump, tmp_path):
    node = _imported(tmp_path, files_dump)
    proc, client = start_server(node)
    try:
        page = client.get(f"/wiki/{WIKI}/Pictures")
        assert page.status_code == 200
        sources = re.findall(r'<img[^>]* src="([^"]+)"', page.text)
        square = [s for s in sources if "Red_square.png" in s or "Red%20square.png" in s]
        svg = [s for s in sources if "Drawing.svg" in s]
        assert square and svg, page.text
        shown = client.get(square[0].replace("&amp;", "&"), follow_redirects=True)
        assert shown.status_code == 200
        assert hashlib.sha256(shown.content).hexdigest() == hashlib.sha256(mw.uploaded["Red square.png"][-1]).hexdigest()
        drawing = client.get(svg[0].replace("&amp;", "&"), follow_redirects=True)
        assert drawing.headers["content-type"].startswith("image/svg+xml")
        assert drawing.content == mw.uploaded["Drawing.svg"][-1]
    finally:
        stop_server(proc, client)


def test_a_file_whose_bytes_do_not_match_the_dumps_sha1_refuses_its_page_alone(mw, files_dump, tmp_path):
    text = files_dump.read_text(encoding="utf-8")
    original = mw.uploaded["Photo.jpg"][0]
    encoded = base64.encodebytes(original).decode("ascii")
    start = text.index(encoded[:60])
    damaged = original[:100] + bytes([original[100] ^ 1]) + original[101:]
    bad = files_dump.parent / "damaged.xml"
    bad.write_text(text[:start] + base64.encodebytes(damaged).decode("ascii") + text[start + len(encoded):],
                   encoding="utf-8")
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    result = run_cli(node, "import", str(bad), "--quiet", timeout=120)
    assert result.code == 0, str(result)
    assert "1 pages skipped" in result.out, str(result)
    warning = [line for line in result.err.splitlines() if "Photo.jpg" in line]
    assert warning and "SHA-1" in warning[0] and "byte offset" in warning[0] and "File:Photo.jpg" in warning[0], result.err
    offset = int(re.search(r"contents at byte offset (\d+)", warning[0]).group(1))
    assert bad.read_bytes()[offset:offset + 9] == b"<contents"
    n = Node.open(node)
    try:
        assert n.store.page(WIKI, 6, "Photo.jpg") is None  # nothing of the page: neither text nor file
        assert n.store.page(WIKI, 6, "Moving.gif") is not None  # the rest went on
    finally:
        n.close()


def test_our_export_with_files_gives_a_fresh_mediawiki_the_same_files(mw, files_dump, tmp_path):
    node = _imported(tmp_path, files_dump)
    out = tmp_path / "export.xml"
    exported = run_cli(node, "export", WIKI, "--include-files", "-o", str(out), timeout=120)
    assert exported.code == 0, str(exported)
    # MediaWiki 1.39's importer turns libxml's entity loader off while it reads, and SVGReader then
    # cannot open an SVG by its path (XMLReader::open fails): importDump.php --uploads dies on any SVG.
    # Above $wgSVGMetadataCutoff it reads the file's start as a string instead, which works; 100 bytes
    # hold the root element with its size.
    fresh = MediaWikiInstance(tmp_path / "fresh", uploads=True,
                              extra_settings=SVG_SETTINGS + "\n$wgSVGMetadataCutoff = 100;")
    fresh.install()
    try:
        result = fresh.import_dump(out, extra_args=("--uploads",))
        # It names each upload it takes ("upload: NAME"); anything else but a deprecation notice is a complaint.
        assert not [c for c in result.complaints if not c.startswith("upload: ") and "Deprecated" not in c], str(result)
        for name, versions in mw.uploaded.items():
            answer = fresh.api(action="query", prop="imageinfo", titles=f"File:{name}", iiprop="sha1|size|timestamp",
                               iilimit="max")
            info = answer["query"]["pages"][0].get("imageinfo", [])
            assert [i["sha1"] for i in reversed(info)] == [hashlib.sha1(v).hexdigest() for v in versions], name
    finally:
        fresh.stop()


# -- the MediaWiki peer pulls the files --------------------------------------------------------------

PEER_WIKI = "mirror"


def _peer_node(tmp_path: Path, mw: MediaWikiInstance) -> Path:
    node = tmp_path / "peer-node"
    assert run_cli(node, "init").code == 0
    added = run_cli(node, "peer", "add", "--mediawiki", mw.base_url + "/api.php", "--wiki", PEER_WIKI,
                    "--rate", "1000")
    assert added.code == 0, str(added)
    return node


def _sync(node: Path) -> str:
    result = run_cli(node, "sync", timeout=180)
    assert result.code == 0, str(result)
    return result.out


def _peer_versions(node_dir: Path, name: str) -> list:
    node = Node.open(node_dir)
    try:
        page = node.store.page(PEER_WIKI, 6, name)
        return list(reversed(node.store.file_versions(page.id))) if page else []
    finally:
        node.close()


def test_the_mediawiki_peer_pulls_every_version_of_every_file(mw, tmp_path):
    node = _peer_node(tmp_path, mw)
    out = _sync(node)
    total = sum(len(v) for v in mw.uploaded.values())
    assert f"{total} file versions taken (0 files refused)" in out, out
    for name, versions in mw.uploaded.items():
        held = _peer_versions(node, name)
        assert [v.sha256 for v in held] == [hashlib.sha256(v).hexdigest() for v in versions], name
        assert [v.sha1 for v in held] == [hashlib.sha1(v).hexdigest() for v in versions], name
        assert all(v.origin.get("user") == "Bob" and v.origin["src"].startswith(mw.base_url) for v in held), name
    again = _sync(node)
    assert "0 file versions taken (0 files refused)" in again, again  # nothing new: nothing downloaded
    assert "requests" in again and int(re.search(r"(\d+) requests", again).group(1)) <= 2


def test_a_download_that_does_not_match_its_sha1_is_refused_alone_and_taken_at_the_next_sync(mw, tmp_path):
    stored = [p for p in (mw.root / "images").rglob("Photo.jpg") if "archive" not in p.parts and "thumb" not in p.parts]
    assert len(stored) == 1, stored
    original = stored[0].read_bytes()
    stored[0].write_bytes(original[:50] + bytes([original[50] ^ 0xFF]) + original[51:])
    node = _peer_node(tmp_path, mw)
    try:
        out = _sync(node)
    finally:
        stored[0].write_bytes(original)
    warning = [line for line in out.splitlines() if "Photo.jpg" in line]
    assert warning and "SHA-1" in warning[0] and mw.base_url in warning[0] and "next sync" in warning[0], out
    assert "(1 files refused)" in out, out
    assert _peer_versions(node, "Photo.jpg") == []
    assert len(_peer_versions(node, "Red square.png")) == 3  # the rest of the pull went on
    retried = _sync(node)
    assert "1 file versions taken (0 files refused)" in retried, retried
    assert [v.sha256 for v in _peer_versions(node, "Photo.jpg")] == [hashlib.sha256(original).hexdigest()]


def test_a_new_version_uploaded_after_a_pull_comes_with_the_next_one(mw, tmp_path):
    node = _peer_node(tmp_path, mw)
    _sync(node)
    newer = _gif_again()
    upload_media(mw, {"Moving.gif": [newer]})
    mw.uploaded["Moving.gif"].append(newer)  # the last test of the module: the dumps above were made before
    out = _sync(node)
    assert "1 file versions taken (0 files refused)" in out, out
    assert [v.sha256 for v in _peer_versions(node, "Moving.gif")] == \
        [hashlib.sha256(v).hexdigest() for v in mw.uploaded["Moving.gif"]]


def _gif_again() -> bytes:
    """A GIF unlike any media_versions() made."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 90)).save(out, "GIF")
    return out.getvalue()
