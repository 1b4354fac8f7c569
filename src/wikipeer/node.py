"""A node: its directory, store, keys, and the settings that tie them together.

    DIR/store.sqlite   the object store
    DIR/keys/*.key     identity keys (0600)
    DIR/config.json    which key signs edits by default, views, limits

Another process may change the keys and config.json while a node serves
(`wikipeer key import`, `trust subscribe`, `view default`): ``refresh`` takes
them in, and views are rebuilt when the key folder changes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from wikipeer.errors import NotFound, UserError
from wikipeer.model.title import WikiConfig, normalize_title
from wikipeer.model.block import Block
from wikipeer.model.objects import Trust
from wikipeer.policy.blocklist import BlockGuard
from wikipeer.policy.rules import Policy
from wikipeer.policy.trust import Members, members, parse_community
from wikipeer.policy.view import View
from wikipeer.store import engine, indexer
from wikipeer.store.keyring import ACCOUNT_PREFIX, NODE_KEY, Identity, Keyring
from wikipeer.store.records import PageRow
from wikipeer.store.schema import KIND_BLOCKLIST, KIND_TRUST
from wikipeer.store.blobs import open_blobs
from wikipeer.store.store import Store

if TYPE_CHECKING:
    from wikipeer.ingest import IngestReport
    from wikipeer.pipeline.prepared import Prepared

DEFAULT_USER_KEY = "me"
FOLLOW_SECONDS = 0.5
"""How often a node looks whether another process changed its keys or config.json (two stats)."""


def default_node_dir() -> Path:
    """``--node`` if given, else WIKIPEER_NODE, else the platform's user data directory."""
    env = os.environ.get("WIKIPEER_NODE")
    return Path(env) if env else Path(platformdirs.user_data_dir("wikipeer")) / "node"


@dataclass(slots=True)
class NodeConfig:
    """Settings kept in config.json.

    ``follow_*``: what a partial node syncs (nothing listed: everything);
    pages are "wiki/Full title". ``cache_quota``: bytes that fetched pages
    may take before the least recently read are evicted (None: no limit).
    ``views``: named views, each a list of communities "ISSUER_KEY/name";
    ``default_view`` is the one readers get unless they choose.
    ``max_take_ratio``: callers that took more than this many objects per
    object they gave are refused for a while (None: never).
    ``max_held*``, ``held_days``: how much may wait in the held table, per
    source and in all (see policy/rules.py), and for how long; None keeps the
    default of policy/rules.py.
    ``trust_own_communities``: the default view trusts the members of every
    community this node's own keys issue, from its creation (docs/trust.md).
    ``blobs``: where media chunks are kept, s3://BUCKET/PREFIX[?endpoint=URL] (None: pack files beside the
    store; docs/scale-blobs.md).
    """

    default_key: str | None = None
    follow_wikis: list[str] = field(default_factory=list)
    follow_namespaces: list[list] = field(default_factory=list)  # [wiki, ns]
    follow_pages: list[str] = field(default_factory=list)
    cache_quota: int | None = None
    views: dict[str, list[str]] = field(default_factory=dict)
    default_view: str | None = None
    max_take_ratio: float | None = None  # throttle callers that took this many times what they gave
    max_held: int | None = None
    max_held_bytes: int | None = None
    max_held_total: int | None = None
    max_held_total_bytes: int | None = None
    held_days: float | None = None
    trust_own_communities: bool = True
    store: str | None = None  # a postgresql:// URL holding the store's metadata; None: store.sqlite here
    blobs: str | None = None  # where packs and media chunks go (s3://...); None: beside the store

    def held_limits(self) -> dict[str, int]:
        """The held-table bounds set here, as Policy fields (those left None are not named)."""
        limits = {name: getattr(self, name) for name in ("max_held", "max_held_bytes", "max_held_total",
                                                          "max_held_total_bytes")}
        try:
            limits["held_seconds"] = None if self.held_days is None else self.held_days * 86400
            return {name: _positive(value) for name, value in limits.items() if value is not None}
        except (TypeError, ValueError):
            raise UserError(f"config.json: {', '.join(limits)} (held_days for held_seconds) must be positive "
                            f"numbers or null, not {limits}") from None


