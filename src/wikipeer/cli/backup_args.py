"""The arguments of the backup commands: init, run, list, verify, restore and forget (see docs/backup.md).

Only argparse here: each command names its function as "module:function", which
wikipeer.cli.main imports when that command runs (docs/architecture.md, fast commands).
"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `wikipeer backup ...` to the command line."""
    backup = sub.add_parser("backup", help="encrypted, incremental backups to a directory or S3").add_subparsers(
        dest="backup_command", required=True, metavar="ACTION")

    def target(p: argparse.ArgumentParser, required: bool = False) -> None:
        p.add_argument("target", nargs=None if required else "?", metavar="TARGET",
                       help="a directory, s3://BUCKET/PREFIX or (list, verify, restore) an http(s):// mirror" + ("" if required else " (default: the node's only one)"))
        p.add_argument("--endpoint", help="S3 endpoint URL (default: $WIKIPEER_S3_ENDPOINT or boto3's settings)")

    p = backup.add_parser("init", help="set up a backup target and make its key")
    target(p, required=True)
    p.add_argument("--public", action="store_true", help="unencrypted, for what anyone may hold")
    p.set_defaults(func="wikipeer.cli.backup_commands:backup_init")

    p = backup.add_parser("run", help="send what the target lacks, then a signed snapshot")
    target(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func="wikipeer.cli.backup_commands:backup_run")

    p = backup.add_parser("list", aliases=["show"], help="list a target's snapshots")
    target(p)
    p.add_argument("--key-file", help="file holding the target's key (default: $WIKIPEER_BACKUP_KEY or the node's)")
    p.set_defaults(func="wikipeer.cli.backup_commands:backup_list")

    p = backup.add_parser("verify", help="re-read and re-hash a target; name what is damaged or missing")
    target(p)
    p.add_argument("--sample", help="check only this share of the packs, such as 5%%")
    p.add_argument("--key-file", help="file holding the target's key (default: $WIKIPEER_BACKUP_KEY or the node's)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func="wikipeer.cli.backup_commands:backup_verify")

    p = backup.add_parser("restore", help="rebuild a node directory from a snapshot")
    target(p, required=True)
    p.add_argument("--to", required=True, help="new node directory (with --files: a directory for the files, "
                                               "or - for one file on standard output)")
    p.add_argument("--snapshot", help="snapshot ID (default: the latest)")
    p.add_argument("--files", nargs="+", metavar="SHA256", help="only these media files, by SHA-256 (or a unique start of 8+ digits)")
    p.add_argument("--key-file", help="file holding the target's key (default: $WIKIPEER_BACKUP_KEY or the node's)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func="wikipeer.cli.backup_commands:backup_restore")

    p = backup.add_parser("forget", help="drop snapshots by keep rules; --prune deletes packs none kept needs")
    target(p)
    p.add_argument("--keep-daily", type=int, default=7, help="newest snapshot of each of the last N days (7)")
    p.add_argument("--keep-monthly", type=int, default=12, help="newest snapshot of each of the last N months (12)")
    p.add_argument("--prune", action="store_true", help="delete packs no kept snapshot needs")
    p.set_defaults(func="wikipeer.cli.backup_commands:backup_forget")
