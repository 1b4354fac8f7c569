"""A real PostgreSQL for the tests: initdb into a temporary directory, listening only on a Unix socket
there, stopped by its PID. Each store gets a database of its own, made from a template that holds
pg_trgm already (CREATE DATABASE ... TEMPLATE is a file copy: a few milliseconds)."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

TEMPLATE = "wikipeer_template"


def pg_bin(name: str) -> str:
    """A PostgreSQL program from Debian's versioned directory (the newest there)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(f"no {name} under /usr/lib/postgresql/*/bin: install Debian's postgresql package")
    return found[-1]


def _as_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the postgres (or nobody) user."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", f"--reuid={_owner().pw_uid}", f"--regid={_owner().pw_gid}", "--clear-groups", "--", *cmd]


def _owner() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return pwd.getpwnam("nobody")


class PgServer:
    """One postmaster of our own; ``url(db)`` names a database on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.socket = root  # a short path: a Unix socket path is bounded to ~100 bytes
        self.proc: subprocess.Popen | None = None
        self._made: set[str] = set()

    def start(self) -> "PgServer":
        if os.geteuid() == 0:
            os.chown(self.root, _owner().pw_uid, _owner().pw_gid)
        subprocess.run(_as_owner([pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                        "--locale=C", "--no-sync"]), check=True, capture_output=True)
        self.launch()
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self.url(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_trgm")
        # The store's tables made once here: each database copied from the template opens at once.
        from wikipeer.store.store import Store
        Store(self.root / "template.sqlite", database=self.url(TEMPLATE)).close()
        return self

    def launch(self) -> None:
        """Start the postmaster on the existing data directory and wait until it answers."""
        self.proc = subprocess.Popen(_as_owner(
            [pg_bin("postgres"), "-D", str(self.data), "-k", str(self.socket), "-h", "", "-F",
             "-c", "fsync=off", "-c", "full_page_writes=off",
             "-c", "max_connections=300", "-c", "shared_buffers=32MB"]),
            stdout=subprocess.DEVNULL, stderr=open(self.root / "log", "ab"))
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start: {(self.root / 'log').read_text()[-2000:]}")
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the postmaster (its backends die with it once they notice), and wait for it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        # Orphaned backends hold the shared memory: wait until every one has gone.
        deadline = time.monotonic() + 20
        while _backends(self.data) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server and throw its data away (its temporary directory with it)."""
        if self.proc is not None and self.proc.poll() is None:
            # Immediate shutdown: the data is thrown away, so no shutdown checkpoint of every database.
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str) -> str:
        return f"postgresql://postgres@/{db}?host={self.socket}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def fresh_database(self, name: str) -> str:
        """A new, empty database (made from the template) and its URL."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} STRATEGY FILE_COPY')
        self._made.add(name)
        return self.url(name)

    def copy_database(self, source: str, name: str) -> str:
        """A copy of database ``source`` under ``name`` (nobody may be connected to ``source``)."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        return self.url(name)

    def database_for(self, path: Path) -> str:
        """The database standing for a SQLite file a test names: the same path, the same database."""
        name = "s_" + hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:24]
        if name in self._made:
            return self.url(name)
        return self.fresh_database(name)


def _backends(data: Path) -> list[int]:
    """PIDs of processes still running from this data directory (postgres children orphaned by a SIGKILL)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if b"postgres" in cmd and cwd == str(data):
            out.append(int(pid))
    return out


def start_server() -> PgServer:
    """A started server in a new temporary directory (the caller stops it)."""
    root = Path(tempfile.mkdtemp(prefix="wp-pg-", dir="/tmp"))
    return PgServer(root).start()
