"""MediaWiki's ``api.php`` and ``index.php`` on the node: HTTP in, the API framework (mediawiki/api) out.

``/w/{wiki}/api.php`` answers GET and POST (form-encoded or multipart, within
the body bounds of web/bodylimit.py); ``/w/api.php`` when the node holds one
wiki (or ``serve --wiki`` named one). ``/w/{wiki}/index.php?title=T`` gives
``action=raw`` as MediaWiki does (``text/x-wiki``), and sends ``action=view``
and ``action=history`` to the node's own pages for that title.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

import anyio.from_thread

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from wikipeer.mediawiki.api import ApiCall, handle
from wikipeer.mediawiki.api.bounded import is_quick
from wikipeer.mediawiki.api.login import QUERY_NAMES
from wikipeer.mediawiki.api.session import ApiSession, Verifier, attach
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.net.ratelimit import Limits, client_of
from wikipeer.store import hidden
from wikipeer.store.accounts import LoginFailed
from wikipeer.store.nearest import unknown_wiki
from wikipeer.store.revlists import revision_pages
from wikipeer.web.bodylimit import MAX_EDIT_TEXT
from wikipeer.web.cookies import SESSION_COOKIE, VISITOR_COOKIE
from wikipeer.web.errors import HttpError
from wikipeer.web.missing import as_sentence, missing_page
from wikipeer.web.site import Site

MAX_API_FIELDS = 200
MAX_API_FILES = 1
SERVED_BY = socket.gethostname()


_API_PATH = re.compile(r"/w/(?:([^/]+)/)?api\.php\Z")


class ApiPath:
    """ASGI: api.php answered beside the FastAPI app, not through it.

    api.php needs none of FastAPI's routing, dependency or validation work, and
    bots send many small requests: going around it halves the time of a
    request. Anything but ``/w/api.php`` and ``/w/{wiki}/api.php`` goes on to the
    app, and so does ``/w/api.php`` when it does not name one wiki (the app
    answers that with its error page).
    """

    def __init__(self, app: ASGIApp, site: Site, limits: Limits) -> None:
        self.app, self.site, self.limits = app, site, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _API_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        wiki = unquote(match.group(1)) if match.group(1) else None
        if wiki is None:
            try:
                wiki = only_wiki(self.site)
            except HttpError:
                await self.app(scope, receive, send)
                return
        try:
            response = await api(self.site, Request(scope, receive), wiki, self.limits)
        except HttpError as exc:
            response = PlainTextResponse(exc.message, status_code=exc.status)
        await response(scope, receive, send)


def mount(app: FastAPI, site: Site) -> None:
    """Add index.php and the api.php routes that only answer errors (see ApiPath) to the app."""

    @app.api_route("/w/api.php", methods=["GET", "POST"])
    def api_single(request: Request) -> Response:
        only_wiki(site)  # raises the page that explains which URLs to use
        raise HttpError(404, "There is no such page on this node.", "Not found")

    @app.get("/w/index.php")
    def index_single(request: Request) -> Response:
        return index(site, request, only_wiki(site))

    @app.get("/w/{wiki}/index.php")
    def index_wiki(request: Request, wiki: str) -> Response:
        return index(site, request, wiki)


def only_wiki(site: Site) -> str:
    """The wiki ``/w/api.php`` means: the one ``serve --wiki`` named, else the node's only wiki."""
    if site.default_wiki:
        return site.default_wiki
    wikis = site.node.store.wikis()
    if len(wikis) != 1:
        listed = ", ".join(f"/w/{w}/api.php" for w in wikis) or "none yet"
        raise HttpError(404, f"This node holds {len(wikis)} wikis, so /w/api.php does not say which: use one of "
                             f"{listed}.", "Which wiki?")
    return wikis[0]


async def api(site: Site, request: Request, wiki: str, limits: Limits) -> Response:
    """One api.php request, answered by the framework; API logins count against ``limits`` as web logins do."""
    config = site.node.store.wiki_config(wiki)
    if config is None:  # a wiki with pages but no configuration is read with MediaWiki's defaults
        known_wiki(site, wiki)
        config = site.node.wiki_or_default(wiki)
    params = {k: v for k, v in request.query_params.multi_items()}
    files: dict[str, bytes] = {}
    if request.method == "POST":
        form = await _form(request)
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[name] = await value.read()
            else:
                params[name] = value
    visitor = site.visitor(request)
    session = api_session(site, request, limits)
    names = site.user_names(visitor.view)
    call = ApiCall(node=site.node, wiki=config, params=params, method=request.method,
                   account=visitor.account, is_bot=session.may("bot"),
                   user_name=lambda rev: names.name(rev.author) if rev.author else "anonymous",
                   check_token=session.check, script_url=f"/w/{quote(wiki)}/api.php",
                   page_url=f"/wiki/{quote(wiki)}/", servedby=SERVED_BY, files=files)
    call.state["server"] = f"{request.url.scheme}://{request.url.netloc}"
    call.state["client"] = request.client.host if request.client else "127.0.0.1"
    call.state[QUERY_NAMES] = frozenset(request.query_params.keys())
    attach(call, session)
    # In a worker thread, as FastAPI runs plain routes: a long answer (a search, a user's contributions
    # on a large wiki) or a login's password hashing must not hold up every other request on the event loop.
    # A request whose work is bounded small is answered here: the two thread switches cost as much as it.
    answer = handle(call) if is_quick(request.method, params) else await run_in_threadpool(handle, call)
    response = Response(answer.body, status_code=answer.status, media_type=answer.content_type,
                        headers=answer.headers)
    for name, value, max_age in answer.cookies:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax")
    _session_cookies(site, session, response)
    return response


