"""The node's own users: accounts, password hashes, sessions and CSRF tokens.

Below web/ so that every door a user logs in through (the web page, the
Action API, the command line) shares one account system; the cookie names
that carry sessions are web/'s business (web/cookies.py).

Kept in ``DIR/accounts.sqlite``, apart from the object store: accounts are
local settings of one node, never content that travels. Each account owns an
identity key in the node's keyring; its edits are signed with that key.
Passwords are hashed with Argon2id (libsodium, through PyNaCl). A login or
a registration does the same hashing work whether or not the name exists, so
its time tells nothing about which names are taken.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash

from wikipeer.errors import UserError
from wikipeer.store.keyring import ACCOUNT_PREFIX, Keyring

DEFAULT_SESSION_SECONDS = 14 * 24 * 3600
# What an unknown name's password is checked against: an Argon2id hash string with the
# parameters argon2id.str gives real passwords and a tag (all zeros) no password yields.
_NO_USER_HASH = (f"$argon2id$v=19$m={nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE // 1024},"
                 f"t={nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE},p=1$d2lraXBlZXItbm8tdXNlcg$" + "A" * 43).encode()
_NAME = re.compile(r"^[^\x00-\x1f\x7f#<>\[\]|{}/:@]{1,64}\Z")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    key TEXT NOT NULL,     -- the keyring name of the account's identity
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,  -- sha256 of the cookie: a stolen file opens no session
    name TEXT NOT NULL REFERENCES accounts(name),
    expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secret (value TEXT NOT NULL);
"""


class LoginFailed(UserError):
    """Wrong user name or password; the message does not say which."""


@dataclass(frozen=True, slots=True)
class Account:
    """A user of this node."""

    name: str
    key: str  # keyring name


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Accounts and sessions of one node."""

    def __init__(self, path: Path, keyring: Keyring, session_seconds: int = DEFAULT_SESSION_SECONDS) -> None:
        self.path, self.keyring, self.session_seconds = path, keyring, session_seconds
        self._local = threading.local()
        self._secret = self._load_secret()

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self._local.conn = conn
        return conn

    def _load_secret(self) -> bytes:
        row = self.conn.execute("SELECT value FROM secret").fetchone()
        if row is None:
            self.conn.execute("INSERT INTO secret VALUES (?)", (secrets.token_hex(32),))
            row = self.conn.execute("SELECT value FROM secret").fetchone()
        return bytes.fromhex(row[0])

    def create(self, name: str, password: str) -> Account:
        """A new account with its own identity key."""
        name = name.strip()
        if not _NAME.match(name):
            raise UserError(f"bad user name {name!r}: 1 to 64 characters, none of # < > [ ] | {{ }} / : @")
        if len(password) < 8:
            raise UserError("the password is too short: use at least 8 characters")
        # Hash first, taken or not: a taken name must not answer faster than a free one.
        hashed = nacl.pwhash.argon2id.str(password.encode()).decode()
        if self.get(name) is not None:
            raise UserError(f"the user name {name!r} is taken")
        key = f"{ACCOUNT_PREFIX}{hashlib.sha256(name.encode()).hexdigest()[:16]}"
        if not self.keyring.exists(key):
            self.keyring.create(key)
        try:
            self.conn.execute("INSERT INTO accounts VALUES (?, ?, ?, ?)", (name, hashed, key, int(time.time())))
        except sqlite3.IntegrityError:  # registered by another request since the check above
            raise UserError(f"the user name {name!r} is taken") from None
        return Account(name, key)

    def get(self, name: str) -> Account | None:
        row = self.conn.execute("SELECT name, key FROM accounts WHERE name = ?", (name,)).fetchone()
        return Account(*row) if row else None

    def list(self) -> list[Account]:
        return [Account(*r) for r in self.conn.execute("SELECT name, key FROM accounts ORDER BY name")]

    def check_password(self, name: str, password: str) -> Account:
        """The account ``name`` if ``password`` is its password; LoginFailed otherwise.

        An unknown name is checked against a hash no password matches, made with
        the same parameters, so it takes the same time and memory as a known one.
        """
        row = self.conn.execute("SELECT hash FROM accounts WHERE name = ?", (name.strip(),)).fetchone()
        stored = row[0].encode() if row else _NO_USER_HASH
        try:
            if not nacl.pwhash.verify(stored, password.encode()) or row is None:
                raise LoginFailed("wrong user name or password")
        except nacl.exceptions.InvalidkeyError:
            raise LoginFailed("wrong user name or password") from None
        return self.get(name.strip())

    def open_session(self, account: Account) -> str:
        """A new session cookie value for ``account``."""
        token = secrets.token_urlsafe(32)
        self.conn.execute("INSERT INTO sessions VALUES (?, ?, ?)",
                          (_digest(token), account.name, int(time.time()) + self.session_seconds))
        return token

    def session(self, token: str | None) -> Account | None:
        """The account a cookie logs in, or None when absent, unknown or expired."""
        if not token:
            return None
        row = self.conn.execute("SELECT name, expires FROM sessions WHERE token = ?", (_digest(token),)).fetchone()
        if row is None or row[1] < time.time():
            return None
        return self.get(row[0])

    def close_session(self, token: str | None) -> None:
        if token:
            self.conn.execute("DELETE FROM sessions WHERE token = ? OR expires < ?", (_digest(token), int(time.time())))

    def csrf_token(self, cookie: str) -> str:
        """The form token bound to a session or visitor cookie."""
        return hmac.new(self._secret, cookie.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, cookie: str | None, token: object) -> bool:
        # A token is whatever a form sent: maybe non-ASCII, or a file part; compare_digest takes bytes of any kind.
        return bool(cookie and isinstance(token, str) and token) and hmac.compare_digest(
            self.csrf_token(cookie).encode(), token.encode("utf-8", "surrogatepass"))
