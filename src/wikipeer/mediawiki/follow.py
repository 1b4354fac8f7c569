"""Following a live MediaWiki: every new revision through its Action API, and its log.

How a pull goes (one ``pull()``, run by ``wikipeer sync`` and ``serve --sync-every``):

1. The sweep, one continued query: ``meta=siteinfo`` (namespaces, case rules,
   language, interwiki map and namespace aliases become the wiki's
   configuration, refreshed at every pull), ``list=logevents`` from its own
   cursor, 500 events an answer (a deletion hides the page in this node's
   views, store/hidden.py, the signed history stays; a restore shows it
   again; a revision deletion or suppression that hides a revision's text or
   an old file version hides that one here, and showing it there shows it
   here; a move that left no redirect hides the old title; the effects do
   not depend on the order the log and the revisions arrive in), and on
   later pulls ``list=recentchanges`` (ids only, 500 an answer) from
   ``LATE_SAVE`` seconds before the previous pull began. A change whose
   revision the allrevisions cursor has passed but this node does not hold
   was saved late (its timestamp older than the last one taken): it is
   fetched by ``revids``, 50 a request, and taken.
2. ``list=allrevisions`` in ascending order (``arvdir=newer``), with content
   (``arvslots=main``), 50 revisions an answer (MediaWiki's maximum with
   content for accounts without ``apihighlimits``), in the peer's
   namespaces. Each answer is checked (every text against its SHA-1), signed
   by this node through formats/dump_convert.py's ``page_blocks`` (the one
   conversion dumps use too) and taken in one ingest transaction; only then is
   the cursor saved. Answers are fetched and checked in a thread ahead of the
   door; those already waiting when the door is free (10 at most) go through
   it in one transaction. A kill at any point costs at most those answers,
   fetched again and taken as duplicates (the conversion is deterministic).

How moves fit in: the content of a move arrives through ``allrevisions``.
MediaWiki moves the page (its id and history) to the new title, adds a null
revision there whose parent is the last revision under the old title, and
makes a new page at the old title holding the redirect. A revision whose
parent this node holds under another title is therefore a move: the history
is copied under the new title first (rebuilt from the store, signed again,
no request), so the new title carries it whole; the redirect's revision
becomes a child of the old title's head (the title goes on, no fork). The log
adds only what allrevisions cannot show: a move without a redirect.

Uploads: file description pages (namespace 6) in a transaction bring one
``prop=imageinfo`` request per 50 of them; sha1, size, mime, url,
time and uploader are kept in the ``uploads`` field of the revision's origin.
The files themselves come last (mediawiki/files.py): every version of every
file page seen (and of each ``upload`` log event), downloaded, checked
against MediaWiki's SHA-1 and taken as a file version.

Requests: a first pull of N revisions costs N/50 + L/500 (L log events, the
first answer of the sweep brings siteinfo too), plus one per transaction
holding file pages; a later pull of k changes costs 1 + k/50 for the
revisions and 1 for the sweep (while its log events and recent changes fit in
500), plus one per 50 revisions saved late.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from wikipeer.errors import UserError
from wikipeer.formats.dump_convert import (MAX_UPLOADS, format_timestamp, page_blocks, parse_timestamp,
                                           strip_prefix, wiki_config)
from wikipeer.formats.dump_reader import DumpPage, DumpRevision
from wikipeer.ingest import ACCEPTED, DUPLICATE, REJECTED
from wikipeer.mediawiki.convert import REVISION_PROPS, SITEINFO_PROPS, api_page, site_info
from wikipeer.mediawiki.files import FilePuller
from wikipeer.mediawiki.remote import MediaWikiError, QueryBatch, RemoteWiki
from wikipeer.model.block import Block
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title
from wikipeer.node import Node
from wikipeer.store import hidden
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.mw_peers import MediaWikiPeer, MediaWikiPeers
from wikipeer.store.mw_push import PushBook
from wikipeer.store.records import RevInfo
from wikipeer.store.store import disk_problem

if TYPE_CHECKING:  # push.py imports this module: the name only, for the annotation
    from wikipeer.mediawiki.push import PushResult

T = TypeVar("T")
FILE_NS = 6
TITLES_PER_REQUEST = 50
"""MediaWiki's limit on ``titles`` for accounts without ``apihighlimits``."""
GROUP_ANSWERS = 10
"""Answers taken in one ingest transaction at most (those already fetched when the door is free)."""
LOG_PROPS = "ids|title|type|user|timestamp|comment|details"
IMAGEINFO_PROPS = "sha1|size|mime|url|timestamp|user"
LATE_SAVE = 600
"""Seconds a save may take from the timestamp MediaWiki gives a revision to the moment its recent change
can be read; each pull sweeps recentchanges from this long before the previous pull began."""


