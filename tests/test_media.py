"""Media files: signed file objects, chunks in pack files, uploads, thumbnails, and pages that show them.

Every test medium is generated here with Pillow (JPEG, PNG, GIF, WebP) or by
hand (SVG); large files are an image followed by random bytes (still a valid
JPEG to every reader), so chunking has something to cut.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import time
import zlib
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from PIL import Image

from conftest import (assert_user_error, copy_node, dump_tables, run_cli, start_server, stop_server, store_connect,
                      store_db)
from wikipeer.store.schema import SCHEMA_VERSION
from wikipeer.errors import UserError
from wikipeer.fsck import fsck
from wikipeer.ingest import ACCEPTED, REJECTED, ingest
from wikipeer.media.thumbs import ThumbCache
from wikipeer.model.block import Block, raw_block
from wikipeer.model.keys import sign
from wikipeer.model.media import CHUNK_CUT_MAX, CHUNK_MAX, SINGLE_BLOCK, File, build_file, digests, sha1_base36
from wikipeer.model.objects import Page, Signature, build_page, build_signature
from wikipeer.model.sniff import UnsafeFile, inspect
from wikipeer.model.title import WikiConfig
from wikipeer.node import Node
from wikipeer.render import RenderContext, render
from wikipeer.render.context import FileMeta
from wikipeer.store.packs import HEADER
from wikipeer.store.store import Store
from wikipeer.uploading import upload
from wikipeer.web.bodylimit import MAX_UPLOAD_FORM

pytest_plugins = ["browser_support"]  # headless Chromium, as the browser tests drive it

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')
PARSER_TESTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "parsertests" / "core" / "media.txt"


# -- test media ----------------------------------------------------------------

def image(fmt: str, size: tuple[int, int] = (64, 48), seed: int = 1, **save) -> bytes:
    """A small picture with some detail (a gradient and noise), encoded as ``fmt``."""
    rng = random.Random(seed)
    img = Image.new("RGB", size)
    img.putdata([((x * 255) // size[0], (y * 255) // size[1], rng.randrange(256))
                 for y in range(size[1]) for x in range(size[0])])
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def big_jpeg(megabytes: float, seed: int = 7) -> bytes:
    """A JPEG followed by random bytes: several MB that every reader still takes for a JPEG."""
    return image("JPEG", (80, 60)) + random.Random(seed).randbytes(int(megabytes * (1 << 20)))


SVG_OK = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
          b'<rect width="120" height="80" fill="#36c"/><circle cx="60" cy="40" r="30" fill="#fc3"/></svg>')
SVG_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
              b'<script>alert(document.cookie)</script></svg>')
SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"/>'


def polyglot_png() -> bytes:
    """A valid PNG whose first kilobyte holds an HTML page (in a tEXt chunk)."""
    png = image("PNG", (8, 8))
    text = b"Comment\x00<html><body><script>alert(document.domain)</script></body></html>"
    chunk = len(text).to_bytes(4, "big") + b"tEXt" + text + zlib.crc32(b"tEXt" + text).to_bytes(4, "big")
    return png[:33] + chunk + png[33:]  # right after the IHDR chunk


def bomb_png() -> bytes:
    """A 30000 x 30000 PNG (900 megapixels) of a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, "PNG")
    return out.getvalue()


def pack_bytes(store: Store) -> int:
    return sum(p.stat().st_size for p in store.packs.directory.glob("*.pack"))


# -- the file object and its checks at the door --------------------------------------

@pytest.mark.parametrize("fmt,mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"),
                                      ("WEBP", "image/webp")])
def test_the_type_and_size_come_from_the_bytes(fmt, mime):
    info = inspect(image(fmt, (64, 48)))
    assert (info.mime, info.width, info.height) == (mime, 64, 48)


