"""`wikipeer account ...`: accounts and bot passwords from the command line, passwords never in argv or output."""

from __future__ import annotations

import os
import pty
import re
import select
import time

import pytest

from conftest import CLI, assert_user_error, cli_env, run_cli
from wikipeer.node import Node
from wikipeer.store.accounts import ACCOUNTS_FILE, Accounts, LoginFailed

PASSWORD = "correct horse battery"


def _accounts(node_dir) -> Accounts:
    node = Node.open(node_dir)
    return Accounts(node.dir / ACCOUNTS_FILE, node.keyring)


def _on_a_terminal(node_dir, *args: str, answers: list[str], timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its terminal, typing each answer after each prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and controlling terminal are the pty
        os.execvpe(CLI[0], [*CLI, "--node", str(node_dir), *args], cli_env())
    seen, deadline, pending = b"", time.monotonic() + timeout, list(answers)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal: it exited
                break
            if not chunk:
                break
            seen += chunk
            if pending and seen.rstrip().endswith(b":"):
                os.write(fd, pending.pop(0).encode() + b"\n")
                seen += b"<typed>\n"
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode("utf-8", "replace")


def test_account_add_reads_the_password_from_stdin_and_it_logs_in(node_dir):
    result = run_cli(node_dir, "account", "add", "Alice", input=PASSWORD + "\n")
    assert result.code == 0, str(result)
    assert "account Alice made" in result.out and PASSWORD not in result.out + result.err
    accounts = _accounts(node_dir)
    assert accounts.check_password("Alice", PASSWORD).name == "Alice"
    listed = run_cli(node_dir, "account", "list")
    assert listed.code == 0 and re.search(r"^Alice\s+ed25519:", listed.out, re.M), str(listed)


def test_account_add_asks_twice_at_a_terminal(node_dir):
    code, seen = _on_a_terminal(node_dir, "account", "add", "Bob", answers=[PASSWORD, PASSWORD])
    assert code == 0, seen
    assert "Password for Bob:" in seen and "again" in seen and PASSWORD not in seen  # not echoed
    assert _accounts(node_dir).check_password("Bob", PASSWORD).name == "Bob"


def test_two_different_passwords_at_a_terminal_make_no_account(node_dir):
    code, seen = _on_a_terminal(node_dir, "account", "add", "Bob", answers=[PASSWORD, PASSWORD + "x"])
    assert code == 2 and "the two passwords differ" in seen and PASSWORD not in seen, seen
    assert _accounts(node_dir).get("Bob") is None


@pytest.mark.parametrize("password, fragment", [("", "empty"), ("Zq7#x", "too short"),
                                                ("carol example\n", "user name")])
def test_weak_passwords_are_refused_without_being_repeated(node_dir, password, fragment):
    result = run_cli(node_dir, "account", "add", "Carol Example", input=password)
    assert_user_error(result, fragment)
    assert not password.strip() or password.strip() not in result.err
    assert _accounts(node_dir).list() == []


def test_a_password_given_as_an_argument_is_refused_and_not_repeated(node_dir):
    result = run_cli(node_dir, "account", "add", "Alice", PASSWORD)
    assert_user_error(result, "takes only a name")
    assert PASSWORD not in result.err + result.out and _accounts(node_dir).list() == []
    assert run_cli(node_dir, "account", "--help").code == 0


def test_a_taken_name_is_refused_before_a_password_is_read(node_dir):
    assert run_cli(node_dir, "account", "add", "Alice", input=PASSWORD).code == 0
    assert_user_error(run_cli(node_dir, "account", "add", "Alice", input="another password"), "'Alice' is taken")
    assert_user_error(run_cli(node_dir, "account", "add", "a/b", input=PASSWORD), "bad user name")


def test_a_bot_password_is_printed_once_and_logs_in_as_name_at_label(node_dir):
    assert run_cli(node_dir, "account", "add", "Alice", input=PASSWORD).code == 0
    result = run_cli(node_dir, "account", "botpassword", "Alice", "mybot", "--grants", "editpage")
    assert result.code == 0, str(result)
    assert "user name: Alice@mybot" in result.out
    password = re.search(r"^password:\s+(\S+)$", result.out, re.M).group(1)
    session = _accounts(node_dir).check_bot_password("Alice@mybot", password)
    assert session.may("editpage") and not session.may("highvolume")
    listed = run_cli(node_dir, "account", "list")
    assert "bot passwords: mybot (basic editpage)" in listed.out and password not in listed.out

    assert_user_error(run_cli(node_dir, "account", "botpassword", "Alice", "mybot"), "labelled 'mybot' already")
    assert_user_error(run_cli(node_dir, "account", "botpassword", "Alice", "x", "--grants", "delete"),
                      "unknown grant 'delete'")
    revoked = run_cli(node_dir, "account", "botpassword", "Alice", "mybot", "--revoke")
    assert revoked.code == 0 and "revoked" in revoked.out, str(revoked)
    with pytest.raises(LoginFailed):
        _accounts(node_dir).check_bot_password("Alice@mybot", password)
    assert_user_error(run_cli(node_dir, "account", "botpassword", "Alice", "mybot", "--revoke"),
                      "no bot password labelled 'mybot'")


def test_unknown_accounts_are_named_in_a_clear_error(node_dir):
    for args in (("botpassword", "Nobody", "bot"), ("remove", "Nobody")):
        assert_user_error(run_cli(node_dir, "account", *args), "no account named 'Nobody'")


def test_account_remove_ends_sessions_and_bot_passwords_and_keeps_the_key(node_dir):
    assert run_cli(node_dir, "account", "add", "Alice", input=PASSWORD).code == 0
    made = run_cli(node_dir, "account", "botpassword", "Alice", "bot")
    password = re.search(r"^password:\s+(\S+)$", made.out, re.M).group(1)
    accounts = _accounts(node_dir)
    alice = accounts.get("Alice")
    token = accounts.open_session(alice)
    public = Node.open(node_dir).keyring.get(alice.key).public

    result = run_cli(node_dir, "account", "remove", "Alice")
    assert result.code == 0 and public in result.out, str(result)
    assert accounts.session(token) is None and accounts.bot_passwords() == []
    with pytest.raises(LoginFailed):
        accounts.check_bot_password("Alice@bot", password)
    assert run_cli(node_dir, "account", "list").out.startswith("no accounts yet")
    assert public in run_cli(node_dir, "key", "list").out  # what Alice signed still verifies
