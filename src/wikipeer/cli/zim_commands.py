"""``wikipeer export WIKI --zim OUT.zim``: the shell around formats/zim_export.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wikipeer.cli.shell import _open
from wikipeer.errors import UserError
from wikipeer.node import require_wiki

_XML_ONLY = (("current", "--current"), ("full", "--full"), ("pages", "--pages"), ("uploads", "--uploads"),
             ("include_files", "--include-files"))


def namespaces(text: str) -> frozenset[int]:
    """``0,4,14`` as a set of namespace numbers; UserError naming what is not one."""
    try:
        found = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UserError(f"--namespaces {text!r}: give namespace numbers separated by commas, e.g. 0,14") from None
    if not found or any(ns < 0 for ns in found):
        raise UserError(f"--namespaces {text!r}: give namespace numbers (0 or more) separated by commas")
    return found


def export_zim(args: argparse.Namespace) -> int:
    from wikipeer.cli.progress import progress_bar
    from wikipeer.formats.zim_export import ZimOptions, export_zim as run_export

    for attr, flag in _XML_ONLY:
        if getattr(args, attr):
            raise UserError(f"{flag} is for XML dumps (-o FILE); a ZIM holds the pages as the view shows them")
    out: Path = args.zim
    if out.suffix != ".zim":
        raise UserError(f"--zim {out}: the file name must end in .zim (Kiwix looks for that)")
    if not out.parent.is_dir():
        raise UserError(f"--zim {out}: no folder {out.parent}")
    node = _open(args)
    require_wiki(node, args.wiki)
    options = ZimOptions(view=args.view, namespaces=namespaces(args.namespaces),
                         since=Path(args.since) if args.since else None)
    with progress_bar(f"ZIM of {args.wiki}", None, args.quiet, unit="entries") as bar:
        summary = run_export(node, args.wiki, out, options, lambda done, total: bar(done, total=total))
    if summary.full_reason:
        print(f"every page was rendered again: {summary.full_reason}", file=sys.stderr)
    since = f" ({summary.rendered} rendered, {summary.copied} copied from {args.since})" if args.since else ""
    print(f"wrote {out}: {summary.pages} pages, {summary.redirects} redirects, {summary.files} files{since}",
          file=sys.stderr)
    return 0
