"""A node: its directory, store, keys, and the settings that tie them together.

    DIR/store.sqlite   the object store
    DIR/keys/*.key     identity keys (0600)
    DIR/config.json    which key signs edits by default
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

from wikipeer.errors import NotFound, UserError
from wikipeer.model.title import WikiConfig, normalize_title
from wikipeer.policy.view import View
from wikipeer.store.keyring import NODE_KEY, Identity, Keyring
from wikipeer.store.records import PageRow
from wikipeer.store.store import Store

DEFAULT_USER_KEY = "me"


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
    """

    default_key: str | None = None
    follow_wikis: list[str] = field(default_factory=list)
    follow_namespaces: list[list] = field(default_factory=list)  # [wiki, ns]
    follow_pages: list[str] = field(default_factory=list)
    cache_quota: int | None = None


class Node:
    """An opened node directory."""

    def __init__(self, directory: Path, store: Store, keyring: Keyring, config: NodeConfig) -> None:
        self.dir, self.store, self.keyring, self.config = directory, store, keyring, config
        self.passphrase = os.environ.get("WIKIPEER_PASSPHRASE")
        self._view: tuple[int, View] | None = None

    @classmethod
    def init(cls, directory: Path, chain: int | None = None, passphrase: str | None = None) -> "Node":
        """Create a node directory with its node key; an existing node is opened as it is."""
        directory.mkdir(parents=True, exist_ok=True)
        keyring = Keyring(directory / "keys")
        if not keyring.exists(NODE_KEY):
            keyring.create(NODE_KEY, passphrase)
        node = cls(directory, Store(directory / "store.sqlite", chain=chain), keyring, _load_config(directory))
        node.save_config()
        return node

    @classmethod
    def open(cls, directory: Path) -> "Node":
        if not (directory / "store.sqlite").exists():
            raise UserError(f"no node at {directory}: run 'wikipeer init' first (or choose one with --node)")
        return cls(directory, Store(directory / "store.sqlite"), Keyring(directory / "keys"), _load_config(directory))

    def save_config(self) -> None:
        tmp = self.dir / "config.json.tmp"
        tmp.write_text(json.dumps(asdict(self.config), indent=1))
        os.replace(tmp, self.dir / "config.json")

    def view(self) -> View:
        """The node's default view: it trusts its own keys and those it imported.

        Read again only when this process adds a key: a long history asks once per line.
        """
        if self._view is None or self._view[0] != self.keyring.generation:
            self._view = (self.keyring.generation, View(self.keyring.public_keys()))
        return self._view[1]

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

    def wiki_or_default(self, name: str) -> WikiConfig:
        """A wiki's configuration for reading: MediaWiki's defaults when unknown, saving nothing."""
        return self.store.wiki_config(name) or WikiConfig(name=name, sitename=name)

    def close(self) -> None:
        self.store.close()


def _load_config(directory: Path) -> NodeConfig:
    path = directory / "config.json"
    if not path.exists():
        return NodeConfig()
    known = NodeConfig.__dataclass_fields__
    return NodeConfig(**{k: v for k, v in json.loads(path.read_text()).items() if k in known})


def find_page(node: Node, wiki: str, raw_title: str) -> PageRow:
    """The page a user named, normalised by the wiki's rules, or NotFound."""
    title = normalize_title(node.wiki_or_default(wiki), raw_title)
    page = node.store.page(wiki, title.ns, title.text)
    if page is None:
        raise NotFound(f"no page {title.full!r} in wiki {wiki!r}")
    return page