ARCHIVE_SLACK_MS = 5000
"""How far an old file version's archive time may lie from its successor's upload time."""


@dataclass(slots=True)
class PullResult:
    """What one pull from one MediaWiki did."""

    url: str
    revisions: int = 0        # revisions read from the wiki
    new: int = 0              # of those, new here
    duplicates: int = 0
    refused: int = 0          # refused by this node's policy (a warning says why)
    copied: int = 0           # revisions copied under a page's new title after a move
    late: int = 0             # of the revisions read, those saved late, found through recentchanges
    hidden: int = 0           # pages hidden (deleted there)
    shown: int = 0            # pages shown again (restored there)
    files: int = 0            # file versions downloaded
    new_files: int = 0        # of those, taken as new file versions
    files_refused: int = 0    # files refused this time (a warning says why), tried again next sync
    requests: int = 0
    bytes_in: int = 0
    warnings: list[str] = field(default_factory=list)
    pushed: PushResult | None = None  # what the same sync sent back (mediawiki/push.py), when it pushed


def digits_timestamp(iso: str) -> str:
    """``2026-01-01T00:00:00Z`` as MediaWiki's 14 digits (``20260101000000``), the form its continuations hold."""
    return iso.replace("-", "").replace(":", "").replace("T", "").replace("Z", "")


def check_since(text: str) -> str:
    """A --since value as MediaWiki's ISO form (``2026-01-01`` or ``2026-01-01T00:00:00Z``), or a UserError."""
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            when = datetime.strptime(text.strip(), pattern).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise UserError(f"--since takes a UTC time like 2026-01-01T00:00:00Z or a date like 2026-01-01, not {text!r}")


def shift_iso(iso: str, seconds: int) -> str:
    """An ISO timestamp (``2026-01-01T00:00:00Z``) moved by ``seconds``."""
    return format_timestamp(parse_timestamp(iso) + seconds * 1000)


def _is_iso(text: str) -> bool:
    try:
        parse_timestamp(text)
    except ValueError:
        return False
    return True


def _with_siteinfo(resume: dict[str, str] | None) -> dict[str, str] | None:
    """A saved continuation with ``siteinfo`` taken off its list of finished modules, so a resumed sweep
    asks for the configuration again (MediaWiki skips the modules that list names)."""
    if not resume or "||" not in resume.get("continue", ""):
        return resume
    generator, done = resume["continue"].split("||", 1)
    kept = [m for m in done.split("|") if m and m != "siteinfo"]
    return {**resume, "continue": f"{generator}||{'|'.join(kept)}"}


def _resume(cursor: dict[str, Any], key: str) -> dict[str, str] | None:
    """Where a query resumes: MediaWiki's continuation if an answer gave one, else just after the last item
    taken (MediaWiki's ``TIMESTAMP|ID`` form: ``>= ID`` at that second)."""
    if cursor.get("continue"):
        return dict(cursor["continue"])
    after = cursor.get("after")
    if after:
        return {"continue": "-||", key: f"{digits_timestamp(after[0])}|{int(after[1]) + 1}"}
    return None


