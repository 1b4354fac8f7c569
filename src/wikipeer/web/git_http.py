"""git's smart HTTP protocol for a wiki: ``git clone http://HOST:PORT/git/{wiki}.git``.

``GET /git/{wiki}.git/info/refs?service=git-upload-pack`` first catches the
wiki's repository up with the store (gitpeer/repo.py), then advertises its
refs; ``POST /git/{wiki}.git/git-upload-pack`` answers the client's wants.
Both run ``git upload-pack --stateless-rpc`` when git is installed, its output
streamed (a clone is never held in memory): dulwich's pure-Python upload-pack
was 15x slower on a 16,747-commit repository (docs/git.md). Without git, dulwich's
handler answers, its output buffered. Requests git sends gzipped are
inflated, to a bound.

Pushes (``service=git-receive-pack``) go to the push routes given to
``router`` (web/git_push.py); without them, 403.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from dulwich.protocol import pkt_line
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from wikipeer.errors import InvalidObject, UserError
from wikipeer.gitpeer.repo import repo_path, wiki_repo
from wikipeer.model.objects import check_wiki_name
from wikipeer.net.ratelimit import Limits, RateLimited
from wikipeer.node import Node
from wikipeer.web.bodylimit import MAX_GIT_REQUEST

UPLOAD = "git-upload-pack"
RECEIVE = "git-receive-pack"
CHUNK = 1 << 16

class PushRoutes(Protocol):
    """The receive-pack side (web/git_push.py): the refs a push builds on, and the push itself."""

    async def refs(self, request: Request, name: str) -> Response: ...

    async def pack(self, request: Request, name: str) -> Response: ...


def router(node: Node, use_git: bool | None = None, limits: Limits | None = None,
           push: PushRoutes | None = None) -> APIRouter:
    """The git routes of ``node``; ``use_git`` None: the git binary when installed, else dulwich.

    ``limits``: each upload-pack request is charged to its client's ``git`` limit (none if None).
    ``push``: the receive-pack routes (None: pushes are refused with a pointer to other ways to edit)."""
    git = shutil.which("git") if use_git is not False else None
    if use_git and git is None:
        raise UserError("git is not installed: cannot serve with it")
    routes = APIRouter()

    @routes.get("/git/{name}.git/info/refs")
    async def info_refs(request: Request, name: str) -> Response:
        service = request.query_params.get("service", "")
        if service == RECEIVE:
            return await push.refs(request, name) if push else _push_refused(name)
        if service != UPLOAD:
            return _text(403, "this node speaks git's smart HTTP protocol only: use git 1.6.6 or newer "
                              f"(asked for service {service!r})")
        path = await _caught_up(node, name)
        if isinstance(path, Response):
            return path
        version = _protocol(request)
        # Protocol v2 starts with its capabilities, without the service line (as git http-backend answers).
        head = b"" if "version=2" in version.split(":") else pkt_line(b"# service=git-upload-pack\n") + pkt_line(None)
        if git:
            body = await _run_git(git, path, version, advertise=True, data=b"")
            return Response(head + b"".join([chunk async for chunk in body]), media_type=_media(UPLOAD, "advertisement"),
                            headers=_NO_CACHE)
        out = await run_in_threadpool(_dulwich_upload, path, b"", True)
        return Response(pkt_line(b"# service=git-upload-pack\n") + pkt_line(None) + out,
                        media_type=_media(UPLOAD, "advertisement"), headers=_NO_CACHE)

    @routes.post("/git/{name}.git/git-upload-pack")
    async def upload_pack(request: Request, name: str) -> Response:
        path = _known(node, name)
        if isinstance(path, Response):
            return path
        if limits is not None:
            try:
                limits.charge("git", request)
            except RateLimited as exc:
                return _text(exc.status, str(exc), {"Retry-After": exc.retry_after_header})
        try:
            data = _inflate(await request.body(), request.headers.get("content-encoding", ""))
        except ValueError as exc:
            return _text(400, str(exc))
        if git:
            return StreamingResponse(await _run_git(git, path, _protocol(request), advertise=False, data=data),
                                     media_type=_media(UPLOAD, "result"), headers=_NO_CACHE)
        out = await run_in_threadpool(_dulwich_upload, path, data, False)
        return Response(out, media_type=_media(UPLOAD, "result"), headers=_NO_CACHE)

    @routes.post("/git/{name}.git/git-receive-pack")
    async def receive_pack(request: Request, name: str) -> Response:
        return await push.pack(request, name) if push else _push_refused(name)

    return routes


_NO_CACHE = {"Cache-Control": "no-cache, max-age=0, must-revalidate", "Pragma": "no-cache"}


def _media(service: str, kind: str) -> str:
    return f"application/x-{service}-{kind}"


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    # git shows a text/plain error body to its user ("remote: ..."): the message must say what to do.
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def _protocol(request: Request) -> str:
    """The protocol version the client asked for (``version=2``), passed on to git as GIT_PROTOCOL."""
    value = request.headers.get("git-protocol", "")
    return value if value.replace("=", "").replace(":", "").replace("-", "").isalnum() else ""


def _push_refused(name: str) -> Response:
    return _text(403, f"this node takes no git push for {name!r} here: send edits with 'wikipeer edit', the web "
                      "page's edit form, or 'wikipeer sync --push' from your own node")


def _known(node: Node, name: str) -> Path | Response:
    """The repository of wiki ``name`` (not caught up), or a 404 naming the problem."""
    try:
        check_wiki_name(name)
    except InvalidObject as exc:
        return _text(404, str(exc))
    if name not in node.store.wikis():
        return _text(404, f"this node holds no wiki named {name!r}")
    return repo_path(node.dir, name)


async def _caught_up(node: Node, name: str) -> Path | Response:
    known = _known(node, name)
    if isinstance(known, Response):
        return known
    return await run_in_threadpool(wiki_repo, node, name)


def _inflate(body: bytes, encoding: str) -> bytes:
    """The request body, gunzipped when git sent it so, refusing more than MAX_GIT_REQUEST bytes."""
    if len(body) > MAX_GIT_REQUEST:
        raise ValueError(f"request of {len(body)} bytes is over the limit of {MAX_GIT_REQUEST}")
    if encoding.strip().lower() not in ("gzip", "x-gzip"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_GIT_REQUEST + 1)
    except zlib.error as exc:
        raise ValueError(f"the request says gzip but is not ({exc})") from None
    if len(data) > MAX_GIT_REQUEST:
        raise ValueError(f"request inflates to more than {MAX_GIT_REQUEST} bytes")
    return data


async def _run_git(git: str, path: Path, version: str, advertise: bool, data: bytes) -> AsyncIterator[bytes]:
    """``git upload-pack --stateless-rpc`` on ``path``, fed ``data``: its output, as it comes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    if version:
        env["GIT_PROTOCOL"] = version
    args = [git, "upload-pack", "--stateless-rpc", *(["--advertise-refs"] if advertise else []), str(path)]
    proc = await asyncio.create_subprocess_exec(*args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL, env=env)

    async def feed() -> None:
        assert proc.stdin is not None
        try:
            if data:
                proc.stdin.write(data)
                await proc.stdin.drain()
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            pass  # git stopped reading (its transport closed): its output says why

    feeding = asyncio.create_task(feed())

    async def output() -> AsyncIterator[bytes]:
        assert proc.stdout is not None
        try:
            while chunk := await proc.stdout.read(CHUNK):
                yield chunk
            await feeding
        finally:
            if proc.returncode is None:
                try:
                    proc.kill()  # the client went away mid-clone: stop git's work too
                except ProcessLookupError:
                    pass
            await proc.wait()

    return output()


def _dulwich_upload(path: Path, data: bytes, advertise: bool) -> bytes:
    """dulwich's upload-pack on ``path`` (used when git is not installed), its whole answer."""
    from dulwich.protocol import ReceivableProtocol
    from dulwich.repo import Repo
    from dulwich.server import DictBackend, UploadPackHandler

    out = io.BytesIO()
    with Repo(str(path)) as repo:
        proto = ReceivableProtocol(io.BytesIO(data).read, out.write)
        handler = UploadPackHandler(DictBackend({b"/": repo}), [b"/"], proto, stateless_rpc=True,
                                    advertise_refs=advertise)
        handler.handle()
    return out.getvalue()
