"""Action API answers into the dump reader's records, so dumps and the API share one conversion.

A page of ``list=allrevisions`` (or ``prop=revisions``) with ``rvslots=main``
becomes a :class:`DumpPage` of :class:`DumpRevision`; formats/dump_convert.py's
``page_blocks`` then signs it exactly as it signs a dump's page. Each text is
checked against the SHA-1 MediaWiki gives (hex, where dumps give base 36)
before anything is signed: one mismatch refuses the whole answer, naming the
page and the revision. The SHA-1 kept in ``origin`` is base 36, as a dump's.
``meta=siteinfo`` becomes a :class:`SiteInfo` (namespaces with their case
rules, language, namespace aliases, interwiki map) for dump_convert's ``wiki_config``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from wikipeer.formats.dump_reader import DumpPage, DumpRevision, SiteInfo
from wikipeer.mediawiki.remote import MediaWikiError
from wikipeer.model.media import sha1_base36

REVISION_PROPS = "ids|timestamp|user|userid|comment|size|sha1|content|flags|contentmodel"
"""The ``rvprop``/``arvprop`` that carry everything a revision keeps."""
SITEINFO_PROPS = "general|namespaces|namespacealiases|interwikimap"


def site_info(url: str, query: dict[str, Any]) -> SiteInfo:
    """The ``query`` part of ``meta=siteinfo&siprop=SITEINFO_PROPS`` as a SiteInfo."""
    general = query.get("general")
    namespaces = query.get("namespaces")
    if not isinstance(general, dict) or not isinstance(namespaces, dict):
        raise MediaWikiError(url, "answered siteinfo without its general part or namespaces", "badjson")
    case = str(general.get("case", "first-letter"))
    info = SiteInfo(dbname=str(general.get("wikiid", "")), sitename=str(general.get("sitename", "")),
                    base=str(general.get("base", "")), generator=str(general.get("generator", "")),
                    case=case, lang=str(general.get("lang", "en")), timezone=str(general.get("timezone", "")))
    for key, ns in namespaces.items():
        try:
            number = int(ns.get("id", key))
        except (AttributeError, TypeError, ValueError):
            raise MediaWikiError(url, f"answered siteinfo with a malformed namespace {key!r}", "badjson") from None
        info.namespaces[number] = (str(ns.get("name", "")), str(ns.get("case", case)))
    for entry in query.get("namespacealiases") or []:
        if isinstance(entry, dict) and isinstance(entry.get("alias"), str) and isinstance(entry.get("id"), int):
            info.namespace_aliases[entry["alias"]] = entry["id"]
    for entry in query.get("interwikimap") or []:
        if isinstance(entry, dict) and isinstance(entry.get("prefix"), str) and isinstance(entry.get("url"), str):
            info.interwiki[entry["prefix"]] = entry["url"]
    return info


def api_page(url: str, entry: dict[str, Any]) -> DumpPage:
    """One page of an answer (``pageid``, ``ns``, ``title``, ``revisions``) with each text checked.

    Raises MediaWikiError naming the page and revision when a text does not
    match its SHA-1 or a revision lacks what every revision has.
    """
    try:
        title, ns, page_id = str(entry["title"]), int(entry["ns"]), int(entry["pageid"])
        revisions = entry.get("revisions") or []
    except (KeyError, TypeError, ValueError):
        raise MediaWikiError(url, f"answered a page without its title, namespace or id: {str(entry)[:200]}",
                             "badjson") from None
    page = DumpPage(title=title, ns=ns, id=page_id, redirect=None, revisions=[], offset=0)
    for rev in revisions:
        page.revisions.append(api_revision(url, title, rev))
    return page


def api_revision(url: str, title: str, rev: dict[str, Any]) -> DumpRevision:
    """One revision of an answer, its text checked against its SHA-1 (see ``api_page``)."""
    if not isinstance(rev, dict):
        raise MediaWikiError(url, f"answered a malformed revision of {title!r}", "badjson")
    rev_id = rev.get("revid")
    slot = (rev.get("slots") or {}).get("main") or {}
    try:
        out = DumpRevision(id=int(rev_id), parentid=int(rev.get("parentid") or 0) or None,
                           timestamp=str(rev["timestamp"]), minor=bool(rev.get("minor", False)),
                           comment=str(rev.get("comment", "")), comment_deleted=bool(rev.get("commenthidden")),
                           user_deleted=bool(rev.get("userhidden")),
                           model=str(slot.get("contentmodel") or rev.get("contentmodel") or "wikitext"),
                           format=str(slot.get("contentformat") or rev.get("contentformat") or "text/x-wiki"),
                           text_deleted=bool(slot.get("texthidden") or rev.get("texthidden")))
    except (KeyError, TypeError, ValueError):
        raise MediaWikiError(url, f"answered revision {rev_id!r} of {title!r} without its id or timestamp",
                             "badjson") from None
    if not out.user_deleted:
        if rev.get("anon") or rev.get("temp"):
            out.ip = str(rev.get("user", ""))
        else:
            out.user = str(rev.get("user", ""))
            out.user_id = int(rev.get("userid") or 0)
    if out.text_deleted:
        return out
    content = slot.get("content", rev.get("content"))
    if not isinstance(content, str):
        raise MediaWikiError(url, f"answered revision {out.id} of {title!r} without its text", "badjson")
    out.text = content
    digest = rev.get("sha1")
    if rev.get("sha1hidden") or digest is None:
        return out
    actual = hashlib.sha1(content.encode("utf-8")).hexdigest()
    if not isinstance(digest, str) or digest.lower() != actual:
        raise MediaWikiError(url, f"revision {out.id} of {title!r}: its text does not match the SHA-1 the wiki "
                             f"gives ({digest} given, {actual} computed); nothing of this answer was taken",
                             "badsha1")
    out.sha1 = sha1_base36(actual)
    return out
