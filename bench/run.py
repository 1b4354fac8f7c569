"""`make bench`: run every benchmark and print its figures and ratios."""

from __future__ import annotations

import sys

from bench import import_bench, ingest_bench
from bench import render_fidelity
from bench import parser_tests
from bench import lang_file_options
from bench import web_bench
from bench import sync_bench
from bench import trust_bench
from bench import soak
from bench import mw_pull_bench
from bench import mw_api_bench
from bench import dump_files_bench
from bench import media_sync_bench
from bench import media_backup_bench
from bench import startup_bench
from bench import size_bench
from bench import million_bench
from bench import git_peer_bench
from bench import git_push_bench
from bench import git_remote_bench
from bench import zim_bench
from bench import workers_bench
from bench import dht_bench
from bench import signed_bench
from bench import blob_texts_bench, blobs_bench
from bench import cluster_bench
from bench import sim_bench


def _print(name: str, results: dict[str, float]) -> None:
    print(f"\n## {name}")
    for key, value in results.items():
        if isinstance(value, str):
            print(f"  {key:<32} {value}")
        else:
            print(f"  {key:<32} {value:,.3f}" if isinstance(value, float) else f"  {key:<32} {value:,}")


def main(argv: list[str]) -> int:
    wanted = set(argv)
    benches = {
        "ingest": ("Ingest of 20,000 signed revisions (2,000 pages x 10, 5 KB texts)", ingest_bench.run),
        "import": ("Import of the four non-English samples (uk, vi, ja, mr), decompressed", import_bench.run),
        "render": ("Rendering fidelity: token F1 against MediaWiki's action=parse (issue 4)", render_fidelity.run),
        "render-cite": ("Citation and infobox pages: first render and token F1 against MediaWiki 1.39 + Scribunto "
                        "(issue 13)", render_fidelity.run_citations),
        "parsertests": ("MediaWiki's parser tests: share passing per group (issue 13)", parser_tests.run),
        "langfiles": ("File links with the wiki language's option words (hy, bn), with and without the language "
                      "data (issue 13)", lang_file_options.run),
        "web": ("Web: cached views vs nginx and kiwix-serve, search vs kiwix-serve, first renders (issue 4)", web_bench.run),
        "sync": ("Sync: clone, incremental and no-op vs fossil clone/sync and git clone (issue 5)", sync_bench.run),
        "git-peer": ("git as a peer: git clone from a node (first, warm) vs git daemon and sync --pull, git fetch of "
                     "100 revisions (issue 17)", git_peer_bench.run),
        "git-remote": ("git-remote-wikipeer: a push of 1,000 and 10,000 new pages signed on the user's machine vs the "
                       "node's receive-pack with an account (issue 17)", git_remote_bench.run),
        "trust": ("Trust and gossip: shown heads under 1,000 keys, gossip to 100 nodes, ingest with blocklists (issue 7)", trust_bench.run),
        "mw-pull": ("MediaWiki pull: first pull vs dumpBackup.php + import, incremental pull of 100 (issue 12)",
                    mw_pull_bench.run),
        "mwapi": ("api.php: prop=revisions with content and list=recentchanges, node vs MediaWiki 1.39 (issue 12)",
                  mw_api_bench.run),
        "dump-files": ("Import of a dump with files (--include-files) vs without, 40 x 0.5 MB (issue 14)",
                       dump_files_bench.run),
        "media-sync": ("Files over sync: a media clone, re-uploads, a no-op sync (issue 14)", media_sync_bench.run),
        "media-backup": ("Media backups vs restic and borgbackup, 10,000-file re-run, thumbnails (issue 14)",
                         media_backup_bench.run),
        "startup": ("Command start-up: --version, stats and a no-op sync as processes, median of 15, vs 150 ms "
                    "(issue 15)", startup_bench.run),
        "size": ("Store size: 500 pages x 10 revisions of 5 KB vs fossil, git, the xz'd dump and the signed floor; "
                 "the four samples vs git (issue 15)", size_bench.run),
        "million": ("A million-page node: a synthetic Wikipedia as a bz2 dump through `wikipeer import`, then views, "
                    "search and a clone (issue 15; SCALE=10000 for a quick run)", million_bench.run),
        "git-push": ("git push to a served node: 1,000 new pages, 1,000 edits, vs the door alone; 100,000 files "
                     "refused (issue 17)", git_push_bench.run),
        "zim": ("ZIM export vs zimwriterfs on the same rendered pages; --since after 1% changed vs a full export "
                "(issue 17)", zim_bench.run),
        "workers": ("Serving workers: cached views with wrk, `serve --workers 2` vs one worker, forked vs uvicorn's "
                    "supervisor (issue 18)", workers_bench.run),
        "dht": ("DHT: discovering a wiki's 10 holders over 20 participants on loopback vs the kademlia package's own "
                "lookup; record sizes (issue 18)", dht_bench.run),
        "signed": ("Signed requests: a clone of 3,100 objects and empty log requests, signed vs unsigned (issue 18)",
                   signed_bench.run),
        "blobs": ("S3 blobs: storing and reading 200 MB of media chunks in a SeaweedFS bucket vs local packs "
                  "(issue 18)", blobs_bench.run),
        "blob-texts": ("Texts in the bucket: ingest of 3,000 signed revisions and page reads on PostgreSQL + S3, "
                       "texts in the bucket vs in PostgreSQL (issue 18)", blob_texts_bench.run),
        "cluster-pg": ("Store on PostgreSQL vs SQLite: ingest of 5,000 signed revisions, index, search, "
                       "sync --pull, cached views (issue 18)", cluster_bench.run),
        "cluster-pg-views": ("Store on PostgreSQL vs SQLite: cached views alone (issue 18)", cluster_bench.run_views),
        "sim": ("A simulated network of 1,000 real nodes: gossip, sync and peer exchange under 10% churn, 1% loss "
                "and a partition (issue 18; SIM_NODES=100 for a quick run)", sim_bench.run),
        "soak": ("Soak: 200 readers, 5 writers and 4 log pullers on one server for 10 minutes (issue 11)", soak.run),
    }
    for key, (title, fn) in benches.items():
        if not wanted or key in wanted:
            _print(title, fn())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
