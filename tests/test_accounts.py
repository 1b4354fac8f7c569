"""The node's web accounts: Argon2id hashes, sessions that expire, CSRF tokens bound to a cookie."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from wikipeer.errors import UserError
from wikipeer.store.accounts import GRANTS, Accounts, LoginFailed, Session, parse_grants


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


@pytest.mark.parametrize("password, fragment", [("", "empty"), ("Alice Example", "must not be the user name"),
                                                ("alice example", "must not be the user name")])
def test_weak_passwords_are_refused_without_repeating_them(accounts, password, fragment):
    with pytest.raises(UserError, match=fragment) as caught:
        accounts.create("Alice Example", password)
    assert not password or password not in str(caught.value)


def test_a_bot_password_logs_in_as_name_at_label_with_its_grants(accounts, node):
    alice = accounts.create("alice", "correct horse")
    password = accounts.create_bot_password("alice", "mybot", parse_grants("editpage"))
    assert len(password) == 32 and password.isalnum() and password.islower()
    stored = sqlite3.connect(node.dir / "accounts.sqlite").execute("SELECT hash FROM bot_passwords").fetchone()[0]
    assert stored.startswith("$argon2id$") and password not in stored

    session = accounts.check_bot_password("alice@mybot", password)
    assert session.account == alice and session.bot.login == "alice@mybot"
    assert session.may("basic") and session.may("editpage") and not session.may("highvolume")
    token = accounts.open_session(session.account, session.bot)
    assert accounts.session_of(token) == session and accounts.session(token) == alice
    # The bot password is not the account's password, nor the other way round.
    with pytest.raises(LoginFailed):
        accounts.check_password("alice", password)
    for login, secret in [("alice@mybot", "correct horse"), ("alice@other", password), ("bob@mybot", password)]:
        with pytest.raises(LoginFailed, match="wrong user name or password"):
            accounts.check_bot_password(login, secret)


def test_main_password_sessions_may_do_everything(accounts):
    alice = accounts.create("alice", "correct horse")
    session = accounts.session_of(accounts.open_session(alice))
    assert session.bot is None and all(session.may(g) for g in GRANTS)


def test_bot_passwords_are_listed_and_revoked_with_their_sessions(accounts):
    alice = accounts.create("alice", "correct horse")
    accounts.create("bob", "battery staple")
    first = accounts.create_bot_password("alice", "one")
    accounts.create_bot_password("alice", "two", parse_grants(["basic"]))
    accounts.create_bot_password("bob", "one")
    assert [(b.login, sorted(b.grants)) for b in accounts.bot_passwords("alice")] == [
        ("alice@one", sorted(GRANTS)), ("alice@two", ["basic"])]
    assert len(accounts.bot_passwords()) == 3
    with pytest.raises(UserError, match="labelled 'one' already"):
        accounts.create_bot_password("alice", "one")

    token = accounts.open_session(alice, accounts.check_bot_password("alice@one", first).bot)
    main = accounts.open_session(alice)
    accounts.revoke_bot_password("alice", "one")
    assert accounts.session_of(token) is None and accounts.session(main) == alice
    with pytest.raises(LoginFailed):
        accounts.check_bot_password("alice@one", first)
    with pytest.raises(UserError, match="no bot password labelled 'one'"):
        accounts.revoke_bot_password("alice", "one")
    assert [b.login for b in accounts.bot_passwords()] == ["alice@two", "bob@one"]


@pytest.mark.parametrize("name, label, fragment", [("nobody", "bot", "no account named 'nobody'"),
                                                   ("alice", "a@b", "bad label"), ("alice", "", "bad label"),
                                                   ("alice", "x" * 33, "bad label")])
def test_bad_bot_passwords_are_refused(accounts, name, label, fragment):
    accounts.create("alice", "correct horse")
    with pytest.raises(UserError, match=fragment):
        accounts.create_bot_password(name, label)
    assert accounts.bot_passwords() == []


def test_unknown_grants_are_refused():
    with pytest.raises(UserError, match="unknown grant 'delete'"):
        parse_grants("editpage,delete")
    assert parse_grants("editpage") == {"basic", "editpage"} and parse_grants(None) == set(GRANTS)


def test_a_removed_account_loses_its_sessions_and_bot_passwords_but_its_key_stays(accounts, node):
    alice = accounts.create("alice", "correct horse")
    bot = accounts.create_bot_password("alice", "bot")
    tokens = [accounts.open_session(alice), accounts.open_session(alice, accounts.bot_passwords("alice")[0])]
    public = node.keyring.get(alice.key).public
    assert accounts.remove("alice") == alice
    assert accounts.get("alice") is None and accounts.bot_passwords() == []
    assert all(accounts.session_of(t) is None for t in tokens)
    assert node.keyring.get(alice.key).public == public  # what alice signed still verifies
    for check in (lambda: accounts.check_password("alice", "correct horse"),
                  lambda: accounts.check_bot_password("alice@bot", bot)):
        with pytest.raises(LoginFailed):
            check()
    with pytest.raises(UserError, match="no account named 'alice'"):
        accounts.remove("alice")
    # Someone registering the name later does not get alice's key.
    again = accounts.create("alice", "another password")
    assert again.key != alice.key and node.keyring.get(again.key).public != public


def test_sessions_of_an_older_accounts_file_still_open(node):
    path = node.dir / "accounts.sqlite"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE sessions (token TEXT PRIMARY KEY, name TEXT NOT NULL, expires INTEGER NOT NULL);")
    old.close()
    accounts = Accounts(path, node.keyring)
    alice = accounts.create("alice", "correct horse")
    assert accounts.session_of(accounts.open_session(alice)) == Session(alice)
