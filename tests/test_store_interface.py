"""Callers never see SQL: outside store/, no module imports a database driver, touches a connection
(``.conn``) or runs a statement (``.execute``), nor holds SQL text. docs/scale-interface.md says what
callers use instead. render/language_data.py reads its own read-only data file and is let be."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import wikipeer

SRC = Path(wikipeer.__file__).parent
ALLOWED = {Path("render/language_data.py")}
"""Modules outside store/ that may use SQLite: their own read-only data, not the node's store."""
DRIVERS = {"sqlite3", "psycopg", "psycopg2", "psycopg_pool", "apsw"}
STATEMENT_ATTRS = {"conn", "execute", "executemany", "executescript"}
SQL = re.compile(r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|"
                 r"CREATE\s+(TABLE|INDEX)\s|PRAGMA\s|BEGIN\b)", re.S)


def violations(source: str, name: str) -> list[str]:
    """What in one module's source reaches past the store's interface, one line each (file:line: what)."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found += [f"{name}:{node.lineno}: imports {a.name}" for a in node.names if a.name.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DRIVERS:
            found.append(f"{name}:{node.lineno}: imports from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in STATEMENT_ATTRS:
            found.append(f"{name}:{node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(f"{name}:{node.lineno}: holds SQL {node.value[:40]!r}")
    return found


def outside_store() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py")
                  if p.relative_to(SRC).parts[0] != "store" and p.relative_to(SRC) not in ALLOWED)


def test_no_module_outside_the_store_sees_sql():
    modules = outside_store()
    assert len(modules) > 100 and SRC / "fsck.py" in modules and SRC / "store" / "store.py" not in modules
    found = [v for path in modules for v in violations(path.read_text(), str(path.relative_to(SRC)))]
    assert found == [], "move these into store/ (docs/scale-interface.md):\n" + "\n".join(found)


def test_the_check_finds_each_way_past_the_interface():
    source = '''
import sqlite3
from psycopg import sql
import os.path

def pages(store):
    rows = store.conn.execute("SELECT id FROM pages WHERE wiki = ?", ("w",))
    store.writer.executemany("x", [])
    return "Select the page you want", "UPDATE the page", store.page_by_id(1)
'''
    assert sorted(violations(source, "m.py")) == [
        "m.py:2: imports sqlite3", "m.py:3: imports from psycopg", "m.py:7: holds SQL 'SELECT id FROM pages WHERE wiki = ?'",
        "m.py:7: uses .conn", "m.py:7: uses .execute", "m.py:8: uses .executemany"]
