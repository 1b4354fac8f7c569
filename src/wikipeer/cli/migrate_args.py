"""The arguments of ``wikipeer migrate`` and the ``--blobs`` option ``init`` shares (docs/scale-blobs.md).

Only argparse here: each command names its function as "module:function", which
wikipeer.cli.main imports when that command runs (docs/architecture.md, fast commands).
"""

from __future__ import annotations

import argparse

BLOBS_HELP = ("keep media chunks in an S3 bucket: s3://BUCKET/PREFIX[?endpoint=http://HOST:PORT], credentials from "
              "AWS_* (default: pack files beside the store)")


def add_blobs_option(p: argparse.ArgumentParser) -> None:
    """``--blobs s3://...`` (checked when the store opens it: a bad one is named there, in one line)."""
    p.add_argument("--blobs", metavar="s3://BUCKET/PREFIX", help=BLOBS_HELP)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `wikipeer migrate` to the command line."""
    p = sub.add_parser("migrate", help="copy this node's store to a new location, checked by fsck there",
                       description="Copy every object of this node's store, in log order through the ingest door, "
                                   "to a new store; run again to go on where it stopped. The target is checked "
                                   "by fsck at the end.")
    p.add_argument("--to", required=True, metavar="LOCATION",
                   help="the new store: a SQLite file path, or a postgresql:// URL (with --blobs s3://...); "
                        "made if absent")
    add_blobs_option(p)
    p.add_argument("--switch", action="store_true",
                   help="when the copy is whole and fsck finds nothing, make this node use the new store from now on")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func="wikipeer.cli.migrate_commands:migrate")
