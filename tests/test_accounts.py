"""The node's web accounts: Argon2id hashes, sessions that expire, CSRF tokens bound to a cookie."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from wikipeer.errors import UserError
from wikipeer.store.accounts import Accounts, LoginFailed


@pytest.fixture
def accounts(node) -> Accounts:
    return Accounts(node.dir / "accounts.sqlite", node.keyring)


def test_an_account_owns_a_key_and_logs_in(accounts, node):
    alice = accounts.create("Alice Example", "correct horse")
    assert node.keyring.get(alice.key).private  # the node can sign for her
    assert accounts.check_password("Alice Example", "correct horse") == alice
    assert accounts.check_password(" Alice Example ", "correct horse") == alice
    bob = accounts.create("Bob", "battery staple")
    assert node.keyring.get(bob.key).public != node.keyring.get(alice.key).public


def test_the_password_is_stored_hashed(accounts, node):
    accounts.create("alice", "correct horse")
    stored = sqlite3.connect(node.dir / "accounts.sqlite").execute("SELECT hash FROM accounts").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


@pytest.mark.parametrize("name, password", [("alice", "wrong password"), ("nobody", "correct horse"), ("alice", "")])
def test_wrong_name_or_password_is_refused_without_saying_which(accounts, name, password):
    accounts.create("alice", "correct horse")
    with pytest.raises(LoginFailed, match="wrong user name or password"):
        accounts.check_password(name, password)


@pytest.mark.parametrize("name, password, fragment", [
    ("alice", "short", "at least 8"),
    ("a/b", "correct horse", "bad user name"),
    ("", "correct horse", "bad user name"),
    ("x" * 65, "correct horse", "bad user name"),
])
def test_bad_accounts_are_refused(accounts, name, password, fragment):
    with pytest.raises(UserError, match=fragment):
        accounts.create(name, password)
    assert accounts.list() == []


def test_a_name_is_taken_once(accounts):
    accounts.create("alice", "correct horse")
    with pytest.raises(UserError, match="taken"):
        accounts.create("alice", "another password")


def test_sessions_open_close_and_expire(accounts, node):
    alice = accounts.create("alice", "correct horse")
    token = accounts.open_session(alice)
    assert accounts.session(token) == alice
    assert accounts.session(token + "x") is None and accounts.session(None) is None
    stored = sqlite3.connect(node.dir / "accounts.sqlite").execute("SELECT token FROM sessions").fetchone()[0]
    assert stored != token  # only a digest is kept
    accounts.close_session(token)
    assert accounts.session(token) is None

    short = Accounts(node.dir / "accounts.sqlite", node.keyring, session_seconds=-1)
    assert short.session(short.open_session(alice)) is None


def test_csrf_tokens_are_bound_to_their_cookie(accounts, node):
    token = accounts.csrf_token("cookie-a")
    assert accounts.csrf_ok("cookie-a", token)
    assert not accounts.csrf_ok("cookie-b", token)
    assert not accounts.csrf_ok("cookie-a", None) and not accounts.csrf_ok(None, token)
    assert not accounts.csrf_ok("cookie-a", token[:-1] + "0" if token[-1] != "0" else token[:-1] + "1")
    # The secret survives a restart, so forms opened before it still post.
    again = Accounts(node.dir / "accounts.sqlite", node.keyring)
    assert again.csrf_ok("cookie-a", token)


def test_unknown_names_are_checked_against_a_hash_as_costly_as_a_real_one(accounts, node):
    """The stand-in hash for unknown names has the parameters real hashes are made with."""
    from wikipeer.store.accounts import _NO_USER_HASH

    accounts.create("alice", "correct horse")
    stored = sqlite3.connect(node.dir / "accounts.sqlite").execute("SELECT hash FROM accounts").fetchone()[0]
    assert _NO_USER_HASH.decode().split("$")[:4] == stored.split("$")[:4]  # algorithm, version, m/t/p
    with pytest.raises(LoginFailed):
        accounts.check_password("nobody", "")


def test_two_registrations_of_one_name_at_once_make_one_account(accounts):
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def register(password: str) -> None:
        barrier.wait()
        try:
            accounts.create("alice", password)
            outcomes.append("made")
        except UserError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=register, args=(f"password {i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["made"] + ["the user name 'alice' is taken"] * 3
    assert [a.name for a in accounts.list()] == ["alice"]
