"""``action=edit``: a new revision signed with the caller's account key, through the one ingest door.

The edit builds on the head the API shows (the node's default view, or
``view=``). With ``basetimestamp`` or ``baserevid``, an edit made on an older
revision is an edit conflict unless, as in MediaWiki, every revision since was
the caller's own, or a three-way merge of the base, the head and the edit has
no conflict (the merged text is then saved). The API never starts a fork: a
conflict is answered ``editconflict`` and nothing is saved. ``bot`` is taken
and not recorded (revisions carry no bot flag); ``tags``, ``watch`` and
``watchlist`` are taken and ignored. ``undo`` takes a revision's changes (through
``undoafter``) out of the head by a three-way merge, as MediaWiki does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from wikipeer.authoring import edit as sign_and_ingest
from wikipeer.errors import InvalidObject, NotFound, UserError
from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.errors import ApiError
from wikipeer.mediawiki.api.params import Param, format_timestamp
from wikipeer.mediawiki.api.reading import current, rev_user
from wikipeer.mediawiki.api.registry import Module, register
from wikipeer.mediawiki.api.sections import add_section, get_section, replace_section
from wikipeer.mediawiki.api.session import ApiSession, session_of
from wikipeer.model.title import BadTitle, Title, normalize_title
from wikipeer.policy.merge import merge3
from wikipeer.store import hidden
from wikipeer.store.records import PageRow, RevInfo
from wikipeer.store.revlists import revision_pages

MAX_SUMMARY = 500
CONFLICT_WALK = 10_000  # revisions walked back to a base: a bound, not a limit anyone meets


@dataclass(slots=True)
class Target:
    """The page being edited: its title, its row and shown head (None for a new page)."""

    title: Title
    row: PageRow | None
    head: RevInfo | None


def run(call: ApiCall, params: dict[str, Any]) -> dict[str, Any]:
    session = session_of(call)
    _may_edit(session)
    target = _target(call, params)
    if params["createonly"] and target.head is not None:
        raise ApiError("articleexists", "The article you tried to create has been created already.")
    if params["nocreate"] and target.head is None:
        raise ApiError("missingtitle", "The page you specified doesn't exist.")
    old = call.node.store.revision_text(target.head) if target.head else ""
    if params["undo"] is not None:
        params["text"], params["summary"] = _undo(call, params, target)
    text = _new_text(params, old).replace("\r\n", "\n").rstrip()  # MediaWiki's pre-save transform trims the end
    base = _base(call, params, target)
    if base is not None and target.head is not None and base.cid != target.head.cid:
        text = _resolve_conflict(call, session, base, target.head, text)
    info = {"pageid": target.row.id if target.row else 0, "title": target.title.full,
            "contentmodel": target.head.model if target.head else "wikitext"}
    if target.head is not None and text == old:
        return {"edit": {"result": "Success", **info, "nochange": True}}
    return {"edit": _save(call, session, params, target, text, info)}


def _may_edit(session: ApiSession) -> None:
    if session.session is None:
        raise ApiError("permissiondenied", "You do not have permission to edit pages: log in first (edits on this "
                                           "node are signed with your account's key).")
    if not session.may("edit"):
        raise ApiError("permissiondenied", "You do not have permission to edit pages: this bot password was not "
                                           "granted editpage (see 'wikipeer account botpassword --grants').")


def _target(call: ApiCall, params: dict[str, Any]) -> Target:
    store = call.node.store
    if params["title"] is not None and params["pageid"] is not None:
        raise ApiError("invalidparammix", 'The parameters "title" and "pageid" can not be used together.')
    if params["pageid"] is not None:
        try:
            row = store.page_by_id(params["pageid"])
        except NotFound:
            row = None
        if row is None or row.wiki != call.wiki.name:
            raise ApiError("nosuchpageid", f"There is no page with ID {params['pageid']}.")
        raw = call.wiki.full_title(row.ns, row.title)
    elif params["title"] is not None:
        raw = params["title"]
    else:
        raise ApiError("missingparam", 'One of the parameters "title" and "pageid" is required.')
    try:
        title = normalize_title(call.wiki, raw)
    except BadTitle:
        raise ApiError("invalidtitle", f'Bad title "{raw}".') from None
    row = store.page(call.wiki.name, title.ns, title.text)
    return Target(title, row, current(call, row.id) if row else None)


def _undo(call: ApiCall, params: dict[str, Any], target: Target) -> tuple[str, str | None]:
    """``undo`` (through ``undoafter``): the head's text without those revisions' changes, and the summary."""
    store = call.node.store
    undo = _revision_of(call, params["undo"], target)
    if params["undoafter"] is not None:
        after = _revision_of(call, params["undoafter"], target)
    elif undo.parents:
        after = store.revision(undo.parents[0])
    else:
        raise ApiError("nosuchrevid", f"There is no revision with ID {params['undoafter'] or 0}.")
    if target.head.cid == undo.cid:
        text = store.revision_text(after)
    else:
        merged = merge3(store.revision_text(undo), store.revision_text(target.head), store.revision_text(after))
        if merged.conflicts:
            raise ApiError("undofailure", "The edit could not be undone due to conflicting intermediate edits.")
        text = merged.text
    summary = params["summary"]
    if summary is None and params["undoafter"] is None:
        user = rev_user(call, undo).name
        summary = (f"Undo revision {undo.id} by [[Special:Contributions/{user}|{user}]] "
                   f"([[User talk:{user}|talk]])")
    return text, summary


def _revision_of(call: ApiCall, rev_id: int, target: Target) -> RevInfo:
    page_id = revision_pages(call.node.store, [rev_id]).get(rev_id)
    if page_id is None:
        raise ApiError("nosuchrevid", f"There is no revision with ID {rev_id}.")
    if target.row is None or page_id != target.row.id or target.head is None:
        raise ApiError("revwrongpage", f"r{rev_id} is not a revision of {target.title.full}.")
    return call.node.store.revision_by_id(rev_id)


def _new_text(params: dict[str, Any], old: str) -> str:
    """The page's new text from ``text``, ``appendtext``/``prependtext`` and ``section``."""
    text, append, prepend = params["text"], params["appendtext"], params["prependtext"]
    if text is None and append is None and prepend is None:
        raise ApiError("missingparam", 'At least one of the parameters "text", "appendtext", "prependtext" and '
                                       '"undo" is required.')
    if params["md5"] is not None:
        sent = text if text is not None else (prepend or "") + (append or "")
        if hashlib.md5(sent.encode()).hexdigest() != params["md5"].lower():
            raise ApiError("badmd5", "The supplied MD5 hash was incorrect.")
    section = params["section"]
    if section == "new":
        body = text if text is not None else (prepend or "") + (append or "")
        return add_section(old, params["sectiontitle"] or "", body)
    if section is None or section == "":
        return text if text is not None else (prepend or "") + old + (append or "")
    if not section.isdigit():
        raise ApiError("invalidsection", 'The "section" parameter must be a valid section ID or "new".')
    part = get_section(old, int(section))
    if part is None:
        raise ApiError("nosuchsection", f"There is no section {section}.")
    new = text if text is not None else (prepend or "") + part + (append or "")
    return replace_section(old, int(section), new)


