"""The five methods of the inter-node API, answered from a node's store.

GUIDs are CIDs in their text form. Every object enters through ``submit``
and so through the one ingest door; nothing here writes to the store itself.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from wikipeer.errors import InvalidObject, NotFound, UserError
from wikipeer.ingest import ACCEPTED, CALLER, DUPLICATE, HELD, HeldLimit
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_to_str
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.net.criteria import evaluate
from wikipeer.net.params import INT_MAX, BadParam, cid, integer, list_of, one_of, optional, record, text
from wikipeer.net.rpc import APP_ERROR, INVALID_PARAMS, OVER_LIMIT, Call, Method, RpcError, params
from wikipeer.node import Node
from wikipeer.policy.view import View
from wikipeer.store.records import FileInfo, RevInfo

MAX_GUIDS = 1000
MAX_SUBMIT = 1000
MAX_CHANGES = 10_000


VIEW = optional(text(256))
RANGE = record(since=integer(0), until=integer(0), count=integer(0), after=cid)


class Api:
    """The methods, bound to one node. ``redirects(call)`` names peers that may answer better."""

    def __init__(self, node: Node, redirects: Callable[[Call], list[dict]] | None = None) -> None:
        self.node, self.store = node, node.store
        self.redirects = redirects or (lambda call: [])

    def methods(self) -> dict[str, Method]:
        return {"lookup": self.lookup, "changes": self.changes, "query": self.query,
                "search": self.search, "submit": self.submit}

    # -- lookup ----------------------------------------------------------

    def lookup(self, call: Call) -> str | None:
        """``lookup(name, type, view)``: a page ("wiki/Title") or the head ``view`` shows; null when not held."""
        name, kind, view = params(call, "name", "type", "view", defaults={"type": "page", "view": None},
                                  checks={"name": text(4096), "type": one_of("page", "head"), "view": VIEW})
        if "/" not in name:
            raise RpcError(INVALID_PARAMS, "lookup takes a name 'wiki/Full title' and a type 'page' or 'head'")
        wiki, title = name.split("/", 1)
        try:
            t = normalize_title(self.node.wiki_or_default(wiki), title)
        except BadTitle as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        page = self.store.page(wiki, t.ns, t.text)
        if page is None:
            call.redirect = self.redirects(call)
            return None
        if kind == "page":
            return cid_to_str(page.cid)
        head = self._view(view).shown(self.store, page.id)
        return head.cid_str if head else None

    def _view(self, name: str | None) -> View:
        """A view named by the caller (one of this node's views), else the node's default."""
        try:
            return self.node.view(name)
        except UserError as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None

    # -- changes ---------------------------------------------------------

    def changes(self, call: Call) -> list[list]:
        """``changes(guid, range)``: a page's revisions as [revision, [parents]], oldest first.

        range: ``{"since": ms, "until": ms}`` by time, ``{"count": n}`` the newest n,
        ``{"after": guid}`` those this node received after that revision.
        """
        guid, span = params(call, "guid", "range", defaults={"range": {}}, checks={"guid": cid, "range": RANGE})
        page = self._page_row(guid, call)
        revs = sorted(self.store.history(page.id), key=lambda r: (r.ts, r.id)) if page else []
        if "after" in span:
            after = self.store.object_id(span["after"])
            revs = [r for r in revs if after is not None and r.id > after]
        if "since" in span or "until" in span:
            since, until = span.get("since", 0), span.get("until", INT_MAX)
            revs = [r for r in revs if since <= r.ts <= until]
        count = span.get("count", MAX_CHANGES)
        revs = revs[-min(count, MAX_CHANGES):] if count else []
        return [[r.cid_str, [cid_to_str(p) for p in r.parents]] for r in revs]

    def _page_row(self, cid: bytes, call: Call):
        oid = self.store.object_id(cid)
        if oid is None:
            call.redirect = self.redirects(call)
            return None
        try:
            return self.store.page_by_id(oid)
        except NotFound:
            raise RpcError(INVALID_PARAMS, f"{cid_to_str(cid)} is not a page") from None

    # -- query -----------------------------------------------------------

    def query(self, call: Call) -> list[dict]:
        """``query(guids, properties, view)``: one dict per object held, with ``id``; "data" gives a text.

        A page's ``heads`` come best first in ``view`` (a view of this node; default: its default view).
        """
        guids, props, view = params(call, "guids", "properties", "view", defaults={"properties": [], "view": None},
                                    checks={"guids": list_of(cid, MAX_GUIDS), "properties": list_of(text(64), 64),
                                            "view": VIEW})
        out, missing = [], False
        for guid in guids:
            found = self._describe(guid, set(props), self._view(view))
            missing |= found is None
            if found is not None:
                out.append(found)
        if missing:
            call.redirect = self.redirects(call)
        return out

    def _describe(self, cid: bytes, props: set[str], view: View) -> dict | None:
        block = self.store.get_block(cid)
        if block is None:
            return None
        info: dict[str, Any] = {"id": cid_to_str(cid)}
        file = self.store.file_info(cid) if block.codec != 0x55 else None
        try:
            info.update(self._revision_props(self.store.revision(cid)))
            info["type"] = "rev"
        except NotFound:
            info.update(self._file_props(file) if file is not None else self._other_props(block, view))
        if "data" in props and info["type"] == "text":
            try:
                info["data"] = block.data.decode("utf-8")
            except UnicodeDecodeError:  # a file's chunk (a raw block too): ask for "block"
                pass
        if "block" in props:
            info["block"] = base64.b64encode(block.data).decode()
        if props - {"data", "block"}:
            info = {k: v for k, v in info.items() if k in props | {"id", "type"}}
        return info

    def _revision_props(self, rev: RevInfo) -> dict:
        return {"page": cid_to_str(self.store.page_by_id(rev.page).cid), "parents": [cid_to_str(p) for p in rev.parents],
                "text": cid_to_str(rev.text), "ts": rev.ts, "size": rev.size, "comment": rev.comment,
                "author": rev.author, "signatures": [{"key": s.key, "role": s.role, "id": cid_to_str(s.cid)}
                                                     for s in rev.sigs]}

    def _file_props(self, file: FileInfo) -> dict:
        """A file version: what a node that fetches it needs to ask for (its chunks, description, signatures)."""
        return {"type": "file", "page": cid_to_str(self.store.page_by_id(file.page).cid), "sha256": file.sha256,
                "size": file.size, "mime": file.mime, "ts": file.ts, "chunks": [cid_to_str(c) for c in file.chunks],
                "desc": cid_to_str(file.desc) if file.desc else None,
                "signatures": [{"key": s.key, "role": s.role, "id": cid_to_str(s.cid)} for s in file.sigs]}

    def _other_props(self, block: Block, view: View) -> dict:
        oid = self.store.object_id(block.cid)
        if block.codec == 0x55:
            return {"type": "text", "size": len(block.data)}
        try:
            page = self.store.page_by_id(oid)
        except NotFound:
            return {"type": "object", "size": len(block.data)}
        heads = [h.cid_str for h in view.ordered(self.store, page.id)]
        files = [f.cid_str for f in self.store.file_versions(page.id)]  # newest first: the shown one leads
        return {"type": "page", "wiki": page.wiki, "ns": page.ns, "title": page.title, "heads": heads, "files": files}

    # -- search ----------------------------------------------------------

    def search(self, call: Call) -> list[str]:
        """``search(criteria)``: GUIDs of the pages that match; see net/criteria.py for the form."""
        criteria, limit = params(call, "criteria", "limit", defaults={"limit": 100},
                                 checks={"limit": integer(1, MAX_GUIDS)})
        return [cid_to_str(c) for c in evaluate(self.store, criteria, limit)]

    # -- submit ----------------------------------------------------------

    def submit(self, call: Call) -> list:
        """``submit(objects)``: blocks as {"cid", "data" (base64)}; 0 for each accepted, else a reason."""
        (objects,) = params(call, "objects", checks={"objects": list_of(lambda o: o, MAX_SUBMIT)})
        blocks, early = [], {}
        for i, obj in enumerate(objects):
            try:
                blocks.append(_block(obj))
            except BadParam as exc:
                early[i] = f"object {i} is not {{cid, data (base64)}}: {exc}"
        try:
            report = self.node.ingest(blocks, call.caller or f"{CALLER}unknown")
        except HeldLimit as exc:
            raise RpcError(OVER_LIMIT, str(exc)) from None
        except InvalidObject as exc:
            raise RpcError(APP_ERROR, str(exc)) from None
        statuses = iter(report.statuses)
        answers = []
        for i in range(len(objects)):
            if i in early:
                answers.append(early[i])
                continue
            status = next(statuses)
            answers.append(0 if status.state in (ACCEPTED, DUPLICATE) else
                           f"held: {status.reason}" if status.state == HELD else status.reason or status.state)
        return answers


_BLOCK = record(cid=cid, data=text())


def _block(obj: Any) -> Block:
    """A submitted {"cid", "data" (base64)} as a block; BadParam when it is not one."""
    fields = _BLOCK(obj)
    if "cid" not in fields or "data" not in fields:
        raise BadParam("it needs both cid and data")
    try:
        data = base64.b64decode(fields["data"].encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise BadParam("data is not base64") from None
    return Block(fields["cid"], data)