class Node:
    """An opened node directory."""

    def __init__(self, directory: Path, store: Store, keyring: Keyring, config: NodeConfig) -> None:
        self.dir, self.store, self.keyring, self.config = directory, store, keyring, config
        self.passphrase = os.environ.get("WIKIPEER_PASSPHRASE")
        self._config_stamp = _file_stamp(directory / "config.json")
        self._followed = time.monotonic()
        self._ingests = 0  # batches this process took in through ingest()
        self._notices_seen = (-1, 0)
        self._views: dict[str | None, tuple[tuple, View]] = {}
        self._policy: tuple[tuple, Policy] | None = None
        self.made_database: str | None = None
        """The PostgreSQL database ``init`` made for this node just now (a failed restore removes it again)."""
        store.index_trusted = self.index_keys

    @classmethod
    def init(cls, directory: Path, chain: int | None = None, passphrase: str | None = None,
             store: str | None = None, blobs: str | None = None) -> "Node":
        """Create a node directory with its node key; an existing node is opened as it is.

        ``store``: a postgresql:// URL for the store's metadata (its database made if missing; ``{node}`` in
        it stands for a name made from the directory); default $WIKIPEER_STORE, else SQLite in the directory.
        ``blobs``: keep media chunks there (s3://...) rather than in pack files beside the store.
        """
        if blobs is not None:  # a bucket that cannot be used is named before anything is made
            open_blobs(blobs, directory / "store.sqlite").check()
        directory.mkdir(parents=True, exist_ok=True)
        config = _load_config(directory)
        store = _store_location(directory, config, store)
        made = None
        if store is not None and config.store is None:
            made = store if engine.create_database(store) else None
            config.store = store
        config.blobs = blobs or config.blobs
        keyring = Keyring(directory / "keys")
        if not keyring.exists(NODE_KEY):
            keyring.create(NODE_KEY, passphrase)
        node = cls(directory, engine.open_store(directory, config.store, chain=chain, blobs=config.blobs),
                   keyring, config)
        node.made_database = made
        node.save_config()
        return node

    @classmethod
    def open(cls, directory: Path) -> "Node":
        config = _load_config(directory)
        if config.store is None and not (directory / "store.sqlite").exists():
            raise UserError(f"no node at {directory}: run 'wikipeer init' first (or choose one with --node)")
        return cls(directory, engine.open_store(directory, config.store, blobs=config.blobs),
                   Keyring(directory / "keys"), config)

    def save_config(self) -> None:
        tmp = self.dir / "config.json.tmp"
        tmp.write_text(json.dumps(asdict(self.config), indent=1))
        os.replace(tmp, self.dir / "config.json")
        self._config_stamp = _file_stamp(self.dir / "config.json")

    def refresh(self) -> None:
        """Read config.json again if another process replaced it since (one stat when it did not).

        A file that no longer parses keeps the settings in force: the node
        goes on as it was rather than fail every request.
        """
        stamp = _file_stamp(self.dir / "config.json")
        if stamp == self._config_stamp:
            return
        self._config_stamp = stamp
        try:
            self.config = _load_config(self.dir)
        except (ValueError, TypeError):
            pass

    def follow_changes(self) -> None:
        """Take in the keys and settings another process changed, looking at most once in FOLLOW_SECONDS.

        This process's own changes need no look: they are in ``config`` and
        the keyring's generation already. Views, the web page's requests and
        its cache call this, so a `key import`, `trust subscribe` or `view
        default` reaches a running server within FOLLOW_SECONDS.
        """
        now = time.monotonic()
        if now - self._followed < FOLLOW_SECONDS:
            return
        self._followed = now
        self.refresh()
        self.keyring.list()  # its generation goes up if another process added or removed a key

    def settings_version(self) -> tuple:
        """Changes whenever the keys or the settings do, here or in another process (caches compare it)."""
        self.follow_changes()
        return self.keyring.generation, self._config_stamp

    def view(self, name: str | None = None) -> View:
        """A view: the node's own and imported keys (not its web accounts'), plus the members of the
        view's communities; the default view also trusts the communities the node's keys issue.

        ``name`` picks a view from the settings; None is the node's default.
        Built again only when a key, a notice or the settings change: a long
        history asks once per line.
        """
        self.follow_changes()
        name = name if name is not None else self.config.default_view
        if name is not None and name not in self.config.views:
            raise UserError(f"no view named {name!r} (see 'wikipeer view list')")
        communities = tuple(self.config.views.get(name, ())) if name else ()
        own = self.config.trust_own_communities and name == self.config.default_view
        # Subscribed lists are checked on every call, as they always were; the node's own are rebuilt
        # after each ingest here and whenever the log moved: another process (a second serving worker)
        # may have stored a trust list, and a page cached under the new log position must not show the old view.
        stamp = (self.keyring.generation, self._notices_version() if communities else 0,
                 (self._ingests, self.store.last_seq()) if own else 0, communities, own)
        cached = self._views.get(name)
        if cached is None or cached[0] != stamp:
            communities += self.own_communities() if own else ()
            trusted = self.keyring.trusted_keys() | self.members(communities).keys
            cached = self._views[name] = (stamp, View(trusted))
        return cached[1]

    def own_communities(self) -> tuple[str, ...]:
        """The communities ("ISSUER_KEY/name") this node's own keys issue (its web accounts' keys are not its own)."""
        own = frozenset(i.public for i in self.keyring.list() if i.private and not i.name.startswith(ACCOUNT_PREFIX))
        return tuple(f"{t.key}/{t.community}" for _, t in self.store.current_notices(KIND_TRUST) if t.key in own)

    def _notices_version(self) -> int:
        # Counting notices reads the table; nothing arrived when the newest object is the same (an index look-up).
        seq = self.store.last_seq()
        if self._notices_seen[0] != seq:
            self._notices_seen = (seq, self.store.notices_version())
        return self._notices_seen[1]

    def members(self, communities: Iterable[str]) -> Members:
        """Who these communities ("ISSUER_KEY/name") trust, from the newest trust lists held."""
        def newest(issuer: str, name: str) -> Trust | None:
            found = self.store.current_notices(KIND_TRUST, issuer, name)
            return found[0][1] if found else None

        return members([parse_community(c) for c in communities], newest)

    def policy(self) -> Policy:
        """What ingest enforces here: the blocklists of the issuers the default view trusts."""
        trusted = self.view().trusted
        stamp = (self.store.notices_version(), trusted)
        if self._policy is None or self._policy[0] != stamp:
            lists = [b for _, b in self.store.current_notices(KIND_BLOCKLIST) if b.key in trusted]
            self._policy = (stamp, Policy(guard=BlockGuard(lists), **self.config.held_limits()))
        return self._policy[1]

    def ingest(self, blocks: Iterable[Block], source: str, shallow: bool = False, prepared: Prepared | None = None) -> IngestReport:
        """Blocks through the one door, with this node's policy (the pages touched are marked for the index).

        ``prepared``: the pipeline's work for these blocks (pipeline.feed); a
        big batch without it is prepared in the workers here, a small one is
        checked in this process.
        """
        from wikipeer.ingest import ingest  # loaded by the commands that take blocks in, not by every Node user
        from wikipeer.pipeline.feed import SMALL, prepare_batch

        blocks = list(blocks)
        policy = self.policy()
        if prepared is None and len(blocks) >= SMALL:
            prepared = prepare_batch(blocks, policy.max_text, source)
        try:
            return ingest(self.store, blocks, source, policy=policy, shallow=shallow, prepared=prepared)
        finally:
            self._ingests += 1  # a trust list of the node's own may have come: its default view looks again

    def catch_up_index(self, progress: Callable[[int], None] | None = None,
                       stop: threading.Event | None = None) -> int:
        """Index every page waiting for it (store/indexer.py), under the default view; returns how many."""
        return indexer.catch_up(self.store, self.index_keys, progress=progress, stop=stop)

    def index_keys(self) -> frozenset[str]:
        """The keys of the view the search index follows: the node's default view."""
        return self.view().trusted

    def local_keys(self) -> frozenset[str]:
        """Keys whose private half this node holds: its own, its users' and its accounts'."""
        return frozenset(i.public for i in self.keyring.list() if i.private)

    def user_key(self) -> Identity:
        """The key that signs edits, created on first use."""
        name = self.config.default_key or DEFAULT_USER_KEY
        if not self.keyring.exists(name):
            self.keyring.create(name)
        if self.config.default_key != name:
            self.config.default_key = name
            self.save_config()
        return self.keyring.get(name)

    def wiki(self, name: str) -> WikiConfig:
        """A wiki's configuration, made with MediaWiki's defaults the first time it is named."""
        config = self.store.wiki_config(name)
        if config is None:
            config = WikiConfig(name=name, sitename=name)
            self.store.set_wiki_config(config)
        return config

    def adopt_wiki_configs(self, offered: object) -> list[tuple[str, str]]:
        """Give wikis that have no configuration here the one another node sent ({name: config dict}).

        Returns the (wiki, reason) of offers that are not a configuration; the rest are kept.
        """
        refused: list[tuple[str, str]] = []
        if not isinstance(offered, dict):
            return refused
        for wiki, config in offered.items():
            if self.store.wiki_config(wiki) is not None or not isinstance(config, dict):
                continue
            try:
                self.store.set_wiki_config(WikiConfig.from_dict({**config, "name": wiki}))
            except (KeyError, TypeError, ValueError) as exc:
                refused.append((wiki, str(exc)))
        return refused

    def wiki_or_default(self, name: str) -> WikiConfig:
        """A wiki's configuration for reading: MediaWiki's defaults when unknown, saving nothing."""
        return self.store.wiki_config(name) or WikiConfig(name=name, sitename=name)

    def close(self) -> None:
        self.store.close()


