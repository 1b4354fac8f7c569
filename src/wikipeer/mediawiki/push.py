"""Sending this node's edits up to a MediaWiki it follows (``wikipeer sync``).

What goes up: the revisions of the followed wiki (in the followed
namespaces) that entered the store after the push cursor and did not come
from a MediaWiki (their ``origin`` names no site: edits made here, or
received from other nodes), oldest first, one ``action=edit`` each, logged
in with the peer's account (mediawiki/login.py) before the first of them. Each edit names the MediaWiki revision it was made on
(``baserevid``/``basetimestamp``: the nearest ancestor MediaWiki holds,
pulled from it or pushed to it), ``createonly`` for a page's first revision
and ``nocreate`` otherwise, ``minor`` as the revision says, and a summary
that carries the revision's comment, its CID and the node's key.

Before each edit the page's current revision on MediaWiki is asked for: if
it is not the base, MediaWiki moved on (another user, or another head of
ours that went up first, which MediaWiki would silently overwrite since it
never calls a user's conflict with themselves a conflict). That is an edit
conflict, as is MediaWiki's own ``editconflict``/``articleexists``: the
page's new revisions on MediaWiki are taken in (mediawiki/follow.py's
conversion, through the one ingest door), so the page shows a fork of
MediaWiki's head and ours, which the merge form resolves; the merge goes up
at the next sync, based on MediaWiki's head. When MediaWiki's revisions since
the base kept the text (null revisions of a protection or a move), the node
joins them to ours itself and sends the join instead: no needless fork.

After a successful edit our revision is recorded as MediaWiki's new revision
id (store/mw_push.py): later edits name it as their base, and the pull takes
that MediaWiki revision for ours instead of bringing it back as a second one.

A refusal (protection, spam or title blacklist, abuse filter, rate limit,
read-only wiki, a deleted page...) is recorded per revision with MediaWiki's
code and text, reported, and sent again only when asked
(``wikipeer sync --retry-refused``). A wiki-wide refusal (``readonly``,
``ratelimited``) also ends this push: what follows would meet the same.
Anything else that fails (the wiki unreachable, a bad answer, a lost
session) stops the push with the cursor before the revision that met it, so
the next sync sends it again. The cursor moves only past revisions that went
up, met a conflict that was taken in, or were refused and recorded.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from wikipeer.authoring import edit
from wikipeer.errors import NotFound
from wikipeer.formats.dump_convert import format_timestamp
from wikipeer.mediawiki.credentials import account_for
from wikipeer.mediawiki.follow import open_remote, site_id, take_history
from wikipeer.mediawiki.login import log_in
from wikipeer.mediawiki.remote import MediaWikiError, RemoteWiki
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.mw_peers import MediaWikiPeers
from wikipeer.store.mw_push import PushBook
from wikipeer.store.records import RevInfo

BATCH = 200
MAX_SUMMARY = 500
"""Characters MediaWiki keeps of an edit summary."""
MAX_ANCESTORS = 1000
"""Revisions looked at to find the one MediaWiki holds that an edit was made on."""
WIKI_WIDE = frozenset({"readonly", "ratelimited"})
"""Refusals that say nothing about the revision: the push stops after recording one."""
NOT_REFUSALS = frozenset({"badtoken", "notloggedin", "assertuserfailed", "assertbotfailed", "assertnameduserfailed",
                          "mustbeloggedin", "maxlag", "busy", "http", "html", "badjson", "toolarge", "unreachable",
                          "internal_api_error", "notoken", "url"})
"""Errors of the session or the connection, not of the revision: the push stops and tries again next time."""
CONFLICTS = frozenset({"editconflict", "articleexists"})


@dataclass(frozen=True, slots=True)
class Target:
    """The MediaWiki peer edits go up to: its api.php, the wiki it is followed as, and the site name
    its revisions carry in ``origin`` (as the pull writes it)."""

    url: str
    wiki: str
    site: str


@dataclass(frozen=True, slots=True)
class Base:
    """The MediaWiki revision an edit was made on."""

    rev_id: int
    ts: str


@dataclass(slots=True)
class PushResult:
    """What one push did; ``refused`` and ``conflicts`` as (title, CID, code, info)."""

    sent: int = 0
    unchanged: int = 0
    refused: list[tuple[str, str, str, str]] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    retried: int = 0
    requests: int = 0
    stopped: str | None = None  # why the push ended early (a wiki-wide refusal), if it did
    no_account: bool = False


FetchSide = Callable[[Node, RemoteWiki, Target, str, Base | None], int]
"""Takes MediaWiki's revisions of a page (its full title) after ``base`` into the store; returns how many came."""


