"""The commands of accounts: add, list and remove the node's users, and make or revoke their bot passwords.

A password is read from a prompt, or from stdin when stdin is not a terminal
(so scripts can pipe it in); it is never an argument, so it never shows in a
process list or a shell history, and no message ever repeats it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime, timezone

from wikipeer.cli.shell import _open, none_yet, out
from wikipeer.errors import UserError
from wikipeer.node import Node
from wikipeer.store.accounts import ACCOUNTS_FILE, Accounts, check_new_password, parse_grants


def _accounts(node: Node) -> Accounts:
    return Accounts(node.dir / ACCOUNTS_FILE, node.keyring)


def read_password(name: str) -> str:
    """A new password for ``name``: asked twice at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        check_new_password(name, password)  # say so before asking again
        if getpass.getpass("The same password again: ") != password:
            raise UserError("the two passwords differ: nothing was changed")
        return password
    line = sys.stdin.readline()
    return line[:-1].removesuffix("\r") if line.endswith("\n") else line


def account_add(args: argparse.Namespace) -> int:
    if args.stray:  # most likely a password typed after the name: refuse it without repeating it
        raise UserError("'account add' takes only a name: type the password at the prompt or pipe it to stdin "
                        "(a password on the command line shows in the process list and the shell's history)")
    node = _open(args)
    accounts = _accounts(node)
    if accounts.get(args.name.strip()) is not None:  # before asking for a password that would be thrown away
        raise UserError(f"the user name {args.name.strip()!r} is taken")
    account = accounts.create(args.name, read_password(args.name.strip()))
    out.print(f"account {account.name} made; its edits are signed with {node.keyring.get(account.key).public}")
    return 0


def account_list(args: argparse.Namespace) -> int:
    node = _open(args)
    accounts = _accounts(node)
    bots: dict[str, list[str]] = {}
    for bot in accounts.bot_passwords():
        bots.setdefault(bot.name, []).append(f"{bot.label} ({' '.join(sorted(bot.grants))})")
    listed = accounts.list()
    if not listed:
        none_yet("accounts", "'wikipeer account add NAME' makes one, or a reader registers on the web page")
    for account in listed:
        labels = f"  bot passwords: {', '.join(bots[account.name])}" if account.name in bots else ""
        out.print(f"{account.name:<20} {node.keyring.get(account.key).public}{labels}")
    return 0


def account_botpassword(args: argparse.Namespace) -> int:
    accounts = _accounts(_open(args))
    account = accounts.require(args.name)
    if args.revoke:
        accounts.revoke_bot_password(account.name, args.label)
        out.print(f"bot password {account.name}@{args.label.strip()} revoked; its sessions are closed")
        return 0
    password = accounts.create_bot_password(account.name, args.label, parse_grants(args.grants))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.print(f"user name: {account.name}@{args.label.strip()}\npassword:  {password}\n"
              f"(made {when}; shown only this once: the node keeps only its hash)")
    return 0


def account_remove(args: argparse.Namespace) -> int:
    node = _open(args)
    account = _accounts(node).remove(args.name)
    out.print(f"account {account.name} removed with its sessions and bot passwords; its key "
              f"{node.keyring.get(account.key).public} stays, so what it signed stays valid")
    return 0
