"""The arguments of the commands for places without a network: bundles, the USB stick, and requests for it.

Only argparse here: each command names its function as "module:function", which
wikipeer.cli.main imports when that command runs (docs/architecture.md, fast commands).
"""

from __future__ import annotations

import argparse

from wikipeer.cli import index_args, report_words


def add_parsers(sub: argparse._SubParsersAction) -> None:
    bundle = sub.add_parser("bundle", help="changes in one file, to carry by hand").add_subparsers(
        dest="bundle_command", required=True, metavar="ACTION")
    p = bundle.add_parser("create", help="write a signed, compressed bundle (a CAR v1 file)",
                          description="Write a signed, compressed bundle (a CAR v1 file); a progress bar on a "
                                      "terminal.")
    p.add_argument("--wiki")
    p.add_argument("--pages", nargs="+", metavar="TITLE")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--since", type=int, metavar="CURSOR", help="only what came after this log position")
    way.add_argument("--for", dest="for_summary", metavar="SUMMARY", help="leave out what a have-summary holds")
    p.add_argument("-o", "--output", required=True, metavar="FILE.car")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(func="wikipeer.cli.offline_commands:bundle_create")
    p = bundle.add_parser("import", help="check a whole bundle, then take its blocks",
                          description="Check a whole bundle, then take its blocks through the same checks as a "
                                      "sync. The last line says what became of them.",
                          epilog=report_words.BUNDLE_IMPORT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on a terminal")
    index_args.add_index_later(p)
    p.set_defaults(func="wikipeer.cli.offline_commands:bundle_import")
    p = bundle.add_parser("unpack", help="write a bundle as the plain CAR v1 it packs, for IPLD tools")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True, metavar="PLAIN.car")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(func="wikipeer.cli.offline_commands:bundle_unpack")

    st = sub.add_parser("stick", help="carry changes on a USB stick").add_subparsers(
        dest="stick_command", required=True, metavar="ACTION")
    for name, func, text in (("init", "stick_init", "lay out a stick (README, outbox, requests, responses)"),
                             ("home", "stick_home", "at home: take what came back, send edits and requests"),
                             ("serve", "stick_serve", "at the connected place: take the edits, answer the requests")):
        p = st.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".",
                          epilog=None if name == "init" else report_words.STICK,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("path")
        if name != "init":
            p.add_argument("--quiet", "-q", action="store_true", help="no progress line on a terminal")
        p.set_defaults(func=f"wikipeer.cli.offline_commands:{func}")

    p = sub.add_parser("want", help="ask for pages (with their files), the top results of a search, or files by "
                                    "SHA-256, with the stick's next trip")
    p.add_argument("wiki", nargs="?")
    p.add_argument("titles", nargs="*", metavar="TITLE")
    p.add_argument("--search", metavar="QUERY")
    p.add_argument("--file", dest="files", action="append", metavar="SHA256",
                   help="a file by the SHA-256 of its bytes (repeatable); a page asked for brings its files anyway")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--depth", type=int, default=10, help="revisions of history per page (default 10)")
    p.set_defaults(func="wikipeer.cli.offline_commands:want")
