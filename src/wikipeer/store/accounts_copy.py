"""The accounts file (``accounts.sqlite``) as SQL text and back: what a private backup carries of it.

Sessions are left out: they are short-lived, and copying them would make every login a change to
back up.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_SKIPPED = ('INSERT INTO "sessions"',)


def dump_accounts(path: Path) -> str:
    """The accounts file at ``path`` as SQL statements, its sessions left out (read-only: it is not changed)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(line for line in conn.iterdump() if not line.startswith(_SKIPPED))
    finally:
        conn.close()


def load_accounts(path: Path, sql: str) -> int:
    """Run a dump's SQL into the accounts file at ``path``; returns how many accounts it then holds."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(sql)
        return conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
    finally:
        conn.close()
