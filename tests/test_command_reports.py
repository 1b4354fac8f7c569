"""Commands that say what they did (issue 16, item 4): edit's one line, a key made on first use, an empty text
refused, a push the other side refuses (its reasons, exit 1), the report words in --help, progress on a terminal
and none when piped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import (Result, dump_tables, on_a_terminal, plain_screen, run_cli, start_server, stop_server,
                      store_connect)
from wikipeer.net.sync import NO_REASON, SyncResult, _record_push
from wikipeer.node import Node
from wikipeer.notices import publish_blocklist

CID = re.compile(r"bafy[a-z2-7]+")


def ok(result: Result) -> Result:
    assert result.code == 0 and "Traceback" not in result.err, str(result)
    return result


def one_error_line(result: Result, *fragments: str) -> None:
    assert result.code == 2 and "Traceback" not in result.err, str(result)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wikipeer: "), str(result)
    assert all(f in lines[0] for f in fragments), str(result)


# -- edit ----------------------------------------------------------------------------------


def test_edit_prints_one_line_naming_the_page_the_revision_and_the_key(node_dir):
    ok(run_cli(node_dir, "key", "new", "alice", "--default"))
    result = ok(run_cli(node_dir, "edit", "w", "my_page", "-m", "first", input="Some text.\n"))
    lines = result.out.splitlines()
    assert len(lines) == 1 and result.err == "", str(result)
    # Quoted as every message quotes names; the CID's end, as the web shows it (its start is alike for all).
    m = re.fullmatch(r"saved 'My page' in the new wiki 'w': revision …([a-z2-7]{10}), signed by key 'alice'", lines[0])
    assert m, lines[0]
    full = CID.search(ok(run_cli(node_dir, "history", "w", "My page")).out).group()
    assert full.endswith(m.group(1))
    served = ok(run_cli(node_dir, "edit", "w", "Nobody's page", "-m", "x", input="Text.\n")).out
    assert served.startswith('saved "Nobody\'s page" in wiki \'w\': revision …'), served
    # For scripts: --quiet prints the whole CID and nothing else.
    quiet = ok(run_cli(node_dir, "edit", "w", "My page", "-m", "second", "--quiet", input="More text.\n"))
    assert CID.fullmatch(quiet.out.strip()) and quiet.err == ""
    assert quiet.out.strip() == CID.search(ok(run_cli(node_dir, "history", "w", "My page")).out).group()


def test_the_key_made_on_first_use_is_announced_with_its_name_and_place(node_dir):
    assert not (node_dir / "keys" / "me.key").exists()
    first = ok(run_cli(node_dir, "edit", "w", "Page", "-m", "first", input="text\n"))
    key_file = (node_dir / "keys" / "me.key").resolve()
    assert key_file.exists()
    public = re.search(r"^me\s+(ed25519:\S+)", ok(run_cli(node_dir, "key", "list")).out, re.M).group(1)
    assert f"created key 'me' ({public}), kept in {key_file}" in first.err, str(first)
    assert "signed by key 'me'" in first.out
    again = ok(run_cli(node_dir, "edit", "w", "Page", "-m", "second", input="text 2\n"))
    assert again.err == "" and "created" not in again.out, str(again)
    # An explicit key says the same.
    made = ok(run_cli(node_dir, "key", "new", "bob"))
    assert made.out.startswith("created key 'bob' (ed25519:"), str(made)
    assert str((node_dir / "keys" / "bob.key").resolve()) in made.out, str(made)


@pytest.mark.parametrize("command", [("trust", "create", "friends"), ("blocklist", "add", "spam", r"casino\s+bonus"),
                                     ("key", "profile", "Alice")])
def test_every_command_that_signs_announces_the_key_it_made(node_dir, command):
    first = ok(run_cli(node_dir, *command))
    assert "created key 'me' (ed25519:" in first.err and "kept in" in first.err, str(first)
    assert (node_dir / "keys" / "me.key").exists()
    again = ok(run_cli(node_dir, "trust", "create", "others"))
    assert "created key" not in again.err + again.out, str(again)


def test_an_edit_that_is_a_mistake_makes_no_key(sample_node):
    one_error_line(run_cli(sample_node, "edit", "wikipeer", "Main Page", "-m", "s", "--parent",
                           "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua", input="x\n"), "--parent")
    assert not (sample_node / "keys" / "me.key").exists()


@pytest.mark.parametrize("source", ["stdin", "file", "blank"])
def test_an_empty_text_is_refused_and_nothing_is_written(node_dir, tmp_path, source):
    empty = tmp_path / "empty.wiki"
    empty.write_text("" if source == "file" else " \n\n")
    args = ["--file", str(empty)] if source != "stdin" else []
    before = dump_tables(_conn(node_dir))
    result = run_cli(node_dir, "edit", "w", "Blank", "-m", "oops", *args, input="")
    one_error_line(result, "empty", "--allow-empty", "nothing was saved")
    assert (str(empty) in result.err) == (source != "stdin")
    assert dump_tables(_conn(node_dir)) == before
    assert not (node_dir / "keys" / "me.key").exists()
    assert run_cli(node_dir, "show", "w", "Blank").code == 2


def test_an_empty_text_is_saved_with_allow_empty(node_dir):
    ok(run_cli(node_dir, "edit", "w", "Blank", "-m", "blank on purpose", "--allow-empty", input=""))
    shown = ok(run_cli(node_dir, "show", "w", "Blank"))
    assert shown.out == ""
    assert "blank on purpose" in ok(run_cli(node_dir, "history", "w", "Blank")).out


def _conn(node_dir: Path):
    return store_connect(node_dir)


# -- a push the other side refuses -----------------------------------------------------------------


@pytest.fixture
def strict_peer(tmp_path):
    """A served node that enforces a blocklist of its own (it refuses what matches)."""
    directory = tmp_path / "strict"
    ok(run_cli(directory, "init"))
    node = Node.open(directory)
    try:
        publish_blocklist(node, "spam", (r"casino\s+bonus",))
    finally:
        node.close()
    proc, client = start_server(directory)
    try:
        yield str(client.base_url).rstrip("/")
    finally:
        stop_server(proc, client)


def test_a_push_with_refusals_exits_1_and_gives_the_peers_reason(node_dir, strict_peer):
    ok(run_cli(node_dir, "peer", "add", strict_peer))
    ok(run_cli(node_dir, "edit", "w", "Fine", "-m", "ok", input="A fine page.\n"))
    ok(run_cli(node_dir, "edit", "w", "Spam", "-m", "spam", input="win a casino  bonus now\n"))
    spam = CID.search(ok(run_cli(node_dir, "history", "w", "Spam")).out).group()
    result = run_cli(node_dir, "sync", "--push")
    assert result.code == 1 and "Traceback" not in result.err, str(result)
    line = next(l for l in result.out.splitlines() if " sent " in l)
    assert "sent 8 (4 new there, 0 already there, 0 held there, 4 refused there)" in line, line
    reasons = [l for l in result.out.splitlines() if ": refused there: " in l]
    assert reasons[0].startswith(f"{strict_peer}: refused there: {spam}: rejected (blocked: the text it adds "
                                 "matches pattern "), reasons
    assert "casino" in reasons[0] and "of blocklist 'spam'" in reasons[0], reasons
    # The page, text and signature that came with the refused revision are counted, not listed one by one.
    assert reasons[1:] == [f"{strict_peer}: refused there: ... and 3 more (most came with what was refused)"]
    # Nothing new: nothing refused, a success.
    again = ok(run_cli(node_dir, "sync", "--push"))
    assert "sent 0 (" in again.out and "refused there:" not in again.out


def test_a_peer_that_gives_no_reasons_is_reported_as_such():
    """A peer from before reasons were sent answers an upload with counts only."""
    result = SyncResult("http://old.example")

    class Book:
        def count(self, url, **counts):
            pass

        def add_range(self, *args, **kwargs):
            pass

    _record_push(Book(), result.url, {"accepted": 1, "duplicates": 2, "rejected": 3}, result)
    assert (result.pushed, result.push_duplicates, result.push_refused) == (1, 2, 3)
    assert result.push_reasons == [NO_REASON]
    _record_push(Book(), result.url, {"accepted": 1, "rejected": 0, "reasons": []}, result)
    assert result.push_reasons == [NO_REASON]
    _record_push(Book(), result.url, {"rejected": 1, "reasons": ["x: rejected (too big)", 7]}, result)
    assert result.push_reasons == [NO_REASON, "x: rejected (too big)"]


# -- the words, in --help -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["sync"], ["bundle", "import"], ["stick", "serve"], ["stick", "home"]])
def test_report_words_are_defined_in_help(command):
    text = ok(run_cli(None, *command, "--help")).out
    for word in ("new", "already here", "held", "refused"):
        assert re.search(rf"^  {word}\s{{2,}}\S", text, re.M), (word, text)
    assert "exit status: 0 done; 1 " in text.replace("\n", " ")
    if command == ["sync"]:
        assert re.search(r"^  sent\s{2,}objects this node uploaded", text, re.M) and "no reason given" in text
    if command[0] == "stick":
        assert re.search(r"^  taken in\s{2,}", text, re.M)
        # Home says what the other side refused of the edits it carried, and exits 1 for it.
        assert re.search(r"^  refused there \(home\) objects of the edits carried last time", text, re.M), text
        assert "'stick home': some of what came back" in text, text


# -- progress on a terminal -------------------------------------------------------------------------


def test_bundle_create_shows_progress_on_a_terminal_only(sample_node, tmp_path):
    code, out, shown = on_a_terminal(sample_node, "bundle", "create", "-o", str(tmp_path / "a.car"))
    assert code == 0 and out.startswith(f"wrote {tmp_path / 'a.car'}"), (code, out, shown)
    assert b"writing the bundle" in shown, shown
    code, out, shown = on_a_terminal(sample_node, "bundle", "create", "-o", str(tmp_path / "b.car"), "--quiet")
    assert code == 0 and shown == b"", shown
    piped = ok(run_cli(sample_node, "bundle", "create", "-o", str(tmp_path / "c.car")))
    assert piped.err == "" and piped.out.startswith("wrote "), str(piped)


def test_bundle_import_shows_progress_on_a_terminal(sample_node, node_dir, tmp_path):
    ok(run_cli(sample_node, "bundle", "create", "-o", str(tmp_path / "a.car")))
    code, out, shown = on_a_terminal(node_dir, "bundle", "import", str(tmp_path / "a.car"), "--index-later")
    assert code == 0 and "0 refused" in out, (code, out, shown)
    assert b"checking the bundle" in shown and b"taking its blocks" in shown, shown
    code, out, shown = on_a_terminal(node_dir, "bundle", "unpack", str(tmp_path / "a.car"), "-o",
                                     str(tmp_path / "plain.car"))
    assert code == 0 and b"unpacking the bundle" in shown and "a plain CAR v1 of" in out, (code, out, shown)


def test_a_bundle_names_its_maker_as_the_reader_knows_it(sample_node, node_dir, tmp_path):
    made = ok(run_cli(sample_node, "bundle", "create", "-o", str(tmp_path / "a.car")))
    assert ", made by node at " in made.out, str(made)  # this node's own key, by its name
    node_key = re.search(r"^node\s+(ed25519:\S+)", ok(run_cli(sample_node, "key", "list")).out, re.M).group(1)
    taken = ok(run_cli(node_dir, "bundle", "import", str(tmp_path / "a.car"), "--index-later"))
    # Another node knows no name for it: the fingerprint, the whole key on asking (`key list`, --keys).
    fingerprint = node_key.removeprefix("ed25519:")[:10]
    assert f", made by {fingerprint}… at " in taken.out, str(taken)


def test_export_shows_progress_on_a_terminal_only(sample_node, tmp_path):
    wiki = re.search(r"^(\S+)\s", ok(run_cli(sample_node, "stats")).out.splitlines()[1]).group(1)
    code, out, shown = on_a_terminal(sample_node, "export", wiki, "-o", str(tmp_path / "a.xml"))
    assert code == 0 and f"exporting {wiki}".encode() in shown, (code, out, shown)
    assert re.search(rb"(\d+)/\1 ", plain_screen(shown)) and b"exported " in shown, shown
    code, out, shown = on_a_terminal(sample_node, "export", wiki, "-o", str(tmp_path / "b.xml"), "--quiet")
    assert code == 0 and shown.strip().startswith(b"exported ") and b"exporting" not in shown, shown
    piped = ok(run_cli(sample_node, "export", wiki, "-o", str(tmp_path / "c.xml")))
    assert piped.err.splitlines() == [f"exported {piped.err.split()[1]} pages of {wiki} to {tmp_path / 'c.xml'}"], piped
    assert (tmp_path / "a.xml").read_bytes() == (tmp_path / "c.xml").read_bytes()


def test_export_tells_its_progress_as_it_writes_each_page(sample_node):
    """The bar follows the pages written (it once followed a list() made before the first was written)."""
    import io

    from wikipeer.formats.dump_export import ExportOptions, export_dump

    node = Node.open(sample_node)
    try:
        wiki = node.store.stats()[0].wiki
        stream, told = io.BytesIO(), []
        count = export_dump(node.store, node.wiki_or_default(wiki), node.store.pages(wiki), node.view(),
                            ExportOptions(), stream, progress=lambda done, of: told.append((done, of, stream.tell())))
    finally:
        node.close()
    assert count > 1 and [(done, of) for done, of, _ in told] == [(n, count) for n in range(1, count + 1)]
    written = [at for _, _, at in told]
    assert written == sorted(set(written)) and written[-1] < len(stream.getvalue()), written
    assert stream.getvalue()[:written[0]].count(b"</page>") == 1


def test_fsck_and_backup_show_their_bars_on_a_terminal(sample_node, tmp_path):
    """Commands that drew their own rich bars before draw the shared one, on stderr, with the same counts."""
    code, out, shown = on_a_terminal(sample_node, "fsck")
    assert code == 0 and out.startswith("checked "), (code, out, shown)
    assert re.search(rb"checking .*\d+/\d+ objects", plain_screen(shown)), shown
    assert on_a_terminal(sample_node, "fsck", "--quiet")[2] == b""
    ok(run_cli(sample_node, "backup", "init", str(tmp_path / "target"), "--public"))
    code, out, shown = on_a_terminal(sample_node, "backup", "run", str(tmp_path / "target"))
    assert code == 0 and " blocks in " in out, (code, out, shown)
    assert re.search(rb"backing up .*(\d+)/\1 blocks", plain_screen(shown)), shown


def test_fork_shows_progress_on_a_terminal(sample_node):
    wiki = re.search(r"^(\S+)\s", ok(run_cli(sample_node, "stats")).out.splitlines()[1]).group(1)
    code, out, shown = on_a_terminal(sample_node, "fork", wiki, "copy")
    assert code == 0 and out.startswith(f"wiki 'copy' forked from {wiki!r}: "), (code, out, shown)
    assert f"forking {wiki} as copy".encode() in shown and re.search(rb"(\d+)/\1 pages", plain_screen(shown)), shown
    piped = ok(run_cli(sample_node, "fork", wiki, "copy2"))
    assert piped.err == "", str(piped)


def test_fetch_and_sync_show_progress_on_a_terminal(sample_node, node_dir):
    held = Node.open(sample_node)
    try:
        pages = held.store.pages(held.store.stats()[0].wiki)[:2]
    finally:
        held.close()
    proc, client = start_server(sample_node)
    try:
        url = str(client.base_url).rstrip("/")
        ok(run_cli(node_dir, "peer", "add", url))
        code, out, shown = on_a_terminal(node_dir, "fetch", pages[0].wiki, *(p.title for p in pages))
        assert code == 0 and out.startswith("2 pages and "), (code, out, shown)
        assert b"fetching" in shown and b"2/2 pages" in plain_screen(shown), shown
        code, out, shown = on_a_terminal(node_dir, "sync", "--pull", "--index-later")
        assert code == 0 and f"{url}: " in out and " new, " in out, (code, out, shown)
        assert f"syncing with {url}".encode() in shown, shown
    finally:
        stop_server(proc, client)


def test_a_mediawiki_sync_shows_a_progress_line_on_a_terminal(node_dir):
    from conftest import free_port

    api = f"http://127.0.0.1:{free_port()}/api.php"  # nobody answers there: the line shows, then the failure
    ok(run_cli(node_dir, "peer", "add", "--mediawiki", api, "--wiki", "mirror"))
    code, out, shown = on_a_terminal(node_dir, "sync")
    assert code == 1 and out.startswith(f"{api}: "), (code, out, shown)
    assert f"syncing with {api}".encode() in shown, shown
    piped = run_cli(node_dir, "sync")
    assert piped.code == 1 and piped.err == "", str(piped)


def test_an_edit_to_a_wiki_named_like_one_held_is_refused_as_a_typo(sample_node):
    typo = run_cli(sample_node, "edit", "wikipeeer", "Main Page", "-m", "x", input="text\n")
    one_error_line(typo, "did you mean 'wikipeer'?")
    assert "--new-wiki" in typo.err and "nothing was saved" in typo.err
    assert "wikipeeer" not in ok(run_cli(sample_node, "stats")).out
    meant = ok(run_cli(sample_node, "edit", "wikipeeer", "Main Page", "-m", "x", "--new-wiki", input="text\n"))
    assert "saved 'Main Page' in the new wiki 'wikipeeer'" in meant.out, str(meant)
    again = ok(run_cli(sample_node, "edit", "wikipeeer", "Main Page", "-m", "y", input="more\n"))
    assert "in wiki 'wikipeeer'" in again.out, str(again)
    # A name like none held is simply a new wiki, and so is a sibling's (enwiki beside dewiki).
    for wiki in ("recipes", "dewiki", "enwiki"):
        fresh = ok(run_cli(sample_node, "edit", wiki, "Soup", "-m", "x", input="Water.\n"))
        assert f"in the new wiki {wiki!r}" in fresh.out, str(fresh)
