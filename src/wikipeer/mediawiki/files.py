"""File versions from a MediaWiki peer: every version's imageinfo, its bytes downloaded, checked and taken.

The last step of a pull. The file pages a pull saw (file description pages
among the revisions, ``upload`` events in the log), with those left over
from earlier pulls, are asked for ``prop=imageinfo`` with every version
(``iilimit=max``, ``iiprop=url|sha1|size|mime|timestamp|user|comment``), 50
titles a request. Each version this node does not hold yet (same SHA-1, same
second) is downloaded from its ``url`` through the peer's RemoteWiki (same
pace, same bounds, loopback in tests), checked against MediaWiki's SHA-1,
and goes through the one door as a file version signed by this node (its
SHA-256 is recorded there, its type and size found in the bytes), oldest
first, each naming the description revision it was uploaded against.

A download whose bytes do not match (or that fails) refuses that file alone,
with a warning naming the file and the peer; its title stays in the list
kept in the store (``mw-files:URL``), so the next sync tries it again, and
the rest of the pull goes on. A title leaves the list only when all its
versions are here: a pull stopped half-way resumes where it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from wikipeer.errors import UserError
from wikipeer.formats.dump_convert import parse_timestamp
from wikipeer.ingest import ACCEPTED, REJECTED
from wikipeer.mediawiki.remote import MediaWikiError, RemoteWiki
from wikipeer.model.media import NS_FILE
from wikipeer.model.objects import Page
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title
from wikipeer.node import Node
from wikipeer.store.keyring import NODE_KEY
from wikipeer.uploading import file_blocks

if TYPE_CHECKING:
    from wikipeer.mediawiki.follow import PullResult

FILE_PROPS = "url|sha1|size|mime|timestamp|user|comment"
TITLES_PER_REQUEST = 50


def _key(url: str) -> str:
    return f"mw-files:{url}"


def pending(node: Node, url: str) -> set[str]:
    """The file titles of ``url`` whose versions are not all here yet."""
    return set(json.loads(node.store.meta(_key(url)) or "[]"))


def _keep(node: Node, url: str, titles: set[str]) -> None:
    node.store.set_meta(_key(url), json.dumps(sorted(titles), ensure_ascii=False))


def versions(remote: RemoteWiki, titles: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every version's imageinfo of each of ``titles`` (MediaWiki's order: newest first), continued as needed."""
    found: dict[str, list[dict[str, Any]]] = {}
    for batch in remote.query_all(prop="imageinfo", iiprop=FILE_PROPS, iilimit="max", titles="|".join(titles)):
        for entry in batch.query.get("pages") or []:
            if isinstance(entry, dict) and isinstance(entry.get("title"), str):
                infos = [i for i in entry.get("imageinfo") or [] if isinstance(i, dict)]
                found.setdefault(entry["title"], []).extend(infos)
    return found


class FilePuller:
    """Takes the file versions of one MediaWiki peer into the node."""

    def __init__(self, node: Node, remote: RemoteWiki, url: str, config: WikiConfig, site: str,
                 result: PullResult) -> None:
        self.node, self.remote, self.url, self.config, self.site = node, remote, url, config, site
        self.result = result
        self.key = node.keyring.signing_key(NODE_KEY, node.passphrase)
        self.node_key = node.keyring.get(NODE_KEY).public

    def pull(self, seen: Iterable[str]) -> None:
        """Take every version of the files in ``seen`` and of those left from earlier pulls."""
        todo = pending(self.node, self.url) | set(seen)
        _keep(self.node, self.url, todo)  # a pull killed from here on still knows what to fetch
        ordered = sorted(todo)
        for at in range(0, len(ordered), TITLES_PER_REQUEST):
            part = ordered[at:at + TITLES_PER_REQUEST]
            infos = versions(self.remote, part)
            for title in part:
                if self.take(title, infos.get(title, [])):
                    todo.discard(title)
                    _keep(self.node, self.url, todo)

    def take(self, title: str, infos: list[dict[str, Any]]) -> bool:
        """Take the versions of one file this node lacks, oldest first; False to try again next sync."""
        try:
            name = normalize_title(self.config, title)
        except BadTitle:
            return True
        row = self.node.store.page(self.config.name, name.ns, name.text)
        if name.ns != NS_FILE or row is None:
            return True  # a page this node does not follow (another namespace, or not pulled)
        held = {(f.sha1, f.ts) for f in self.node.store.file_versions(row.id)}
        history = self.node.store.history(row.id)
        for info in reversed(infos):
            if not isinstance(info.get("url"), str) or not isinstance(info.get("sha1"), str):
                continue  # a version hidden there (filehidden): nothing anyone may copy
            try:
                ts = parse_timestamp(str(info.get("timestamp", "")))
            except ValueError:
                self.refuse(title, f"its version has the malformed timestamp {info.get('timestamp')!r}")
                return False
            if (info["sha1"], ts) in held:
                continue
            if not self.take_version(title, name.text, info, ts, history):
                return False
        return True

    def take_version(self, title: str, name: str, info: dict[str, Any], ts: int, history: list) -> bool:
        try:
            data = self.remote.download(info["url"], self.node.policy().max_file)
        except MediaWikiError as exc:
            self.refuse(title, f"its download failed: {exc.problem}")
            return False
        self.result.files += 1
        sha1 = hashlib.sha1(data).hexdigest()  # noqa: S324 - MediaWiki's identity of the bytes, only compared
        if sha1 != info["sha1"].lower():
            self.refuse(title, f"the {len(data)} bytes downloaded from {info['url']} have the SHA-1 {sha1}, "
                               f"the wiki says {info['sha1']}")
            return False
        desc = [r.cid for r in sorted(history, key=lambda r: r.ts) if r.ts <= ts] or \
               [r.cid for r in sorted(history, key=lambda r: r.ts)]
        origin = {k: v for k, v in (("site", self.site), ("user", info.get("user")), ("src", info["url"]))
                  if isinstance(v, str) and v and len(v) <= 1024}
        comment = info.get("comment") if isinstance(info.get("comment"), str) else ""
        try:
            blocks = file_blocks(Page(self.config.name, NS_FILE, name), data, ts, self.key, self.node_key,
                                 comment[:4096], desc[-1] if desc else None, role="node", origin=origin)
        except UserError as exc:
            self.refuse(title, str(exc))
            return False
        report = self.node.ingest(blocks, f"mediawiki:{self.url}")
        status = next(s for s in report.statuses if s.cid == blocks[-2].cid)
        if status.state == REJECTED:
            self.refuse(title, f"refused by this node: {status.reason}")
            return False
        self.result.new_files += status.state == ACCEPTED
        return True

    def refuse(self, title: str, why: str) -> None:
        self.result.files_refused += 1
        self.result.warnings.append(f"file {title!r} from the MediaWiki at {self.url}: {why}; "
                                    "not taken, tried again at the next sync")
