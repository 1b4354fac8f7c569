"""People by name: the name a reader sees for a key, and where that name comes from.

A key is named, in this order of precedence:

1. a local account's name (the web page's accounts: their keys are held here);
2. the name this node's operator gave the key in the keyring (``key new``,
   ``key import``; the sample wiki's ``demo``);
3. the name in the newest ``profile`` the key signed itself (ingest accepts a
   profile only with its issuer's signature, so nobody can name someone
   else's key); it is a claim, not a fact;
4. else a short fingerprint, the key's first characters.

Names of kinds 1 and 2 were chosen on this node and are shown as they are.
A profile name is shown as it is only when the reader's view trusts the key
and the name is not (ignoring case, width and spacing) a name this node
gives another key; otherwise it carries the key's fingerprint,
"alice (zUCxbSM_pv…)", so an impostor's claim never reads like the name it
imitates. The full key is always at hand (``title=`` on the web,
``--keys`` on the command line).

``People`` is made once per web app or command and caches: local and account
names until the key folder changes, profiles until the store takes in a new
object, looking whether they did once per command or web request (``refresh``). ``UserNames`` gives each key one MediaWiki user name, unique and
valid, for exports and api.php answers.
"""

from __future__ import annotations

import ipaddress
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wikipeer.store.accounts import ACCOUNTS_FILE
from wikipeer.store.keyring import ACCOUNT_PREFIX, Keyring
from wikipeer.store.records import RevInfo
from wikipeer.store.schema import KIND_PROFILE
from wikipeer.store.store import Store

ACCOUNT, LOCAL, PROFILE, KEY = "account", "local", "profile", "key"
"""Where a name comes from: a local account, the keyring, the key's own profile, or none (the fingerprint)."""

FINGERPRINT_CHARS = 10
MAX_NAME = 64  # a longer profile name is cut: it would push a history line's other columns off the screen
_INVALID_USER_CHARS = re.compile(r"[#<>\[\]|{}/@:=\x00-\x1f\x7f]")  # MediaWiki's title and user name rules
_SPACES = re.compile(r"[\s_]+")
_UNSHOWN = ("Cc", "Cf", "Co", "Cs", "Cn")  # control, formatting (bidi overrides, zero-width), private, unassigned


def fingerprint(key: str) -> str:
    """A key's short form, as readers see a key that has no name: its first characters."""
    return key.removeprefix("ed25519:")[:FINGERPRINT_CHARS] + "…"


def clean_name(name: str) -> str:
    """A claimed name made safe to show: no control or formatting characters (bidi overrides), spaces collapsed."""
    kept = " ".join("".join(c for c in name if c.isspace() or unicodedata.category(c) not in _UNSHOWN).split())
    return kept if len(kept) <= MAX_NAME else kept[:MAX_NAME - 1] + "…"


def name_folded(name: str) -> str:
    """The form two names are compared in: "Alice", "alice" and "ａｌｉｃｅ" are the same name."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name).casefold()).strip()


@dataclass(frozen=True, slots=True)
class Person:
    """A key and the name this node knows it by, with the name's source (ACCOUNT, LOCAL, PROFILE or KEY)."""

    key: str
    name: str
    source: str
    clash: bool = False  # a profile name that is also the name of another key here
    held: bool = False  # this node holds the key's private half (its own, its user's, an account's)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    def label(self, trusted: bool) -> str:
        """The name a reader sees; a claimed name of an untrusted or look-alike key carries the fingerprint."""
        if self.source == PROFILE and (self.clash or not trusted):
            return f"{self.name} ({self.fingerprint})"
        return self.name

    def explain(self, trusted: bool) -> str:
        """Where the name comes from and whether the reader's view trusts the key, for a hover text."""
        where = {ACCOUNT: "an account on this node", LOCAL: "the name this node gives the key",
                 PROFILE: "the name the key's own signed profile claims", KEY: "no name known for this key"}
        also = "; another key here has this name" if self.clash else ""
        return (f"{self.key} — {where[self.source]}{also}; "
                + ("trusted by your view" if trusted else "not trusted by this view"))


@dataclass(frozen=True, slots=True)
class Shown:
    """Who made a revision, as one reader sees it: the words, the hover text, and a ``kind`` for its style."""

    label: str
    title: str
    kind: str