def _checked(answers: Iterator[QueryBatch], url: str) -> Iterator[tuple[QueryBatch, list[DumpPage]]]:
    """Each answer of allrevisions with its pages read and every text checked against its SHA-1."""
    for batch in answers:
        entries = batch.query.get("allrevisions") or []
        if not isinstance(entries, list):
            raise MediaWikiError(url, "answered allrevisions with something not a list", "badjson")
        yield batch, [api_page(url, e) for e in entries]


def prefetch(items: Iterator[T], most: int) -> Iterator[list[T]]:
    """The items of ``items`` made in a thread ahead of the caller, given as lists: each list holds
    the next item and those already made behind it, ``most`` at most (the caller never waits for
    more than one).

    An exception in the thread comes out after the items made before it; a
    caller that stops early lets the thread finish its current item and end.
    """
    slot: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=most)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                slot.put((True, item))
                if stop.is_set():
                    return
            slot.put((False, None))
        except BaseException as exc:  # handed to the caller, raised there
            slot.put((False, exc))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    end: tuple[bool, Any] | None = None
    try:
        while end is None:
            group: list[T] = []
            entry = slot.get()
            while True:
                if not entry[0]:
                    end = entry
                    break
                group.append(entry[1])
                if len(group) == most:
                    break
                try:
                    entry = slot.get_nowait()
                except queue.Empty:
                    break
            if group:
                yield group
        if end[1] is not None:
            raise end[1]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slot.get(timeout=0.1)
            except queue.Empty:
                pass


def _merged(pages: list[DumpPage]) -> list[DumpPage]:
    """Pages of several answers with the revisions of one page (by its id) joined, in order."""
    by_id: dict[int | None, DumpPage] = {}
    for page in pages:
        held = by_id.get(page.id)
        if held is None:
            by_id[page.id] = page
        else:
            held.revisions.extend(page.revisions)
            held.title, held.ns = page.title, page.ns
    return list(by_id.values())


