"""The commands of trust: communities, views, seconding, blocklists, and forking a wiki."""

from __future__ import annotations

import argparse

from wikipeer.cli.progress import progress_bar
from wikipeer.cli.shell import _cid, _open, announcing_new_key, none_yet, out, people_of
from wikipeer.errors import UserError
from wikipeer.forking import fork_wiki
from wikipeer.model.cid import cid_to_str
from wikipeer.model.keys import key_from_str
from wikipeer.notices import current_blocklist, current_trust, publish_blocklist, publish_trust, second
from wikipeer.policy.blocklist import BlockGuard, quoted
from wikipeer.store.people import KEY
from wikipeer.store.schema import KIND_BLOCKLIST, KIND_TRUST


def _key_text(text: str) -> str:
    key_from_str(text)  # raises with a message when it is not a key
    return text


def _issuer(args: argparse.Namespace, node) -> str:
    return node.keyring.get(args.key).public if args.key else node.user_key().public


def trust_create(args: argparse.Namespace) -> int:
    node = _open(args)
    with announcing_new_key(node):
        if current_trust(node, _issuer(args, node), args.community):
            raise UserError(f"you already issue a community {args.community!r}: add members to it")
        trust = publish_trust(node, args.community, {}, (), args.key)
    trusted = ("; this node's default view trusts its members" if node.config.trust_own_communities else
               "; no view trusts it until you subscribe one ('view own-communities' is off)")
    out.print(f"community {trust.key}/{trust.community} created (list #{trust.seq}, no members yet){trusted}")
    return 0


def _change_members(args: argparse.Namespace, change) -> int:
    node = _open(args)
    with announcing_new_key(node):
        old = current_trust(node, _issuer(args, node), args.community)
        if old is None:
            raise UserError(f"you issue no community {args.community!r}: "
                            f"'wikipeer trust create {args.community}' first")
        members, includes = dict(old.members), list(old.includes)
        change(members, includes)
        trust = publish_trust(node, args.community, members, tuple(includes), args.key)
    out.print(f"{trust.key}/{trust.community}: list #{trust.seq} with {len(trust.members)} members"
              + (f", including {len(trust.includes)} communities" if trust.includes else ""))
    return 0


def trust_add(args: argparse.Namespace) -> int:
    return _change_members(args, lambda members, includes: members.update({_key_text(args.member): args.role}))


def trust_remove(args: argparse.Namespace) -> int:
    def remove(members: dict, includes: list) -> None:
        if members.pop(args.member, None) is None:
            raise UserError(f"{args.member} is not a member of {args.community!r}")
    return _change_members(args, remove)


def trust_include(args: argparse.Namespace) -> int:
    issuer, _, name = args.other.partition("/")
    _key_text(issuer)
    if not name:
        raise UserError("name the community to include as ISSUER_KEY/name")
    return _change_members(args, lambda members, includes: includes.append(args.other)
                           if args.other not in includes else None)


def trust_show(args: argparse.Namespace) -> int:
    node = _open(args)
    notices = node.store.current_notices(KIND_TRUST)
    if not notices:
        none_yet("communities", "'wikipeer trust create NAME' starts one, 'wikipeer trust subscribe' follows one")
    people = people_of(node)
    for _, trust in notices:
        out.print(f"{trust.key}/{trust.community}  list #{trust.seq}, {len(trust.members)} members")
        for key, role in sorted(trust.members.items()):
            person = people.person(key)
            out.print(f"    {role:<9} {key}" + (f"  {person.name}" if person.source != KEY else ""))
        for other in trust.includes:
            out.print(f"    includes  {other}")
    return 0


def trust_subscribe(args: argparse.Namespace) -> int:
    node = _open(args)
    issuer, _, name = args.community.partition("/")
    _key_text(issuer)
    views = node.config.views
    chosen = args.view or node.config.default_view or "default"
    entries = views.setdefault(chosen, [])
    if args.unsubscribe:
        views[chosen] = [c for c in entries if c != args.community]
    elif args.community not in entries:
        entries.append(args.community)
    node.config.default_view = node.config.default_view or chosen
    node.save_config()
    members = node.members(views[chosen])
    out.print(f"view {chosen!r}: {len(views[chosen])} communities, {len(members.roles)} trusted keys"
              + ("" if current_trust(node, issuer, name) else
                 f" (no list of {args.community} here yet: it comes with the next sync)"))
    return 0


