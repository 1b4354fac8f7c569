"""api.php on a node against MediaWiki 1.39's (issue 12): requests/s, p50 and p99.

One synthetic wiki (PAGES pages x REVISIONS revisions of pseudo-prose, several
users) is written as a MediaWiki XML dump; MediaWiki (Debian's 1.39 on SQLite
under ``php -S``) imports it with importDump.php and rebuilds its recent
changes (with a recent-changes window wide enough to hold them all), and a
node imports the same file with ``wikipeer import``. Each server then gets
the same requests, one at a time over one connection (wrk), for SECONDS, in
ROUNDS rounds that alternate between the two servers (each keeps its best):

- ``prop=revisions`` with the content of a page's current revision (pages in turn);
- ``list=recentchanges``, 50 changes with their titles, ids, users, comments and sizes.

Figures: requests/s and p50/p99 latency in milliseconds; the target is at
least 10x MediaWiki's rate with a lower p50.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import httpx

from bench.servers import WrkResult, free_port, ours_command, running, wrk
from bench.synthetic import prose, small_edit, vocabulary

ROOT = Path(__file__).resolve().parents[1]
PAGES, REVISIONS, TEXT_BYTES = 300, 5, 3000
SECONDS = 4
ROUNDS = 3
CONNECTIONS = 1
WIKI = "benchwiki"
USERS = ("Alice", "Bob", "Carol", "Dan")


def write_dump(path: Path, seed: int = 7) -> list[str]:
    """A schema 0.10 dump of the synthetic wiki; returns its titles."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    titles = []
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">\n'
           f"<siteinfo><sitename>Wikipedia</sitename><dbname>{WIKI}</dbname>"
           "<base>https://bench.invalid/wiki/Main_Page</base><generator>bench</generator>"
           "<case>first-letter</case></siteinfo>\n"]
    rev_id = 1
    for number in range(PAGES):
        title = f"Page {number} {words[number % len(words)]}".capitalize()
        titles.append(title)
        out.append(f"<page><title>{escape(title)}</title><ns>0</ns><id>{number + 1}</id>")
        text = prose(rng, words, TEXT_BYTES)
        for step in range(REVISIONS):
            if step:
                text = small_edit(rng, words, text)
            user = USERS[(number + step) % len(USERS)]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + rev_id * 60))
            out.append(f"<revision><id>{rev_id}</id>{f'<parentid>{rev_id - 1}</parentid>' if step else ''}"
                       f"<timestamp>{stamp}</timestamp><contributor><username>{user}</username>"
                       f"<id>{USERS.index(user) + 1}</id></contributor><comment>edit {step}</comment>"
                       f"<model>wikitext</model><format>text/x-wiki</format>"
                       f'<text xml:space="preserve">{escape(text)}</text></revision>')
            rev_id += 1
        out.append("</page>\n")
    out.append("</mediawiki>\n")
    path.write_text("".join(out), encoding="utf-8")
    return titles


def check(url: str, requests: list[dict]) -> None:
    """Each kind of request answers without an API error (wrk only counts HTTP statuses)."""
    with httpx.Client(timeout=60) as client:
        for params in requests[:3]:
            answer = client.get(url, params=params)
            if answer.status_code != 200 or "error" in answer.json() or "query" not in answer.json():
                raise RuntimeError(f"{url} {params}: {answer.status_code} {answer.text[:300]}")


def time_requests(url: str, requests: list[dict], tmp: Path, seconds: int) -> WrkResult:
    """wrk sending ``requests`` in turn over one connection (one request at a time) for ``seconds``."""
    check(url, requests)
    base, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
    paths = tmp / "paths.txt"
    paths.write_text("".join(f"{path}?{urlencode(params)}\n" for params in requests))
    result = wrk(f"http://{base}", paths, seconds, connections=CONNECTIONS)
    # php -S closes the connection after each answer (no keep-alive), which wrk counts as a read
    # error once per request; statuses other than 2xx are failures on either server.
    if re.search(r"Non-2xx or 3xx responses: \d+", result.output):
        raise RuntimeError(f"failed requests to {url}:\n{result.output}")
    return result


def run() -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "tests"))
    from mediawiki_instance import MediaWikiInstance

    with tempfile.TemporaryDirectory(prefix="mw-api-bench-") as tmp_name:
        tmp = Path(tmp_name)
        dump = tmp / "bench.xml"
        titles = write_dump(dump)
        mw = MediaWikiInstance(tmp / "mediawiki", dbname=WIKI,
                               extra_settings="$wgRCMaxAge = 100 * 365 * 86400;")  # keep every change listed
        mw.install()
        mw.import_dump(dump)
        mw.rebuild_recent_changes()
        node = tmp / "node"
        cli = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]
        subprocess.run([*cli, "init"], check=True, capture_output=True)
        subprocess.run([*cli, "import", "--quiet", str(dump)], check=True, capture_output=True)
        common = {"format": "json", "formatversion": "2"}
        revisions = [{**common, "action": "query", "prop": "revisions", "titles": t, "rvslots": "main",
                      "rvprop": "ids|timestamp|user|comment|size|sha1|content"} for t in titles]
        recent = [{**common, "action": "query", "list": "recentchanges", "rclimit": "50",
                   "rcprop": "title|ids|timestamp|user|comment|sizes"}]
        results: dict[str, float] = {"pages": PAGES, "revisions": PAGES * REVISIONS}
        port = free_port()
        node_api = f"http://127.0.0.1:{port}/w/{WIKI}/api.php"
        try:
            servers = {"mediawiki": mw.serve() + "/api.php", "node": node_api}
            with running(ours_command(node, port), f"http://127.0.0.1:{port}/status", tmp / "serve.log"):
                for name, requests in (("revisions", revisions), ("recentchanges", recent)):
                    # Rounds alternate between the servers; each keeps its best round, so a burst of
                    # other work on this shared machine during one round does not decide the figure.
                    best: dict[str, WrkResult] = {}
                    for _ in range(ROUNDS):
                        for server, url in servers.items():
                            got = time_requests(url, requests, tmp, SECONDS)
                            if server not in best or got.requests_per_s > best[server].requests_per_s:
                                best[server] = got
                    for server, got in best.items():
                        results.update({f"{server} {name} req/s": got.requests_per_s,
                                        f"{server} {name} p50 ms": got.p50_ms, f"{server} {name} p99 ms": got.p99_ms})
        finally:
            mw.stop()
        for name in ("revisions", "recentchanges"):
            results[f"{name} rate ratio (node/mw)"] = results[f"node {name} req/s"] / results[f"mediawiki {name} req/s"]
        return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"  {key:<34} {value:,.3f}" if isinstance(value, float) else f"  {key:<34} {value:,}")