class People:
    """Names for keys, from this node's keyring and accounts and the profiles it holds."""

    def __init__(self, keyring: Keyring, store: Store, node_dir: Path) -> None:
        self.keyring, self.store, self.node_dir = keyring, store, node_dir
        self._local: tuple[tuple, dict[str, Person], dict[str, str]] = ((), {}, {})
        self._profiles: tuple[int, dict[str, Person | None]] = (-1, {})
        self._stale = True

    def refresh(self) -> None:
        """Look again whether keys, accounts or profiles changed, at the next name asked for.

        The web app calls it once per request: a page of 500 revisions then checks the key folder and the
        store once, not once per line.
        """
        self._stale = True

    def person(self, key: str) -> Person:
        """The name this node knows ``key`` by, and where it comes from."""
        if self._stale:
            self._check()
        _, named, folded = self._local
        found = named.get(key)
        if found is not None:
            return found
        claimed = self._profile(key)
        if claimed is None:
            return Person(key, fingerprint(key), KEY)
        owner = folded.get(name_folded(claimed.name))
        return Person(key, claimed.name, PROFILE, clash=owner is not None and owner != key)

    def label(self, key: str, trusted: bool) -> str:
        return self.person(key).label(trusted)

    def shown(self, key: str, trusted: bool) -> Shown:
        person = self.person(key)
        kind = person.source if person.source != PROFILE or not (person.clash or not trusted) else "claimed"
        return Shown(person.label(trusted), person.explain(trusted), kind)

    def author(self, rev: RevInfo, trusted: frozenset[str]) -> Shown:
        """Who made a revision: the imported user name or address as it came, else its author key's name."""
        user = rev.origin.get("user") or rev.origin.get("ip")
        if user:
            site = rev.origin.get("site")
            return Shown(str(user), f"imported from {site}" if site else "imported", "imported")
        if not rev.author:
            return Shown("anonymous", "no author key: signed by the node that took it in", "anonymous")
        return self.shown(rev.author, rev.author in trusted)

    def confirmed(self) -> list[Person]:
        """Every key named on this node (accounts, then keyring names): these names are never disambiguated away."""
        if self._stale:
            self._check()
        return sorted(self._local[1].values(), key=lambda p: (p.source != ACCOUNT, p.name))

    def _check(self) -> None:
        self._stale = False
        # Every new key (an account's too) changes the folder: its mtime and the keyring's own count tell.
        keyring = self.keyring
        stamp = (keyring.generation, keyring.dir.stat().st_mtime_ns)
        if self._local[0] != stamp:
            accounts = account_names(self.node_dir)
            named: dict[str, Person] = {}
            for identity in keyring.list():
                if identity.name in accounts:
                    named[identity.public] = Person(identity.public, accounts[identity.name], ACCOUNT,
                                                    held=identity.private)
                elif not identity.name.startswith(ACCOUNT_PREFIX):
                    named.setdefault(identity.public, Person(identity.public, identity.name, LOCAL,
                                                             held=identity.private))
            self._local = (stamp, named, {name_folded(p.name): p.key for p in named.values()})
        # A new profile comes as a new object: the store's last object id tells (a lookup on its key).
        seq = self.store.last_seq()
        if self._profiles[0] != seq:
            self._profiles = (seq, {})

    def _profile(self, key: str) -> Person | None:
        cache = self._profiles[1]
        if key not in cache:
            found = self.store.current_notices(KIND_PROFILE, key)
            name = clean_name(found[-1][1].name) if found else ""
            cache[key] = Person(key, name, PROFILE) if name else None
        return cache[key]


def account_names(node_dir: Path) -> dict[str, str]:
    """Account name by keyring name, read from the node's accounts file (none if it has none yet).

    Read-only: a command that only shows history must not create the accounts file.
    """
    path = node_dir / ACCOUNTS_FILE
    if not path.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return {key: name for name, key in conn.execute("SELECT name, key FROM accounts")}
        finally:
            conn.close()
    except sqlite3.Error:  # no accounts table yet: nobody to name
        return {}


def mediawiki_user_name(name: str) -> str:
    """``name`` as MediaWiki accepts a user name: no ``#<>[]|{}/@:=``, spaces for underscores, a capital first
    letter, and not an address (MediaWiki keeps those for anonymous edits). Empty if nothing is left."""
    text = _SPACES.sub(" ", _INVALID_USER_CHARS.sub("-", name)).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    try:
        ipaddress.ip_address(text)
        return "Wikipeer-" + text
    except ValueError:
        return text


class UserNames:
    """One MediaWiki user name per key, unique among the names given out, for an export or an api.php answer.

    Names chosen on this node come first: each keeps its own name. A profile's
    name is used as it is when the view trusts the key; otherwise, or when the
    name is taken (by a name here, another key, or one of ``reserved``, the
    imported users of the export), it gets the key's fingerprint in
    parentheses, "Bob (7Hk2mQ_xYz)". A key with no name is "Wikipeer-" and its
    fingerprint, as before.
    """

    def __init__(self, people: People, trusted: frozenset[str], reserved: Iterable[str] = ()) -> None:
        self.people, self.trusted = people, trusted
        self._names: dict[str, str] = {}
        self._taken: dict[str, str] = {name_folded(n): "" for n in reserved}  # folded name -> key ("" imported)
        for person in people.confirmed():
            self._give(person.key, mediawiki_user_name(person.name))

    def name(self, key: str) -> str:
        """The user name of ``key``, the same every time it is asked."""
        given = self._names.get(key)
        if given is not None:
            return given
        person = self.people.person(key)
        bare = mediawiki_user_name(person.name) if person.source != KEY else ""
        if not bare:
            return self._give(key, key_user_name(key))
        if person.source == PROFILE and (person.clash or key not in self.trusted):
            bare = f"{bare} ({_plain_fingerprint(key)})"
        return self._give(key, bare)

    def _give(self, key: str, name: str) -> str:
        owner = self._taken.get(name_folded(name))
        if owner is not None and owner != key:
            name = f"{name} ({_plain_fingerprint(key)})"
            if self._taken.get(name_folded(name), key) != key:  # even that is taken: the whole key cannot be
                name = f"{name} ({key.removeprefix('ed25519:')})"
        self._taken[name_folded(name)] = key
        self._names[key] = name
        return name


def key_user_name(key: str) -> str:
    """The user name of a key nobody named: "Wikipeer-" and its fingerprint."""
    return "Wikipeer-" + _plain_fingerprint(key)


def _plain_fingerprint(key: str) -> str:
    """The fingerprint without its ellipsis, spelled as MediaWiki keeps a user name (no underscores)."""
    return key.removeprefix("ed25519:")[:FINGERPRINT_CHARS].replace("_", "-")