def take_side(node: Node, remote: RemoteWiki, target: Target, title: str, base: Base | None) -> int:
    """MediaWiki's revisions of ``title`` from ``base`` on (all when None), taken in as the pull takes them."""
    return take_history(node, remote, target.url, title, base.rev_id if base else None).new


def push_to(node: Node, url: str, retry_refused: bool = False, **options: object) -> PushResult:
    """Push to the MediaWiki peer at ``url`` (``options`` go to RemoteWiki); a peer without an account
    sends nothing (``no_account``)."""
    peer = MediaWikiPeers(node.store).get(url)
    if peer.user is None:
        return PushResult(no_account=True)
    peers = MediaWikiPeers(node.store)
    try:
        with open_remote(node, peer, **options) as remote:
            site = (peer.rev_cursor or {}).get("site") or site_id(node, remote, peer.url)
            return push(node, remote, Target(peer.url, peer.wiki, site), retry_refused=retry_refused)
    except Exception as exc:  # `peer list` must not say "ok" after a push that failed
        try:
            peers.set(peer.url, last_sync=int(time.time()), last_error=str(exc)[:1000])
        except Exception:  # the store that failed the push (a full disk) may refuse this too
            pass
        raise


def push(node: Node, remote: RemoteWiki, target: Target, fetch_side: FetchSide = take_side,
         retry_refused: bool = False) -> PushResult:
    """Send what is new since the cursor (and, with ``retry_refused``, what was refused before)."""
    result = PushResult()
    if MediaWikiPeers(node.store).get(target.url).user is None:
        result.no_account = True
        return result
    pusher = _Pusher(node, remote, target, fetch_side, PushBook(node.store), result)
    start = remote.requests
    try:
        if not retry_refused or pusher.retry():
            pusher.send_new()
    finally:
        result.requests = remote.requests - start
    return result


