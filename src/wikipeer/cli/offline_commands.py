"""The commands for places without a network: bundles, the USB stick, and requests for it."""

from __future__ import annotations

import argparse
from pathlib import Path

from wikipeer.cli import indexing
from wikipeer.cli.progress import counted, progress_bar, progress_line
from wikipeer.cli.shell import _open, out, people_of
from wikipeer.errors import InvalidObject, UserError
from wikipeer.formats.bundle import (PROGRESS_EVERY, manifest_summary, read_blocks, verify_bundle, write_bundle,
                                     write_plain_car)
from wikipeer.formats.output import atomic_output
from wikipeer.formats.summary import Summary
from wikipeer.model.media import NS_FILE
from wikipeer.model.objects import Page, build_page
from wikipeer.model.title import normalize_title
from wikipeer.net import stick
from wikipeer.net.fetch import shown_files
from wikipeer.net.receive import take
from wikipeer.store import log
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.wants import Wants


def bundle_create(args: argparse.Namespace) -> int:
    node = _open(args)
    pages = []
    for title in args.pages or []:
        if not args.wiki:
            raise UserError("--pages needs --wiki")
        t = normalize_title(node.wiki_or_default(args.wiki), title)
        pages.append(build_page(Page(args.wiki, t.ns, t.text)).cid)
        row = node.store.page(args.wiki, t.ns, t.text)
        # A page goes with the files it shows: their File: pages are in the bundle's scope too.
        pages += [build_page(Page(args.wiki, NS_FILE, name)).cid for name in (shown_files(node, row) if row else [])]
    scope = log.Scope(() if pages or not args.wiki else (args.wiki,), (), tuple(pages))
    ids = log.positions(node.store, args.since or 0, 1 << 62, scope)
    blocks = list(log.read(node.store, ids))
    if args.for_summary:
        try:
            summary = Summary.from_bytes(Path(args.for_summary).read_bytes())
        except OSError as exc:
            raise UserError(f"cannot read {args.for_summary}: {exc.strerror}") from None
        blocks = [b for b in blocks if b.cid not in summary]
    key = node.keyring.get(NODE_KEY).public
    size = sum(len(b.data) for b in blocks)
    with atomic_output(args.output) as f, progress_bar("writing the bundle", size, args.quiet, "bytes") as update:
        manifest = write_bundle(f, blocks, node.keyring.signing_key(NODE_KEY, node.passphrase), key,
                                [args.wiki] if args.wiki else (), progress=lambda done, total: update(done))
    made = manifest_summary(manifest, people_of(node).label(key, True))
    out.print(f"wrote {args.output}: {made}; next time use --since {ids[-1] if ids else args.since or 0}")
    return 0


def bundle_import(args: argparse.Namespace) -> int:
    node = _open(args)
    try:
        with progress_bar("checking the bundle", None, args.quiet) as update:
            checked = verify_bundle(Path(args.file), lambda done, total: update(done, total=total))
    except InvalidObject as exc:
        message = str(exc)
        if Path(args.file).name not in message:  # name the bundle: the reader may have several at hand
            raise type(exc)(f"{args.file}: refused whole, nothing taken: {message}") from None
        raise
    maker = people_of(node).label(checked.manifest.key, checked.manifest.key in node.view().trusted)
    out.print(f"{args.file} checked: {manifest_summary(checked.manifest, maker)}")
    with progress_bar("taking its blocks", checked.manifest.blocks, args.quiet) as update:
        tally = take(node, counted(read_blocks(checked), update, PROGRESS_EVERY), f"bundle:{Path(args.file).name}",
                     stop_on_forgery=False, shallow=True)
    out.print(f"{tally.accepted} new, {tally.duplicates} already here, {tally.held} held, {tally.rejected} refused")
    for reason in tally.reasons:
        out.print(f"refused: {reason}")
    if tally.rejected > len(tally.reasons):
        out.print(f"refused: ... and {tally.rejected - len(tally.reasons)} more")
    indexing.catch_up(node, quiet=args.quiet, later=args.index_later, wait=args.wait_index)
    return 1 if tally.rejected else 0


def bundle_unpack(args: argparse.Namespace) -> int:
    with atomic_output(args.output) as f, progress_bar("unpacking the bundle", None, args.quiet) as update:
        count = write_plain_car(Path(args.file), f, update)
    out.print(f"wrote {args.output}: a plain CAR v1 of {count} blocks")
    return 0


def stick_init(args: argparse.Namespace) -> int:
    state = stick.init_stick(Path(args.path))
    out.print(f"{args.path} is ready (stick {state.stick[:8]}); at home run 'wikipeer stick home {args.path}'")
    return 0


def _trip(args: argparse.Namespace, label: str, work) -> stick.HomeReport | stick.ServeReport:
    node = _open(args)
    with progress_line(label, args.quiet):
        report = work(node, Path(args.path))
    for problem in report.problems:
        out.print(f"note: {problem}")
    out.print(report.sentence())
    return report


def stick_home(args: argparse.Namespace) -> int:
    report = _trip(args, "exchanging with the stick…", stick.home)
    # Refused either way (here, of what came back; there, of the edits carried last time): not a success.
    return 1 if report.anything_refused else 0


def stick_serve(args: argparse.Namespace) -> int:
    report = _trip(args, "answering the stick's requests…", stick.serve)
    # Edits refused here did not arrive: as a push with refusals, not a success.
    return 1 if report.refused else 0


def want(args: argparse.Namespace) -> int:
    node = _open(args)
    wants = Wants(node.store)
    if args.search:
        made = wants.add_search(args.search, args.top, args.depth)
    elif args.files:
        made = wants.add_files(args.files)
    else:
        if not args.wiki or not args.titles:
            raise UserError("name a wiki and titles (wikipeer want WIKI TITLE...), or use --search or --file")
        made = wants.add_titles(args.wiki, args.titles, args.depth)
    out.print(f"asked for {made.describe()}; it travels with the stick's next trip")
    return 0