def api_session(site: Site, request: Request, limits: Limits) -> ApiSession:
    """The caller's session from its cookies (the web page's own: one account system)."""
    visitor = site.visitor(request)
    return ApiSession(site.accounts, visitor.cookie, visitor.new_cookie, visitor.session, client_of(request),
                      verifier(limits, request))


def verifier(limits: Limits, request: Request) -> Verifier:
    """Password checks under the web login's limits: per-address rate, back-off, a bounded hashing gate."""
    client = client_of(request)

    def verify(name: str, check: Callable[..., Any], *args: Any) -> Any:
        limits.charge("login", request)
        limits.guard.admit(name.strip(), client)
        try:
            # The handler runs in a worker thread (see api()); the gate belongs to the event loop.
            result = anyio.from_thread.run(limits.hashing.run, check, *args)
        except LoginFailed:
            limits.guard.failed(name.strip(), client)
            raise
        limits.guard.succeeded(name.strip())
        return result

    return verify


def _session_cookies(site: Site, session: ApiSession, response: Response) -> None:
    """The cookies a login, a logout or a login token asked for."""
    if session.opened:
        response.set_cookie(SESSION_COOKIE, session.opened, httponly=True, samesite="lax",
                            max_age=site.accounts.session_seconds)
    elif session.closed:
        response.delete_cookie(SESSION_COOKIE)
    if session.visitor_used and session.new_cookie and not session.opened:
        response.set_cookie(VISITOR_COOKIE, session.cookie, httponly=True, samesite="lax")


def known_wiki(site: Site, wiki: str) -> None:
    """A 404 naming the node's wikis when it holds no wiki ``wiki`` (MediaWiki has no page at such a URL either)."""
    unknown = unknown_wiki(site.node.store, wiki)
    if unknown is not None:
        # The sentence every "no such wiki" says, and where a client finds the APIs of those it names.
        raise HttpError(404, as_sentence(f"{unknown.sentence} (each at /w/WIKI/api.php)"), "No such wiki",
                        [(w, f"/w/{quote(w)}/api.php") for w in unknown.near])


async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=MAX_API_FILES, max_fields=MAX_API_FIELDS, max_part_size=MAX_EDIT_TEXT)
    except StarletteHTTPException as exc:
        raise HttpError(400, f"The request's body could not be read: {exc.detail}", "Bad request") from None
    except MultiPartException as exc:
        # api.php is answered around FastAPI (ApiPath): with no app in the scope, Starlette raises the
        # parser's own error where a routed request would have had a 400.
        raise HttpError(400, f"The request's body could not be read: {exc.message}", "Bad request") from None


def index(site: Site, request: Request, wiki: str) -> Response:
    """index.php: ``action=raw`` as text, ``view`` and ``history`` sent to the node's page."""
    known_wiki(site, wiki)
    q = request.query_params
    title, action = q.get("title", ""), q.get("action", "view")
    if not title:
        raise HttpError(400, "index.php needs title=: the page to show.", "No title")
    url = f"/wiki/{quote(wiki)}/{quote(title.replace(' ', '_'))}"
    if action == "view":
        return RedirectResponse(url, status_code=301)
    if action == "history":
        return RedirectResponse(f"{url}?action=history", status_code=301)
    if action != "raw":
        raise HttpError(400, f"index.php on this node offers action=raw, view and history, not {action!r}.",
                        "Unknown action")
    return PlainTextResponse(raw_text(site, wiki, title, q.get("oldid")), media_type="text/x-wiki; charset=UTF-8")


def raw_text(site: Site, wiki: str, title: str, oldid: str | None) -> str:
    """The text of a page's current revision, or of revision ``oldid`` (an API revid) of it."""
    store = site.node.store
    try:
        name = normalize_title(site.node.wiki_or_default(wiki), title)
    except BadTitle as exc:
        raise HttpError(400, str(exc), "Bad title") from None
    row = store.page(wiki, name.ns, name.text)
    if row is None:
        raise missing_page(site, wiki, name)
    if oldid:
        if not oldid.isdigit() or revision_pages(store, [int(oldid)]).get(int(oldid)) != row.id:
            raise HttpError(404, f"Revision {oldid!r} is not a revision of {name.full!r} on this node.",
                            "No such revision")
        if hidden.is_hidden_item(store, int(oldid)):
            raise HttpError(404, f"Revision {oldid} of {name.full!r} was hidden on this node.", "Revision hidden")
        return store.revision_text(store.revision_by_id(int(oldid)))
    record = hidden.hidden(store, row.id)
    if record is not None:  # as MediaWiki answers for a deleted page, and as this node's own raw page does
        raise HttpError(404, f"The page {name.full!r} was {record.reason}.", "Page deleted")
    return store.revision_text(site.node.view().shown(store, row.id))