def _base(call: ApiCall, params: dict[str, Any], target: Target) -> RevInfo | None:
    """The revision the edit was made on, as ``baserevid`` or ``basetimestamp`` name it; None if neither."""
    store = call.node.store
    if params["baserevid"] is not None:
        page_id = revision_pages(store, [params["baserevid"]]).get(params["baserevid"])
        # A hidden revision is as if not there: merging against it would tell whether a guess matches its text.
        if page_id is None or hidden.is_hidden_item(store, params["baserevid"]):
            raise ApiError("nosuchrevid", f"There is no revision with ID {params['baserevid']}.")
        if target.row is None or page_id != target.row.id:  # a revision of another page: as MediaWiki says
            raise ApiError("editconflict", "Edit conflict.")
        return store.revision_by_id(params["baserevid"])
    if params["basetimestamp"] is None or target.head is None:
        return None
    rev, base_second = target.head, params["basetimestamp"] // 1000  # MediaWiki's timestamps are in seconds
    for _ in range(CONFLICT_WALK):  # back along first parents to what was current at basetimestamp
        if rev.ts // 1000 <= base_second or not rev.parents:
            return rev
        rev = store.revision(rev.parents[0])
    return rev


def _resolve_conflict(call: ApiCall, session: ApiSession, base: RevInfo, head: RevInfo, text: str) -> str:
    """The text to save on top of ``head`` for an edit made on ``base``; ``editconflict`` when there is none."""
    store = call.node.store
    if _only_own_since(call, session, base, head):
        return text
    merged = merge3(store.revision_text(base), store.revision_text(head), text)
    if merged.conflicts:
        raise ApiError("editconflict", "Edit conflict.")
    return merged.text


