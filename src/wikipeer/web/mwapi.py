"""MediaWiki's ``api.php`` and ``index.php`` on the node: HTTP in, the API framework (mediawiki/api) out.

``/w/{wiki}/api.php`` answers GET and POST (form-encoded or multipart, within
the body bounds of web/bodylimit.py); ``/w/api.php`` when the node holds one
wiki (or ``serve --wiki`` named one). ``/w/{wiki}/index.php?title=T`` gives
``action=raw`` as MediaWiki does (``text/x-wiki``), and sends ``action=view``
and ``action=history`` to the node's own pages for that title.
"""

from __future__ import annotations

import socket
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from wikipeer.mediawiki.api import ApiCall, handle
from wikipeer.mediawiki.api.call import TokenCheck
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.store.revlists import revision_pages
from wikipeer.web.bodylimit import MAX_EDIT_TEXT
from wikipeer.web.errors import HttpError
from wikipeer.web.site import Site

MAX_API_FIELDS = 200
MAX_API_FILES = 1
SERVED_BY = socket.gethostname()


def mount(app: FastAPI, site: Site) -> None:
    """Add the api.php and index.php routes to the app."""

    @app.api_route("/w/api.php", methods=["GET", "POST"])
    async def api_single(request: Request) -> Response:
        return await api(site, request, only_wiki(site))

    @app.api_route("/w/{wiki}/api.php", methods=["GET", "POST"])
    async def api_wiki(request: Request, wiki: str) -> Response:
        return await api(site, request, wiki)

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


async def api(site: Site, request: Request, wiki: str) -> Response:
    """One api.php request, answered by the framework."""
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
    call = ApiCall(node=site.node, wiki=site.node.wiki_or_default(wiki), params=params, method=request.method,
                   account=visitor.account, user_name=site.author, check_token=token_check(site, request),
                   script_url=f"/w/{quote(wiki)}/api.php", page_url=f"/wiki/{quote(wiki)}/",
                   servedby=SERVED_BY, files=files)
    call.state["server"] = f"{request.url.scheme}://{request.url.netloc}"
    answer = handle(call)
    response = Response(answer.body, status_code=answer.status, media_type=answer.content_type,
                        headers=answer.headers)
    for name, value, max_age in answer.cookies:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax")
    return response


def token_check(site: Site, request: Request) -> TokenCheck | None:
    """How this request's ``token=`` is checked; None until accounts answer tokens (meta=tokens)."""
    return None


async def _form(request: Request):
    try:
        return await request.form(max_files=MAX_API_FILES, max_fields=MAX_API_FIELDS, max_part_size=MAX_EDIT_TEXT)
    except StarletteHTTPException as exc:
        raise HttpError(400, f"The request's body could not be read: {exc.detail}", "Bad request") from None


def index(site: Site, request: Request, wiki: str) -> Response:
    """index.php: ``action=raw`` as text, ``view`` and ``history`` sent to the node's page."""
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
        raise HttpError(404, f"There is no page {name.full!r} in the wiki {wiki!r} on this node.", "No such page")
    if oldid:
        if not oldid.isdigit() or revision_pages(store, [int(oldid)]).get(int(oldid)) != row.id:
            raise HttpError(404, f"Revision {oldid!r} is not a revision of {name.full!r} on this node.",
                            "No such revision")
        return store.revision_text(store.revision_by_id(int(oldid)))
    return store.revision_text(site.node.view().choose(store.heads(row.id)))