def test_svg_pdf_and_unknown_bytes():
    assert (inspect(SVG_OK).mime, inspect(SVG_OK).width, inspect(SVG_OK).height) == ("image/svg+xml", 120, 80)
    assert inspect(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n").mime == "application/pdf"
    with pytest.raises(UnsafeFile, match="none of the types"):
        inspect(b"MZ\x90\x00 an executable")
    with pytest.raises(UnsafeFile, match="none of the types"):
        inspect(b"<html><body>hello</body></html>")


@pytest.mark.parametrize("data,fragment", [
    (SVG_SCRIPT, "<script>"), (SVG_ONLOAD, "event handler"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><image x:href="http://evil.test/a.png"/></svg>',
     "links to"),
    (b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "entities"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div/></foreignObject></svg>', "foreignobject"),
])
def test_svg_that_can_run_script_or_reach_out_is_refused(data, fragment):
    with pytest.raises(UnsafeFile, match=fragment):
        inspect(data)


def test_polyglot_and_decompression_bomb_are_refused():
    with pytest.raises(UnsafeFile, match="polyglot"):
        inspect(polyglot_png())
    with pytest.raises(UnsafeFile, match="decompression bomb"):
        inspect(bomb_png())


def test_sha1_in_mediawiki_base36():
    sha1 = hashlib.sha1(b"").hexdigest()
    assert sha1_base36(sha1) == "phoiac9h4m842xq45sp7s6u21eteeq1"  # MediaWiki's img_sha1 of an empty file


def test_upload_stores_a_signed_file_version(node):
    data = image("PNG", (40, 30))
    made = upload(node, "w", "File:Red box.png", data, "a box")
    assert made.title == "File:Red box.png"
    page = node.store.page("w", 6, "Red box.png")
    info = node.store.current_file(page.id)
    assert info.sha256 == hashlib.sha256(data).hexdigest() == made.sha256
    assert info.sha1 == hashlib.sha1(data).hexdigest()
    assert (info.size, info.mime, info.width, info.height) == (len(data), "image/png", 40, 30)
    assert [s.role for s in info.sigs] == ["author"] and info.sigs[0].key == info.author
    assert b"".join(node.store.file_chunks(info)) == data
    head = node.store.heads(page.id)[0]
    assert info.desc == head.cid and node.store.revision_text(head) == "a box"  # the page's first description
    assert fsck(node.store)[1] == []


def test_the_name_must_fit_the_bytes(node):
    with pytest.raises(UserError, match=r"image/jpeg.*\.jpg"):
        upload(node, "w", "File:Looks like.png", image("JPEG"))
    with pytest.raises(UserError, match="not a file title"):
        upload(node, "w", "Talk:Photo.jpg", image("JPEG"))
    assert node.store.conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0


def test_unsafe_uploads_change_nothing(node):
    before = node.store.last_seq()
    for name, data, fragment in [("Poly.png", polyglot_png(), "polyglot"), ("Bomb.png", bomb_png(), "bomb"),
                                 ("Evil.svg", SVG_SCRIPT, "script")]:
        with pytest.raises(UserError, match=fragment):
            upload(node, "w", f"File:{name}", data)
    assert node.store.last_seq() == before
    assert pack_bytes(node.store) == 0


def test_a_file_of_several_megabytes_is_chunked_into_packs(node):
    data = big_jpeg(5)
    upload(node, "w", "File:Big.jpg", data)
    info = node.store.current_file(node.store.page("w", 6, "Big.jpg").id)
    assert len(info.chunks) >= 3
    sizes = [len(node.store.raw_bytes(c)) for c in info.chunks]
    assert sum(sizes) == len(data) and max(sizes) <= CHUNK_MAX
    assert pack_bytes(node.store) >= len(data)
    # The bytes live in the packs, not in the database: its rows hold far less than the file.
    with store_db(node.dir) as conn:
        held = sum(len(v) for rows in dump_tables(conn).values() for row in rows for v in row
                   if isinstance(v, (bytes, str, memoryview)))
    assert 0 < held < len(data) // 10
    assert b"".join(node.store.file_chunks(info)) == data


def test_a_reupload_with_a_small_change_shares_chunks(node):
    data = big_jpeg(5)
    upload(node, "w", "File:Big.jpg", data, ts=1000)
    first = pack_bytes(node.store)
    changed = bytearray(data)
    changed[3_000_000] ^= 0xFF
    upload(node, "w", "File:Big.jpg", bytes(changed), "one byte changed", ts=2000)
    grown = pack_bytes(node.store) - first
    assert 0 < grown < first * 0.5, (grown, first)
    versions = node.store.file_versions(node.store.page("w", 6, "Big.jpg").id)
    assert [v.sha256 for v in versions] == [hashlib.sha256(changed).hexdigest(), hashlib.sha256(data).hexdigest()]
    assert len(set(versions[0].chunks) & set(versions[1].chunks)) >= len(versions[0].chunks) - 2


def test_a_duplicate_costs_no_pack_bytes(node):
    data = big_jpeg(2)
    upload(node, "w", "File:One.jpg", data)
    before = pack_bytes(node.store)
    upload(node, "w", "File:Two.jpg", data)
    assert pack_bytes(node.store) == before
    files, size, stored = node.store.files_stats()
    assert (files, size) == (2, 2 * len(data)) and stored == len(data)
    with pytest.raises(UserError, match="no change"):
        upload(node, "w", "File:Two.jpg", data)


def signed_file(node, data: bytes, chunks: list[Block], **override) -> list[Block]:
    """The blocks of a file version built by hand (what a peer could send): page, chunks, file, signature."""
    identity = node.user_key()
    key = node.keyring.signing_key(identity.name, node.passphrase)
    page = build_page(Page("w", 6, "Hand.png"))
    sha256, sha1, size = digests([data])
    info = inspect(data)
    fields = dict(page=page.cid, sha256=sha256, sha1=sha1, size=size, mime=info.mime, width=info.width,
                  height=info.height, chunks=tuple(c.cid for c in chunks), ts=5, author=identity.public)
    fields.update(override)
    block = build_file(File(**fields))
    sig = build_signature(Signature(block.cid, "author", identity.public, sign(key, block.cid, "author")))
    return [page, *chunks, block, sig]


def test_bytes_that_do_not_match_the_sha256_or_the_chunk_list_are_refused(node):
    data, other = image("PNG", (20, 20), seed=1), image("PNG", (20, 20), seed=2)
    cases = [
        (signed_file(node, data, [raw_block(data)], sha256=hashlib.sha256(other).hexdigest()), "SHA-256"),
        (signed_file(node, data, [raw_block(other)]), "SHA-256"),  # the chunk list names other bytes
        (signed_file(node, data, [raw_block(data)], sha1="0" * 40), "SHA-1"),
        (signed_file(node, data, [raw_block(data)], width=21), "20x20"),
        (signed_file(node, data, [raw_block(data)], mime="image/gif"), "image/png"),
    ]
    for blocks, fragment in cases:
        report = ingest(node.store, blocks, "test")
        file_status = report.statuses[-2]
        assert file_status.state == REJECTED and fragment in file_status.reason, file_status
    assert node.store.conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0
    assert pack_bytes(node.store) == 0
    good = ingest(node.store, signed_file(node, data, [raw_block(data)]), "test")
    assert good.statuses[-2].state == ACCEPTED


def test_a_chunk_whose_bytes_do_not_match_its_cid_is_refused(node):
    data = image("PNG", (20, 20))
    blocks = signed_file(node, data, [raw_block(data)])
    chunk = blocks[1]
    blocks[1] = Block(chunk.cid, chunk.data[:-1] + b"\x00")
    report = ingest(node.store, blocks, "test")
    assert report.statuses[1].state == REJECTED and report.statuses[1].forged
    assert report.statuses[2].state != ACCEPTED  # the file waits for its genuine content
    assert node.store.conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0
    # The genuine chunk arriving later lets the file in.
    later = ingest(node.store, [chunk], "test")
    assert node.store.conn.execute("SELECT count(*) FROM files").fetchone()[0] == 1, later.statuses


def test_a_bomb_is_refused_at_the_door_too(node):
    data = bomb_png()
    fields = dict(mime="image/png", width=30000, height=30000)
    blocks = signed_file_unchecked(node, data, fields)
    report = ingest(node.store, blocks, "test")
    assert report.statuses[-2].state == REJECTED and "decompression bomb" in report.statuses[-2].reason


def signed_file_unchecked(node, data: bytes, fields: dict) -> list[Block]:
    """Like signed_file, for bytes ``inspect`` refuses: the claims are given, not read."""
    identity = node.user_key()
    key = node.keyring.signing_key(identity.name, node.passphrase)
    page = build_page(Page("w", 6, "Hand.png"))
    sha256, sha1, size = digests([data])
    block = build_file(File(page=page.cid, sha256=sha256, sha1=sha1, size=size, chunks=(raw_block(data).cid,), ts=5,
                            author=identity.public, **fields))
    sig = build_signature(Signature(block.cid, "author", identity.public, sign(key, block.cid, "author")))
    return [page, raw_block(data), block, sig]


def test_a_file_must_belong_to_a_file_page(node):
    data = image("PNG", (20, 20))
    blocks = signed_file(node, data, [raw_block(data)], page=build_page(Page("w", 0, "Hand.png")).cid)
    blocks[0] = build_page(Page("w", 0, "Hand.png"))
    report = ingest(node.store, blocks, "test")
    assert report.statuses[-2].state == REJECTED and "File: namespace" in report.statuses[-2].reason


# -- packs: crash safety and fsck -----------------------------------------------------

def test_a_torn_pack_tail_is_cut_off_by_the_next_write(node):
    upload(node, "w", "File:A.png", image("PNG", seed=1))
    pack = next(node.store.packs.directory.glob("*.pack"))
    whole = pack.stat().st_size
    with open(pack, "ab") as f:
        f.write(b"WPK1" + b"\x01" * 30)  # a crash in the middle of an append
    assert fsck(node.store)[1] == []  # what no index row names is no fault
    upload(node, "w", "File:B.png", image("PNG", seed=2))
    data_b = image("PNG", seed=2)
    assert pack.stat().st_size == whole + HEADER + len(data_b)
    assert fsck(node.store)[1] == []


def test_a_rolled_back_batch_leaves_no_index_rows(node):
    data = big_jpeg(2)
    blocks = signed_file(node, data, [raw_block(data[:SINGLE_BLOCK]), raw_block(data[SINGLE_BLOCK:])])
    with pytest.raises(RuntimeError):
        with node.store.write() as writer:
            writer.add_chunk(blocks[1])
            raise RuntimeError("power cut")
    assert node.store.conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0
    upload(node, "w", "File:After.png", image("PNG"))
    assert pack_bytes(node.store) == HEADER + len(image("PNG"))  # the orphaned bytes were cut off
    assert fsck(node.store)[1] == []


def test_fsck_finds_a_damaged_or_truncated_pack(node):
    data = big_jpeg(3)
    upload(node, "w", "File:Big.jpg", data)
    assert fsck(node.store)[1] == []
    pack = sorted(node.store.packs.directory.glob("*.pack"))[0]
    raw = bytearray(pack.read_bytes())
    raw[HEADER + 1000] ^= 0x01
    pack.write_bytes(bytes(raw))
    faults = [str(f) for f in fsck(node.store)[1]]
    assert any("do not hash to this CID" in f for f in faults), faults
    assert any("cannot be read whole" in f for f in faults), faults
    with open(pack, "r+b") as f:
        f.truncate(HEADER + 10)
    faults = [str(f) for f in fsck(node.store)[1]]
    assert any("ends before the chunk" in f for f in faults), faults


@pytest.mark.sqlite_only  # a SQLite file of an older schema, altered by sqlite3
def test_an_older_store_gains_the_media_tables(tmp_path):
    path = tmp_path / "old.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.executescript("DROP TABLE files; DROP TABLE chunks; UPDATE meta SET value = '10' WHERE key = 'schema';")
    conn.close()
    store = Store(path)
    assert store.meta("schema") == SCHEMA_VERSION
    assert store.files_stats() == (0, 0, 0)


def test_a_full_disk_refuses_an_upload_in_one_line_and_keeps_the_store_sound(tmp_path, node_dir):
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], check=True)
    try:
        node = disk / "node"
        copy_node(node_dir, node)
        photo = tmp_path / "big.jpg"
        photo.write_bytes(big_jpeg(3))
        ballast = disk / "ballast"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        ballast.write_bytes(b"\xa5" * (free - (1 << 20)))  # 1 MiB left: room for SQLite, not for the packs
        result = run_cli(node, "upload", str(photo), "--title", "File:Big.jpg", "--wiki", "w")
        assert result.code != 0 and "Traceback" not in result.err, str(result)
        assert "the disk is full" in result.err and len(result.err.strip().splitlines()) == 1, str(result)
        ballast.unlink()
        assert run_cli(node, "fsck").code == 0
        assert run_cli(node, "upload", str(photo), "--title", "File:Big.jpg", "--wiki", "w").code == 0
        assert run_cli(node, "fsck").code == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