def _only_own_since(call: ApiCall, session: ApiSession, base: RevInfo, head: RevInfo) -> bool:
    """Whether every revision between ``base`` and ``head`` (along first parents) is the caller's."""
    own = call.node.keyring.get(session.session.account.key).public
    rev = head
    for _ in range(CONFLICT_WALK):
        if rev.cid == base.cid:
            return True
        if rev.author != own or not rev.parents:
            return False
        rev = call.node.store.revision(rev.parents[0])
    return False


def _save(call: ApiCall, session: ApiSession, params: dict[str, Any], target: Target, text: str,
          info: dict[str, Any]) -> dict[str, Any]:
    summary = params["summary"] if params["summary"] is not None else ""
    if params["section"] == "new" and not summary and params["sectiontitle"]:
        summary = f"/* {params['sectiontitle']} */ new section"
    parents = (target.head.cid,) if target.head else ()
    try:
        made = sign_and_ingest(call.node, call.wiki.name, target.title.full, text, summary[:MAX_SUMMARY],
                               parents=parents, minor=bool(params["minor"]) and not params["notminor"],
                               key_name=session.session.account.key)
    except (UserError, InvalidObject) as exc:
        raise ApiError("hookaborted", f"The node refused the edit: {exc}") from None
    store = call.node.store
    rev = store.revision(made.rev)
    out = {"new": True} if target.head is None else {}
    out.update(result="Success", **info)
    out.update(pageid=rev.page, oldrevid=target.head.id if target.head else 0, newrevid=rev.id,
               newtimestamp=format_timestamp(rev.ts))
    return out


register(Module("edit", "action", "", (
    Param("title"),
    Param("pageid", "integer"),
    Param("section"),
    Param("sectiontitle"),
    Param("text", "text"),
    Param("summary"),
    Param("tags", multi=True),
    Param("minor", "boolean"),
    Param("notminor", "boolean"),
    Param("bot", "boolean"),
    Param("baserevid", "integer"),
    Param("basetimestamp", "timestamp"),
    Param("starttimestamp", "timestamp"),
    Param("recreate", "boolean"),
    Param("createonly", "boolean"),
    Param("nocreate", "boolean"),
    Param("watch", "boolean"),
    Param("unwatch", "boolean"),
    Param("watchlist", values=("nochange", "preferences", "unwatch", "watch"), default="preferences"),
    Param("md5"),
    Param("undo", "integer", min=0),
    Param("undoafter", "integer", min=0),
    Param("prependtext", "text"),
    Param("appendtext", "text"),
    Param("contentformat", values=("text/x-wiki",)),
    Param("contentmodel", values=("wikitext",)),
), run, post_only=True, token="csrf", write=True,
    help="Save a page's new text, signed with the account's key; editconflict as MediaWiki for a stale base."))
