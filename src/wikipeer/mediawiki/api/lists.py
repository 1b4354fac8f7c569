"""The ``list=`` modules: allpages, allrevisions, recentchanges, usercontribs, search, categorymembers.

Each is also a generator (``generator=allpages`` and so on). Continuation
values are positions (a title, or "timestamp|revision id"), never offsets,
except search's ``sroffset``, as in MediaWiki.

What differs from MediaWiki: recent changes are every revision by its
timestamp (there is no 90-day window and no log entries); a category's
members are the pages whose shown text names the category in a link
(categories that templates add are not counted).
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.errors import ApiError
from wikipeer.mediawiki.api.params import Param, format_timestamp, out_of_range
from wikipeer.mediawiki.api.query import Listing, Query
from wikipeer.mediawiki.api.reading import (HISTORY_BATCH, current, full_title, hidden_pages, on_shown_page,
                                           page_dict, read_shown_pages, rev_user, sha1_hex)
from wikipeer.mediawiki.api.registry import Module, module, register
from wikipeer.mediawiki.api.revisions import RV_PROPS, revision_dict
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.render.names import NS_CATEGORY
from wikipeer.render.redirect import redirect_target
from wikipeer.snippets import page_snippet, title_snippet
from wikipeer.store.indexer import reported_lag, search_off
from wikipeer.store.records import PageRow, RevInfo
from wikipeer.store.revlists import ParentInfo
from wikipeer.store.revlists import TimeRange, first_parents, pages_by_ids, pages_by_title, wiki_revision_infos

LIMIT, HIGH_LIMIT = 500, 5000
SCAN_BATCH = 500
MAX_CATEGORY_CANDIDATES = 100_000


def _limit(**extra: Any) -> Param:
    return Param("limit", "limit", default=10, max=LIMIT, highmax=HIGH_LIMIT, **extra)


def _cursor(value: str | None, module_name: str) -> tuple[int, int] | None:
    if not value:
        return None
    ts, _, rev_id = value.partition("|")
    if not ts.lstrip("-").isdigit() or not rev_id.isdigit():
        raise ApiError("badcontinue", "Invalid continue param. You should pass the original value returned by the "
                                      "previous query.", module=module_name)
    return int(ts), int(rev_id)


# -- allpages -------------------------------------------------------------------


def allpages(call: ApiCall, params: dict[str, Any], query: Query) -> Listing:
    descending = params["dir"] == "descending"
    start = params["continue"] or params["from"]
    start = start.replace("_", " ") if start else None
    end = params["to"].replace("_", " ") if params["to"] else None
    prefix = params["prefix"].replace("_", " ") if params["prefix"] else None
    if call.wiki.case_rule(params["namespace"]) == "first-letter":
        start, end, prefix = (x[:1].upper() + x[1:] if x else x for x in (start, end, prefix))
    limit, found, more = params["limit"], [], None
    cursor = start
    while len(found) <= limit:
        rows = pages_by_title(call.node.store, call.wiki.name, params["namespace"], SCAN_BATCH, cursor, end, prefix,
                              descending)
        rows = [r for r in rows if r.title != cursor or cursor == start]
        if not rows:
            break
        for row in rows:
            if row.id not in hidden_pages(call) and _redirect_ok(call, row, params["filterredir"]):
                found.append(row)
        cursor = rows[-1].title
        if len(rows) < SCAN_BATCH:
            break
    if len(found) > limit:
        more = found[limit].title.replace(" ", "_")
        found = found[:limit]
    if more:
        query.continue_with(module("list", "allpages"), {"apcontinue": more})
    return Listing([page_dict(call, r) for r in found], found)


def _redirect_ok(call: ApiCall, row: PageRow, wanted: str) -> bool:
    if wanted == "all":
        return True
    head = current(call, row.id)
    is_redirect = head is not None and redirect_target(call.wiki, call.node.store.revision_text(head)) is not None
    return is_redirect == (wanted == "redirects")


# -- revisions by time: allrevisions, recentchanges, usercontribs ------------------------


def _revisions_by_time(call: ApiCall, span: TimeRange, namespaces: list[int] | None,
                       keep: Any = None, first: int = SCAN_BATCH) -> Iterator[RevInfo]:
    """The wiki's revisions in ``span``, in order, those ``keep`` accepts (all if None); without signatures.
    Revisions of hidden pages are left out, as MediaWiki leaves out a deleted page's, and so are those the
    page MediaWiki has at their title does not hold (reading.on_shown_page), as MediaWiki lists them once.

    ``first``: how many to read in the first batch (a list's limit: most lists end in it).
    """
    store = call.node.store
    gone = hidden_pages(call)
    cursor, batch_size = span.cursor, first
    while True:
        revs = wiki_revision_infos(store, call.wiki.name, TimeRange(span.newer, span.start, span.end, cursor),
                                   batch_size + 1, namespaces)
        read_shown_pages(call, revs[:batch_size])
        for rev in revs[:batch_size]:
            if rev.page not in gone and on_shown_page(call, rev) and (keep is None or keep(rev)):
                yield rev
        if len(revs) <= batch_size:
            return
        cursor = (revs[batch_size].ts, revs[batch_size].id)
        batch_size = SCAN_BATCH


def _take(call: ApiCall, revs: Iterator[RevInfo], limit: int) -> tuple[list[RevInfo], str | None]:
    """At most ``limit`` revisions, and the continuation naming the next one (None: no more)."""
    out: list[RevInfo] = []
    for rev in revs:
        if len(out) == limit:
            return out, f"{rev.ts}|{rev.id}"
        out.append(rev)
    return out, None


def _user_filter(call: ApiCall, users: list[str] | None, excluded: str | None) -> Any:
    if not users and not excluded:
        return None
    wanted = set(users or ())
    return lambda rev: ((not wanted or rev_user(call, rev).name in wanted)
                        and (not excluded or rev_user(call, rev).name != excluded))


def _span(params: dict[str, Any], name: str, newer_word: str = "newer") -> TimeRange:
    return TimeRange(params["dir"] == newer_word, params["start"], params["end"], _cursor(params["continue"], name))


def allrevisions(call: ApiCall, params: dict[str, Any], query: Query) -> Listing:
    limit = params["limit"]
    if "content" in params["prop"] and limit > 50 and not call.is_bot:
        call.warn("allrevisions", "integeroutofrange", out_of_range("arvlimit", limit, 1, 50))
        limit = 50
    keep = _user_filter(call, [params["user"]] if params["user"] else None, params["excludeuser"])
    revs, cont = _take(call, _revisions_by_time(call, _span(params, "allrevisions"), params["namespace"] or None,
                                                keep, limit + 1), limit)
    if cont:
        query.continue_with(module("list", "allrevisions"), {"arvcontinue": cont})
    store = call.node.store
    groups: list[dict[str, Any]] = []
    rows: list[PageRow] = []
    revids: dict[int, list[int]] = {}
    for rev in revs:
        if not groups or groups[-1]["pageid"] != rev.page:
            row = store.page_by_id(rev.page)
            rows.append(row)
            groups.append({**page_dict(call, row), "revisions": []})
        groups[-1]["revisions"].append(revision_dict(call, rev, params["prop"], params["slots"]))
        revids.setdefault(rev.page, []).append(rev.id)
    return Listing(groups, rows, {} if params["generatetitles"] else revids)


RC_PROPS = ("user", "userid", "comment", "parsedcomment", "flags", "timestamp", "title", "ids", "sizes", "redirect",
            "patrolled", "loginfo", "tags", "sha1")


def recentchanges(call: ApiCall, params: dict[str, Any], query: Query) -> Listing:
    types = set(params["type"])
    show = set(params["show"])
    store = call.node.store

    def keep(rev: RevInfo) -> bool:
        if params["tag"]:  # a node tags no revision
            return False
        kind = "edit" if rev.parents else "new"
        if kind not in types:
            return False
        if ("minor" in show and not rev.minor) or ("!minor" in show and rev.minor):
            return False
        if "bot" in show:
            return False
        if "anon" in show or "!anon" in show:
            anon = rev_user(call, rev).anon
            if ("anon" in show and not anon) or ("!anon" in show and anon):
                return False
        if params["toponly"] and rev.id not in {h.id for h in store.heads(rev.page)}:
            return False
        return True

    users = _user_filter(call, [params["user"]] if params["user"] else None, params["excludeuser"])
    both = keep if users is None else (lambda rev: keep(rev) and users(rev))
    revs, cont = _take(call, _revisions_by_time(call, _span(params, "recentchanges"), params["namespace"] or None,
                                                both, params["limit"] + 1), params["limit"])
    if cont:
        query.continue_with(module("list", "recentchanges"), {"rccontinue": cont})
    parents = first_parents(store, [rev.id for rev in revs])
    pages = pages_by_ids(store, [rev.page for rev in revs])
    props = set(params["prop"])
    items = [_change(call, rev, props, pages[rev.page], parents.get(rev.id)) for rev in revs]
    return Listing(items, _rows(call, revs, pages), {} if not params["generaterevisions"] else
                   {rev.page: [rev.id] for rev in revs})


def _rows(call: ApiCall, revs: list[RevInfo], found: dict[int, PageRow] | None = None) -> list[PageRow]:
    """The pages of these revisions, each once, in the order they first come (``found``: read already)."""
    if found is None:
        found = pages_by_ids(call.node.store, [rev.page for rev in revs])
    return [found[page] for page in dict.fromkeys(rev.page for rev in revs)]


def _change(call: ApiCall, rev: RevInfo, props: set[str], row: PageRow, parent: ParentInfo | None) -> dict[str, Any]:
    # Keys set one by one, not by update(): a list of changes builds hundreds of these.
    out: dict[str, Any] = {"type": "edit" if rev.parents else "new"}
    if "title" in props:
        out["ns"] = row.ns
        out["title"] = call.wiki.full_title(row.ns, row.title)
    if "ids" in props:
        out["pageid"] = row.id
        out["revid"] = rev.id
        out["old_revid"] = parent.id if parent else 0
        out["rcid"] = rev.id
    if "user" in props or "userid" in props:
        user = rev_user(call, rev)
        if "user" in props:
            out["user"] = user.name
        if "userid" in props:
            out["userid"] = user.id
        if user.anon:
            out["anon"] = True  # MediaWiki says so with either of the two
    if "flags" in props:
        out.update(bot=False, new=not rev.parents, minor=bool(rev.minor))
    if "sizes" in props:
        out["oldlen"] = parent.size if parent else 0
        out["newlen"] = rev.size
    if "timestamp" in props:
        out["timestamp"] = format_timestamp(rev.ts)
    if "comment" in props:
        out["comment"] = rev.comment
    if "parsedcomment" in props:
        out["parsedcomment"] = html.escape(rev.comment)
    if "sha1" in props:
        out["sha1"] = sha1_hex(call, rev)
    if "tags" in props:
        out["tags"] = []
    if "redirect" in props:
        out["redirect"] = redirect_target(call.wiki, call.node.store.revision_text(rev)) is not None
    return out


UC_PROPS = ("ids", "title", "timestamp", "comment", "parsedcomment", "size", "sizediff", "flags", "patrolled", "tags")
UC_SHOW = ("minor", "!minor", "new", "!new", "top", "!top", "patrolled", "!patrolled", "autopatrolled",
           "!autopatrolled")
"""What ``ucshow`` takes. Clients read the patrolled values from paraminfo (pywikibot refuses a site
without them), but nobody patrols on a node: asking for them is MediaWiki's error for a user without the
patrol right."""
PATROL_WORDS = {"patrolled", "!patrolled", "autopatrolled", "!autopatrolled"}
UC_SOURCES = ("user", "userids", "userprefix", "iprange")
WIDEST_RANGE = {4: 16, 6: 19}
"""MediaWiki's $wgRangeContributionsCIDRLimit: the broadest ``uciprange`` it takes, by IP version."""


def usercontribs(call: ApiCall, params: dict[str, Any], query: Query) -> Listing:
    keep = _contributor_filter(call, params)
    show = set(params["show"])
    if params["toponly"]:
        call.warn("usercontribs", "deprecation", 'The parameter "uctoponly" has been deprecated.')
        show.add("top")
    if show & PATROL_WORDS:
        raise ApiError("permissiondenied", "You need the patrol or patrolmarks right to request the patrolled flag.",
                       module="usercontribs")
    if any(value in show and f"!{value}" in show for value in ("minor", "new", "top")):
        raise ApiError("show", "Incorrect parameter - mutually exclusive values may not be supplied.",
                       module="usercontribs")

    def wanted(rev: RevInfo) -> bool:
        if params["tag"]:  # a node tags no revision
            return False
        flags = {"minor": bool(rev.minor), "new": not rev.parents}
        if any(f"!{name}" in show and value or name in show and not value for name, value in flags.items()):
            return False
        if "top" in show or "!top" in show:
            return _is_top(call, rev) == ("top" in show) and keep(rev)
        return keep(rev)

    revs, cont = _take(call, _revisions_by_time(call, _span(params, "usercontribs"), params["namespace"] or None,
                                                wanted, params["limit"] + 1), params["limit"])
    if cont:
        query.continue_with(module("list", "usercontribs"), {"uccontinue": cont})
    props = params["prop"]
    items = []
    parents = first_parents(call.node.store, [rev.id for rev in revs])
    pages = pages_by_ids(call.node.store, [rev.page for rev in revs])
    for rev in revs:
        row, parent = pages[rev.page], parents.get(rev.id)
        user = rev_user(call, rev)
        item: dict[str, Any] = {"userid": user.id, "user": user.name}
        if "ids" in props:
            item.update(pageid=row.id, revid=rev.id, parentid=parent.id if parent else 0)
        if "title" in props:
            item.update(ns=row.ns, title=full_title(call, row))
        if "timestamp" in props:
            item["timestamp"] = format_timestamp(rev.ts)
        if "flags" in props:
            item.update(new=not rev.parents, minor=bool(rev.minor), top=_is_top(call, rev))
        if "comment" in props:
            item["comment"] = rev.comment
        if "size" in props:
            item["size"] = rev.size
        if "sizediff" in props:
            item["sizediff"] = rev.size - (parent.size if parent else 0)
        if "tags" in props:
            item["tags"] = []
        items.append(item)
    return Listing(items, _rows(call, revs))


def _contributor_filter(call: ApiCall, params: dict[str, Any]) -> Any:
    """Whose revisions: exactly one of ``ucuser``, ``ucuserids``, ``ucuserprefix`` and ``uciprange``, as in
    MediaWiki. Ids are the source wiki's (an imported user's); a node's own accounts have none (0)."""
    given = [name for name in UC_SOURCES if params[name]]
    named = ", ".join(f'"uc{name}"' for name in UC_SOURCES)
    if not given:
        raise ApiError("missingparam", f"One of the parameters {named} is required.", module="usercontribs")
    if len(given) > 1:
        raise ApiError("invalidparammix", f"The parameters {named} can not be used together.",
                       module="usercontribs")
    if params["iprange"]:
        network = _ip_range(params["iprange"])
        return lambda rev: (user := rev_user(call, rev)).anon and _in_range(user.name, network)
    if params["userids"]:
        ids = set(params["userids"]) - {0}
        return lambda rev: rev_user(call, rev).id in ids
    if params["userprefix"]:
        prefix = params["userprefix"]
        return lambda rev: rev_user(call, rev).name.startswith(prefix)
    users = set(params["user"])
    return lambda rev: rev_user(call, rev).name in users


def _ip_range(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ApiError("invalidiprange", f'Invalid IP range "{value}".', module="usercontribs") from None
    if network.prefixlen < WIDEST_RANGE[network.version]:
        raise ApiError("cidrtoobroad", f"IPv{network.version} CIDR ranges broader than "
                                       f"/{WIDEST_RANGE[network.version]} are not accepted.", module="usercontribs")
    return network


def _in_range(name: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(name) in network
    except ValueError:  # an imported user without an id is anonymous but has no address
        return False


def _is_top(call: ApiCall, rev: RevInfo) -> bool:
    """Whether the revision is the page's current one (MediaWiki's ``top``): the head the view shows."""
    tops = call.state.setdefault("top revisions", {})
    if rev.page not in tops:
        head = current(call, rev.page)
        tops[rev.page] = head.id if head is not None else None
    return tops[rev.page] == rev.id


# -- search ---------------------------------------------------------------------------

SEARCHMATCH = ('<span class="searchmatch">', "</span>")
"""How MediaWiki marks the matched words in a snippet (the text around them is escaped)."""


def search(call: ApiCall, params: dict[str, Any], query: Query) -> Listing:
    if call.wiki.name in search_off(call.node.store):
        # MediaWiki's error when the search backend does not do text search.
        raise ApiError("search-text-disabled", f"text search is disabled: search is turned off for "
                                               f"{call.wiki.name} on this node.")
    offset, limit = params["offset"] or 0, params["limit"]
    namespaces = set(params["namespace"] or [0])
    hits = [(row, snippet) for row, snippet in call.node.store.search(params["search"], offset + limit + 1 + 1000)
            if row.wiki == call.wiki.name and row.ns in namespaces and row.id not in hidden_pages(call)]
    if params["what"] == "title":
        folded = params["search"].casefold()
        hits = [(row, snippet) for row, snippet in hits if folded in row.title.casefold()]
    behind = reported_lag(call.node.store)
    if behind:
        call.warn("search", "index-behind", f"The search index is {behind} pages behind: pages changed lately "
                                            "may be missing from these results, or found as they were.")
    page = hits[offset:offset + limit]
    if len(hits) > offset + limit:
        query.continue_with(module("list", "search"), {"sroffset": str(offset + limit)})
    if "totalhits" in params["info"]:
        query.result["searchinfo"] = {"totalhits": len(hits)}
    items = []
    for row, _ in page:
        item: dict[str, Any] = {"ns": row.ns, "title": full_title(call, row), "pageid": row.id}
        head = current(call, row.id) if {"size", "wordcount", "timestamp"} & set(params["prop"]) else None
        if head is not None:
            if "size" in params["prop"]:
                item["size"] = head.size
            if "wordcount" in params["prop"]:
                item["wordcount"] = len(call.node.store.revision_text(head).split())
            if "timestamp" in params["prop"]:
                item["timestamp"] = format_timestamp(head.ts)
        if "snippet" in params["prop"]:
            item["snippet"] = page_snippet(call.node, row, params["search"]).html(*SEARCHMATCH)
        if "titlesnippet" in params["prop"]:
            item["titlesnippet"] = title_snippet(call.wiki, row, params["search"]).html(*SEARCHMATCH)
        items.append(item)
    return Listing(items, [row for row, _ in page])


# -- categorymembers ----------------------------------------------------------------


def categorymembers(call: ApiCall, params: dict[str, Any], query: Query) -> Listing:
    category = _category(call, params)
    pattern = _category_link(call, category)
    members: list[PageRow] = []
    for row in _category_candidates(call, category):
        if row.wiki != call.wiki.name or (params["namespace"] and row.ns not in params["namespace"]):
            continue
        if row.id in hidden_pages(call):
            continue
        kind = "subcat" if row.ns == NS_CATEGORY else "file" if row.ns == 6 else "page"
        if kind not in params["type"]:
            continue
        head = current(call, row.id)
        if head is not None and pattern.search(call.node.store.revision_text(head)):
            members.append(row)
    descending = params["dir"] in ("desc", "descending", "older")  # MediaWiki: "newer" is ascending
    if params["sort"] == "timestamp":
        added = {row.id: _added_to_category(call, row, pattern) for row in members}
        members = [r for r in members if _in_time_range(added[r.id], params, descending)]
        members.sort(key=lambda r: (added[r.id], r.id), reverse=descending)
    else:  # cmstart and cmend go with cmsort=timestamp only; MediaWiki ignores them otherwise, so does this
        added = {}
        low, high = _sortkey_range(params)
        if descending:
            low, high = high, low
        members = [r for r in members if (low is None or _sortkey(r) >= low) and (high is None or _sortkey(r) <= high)]
        members.sort(key=lambda r: (_sortkey(r), r.id), reverse=descending)
    start = int(params["continue"]) if params["continue"] and params["continue"].isdigit() else 0
    page = members[start:start + params["limit"]]
    if len(members) > start + params["limit"]:
        query.continue_with(module("list", "categorymembers"), {"cmcontinue": str(start + params["limit"])})
    items = []
    for row in page:
        item = page_dict(call, row) if "ids" in params["prop"] else {"ns": row.ns, "title": full_title(call, row)}
        if "title" not in params["prop"]:
            item.pop("title", None)
            item.pop("ns", None)
        if "type" in params["prop"]:
            item["type"] = "subcat" if row.ns == NS_CATEGORY else "file" if row.ns == 6 else "page"
        if "sortkey" in params["prop"]:
            item["sortkey"] = _sortkey(row).hex()
        if "sortkeyprefix" in params["prop"]:
            item["sortkeyprefix"] = ""
        if "timestamp" in params["prop"]:
            item["timestamp"] = format_timestamp(added.get(row.id) or _added_to_category(call, row, pattern))
        items.append(item)
    return Listing(items, page)


def _sortkey(row: PageRow) -> bytes:
    """MediaWiki's sort key with its "uppercase" collation: the title without its namespace, upper-cased (a
    node keeps no sort key prefixes: ``[[Category:X|key]]`` is not read)."""
    return row.title.upper().encode("utf-8")


def _sortkey_range(params: dict[str, Any]) -> tuple[bytes | None, bytes | None]:
    """``cmstarthexsortkey``/``cmstartsortkeyprefix`` and their ends as sort keys (a hex key wins, as in
    MediaWiki); both ends are taken, in ``cmdir``'s order."""
    ends = []
    for side in ("start", "end"):
        hexed, prefix = params[f"{side}hexsortkey"], params[f"{side}sortkeyprefix"]
        if hexed is not None:
            try:
                ends.append(bytes.fromhex(hexed))
            except ValueError:
                raise ApiError("badvalue", f'Invalid value "{hexed}" for parameter "cm{side}hexsortkey": '
                                           "not a hexadecimal sort key.", module="categorymembers") from None
        else:
            ends.append(prefix.upper().encode("utf-8") if prefix is not None else None)
    return ends[0], ends[1]


def _added_to_category(call: ApiCall, row: PageRow, pattern: re.Pattern[str]) -> int:
    """When the page joined the category (MediaWiki's cl_timestamp): the oldest revision of the newest run of
    revisions whose text links to it, going back from the shown head by time."""
    store = call.node.store
    head = current(call, row.id)
    since = head.ts if head is not None else 0
    cursor = None
    while True:
        revs = store.history_page(row.id, HISTORY_BATCH, cursor)
        for rev in revs:
            if rev.ts > since or not on_shown_page(call, rev):
                continue  # a newer head of a fork the view does not show, or another MediaWiki page's revision
            if not pattern.search(store.revision_text(rev)):
                return since
            since = rev.ts
        if len(revs) < HISTORY_BATCH:
            return since
        cursor = (revs[-1].ts, revs[-1].id)


def _in_time_range(added: int, params: dict[str, Any], descending: bool) -> bool:
    """Whether ``cmstart``/``cmend`` take a page added at ``added``: start comes first in ``cmdir``'s order."""
    low, high = (params["end"], params["start"]) if descending else (params["start"], params["end"])
    return (low is None or added >= low) and (high is None or added <= high)


def _category_candidates(call: ApiCall, category: str) -> list[PageRow]:
    """Pages whose text may link to the category: the full-text index's hits for "NAMESPACE:Title", in each of
    the namespace's names, with spaces or underscores, with or without a space after the colon (the link
    pattern then decides)."""
    found: dict[int, PageRow] = {}
    for prefix in {"Category", call.wiki.namespace_prefix(NS_CATEGORY) or "Category"}:
        for name in {category, category.replace(" ", "_")}:
            for written in (f"{prefix}:{name}", f"{prefix}: {name}"):
                for row, _ in call.node.store.search(f'"{written}"', MAX_CATEGORY_CANDIDATES):
                    found.setdefault(row.id, row)
    return list(found.values())


def _category(call: ApiCall, params: dict[str, Any]) -> str:
    if params["pageid"] is not None:
        try:
            row = call.node.store.page_by_id(params["pageid"])
        except Exception:
            raise ApiError("nosuchpageid", f"There is no page with ID {params['pageid']}.") from None
        return row.title
    if not params["title"]:
        raise ApiError("invalidparammix", 'One of the parameters "cmtitle" and "cmpageid" is required.')
    try:
        title = normalize_title(call.wiki, params["title"])
    except BadTitle:
        raise ApiError("invalidtitle", f'Bad title "{params["title"]}".') from None
    if title.ns != NS_CATEGORY:
        raise ApiError("invalidcategory", "The category name you entered is not valid.")
    return title.text


def _category_link(call: ApiCall, category: str) -> re.Pattern[str]:
    names = {"category", call.wiki.namespace_prefix(NS_CATEGORY).casefold()}
    words = [re.escape(category[:1].upper()) + "|" + re.escape(category[:1].lower())] if category else [""]
    rest = re.escape(category[1:]).replace(r"\ ", "[ _]+")
    prefix = "|".join(re.escape(n).replace(r"\ ", "[ _]+") for n in names if n)
    return re.compile(rf"\[\[\s*(?i:{prefix})\s*:\s*(?:{words[0]}){rest}\s*(?:\|[^\]]*)?\]\]")


register(Module("allpages", "list", "ap", (
    Param("from"), Param("continue"), Param("to"), Param("prefix"),
    Param("namespace", "namespace", default=0),
    Param("filterredir", values=("all", "redirects", "nonredirects"), default="all"),
    _limit(),
    Param("dir", values=("ascending", "descending"), default="ascending"),
), allpages, generator=True, help="Every page of a namespace, in title order."))

register(Module("allrevisions", "list", "arv", (
    Param("prop", multi=True, values=RV_PROPS, default="ids|timestamp|flags|comment|user"),
    Param("slots", multi=True, values=("main", "*")),
    _limit(), Param("start", "timestamp"), Param("end", "timestamp"),
    Param("dir", values=("newer", "older"), default="older"),
    Param("user", "user"), Param("excludeuser", "user"),
    Param("namespace", "namespace", multi=True), Param("continue"), Param("generatetitles", "boolean"),
), allrevisions, generator=True, help="Every revision of the wiki, by timestamp."))

register(Module("recentchanges", "list", "rc", (
    Param("start", "timestamp"), Param("end", "timestamp"),
    Param("dir", values=("newer", "older"), default="older"),
    Param("namespace", "namespace", multi=True), Param("user", "user"), Param("excludeuser", "user"),
    Param("tag"),
    Param("prop", multi=True, values=RC_PROPS, default="title|timestamp|ids"),
    Param("show", multi=True, values=("minor", "!minor", "bot", "!bot", "anon", "!anon", "redirect", "!redirect",
                                      "patrolled", "!patrolled", "unpatrolled", "autopatrolled", "!autopatrolled")),
    _limit(),
    Param("type", multi=True, values=("edit", "new", "log", "external", "categorize"),
          default="edit|new|log|categorize"),
    Param("toponly", "boolean"), Param("title"), Param("continue"), Param("generaterevisions", "boolean"),
    Param("slot", values=("main",)),
), recentchanges, generator=True, help="The wiki's revisions, newest first by timestamp (no time window)."))

register(Module("usercontribs", "list", "uc", (
    _limit(), Param("start", "timestamp"), Param("end", "timestamp"), Param("continue"),
    Param("user", "user", multi=True), Param("userids", "integer", multi=True), Param("userprefix"),
    Param("iprange"),
    Param("dir", values=("newer", "older"), default="older"),
    Param("namespace", "namespace", multi=True),
    Param("prop", multi=True, values=UC_PROPS, default="ids|title|timestamp|comment|size|flags"),
    Param("show", multi=True, values=UC_SHOW),
    Param("tag"), Param("toponly", "boolean"),
), usercontribs, generator=True, help="A user's revisions, by timestamp."))

register(Module("search", "list", "sr", (
    Param("search", required=True),
    Param("namespace", "namespace", multi=True, default=(0,)),
    _limit(), Param("offset", "integer", min=0),
    Param("what", values=("title", "text", "nearmatch")),
    Param("info", multi=True, values=("rewrittenquery", "suggestion", "totalhits"),
          default="totalhits|suggestion|rewrittenquery"),
    Param("prop", multi=True, values=("size", "wordcount", "timestamp", "snippet", "titlesnippet", "redirecttitle",
                                      "redirectsnippet", "sectiontitle", "sectionsnippet", "isfilematch",
                                      "categorysnippet", "score", "hasrelated", "extensiondata"),
          default="size|wordcount|timestamp|snippet"),
    Param("interwiki", "boolean"), Param("enablerewrites", "boolean"),
    Param("sort", values=("relevance",), default="relevance"), Param("qiprofile"),
), search, generator=True, help="Pages whose text holds every word searched (the node's full-text index)."))

register(Module("categorymembers", "list", "cm", (
    Param("title", "title"), Param("pageid", "integer"),
    Param("prop", multi=True, values=("ids", "title", "sortkey", "sortkeyprefix", "type", "timestamp"),
          default="ids|title"),
    Param("namespace", "namespace", multi=True),
    Param("type", multi=True, values=("page", "subcat", "file"), default="page|subcat|file"),
    Param("continue"), _limit(),
    Param("sort", values=("sortkey", "timestamp"), default="sortkey"),
    Param("dir", values=("asc", "desc", "ascending", "descending", "newer", "older"), default="ascending"),
    Param("start", "timestamp"), Param("end", "timestamp"),
    Param("starthexsortkey"), Param("endhexsortkey"), Param("startsortkeyprefix"), Param("endsortkeyprefix"),
), categorymembers, generator=True, help="Pages whose text links to a category."))
