"""``prop=revisions`` and ``prop=info``: a page's revisions and facts, from the node's store.

Revision and page ids are the node's own (its store's ids, stable on this
node); the ids a revision had on the MediaWiki it came from are in its
``origin``, which ``rvprop=wikipeer`` shows with the CIDs and signatures a
tool needs to verify it. A page's "current" revision is the head the chosen
view shows; its history is every revision, by timestamp, from where the page
MediaWiki has at that title began (reading.history_start).
"""

from __future__ import annotations

import html
import re
from typing import Any

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.errors import ApiError
from wikipeer.mediawiki.api.output import content_key
from wikipeer.mediawiki.api.params import Param, format_timestamp, out_of_range
from wikipeer.mediawiki.api.query import PageEntry, Query
from wikipeer.mediawiki.api.reading import current, history_start, rev_user, sha1_hex
from wikipeer.mediawiki.api.registry import Module, module, register
from wikipeer.model.cid import cid_to_str
from wikipeer.render.redirect import redirect_target
from wikipeer.store import hidden
from wikipeer.store.records import RevInfo
from wikipeer.store.revlists import TimeRange, page_revisions, revision_count, revision_page_ts

RV_PROPS = ("ids", "flags", "timestamp", "user", "userid", "size", "slotsize", "sha1", "slotsha1", "contentmodel",
            "comment", "parsedcomment", "content", "tags", "roles", "wikipeer")
RV_LIMIT, RV_HIGH_LIMIT, RV_CONTENT_LIMIT, RV_CONTENT_HIGH_LIMIT = 500, 5000, 50, 500
ENUMERATION = ("limit", "startid", "endid", "start", "end", "user", "excludeuser", "continue")
FORMATS = {"wikitext": "text/x-wiki", "javascript": "text/javascript", "css": "text/css", "json": "application/json",
           "Scribunto": "text/plain", "text": "text/plain", "sanitized-css": "text/css"}
_HEADING = re.compile(r"^(={1,6})(.+?)\1\s*$", re.M)


def revisions(call: ApiCall, params: dict[str, Any], query: Query) -> None:
    """The handler of ``prop=revisions``."""
    mod = module("prop", "revisions")
    enumerating = any(params[name] not in (None, []) for name in ENUMERATION)
    pages = query.existing()
    if enumerating and (len(pages) > 1 or any(p.revids for p in pages)):
        raise ApiError("invalidparammix", "titles, pageids or a generator was used to supply multiple pages, but "
                       "the rvlimit, rvstartid, rvendid, rvdir, rvstart, and rvend parameters may only be used on a "
                       "single page.", module="revisions")
    if "content" in params["prop"] and not params["slots"]:
        call.warn("revisions", "deprecated", 'Because "rvslots" was not specified, a legacy format has been used '
                  "for the output. This format is deprecated, and in the future the new format will always be used.")
    for entry in pages:
        if enumerating:
            revs, cont = _enumerate(call, params, entry)
            if cont:
                query.continue_with(mod, {"rvcontinue": cont})
        elif entry.revids:
            revs = [call.node.store.revision_by_id(i) for i in entry.revids]
        else:
            head = current(call, entry.row.id)
            revs = [head] if head else []
        entry.out["revisions"] = [revision_dict(call, rev, params["prop"], params["slots"], params["section"])
                                  for rev in revs]


def _enumerate(call: ApiCall, params: dict[str, Any], entry: PageEntry) -> tuple[list[RevInfo], str | None]:
    store = call.node.store
    newer = params["dir"] == "newer"
    limit = params["limit"] or (RV_CONTENT_LIMIT if "content" in params["prop"] else 10)
    if "content" in params["prop"]:
        high = RV_CONTENT_HIGH_LIMIT if call.is_bot else RV_CONTENT_LIMIT
        if limit > high:
            call.warn("revisions", "integeroutofrange", out_of_range("rvlimit", limit, 1, high))
            limit = high
    start, end = params["start"], params["end"]
    for name, rev_id in (("startid", params["startid"]), ("endid", params["endid"])):
        if rev_id is not None:
            ts = _ts_of(call, entry, rev_id, "rv" + name)
            if name == "startid":
                start = ts
            else:
                end = ts
    cursor = _cursor(params["continue"]) if params["continue"] else None
    if cursor is None and params["startid"] is not None:
        cursor = (start, params["startid"])
    begins = history_start(call, entry.row.id)
    if begins is not None and newer:
        cursor = max(cursor, begins) if cursor else begins
    ids = page_revisions(store, entry.row.id, TimeRange(newer, start, end, cursor), limit + 1)
    if params["endid"] is not None and params["endid"] in ids:
        ids = ids[:ids.index(params["endid"]) + 1]
    revs = [store.revision_by_id(i) for i in ids]
    if begins is not None and not newer:  # the oldest come last: what began before MediaWiki's page goes
        revs = [r for r in revs if (r.ts, r.id) >= begins]
        ids = [r.id for r in revs]
    user, excluded = params["user"], params["excludeuser"]
    if user or excluded:
        revs = [r for r in revs if (not user or rev_user(call, r).name == user)
                and (not excluded or rev_user(call, r).name != excluded)]
    more = len(ids) > limit
    revs = revs[:limit]
    if not more:
        return revs, None
    last = store.revision_by_id(ids[limit])
    return revs, f"{last.ts}|{last.id}"


