"""Pull benchmark (issue 12): following a real MediaWiki against a dump plus import of the same wiki.

The wiki: Debian's MediaWiki 1.39 on SQLite under ``php -S``, filled with a
generated full-history dump through importDump.php (tests/mw_populate.py's
``fill``: 40 pages x 50 revisions of growing prose, 4 users) plus the
installer's Main Page: 2,001 revisions.

Timed, one after the other, each with the command line whole (interpreter
start-up included):

1. first pull: ``wikipeer peer add --mediawiki ... --rate 1000`` (the request
   rate lifted: the default 10 requests/s is politeness towards a public
   wiki, not a cost of the pull) and ``wikipeer sync`` into an empty node:
   revisions/s and the requests it made (its own count);
2. dump plus import: ``dumpBackup.php --full`` of the same wiki, then
   ``wikipeer import`` of that file into another empty node;
3. incremental: 100 edits through the API (by one logged-in user), then
   ``wikipeer sync``: its requests against the target 2 + k/50, and time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES, REVISIONS, CHANGES = 40, 50, 100


def _cli(node: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "wikipeer.cli.main", "--node", str(node), *args],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"wikipeer {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return seconds, result.stdout


def _figure(text: str, name: str) -> int:
    match = re.search(rf"(\d+) {name}", text)
    if match is None:
        raise RuntimeError(f"no {name!r} in {text!r}")
    return int(match.group(1))


def run() -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "tests"))
    from mediawiki_instance import MediaWikiInstance
    from mw_populate import edit, fill, login

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with MediaWikiInstance(tmp / "mw") as mw:
            mw.install()
            revisions = fill(mw, tmp, PAGES, REVISIONS) + 1  # and the installer's Main Page
            api = mw.serve() + "/api.php"

            pulled = tmp / "pulled"
            _cli(pulled, "init")
            _cli(pulled, "peer", "add", "--mediawiki", api, "--wiki", "bench", "--rate", "1000")
            pull_s, out = _cli(pulled, "sync")
            if _figure(out, "new") != revisions:
                raise RuntimeError(f"the first pull took {_figure(out, 'new')} of {revisions} revisions: {out}")
            pull_requests = _figure(out, "requests")

            dumped = tmp / "dumped"
            _cli(dumped, "init")
            start = time.perf_counter()
            mw.dump_backup(tmp / "full.xml")
            dump_s = time.perf_counter() - start
            import_s, _ = _cli(dumped, "import", "--quiet", "--wiki", "bench", str(tmp / "full.xml"))

            user = login(mw, mw.admin)
            for i in range(CHANGES):
                edit(user, f"Bulk {i % PAGES}", f"changed {i}\n" * 3, f"change {i}")
            user.close()
            incremental_s, out = _cli(pulled, "sync")
            if _figure(out, "new") != CHANGES:
                raise RuntimeError(f"the incremental pull took {_figure(out, 'new')} of {CHANGES}: {out}")
            incremental_requests = _figure(out, "requests")
    return {
        "revisions in the wiki": revisions,
        "first pull s": pull_s,
        "first pull revisions/s": revisions / pull_s,
        "first pull requests": pull_requests,
        "dumpBackup.php --full s": dump_s,
        "wikipeer import s": import_s,
        "dump + import revisions/s": revisions / (dump_s + import_s),
        "pull / (dump + import) time": pull_s / (dump_s + import_s),
        f"incremental pull of {CHANGES} s": incremental_s,
        f"incremental pull of {CHANGES} requests": incremental_requests,
        "incremental target requests": 2 + CHANGES / 50,
    }
