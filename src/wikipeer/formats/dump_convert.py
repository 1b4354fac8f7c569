"""Turn pages read from a MediaWiki dump into signed wikipeer blocks (pure).

Each revision becomes a ``rev`` signed by the importing node in the role
``node``, with its provenance in ``origin``. Nothing here depends on the
time or on randomness (Ed25519 signatures are deterministic), so importing
the same dump twice makes the same blocks: re-runs are duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import nacl.signing

from wikipeer.formats.dump_reader import DumpPage, DumpRevision, SiteInfo
from wikipeer.model.block import Block
from wikipeer.model.keys import sign
from wikipeer.model.objects import Page, Revision, Signature, build_page, build_revision, build_signature, build_text
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title
from wikipeer.policy.rules import MAX_TEXT


MAX_UPLOADS = 1024
"""Bytes of upload metadata kept per page: an origin field's limit (see model/objects.py)."""


def wiki_config(info: SiteInfo, name: str | None = None) -> WikiConfig:
    """The wiki configuration a dump's siteinfo describes."""
    config = WikiConfig(name=name or info.dbname or "wiki", sitename=info.sitename, base=info.base,
                        lang=info.lang, case=info.case or "first-letter", interwiki=dict(info.interwiki),
                        namespace_aliases=dict(info.namespace_aliases), timezone=info.timezone)
    if info.namespaces:
        config.namespaces = {k: v[0] for k, v in info.namespaces.items()}
        config.namespace_case = {k: v[1] for k, v in info.namespaces.items() if v[1] != config.case}
    return config


def parse_timestamp(text: str) -> int:
    """MediaWiki's ``2020-11-06T05:49:35Z`` as milliseconds since 1970 (ValueError if it is not one)."""
    when = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return int(when.timestamp()) * 1000


def format_timestamp(ms: int) -> str:
    """Milliseconds since 1970 as MediaWiki writes a timestamp (``2020-11-06T05:49:35Z``): parse_timestamp's inverse."""
    return datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _origin(site: str, page: DumpPage, rev: DumpRevision, last: bool) -> dict[str, Any]:
    """Where a revision came from; the page's uploads ride on its last revision, as JSON."""
    uploads = json.dumps(page.uploads, ensure_ascii=False, sort_keys=True) if last and page.uploads else None
    if uploads is not None and len(uploads.encode("utf-8")) > MAX_UPLOADS:
        raise ValueError(f"its <upload> records take {len(uploads.encode('utf-8'))} bytes, more than {MAX_UPLOADS} kept per page")
    origin = {
        "site": site, "page_id": page.id, "rev_id": rev.id, "parent_id": rev.parentid, "user": rev.user,
        "user_id": rev.user_id, "ip": rev.ip, "user_deleted": rev.user_deleted, "comment_deleted": rev.comment_deleted,
        "text_deleted": rev.text_deleted, "sha1": rev.sha1, "redirect": page.redirect, "uploads": uploads,
    }
    return {k: v for k, v in origin.items() if v is not None and v is not False}


def strip_prefix(config: WikiConfig, page: DumpPage) -> str:
    """The title without its namespace prefix, as the page object keeps it."""
    prefix = config.namespace_prefix(page.ns)
    if page.ns != 0 and prefix and page.title.startswith(prefix + ":"):
        return page.title[len(prefix) + 1:]
    return page.title


def page_blocks(config: WikiConfig, site: str, page: DumpPage, key: nacl.signing.SigningKey, node_key: str,
                known_parent: Callable[[int], bytes | None],
                max_text: int = MAX_TEXT, first_parent: bytes | None = None) -> tuple[list[Block], dict[int, bytes]]:
    """Blocks for one page (the page, then per revision its text, rev and node signature)
    and the CIDs of its revisions by their ids in the dump.

    A revision's parent is the revision its ``<parentid>`` names when that one
    is known (in this page or already in the store), else the one before it in
    the dump; the first revision of a history has none, unless ``first_parent``
    names one (a live wiki's page that starts again at a title the node holds:
    the new history continues the title's instead of forking it). A text over
    the node's limit refuses the whole page, so no page is half imported.
    """
    try:
        title = normalize_title(config, strip_prefix(config, page), page.ns)
    except BadTitle as exc:
        raise ValueError(str(exc)) from None
    page_block = build_page(Page(config.name, page.ns, title.text))
    blocks = [page_block]
    by_id: dict[int, bytes] = {}
    previous: bytes | None = first_parent
    for number, rev in enumerate(page.revisions, 1):
        if len(rev.text.encode("utf-8")) > max_text:
            raise ValueError(f"revision {rev.id} has a text of {len(rev.text.encode('utf-8'))} bytes, over the limit of {max_text}")
        parent = by_id.get(rev.parentid) if rev.parentid is not None else None
        if parent is None and rev.parentid is not None:
            parent = known_parent(rev.parentid)
        if parent is None:
            parent = previous
        text = build_text(rev.text)
        record = Revision(
            page=page_block.cid, parents=(parent,) if parent else (), text=text.cid, size=len(text.data),
            ts=parse_timestamp(rev.timestamp), model=rev.model or "wikitext", format=rev.format or None,
            comment=rev.comment, minor=rev.minor, origin=_origin(site, page, rev, number == len(page.revisions)))
        rev_block = build_revision(record)
        signature = build_signature(Signature(rev_block.cid, "node", node_key, sign(key, rev_block.cid, "node")))
        blocks += [text, rev_block, signature]
        previous = rev_block.cid
        if rev.id is not None:
            by_id[rev.id] = rev_block.cid
    return blocks, by_id
