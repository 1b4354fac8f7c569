"""Callers never see SQL: outside store/, no module imports a database driver, touches a connection
(``.conn``) or runs a statement (``.execute``), nor holds SQL text. docs/scale-interface.md says what
callers use instead. render/language_data.py reads its own read-only data file and is let be."""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import wikipeer
from wikipeer.store.interface import StoreBackend, StoreReader, StoreWriter
from wikipeer.store.store import Store, Writer

SRC = Path(wikipeer.__file__).parent
ALLOWED = {Path("render/language_data.py")}
"""Modules outside store/ that may use SQLite: their own read-only data, not the node's store."""
DRIVERS = {"sqlite3", "psycopg", "psycopg2", "psycopg_pool", "apsw"}
STATEMENT_ATTRS = {"conn", "execute", "executemany", "executescript"}
SQL = re.compile(r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|"
                 r"CREATE\s+(TABLE|INDEX)\s|PRAGMA\s|BEGIN\b)", re.S)


def violations(source: str | ast.AST, name: str) -> list[str]:
    """What in one module (its source or tree) reaches past the store's interface, one line each (file:line: what)."""
    found = []
    for node in ast.walk(ast.parse(source, name) if isinstance(source, str) else source):
        if isinstance(node, ast.Import):
            found += [f"{name}:{node.lineno}: imports {a.name}" for a in node.names if a.name.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DRIVERS:
            found.append(f"{name}:{node.lineno}: imports from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in STATEMENT_ATTRS:
            found.append(f"{name}:{node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(f"{name}:{node.lineno}: holds SQL {node.value[:40]!r}")
    return found


@functools.cache
def outside_store() -> dict[Path, ast.AST]:
    """Every module outside store/ but the allowed ones, parsed once for all the tests here."""
    return {p: ast.parse(p.read_text(), str(p)) for p in sorted(SRC.rglob("*.py"))
            if p.relative_to(SRC).parts[0] != "store" and p.relative_to(SRC) not in ALLOWED}


def test_no_module_outside_the_store_sees_sql():
    modules = outside_store()
    assert len(modules) > 100 and SRC / "fsck.py" in modules and SRC / "store" / "store.py" not in modules
    found = [v for path, tree in modules.items() for v in violations(tree, str(path.relative_to(SRC)))]
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


def _signature(fn) -> list[tuple]:
    """A method's parameters as a second backend must take them: names, kinds, defaults, annotations."""
    params = list(inspect.signature(fn).parameters.values())[1:]  # without self
    return [(p.name, p.kind, p.default, str(p.annotation).replace('"', "").replace("'", "")) for p in params]


def _members(protocol: type) -> dict[str, object]:
    return {name: getattr(protocol, name) for name in dir(protocol)
            if not name.startswith("_") and callable(getattr(protocol, name, None))}


@pytest.mark.parametrize("protocol, implementation", [(StoreBackend, Store), (StoreWriter, Writer)])
def test_the_sqlite_store_fills_every_member_of_the_interface_as_declared(protocol, implementation):
    members = _members(protocol)
    assert len(members) > (40 if protocol is StoreBackend else 15)
    for name, declared in members.items():
        assert _signature(getattr(implementation, name)) == _signature(declared), name
    props = [name for name in dir(protocol) if isinstance(getattr(protocol, name, None), property)]
    assert all(isinstance(getattr(implementation, name), property) for name in props)


def test_a_store_and_its_writer_are_what_the_protocols_say(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    try:
        assert isinstance(store, StoreBackend) and isinstance(store, StoreReader)
        assert {"path", "index_trusted"} <= set(StoreReader.__annotations__) and store.path == tmp_path / "store.sqlite"
        with store.write() as writer:
            assert isinstance(writer, StoreWriter) and writer.touched_pages == set() and writer.packed == {}
        assert not isinstance(object(), StoreReader)
    finally:
        store.close()


def _asked_of_a_store(tree: ast.AST) -> Iterator[tuple[str, str, int]]:
    """("Store" or "Writer", attribute, line) for each attribute a module asks of a store or a writer:
    through ``node.store``, ``self.writer``, or a parameter annotated Store or Writer."""
    typed = {a.arg: ast.unparse(a.annotation).strip("'\"") for a in ast.walk(tree)
             if isinstance(a, ast.arg) and a.annotation is not None}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        receiver = ast.unparse(node.value)
        kind = typed.get(receiver) if isinstance(node.value, ast.Name) else None
        if receiver.endswith("node.store"):
            kind = "Store"
        elif receiver.endswith("self.writer"):
            kind = "Writer"
        if kind in ("Store", "Writer"):
            yield kind, node.attr, node.lineno


def test_callers_ask_a_store_only_what_the_interface_lists():
    allowed = {"Store": set(dir(StoreBackend)) | set(StoreReader.__annotations__),
               "Writer": set(dir(StoreWriter)) | set(StoreWriter.__annotations__)}
    asked, beyond = set(), []
    for path, tree in outside_store().items():
        for kind, attr, line in _asked_of_a_store(tree):
            asked.add((kind, attr))
            if attr not in allowed[kind]:
                beyond.append(f"{path.relative_to(SRC)}:{line}: {kind}.{attr}")
    assert ("Store", "page") in asked and ("Writer", "add_revision") in asked  # the scan sees the callers
    assert beyond == [], "add these to store/interface.py (or ask through a store module):\n" + "\n".join(beyond)
    example = ast.parse("def f(store: Store, w: Writer):\n    store.conn\n    node.store.page()\n    w.repack()\n")
    assert sorted(_asked_of_a_store(example)) == [("Store", "conn", 2), ("Store", "page", 3), ("Writer", "repack", 4)]