class _Pusher:
    """One push's state: the session, the records, what was done so far."""

    def __init__(self, node: Node, remote: RemoteWiki, target: Target, fetch_side: FetchSide, book: PushBook,
                 result: PushResult) -> None:
        self.node, self.remote, self.target, self.fetch_side = node, remote, target, fetch_side
        self.book, self.result = book, result
        self.node_key = node.keyring.get(NODE_KEY).public
        self.config = node.wiki_or_default(target.wiki)
        self.logged_in = False

    def log_in(self) -> None:
        """Log in before the first edit (a push with nothing to send costs no request)."""
        if not self.logged_in:
            account = account_for(self.node, self.target.url)
            if account is None:
                raise MediaWikiError(self.target.url, "has no account to send edits with", "noaccount")
            log_in(self.remote, account)
            self.logged_in = True

    def retry(self) -> bool:
        """Send again what MediaWiki refused before; False when the push must stop."""
        for refusal in self.book.refusals(self.target.url):
            self.result.retried += 1
            if not self.send(self.node.store.revision_by_id(refusal.rev)):
                return False
        return True

    def send_new(self) -> None:
        """Send our revisions after the cursor, moving it past each one dealt with."""
        peers = MediaWikiPeers(self.node.store)
        while True:
            peer = peers.get(self.target.url)
            ids = self.book.revisions_after(self.target.wiki, peer.namespaces, peer.push_cursor, BATCH)
            for rev_id in ids:
                rev = self.node.store.revision_by_id(rev_id)
                go_on = not self.is_ours(rev) or self.send(rev)
                peers.set(self.target.url, push_cursor=rev_id)  # sent, taken in, refused and recorded, or not ours
                if not go_on:
                    return
            if len(ids) < BATCH:
                return

    def is_ours(self, rev: RevInfo) -> bool:
        """A revision to send: from no MediaWiki, not sent already, not waiting for a retry."""
        return ("site" not in rev.origin and self.book.pushed(self.target.url, rev.id) is None
                and not self.book.is_refused(self.target.url, rev.id))

    def send(self, rev: RevInfo) -> bool:
        """Send one revision; False when the push must stop (after recording what it could)."""
        self.log_in()
        page = self.node.store.page_by_id(rev.page)
        title = self.config.full_title(page.ns, page.title)
        base = self.base_of(rev)
        current = self.current(title)
        if current is not None and (base is None or current.rev_id != base.rev_id):
            return self.moved_on(rev, title, base, current)
        try:
            answer = self.edit(rev, title, base)
        except MediaWikiError as exc:
            return self.refused(rev, title, base, exc)
        return self.saved(rev, title, base, answer.get("edit") if isinstance(answer.get("edit"), dict) else {})

    def moved_on(self, rev: RevInfo, title: str, base: Base | None, current: Base) -> bool:
        """MediaWiki's page is no longer at ``base``: take its side in; a conflict unless its text is still
        the base's (the null revisions a protection or a move adds), where ours goes on top of them."""
        self.fetch_side(self.node, self.remote, self.target, title, base)
        if base is None or not self.same_text(base, current):
            self.result.conflicts.append((title, rev.cid_str))
            return True
        self.book.forget_refusal(self.target.url, rev.id)
        return self.send(self.carry_over(rev, title, current))

    def saved(self, rev: RevInfo, title: str, base: Base | None, edit: dict) -> bool:
        """Record what MediaWiki answered a sent edit."""
        if edit.get("result") != "Success":
            # An extension (a captcha, an abuse filter's warning) answered instead of saving.
            code = str(next((k for k in edit if k not in ("result", "title", "pageid")), "notsaved"))
            info = str(edit.get("info") or edit.get(code) or edit.get("result") or "the edit was not saved")
            return self.refused(rev, title, base, MediaWikiError(self.target.url, info, code, info))
        self.book.forget_refusal(self.target.url, rev.id)
        if "nochange" in edit:
            self.result.unchanged += 1
            return True
        self.result.sent += 1
        # Ours is MediaWiki's new revision only if MediaWiki put it right on our base; when it merged our
        # text with an edit made between our look and our edit, its revision is its own, pulled as such.
        if int(edit.get("oldrevid") or 0) == (base.rev_id if base else 0) and "newrevid" in edit:
            self.book.record_pushed(self.target.url, rev.id, int(edit["newrevid"]), str(edit.get("newtimestamp", "")))
        return True

    def edit(self, rev: RevInfo, title: str, base: Base | None) -> dict:
        params = dict(action="edit", title=title, text=self.node.store.revision_text(rev),
                      summary=self.summary(rev), minor=rev.minor, notminor=not rev.minor,
                      baserevid=base.rev_id if base else None, basetimestamp=base.ts if base else None,
                      nocreate=base is not None, createonly=base is None)
        try:
            return self.remote.post(**params, token=self.remote.token("csrf"))
        except MediaWikiError as exc:
            if exc.code != "badtoken":
                raise
            self.remote.forget_tokens()  # the session was renewed: one more try with a new token
            return self.remote.post(**params, token=self.remote.token("csrf"))

    def summary(self, rev: RevInfo) -> str:
        """The revision's comment, then its CID and the node, cut so the CID always fits."""
        tag = f"[wikipeer {rev.cid_str} from node {self.node_key}]"
        room = MAX_SUMMARY - len(tag) - 1
        comment = rev.comment if len(rev.comment) <= room else rev.comment[:room - 1] + "…"
        return f"{comment} {tag}" if comment else tag

    def base_of(self, rev: RevInfo) -> Base | None:
        """The newest revision MediaWiki holds among the nearest such ancestors; None for a new page."""
        found: list[Base] = []
        queue, seen = deque(rev.parents), set(rev.parents)
        while queue and len(seen) <= MAX_ANCESTORS:
            try:
                parent = self.node.store.revision(queue.popleft())
            except NotFound:  # a shallow copy's missing parent
                continue
            base = self.known(parent)
            if base is not None:
                found.append(base)
                continue
            for grand in parent.parents:
                if grand not in seen:
                    seen.add(grand)
                    queue.append(grand)
        return max(found, key=lambda b: b.rev_id, default=None)

    def known(self, rev: RevInfo) -> Base | None:
        """The MediaWiki identity of one of our revisions: pulled from it, or pushed to it."""
        if rev.origin.get("site") == self.target.site and isinstance(rev.origin.get("rev_id"), int):
            return Base(rev.origin["rev_id"], format_timestamp(rev.ts))
        pushed = self.book.pushed(self.target.url, rev.id)
        return Base(pushed.rev_id, pushed.ts) if pushed else None

    def current(self, title: str) -> Base | None:
        """The page's current revision on MediaWiki; None when it has no such page."""
        answer = self.remote.get(action="query", prop="revisions", titles=title, rvprop="ids|timestamp")
        pages = answer.get("query", {}).get("pages") or []
        revisions = (pages[0].get("revisions") or []) if pages and isinstance(pages[0], dict) else []
        if not revisions or not isinstance(revisions[0], dict) or "revid" not in revisions[0]:
            return None
        return Base(int(revisions[0]["revid"]), str(revisions[0].get("timestamp", "")))

    def same_text(self, base: Base, current: Base) -> bool:
        """Whether MediaWiki holds the same text in both revisions (by its own SHA-1s)."""
        answer = self.remote.get(action="query", prop="revisions", revids=f"{base.rev_id}|{current.rev_id}",
                                 rvprop="ids|sha1")
        digests = {r.get("revid"): r.get("sha1") for p in answer.get("query", {}).get("pages") or []
                   if isinstance(p, dict) for r in p.get("revisions") or [] if isinstance(r, dict)}
        return digests.get(base.rev_id) is not None and digests.get(base.rev_id) == digests.get(current.rev_id)

    def carry_over(self, rev: RevInfo, title: str, current: Base) -> RevInfo:
        """A revision with ``rev``'s text on top of both ``rev`` and MediaWiki's ``current``, signed by the node."""
        theirs = self.node.store.origin_revision(self.target.site, current.rev_id)
        if theirs is None:
            raise MediaWikiError(self.target.url, f"its revision {current.rev_id} of {title!r} did not come in",
                                 "missingside")
        made = edit(self.node, self.target.wiki, title, self.node.store.revision_text(rev), rev.comment,
                    parents=(rev.cid, theirs), minor=rev.minor, key_name=NODE_KEY)
        return self.node.store.revision(made.rev)

    def refused(self, rev: RevInfo, title: str, base: Base | None, exc: MediaWikiError) -> bool:
        if exc.code in CONFLICTS:
            self.fetch_side(self.node, self.remote, self.target, title, base)
            self.result.conflicts.append((title, rev.cid_str))
            return True
        if exc.code in NOT_REFUSALS or not exc.code:
            raise exc
        info = exc.info or exc.problem
        self.book.record_refusal(self.target.url, rev.id, exc.code, info)
        self.result.refused.append((title, rev.cid_str, exc.code, info))
        if exc.code in WIKI_WIDE:
            self.result.stopped = f"{exc.code}: {info}"
            return False
        return True