# -- the command line -----------------------------------------------------------------

def test_cli_upload(node_dir, tmp_path):
    assert run_cli(node_dir, "edit", "w", "Main", "-m", "start", input="hello").code == 0
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(image("JPEG", (50, 40)))
    result = run_cli(node_dir, "upload", str(photo), "--title", "File:Photo.jpg", "--comment", "a photo")
    assert result.code == 0, str(result)
    assert f"sha256:{hashlib.sha256(photo.read_bytes()).hexdigest()}" in result.out
    script = tmp_path / "evil.svg"
    script.write_bytes(SVG_SCRIPT)
    assert_user_error(run_cli(node_dir, "upload", str(script), "--title", "File:Evil.svg"), "script")
    assert_user_error(run_cli(node_dir, "upload", str(tmp_path / "absent.png"), "--title", "File:A.png"),
                      "cannot read")
    assert run_cli(node_dir, "fsck").code == 0
    assert "media: 1 file versions" in run_cli(node_dir, "stats").out


def test_an_upload_over_the_limit_is_refused_by_its_size_before_it_is_read(node_dir, tmp_path):
    import resource

    from conftest import CLI, Result, cli_env
    from wikipeer.policy.rules import MAX_FILE

    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as handle:
        handle.write(image("JPEG", (20, 20)))
        handle.truncate(MAX_FILE + 1)  # sparse: a file of 1 GiB and a byte that takes no disk

    def small_memory() -> None:  # reading the file whole would need more than the process may have
        resource.setrlimit(resource.RLIMIT_AS, (MAX_FILE // 2, MAX_FILE // 2))

    proc = subprocess.run([*CLI, "--node", str(node_dir), "upload", str(huge), "--title", "File:Huge.jpg",
                           "--wiki", "w"], capture_output=True, env=cli_env(), preexec_fn=small_memory, timeout=60)
    result = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), proc.stdout)
    assert_user_error(result, "upload refused", f"{MAX_FILE + 1} bytes", f"at most {MAX_FILE} bytes")
    node = Node.open(node_dir)
    try:
        assert node.store.page("w", 6, "Huge.jpg") is None  # nothing written
    finally:
        node.close()


# -- rendering --------------------------------------------------------------------------

def _context(files: dict[str, FileMeta], thumb_width: int = 220, base: str = "/wiki/w/") -> RenderContext:
    return RenderContext(WikiConfig("w"), "Main", lambda t: base + t.replace(" ", "_"), lambda ts: set(),
                         lambda t: None, file=files.get, thumb_width=thumb_width)


FOOBAR = FileMeta(1941, 220, "image/jpeg", "/file/w/Foobar.jpg", "/thumb/w/{width}/Foobar.jpg")


