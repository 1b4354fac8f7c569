"""``git push`` over smart HTTP: receive-pack for a wiki's repository, behind HTTP Basic auth.

The accounts are the web page's (store/accounts.py), with the same login
back-off and hashing gate; a request without credentials gets 401 and
``WWW-Authenticate: Basic`` so git asks for them. The request body is spooled
to a file inside the repository's quarantine directory (bounded by
bodylimit's MAX_GIT_PUSH, gzip bodies inflated under the same bound) and
removed whatever happens, so a push cut off mid-transfer leaves nothing. One
push of a wiki at a time: the second waits, then builds on what the first took.
"""

from __future__ import annotations

import os
import tempfile
import threading
import zlib
from base64 import b64decode
from binascii import Error as Base64Error
from io import BytesIO
from pathlib import Path

from dulwich.protocol import Protocol, pkt_line
from dulwich.server import DictBackend
from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from wikipeer.errors import UserError
from wikipeer.gitpeer.push import push_taker
from wikipeer.gitpeer.receive import BODY_PREFIX, QUARANTINE, WikiReceivePack, sweep
from wikipeer.gitpeer.repo import catch_up, open_repo, repo_path, wiki_repo
from wikipeer.net.ratelimit import Limits, RateLimited, client_of
from wikipeer.node import require_wiki
from wikipeer.store.accounts import Account, LoginFailed, Session
from wikipeer.web.bodylimit import MAX_GIT_PUSH
from wikipeer.web.git_http import RECEIVE
from wikipeer.web.site import Site

MAX_PUSH_BODY = MAX_GIT_PUSH
"""Bytes of pack one push may send, after gzip too."""
_PUSH_LOCKS: dict[Path, threading.Lock] = {}
_GUARD = threading.Lock()


class BadBody(UserError):
    """A push body that inflates past the push bound (413), or says gzip and is not (400)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class PushRoutes:
    """The receive-pack routes web/git_http.py's router answers pushes with."""

    def __init__(self, site: Site, limits: Limits) -> None:
        self.site, self.limits = site, limits

    async def refs(self, request: Request, name: str) -> Response:
        """``GET info/refs?service=git-receive-pack``: the refs a push builds on, once the pusher logged in."""
        account = await _login(self.site, self.limits, request)
        if isinstance(account, Response):
            return account
        try:
            body = await run_in_threadpool(_advertise, self.site, name)
        except UserError as exc:
            return PlainTextResponse(str(exc) + "\n", status_code=404)
        return Response(body, media_type=f"application/x-{RECEIVE}-advertisement", headers=_NO_CACHE)

    async def pack(self, request: Request, name: str) -> Response:
        """``POST git-receive-pack``: the pushed commits become signed revisions; the report goes back to git."""
        account = await _login(self.site, self.limits, request)
        if isinstance(account, Response):
            return account
        try:
            require_wiki(self.site.node, name)
        except UserError as exc:
            return PlainTextResponse(str(exc) + "\n", status_code=404)
        try:
            body = await _spool(request, repo_path(self.site.node.dir, name) / QUARANTINE)
        except ClientDisconnect:
            return PlainTextResponse("the push was cut off before its end: nothing was taken\n", status_code=400)
        except BadBody as exc:
            return PlainTextResponse(str(exc) + "\n", status_code=exc.status)
        try:
            result = await run_in_threadpool(_receive, self.site, name, account, body)
        finally:
            body.unlink(missing_ok=True)
        return Response(result, media_type=f"application/x-{RECEIVE}-result", headers=_NO_CACHE)


_NO_CACHE = {"Cache-Control": "no-cache, max-age=0, must-revalidate"}


def _advertise(site: Site, wiki: str) -> bytes:
    repo = open_repo(wiki_repo(site.node, wiki))  # caught up: the refs a push builds on are the node's newest
    out = BytesIO()
    handler = WikiReceivePack(DictBackend({b"/": repo}), [b"/"], Protocol(BytesIO().read, out.write),
                              take=None, stateless_rpc=True, advertise_refs=True)
    handler.handle()
    return pkt_line(f"# service={RECEIVE}\n".encode()) + pkt_line(None) + out.getvalue()


def _receive(site: Site, wiki: str, account: Account, body: Path) -> bytes:
    """Run receive-pack over the spooled body, holding the wiki's push lock."""
    node, path = site.node, repo_path(site.node.dir, wiki)
    with _push_lock(path):
        sweep(path)
        repo = open_repo(wiki_repo(node, wiki))
        out = BytesIO()
        take = push_taker(node, wiki, account.key, repo.object_store, list(repo.get_refs().values()),
                          after=lambda: catch_up(node, wiki))
        with open(body, "rb") as source:
            handler = WikiReceivePack(DictBackend({b"/": repo}), [b"/"], Protocol(source.read, out.write),
                                      take=take, stateless_rpc=True)
            handler.handle()
        return out.getvalue()


def _push_lock(path: Path) -> threading.Lock:
    with _GUARD:
        return _PUSH_LOCKS.setdefault(path, threading.Lock())


async def _spool(request: Request, directory: Path) -> Path:
    """The request body in a file under ``directory`` (inflated if gzip); removed if the body does not come whole."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=BODY_PREFIX, dir=directory)
    path = Path(name)
    gzip = request.headers.get("content-encoding", "").strip().lower() in ("gzip", "x-gzip")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                try:
                    data = inflate.decompress(chunk, MAX_PUSH_BODY + 1 - written) if inflate else chunk
                except zlib.error as exc:
                    raise BadBody(f"the push says gzip but is not ({exc})", 400) from None
                written += len(data)
                if written > MAX_PUSH_BODY or (inflate and inflate.unconsumed_tail):
                    raise BadBody(f"the push is over {MAX_PUSH_BODY >> 20} MiB: push the commits in parts", 413)
                out.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def _login(site: Site, limits: Limits, request: Request) -> Account | Response:
    """The account the request's Basic credentials name, or the 401 (403, 429) to answer with.

    ``Name@Label`` with a bot password logs in as Name when that bot password was granted editpage.
    """
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return _unauthorized("Log in with your wikipeer account (its name and password) to push: "
                             "pushed edits are signed with your account's key.")
    try:
        name, sep, password = b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (Base64Error, UnicodeDecodeError, ValueError):
        name, sep, password = "", "", ""
    if not sep:
        return _unauthorized("Malformed Basic credentials: send NAME:PASSWORD.")
    client = client_of(request)
    check = site.accounts.check_bot_password if "@" in name else site.accounts.check_password
    try:
        limits.charge("login", request)
        limits.guard.admit(name.strip(), client)
        found = await limits.hashing.run(check, name, password)
    except RateLimited as exc:
        return PlainTextResponse(str(exc) + "\n", status_code=exc.status,
                                 headers={"Retry-After": exc.retry_after_header})
    except LoginFailed as exc:
        limits.guard.failed(name.strip(), client)
        return _unauthorized(f"{exc}: pushing needs this node's account name and password.")
    limits.guard.succeeded(name.strip())
    if isinstance(found, Session):
        if not found.may("editpage"):
            return PlainTextResponse(f"the bot password {name.strip()!r} may not edit: grant it editpage, "
                                     "or push with the account's own password\n", status_code=403)
        return found.account
    return found


def _unauthorized(message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=401,
                             headers={"WWW-Authenticate": 'Basic realm="wikipeer git", charset="UTF-8"'})