class _Follower:
    """One pull's state: the node, the peer record, the remote wiki and the tally."""

    def __init__(self, node: Node, peer: MediaWikiPeer, remote: RemoteWiki,
                 progress: Callable[[PullResult], None] | None = None) -> None:
        self.node, self.peer, self.remote = node, peer, remote
        self.progress = progress
        self.store = node.store
        self.peers = MediaWikiPeers(node.store)
        self.result = PullResult(peer.url)
        self.key = node.keyring.signing_key(NODE_KEY, node.passphrase)
        self.node_key = node.keyring.get(NODE_KEY).public
        self.site = (peer.rev_cursor or {}).get("site", "")
        self.config: WikiConfig | None = node.store.wiki_config(peer.wiki)
        self.batch_ids: dict[int, bytes] = {}
        self.pushed = PushBook(node.store)
        self.file_titles: set[str] = set()  # file pages seen: their versions are fetched at the end

    # -- siteinfo ---------------------------------------------------------------------------

    def siteinfo(self) -> None:
        """The wiki's configuration and site id, asked when either is missing (a push without a pull)."""
        if self.site and self.config is not None:
            return
        self._configure(self.remote.get(action="query", meta="siteinfo", siprop=SITEINFO_PROPS).get("query", {}))

    def _configure(self, query: dict[str, Any]) -> None:
        """Keep what ``meta=siteinfo`` says (the ``query`` part of its answer) as the wiki's configuration."""
        info = site_info(self.remote.url, query)
        self.site = info.dbname or self.peer.wiki
        config = wiki_config(info, self.peer.wiki)
        if config != self.config:
            self.config = config
            self.store.set_wiki_config(config)

    # -- siteinfo, the log and recentchanges: the first request of a pull ------------------------

    def sweep(self) -> None:
        """``meta=siteinfo``, ``list=logevents`` and (on later pulls) ``list=recentchanges`` in one continued
        query, before the revisions: the configuration is refreshed, the log followed, and the revisions
        that allrevisions passed by (saved with a timestamp older than the last one taken) are fetched."""
        cursor = dict(self.peer.log_cursor or {})
        start = cursor.get("start") or self.peer.since
        after_rev = (self.peer.rev_cursor or {}).get("after")
        if cursor.get("continue"):
            rc_from = cursor.get("rc_from")  # a sweep resumed asks what it asked before
        elif after_rev:
            rc_from = cursor.get("rc_next") or shift_iso(after_rev[0], -LATE_SAVE)
        else:
            rc_from = None  # a first pull: allrevisions passes nothing by yet
        params: dict[str, Any] = dict(meta="siteinfo", siprop=SITEINFO_PROPS, list="logevents", leprop=LOG_PROPS,
                                      lelimit="max", ledir="newer")
        if start:
            params["lestart"] = start
        if rc_from:
            params.update(list="logevents|recentchanges", rcprop="ids|timestamp|title", rctype="edit|new",
                          rclimit="max", rcdir="newer", rcstart=rc_from)
            if self.peer.namespaces is not None:
                params["rcnamespace"] = "|".join(str(n) for n in self.peer.namespaces)
        after = cursor.get("after")
        rc_next = None  # where the next pull's sweep begins: from the wiki's clock, in the first answer
        for batch in self.remote.query_all(_with_siteinfo(_resume(cursor, "lecontinue")), **params):
            if "general" in batch.query:
                self._configure(batch.query)
                now = batch.query["general"].get("time")
                rc_next = shift_iso(now, -LATE_SAVE) if isinstance(now, str) and _is_iso(now) else None
            events = batch.query.get("logevents") or []
            if not isinstance(events, list):
                raise MediaWikiError(self.remote.url, "answered logevents with something not a list", "badjson")
            for event in events:
                if isinstance(event, dict):
                    self._event(event)
                    if "timestamp" in event and "logid" in event:
                        after = [str(event["timestamp"]), int(event["logid"])]
            self._late(batch.query.get("recentchanges") or [], after_rev)
            self.peers.set(self.peer.url, log_cursor={"start": start, "continue": batch.next, "after": after,
                                                      "rc_from": rc_from, "rc_next": rc_next})

    def _late(self, changes: Any, after_rev: list[Any] | None) -> None:
        """Take the revisions of ``changes`` (recentchanges entries) that the allrevisions cursor has passed
        (at or before ``after_rev``) but this node does not hold: they were saved late. 50 a request."""
        if not isinstance(changes, list):
            raise MediaWikiError(self.remote.url, "answered recentchanges with something not a list", "badjson")
        if not after_rev:
            return
        missing = sorted({int(c["revid"]) for c in changes if isinstance(c, dict) and isinstance(c.get("revid"), int)
                          and c["revid"] > 0 and isinstance(c.get("timestamp"), str)
                          and (c["timestamp"], c["revid"]) <= (after_rev[0], after_rev[1])
                          and self._held(c["revid"]) is None})
        for at in range(0, len(missing), TITLES_PER_REQUEST):
            answer = self.remote.get(action="query", prop="revisions", rvprop=REVISION_PROPS, rvslots="main",
                                     revids="|".join(str(i) for i in missing[at:at + TITLES_PER_REQUEST]))
            # A revision deleted there since comes back among "badrevids": nothing to take.
            entries = [e for e in answer.get("query", {}).get("pages") or [] if isinstance(e, dict)
                       and not e.get("missing") and not e.get("invalid")]
            pages = [api_page(self.remote.url, e) for e in entries]
            self._uploads(pages)
            before = self.result.revisions
            self._take(pages)
            self.result.late += self.result.revisions - before

    # -- revisions --------------------------------------------------------------------------

    def revisions(self) -> None:
        cursor = dict(self.peer.rev_cursor or {})
        start = cursor.get("start") or self.peer.since
        params: dict[str, Any] = dict(list="allrevisions", arvprop=REVISION_PROPS, arvslots="main",
                                      arvlimit="max", arvdir="newer")
        if start:
            params["arvstart"] = start
        if self.peer.namespaces is not None:
            params["arvnamespace"] = "|".join(str(n) for n in self.peer.namespaces)
        after = cursor.get("after")
        answers = _checked(self.remote.query_all(_resume(cursor, "arvcontinue"), **params), self.remote.url)
        # Answers are fetched and checked in a thread while earlier ones are signed and taken;
        # those that wait when the door is free go through it together (fewer, larger transactions).
        # The pages taken are marked for the search index, which is built behind (store/indexer.py).
        for group in prefetch(answers, GROUP_ANSWERS):
            pages = _merged([p for _, ps in group for p in ps])
            self._uploads(pages)
            self._take(pages)
            for page in pages:
                for rev in page.revisions:
                    if after is None or (rev.timestamp, rev.id) > (after[0], after[1]):
                        after = [rev.timestamp, rev.id]
            cursor = {"site": self.site, "start": start, "continue": group[-1][0].next, "after": after}
            self.peers.set(self.peer.url, rev_cursor=cursor)

    def _uploads(self, pages: list[DumpPage]) -> None:
        """The file metadata of the answers' file description pages, one request per 50 of them."""
        files = sorted({p.title for p in pages if p.ns == FILE_NS})
        self.file_titles.update(files)
        infos = {}
        for at in range(0, len(files), TITLES_PER_REQUEST):
            answer = self.remote.get(action="query", prop="imageinfo", iiprop=IMAGEINFO_PROPS,
                                     titles="|".join(files[at:at + TITLES_PER_REQUEST]))
            for entry in answer.get("query", {}).get("pages") or []:
                info = (entry.get("imageinfo") or [None])[0] if isinstance(entry, dict) else None
                if isinstance(info, dict):
                    infos[entry.get("title")] = {k: str(info[k]) for k in ("sha1", "size", "mime", "url",
                                                                           "timestamp", "user") if k in info}
        for page in pages:
            record = infos.get(page.title)
            if record is not None:
                if len(json.dumps(record).encode("utf-8")) > MAX_UPLOADS:
                    record.pop("url", None)  # a URL too long to keep; the file is named by its sha1 anyway
                page.uploads = [record]

    def _take(self, pages: list[DumpPage]) -> None:
        """Convert and sign the pages of one or more answers and take them in one ingest transaction."""
        batch: list[tuple[DumpPage, list[Block]]] = []
        self.batch_ids = {}
        for page in pages:
            self.result.revisions += len(page.revisions)
            converted = self._convert(page)
            if converted is not None:
                batch.append(converted)
        blocks = [b for _, bs in batch for b in bs]
        if blocks:
            self._ingest(batch, blocks)
        if self.progress is not None:
            self.progress(self.result)

    def _ingest(self, batch: list[tuple[DumpPage, list[Block]]], blocks: list[Block]) -> None:
        """Take one batch's blocks in one ingest transaction and count what came of each page's revisions."""
        report = self.node.ingest(blocks, f"mediawiki:{self.peer.url}")
        at = new = 0
        for page, page_blocks_ in batch:
            statuses = report.statuses[at:at + len(page_blocks_)]
            at += len(page_blocks_)
            revs = statuses[2::3]  # the page, then per revision its text, rev and signature
            new += sum(1 for s in revs if s.state == ACCEPTED)
            self.result.duplicates += sum(1 for s in revs if s.state == DUPLICATE)
            bad = [s for s in statuses if s.state == REJECTED]
            if bad:
                self.result.refused += 1
                self.result.warnings.append(f"page {page.title!r}: refused by this node: {bad[0].reason}")
        self.result.new += new
        self.peers.count_pulled(self.peer.url, new)

    def _convert(self, page: DumpPage) -> tuple[DumpPage, list[Block]] | None:
        assert self.config is not None
        # Revisions this node sent up (mediawiki/push.py) are ours already: not brought back as others.
        page.revisions = [r for r in page.revisions if r.id is None or self.pushed.ours(self.peer.url, r.id) is None]
        if not page.revisions:
            return None
        try:
            title = normalize_title(self.config, strip_prefix(self.config, page), page.ns).text
        except BadTitle as exc:
            self.result.warnings.append(f"skipped page {page.title!r}: {exc}")
            return None
        row = self.store.page(self.config.name, page.ns, title)
        copies = self._moved_history(page, row.id if row else None)
        first_parent = self._first_parent(page, row.id if row else None) if not copies else None
        whole = DumpPage(page.title, page.ns, page.id, page.redirect, copies + page.revisions, 0,
                         uploads=page.uploads)
        try:
            blocks, ids = page_blocks(self.config, self.site, whole, self.key, self.node_key, self._known_parent,
                                      first_parent=first_parent)
        except ValueError as exc:
            self.result.warnings.append(f"skipped page {page.title!r}: {exc}")
            return None
        self.result.copied += len(copies)
        self.batch_ids.update(ids)
        return whole, blocks

    def _known_parent(self, rev_id: int) -> bytes | None:
        return self.batch_ids.get(rev_id) or self._held(rev_id)

    def _held(self, rev_id: int) -> bytes | None:
        """The revision this node holds for the wiki's ``rev_id``: taken from it, or sent to it (push.py)."""
        return self.store.origin_revision(self.site, rev_id) or self.pushed.our_cid(self.peer.url, rev_id)

    def _sent_page(self, rev_id: int) -> tuple[bytes, int] | None:
        """The CID and page id of the revision this node sent up and the wiki calls ``rev_id``, if any."""
        cid = self.pushed.our_cid(self.peer.url, rev_id)
        return (cid, self.store.revision(cid).page) if cid is not None else None

    def _mw_id(self, rev: RevInfo) -> int | None:
        """The wiki's id of a revision this node holds: from its origin, or the one it got when sent up."""
        if "rev_id" in rev.origin:
            return rev.origin["rev_id"]
        sent = self.pushed.pushed(self.peer.url, rev.id)
        return sent.rev_id if sent else None

    def _moved_history(self, page: DumpPage, page_id: int | None) -> list[DumpRevision]:
        """The history to copy under this title when the page's first revision here continues a
        revision this node holds under another title (the page was moved there)."""
        first = page.revisions[0] if page.revisions else None
        if first is None or first.parentid is None or first.parentid in self.batch_ids:
            return []
        held = self.store.origin_revision_page(self.site, first.parentid) or self._sent_page(first.parentid)
        if held is None or held[1] == page_id:
            return []
        chain = [self.store.revision(held[0])]
        while chain[-1].parents and self.store.object_id(chain[-1].parents[0]) is not None:
            chain.append(self.store.revision(chain[-1].parents[0]))
        return [self._as_dump(r) for r in reversed(chain)]

    def _first_parent(self, page: DumpPage, page_id: int | None) -> bytes | None:
        """Where a page that starts anew at a title this node holds continues (a redirect left by a
        move, a page made again after a deletion): the title's head; on a re-run, what it was."""
        first = page.revisions[0] if page.revisions else None
        if first is None or first.parentid is not None or page_id is None:
            return None
        held = self._held(first.id) if first.id is not None else None
        if held is not None:
            parents = self.store.revision(held).parents
            return parents[0] if parents else None
        heads = self.node.view().ordered(self.store, page_id)
        return heads[0].cid if heads else None

    def _as_dump(self, rev: RevInfo) -> DumpRevision:
        """A stored revision back as the dump record it was made from, to sign it under a new title."""
        o = rev.origin
        if "rev_id" not in o:  # one of ours the wiki took: its ids there (push.py)
            held = rev.parents and self.store.object_id(rev.parents[0]) is not None
            parent = self.store.revision(rev.parents[0]) if held else None
            o = {"rev_id": self._mw_id(rev), "parent_id": self._mw_id(parent) if parent else None}
        return DumpRevision(
            id=o.get("rev_id"), parentid=o.get("parent_id"), timestamp=format_timestamp(rev.ts), user=o.get("user"),
            user_id=o.get("user_id"), ip=o.get("ip"), user_deleted=bool(o.get("user_deleted")), minor=rev.minor,
            comment=rev.comment, comment_deleted=bool(o.get("comment_deleted")), model=rev.model,
            format=rev.format or "text/x-wiki", text=self.store.revision_text(rev),
            text_deleted=bool(o.get("text_deleted")), sha1=o.get("sha1"))

    # -- files ------------------------------------------------------------------------------

    def files(self) -> None:
        """Every version of the file pages seen (and of those left from earlier pulls), bytes and all."""
        assert self.config is not None
        FilePuller(self.node, self.remote, self.peer.url, self.config, self.site, self.result).pull(self.file_titles)

    # -- the log ----------------------------------------------------------------------------

    def _event(self, event: dict[str, Any]) -> None:
        kind, action, params = event.get("type"), event.get("action"), event.get("params") or {}
        ns, title = event.get("ns"), event.get("title")
        if not isinstance(ns, int) or not isinstance(title, str) or "timestamp" not in event:
            return
        if self.peer.namespaces is not None and ns not in self.peer.namespaces:
            return
        who = event.get("user", "someone")
        why = f": {event['comment']}" if event.get("comment") else ""
        when = parse_timestamp(str(event["timestamp"]))
        if kind == "delete" and action in ("delete", "delete_redir"):
            self._hide(ns, title, when, f"deleted on {self.remote.url} by {who} on {event['timestamp']}{why}")
        elif kind == "delete" and action == "restore":
            page_id = self._page_id(ns, title)
            if page_id is not None and hidden.hidden(self.store, page_id):
                hidden.unhide(self.store, page_id)
                self.result.shown += 1
        elif kind in ("delete", "suppress") and action == "revision":  # revision deletion, or its suppression
            self._hide_items(ns, title, params, when, f"{'suppressed' if kind == 'suppress' else 'deleted'} on "
                                                      f"{self.remote.url} by {who} on {event['timestamp']}{why}")
        elif kind == "suppress" and action == "delete":
            self._hide(ns, title, when, f"deleted and suppressed on {self.remote.url} by {who} on "
                                        f"{event['timestamp']}{why}")
        elif kind == "upload" and ns == FILE_NS:
            self.file_titles.add(title)
        elif kind == "move" and params.get("suppressredirect"):
            self._hide(ns, title, when, f"moved to {params.get('target_title')!r} on {self.remote.url} by {who} "
                                        f"without a redirect{why}")

    def _hide_items(self, ns: int, title: str, params: dict[str, Any], when: int, reason: str) -> None:
        """A revision deletion: the revisions (or old file versions) whose text (or bytes) it hid are
        hidden here, those it showed again are shown. One not held yet comes with its text already
        withheld by MediaWiki (``texthidden``), so nothing is lost by the order of log and revisions."""
        page_id = self._page_id(ns, title)
        new = params.get("new") if isinstance(params.get("new"), dict) else {}
        bitmask = new.get("bitmask")
        hide = bool(new.get("content")) or (isinstance(bitmask, int) and bool(bitmask & 1))
        ids = [str(i) for i in params.get("ids") or [] if isinstance(i, (int, str))]
        if page_id is None or not ids:
            return
        kind = params.get("type")
        items = self._revision_items(ids) if kind == "revision" else \
            self._old_file_items(page_id, ids) if kind == "oldimage" else []
        for item in items:
            if hide:
                hidden.hide_item(self.store, item, page_id, when, reason)
                self.result.hidden += 1
            elif hidden.unhide_item(self.store, item):
                self.result.shown += 1

    def _revision_items(self, ids: list[str]) -> list[int]:
        """The object ids of the revisions this node holds for the wiki's revision ids."""
        held = (self._held(int(i)) for i in ids if i.isdigit())
        return [self.store.object_id(cid) for cid in held if cid is not None]

    def _old_file_items(self, page_id: int, ids: list[str]) -> list[int]:
        """The file versions an ``oldimage`` deletion names: MediaWiki names an old version by when it was
        archived (``oi_archive_name``'s timestamp), which is when the next version was uploaded (to the
        second, or one or two later on a slow wiki): the version before the one uploaded closest to it."""
        versions = sorted(self.store.file_versions(page_id), key=lambda v: (v.ts, v.id))
        found = []
        for i in ids:
            if len(i) != 14 or not i.isdigit():
                continue
            archived = parse_timestamp(f"{i[:4]}-{i[4:6]}-{i[6:8]}T{i[8:10]}:{i[10:12]}:{i[12:]}Z")
            pairs = [(abs(after.ts - archived), old.id) for old, after in zip(versions, versions[1:])
                     if abs(after.ts - archived) <= ARCHIVE_SLACK_MS]
            if pairs:
                found.append(min(pairs)[1])
        return found

    def _page_id(self, ns: int, full_title: str) -> int | None:
        assert self.config is not None
        try:
            name = normalize_title(self.config, full_title)
        except BadTitle:
            return None
        row = self.store.page(self.config.name, name.ns, name.text)
        return row.id if row else None

    def _hide(self, ns: int, title: str, when: int, reason: str) -> None:
        page_id = self._page_id(ns, title)
        if page_id is not None:
            hidden.hide(self.store, page_id, when, reason)
            self.result.hidden += 1