def test_filepath_and_lua_title_file_read_the_files_the_node_holds():
    module = ('local p = {} function p.f(frame) local t = mw.title.new(frame.args[1]) local f = t.file '
              'if not f then return "no file namespace" end '
              'return tostring(t.fileExists) .. " " .. tostring(f.exists) .. " " .. tostring(f.width) .. "x" '
              '.. tostring(f.height) .. " " .. tostring(f.mimeType) end return p')
    pages = {"Module:F": module}
    context = RenderContext(WikiConfig("w"), "Main", lambda t: "/wiki/w/" + t.replace(" ", "_"), lambda ts: set(),
                            pages.get, file={"Foobar.jpg": FOOBAR}.get, server="http://node.example")
    html = render("<p>[{{filepath:Foobar.jpg}}] [{{filepath:File:Foobar.jpg|100}}] [{{filepath:Nowhere.jpg}}]</p>"
                  "<p>{{#invoke:F|f|File:Foobar.jpg}}; {{#invoke:F|f|File:Nowhere.jpg}}; {{#invoke:F|f|Main}}</p>",
                  context).html
    assert ('href="http://node.example/file/w/Foobar.jpg">[1]</a> <a rel="nofollow noopener" class="external '
            'autonumber" href="http://node.example/thumb/w/100/Foobar.jpg">[2]</a> []') in html, html
    assert "true true 1941x220 image/jpeg; false false nilxnil nil; no file namespace" in html, html


def test_thumb_options_give_an_img_with_srcset():
    html = render("[[File:Foobar.jpg|thumb|right|200px|alt=A bar|A ''caption'']]", _context({"Foobar.jpg": FOOBAR})).html
    assert '<figure class="mw-halign-right" typeof="mw:File/Thumb">' in html
    assert ('<img alt="A bar" src="/thumb/w/200/Foobar.jpg" decoding="async" width="200" height="23" '
            'class="mw-file-element" srcset="/thumb/w/300/Foobar.jpg 1.5x, /thumb/w/400/Foobar.jpg 2x">') in html
    assert "<figcaption>A <i>caption</i></figcaption>" in html


@pytest.mark.parametrize("options,width,height", [
    ("thumb", 220, 25), ("thumb|upright", 170, 19), ("thumb|upright=2", 440, 50), ("frameless", 220, 25),
    ("x44px", 389, 44), ("100x100px", 100, 11), ("5000px", 5000, 567), ("thumb|5000px", 1941, 220), ("frame|100px", 1941, 220),
])
def test_sizes_follow_mediawiki(options, width, height):
    html = render(f"[[File:Foobar.jpg|{options}]]", _context({"Foobar.jpg": FOOBAR})).html
    assert f'width="{width}" height="{height}"' in html, html


def test_text_after_a_thumbnail_on_its_line_stays_text():
    html = render("Intro. [[File:Foobar.jpg|thumb|right|Cap]] More text.", _context({"Foobar.jpg": FOOBAR})).html
    # the text beside the figure is a paragraph, as Remex's p-wrapping makes it (media.txt's "123</p><figure")
    assert "<pre>" not in html and "</figure><p> More text.</p>" in html


def test_a_missing_file_is_a_red_link_to_upload_it():
    html = render("[[File:Nowhere.png|thumb|Lost]]", _context({})).html
    assert 'href="/upload?wpDestFile=Nowhere.png" class="new" title="File:Nowhere.png"' in html
    assert "<img" not in html and "<figcaption>Lost</figcaption>" in html


def test_a_gallery_shows_images():
    html = render("<gallery>\nFile:Foobar.jpg|One\nFile:Gone.jpg|Two\n</gallery>", _context({"Foobar.jpg": FOOBAR})).html
    assert '<li class="gallerybox" style="width:155px">' in html
    assert 'src="/thumb/w/120/Foobar.jpg" decoding="async" width="120" height="14"' in html
    assert "mw-broken-media" in html and html.count('<div class="gallerytext">') == 2


def test_only_this_nodes_urls_reach_an_img():
    meta = FileMeta(100, 100, "image/png", "https://tracker.example/x.png", "https://tracker.example/{width}.png")
    html = render("[[File:X.png|50px]]", _context({"X.png": meta})).html
    assert "tracker.example" not in html


def _parser_cases() -> list[tuple[str, str, str]]:
    """(name, wikitext, expected HTML) of media.txt cases that show only Foobar.jpg and use no options we lack."""
    text = PARSER_TESTS.read_text("utf-8")
    cases = []
    for block in text.split("\n!! test\n")[1:]:
        name = block.split("\n", 1)[0]
        parts = dict(re.findall(r"!! (wikitext|html/php|html|options)\n(.*?)(?=\n!! )", block, re.S))
        expected = parts.get("html/php") or parts.get("html")
        wikitext = parts.get("wikitext", "")
        if (not expected or "options" in parts or "Foobar.jpg" not in wikitext or re.search(r"[{<]", wikitext)
                or re.search(r"\[\[(?!(File|Image):Foobar\.jpg)", wikitext) or "\n" in wikitext.strip()
                or re.search(r"page=|lang=|class=|link=|border|baseline|sub|super|top|middle|bottom", wikitext)
                # Not about images: magic links and irc: links in captions are other passes' work;
                # a manual thumbnail (thumb=OTHER FILE) is a feature this node does not have.
                or re.search(r"ISBN|RFC|mailto:|irc:|thumb(nail)?=", wikitext)):
            continue
        cases.append((name, wikitext, expected))
    return cases


def _normalised(html: str) -> str:
    """MediaWiki's markup as the sanitizer writes it: URLs ours, no 1.5x entry, no self-closing slash, no wrapper."""
    html = html.replace("http://example.com/images/thumb/3/3a/Foobar.jpg/", "/thumb/w/")
    html = re.sub(r"/thumb/w/(\d+)px-Foobar\.jpg", r"/thumb/w/\1/Foobar.jpg", html)
    html = html.replace("http://example.com/images/3/3a/Foobar.jpg", "/file/w/Foobar.jpg")
    html = re.sub(r"/thumb/w/\d+/Foobar\.jpg 1\.5x, ", "", html)  # current MediaWiki dropped the 1.5x copy
    html = html.replace(" />", ">").replace('<div class="mw-parser-output">', "").replace("</div>", "")
    html = html.replace('rel="nofollow noopener"', 'rel="nofollow"')  # our external links add noopener
    html = html.replace("%7C", "|")  # external links' URLs keep "|" as written (the external-link pass's way)
    return re.sub(r"\s+", " ", html).replace(" </p>", "</p>").strip()


def test_mediawiki_parser_tests_for_images():
    cases = _parser_cases()
    assert len(cases) >= 15
    failures = []
    for name, wikitext, expected in cases:
        got = render(wikitext, _context({"Foobar.jpg": FOOBAR}, thumb_width=180, base="/wiki/")).html
        if _normalised(got) != _normalised(expected):
            failures.append(f"{name}\n  want {_normalised(expected)}\n  got  {_normalised(got)}")
    assert not failures, "\n".join(failures)


