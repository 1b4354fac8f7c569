"""Partial nodes: fetching chosen pages from peers, and what a node follows.

A school needs the pages its readers ask for, not all of a wiki. ``fetch``
asks the network for pages by title or by search, takes each with its
history to a chosen depth (a shallow history: older revisions stay behind,
their links kept), and caches them; fetched pages count against the cache
quota, and the least recently read go first. A page comes with the files it
shows (the ``[[File:]]`` links and galleries of its current revision; a File:
page with its own file): the newest version of each, its chunks, its
signatures and its description page. What a node *follows* (whole
wikis, namespaces, pages) it syncs in full and never evicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wikipeer.errors import InvalidObject, UserError
from wikipeer.model.cid import cid_from_str, cid_to_str
from wikipeer.model.file_links import file_names
from wikipeer.model.media import NS_FILE
from wikipeer.model.objects import Page, build_page
from wikipeer.model.title import Title, normalize_title
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.depth import DEFAULT_DEPTH
from wikipeer.net.receive import take
from wikipeer.net.redirects import ask
from wikipeer.node import Node
from wikipeer.store.cache import Evicted, PageCache
from wikipeer.store.log import Scope
from wikipeer.store.peers import PeerBook
from wikipeer.store.records import PageRow

MAX_DEPTH = 1000
MAX_TOP = 500

Progress = Callable[[int, int], None]
"""``progress(done, of)``: pages asked for that are done (fetched or found missing), of those asked for."""
Finder = Callable[[str, int, str], list[str]]
"""``finder(wiki, ns, title)``: addresses of nodes found beyond the peers (the DHT) that may hold the page."""
MAX_FOUND = 5
"""Found nodes tried for one page: anyone may publish that they hold it, and a reader waits for each."""


@dataclass(slots=True)
class FetchResult:
    """What a fetch brought: pages (full titles), revisions, what nobody had, and evictions."""

    pages: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Files that came with the pages (full titles); a file already held is not listed."""
    page_ids: set[int] = field(default_factory=set)
    revisions: int = 0
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    evicted: list[Evicted] = field(default_factory=list)


def follow_scope(node: Node) -> Scope:
    """The part of the network's log this node follows, from its settings."""
    c = node.config
    pages = []
    for name in c.follow_pages:
        wiki, title = name.split("/", 1)
        t = normalize_title(node.wiki_or_default(wiki), title)
        pages.append(build_page(Page(wiki, t.ns, t.text)).cid)
    return Scope(tuple(c.follow_wikis), tuple((w, int(n)) for w, n in c.follow_namespaces), tuple(pages))


def _peers(node: Node, required: bool = True) -> list[str]:
    urls = [p.url for p in PeerBook(node.store).list() if not p.banned]
    if not urls and required:
        raise UserError("this node has no peers to fetch from: add one with 'wikipeer peer add URL'")
    return urls