def _positive(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(value)
    return int(value)


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced (save_config writes a new file, so a new inode) or written."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _store_location(directory: Path, config: NodeConfig, asked: str | None) -> str | None:
    """Where ``init`` keeps the node's store: the one it has, else ``asked``, else $WIKIPEER_STORE (a new node
    only), else None (SQLite in the directory). A node is never silently moved to another, empty, store."""
    own_sqlite = (directory / "store.sqlite").exists() and config.store is None
    if asked is None:
        if config.store is not None or own_sqlite:
            return config.store
        asked = os.environ.get("WIKIPEER_STORE") or None
        if asked is None:
            return None
    asked = engine.node_database(asked, directory)
    if not engine.is_database_url(asked):
        raise UserError(f"--store {asked!r}: give a postgresql:// URL (or none, for SQLite in the node)")
    have = config.store or (str(directory / "store.sqlite") if own_sqlite else None)
    if have is not None and have != asked:
        raise UserError(f"{directory} keeps its store in {engine.server_name(have) if config.store else have}: "
                        "'wikipeer migrate --to URL --blobs s3://... --switch' moves a node to another store")
    return asked


def _load_config(directory: Path) -> NodeConfig:
    path = directory / "config.json"
    if not path.exists():
        return NodeConfig()
    known = NodeConfig.__dataclass_fields__
    return NodeConfig(**{k: v for k, v in json.loads(path.read_text()).items() if k in known})


def find_page(node: Node, wiki: str, raw_title: str) -> PageRow:
    """The page a user named, normalised by the wiki's rules, or NotFound."""
    config = node.wiki_or_default(wiki)
    title = normalize_title(config, raw_title)
    page = node.store.page(wiki, title.ns, title.text)
    if page is None:
        from wikipeer.store.nearest import did_you_mean, nearest_titles  # only on the way to an error
        require_wiki(node, wiki)
        near = [config.full_title(title.ns, t) for t in nearest_titles(node.store, wiki, title.ns, title.text)]
        raise NotFound(f"no page {title.full!r} in wiki {wiki!r}{did_you_mean(near)}")
    return page


def require_wiki(node: Node, wiki: str) -> None:
    """NotFound, naming the wikis nearest ``wiki`` (store/nearest.py), when the node holds no wiki of that name."""
    from wikipeer.store.nearest import LISTED_WIKIS, unknown_wiki
    unknown = unknown_wiki(node.store, wiki)
    if unknown is None:
        return
    hint = ""  # the commands that help, which only a command line can name
    if not unknown.held:
        hint = " ('wikipeer import' or 'wikipeer edit' makes one)"
    elif unknown.held > LISTED_WIKIS:
        hint = " ('wikipeer stats' lists them)"
    raise NotFound(unknown.sentence + hint)