# -- thumbnails ---------------------------------------------------------------------------

def test_thumbnails_are_made_once_and_the_cache_keeps_its_bound(tmp_path):
    data = image("JPEG", (400, 300))
    sha = hashlib.sha256(data).hexdigest()
    cache = ThumbCache(tmp_path / "thumbs", max_bytes=1)
    calls = []

    def content():
        calls.append(1)
        return [data]

    first = cache.get(sha, "image/jpeg", 100, content)
    assert Image.open(first.path).size == (100, 75)  # kept to be served, bound or not
    cache.get(sha, "image/jpeg", 120, content)
    assert not first.path.exists()  # the bound of 1 byte let it go when the next one came
    cache.max_bytes = 10 << 20
    cache.get(sha, "image/jpeg", 120, content)
    assert len(calls) == 2  # the second width was made once, then read from disk
    sizes = {}
    for width in (50, 60, 70, 80):
        path = cache.get(sha, "image/jpeg", width, content).path
        sizes[width] = path.stat().st_size
        time.sleep(0.01)
    cache.get(sha, "image/jpeg", 50, content)  # used again: newest
    cache.max_bytes = sizes[50] + sizes[80] + 10
    cache.trim()
    left = sorted(p.name for p in (tmp_path / "thumbs").glob("*/*"))
    assert left == sorted([f"{sha}-50px.jpg", f"{sha}-80px.jpg"]), left


@pytest.mark.parametrize("fmt,mime,out_mode", [("PNG", "image/png", "RGBA"), ("GIF", "image/gif", "RGBA"),
                                               ("WEBP", "image/webp", "RGBA"), ("PNG", "image/png", "RGB")])
def test_png_gif_and_webp_thumbnails_are_made_and_keep_transparency(tmp_path, fmt, mime, out_mode):
    picture = Image.new(out_mode, (200, 100), (200, 30, 30, 0) if out_mode == "RGBA" else (200, 30, 30))
    out = io.BytesIO()
    picture.save(out, fmt)
    data = out.getvalue()
    thumb = ThumbCache(tmp_path / "thumbs").get(hashlib.sha256(data).hexdigest(), mime, 50, lambda: [data])
    with Image.open(thumb.path) as made:
        assert made.size == (50, 25)
        assert ("A" in made.getbands()) == (out_mode == "RGBA")


def test_a_decompression_bomb_fed_to_the_thumbnailer_is_refused(tmp_path):
    from wikipeer.media.thumbs import NoThumbnail

    data = bomb_png()  # 900 megapixels in a few kilobytes: never past the door, but the thumbnailer stands alone
    cache = ThumbCache(tmp_path / "thumbs")
    with pytest.raises(NoThumbnail, match="decompression bomb"):
        cache.get(hashlib.sha256(data).hexdigest(), "image/png", 100, lambda: [data])
    out = io.BytesIO()
    Image.new("1", (12_000, 9_000)).save(out, "PNG")  # 108 megapixels: just over the limit, under Pillow's error
    with pytest.raises(NoThumbnail, match="decompression bomb|too many"):
        cache.get(hashlib.sha256(out.getvalue()).hexdigest(), "image/png", 100, lambda: [out.getvalue()])
    assert not list((tmp_path / "thumbs").glob("*/*"))  # nothing made, nothing cached


# -- the served node ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    node_dir = tmp_path_factory.mktemp("media-node") / "node"
    assert run_cli(node_dir, "init").code == 0
    assert run_cli(node_dir, "edit", "w", "Gallery", "-m", "images", input=(
        "[[File:Photo.jpg|thumb|right|100px|A photo]] [[File:Drawing.svg|50px]] [[File:Nowhere.png]]\n"
        "<gallery>\nFile:Photo.jpg|In a gallery\n</gallery>")).code == 0
    files = node_dir.parent / "files"
    files.mkdir()
    (files / "photo.jpg").write_bytes(image("JPEG", (640, 480)))
    (files / "drawing.svg").write_bytes(SVG_OK)
    for name, title in (("photo.jpg", "File:Photo.jpg"), ("drawing.svg", "File:Drawing.svg")):
        assert run_cli(node_dir, "upload", str(files / name), "--title", title).code == 0
    proc, client = start_server(node_dir)
    try:
        yield node_dir, client, files
    finally:
        stop_server(proc, client)


def test_a_page_shows_images_that_load(served):
    node_dir, client, files = served
    page = client.get("/wiki/w/Gallery").text
    thumb_src = re.search(r'<img src="(/thumb/w/100/Photo\.jpg\?v=[0-9a-f]{16})"', page).group(1)
    srcset = re.search(r'srcset="([^"]+)"', page).group(1)
    assert "/thumb/w/150/Photo.jpg" in srcset and "/thumb/w/200/Photo.jpg" in srcset
    assert 'href="/upload?wiki=w&amp;wpDestFile=Nowhere.png" class="new"' in page
    thumb = client.get(thumb_src)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (100, 75)
    assert "immutable" in thumb.headers["cache-control"]
    again = client.get(thumb_src, headers={"If-None-Match": thumb.headers["etag"]})
    assert again.status_code == 304


def test_the_original_is_served_with_its_type_and_hash(served):
    node_dir, client, files = served
    data = (files / "photo.jpg").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    response = client.get("/file/w/Photo.jpg")
    assert response.content == data and response.headers["content-type"] == "image/jpeg"
    assert response.headers["etag"] == f'"{sha}"' and "immutable" not in response.headers["cache-control"]
    pinned = client.get(f"/file/w/Photo.jpg?v={sha[:16]}")
    assert "immutable" in pinned.headers["cache-control"]
    assert client.get("/file/w/Photo.jpg?v=0000000000000000").status_code == 404
    assert client.get("/file/w/Absent.jpg").status_code == 404


def test_svg_is_served_sandboxed_and_never_inlined(served):
    node_dir, client, files = served
    response = client.get("/file/w/Drawing.svg")
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers.get_list("content-security-policy") == ["default-src 'none'; style-src 'unsafe-inline'; sandbox"]
    assert response.headers["x-content-type-options"] == "nosniff"
    page = client.get("/wiki/w/Gallery").text
    assert "<svg" not in page and re.search(r'<img src="/file/w/Drawing\.svg\?v=[0-9a-f]{16}"', page)
    assert client.get("/thumb/w/40/Drawing.svg").status_code == 302  # the browser scales an SVG itself


