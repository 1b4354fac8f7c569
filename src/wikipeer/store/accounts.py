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

Bot passwords, as in MediaWiki: an account may have any number of them, each
under a label; a program logs in as ``Name@Label`` with a generated password
(hashed like a password), and its session has only the grants the bot
password was given. Revoking one, or removing the account, ends its sessions.
A removed account's key stays in the keyring, so its signatures stay valid; a
later account of the same name gets a key of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import string
import time
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash

from wikipeer.errors import NotFound, UserError
from wikipeer.store.grants import DEFAULT_GRANTS, GRANTS
from wikipeer.store.keyring import ACCOUNT_PREFIX, Keyring

ACCOUNTS_FILE = "accounts.sqlite"  # in the node directory
DEFAULT_SESSION_SECONDS = 14 * 24 * 3600
# What an unknown name's password is checked against: an Argon2id hash string with the
# parameters argon2id.str gives real passwords and a tag (all zeros) no password yields.
_NO_USER_HASH = (f"$argon2id$v=19$m={nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE // 1024},"
                 f"t={nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE},p=1$d2lraXBlZXItbm8tdXNlcg$" + "A" * 43).encode()
_NAME = re.compile(r"^[^\x00-\x1f\x7f#<>\[\]|{}/:@]{1,64}\Z")
_LABEL = re.compile(r"^[^\x00-\x1f\x7f#<>\[\]|{}/:@]{1,32}\Z")
BOT_PASSWORD_LENGTH = 32  # MediaWiki's length; lower-case letters and digits, about 165 bits
_BOT_ALPHABET = string.ascii_lowercase + string.digits

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
    expires INTEGER NOT NULL,
    label TEXT               -- the bot password it was opened with; NULL: the main password
);
CREATE TABLE IF NOT EXISTS secret (value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bot_passwords (
    name TEXT NOT NULL REFERENCES accounts(name),
    label TEXT NOT NULL,
    hash TEXT NOT NULL,
    grants TEXT NOT NULL,  -- space-separated names of GRANTS
    created INTEGER NOT NULL,
    PRIMARY KEY (name, label)
);
CREATE TABLE IF NOT EXISTS removed_accounts (  -- their keys are never handed to a new account
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    removed INTEGER NOT NULL
);
"""


class LoginFailed(UserError):
    """Wrong user name or password; the message does not say which."""


@dataclass(frozen=True, slots=True)
class Account:
    """A user of this node."""

    name: str
    key: str  # keyring name


@dataclass(frozen=True, slots=True)
class BotPassword:
    """A labelled password of an account, for programs, with what it may do."""

    name: str
    label: str
    grants: frozenset[str]
    created: int  # Unix seconds

    @property
    def login(self) -> str:
        """The user name a program logs in with."""
        return f"{self.name}@{self.label}"


@dataclass(frozen=True, slots=True)
class Session:
    """What a session cookie logs in: the account, and the bot password it was opened with (None: the main one)."""

    account: Account
    bot: BotPassword | None = None

    def may(self, grant: str) -> bool:
        """A main-password session may do everything; a bot password's only what it was granted."""
        return self.bot is None or grant in self.bot.grants


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; None (no such name) costs the same and never matches."""
    try:
        return nacl.pwhash.verify(stored.encode() if stored else _NO_USER_HASH, password.encode()) and bool(stored)
    except nacl.exceptions.InvalidkeyError:
        return False


def check_new_password(name: str, password: str) -> None:
    """Refuse a password that is empty, short, or the user name itself (the message never repeats it)."""
    if not password:
        raise UserError("the password is empty: choose one of at least 8 characters")
    if len(password) < 8:
        raise UserError("the password is too short: use at least 8 characters")
    if password.strip().casefold() == name.strip().casefold():
        raise UserError("the password must not be the user name")


def parse_grants(names: str | list[str] | None) -> frozenset[str]:
    """Grant names (space- or comma-separated, or a list) checked against GRANTS; ``basic`` always comes with them."""
    if names is None:
        return DEFAULT_GRANTS
    words = names.replace(",", " ").split() if isinstance(names, str) else [w for n in names for w in
                                                                           n.replace(",", " ").split()]
    unknown = sorted(set(words) - set(GRANTS))
    if unknown:
        raise UserError(f"unknown grant {unknown[0]!r}: the grants are {', '.join(GRANTS)}")
    return frozenset(words) | {"basic"}


class Accounts:
    """Accounts, bot passwords and sessions of one node."""

    def __init__(self, path: Path, keyring: Keyring, session_seconds: int = DEFAULT_SESSION_SECONDS) -> None:
        self.path, self.keyring, self.session_seconds = path, keyring, session_seconds
        self._local = threading.local()
        _add_session_label(self.conn)
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
        check_new_password(name, password)
        # Hash first, taken or not: a taken name must not answer faster than a free one.
        hashed = nacl.pwhash.argon2id.str(password.encode()).decode()
        if self.get(name) is not None:
            raise UserError(f"the user name {name!r} is taken")
        key = self._key_name(name)
        if not self.keyring.exists(key):
            try:
                self.keyring.create(key)
            except UserError:
                if not self.keyring.exists(key):
                    raise
                # Another registration of this name made the key between the check and here; the
                # INSERT below says which of the two has the name.
        try:
            self.conn.execute("INSERT INTO accounts VALUES (?, ?, ?, ?)", (name, hashed, key, int(time.time())))
        except sqlite3.IntegrityError:  # registered by another request since the check above
            raise UserError(f"the user name {name!r} is taken") from None
        return Account(name, key)

    def _key_name(self, name: str) -> str:
        """The keyring name of a new account's key: derived from its name, and new after each removal of that name."""
        base = f"{ACCOUNT_PREFIX}{hashlib.sha256(name.encode()).hexdigest()[:16]}"
        removed = self.conn.execute("SELECT count(*) FROM removed_accounts WHERE name = ?", (name,)).fetchone()[0]
        return base if not removed else f"{base}-{removed + 1}"

    def get(self, name: str) -> Account | None:
        row = self.conn.execute("SELECT name, key FROM accounts WHERE name = ?", (name,)).fetchone()
        return Account(*row) if row else None

    def require(self, name: str) -> Account:
        """The account ``name``; NotFound with a hint otherwise."""
        account = self.get(name.strip())
        if account is None:
            raise NotFound(f"no account named {name.strip()!r} (see 'wikipeer account list')")
        return account

    def user_id(self, name: str) -> int:
        """The account's number (its row in the accounts file; MediaWiki's user id), 0 for no such account."""
        row = self.conn.execute("SELECT rowid FROM accounts WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def created(self, name: str) -> int | None:
        """When the account was made (Unix seconds)."""
        row = self.conn.execute("SELECT created FROM accounts WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def list(self) -> list[Account]:
        return [Account(*r) for r in self.conn.execute("SELECT name, key FROM accounts ORDER BY name")]

    def remove(self, name: str) -> Account:
        """Remove an account with its sessions and bot passwords; its key stays, so its signatures stay valid."""
        account = self.require(name)
        with self.conn:  # one transaction: never an account without sessions' owner, or half removed
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("DELETE FROM sessions WHERE name = ?", (account.name,))
            self.conn.execute("DELETE FROM bot_passwords WHERE name = ?", (account.name,))
            self.conn.execute("DELETE FROM accounts WHERE name = ?", (account.name,))
            self.conn.execute("INSERT INTO removed_accounts VALUES (?, ?, ?)",
                              (account.name, account.key, int(time.time())))
        return account

    def check_password(self, name: str, password: str) -> Account:
        """The account ``name`` if ``password`` is its password; LoginFailed otherwise.

        An unknown name is checked against a hash no password matches, made with
        the same parameters, so it takes the same time and memory as a known one.
        """
        row = self.conn.execute("SELECT hash FROM accounts WHERE name = ?", (name.strip(),)).fetchone()
        if not _verify(row[0] if row else None, password):
            raise LoginFailed("wrong user name or password")
        return self.get(name.strip())

    def create_bot_password(self, name: str, label: str, grants: frozenset[str] = DEFAULT_GRANTS) -> str:
        """A new bot password for ``name`` under ``label``; the generated password, which is not kept in clear."""
        account = self.require(name)
        label = label.strip()
        if not _LABEL.match(label):
            raise UserError(f"bad label {label!r}: 1 to 32 characters, none of # < > [ ] | {{ }} / : @")
        password = "".join(secrets.choice(_BOT_ALPHABET) for _ in range(BOT_PASSWORD_LENGTH))
        hashed = nacl.pwhash.argon2id.str(password.encode()).decode()
        try:
            self.conn.execute("INSERT INTO bot_passwords VALUES (?, ?, ?, ?, ?)",
                              (account.name, label, hashed, " ".join(sorted(grants | {"basic"})), int(time.time())))
        except sqlite3.IntegrityError:
            raise UserError(f"{account.name!r} has a bot password labelled {label!r} already: "
                            "revoke it first to make a new one") from None
        return password

    def bot_passwords(self, name: str | None = None) -> list[BotPassword]:
        """The bot passwords of one account, or of all, by name and label."""
        query = "SELECT name, label, grants, created FROM bot_passwords"
        rows = self.conn.execute(query + (" WHERE name = ?" if name else "") + " ORDER BY name, label",
                                 (name,) if name else ())
        return [BotPassword(n, label, frozenset(grants.split()), created) for n, label, grants, created in rows]

    def _bot_password(self, name: str, label: str) -> BotPassword | None:
        row = self.conn.execute("SELECT name, label, grants, created FROM bot_passwords WHERE name = ? AND label = ?",
                                (name, label)).fetchone()
        return BotPassword(row[0], row[1], frozenset(row[2].split()), row[3]) if row else None

    def revoke_bot_password(self, name: str, label: str) -> None:
        """Delete a bot password and end the sessions opened with it."""
        account = self.require(name)
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            gone = self.conn.execute("DELETE FROM bot_passwords WHERE name = ? AND label = ?",
                                     (account.name, label.strip())).rowcount
            self.conn.execute("DELETE FROM sessions WHERE name = ? AND label = ?", (account.name, label.strip()))
        if not gone:
            raise NotFound(f"{account.name!r} has no bot password labelled {label.strip()!r}")

    def check_bot_password(self, login: str, password: str) -> Session:
        """The session a ``Name@Label`` login with a bot password would open; LoginFailed otherwise.

        As costly for unknown names and labels as for known ones, like check_password.
        """
        name, _, label = login.strip().rpartition("@")
        row = self.conn.execute("SELECT hash FROM bot_passwords WHERE name = ? AND label = ?",
                                (name.strip(), label.strip())).fetchone()
        if not _verify(row[0] if row else None, password):
            raise LoginFailed("wrong user name or password")
        account, bot = self.get(name.strip()), self._bot_password(name.strip(), label.strip())
        if account is None or bot is None:  # removed while the password was being checked
            raise LoginFailed("wrong user name or password")
        return Session(account, bot)

    def open_session(self, account: Account, bot: BotPassword | None = None) -> str:
        """A new session cookie value for ``account`` (through bot password ``bot``, if given)."""
        token = secrets.token_urlsafe(32)
        self.conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                          (_digest(token), account.name, int(time.time()) + self.session_seconds,
                           bot.label if bot else None))
        return token

    def session(self, token: str | None) -> Account | None:
        """The account a cookie logs in, or None when absent, unknown or expired."""
        found = self.session_of(token)
        return found.account if found else None

    def session_of(self, token: str | None) -> Session | None:
        """The session a cookie opens (account and bot password), or None when absent, unknown or expired."""
        if not token:
            return None
        row = self.conn.execute("SELECT name, expires, label FROM sessions WHERE token = ?",
                                (_digest(token),)).fetchone()
        if row is None or row[1] < time.time():
            return None
        account = self.get(row[0])
        if account is None:
            return None
        if row[2] is None:
            return Session(account)
        bot = self._bot_password(account.name, row[2])
        return Session(account, bot) if bot else None

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


def _add_session_label(conn: sqlite3.Connection) -> None:
    """Sessions made before bot passwords have no label column: add it (NULL: the main password)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    if "label" not in columns:
        try:
            conn.execute("ALTER TABLE sessions ADD COLUMN label TEXT")
        except sqlite3.OperationalError as exc:  # another process added it first
            if "duplicate column" not in str(exc):
                raise
