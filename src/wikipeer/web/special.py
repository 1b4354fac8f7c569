"""The node's own pages: main page, search, recent changes, status, random page, log in/out."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from markupsafe import Markup
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from wikipeer.errors import UserError
from wikipeer.net.fetch import DEFAULT_DEPTH, fetch_search
from wikipeer.net.ratelimit import FETCH_COST, Limits, RateLimited, client_of
from wikipeer.store import hidden
from wikipeer.store.indexer import reported_lag, search_off
from wikipeer.store.accounts import LoginFailed
from wikipeer.store.records import PageRow
from wikipeer.snippets import page_snippet, title_snippet
from wikipeer.web.cookies import SESSION_COOKIE, VIEW_COOKIE
from wikipeer.web.errors import HttpError
from wikipeer.web.forms import field
from wikipeer.urls import page_url
from wikipeer.model.title import main_page_title
from wikipeer.web.site import Site, safe_returnto

SEARCH_LIMIT = 50


def index(site: Site, request: Request) -> Response:
    wikis = site.node.store.wikis()
    wiki = site.default_wiki or (wikis[0] if len(wikis) == 1 else None)
    if wiki is not None:
        return main_page(site, wiki)
    return site.page(request, "index.html", counts=[(w, len(site.node.store.pages(w))) for w in wikis])


def main_page(site: Site, wiki: str) -> Response:
    title = main_page_title(site.node.wiki_or_default(wiki))
    return RedirectResponse(page_url(wiki, title), status_code=307)


def search(site: Site, request: Request, limits: Limits) -> Response:
    """The search page; it says when the index is behind (and by how much) and for which wikis search is off."""
    q = request.query_params.get("q", "").strip()
    wiki = request.query_params.get("wiki") or None
    store = site.node.store
    hits = []
    off = sorted(search_off(store))
    refused = (wiki in off) if wiki is not None else bool(off) and set(off) >= set(store.wikis())
    if q and not refused:
        limits.charge("search", request)  # the empty form costs nothing
        gone = hidden.hidden_pages(store)
        rows = [row for row, _ in store.search(q, limit=SEARCH_LIMIT if wiki is None else SEARCH_LIMIT * 4)
                if (wiki is None or row.wiki == wiki) and row.id not in gone][:SEARCH_LIMIT]
        hits = [_hit(site, row, q) for row in rows]
    return site.page(request, "search.html", form=True, wiki=wiki, q=q, hits=hits, peers=site.has_peers(),
                     fetched=request.query_params.get("fetched"), behind=reported_lag(store) if q else 0,
                     off=[wiki] if refused and wiki else off, refused=refused)


def _hit(site: Site, row: PageRow, q: str) -> dict:
    """A result as the page shows it: title and snippet escaped, the matches in ``<mark>`` (the only markup)."""
    config = site.node.wiki_or_default(row.wiki)
    title = title_snippet(config, row, q)
    return {"wiki": row.wiki, "title": title.text, "title_html": Markup(title.html()),
            "snippet": Markup(page_snippet(site.node, row, q).html())}


async def fetch(site: Site, request: Request, limits: Limits) -> Response:
    """The search page's "get the top N results" button: fetch them from peers, then search again."""
    form, _ = await site.posted(request)
    limits.charge("search", request, FETCH_COST)
    q = field(form, "q").strip()
    try:
        top = int(field(form, "top", "10"))
        result = await run_in_threadpool(fetch_search, site.node, q, top, DEFAULT_DEPTH)
    except (ValueError, UserError) as exc:
        raise HttpError(400, f"Nothing fetched: {exc}", "Fetch failed") from None
    return RedirectResponse(f"/search?q={quote(q)}&fetched={len(result.pages)}", status_code=303)


def recent(site: Site, request: Request) -> Response:
    wiki = request.query_params.get("wiki") or None
    try:
        limit = max(1, min(500, int(request.query_params.get("limit", 50))))
    except ValueError:
        raise HttpError(400, "limit must be a number") from None
    store = site.node.store
    lines = []
    for rev in store.recent(limit, wiki):
        row = store.page_by_id(rev.page)
        lines.append({"rev": rev, "wiki": row.wiki, "badges": site.badges(rev, site.visitor(request).view),
                      "title": site.node.wiki_or_default(row.wiki).full_title(row.ns, row.title)})
    return site.page(request, "recent.html", wiki=wiki, lines=lines)


def status(site: Site, request: Request) -> Response:
    store = site.node.store
    local = site.node.local_keys()
    identities = [{"name": i.name, "public": i.public, "local": i.public in local} for i in site.node.keyring.list()]
    return site.page(request, "status.html", counts=store.counts(), size=store.file_size(), seq=store.last_seq(),
                     identities=identities, accounts=len(site.accounts.list()), node_dir=str(site.node.dir))


def random_page(site: Site, request: Request) -> Response:
    wikis = site.node.store.wikis()
    wiki = request.query_params.get("wiki") or site.default_wiki or (wikis[0] if wikis else None)
    row = site.node.store.random_page(wiki) if wiki else None
    if row is None:
        raise HttpError(404, "This node holds no pages to pick from.", "No pages")
    return RedirectResponse(page_url(row.wiki, row.title), status_code=303)


def choose_view(site: Site, request: Request) -> Response:
    """Remember the view a reader chose (a cookie: views are readers' settings, never the store's)."""
    name = request.query_params.get("name", "")
    response = RedirectResponse(safe_returnto(request.query_params.get("returnto")), status_code=303)
    if name in site.node.config.views:
        response.set_cookie(VIEW_COOKIE, name, httponly=True, samesite="lax", max_age=365 * 24 * 3600)
    else:
        response.delete_cookie(VIEW_COOKIE)
    return response


def login_form(site: Site, request: Request, register: bool = False) -> Response:
    return site.page(request, "login.html", form=True, register=register, error=None,
                     returnto=safe_returnto(request.query_params.get("returnto")))


async def login(site: Site, request: Request, limits: Limits, register: bool = False) -> Response:
    """Log in or register; both are limited per address, logins also backed off per account."""
    form, _ = await site.posted(request)
    name, password = field(form, "name"), field(form, "password")
    returnto = safe_returnto(field(form, "returnto"))
    check = site.accounts.create if register else site.accounts.check_password
    client = client_of(request)
    try:
        limits.charge("login", request)
        if not register:
            limits.guard.admit(name.strip(), client)
        # Argon2id takes a while and 64 MiB: a few at once, in threads, keeping the loop free.
        account = await limits.hashing.run(check, name, password)
    except RateLimited as exc:
        response = site.page(request, "login.html", form=True, status=exc.status, register=register, error=str(exc),
                             returnto=returnto)
        response.headers["Retry-After"] = exc.retry_after_header
        return response
    except LoginFailed as exc:
        limits.guard.failed(name.strip(), client)
        return site.page(request, "login.html", form=True, status=401, register=False, error=str(exc), returnto=returnto)
    except UserError as exc:
        return site.page(request, "login.html", form=True, status=400, register=register, error=str(exc), returnto=returnto)
    if not register:
        limits.guard.succeeded(name.strip())
    response = RedirectResponse(returnto, status_code=303)
    response.set_cookie(SESSION_COOKIE, site.accounts.open_session(account), httponly=True, samesite="lax",
                        max_age=site.accounts.session_seconds)
    return response


async def logout(site: Site, request: Request) -> Response:
    await site.posted(request)
    site.accounts.close_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
