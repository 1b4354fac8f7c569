"""A throwaway, self-contained MediaWiki (Debian 12's package, 1.39) on SQLite.

Used by the integration tests (tests/test_mediawiki.py) and meant for the
benchmark too (timing ``importDump.php`` on the same file)::

    mw = MediaWikiInstance(tmp_dir, sitename="Wikipedia", dbname="simplewiki")
    mw.install()                         # install.php, ~1 s
    result = mw.import_dump("dump.xml")  # importDump.php; result.seconds, result.output
    mw.dump_backup("back.xml")           # dumpBackup.php --full
    url = mw.serve()                     # php -S 127.0.0.1:PORT; url + "/api.php"
    mw.api(action="query", titles="April", prop="revisions", rvprop="content")
    mw.stop()

How the instance stays inside ``tmp_dir``: Debian installs the code in
/usr/share/mediawiki, whose LocalSettings.php is a symlink into /etc/mediawiki.
We never touch that: ``install.php --confpath DIR`` writes our own
LocalSettings.php into ``tmp_dir/conf``, ``--dbpath`` puts the SQLite files in
``tmp_dir/db``, maintenance scripts get ``--conf`` (and ``MW_CONFIG_FILE``),
and the PHP built-in web server gets ``MW_CONFIG_FILE`` in its environment
(MediaWiki 1.38+ reads it in wfDetectLocalSettingsFile). The code tree itself
is only read, so no copy of it is needed.

Everything listens on 127.0.0.1 only; nothing reaches the internet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MEDIAWIKI_DIR = Path(os.environ.get("MEDIAWIKI_DIR", "/usr/share/mediawiki"))
PHP = os.environ.get("PHP", "php")
LUA = os.environ.get("LUA", "/usr/bin/lua5.1")  # Debian's lua5.1, Scribunto's LuaStandalone interpreter
INSTALL_HINT = ("install Debian's packages with `bash scripts/system-deps.sh` "
                "(it runs apt-get for mediawiki, php-sqlite3 and php-cli when missing)")

# Lines importDump.php prints on every successful run: anything else it says is a complaint.
_IMPORT_CHATTER = re.compile(
    r"^(Done!|You might want to run rebuildrecentchanges\.php.*|and initSiteStats\.php.*|"
    r"\d+ \([\d.]+ pages/sec [\d.]+ revs/sec\)|)$")


class MediaWikiUnavailable(RuntimeError):
    """PHP or MediaWiki is not installed here (or lacks SQLite support)."""


class MediaWikiError(RuntimeError):
    """A MediaWiki command failed; the message carries its command line and output."""


@dataclass
class ScriptResult:
    """What one maintenance script did."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (f"$ {' '.join(self.args)}\nexit {self.returncode} after {self.seconds:.2f} s\n"
                f"--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}")


@dataclass
class ImportResult(ScriptResult):
    """importDump.php's run, with the lines that were not its usual chatter."""

    @property
    def complaints(self) -> list[str]:
        return [line for line in self.output.splitlines() if not _IMPORT_CHATTER.match(line.strip())]


def check_available(mediawiki_dir: Path = MEDIAWIKI_DIR, php: str = PHP) -> str:
    """The MediaWiki version, or MediaWikiUnavailable saying what is missing and how to get it."""
    php_path = shutil.which(php)
    if php_path is None:
        raise MediaWikiUnavailable(f"no `{php}` command: {INSTALL_HINT}")
    if not (mediawiki_dir / "maintenance" / "install.php").is_file():
        raise MediaWikiUnavailable(f"no MediaWiki in {mediawiki_dir}: {INSTALL_HINT}")
    modules = subprocess.run([php_path, "-m"], capture_output=True, text=True, timeout=60).stdout.lower().split()
    for module in ("pdo_sqlite", "xml", "mbstring", "intl"):
        if module not in modules:
            raise MediaWikiUnavailable(f"PHP lacks the {module} extension: {INSTALL_HINT}")
    version_file = (mediawiki_dir / "includes" / "Defines.php").read_text(errors="replace")
    match = re.search(r"define\(\s*'MW_VERSION',\s*'([^']+)'", version_file)
    return match.group(1) if match else "unknown"


def scribunto_settings(lua: str = LUA) -> str:
    """LocalSettings.php lines that run Lua modules: Debian's Scribunto with LuaStandalone on LUA.

    The parser cache is off too, so that every ``action=parse`` really parses (``page=`` would
    otherwise be answered from the cache after the first time).
    """
    if not Path(lua).is_file():
        raise MediaWikiUnavailable(f"no Lua interpreter at {lua} for Scribunto: {INSTALL_HINT}")
    php_lua = lua.replace("\\", "\\\\").replace("'", "\\'")
    return "\n".join([
        "wfLoadExtension( 'Scribunto' );",
        "$wgScribuntoDefaultEngine = 'luastandalone';",
        f"$wgScribuntoEngineConf['luastandalone']['luaPath'] = '{php_lua}';",
        "$wgParserCacheType = CACHE_NONE;",
    ])


