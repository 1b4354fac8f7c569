"""Naming a PostgreSQL server in messages, and the error for one that cannot be reached.

Kept apart from connection.py so that code which only needs to name or recognise these (the store, the
engine, every command's start) does not import psycopg, a third of a second that SQLite nodes never need.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wikipeer.errors import ServiceGone


class ServerGone(ServiceGone):
    """The PostgreSQL server of the store cannot be reached (or went away in the middle of a statement)."""


def server_name(url: str) -> str:
    """The server and database a URL names, without a password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:  # a Unix socket: postgresql:///db?host=/dir
        host = next((q[5:] for q in parts.query.split("&") if q.startswith("host=")), "local socket")
    port = f":{parts.port}" if parts.port else ""
    return f"PostgreSQL {host}{port}{parts.path or '/'}"