def _ts_of(call: ApiCall, entry: PageEntry, rev_id: int, name: str) -> int:
    row = revision_page_ts(call.node.store, rev_id)
    if row is None or row[0] != entry.row.id:
        raise ApiError("nosuchrevid", f"There is no revision with ID {rev_id}.", module="revisions")
    return row[1]


def _cursor(value: str) -> tuple[int, int]:
    ts, _, rev_id = value.partition("|")
    if not ts.isdigit() or not rev_id.isdigit():
        raise ApiError("badcontinue", "Invalid continue param. You should pass the original value returned by the "
                                      "previous query.", module="revisions")
    return int(ts), int(rev_id)


def revision_dict(call: ApiCall, rev: RevInfo, props: list[str], slots: list[str],
                  section: int | None = None) -> dict[str, Any]:
    """One revision as ``prop=revisions`` (and the lists of revisions) show it."""
    out: dict[str, Any] = {}
    store = call.node.store
    if "ids" in props:
        parent = store.object_id(rev.parents[0]) if rev.parents else None
        out.update(revid=rev.id, parentid=parent or 0)
    if "flags" in props:
        out["minor"] = bool(rev.minor)
    if "user" in props or "userid" in props:
        user = rev_user(call, rev)
        if "user" in props:
            out["user"] = user.name
            if user.anon:
                out["anon"] = True
        if "userid" in props:
            out["userid"] = user.id
    if "timestamp" in props:
        out["timestamp"] = format_timestamp(rev.ts)
    if "size" in props:
        out["size"] = rev.size
    texthidden = hidden.is_hidden_item(store, rev.id)  # as MediaWiki shows a revision whose text was deleted
    if texthidden:
        out["texthidden"] = True
    if "sha1" in props:
        if texthidden:
            out["sha1hidden"] = True
        else:
            out["sha1"] = sha1_hex(call, rev)
    if "roles" in props:
        out["roles"] = ["main"]
    if "comment" in props:
        out["comment"] = rev.comment
    if "parsedcomment" in props:
        out["parsedcomment"] = html.escape(rev.comment)
    if "tags" in props:
        out["tags"] = []
    _content(call, rev, props, slots, section, out)
    if "wikipeer" in props:
        out["wikipeer"] = wikipeer_dict(rev)
    return out


def _content(call: ApiCall, rev: RevInfo, props: list[str], slots: list[str], section: int | None,
             out: dict[str, Any]) -> None:
    slot: dict[str, Any] = {}
    texthidden = hidden.is_hidden_item(call.node.store, rev.id)
    if "slotsize" in props:
        slot["size"] = rev.size
    if "slotsha1" in props:
        if texthidden:
            slot["sha1hidden"] = True
        else:
            slot["sha1"] = sha1_hex(call, rev)
    if texthidden and "content" in props:
        slot["texthidden"] = True
    if "contentmodel" in props or "content" in props:
        slot["contentmodel"] = rev.model
    if "content" in props and not texthidden:
        text = call.node.store.revision_text(rev)
        if section is not None:
            text = section_text(text, section)
        slot["contentformat"] = rev.format or FORMATS.get(rev.model, "text/plain")
        slot[content_key("content")] = text
    if not slot:
        return
    if slots:
        out["slots"] = {"main": slot}
    else:
        out.update(slot)