def _tail(path: Path, size: int = 200) -> bytes:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - size))
        return f.read()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MediaWikiInstance:
    """One MediaWiki whose configuration, database, caches and uploads all live in ``root``.

    ``sitename`` also names the project namespace (ns 4), as on Wikipedia where
    the site "Wikipedia" has "Wikipedia:" pages; ``dbname`` becomes the dump's
    ``<dbname>``; ``lang`` is $wgLanguageCode (it names the namespaces);
    ``capital_links`` False makes titles case-sensitive (``<case>`` "case-sensitive").
    ``extra_settings`` is PHP appended to LocalSettings.php (e.g. $wgExtraNamespaces).
    ``uploads`` True lets users upload files (into ``root/images``), as tests/mw_populate.py does.
    ``scribunto`` True runs ``{{#invoke:}}`` (``scribunto_settings``: Scribunto, LuaStandalone, no parser cache).
    ``server_php_options`` are extra ``php`` arguments for the web server only (e.g. ``-d opcache.enable_cli=1``).
    """

    def __init__(self, root: str | os.PathLike, *, sitename: str = "Wikipedia", dbname: str = "my_wiki",
                 lang: str = "en", capital_links: bool = True, admin: str = "Admin",
                 password: str = "ThrowawayPassword123", extra_settings: str = "", uploads: bool = False,
                 scribunto: bool = False, server_php_options: tuple[str, ...] = (),
                 mediawiki_dir: str | os.PathLike = MEDIAWIKI_DIR, php: str = PHP) -> None:
        self.root = Path(root).resolve()
        self.sitename = sitename
        self.dbname = dbname
        self.lang = lang
        self.capital_links = capital_links
        self.admin = admin
        self.password = password
        self.extra_settings = extra_settings
        self.uploads = uploads
        self.scribunto = scribunto
        self.server_php_options = tuple(server_php_options)
        self.mediawiki_dir = Path(mediawiki_dir)
        self.php = php
        self.conf_dir = self.root / "conf"
        self.db_dir = self.root / "db"
        self.settings = self.conf_dir / "LocalSettings.php"
        self.port: int | None = None
        self.version: str | None = None
        self._server: subprocess.Popen | None = None
        self._server_log = self.root / "php-server.log"

    # -- set-up ---------------------------------------------------------------------------------

    def install(self, timeout: float = 300) -> ScriptResult:
        """Run install.php into ``root`` and add our settings; MediaWikiUnavailable if it can't be."""
        self.version = check_available(self.mediawiki_dir, self.php)
        self._scribunto_settings = scribunto_settings() if self.scribunto else ""
        if self.settings.exists():
            raise MediaWikiError(f"{self.settings} exists already: one instance per directory")
        for sub in ("conf", "db", "images", "cache", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        result = self._run_php(
            ["maintenance/install.php", "--dbtype", "sqlite", "--dbpath", str(self.db_dir),
             "--dbname", self.dbname, "--confpath", str(self.conf_dir), "--lang", self.lang,
             "--server", f"http://127.0.0.1:{self.port}", "--scriptpath", "",
             "--pass", self.password, self.sitename, self.admin],
            timeout=timeout, use_conf=False)
        if result.returncode != 0 or not self.settings.is_file():
            raise MediaWikiError(f"install.php failed\n{result}")
        with self.settings.open("a", encoding="utf-8") as out:
            out.write(self._our_settings())
        return result

    def _our_settings(self) -> str:
        php_str = lambda s: "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"  # noqa: E731
        return "\n".join([
            "",
            "# Added by tests/mediawiki_instance.py: keep this instance inside its own directory.",
            f"$wgUploadDirectory = {php_str(self.root / 'images')};",
            f"$wgCacheDirectory = {php_str(self.root / 'cache')};",
            f"$wgTmpDirectory = {php_str(self.root / 'tmp')};",
            # The web server may run on another port than the one install.php was told.
            "if ( getenv( 'MW_TEST_SERVER' ) ) { $wgServer = getenv( 'MW_TEST_SERVER' ); }",
            "$wgMainCacheType = CACHE_NONE;",
            f"$wgCapitalLinks = {'true' if self.capital_links else 'false'};",
            "$wgShowExceptionDetails = true;",
            # Jobs (link updates after an import) are left queued, not run by web requests,
            # so API answers and timings do not depend on when a request happens to come.
            "$wgJobRunRate = 0;",
            f"$wgEnableUploads = {'true' if self.uploads else 'false'};",
            # php -S serves only the code tree, not root/images: uploads are served by img_auth.php
            # (which a public wiki lets anyone read), so imageinfo's url gives the bytes.
            "$wgUploadPath = '/img_auth.php';" if self.uploads else "",
            "$wgUseInstantCommons = false;",
            self._scribunto_settings,
            self.extra_settings,
            "",
        ])

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MW_CONFIG_FILE"] = str(self.settings)
        env["MW_INSTALL_PATH"] = str(self.mediawiki_dir)
        if self.port is not None:
            env["MW_TEST_SERVER"] = f"http://127.0.0.1:{self.port}"
        return env

    def _run_php(self, args: list[str], *, timeout: float, use_conf: bool = True,
                 input: bytes | None = None) -> ScriptResult:
        cmd = [self.php, *args[:1], *(["--conf", str(self.settings)] if use_conf else []), *args[1:]]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=self.mediawiki_dir, env=self._env(), capture_output=True,
                              input=input if input is not None else b"", timeout=timeout)
        seconds = time.perf_counter() - start
        return ScriptResult(cmd, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                            proc.stderr.decode("utf-8", "replace"), seconds)

    def maintenance(self, script: str, *args: str, timeout: float = 600, check: bool = True,
                    input: bytes | None = None) -> ScriptResult:
        """Run ``maintenance/SCRIPT.php ARGS`` against this instance."""
        if not self.settings.is_file():
            raise MediaWikiError("install() first")
        name = script if script.endswith(".php") else script + ".php"
        result = self._run_php([f"maintenance/{name}", *args], timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise MediaWikiError(f"{name} failed\n{result}")
        return result

    # -- content in and out ---------------------------------------------------------------------

    def import_dump(self, path: str | os.PathLike, *, no_updates: bool = False,
                    username_prefix: str | None = None, extra_args: tuple[str, ...] = (),
                    timeout: float = 3600, check: bool = True) -> ImportResult:
        """importDump.php PATH (default mode: link tables updated, as a wiki would be).

        MediaWiki keeps imported contributors as ``PREFIX>Name`` (``imported>`` unless
        ``username_prefix`` says otherwise) when no local account has that name.
        ``result.seconds`` is the script's wall time, ``result.complaints`` whatever it
        printed besides its usual "Done!".
        """
        args = [str(Path(path).resolve())]
        if no_updates:
            args.insert(0, "--no-updates")
        if username_prefix is not None:
            args.insert(0, f"--username-prefix={username_prefix}")
        result = self.maintenance("importDump", *extra_args, *args, timeout=timeout, check=False)
        result = ImportResult(**vars(result))
        if check and result.returncode != 0:
            raise MediaWikiError(f"importDump.php failed\n{result}")
        return result

    def rebuild_recent_changes(self) -> ScriptResult:
        return self.maintenance("rebuildrecentchanges")

    def init_site_stats(self) -> ScriptResult:
        return self.maintenance("initSiteStats", "--update")

    def dump_backup(self, out_path: str | os.PathLike, *, full: bool = True,
                    extra_args: tuple[str, ...] = (), timeout: float = 3600) -> ScriptResult:
        """dumpBackup.php --full (or --current) into OUT_PATH (plain XML, schema 0.11)."""
        out = Path(out_path).resolve()
        result = self.maintenance("dumpBackup", "--full" if full else "--current", "--quiet",
                                  f"--output=file:{out}", *extra_args, timeout=timeout)
        if not out.is_file() or b"</mediawiki>" not in _tail(out):
            raise MediaWikiError(f"dumpBackup.php wrote no complete dump to {out}\n{result}")
        return result

    def get_text(self, title: str) -> str:
        """The current text of TITLE (getText.php), exactly as stored."""
        return self.maintenance("getText", title).stdout

    # -- web --------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, timeout: float = 30) -> str:
        """Start ``php -S 127.0.0.1:PORT`` on this instance; returns the base URL (api at /api.php)."""
        if self._server is not None and self._server.poll() is None:
            return self.base_url
        if not self.settings.is_file():
            raise MediaWikiError("install() first")
        for attempt in range(3):
            if attempt:
                self.port = free_port()
            log = self._server_log.open("ab")
            self._server = subprocess.Popen(
                [self.php, *self.server_php_options, "-S", f"127.0.0.1:{self.port}", "-t", str(self.mediawiki_dir)],
                cwd=self.mediawiki_dir, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self._server.poll() is None:
                try:
                    with urllib.request.urlopen(self.base_url + "/api.php?action=query&meta=siteinfo&format=json",
                                                timeout=5) as response:
                        if response.status == 200:
                            return self.base_url
                except OSError:
                    time.sleep(0.1)
            self.stop()
        raise MediaWikiError(f"php -S did not answer on {self.base_url}\n"
                             + self._server_log.read_text(errors="replace")[-4000:])

    def api(self, **params: str | int) -> dict:
        """GET api.php with PARAMS (format=json, formatversion=2 added); the decoded answer."""
        if self._server is None:
            self.serve()
        query = {"format": "json", "formatversion": "2", **{k: str(v) for k, v in params.items()}}
        url = self.base_url + "/api.php?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=60) as response:
            answer = json.loads(response.read().decode("utf-8"))
        if "error" in answer:
            raise MediaWikiError(f"api.php {query}: {answer['error']}")
        return answer

    def stop(self) -> None:
        """Stop the web server if it runs (the files stay)."""
        server, self._server = self._server, None
        if server is None or server.poll() is not None:
            return
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    def __enter__(self) -> MediaWikiInstance:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
