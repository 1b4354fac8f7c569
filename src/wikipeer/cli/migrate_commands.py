"""``wikipeer migrate --to LOCATION [--blobs s3://...]``: the shell around migration.py."""

from __future__ import annotations

import argparse
import sys

from wikipeer.cli.shell import _open


def migrate(args: argparse.Namespace) -> int:
    from wikipeer.cli.progress import progress_bar
    from wikipeer.migration import migrate as run_migrate

    node = _open(args)
    with progress_bar("migrating", node.store.last_seq(), args.quiet, "objects") as bar:
        report = run_migrate(node, args.to, args.blobs, lambda done, total: bar(done, total=total))
    for line in report.unreadable[:10]:
        print(f"unreadable in this store: {line}", file=sys.stderr)
    for line in report.rejected:
        print(f"refused: {line}", file=sys.stderr)
    for fault in report.faults:
        print(f"fault on the target: {fault}")
    where = f" (chunks in {args.blobs})" if args.blobs else ""
    print(f"migrated to {args.to}{where}: {report.accepted} objects copied, {report.present} were there already, "
          f"{report.held} waiting, {report.refused} refused; fsck of the target: {report.checked} objects, "
          + (f"{len(report.faults)} faults" if report.faults else "no faults"))
    return 1 if report.faults or report.unreadable or report.refused or report.held else 0
