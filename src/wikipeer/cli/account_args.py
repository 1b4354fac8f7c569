"""The arguments of the account commands: add, list and remove the node's users, and make or revoke their bot passwords.

Only argparse here: each command names its function as "module:function", which
wikipeer.cli.main imports when that command runs (docs/architecture.md, fast commands).
"""

from __future__ import annotations

import argparse

from wikipeer.store.grants import GRANTS


def add_parsers(sub: argparse._SubParsersAction) -> None:
    account = sub.add_parser("account", help="the node's users, who log in to its web page and API").add_subparsers(
        dest="account_command", required=True, metavar="ACTION")
    p = account.add_parser("add", help="make an account (password from a prompt, or stdin when not a terminal)")
    p.add_argument("name")
    p.add_argument("stray", nargs="*", help=argparse.SUPPRESS)  # so argparse's error never echoes a password
    p.set_defaults(func="wikipeer.cli.account_commands:account_add")
    p = account.add_parser("list", aliases=["show"], help="accounts with their keys and bot passwords")
    p.set_defaults(func="wikipeer.cli.account_commands:account_list")
    p = account.add_parser("botpassword", help="make a bot password NAME@LABEL for programs (printed once), "
                                               "or --revoke one")
    p.add_argument("name")
    p.add_argument("label")
    p.add_argument("--grants", help=f"what it may do, comma-separated: {', '.join(GRANTS)} (default: all; "
                                    "basic always)")
    p.add_argument("--revoke", action="store_true", help="delete it and end its sessions")
    p.set_defaults(func="wikipeer.cli.account_commands:account_botpassword")
    p = account.add_parser("remove", help="remove an account, its sessions and bot passwords (its key stays)")
    p.add_argument("name")
    p.set_defaults(func="wikipeer.cli.account_commands:account_remove")
