"""Opening a node's store by its location: a file path is SQLite, a ``postgresql://`` URL is PostgreSQL.

The node directory always holds the local part (``store.sqlite`` for SQLite; the packs beside it for
both); a node whose config.json names a ``store`` URL keeps its metadata in that database. ``blobs``
(where packs and media chunks go, e.g. ``s3://``) is the blob store's (store/blobs).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from wikipeer.errors import UserError
from wikipeer.store.postgres.server import ServerGone, server_name
from wikipeer.store.store import Store

SCHEMES = ("postgresql://", "postgres://")
NODE_PLACEHOLDER = "{node}"
"""In a store URL given to ``init``: a database name made from the node directory's path (many nodes, one server)."""


def is_database_url(location: str | None) -> bool:
    return bool(location) and location.startswith(SCHEMES)


def open_store(directory: Path, location: str | None, chain: int | None = None, blobs: str | None = None) -> Store:
    """The store of the node in ``directory``: its SQLite file, or the PostgreSQL database ``location``;
    its media chunks in ``blobs`` (None: where the store keeps them, pack files beside it by default)."""
    if location is not None and not is_database_url(location):
        raise UserError(f"store location {location!r}: give a postgresql:// URL (or none, for SQLite in the node)")
    return Store(directory / "store.sqlite", chain=chain, blobs=blobs, database=location)


def node_database(location: str, directory: Path) -> str:
    """``location`` with ``{node}`` replaced by a database name made from ``directory``'s absolute path."""
    if NODE_PLACEHOLDER not in location:
        return location
    name = "wikipeer_" + hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:20]
    return location.replace(NODE_PLACEHOLDER, name)


def create_database(url: str) -> bool:
    """Make the database ``url`` names if the server does not have it yet (C collation: text sorts by
    code point, as SQLite's does), with the pg_trgm extension search needs; whether it was made now."""
    name, admin = _database_name(url), _admin_url(url)
    import psycopg  # only here: a SQLite node never pays its import

    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            made = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
            if made:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' '
                             "LC_COLLATE 'C' LC_CTYPE 'C'")
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ServerGone(f"cannot prepare the store at {server_name(url)}: {reason}") from None
    return made


def drop_database(url: str) -> None:
    """Remove the database ``url`` names, sessions still open on it included: only for one this process
    made and must not leave behind (a restore that failed)."""
    import psycopg

    try:
        with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{_database_name(url)}" WITH (FORCE)')
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ServerGone(f"cannot remove the store at {server_name(url)}: {reason}") from None


def _database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise UserError(f"store {server_name(url)}: the URL names no database (postgresql://HOST/DATABASE)")
    return name


def _admin_url(url: str) -> str:
    """The server's ``postgres`` database, where databases are made and removed."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))
