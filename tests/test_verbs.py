"""Consistent verbs (issue 16, item 9): every noun that has entries takes both ``list`` and ``show``, as one command."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from conftest import run_cli
from wikipeer.cli.main import build_parser

NOUNS_WITH_ENTRIES = ("key", "peer", "trust", "view", "blocklist", "account", "backup")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def _nouns(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every command that has actions of its own, with them, walking the whole tree."""
    for name, sub in _subcommands(parser).items():
        actions = _subcommands(sub)
        if actions:
            yield (*path, name), actions
            yield from _nouns(sub, (*path, name))


def test_every_noun_with_list_has_show_and_the_other_way_round():
    nouns = dict(_nouns(build_parser()))
    assert set(NOUNS_WITH_ENTRIES) <= {path[-1] for path in nouns}, sorted(nouns)
    for path, actions in nouns.items():
        if "list" in actions or "show" in actions:
            assert "list" in actions and "show" in actions, f"{' '.join(path)}: {sorted(actions)}"
            assert actions["list"] is actions["show"], f"{' '.join(path)}: list and show are two commands"
    for noun in NOUNS_WITH_ENTRIES:
        assert "list" in nouns[(noun,)], noun


@pytest.mark.parametrize("noun", NOUNS_WITH_ENTRIES)
def test_list_and_show_answer_the_same_and_help_names_both(sample_node, tmp_path, noun):
    if noun == "backup":
        made = run_cli(sample_node, "backup", "init", str(tmp_path / "backups"))
        assert made.code == 0, str(made)
    listed, shown = run_cli(sample_node, noun, "list"), run_cli(sample_node, noun, "show")
    assert listed.code == 0 and (listed.out, listed.code) == (shown.out, shown.code), f"{listed}\n{shown}"
    helped = run_cli(None, noun, "--help")
    assert helped.code == 0 and "list (show)" in helped.out, helped.out


def test_trust_list_is_accepted(sample_node):
    made = run_cli(sample_node, "trust", "create", "reviewers")
    assert made.code == 0, str(made)
    listed = run_cli(sample_node, "trust", "list")
    assert listed.code == 0 and "/reviewers" in listed.out, str(listed)


@pytest.mark.parametrize("noun, said", [("peer", "no peers yet: 'wikipeer peer add URL'"),
                                        ("trust", "no communities yet: 'wikipeer trust create NAME'"),
                                        ("blocklist", "no blocklists yet: 'wikipeer blocklist add NAME PATTERN'"),
                                        ("account", "no accounts yet: 'wikipeer account add NAME'"),
                                        ("view", "no views: ")])
def test_an_empty_list_says_so_and_how_to_add_one(tmp_path, noun, said):
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    listed = run_cli(node, noun, "list")
    assert listed.code == 0 and listed.out.startswith(said), str(listed)


def test_trust_list_names_the_members_it_knows(tmp_path):
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    bob = run_cli(node, "key", "new", "bob").out.split("(")[1].split(")")[0]
    assert run_cli(node, "trust", "create", "friends").code == 0
    assert run_cli(node, "trust", "add", "friends", bob).code == 0
    member = [line for line in run_cli(node, "trust", "list").out.splitlines() if bob in line]
    assert member and member[0].split() == ["editor", bob, "bob"], member