def _strings(value: Any, what: str, url: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PeerError(f"{url} answered {what} with something that is not a list of GUIDs")
    return value


def _page_blocks(client: PeerClient, guid: str, depth: int) -> list[str]:
    """The GUIDs of a page, its newest ``depth`` revisions, their texts and signatures."""
    changes, _ = client.rpc("changes", [guid, {"count": depth}])
    if not isinstance(changes, list) or not all(isinstance(c, list) and c and isinstance(c[0], str) for c in changes):
        raise PeerError(f"{client.url} answered changes with something that is not a list of changes")
    revs = [c[0] for c in changes]
    info, _ = client.rpc("query", [revs, ["text", "signatures"]]) if revs else ([], [])
    if not isinstance(info, list):
        raise PeerError(f"{client.url} answered query with something that is not a list")
    wanted = [guid, *revs]
    for item in info:
        if isinstance(item, dict):
            wanted += _strings([item.get("text")], "query", client.url)
            wanted += _strings([s.get("id") for s in item.get("signatures", []) if isinstance(s, dict)],
                               "query", client.url)
    return wanted


def fetch_guid(node: Node, url: str, guid: str, depth: int, result: FetchResult) -> None:
    """Take one page (by GUID) from the node at ``url`` with ``depth`` revisions of history."""
    try:
        with PeerClient(url) as client:
            cids = [cid_from_str(g) for g in _page_blocks(client, guid, depth)]
            with client.blocks(cids) as blocks:
                tally = take(node, blocks, f"fetch:{url}", shallow=True)
    except InvalidObject as exc:
        raise PeerError(f"{url} named a block wrongly: {exc}") from None
    if tally.forgeries:
        raise PeerError(f"{url} sent a forgery while fetching: {tally.forgery}")
    page_id = node.store.object_id(cid_from_str(guid))
    if page_id is None or not node.store.heads(page_id):
        result.missing.append(guid)
        return
    row = node.store.page_by_id(page_id)
    result.revisions += tally.accepted
    result.pages.append(node.wiki_or_default(row.wiki).full_title(row.ns, row.title))
    result.page_ids.add(row.id)
    if not _followed(node, row.wiki, row.ns, row.cid):
        PageCache(node.store).mark_fetched(row.id)
    fetch_page_files(node, url, row, result)


def shown_files(node: Node, row: PageRow) -> list[str]:
    """The names of the files a page shows: its own file for a File: page, and those its current text shows."""
    names = [row.title] if row.ns == NS_FILE else []
    head = node.view().shown(node.store, row.id)
    if head is not None:
        names += file_names(node.store.revision_text(head), node.wiki_or_default(row.wiki))
    return list(dict.fromkeys(names))


def fetch_page_files(node: Node, url: str, row: PageRow, result: FetchResult) -> None:
    """Take from the node at ``url`` the newest version of each file the page shows; what it lacks is noted."""
    config = node.wiki_or_default(row.wiki)
    with PeerClient(url) as client:
        for name in shown_files(node, row):
            title = config.full_title(NS_FILE, name)
            try:
                if not fetch_file(node, client, row.wiki, name, result):
                    result.missing.append(title)
            except (PeerError, InvalidObject) as exc:
                result.errors.append(f"{title}: {exc}")
                result.missing.append(title)


def fetch_file(node: Node, client: PeerClient, wiki: str, name: str, result: FetchResult) -> bool:
    """Take the newest version of ``File:name`` from the peer, with only the blocks this node lacks.

    False when the peer holds no version of it. The blocks go through the door
    like any others: a chunk that does not match, or a file its chunks do not
    make, is refused and leaves nothing.
    """
    title = node.wiki_or_default(wiki).full_title(NS_FILE, name)
    guid, _ = client.rpc("lookup", [f"{wiki}/{title}", "page"])
    if not isinstance(guid, str):
        return False
    page = _one(client, guid, ["files"])
    versions = _strings(page.get("files", []), "query", client.url)
    if not versions:
        return False
    file_cid = cid_from_str(versions[0])
    if node.store.object_id(file_cid) is not None:
        return True
    info = _one(client, versions[0], [])
    if info.get("type") != "file":
        raise PeerError(f"{client.url} named {versions[0]} as a version of {title}, but it is no file")
    wanted = [guid]
    desc = info.get("desc")
    if isinstance(desc, str) and node.store.object_id(cid_from_str(desc)) is None:
        rev = _one(client, desc, ["text", "signatures"])
        wanted += _strings([rev.get("text"), desc], "query", client.url)
        wanted += _strings([s.get("id") for s in rev.get("signatures", []) if isinstance(s, dict)], "query", client.url)
    chunks = [cid_from_str(c) for c in _strings(info.get("chunks"), "query", client.url)]
    have = node.store.existing(chunks)
    wanted += [cid_to_str(c) for c in dict.fromkeys(chunks) if c not in have]
    wanted += [versions[0], *_strings([s.get("id") for s in info.get("signatures", []) if isinstance(s, dict)],
                                      "query", client.url)]
    with client.blocks([cid_from_str(g) for g in wanted]) as blocks:
        tally = take(node, blocks, f"fetch:{client.url}", shallow=True)
    if tally.forgeries:
        raise PeerError(f"{client.url} sent a forgery while fetching {title}: {tally.forgery}")
    if node.store.object_id(file_cid) is None:
        reason = tally.reasons[0] if tally.reasons else "it did not send all of it"
        raise PeerError(f"{client.url}'s version of {title} was refused: {reason}")
    result.files.append(title)
    return True


def _one(client: PeerClient, guid: str, props: list[str]) -> dict:
    """The peer's description of one object (``query``)."""
    answer, _ = client.rpc("query", [[guid], props])
    if not isinstance(answer, list) or len(answer) != 1 or not isinstance(answer[0], dict):
        raise PeerError(f"{client.url} does not hold {guid}, which it named")
    return answer[0]


def _followed(node: Node, wiki: str, ns: int, cid: bytes) -> bool:
    """Whether a page is in what the node follows (and so is kept, never evicted)."""
    scope = follow_scope(node)
    return wiki in scope.wikis or (wiki, ns) in scope.namespaces or cid in scope.pages


def _finish(node: Node, result: FetchResult) -> FetchResult:
    if node.config.cache_quota is not None:
        result.evicted = PageCache(node.store).enforce(node.config.cache_quota, node.local_keys(),
                                                       frozenset(result.page_ids))
    return result


def fetch_titles(node: Node, wiki: str, titles: list[str], depth: int = DEFAULT_DEPTH,
                 progress: Progress | None = None, finder: Finder | None = None) -> FetchResult:
    """Fetch pages by title from whichever peer (or node it redirects to) has them; when none has a page,
    from a node ``finder`` names."""
    result = FetchResult()
    for done, title in enumerate(titles, 1):
        page = normalize_title(node.wiki_or_default(wiki), title)
        name = page.full
        asked = ask(_peers(node, finder is None), "lookup", [f"{wiki}/{name}", "page"],
                    good=lambda r: isinstance(r, str))
        result.errors += asked.errors
        if asked.url is None:
            if finder is None or not _fetch_found(node, finder(wiki, page.ns, page.text), wiki, page, _depth(depth),
                                                  result):
                result.missing.append(name)
        else:
            try:
                fetch_guid(node, asked.url, asked.result, _depth(depth), result)
            except PeerError as exc:
                result.errors.append(str(exc))
                result.missing.append(name)
        if progress is not None:
            progress(done, len(titles))
    return _finish(node, result)


def _fetch_found(node: Node, urls: list[str], wiki: str, page: Title, depth: int, result: FetchResult) -> bool:
    """Fetch a page from the first of ``urls`` that has it (through the same verified door); True if one did."""
    guid = cid_to_str(build_page(Page(wiki, page.ns, page.text)).cid)
    for url in urls[:MAX_FOUND]:
        tried = FetchResult()
        try:
            fetch_guid(node, url, guid, depth, tried)
        except PeerError as exc:
            result.errors.append(str(exc))
            continue
        if tried.pages:
            result.pages += tried.pages
            result.files += tried.files
            result.page_ids |= tried.page_ids
            result.revisions += tried.revisions
            result.errors += tried.errors
            result.missing += tried.missing  # files the page shows that the holder lacked
            return True
    return False


def fetch_search(node: Node, query: str, top: int, depth: int = DEFAULT_DEPTH,
                 progress: Progress | None = None) -> FetchResult:
    """Fetch the ``top`` results of a full-text search from a peer that has results."""
    if not 0 < top <= MAX_TOP:
        raise UserError(f"--top is a number from 1 to {MAX_TOP}")
    result = FetchResult()
    asked = ask(_peers(node), "search", [["page", "text", "~", query], top], good=lambda r: bool(r))
    result.errors += asked.errors
    if asked.url is None:
        return result
    found = _strings(asked.result, "search", asked.url)[:top]
    for done, guid in enumerate(found, 1):
        try:
            fetch_guid(node, asked.url, guid, _depth(depth), result)
        except PeerError as exc:
            result.errors.append(str(exc))
            result.missing.append(guid)
        if progress is not None:
            progress(done, len(found))
    return _finish(node, result)


def _depth(depth: int) -> int:
    if not 0 < depth <= MAX_DEPTH:
        raise UserError(f"the history depth is a number from 1 to {MAX_DEPTH}")
    return depth