def test_a_file_page_shows_versions_sizes_hashes_and_signatures(served):
    node_dir, client, files = served
    first, second = image("PNG", (30, 20), seed=11), image("PNG", (40, 30), seed=12)
    for number, data in enumerate((first, second)):
        (files / f"twice{number}.png").write_bytes(data)
        assert run_cli(node_dir, "upload", str(files / f"twice{number}.png"), "--title", "File:Twice.png",
                       "--comment", f"version {number + 1}").code == 0
    node = Node.open(node_dir)
    try:
        signer = node.user_key().name  # the key's name on this node (store/people.py)
    finally:
        node.close()
    page = client.get("/wiki/w/File:Twice.png").text
    table = re.search(r'<table class="filehistory">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r'<tr class="(current|old)">(.*?)</tr>', table, re.S)
    assert [kind for kind, _ in rows] == ["current", "old"]  # two versions, newest first
    for (_, row), data, size in zip(rows, (second, first), ("40 × 30", "30 × 20"), strict=True):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert cells[1] == size and cells[2] == f"{len(data)} bytes" and cells[3] == "image/png", cells
        assert cells[4] == f'<code class="sha256">{hashlib.sha256(data).hexdigest()}</code>', cells
        assert cells[5] == f'<code class="sha1">{hashlib.sha1(data).hexdigest()}</code>', cells
        assert cells[6] == signer and f'href="/file/w/Twice.png?v={hashlib.sha256(data).hexdigest()[:16]}"' in cells[0]
    preview = f'<img src="/file/w/Twice.png?v={hashlib.sha256(second).hexdigest()[:16]}" width="40" height="30"'
    assert preview in page  # the current version is the one shown
    assert client.get(re.search(r'<img src="([^"]+)" width="40"', page).group(1)).content == second
    old = client.get(f"/file/w/Twice.png?v={hashlib.sha256(first).hexdigest()[:16]}")
    assert old.content == first
    photo = client.get("/wiki/w/File:Photo.jpg").text  # wider than 800 pixels or not, a JPEG gets its dimensions
    assert "640 × 480" in photo and "image/jpeg" in photo


def test_a_file_page_without_a_description_shows_the_file(served):
    node_dir, client, files = served
    node = Node.open(node_dir)
    try:
        data = image("PNG", (20, 20), seed=9)
        report = ingest(node.store, signed_file(node, data, [raw_block(data)]), "test")  # as a peer could send it
        assert report.statuses[-2].state == ACCEPTED
    finally:
        node.close()
    page = client.get("/wiki/w/File:Hand.png")
    assert page.status_code == 200 and hashlib.sha256(data).hexdigest() in page.text
    assert "no description yet" in page.text
    assert client.get("/file/w/Hand.png").content == data


def test_a_page_shows_a_file_uploaded_after_it_was_rendered(served):
    node_dir, client, files = served
    assert "mw-broken-media" in client.get("/wiki/w/Gallery").text  # rendered (and cached) with Nowhere.png red
    node = Node.open(node_dir)
    try:
        upload(node, "w", "File:Nowhere.png", image("PNG", (30, 30), seed=5))
    finally:
        node.close()
    page = client.get("/wiki/w/Gallery").text
    assert "mw-broken-media" not in page and re.search(r'<img src="/file/w/Nowhere\.png\?v=', page)


def test_renderings_cached_before_files_existed_are_made_again(node, tmp_path):
    from wikipeer.authoring import edit
    from wikipeer.reading import WikiReader
    from wikipeer.web.rendering import RenderCache

    edit(node, "w", "Pictures", "[[File:Sky.png|thumb|Sky]]", "s")
    upload(node, "w", "File:Sky.png", image("PNG", (40, 30)))
    cache, reader = RenderCache(tmp_path / "cache.sqlite"), WikiReader(node, node.wiki("w"))
    rev = node.store.heads(node.store.page("w", 0, "Pictures").id)[0]
    old_meta = {"categories": [], "redirect": None, "errors": [], "deps": {}, "links": [], "existing": []}
    cache.conn.execute("INSERT INTO rendered VALUES (?, ?, ?)", (rev.cid, "<p>placeholder</p>", json.dumps(old_meta)))
    assert "<img" in cache.render(reader, "Pictures", rev).html


@pytest.fixture(scope="module")
def user(served) -> httpx.Client:
    node_dir, client, files = served
    user = httpx.Client(base_url=str(client.base_url), timeout=30)
    csrf = _CSRF.search(user.get("/register").text).group(1)
    assert user.post("/register", data={"name": "uploader", "password": PASSWORD, "csrf": csrf}).status_code == 303
    yield user
    user.close()


def _files_count(node_dir: Path) -> int:
    conn = store_connect(node_dir)
    try:
        return conn.execute("SELECT count(*) FROM files").fetchone()[0]
    finally:
        conn.close()


def _upload_form(user: httpx.Client) -> str:
    return _CSRF.search(user.get("/upload?wiki=w").text).group(1)


def test_web_upload(served, user):
    node_dir, client, files = served
    data = image("GIF", (30, 20))
    response = user.post("/upload", data={"csrf": _upload_form(user), "wiki": "w", "title": "File:Web.gif",
                                          "comment": "from the web"}, files={"file": ("anything.bin", data)})
    assert response.status_code == 303
    assert unquote(response.headers["location"]) == "/wiki/w/File:Web.gif?notice=uploaded"
    assert client.get("/file/w/Web.gif").content == data
    assert "from the web" in user.get("/wiki/w/File:Web.gif").text


@pytest.mark.parametrize("name,data,status,fragment", [
    ("File:Poly.png", polyglot_png(), 400, "polyglot"),
    ("File:Evil.svg", SVG_SCRIPT, 400, "script"),
    ("File:Bomb.png", bomb_png(), 400, "decompression bomb"),
    ("File:Page.png", b"<html><body>not an image</body></html>", 415, "types this node holds"),
])
def test_web_upload_refuses_bad_files(served, user, name, data, status, fragment):
    node_dir, client, files = served
    before = _files_count(node_dir)
    response = user.post("/upload", data={"csrf": _upload_form(user), "wiki": "w", "title": name},
                         files={"file": ("x", data)})
    assert response.status_code == status and fragment in response.text
    assert _files_count(node_dir) == before


def test_web_upload_needs_an_account_and_a_token(served, user):
    node_dir, client, files = served
    anonymous = httpx.Client(base_url=str(client.base_url), timeout=30)
    try:
        assert anonymous.get("/upload").status_code == 303  # to the login form
        assert anonymous.post("/upload", files={"file": ("a.png", image("PNG"))}).status_code == 403
    finally:
        anonymous.close()
    assert user.post("/upload", data={"csrf": "forged", "wiki": "w", "title": "File:X.png"},
                     files={"file": ("a.png", image("PNG"))}).status_code == 403


def _raw_post(client: httpx.Client, headers: dict[str, str], body: bytes, close_after: bool) -> bytes:
    """Send a request by hand (a declared length, a body cut off) and return what came back."""
    host, port = client.base_url.host, client.base_url.port
    with socket.create_connection((host, port), timeout=10) as sock:
        head = "POST /upload HTTP/1.1\r\nHost: x\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + body)
        if close_after:
            sock.shutdown(socket.SHUT_WR)
        try:
            return sock.recv(65536)
        except OSError:
            return b""


def test_an_upload_over_the_limit_is_refused_unread(served, user):
    node_dir, client, files = served
    cookies = "; ".join(f"{k}={v}" for k, v in user.cookies.items())
    answer = _raw_post(client, {"Cookie": cookies, "Content-Type": "multipart/form-data; boundary=b",
                                "Content-Length": str(2 << 30)}, b"", close_after=False)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert MAX_UPLOAD_FORM < 2 << 30


def test_a_cut_off_upload_changes_nothing(served, user):
    node_dir, client, files = served
    before = _files_count(node_dir)
    csrf = _upload_form(user)
    cookies = "; ".join(f"{k}={v}" for k, v in user.cookies.items())
    data = big_jpeg(1)
    body = (f'--b\r\ncontent-disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            '--b\r\ncontent-disposition: form-data; name="wiki"\r\n\r\nw\r\n'
            '--b\r\ncontent-disposition: form-data; name="title"\r\n\r\nFile:Cut.jpg\r\n'
            '--b\r\ncontent-disposition: form-data; name="file"; filename="cut.jpg"\r\n\r\n').encode() + data
    full = len(body) + len(b"\r\n--b--\r\n")
    _raw_post(client, {"Cookie": cookies, "Content-Type": "multipart/form-data; boundary=b",
                       "Content-Length": str(full)}, body[: len(body) // 2], close_after=True)
    time.sleep(0.5)
    assert _files_count(node_dir) == before
    assert client.get("/file/w/Cut.jpg").status_code == 404


# -- in a real browser ----------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 2])
def test_chromium_loads_the_images(served, browser, scale):
    node_dir, client, files = served
    base = str(client.base_url).rstrip("/")
    context = browser.new_context(base_url=base, viewport={"width": 1000, "height": 800}, device_scale_factor=scale)
    context.route(lambda url: not url.startswith(base + "/"), lambda route: route.abort())
    failed: list[str] = []
    try:
        page = context.new_page()
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("console", lambda msg: failed.append(msg.text) if msg.type == "error" else None)
        page.goto("/wiki/w/Gallery", wait_until="load")
        images = page.evaluate("""() => Array.from(document.images).map(
            i => ({src: i.currentSrc, complete: i.complete, natural: i.naturalWidth, shown: i.width}))""")
        photo = [i for i in images if "Photo.jpg" in i["src"] and i["shown"] == 100][0]
        # The browser picked the copy for its screen density (naturalWidth counts CSS pixels: 100 either way).
        assert f"/thumb/w/{100 * scale}/Photo.jpg" in photo["src"], images
        assert photo["complete"] and photo["natural"] == 100, images
        drawing = [i for i in images if "Drawing.svg" in i["src"]][0]
        assert drawing["complete"] and drawing["natural"] > 0 and drawing["shown"] == 50, images
        assert all(i["complete"] and i["natural"] > 0 for i in images), images
        assert not failed, failed
    finally:
        context.close()


def test_gallery_lines_take_link_class_and_caption_and_the_gallery_its_caption_and_perrow():
    html = render('<gallery perrow="2" class="big" caption="Some \'\'pictures\'\'">\n'
                  "File:Foobar.jpg|link=Main Page|class=pic|A '''bar'''\nFile:Foobar.jpg|link=\n</gallery>",
                  _context({"Foobar.jpg": FOOBAR})).html
    assert '<ul class="big gallery mw-gallery-traditional" style="max-width:326px">' in html
    assert '<li class="gallerycaption">Some <i>pictures</i></li>' in html
    assert '<span class="pic" typeof="mw:File"><a href="/wiki/w/Main_Page" title="A bar"><img alt="A bar"' in html
    assert '<span typeof="mw:File"><span><img src="/thumb/w/120/Foobar.jpg"' in html


def test_an_unlinked_image_keeps_its_caption_as_a_title_and_an_external_link_is_plain():
    html = render("[[File:Foobar.jpg|link=|Cap]] [[File:Foobar.jpg|link=https://example.org/|Ext]]",
                  _context({"Foobar.jpg": FOOBAR})).html
    assert '<span title="Cap"><img alt="Cap" src="/file/w/Foobar.jpg"' in html
    assert '<a href="https://example.org/" rel="nofollow" title="Ext"><img alt="Ext"' in html


def test_manual_thumbnails_case_sensitive_words_and_media_links_as_mediawiki():
    files = {"Foobar.jpg": FOOBAR, "Small.png": FileMeta(90, 60, "image/png", "/file/w/Small.png", "/thumb/w/{width}/Small.png")}
    html = render("[[File:Foobar.jpg|thumbnail=Small.png|Cap]]", _context(files)).html
    assert ('<figure typeof="mw:File/Thumb"><a href="/wiki/w/File:Foobar.jpg" title="File:Foobar.jpg">'
            '<img resource="/wiki/w/File:Foobar.jpg" src="/file/w/Small.png" decoding="async" width="90" height="60"') in html
    # image option words are case-sensitive: "Left" is a caption
    html = render("[[File:Foobar.jpg|thumb|Left]]", _context(files)).html
    assert "mw-halign-left" not in html and "<figcaption>Left</figcaption>" in html
    html = render("[[:Media:Foobar.jpg]] [[File:Foobar.jpg|upright|thumb]] [[File:Foobar.jpg|200x20px]]", _context(files)).html
    assert '<a href="/file/w/Foobar.jpg" class="internal" title="Foobar.jpg">Media:Foobar.jpg</a>' in html
    assert 'style="--mw-file-upright:0.75" class="mw-file-element mw-file-upright"' in html
    assert 'srcset="/thumb/w/265/Foobar.jpg 1.5x, /thumb/w/353/Foobar.jpg 2x"' in html  # bounded by 30 and 40 px high


def test_link_option_values_are_read_as_mediawiki_reads_them():
    files = {"Foobar.jpg": FOOBAR}
    html = render("[[File:Foobar.jpg|link=Foo_&_bar]] [[File:Foobar.jpg|link=[[Main Page]]|Cap]] "
                  "[[File:Foobar.jpg|link=https://example.com?foo&params=bar]] [[File:Foobar.jpg|link=Test%2522]]",
                  _context(files)).html
    assert '<a href="/wiki/w/Foo_&amp;_bar" title="Foo &amp; bar">' in html
    assert '<a href="/wiki/w/Main_Page" title="Cap">' in html
    assert '<a href="https://example.com?foo&amp;params=bar" rel="nofollow">' in html
    assert 'title="link=Test%2522"' in html  # a title still percent-encoded after one decoding is no title


def test_a_gallery_line_reads_only_named_options_and_decodes_its_file_name():
    html = render("<gallery>\nfile &amp; bar.jpg|300px|centre\nFile:Foo%62ar.jpg|thumb\n</gallery>",
                  _context({"Foobar.jpg": FOOBAR})).html
    assert 'title="File:File &amp; bar.jpg"' in html and '<div class="gallerytext">centre</div>' in html
    assert '<img alt="thumb" src="/thumb/w/120/Foobar.jpg"' in html


def test_a_file_on_the_bad_image_list_is_a_link_to_its_page_never_the_image():
    bad = FileMeta(320, 240, "image/jpeg", "/file/w/Bad.jpg", "/thumb/w/{width}/Bad.jpg", bad=True)
    html = render("[[File:Bad.jpg]] [[File:Foobar.jpg|thumbnail=Bad.jpg]]\n<gallery>\nFile:Bad.jpg\n</gallery>",
                  _context({"Bad.jpg": bad, "Foobar.jpg": FOOBAR})).html
    assert "Bad.jpg" not in "".join(re.findall(r"<img[^>]*>", html))
    assert ('<span class="mw-default-size" typeof="mw:Error mw:File"><a href="/wiki/w/File:Bad.jpg" title="File:Bad.jpg">'
            '<span class="mw-file-element mw-broken-media" data-width="320">File:Bad.jpg</span></a></span>') in html
    assert html.count("mw-broken-media") == 3


def test_a_packed_gallery_shows_rows_of_one_height_from_copies_half_again_as_large():
    tall = FileMeta(400, 600, "image/jpeg", "/file/w/Tall.jpg", "/thumb/w/{width}/Tall.jpg")
    html = render('<gallery mode="packed-hover" heights="70">\nFile:Foobar.jpg|Cap\nFile:Tall.jpg\n</gallery>',
                  _context({"Foobar.jpg": FOOBAR, "Tall.jpg": tall})).html
    assert '<ul class="gallery mw-gallery-packed-hover">' in html
    assert 'src="/thumb/w/927/Foobar.jpg" decoding="async" width="618" height="70"' in html
    assert 'src="/thumb/w/70/Tall.jpg" decoding="async" width="47" height="70"' in html
    assert '<div class="thumb" style="width:60px">' in html  # at least 60 px for the caption
    assert '<div class="gallerytextwrapper" style="width:598px"><div class="gallerytext">Cap</div>' in html


def test_a_gallery_with_showfilename_names_each_file_above_its_caption():
    html = render('<gallery showfilename="">\nFile:Foobar.jpg|A \'\'\'bar\'\'\'\nFile:Gone.jpg\n</gallery>',
                  _context({"Foobar.jpg": FOOBAR})).html
    assert ('<div class="gallerytext"><a href="/wiki/w/File:Foobar.jpg" class="galleryfilename galleryfilename-truncate" '
            'title="File:Foobar.jpg">Foobar.jpg</a>\nA <b>bar</b></div>') in html
    assert 'title="A bar"><img alt="A bar"' in html and ">Gone.jpg</a>\n</div>" in html


def test_a_media_link_is_an_ordinary_link_that_holds_no_link():
    html = render("[[Media:Foobar.jpg|[[Test]]]] [[Media:Foobar.jpg|a ''bar'']]s", _context({"Foobar.jpg": FOOBAR})).html
    assert html.startswith('<div class="mw-parser-output"><p>[[Media:Foobar.jpg|<a href="/wiki/w/Test"')
    assert '<a href="/file/w/Foobar.jpg" class="internal" title="Foobar.jpg">a <i>bar</i></a>s' in html


def test_a_gallery_reads_one_namespace_prefix_and_shows_other_namespaces_as_missing_files():
    html = render("<gallery>\nFile:File:Foobar.jpg\n:Main Page\nMedia:Foobar.jpg\n</gallery>",
                  _context({"Foobar.jpg": FOOBAR})).html
    assert 'title="File:File:Foobar.jpg"><span class="mw-file-element mw-broken-media"' in html
    assert 'title="Main Page"><span class="mw-file-element mw-broken-media"' in html
    assert html.count("<img") == 1


def test_a_missing_files_name_shows_its_quote_marks_as_italics_as_mediawiki_does():
    html = render("[[File:Foo's ''italic'' bar.jpg]] [[File:Foo's ''x''.jpg|A ''cap'']]", _context({})).html
    assert "<span class=\"mw-file-element mw-broken-media\">File:Foo's <i>italic</i> bar.jpg</span>" in html
    assert '<span class="mw-file-element mw-broken-media">A cap</span>' in html

def test_chunks_are_cut_small_and_a_peers_4_mib_chunk_is_still_taken(node):
    """A large upload is cut into chunks of about 512 KiB (at most CHUNK_CUT_MAX), so a re-upload with a small
    change stores little again; a chunk of up to CHUNK_MAX, as the earlier sizes cut, is still accepted."""
    data = big_jpeg(6, seed=3)
    changed = bytearray(data)
    changed[len(data) // 2] ^= 0xFF
    upload(node, "w", "File:Cut.jpg", data, ts=1000)
    first = node.store.current_file(node.store.page("w", 6, "Cut.jpg").id)
    sizes = [len(node.store.raw_bytes(c)) for c in first.chunks]
    assert len(sizes) >= 8 and max(sizes) <= CHUNK_CUT_MAX, sizes  # 1 MiB average would give about 6
    upload(node, "w", "File:Cut.jpg", bytes(changed), ts=2000)
    second = node.store.current_file(node.store.page("w", 6, "Cut.jpg").id)
    again = [c for c in second.chunks if c not in set(first.chunks)]
    assert 1 <= len(again) <= 2 and sum(len(node.store.raw_bytes(c)) for c in again) <= 2 * CHUNK_CUT_MAX

    peer = big_jpeg(5, seed=4)
    blocks = signed_file(node, peer, [raw_block(peer[:CHUNK_MAX]), raw_block(peer[CHUNK_MAX:])])
    report = node.ingest(blocks, "peer")
    assert [s.state for s in report.statuses] == ["accepted"] * len(blocks), [str(s) for s in report.statuses]