def site_id(node: Node, remote: RemoteWiki, url: str) -> str:
    """The site name the pull writes in the ``origin`` of the revisions it takes from ``url``."""
    follower = _Follower(node, MediaWikiPeers(node.store).get(url), remote)
    follower.siteinfo()
    return follower.site


def take_history(node: Node, remote: RemoteWiki, url: str, title: str, start_id: int | None) -> PullResult:
    """MediaWiki's revisions of one page from ``start_id`` on (all when None), converted and taken in as
    the pull takes them, so the pull finds them as duplicates later (the push's edit conflicts)."""
    follower = _Follower(node, MediaWikiPeers(node.store).get(url), remote)
    follower.siteinfo()
    for batch in remote.query_all(prop="revisions", titles=title, rvprop=REVISION_PROPS, rvslots="main",
                                  rvdir="newer", rvlimit="max", rvstartid=start_id):
        entries = [e for e in batch.query.get("pages") or [] if isinstance(e, dict)
                   and not e.get("missing") and not e.get("invalid")]
        follower._take([api_page(remote.url, e) for e in entries])
    return follower.result


def open_remote(node: Node, peer: MediaWikiPeer, **options: Any) -> RemoteWiki:
    """The api.php of a MediaWiki peer, with this node's User-Agent and the peer's rate."""
    return RemoteWiki(peer.url, node_key=node.keyring.get(NODE_KEY).public, rate=peer.rate, **options)


