"""Entry point: parse arguments, open the node, run one command, map errors to exit codes.

Start-up is kept short (issue 15): the parser is built from argparse alone, and each command is
named as "module:function", imported only when that command runs (docs/architecture.md).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from wikipeer import __version__
from wikipeer.cli import (account_args, backup_args, dht_args, index_args, migrate_args, net_args, offline_args,
                          trust_args)
from wikipeer.cli.parsing import CommandParser
from wikipeer.errors import WikipeerError
from wikipeer.store import engine_errors


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="wikipeer", description="A node of a signed, peer-to-peer, offline-capable wiki.")
    parser.add_argument("--node", type=Path, help="node directory (default: $WIKIPEER_NODE or the user data directory)")
    parser.add_argument("--version", action="version", version=f"wikipeer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a node directory and its node key")
    p.add_argument("--sample", action="store_true", help="load the built-in sample wiki if the node is empty")
    p.add_argument("--chain", type=int, help="texts per compression chain before a full text (default 16)")
    p.add_argument("--store", help="postgresql://... URL for the store (default: $WIKIPEER_STORE, else SQLite in the node)")
    migrate_args.add_blobs_option(p)
    p.set_defaults(func="wikipeer.cli.commands:init")

    key = sub.add_parser("key", help="manage identity keys").add_subparsers(dest="key_command", required=True, metavar="ACTION")
    p = key.add_parser("new", help="create a key pair")
    p.add_argument("name")
    p.add_argument("--passphrase-protect", action="store_true", help="seal the private key with $WIKIPEER_PASSPHRASE")
    p.add_argument("--default", action="store_true", help="sign edits with this key from now on")
    p.set_defaults(func="wikipeer.cli.commands:key_new")
    p = key.add_parser("list", aliases=["show"], help="list keys")
    p.set_defaults(func="wikipeer.cli.commands:key_list")
    p = key.add_parser("export", help="print a key's public key (or its private key with --private)")
    p.add_argument("name")
    p.add_argument("--private", action="store_true")
    p.set_defaults(func="wikipeer.cli.commands:key_export")
    p = key.add_parser("import", help="import a public key (trusted from then on) or an exported private key")
    p.add_argument("name")
    p.add_argument("file", nargs="?", default="-", help="file holding the key text (default: stdin)")
    p.set_defaults(func="wikipeer.cli.commands:key_import")
    p = key.add_parser("profile", help="publish the name a key goes by on other nodes (a profile signed by the key)")
    p.add_argument("display_name", metavar="NAME", help="the name others see for this key's edits")
    p.add_argument("--key", help="the key that names itself (default: your default key)")
    p.add_argument("--about", default="", help="a line about you")
    p.set_defaults(func="wikipeer.cli.commands:key_profile")

    p = sub.add_parser("edit", help="save a new revision of a page, signed with the default key",
                       description="Save a new revision of a page, signed with the default key (made, and named "
                                   "'me', on first use). Prints one line: the page, the revision and the key "
                                   "that signed.")
    p.add_argument("wiki")
    p.add_argument("title")
    p.add_argument("--file", type=Path, help="read the text from this file (default: stdin)")
    p.add_argument("--summary", "-m", required=True, help="edit summary")
    p.add_argument("--parent", action="append", help="edit on top of this revision (makes a fork if it is old)")
    p.add_argument("--minor", action="store_true")
    p.add_argument("--allow-empty", action="store_true", help="save an empty text (refused without this flag)")
    p.add_argument("--new-wiki", action="store_true",
                   help="start a wiki whose name is a near miss of one this node holds (refused as a likely typo "
                        "without this flag)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the new revision's full CID (for scripts)")
    p.set_defaults(func="wikipeer.cli.commands:edit")

    p = sub.add_parser("upload", help="store a media file as a new signed version of its File: page")
    p.add_argument("file", type=Path, help="the file to upload (its type is read from its bytes)")
    p.add_argument("--title", required=True, help="the file's page, File:NAME (the name must end as its type does)")
    p.add_argument("--comment", "-m", default="", help="upload comment (also the page's first description)")
    p.add_argument("--wiki", help="the wiki (default: the node's only wiki)")
    p.set_defaults(func="wikipeer.cli.commands:upload")

    for name, help_text, func in (
            ("hide", "hide a revision, a file version or a page from this node's views (its signed history stays)",
             "wikipeer.cli.commands:hide"),
            ("unhide", "show a hidden revision, file version or page again", "wikipeer.cli.commands:unhide")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("wiki")
        p.add_argument("title")
        what = p.add_mutually_exclusive_group()
        what.add_argument("--revision", help="a revision CID (not the one the page shows)")
        what.add_argument("--file", help="a file version's SHA-256, or its first 8 or more hex digits")
        if name == "hide":
            p.add_argument("--reason", default="", help="why, shown where the revision or file would be")
        p.set_defaults(func=func)

    p = sub.add_parser("verify-git", help="check a wiki's git clone offline: every commit's revision, file and "
                                          "signatures (needs no node)")
    p.add_argument("dir", type=Path, help="the clone (its work tree or a bare repository)")
    p.add_argument("--install-hook", action="store_true",
                   help="also install a hook that verifies what every later fetch brings before its refs move")
    p.add_argument("--new", nargs="+", metavar="COMMIT",
                   help="only the commits these reach that the repository's refs do not (what the hook uses)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    p.set_defaults(func="wikipeer.cli.git_commands:verify_git")

    p = sub.add_parser("git-build", help="build a wiki's git repository (NODE/git/WIKI.git) ahead of its first "
                                         "clone; a clone builds what is missing itself")
    p.add_argument("wiki")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    p.set_defaults(func="wikipeer.cli.git_commands:git_build")

    p = sub.add_parser("show", help="print a page's text (the head this node shows, or --rev)")
    p.add_argument("wiki")
    p.add_argument("title")
    p.add_argument("--rev", help="a revision CID")
    p.add_argument("--view", help="show the head this view chooses (see 'wikipeer view list')")
    p.set_defaults(func="wikipeer.cli.commands:show")

    for name, help_text, func in (("history", "list a page's revisions, newest first", "wikipeer.cli.commands:history"),
                                  ("heads", "list a page's heads, the shown one first", "wikipeer.cli.commands:heads")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("wiki")
        p.add_argument("title")
        if name == "history":
            p.add_argument("--limit", type=int, help="only the newest N revisions (default: all)")
        p.add_argument("--keys", action="store_true", help="show each author's public key instead of their name")
        p.set_defaults(func=func)

    p = sub.add_parser("recent", help="the revisions this node received last, newest first, with who made them")
    p.add_argument("--wiki", help="only this wiki's")
    p.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    p.add_argument("--keys", action="store_true", help="show each author's public key instead of their name")
    p.set_defaults(func="wikipeer.cli.commands:recent")

    p = sub.add_parser("diff", help="unified diff between two revisions")
    p.add_argument("old")
    p.add_argument("new")
    p.set_defaults(func="wikipeer.cli.commands:diff")

    p = sub.add_parser("search", help="full-text search over every page's shown text and title",
                       description="Pages holding every word of QUERY (a \"quoted part\" is one term), an exact "
                                   "title match first. Each line: wiki, title, and the page's text as a reader sees "
                                   "it around the first match (markup, templates, tables and references left out); "
                                   "the matched words are bold on a terminal.")
    p.add_argument("query", help="the words to find (any script; case does not matter)")
    p.add_argument("--limit", type=int, default=20, help="show at most this many pages (default: 20)")
    p.set_defaults(func="wikipeer.cli.commands:search")

    p = sub.add_parser("import", help="import a MediaWiki XML dump (plain, bz2, gzip or xz; - for stdin)")
    p.add_argument("file")
    p.add_argument("--wiki", help="name of the wiki to import into (default: the dump's dbname)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    index_args.add_index_later(p)
    p.set_defaults(func="wikipeer.cli.commands:import_dump")

    p = sub.add_parser("export", help="write a wiki as a MediaWiki XML dump (schema 0.11) or a ZIM file for Kiwix",
                       description="Write a wiki as a MediaWiki XML dump (-o FILE) or as a ZIM file for Kiwix "
                                   "(--zim FILE: rendered pages, files, search indexes; docs/zim.md).")
    p.add_argument("wiki")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", help="XML dump file; .bz2, .gz or .xz compresses, - for stdout")
    where.add_argument("--zim", type=Path, metavar="OUT.zim", help="write a ZIM file for Kiwix instead")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--current", action="store_true", help="only the revision each page shows")
    which.add_argument("--full", action="store_true", help="every revision (the default)")
    p.add_argument("--pages", nargs="+", metavar="TITLE", help="only these pages")
    p.add_argument("--since", help="XML: only revisions from this date on (YYYY-MM-DD or ISO time, UTC); "
                                   "ZIM: an older ZIM of this wiki to refresh, rendering only the pages changed since")
    p.add_argument("--view", help="ZIM: the heads this view shows (default: the node's view)")
    p.add_argument("--namespaces", default="0", metavar="NS,...",
                   help="ZIM: the namespace numbers of the pages to put in it (default: 0, the articles)")
    p.add_argument("--uploads", action="store_true", help="an <upload> record per file version of File: pages")
    p.add_argument("--include-files", action="store_true",
                   help="the files' bytes in those records (base 64; implies --uploads), as dumpBackup.php's")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(func="wikipeer.cli.commands:export_dump")

    p = sub.add_parser("fsck", help="recompute every CID and verify every signature")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(func="wikipeer.cli.commands:fsck")

    p = sub.add_parser("stats", help="per wiki: pages, revisions, blocks, bytes on disk; what waits in the held table")
    p.set_defaults(func="wikipeer.cli.commands:stats")

    p = sub.add_parser("serve", help="serve the wiki on the web")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8080, help="the TCP port to listen on (default 8080; 0 picks a free one)")
    p.add_argument("--access-log", type=Path, metavar="FILE",
                   help="append a line per request to FILE, in common log format (default: no access log)")
    p.add_argument("--wiki", help="the wiki whose main page '/' shows (default: the only one)")
    p.add_argument("--sync-every", type=float, metavar="SECONDS", help="sync with every peer this often")
    p.add_argument("--gossip-every", type=float, default=1.0, metavar="SECONDS",
                   help="pass new notices on to peers this often (default 1)")
    p.add_argument("--cookie-secure", action="store_true",
                   help="mark cookies Secure (readers come over HTTPS, through a TLS proxy)")
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                   help="honour X-Forwarded-For/-Proto from this address or network (repeatable; default: nobody)")
    p.add_argument("--rate-limit", action="append", default=[], metavar="KIND=PER_MINUTE:BURST",
                   help="per-address limit on rpc, search, login or git requests, or KIND=off (repeatable; "
                        "defaults: rpc=1200:600 search=60:30 login=30:30 git=60:30)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="serve from N processes sharing the port (default 1; see docs/scale.md)")
    dht_args.add_serve_options(p)
    p.set_defaults(func="wikipeer.cli.commands:serve")
    index_args.add_parsers(sub)
    net_args.add_parsers(sub)
    offline_args.add_parsers(sub)
    trust_args.add_parsers(sub)
    account_args.add_parsers(sub)
    backup_args.add_parsers(sub)
    migrate_args.add_parsers(sub)
    return parser


def load_command(target: str) -> Callable[[argparse.Namespace], int | None]:
    """The function a parser names as "package.module:function", imported now that it is needed."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return load_command(args.func)(args) or 0
    except WikipeerError as exc:
        print(f"wikipeer: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader (head, a pager) went away: not an error. Point stdout nowhere so the
        # interpreter's flush at exit does not fail on the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"wikipeer: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except engine_errors.DatabaseError as exc:
        print(f"wikipeer: the node's store cannot be used: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wikipeer: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
