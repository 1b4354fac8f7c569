"""End to end: the `wikipeer` command in temporary node directories."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from conftest import assert_user_error, holds_store, run_cli, store_connect
from wikipeer.cli.main import main
from wikipeer.model.cid import cid_to_str
from wikipeer.node import Node

CID = re.compile(r"\bbafy[a-z2-7]{50,}\b")


def ok(result):
    assert result.code == 0, str(result)
    assert "Traceback" not in result.err, str(result)
    return result


def edit(node: Path, wiki: str, title: str, text: str | bytes, summary: str = "edit", *extra: str) -> str:
    result = ok(run_cli(node, "edit", wiki, title, "--summary", summary, "--quiet", *extra, input=text))
    return CID.search(result.out).group()


# -- init and keys --------------------------------------------------------------------


def test_init_creates_a_node_with_a_private_node_key(tmp_path):
    node = tmp_path / "fresh"
    result = ok(run_cli(node, "init"))
    assert re.search(r"node key ed25519:[A-Za-z0-9_-]{43}", result.out)
    assert holds_store(node)
    key_file = node / "keys" / "node.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text())["public"] in result.out
    listing = ok(run_cli(node, "key", "list")).out
    assert listing.split()[0] == "node"
    # A second init keeps the node as it is.
    again = ok(run_cli(node, "init"))
    assert json.loads(key_file.read_text())["public"] in again.out


def test_init_sample_loads_the_sample_wiki_once(sample_node):
    stats = ok(run_cli(sample_node, "stats")).out
    row = next(line for line in stats.splitlines() if line.startswith("wikipeer "))
    pages, revisions = map(int, row.split()[1:3])
    assert pages >= 12 and revisions >= 2 * pages
    again = ok(run_cli(sample_node, "init", "--sample"))
    assert "already here" in again.out
    assert ok(run_cli(sample_node, "stats")).out.splitlines()[1] == stats.splitlines()[1]
    assert "Welcome" in ok(run_cli(sample_node, "show", "wikipeer", "Main Page")).out


def test_node_dir_from_environment(tmp_path):
    node = tmp_path / "by-env"
    env = {"WIKIPEER_NODE": str(node)}
    ok(run_cli(None, "init", env=env))
    assert holds_store(node)
    ok(run_cli(None, "edit", "w", "Env page", "--summary", "s", input="via env\n", env=env))
    assert ok(run_cli(node, "show", "w", "Env page")).out == "via env\n"


@pytest.mark.parametrize("command", [[], ["init"], ["key"], ["key", "new"], ["key", "list"], ["key", "export"],
                                     ["key", "import"], ["edit"], ["show"], ["history"], ["heads"], ["diff"],
                                     ["search"], ["fsck"], ["stats"], ["serve"]])
def test_every_command_has_help(command, capsys):
    # In-process: the parser is the one the console script runs (checked once below).
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: wikipeer" + "".join(f" {c}" for c in command))


def test_help_through_the_console_entry_point():
    result = ok(run_cli(None, "--help"))
    assert "usage: wikipeer" in result.out and "fsck" in result.out


def test_keys_new_list_export_import(node_dir, tmp_path):
    created = ok(run_cli(node_dir, "key", "new", "alice")).out
    assert created.startswith("created key 'alice' (ed25519:") and str((node_dir / "keys" / "alice.key").resolve()) in created
    alice_pub = re.search(r"ed25519:\S+(?=\))", created).group()
    assert stat.S_IMODE((node_dir / "keys" / "alice.key").stat().st_mode) == 0o600
    listing = ok(run_cli(node_dir, "key", "list")).out
    assert re.search(rf"^alice\s+{re.escape(alice_pub)}\s*$", listing, re.M)
    assert ok(run_cli(node_dir, "key", "export", "alice")).out.strip() == alice_pub
    seed = ok(run_cli(node_dir, "key", "export", "alice", "--private")).out.strip()
    assert seed.startswith("ed25519-seed:") and alice_pub[8:] not in seed

    other = tmp_path / "other"
    ok(run_cli(other, "init"))
    seed_file = tmp_path / "alice.seed"
    seed_file.write_text(seed + "\n")
    imported = ok(run_cli(other, "key", "import", "alice", str(seed_file))).out.split()
    assert imported == ["alice", alice_pub]
    assert stat.S_IMODE((other / "keys" / "alice.key").stat().st_mode) == 0o600
    assert ok(run_cli(other, "key", "export", "alice", "--private")).out.strip() == seed
    # A public key from stdin: kept, listed as public only, and it cannot sign.
    ok(run_cli(other, "key", "import", "alice-pub", input=alice_pub + "\n"))
    listing = ok(run_cli(other, "key", "list")).out
    assert re.search(rf"^alice-pub\s+{re.escape(alice_pub)}\s+\(public only\)", listing, re.M)
    assert_user_error(run_cli(other, "key", "export", "alice-pub", "--private"), "public key")
    # Mistakes are user errors.
    assert_user_error(run_cli(other, "key", "new", "alice"), "exists")
    assert_user_error(run_cli(other, "key", "new", "bad/name"), "bad key name")
    assert_user_error(run_cli(other, "key", "import", "junk", input="not a key\n"), "not a public key")
    assert_user_error(run_cli(other, "key", "import", "junk2", input="ed25519-seed:AAAA\n"), "private key")
    assert_user_error(run_cli(other, "key", "export", "nobody"), "no key named")


def test_passphrase_protected_key(node_dir):
    env = {"WIKIPEER_PASSPHRASE": "correct horse"}
    created = re.search(r"\((ed25519:\S+)\)", ok(run_cli(node_dir, "key", "new", "sealed", "--passphrase-protect",
                                                           env=env)).out).groups()
    key_file = (node_dir / "keys" / "sealed.key").read_text()
    assert "seed" not in json.loads(key_file)
    assert "(sealed)" in ok(run_cli(node_dir, "key", "list")).out
    assert_user_error(run_cli(node_dir, "key", "export", "sealed", "--private"), "passphrase")
    assert_user_error(run_cli(node_dir, "key", "export", "sealed", "--private",
                              env={"WIKIPEER_PASSPHRASE": "wrong"}), "wrong passphrase")
    seed = ok(run_cli(node_dir, "key", "export", "sealed", "--private", env=env)).out.strip()
    assert seed.startswith("ed25519-seed:")
    assert_user_error(run_cli(node_dir, "key", "new", "x", "--passphrase-protect"), "WIKIPEER_PASSPHRASE")
    assert created[0] == ok(run_cli(node_dir, "key", "export", "sealed")).out.strip()


# -- editing and reading ---------------------------------------------------------------


def test_edit_from_file_and_stdin_then_show_and_history(node_dir, tmp_path):
    text1 = "First line\nКиїв і 東京\n"
    source = tmp_path / "page.wiki"
    source.write_text(text1, encoding="utf-8")
    result = ok(run_cli(node_dir, "edit", "w", "my_page", "--file", str(source), "--summary", "create it", "-q"))
    rev1 = CID.search(result.out).group()
    # The user key is made on first use and is the default.
    assert re.search(r"^me\s+ed25519:\S+\s+\(default\)", ok(run_cli(node_dir, "key", "list")).out, re.M)
    assert ok(run_cli(node_dir, "show", "w", "My page")).raw_out == text1.encode()
    assert ok(run_cli(node_dir, "show", "w", "my_page")).out == text1

    text2 = "First line\nsecond version, no newline at the end"
    rev2 = edit(node_dir, "w", "My page", text2, "second")
    assert ok(run_cli(node_dir, "show", "w", "My page")).out == text2
    assert ok(run_cli(node_dir, "show", "w", "My page", "--rev", rev1)).out == text1

    history = ok(run_cli(node_dir, "history", "w", "My_page")).out.splitlines()
    assert [CID.search(line).group() for line in history] == [rev2, rev1]
    assert history[0].rstrip().endswith("second") and history[1].rstrip().endswith("create it")
    assert all(line.startswith("✓") for line in history)  # signed by this node's own key

    assert_user_error(run_cli(node_dir, "edit", "w", "My page", "--summary", "again", input=text2), "no change")


def test_fork_with_parent_then_heads_and_diff(node_dir):
    base = edit(node_dir, "w", "Forked", "alpha\nbeta\ngamma\n", "base")
    left = edit(node_dir, "w", "Forked", "alpha\nBETA\ngamma\n", "left")
    right_run = ok(run_cli(node_dir, "edit", "w", "Forked", "--summary", "right", "--parent", base, "-q",
                           input="alpha\nbeta\ngamma\ndelta\n"))
    right = CID.search(right_run.out).group()
    assert "2 heads" in right_run.err
    heads = ok(run_cli(node_dir, "heads", "w", "Forked")).out.splitlines()
    assert [CID.search(line).group() for line in heads] == [right, left]  # newest first, both trusted
    assert ok(run_cli(node_dir, "show", "w", "Forked")).out == "alpha\nbeta\ngamma\ndelta\n"
    history = ok(run_cli(node_dir, "history", "w", "Forked")).out
    assert {m.group() for m in CID.finditer(history)} == {base, left, right}

    diff = ok(run_cli(node_dir, "diff", base, left)).out.splitlines()
    assert diff[0] == f"--- {base}" and diff[1] == f"+++ {left}"
    assert "-beta" in diff and "+BETA" in diff and " alpha" in diff
    assert not any(line.startswith(("+gamma", "-gamma")) for line in diff)
    assert ok(run_cli(node_dir, "diff", left, left)).out == ""

    # A merge revision joins the heads.
    merged = ok(run_cli(node_dir, "edit", "w", "Forked", "--summary", "merge", "--parent", left, "--parent", right,
                        "-q", input="alpha\nBETA\ngamma\ndelta\n"))
    assert "heads" not in merged.out + merged.err
    heads = ok(run_cli(node_dir, "heads", "w", "Forked")).out.splitlines()
    assert [CID.search(line).group() for line in heads] == [CID.search(merged.out).group()]


def test_search_and_stats(node_dir):
    edit(node_dir, "w", "Tokyo", "東京都は日本の首都です。\n")
    edit(node_dir, "w", "Kyiv", "Київ — столиця України.\n")
    edit(node_dir, "other", "Encyclopedia", "An encyclopaedia.\n")
    out = ok(run_cli(node_dir, "search", "日本")).out
    assert out.startswith("w: Tokyo") and "首都" in out
    assert ok(run_cli(node_dir, "search", "столиця")).out.startswith("w: Kyiv")
    assert ok(run_cli(node_dir, "search", "lop")).out.startswith("other: Encyclopedia")
    assert ok(run_cli(node_dir, "search", "zzzz")).out.strip() == "no pages match"
    stats = ok(run_cli(node_dir, "stats")).out.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in stats[1:-1]}
    assert rows["w"][:3] == ["2", "2", "8"] and rows["other"][:3] == ["1", "1", "4"]
    assert re.match(r"store file: \d+ bytes on disk", stats[-1])


# -- fsck -------------------------------------------------------------------------------


def test_fsck_clean_store(sample_node):
    result = ok(run_cli(sample_node, "fsck"))
    assert re.search(r"checked \d+ objects: no faults", result.out)


def test_fsck_finds_a_flipped_byte_in_a_stored_block(sample_node):
    conn = store_connect(sample_node)
    cid, data = conn.execute("SELECT cid, data FROM objects WHERE kind = 2 ORDER BY id LIMIT 1 OFFSET 3").fetchone()
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0x04
    conn.execute("UPDATE objects SET data = ? WHERE cid = ?", (bytes(corrupt), cid))
    conn.commit()
    conn.close()
    result = run_cli(sample_node, "fsck")
    assert result.code == 1, str(result)
    assert "Traceback" not in result.err
    faults = [line for line in result.out.splitlines() if line.startswith("fault:")]
    assert any(cid_to_str(cid) in line and "tampered" in line for line in faults), str(result)
    assert re.search(r"checked \d+ objects: \d+ faults", result.out)


def test_fsck_reports_a_corrupted_text_instead_of_crashing(sample_node):
    conn = store_connect(sample_node)
    oid, data = conn.execute("SELECT id, data FROM texts WHERE base IS NULL ORDER BY id LIMIT 1").fetchone()
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0x40
    conn.execute("UPDATE texts SET data = ? WHERE id = ?", (bytes(corrupt), oid))
    conn.commit()
    cid = conn.execute("SELECT cid FROM objects WHERE id = ?", (oid,)).fetchone()[0]
    conn.close()
    result = run_cli(sample_node, "fsck")
    assert result.code == 1, str(result)
    assert "Traceback" not in result.err, str(result)
    assert any(line.startswith("fault:") and cid_to_str(cid) in line for line in result.out.splitlines()), str(result)


# -- user errors --------------------------------------------------------------------------


def test_user_errors_are_one_line_exit_2(sample_node, tmp_path):
    main_rev = CID.search(ok(run_cli(sample_node, "history", "wikipeer", "Main Page")).out).group()
    text_cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    cases = [
        (["show", "wikipeer", "No such page"], None, "no page"),
        (["history", "wikipeer", "No such page"], None, "no page"),
        (["heads", "wikipeer", "No such page"], None, "no page"),
        (["show", "wikipeer", "Main Page", "--rev", "not-a-cid"], None, "not a revision CID"),
        (["show", "wikipeer", "Wikipeer", "--rev", main_rev], None, "another page"),
        (["show", "wikipeer", "Main Page", "--rev", text_cid], None, "no such revision"),
        (["diff", "bafyjunk", main_rev], None, "not a revision CID"),
        (["diff", main_rev, text_cid], None, "no such revision"),
        (["edit", "wikipeer", "Bad", "--summary", "s"], b"caf\xe9\n", "UTF-8"),
        (["edit", "wikipeer", "Bad[title]", "--summary", "s"], "x", "character"),
        (["edit", "wikipeer", "Main Page", "--summary", "s", "--parent", "nope"], "x", "not a revision CID"),
        (["key", "export", "ghost"], None, "no key named"),
    ]
    for args, data, fragment in cases:
        assert_user_error(run_cli(sample_node, *args, input=data), fragment)
    assert_user_error(run_cli(tmp_path / "no-node-here", "show", "w", "X"), "no node")
    assert not (tmp_path / "no-node-here" / "store.sqlite").exists()
    # None of it changed anything.
    assert ok(run_cli(sample_node, "fsck")).out.rstrip().endswith("no faults")


def test_missing_input_file_is_a_user_error(sample_node, tmp_path):
    assert_user_error(run_cli(sample_node, "edit", "wikipeer", "X", "--file", str(tmp_path / "missing.wiki"),
                              "--summary", "s"), "missing.wiki")
    assert_user_error(run_cli(sample_node, "key", "import", "k", str(tmp_path / "missing.key")), "missing.key")


def test_cid_with_a_foreign_codec_is_a_user_error(sample_node):
    dag_json = "baguqeera4oymiquy7qobjgx36tejs35zeqt24qpemsnzgtfeswmrw6csxbkq"
    assert_user_error(run_cli(sample_node, "show", "wikipeer", "Main Page", "--rev", dag_json), "CID")


def test_edit_on_an_unknown_parent_is_refused(sample_node):
    unknown = "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua"
    before = ok(run_cli(sample_node, "history", "wikipeer", "Main Page")).out
    assert_user_error(run_cli(sample_node, "edit", "wikipeer", "Main Page", "--summary", "s", "--parent", unknown,
                              input="orphan\n"), "parent")
    assert ok(run_cli(sample_node, "history", "wikipeer", "Main Page")).out == before


def test_reading_an_unknown_wiki_does_not_create_it(sample_node):
    assert_user_error(run_cli(sample_node, "show", "nosuchwiki", "Foo"), "no wiki 'nosuchwiki' on this node")
    assert "nosuchwiki" not in ok(run_cli(sample_node, "stats")).out


def test_history_prints_summaries_literally(sample_node):
    summary = "fix [/b] tag, [bold]loud[/bold] and [red]x"
    rev = edit(sample_node, "wikipeer", "Main Page", "markup test\n", summary)
    for command in ("history", "heads"):
        result = ok(run_cli(sample_node, command, "wikipeer", "Main Page"))
        line = next(line for line in result.out.splitlines() if rev in line)
        assert line.rstrip().endswith(summary)


def test_search_prints_text_literally(sample_node):
    edit(sample_node, "wikipeer", "Markup", "see [/x] and [red]this[/red] zyxwv\n")
    result = ok(run_cli(sample_node, "search", "zyxwv"))
    assert "[/x]" in result.out and "[red]this[/red]" in result.out


def test_a_refused_edit_leaves_no_wiki_behind(node_dir):
    result = run_cli(node_dir, "edit", "bad wiki", "Page", "--summary", "s", input="text\n")
    assert result.code == 2 and "edit refused" in result.err, str(result)
    assert "bad wiki" not in run_cli(node_dir, "stats").out


def test_a_served_nodes_key_list_sees_keys_added_by_another_process(node_dir):
    assert run_cli(node_dir, "init").code == 0
    node = Node.open(node_dir)
    before = {i.name for i in node.keyring.list()}
    assert node.keyring.list() == node.keyring.list()  # the second comes from the cache
    assert run_cli(node_dir, "key", "new", "carol").code == 0  # another process writes a key file
    listed = {i.name: i for i in node.keyring.list()}
    assert set(listed) == before | {"carol"}
    assert listed["carol"].public in node.local_keys()