def pull(node: Node, url: str, progress: Callable[[PullResult], None] | None = None, **options: Any) -> PullResult:
    """Take everything new from the MediaWiki at ``url`` (a peer added with ``peer add --mediawiki``).

    ``progress`` is told the result so far after each batch of revisions taken (a command's progress line).
    ``options`` go to RemoteWiki (bounds, retries, timeouts). On failure the
    cursors stay at the last batch taken, the peer record keeps the error, and
    the error is raised (MediaWikiError names the wiki and the problem).
    """
    peers = MediaWikiPeers(node.store)
    peer = peers.get(url)
    remote = open_remote(node, peer, **options)
    follower = _Follower(node, peer, remote, progress)
    try:
        with remote:
            follower.sweep()
            follower.revisions()
            follower.files()
    except Exception as exc:
        problem = disk_problem(exc, node.store.path)
        _record(peers, peer.url, str(problem or exc) or type(exc).__name__)
        if problem is not None:
            raise problem from exc
        raise
    finally:
        follower.result.requests, follower.result.bytes_in = remote.requests, remote.bytes_in
    peers.set(peer.url, last_sync=int(time.time()), last_error=None)
    return follower.result


def _record(peers: MediaWikiPeers, url: str, message: str) -> None:
    try:
        peers.set(url, last_sync=int(time.time()), last_error=message[:1000])
    except Exception:  # the store that failed the pull (a full disk) may refuse this too
        pass