def view_list(args: argparse.Namespace) -> int:
    node = _open(args)
    own = node.own_communities() if node.config.trust_own_communities else ()
    if not node.config.views:
        out.print("no views: this node trusts its own keys and those imported with 'wikipeer key import'"
                  + (f", and the members of its own communities ({', '.join(own)})" if own else ""))
    for name, communities in sorted(node.config.views.items()):
        default = name == node.config.default_view
        mark = " (default)" if default else ""
        mine = f"; and its own communities: {', '.join(own)}" if default and own else ""
        out.print(f"{name}{mark}: {', '.join(communities) or 'no communities'}{mine}; "
                  f"{len(node.view(name).trusted)} trusted keys")
    return 0


def view_own_communities(args: argparse.Namespace) -> int:
    node = _open(args)
    node.config.trust_own_communities = args.state == "on"
    node.save_config()
    own = node.own_communities()
    out.print(("the default view now trusts the members of the communities this node's keys issue"
               if args.state == "on" else
               "the default view now trusts only its subscribed communities and this node's keys")
              + (f" ({', '.join(own)})" if own else ""))
    return 0


def view_default(args: argparse.Namespace) -> int:
    node = _open(args)
    if args.name not in node.config.views:
        raise UserError(f"no view named {args.name!r} (see 'wikipeer view list')")
    node.config.default_view = args.name
    node.save_config()
    out.print(f"readers of this node now see the view {args.name!r}")
    return 0


def second_command(args: argparse.Namespace) -> int:
    node = _open(args)
    with announcing_new_key(node):
        sig = second(node, _cid(args.cid), args.key)
    out.print(f"seconded {args.cid} (signature {cid_to_str(sig)})")
    return 0


def blocklist_change(args: argparse.Namespace) -> int:
    node = _open(args)
    with announcing_new_key(node):
        old = current_blocklist(node, _issuer(args, node), args.name)
        patterns = list(old.patterns) if old else []
        if args.action == "add":
            patterns += args.patterns
        else:
            missing = [p for p in args.patterns if p not in patterns]
            if missing:
                raise UserError(f"not in the blocklist {args.name!r}: {quoted(missing[0])}")
            patterns = [p for p in patterns if p not in args.patterns]
        published = publish_blocklist(node, args.name, tuple(patterns), args.key)
    out.print(f"blocklist {args.name!r} #{published.seq}: {len(published.patterns)} patterns")
    return 0


def blocklist_show(args: argparse.Namespace) -> int:
    node = _open(args)
    trusted = node.view().trusted
    notices = node.store.current_notices(KIND_BLOCKLIST)
    if not notices:
        none_yet("blocklists", "'wikipeer blocklist add NAME PATTERN' starts one")
    for _, b in notices:
        state = "enforced" if b.key in trusted else "not enforced (issuer not trusted)"
        out.print(f"{b.name} by {b.key}  #{b.seq}, {len(b.patterns)} patterns, {state}")
    return 0


def blocklist_check(args: argparse.Namespace) -> int:
    """Flag the pages whose shown text matches an enforced blocklist (existing revisions are never removed)."""
    node = _open(args)
    guard = node.policy().guard or BlockGuard([])
    flagged = 0
    for wiki in node.store.wikis():
        for row in node.store.pages(wiki):
            head = node.view().shown(node.store, row.id)
            hit = guard.check(node.store.revision_text(head)) if head else None
            if hit:
                flagged += 1
                out.print(f"{wiki}: {row.title}: matches {hit}")
    out.print(f"{flagged} pages flagged")
    return 1 if flagged else 0


def fork(args: argparse.Namespace) -> int:
    node = _open(args)
    with progress_bar(f"forking {args.wiki} as {args.new}", None, args.quiet, "pages") as bar:
        result = fork_wiki(node, args.wiki, args.new, args.view, lambda done, total: bar(done, total=total))
    out.print(f"wiki {args.new!r} forked from {args.wiki!r}: {result.pages} pages"
              + (f", {result.unreviewed} of them unreviewed in that view" if result.unreviewed else ""))
    for reason in result.refused[:10]:
        out.print(f"not copied: {reason}")
    return 1 if result.refused else 0
