"""``wikipeer migrate --to LOCATION [--blobs s3://...]``: the shell around migration.py."""

from __future__ import annotations

import argparse
import sys

from wikipeer.cli.shell import _open


def migrate(args: argparse.Namespace) -> int:
    """Copy the node's store to ``--to`` with a progress bar, say what fsck found there, switch if asked."""
    from wikipeer.cli.progress import progress_bar
    from wikipeer.migration import check_switch, migrate as run_migrate, switch, switch_refused

    node = _open(args)
    if args.switch:
        check_switch(node, args.to)  # refused with the reason before the copy, not after it
    with progress_bar("migrating", node.store.last_seq(), args.quiet, "objects") as bar:
        report = run_migrate(node, args.to, args.blobs, lambda done, total: bar(done, total=total))
    for line in report.unreadable[:10]:
        print(f"unreadable in this store: {line}", file=sys.stderr)
    for line in report.rejected:
        print(f"refused: {line}", file=sys.stderr)
    for table, count in report.state.skipped.items():
        print(f"not copied: {count} rows of {table} name objects the target does not hold", file=sys.stderr)
    for fault in report.faults:
        print(f"fault on the target: {fault}")
    where = f" (chunks in {args.blobs})" if args.blobs else ""
    print(f"migrated to {args.to}{where}: {report.accepted} objects copied, {report.present} were there already, "
          f"{report.held} waiting, {report.refused} refused; fsck of the target: {report.checked} objects, "
          + (f"{len(report.faults)} faults" if report.faults else "no faults"))
    rows = report.state.rows
    print(f"node state copied: {rows.get('peers', 0)} peers, {rows.get('mw_peers', 0)} MediaWiki peers, "
          f"{rows.get('hidden_pages', 0)} hidden pages, {rows.get('hidden_items', 0)} hidden revisions or file "
          f"versions, {sum(rows.values())} rows in all")
    refused = switch_refused(report)
    if refused and args.switch:
        print(f"not switched to {args.to}: {refused}", file=sys.stderr)
    if report.faults or report.unreadable or report.refused or report.held or (refused and args.switch):
        return 1
    if args.switch:
        switch(node, args.to, args.blobs)
        print(f"this node now uses {args.to}; its old store is left as it was")
    return 0