def section_text(text: str, number: int) -> str:
    """Section ``number`` of a wikitext (0: the part before the first heading), as ``rvsection`` gives it."""
    headings = list(_HEADING.finditer(text))
    if number == 0:
        return text[:headings[0].start()] if headings else text
    if number > len(headings):
        raise ApiError("nosuchsection", f"There is no section {number}.", module="revisions")
    first = headings[number - 1]
    level = len(first.group(1))
    end = next((h.start() for h in headings[number:] if len(h.group(1)) <= level), len(text))
    return text[first.start():end].rstrip("\n")


def wikipeer_dict(rev: RevInfo) -> dict[str, Any]:
    """What a tool needs to verify a revision: its CID, links, signatures and provenance.

    Each CID's block is served by ``POST /api/v1/blocks``; the revision's CID
    is the hash of its block, and each signature block signs it.
    """
    return {"cid": cid_to_str(rev.cid), "text": cid_to_str(rev.text),
            "parents": [cid_to_str(p) for p in rev.parents], "author": rev.author,
            "signatures": [{"key": s.key, "role": s.role, "cid": cid_to_str(s.cid)} for s in rev.sigs],
            "origin": dict(rev.origin)}


def info(call: ApiCall, params: dict[str, Any], query: Query) -> None:
    """The handler of ``prop=info``."""
    store = call.node.store
    lang = call.wiki.lang
    for entry in query.pages:
        if "invalid" in entry.out:
            continue
        out = entry.out
        out.update(contentmodel="wikitext", pagelanguage=lang, pagelanguagehtmlcode=lang, pagelanguagedir="ltr")
        if entry.row is not None:
            head = current(call, entry.row.id)
            heads = store.heads(entry.row.id)
            if head is not None:
                text = store.revision_text(head)
                out.update(contentmodel=head.model, touched=format_timestamp(max(h.ts for h in heads)),
                           lastrevid=head.id, length=head.size)
                if redirect_target(call.wiki, text) is not None:
                    out["redirect"] = True
                if revision_count(store, entry.row.id) == 1:
                    out["new"] = True
                if len(heads) > 1:
                    out["wikipeerheads"] = len(heads)
        _info_props(call, params["prop"], entry)


def _info_props(call: ApiCall, props: list[str], entry: PageEntry) -> None:
    out = entry.out
    title = out.get("title", "")
    if "protection" in props:
        out.update(protection=[], restrictiontypes=["edit", "move"] if entry.row is not None else ["create"])
    if "url" in props:
        base = call.state.get("server", "")
        path = call.page_url + title.replace(" ", "_")
        out.update(fullurl=base + path, editurl=f"{base}{path}?action=edit", canonicalurl=base + path)
    if "readable" in props:
        out["readable"] = True
    if "displaytitle" in props:
        out["displaytitle"] = html.escape(title)
    ns = out.get("ns")
    if ns is not None and ns >= 0:
        if "talkid" in props and ns % 2 == 0:
            _related_id(call, out, "talkid", ns + 1, title)
        if "subjectid" in props and ns % 2 == 1:
            _related_id(call, out, "subjectid", ns - 1, title)


def _related_id(call: ApiCall, out: dict[str, Any], name: str, ns: int, title: str) -> None:
    prefix = call.wiki.namespace_prefix(out["ns"])
    text = title[len(prefix) + 1:] if prefix and title.startswith(prefix + ":") else title
    row = call.node.store.page(call.wiki.name, ns, text)
    if row is not None:
        out[name] = row.id


register(Module("revisions", "prop", "rv", (
    Param("prop", multi=True, values=RV_PROPS, default="ids|timestamp|flags|comment|user"),
    Param("slots", multi=True, values=("main", "*")),
    Param("limit", "limit", max=RV_LIMIT, highmax=RV_HIGH_LIMIT),
    Param("section", "integer", min=0),
    Param("startid", "integer"),
    Param("endid", "integer"),
    Param("start", "timestamp"),
    Param("end", "timestamp"),
    Param("dir", values=("newer", "older"), default="older"),
    Param("user", "user"),
    Param("excludeuser", "user"),
    Param("continue"),
), revisions, help="Revisions of pages: the current one of each, or a range of one page's history."))

register(Module("info", "prop", "in", (
    Param("prop", multi=True, values=("protection", "talkid", "subjectid", "url", "readable", "displaytitle")),
    Param("testactions", multi=True),
), info, help="Basic facts about pages: current revision, length, redirect, URLs."))
