"""The arguments of the trust commands: communities, views, seconding, blocklists, and forking a wiki.

Only argparse here: each command names its function as "module:function", which
wikipeer.cli.main imports when that command runs (docs/architecture.md, fast commands).
"""

from __future__ import annotations

import argparse

from wikipeer.model.roles import MEMBER_ROLES


def add_parsers(sub: argparse._SubParsersAction) -> None:
    trust = sub.add_parser("trust", help="communities: who trusts whose signatures").add_subparsers(
        dest="trust_command", required=True, metavar="ACTION")
    p = trust.add_parser("create", help="start a community you issue")
    p.add_argument("community")
    p.set_defaults(func="wikipeer.cli.trust_commands:trust_create")
    for name, func, text in (("add", "trust_add", "trust a key in a community you issue"),
                             ("remove", "trust_remove", "stop trusting a key")):
        p = trust.add_parser(name, help=text)
        p.add_argument("community")
        p.add_argument("member", metavar="KEY")
        if name == "add":
            p.add_argument("--role", choices=MEMBER_ROLES, default="editor")
        p.set_defaults(func=f"wikipeer.cli.trust_commands:{func}")
    p = trust.add_parser("include", help="make a community you issue include another (ISSUER_KEY/name)")
    p.add_argument("community")
    p.add_argument("other")
    p.set_defaults(func="wikipeer.cli.trust_commands:trust_include")
    p = trust.add_parser("list", aliases=["show"], help="the trust lists this node holds")
    p.set_defaults(func="wikipeer.cli.trust_commands:trust_show")
    p = trust.add_parser("subscribe", help="trust a community (ISSUER_KEY/name) in a view of this node")
    p.add_argument("community")
    p.add_argument("--view", help="the view to change (default: the node's default view)")
    p.add_argument("--unsubscribe", action="store_true")
    p.set_defaults(func="wikipeer.cli.trust_commands:trust_subscribe")
    for name in ("create", "add", "remove", "include"):
        trust.choices[name].add_argument("--key", help="the issuing key (default: your default key)")

    view = sub.add_parser("view", help="the views readers can choose").add_subparsers(
        dest="view_command", required=True, metavar="ACTION")
    p = view.add_parser("list", aliases=["show"], help="views and their communities")
    p.set_defaults(func="wikipeer.cli.trust_commands:view_list")
    p = view.add_parser("default", help="the view readers get unless they choose")
    p.add_argument("name")
    p.set_defaults(func="wikipeer.cli.trust_commands:view_default")
    p = view.add_parser("own-communities", help="whether the default view trusts the members of the communities "
                                                "this node's keys issue, from their creation (default: on)")
    p.add_argument("state", choices=("on", "off"))
    p.set_defaults(func="wikipeer.cli.trust_commands:view_own_communities")

    p = sub.add_parser("second", help="second a revision: sign it as reviewed")
    p.add_argument("cid")
    p.add_argument("--key", help="the key that signs (default: your default key)")
    p.set_defaults(func="wikipeer.cli.trust_commands:second_command")

    bl = sub.add_parser("blocklist", help="lists of bad content (RE2 patterns)").add_subparsers(
        dest="blocklist_command", required=True, metavar="ACTION")
    for action in ("add", "remove"):
        p = bl.add_parser(action, help=f"{action} patterns and publish the list's next version")
        p.add_argument("name")
        p.add_argument("patterns", nargs="+", metavar="PATTERN")
        p.add_argument("--key", help="the issuing key (default: your default key)")
        p.set_defaults(func="wikipeer.cli.trust_commands:blocklist_change", action=action)
    p = bl.add_parser("list", aliases=["show"], help="blocklists held, and which are enforced")
    p.set_defaults(func="wikipeer.cli.trust_commands:blocklist_show")
    p = bl.add_parser("check", help="flag pages whose shown text matches an enforced blocklist")
    p.set_defaults(func="wikipeer.cli.trust_commands:blocklist_check")

    p = sub.add_parser("fork", help="fork a wiki: a new wiki from the heads a view shows")
    p.add_argument("wiki")
    p.add_argument("new")
    p.add_argument("--view", help="the view whose heads the fork starts from (default: the node's)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(func="wikipeer.cli.trust_commands:fork")
