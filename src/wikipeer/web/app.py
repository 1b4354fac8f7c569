"""The web application: routes, security headers and error pages.

Every response carries a Content-Security-Policy that forbids inline script
and anything from other hosts; page HTML has been through the sanitizer too,
so hostile wikitext meets two walls. Inline ``style`` attributes are allowed
(``style-src-attr``): articles' table and box colours live there, and the
sanitizer keeps only allow-listed properties with values that cannot fetch or
run anything; ``<style>`` elements stay forbidden (``style-src 'self'``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.requests import HTTPConnection
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wikipeer.errors import ServiceGone
from wikipeer.net.fetch import Finder
from wikipeer.net.ratelimit import Limits, RateLimited
from wikipeer.net.server import router as net_router
from wikipeer.node import Node
from wikipeer.store import engine_errors, hidden
from wikipeer.store.accounts import ACCOUNTS_FILE, DEFAULT_SESSION_SECONDS, Accounts
from wikipeer.store.store import StoreUnwritable, disk_problem
from wikipeer.media.thumbs import ThumbCache
from wikipeer.web import editing, git_http, git_push, media, mwapi, pages, special
from wikipeer.web.access_log import AccessLog, AccessLogFile
from wikipeer.web.bodylimit import BodyLimit
from wikipeer.web.cookies import SESSION_COOKIE, SecureCookies
from wikipeer.web.errors import HttpError, Missing
from wikipeer.web.fastpath import ArticleCache
from wikipeer.web.head import HeadAsGet
from wikipeer.web.last_resort import LastResort
from wikipeer.web.nul import RefuseNul
from wikipeer.web.site import Site

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every response (plain ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A response with its own policy (an SVG file's sandbox) keeps it instead of the page's.
                own = {name.lower() for name, _ in headers} & {b"content-security-policy"}
                message["headers"] = headers + [h for h in SECURITY_HEADERS if h[0] not in own]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FollowSettings:
    """Takes in the keys and settings another process changed (`wikipeer view default` ...) before a request.

    Node.follow_changes looks at most twice a second, so this costs nothing on most requests.
    """

    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app, self.node = app, node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.node.follow_changes()
        await self.app(scope, receive, send)


def create_app(node: Node, default_wiki: str | None = None,
               session_seconds: int = DEFAULT_SESSION_SECONDS, limits: Limits | None = None,
               cookie_secure: bool = False, access_log: AccessLogFile | None = None,
               finder: Finder | None = None) -> ASGIApp:
    """An app that reads and edits ``node``'s store.

    Outermost, HEAD runs as GET (so every GET route, the cache included,
    answers it) and request bodies are bounded before anything reads them.
    Then the whole-page cache: a cached article costs no routing and no
    middleware, and is replayed with the security headers it was first sent with.
    Around it all, LastResort turns anything that escaped into a 500 without
    closing the connection.
    ``limits``: the rate limits (default ones if None); ``cookie_secure``: every
    cookie gets the Secure flag, not only those of HTTPS requests;
    ``access_log``: a line per request goes there (web/access_log.py), outside
    everything, so it logs the status the client got. ``finder``: who beyond the peers may hold a page
    a reader asks for (the DHT).
    """
    limits = limits or Limits.from_rates()
    node.store.listen()  # the cache's token below asks no server on each view (store/postgres/listen.py)
    app = _routes(node, default_wiki, session_seconds, limits)
    app.state.site.finder = finder
    api = mwapi.ApiPath(app, app.state.site, limits)  # api.php beside the FastAPI app: it needs none of its machinery
    # A hide adds no block: its own count joins the token (`wikipeer hide` from another process included),
    # and so do keys and settings (a `key import` or `view default` may change what a page shows).
    cached = ArticleCache(SecurityHeaders(api), token=lambda: (node.store.last_seq(), node.settings_version(),
                                                               hidden.changes(node.store)))
    guarded = HeadAsGet(RefuseNul(BodyLimit(SecureCookies(cached, always=cookie_secure), headers=SECURITY_HEADERS),
                                  headers=SECURITY_HEADERS))
    outer = LastResort(FollowSettings(guarded, node), SECURITY_HEADERS)
    if access_log is None:
        return outer
    return AccessLog(outer, access_log, user=lambda scope: _account_name(app.state.site, scope))


def _account_name(site: Site, scope: Scope) -> str | None:
    """Who made a request, for the access log: the visitor the app worked out, else the session cookie's account."""
    visitor = scope.get("state", {}).get("visitor")
    if visitor is not None:
        return visitor.account.name if visitor.account else None
    session = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
    opened = site.accounts.session_of(session) if session else None
    return opened.account.name if opened else None


def _routes(node: Node, default_wiki: str | None, session_seconds: int, limits: Limits) -> FastAPI:
    site = Site(node, Accounts(node.dir / ACCOUNTS_FILE, node.keyring, session_seconds), default_wiki)
    app = FastAPI(title="wikipeer", docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    _error_pages(app, site)
    app.include_router(net_router(node, limits=limits))
    app.include_router(git_http.router(node, limits=limits, push=git_push.PushRoutes(site, limits)))
    mwapi.mount(app, site)
    app.state.site = site

    @app.get("/")
    def index(request: Request) -> Response:
        return special.index(site, request)

    @app.get("/search")
    def search(request: Request) -> Response:
        return special.search(site, request, limits)

    @app.get("/recent")
    def recent(request: Request) -> Response:
        return special.recent(site, request)

    @app.get("/status")
    def status(request: Request) -> Response:
        return special.status(site, request)

    @app.get("/random")
    def random_page(request: Request) -> Response:
        return special.random_page(site, request)

    @app.post("/fetch")
    async def fetch(request: Request) -> Response:
        return await special.fetch(site, request, limits)

    @app.get("/view")
    def choose_view(request: Request) -> Response:
        return special.choose_view(site, request)

    @app.post("/second")
    async def second(request: Request) -> Response:
        return await editing.second_revision(site, request)

    @app.get("/login")
    def login_form(request: Request) -> Response:
        return special.login_form(site, request)

    @app.post("/login")
    async def login(request: Request) -> Response:
        return await special.login(site, request, limits)

    @app.get("/register")
    def register_form(request: Request) -> Response:
        return special.login_form(site, request, register=True)

    @app.post("/register")
    async def register(request: Request) -> Response:
        return await special.login(site, request, limits, register=True)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        return await special.logout(site, request)

    thumbs = ThumbCache(node.dir / "thumbs")

    @app.get("/file/{wiki}/{name:path}")
    def file(request: Request, wiki: str, name: str) -> Response:
        return media.original(site, request, wiki, name)

    @app.get("/thumb/{wiki}/{width}/{name:path}")
    def thumb(request: Request, wiki: str, width: str, name: str) -> Response:
        return media.thumbnail(site, request, thumbs, wiki, width, name)

    @app.get("/upload")
    def upload_form(request: Request) -> Response:
        return media.upload_form(site, request)

    @app.post("/upload")
    async def upload(request: Request) -> Response:
        return await media.receive_upload(site, request)

    @app.get("/wiki/{wiki}")
    def main_page(wiki: str) -> Response:
        return special.main_page(site, wiki)

    @app.get("/wiki/{wiki}/{title:path}")
    def page(request: Request, wiki: str, title: str) -> Response:
        return _page(site, request, wiki, title)

    @app.post("/wiki/{wiki}/{title:path}")
    async def submit(request: Request, wiki: str, title: str) -> Response:
        return await editing.submit(site, request, wiki, title)

    return app


def _page(site: Site, request: Request, wiki: str, title: str) -> Response:
    """One URL, many views of a page, chosen by the query as in MediaWiki."""
    q = request.query_params
    action, oldid = q.get("action", "view"), q.get("oldid")
    if action == "edit":
        return editing.edit_form(site, request, wiki, title, oldid)
    view = site.visitor(request).view
    try:
        ref = pages.find(site, wiki, title, view)
    except Missing as exc:
        # A partial node fetches what its readers open, then keeps it.
        if action != "view" or not site.fetch_page(wiki, title):
            return pages.missing(site, request, wiki, title, exc)
        ref = pages.find(site, wiki, title, view)
    if q.get("diff"):
        return pages.diff(site, request, ref, q["diff"], oldid)
    views = {
        "view": lambda: pages.article(site, request, ref, oldid),
        "raw": lambda: pages.raw(site, ref, oldid),
        "history": lambda: pages.history(site, request, ref),
        "forks": lambda: pages.forks(site, request, ref),
        "merge": lambda: editing.merge_form(site, request, ref, q.get("a"), q.get("b")),
    }
    if action not in views:
        raise HttpError(400, f"Unknown action {action!r}: use one of {', '.join(sorted(views))} or edit.")
    return views[action]()


def _error_pages(app: FastAPI, site: Site) -> None:
    def error_page(request: Request, status: int, title: str, message: str,
                   suggestions: list[tuple[str, str]] | None = None) -> Response:
        return site.page(request, "error.html", status=status, heading=title, message=message, login=status == 401,
                         suggestions=suggestions or [])

    @app.exception_handler(HttpError)
    async def http_error(request: Request, exc: HttpError) -> Response:
        return error_page(request, exc.status, exc.title, exc.message, exc.suggestions)

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited) -> Response:
        response = error_page(request, exc.status, "Too many requests" if exc.status == 429 else "Busy", str(exc))
        response.headers["Retry-After"] = exc.retry_after_header
        return response

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "There is no such page on this node." if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, "Not found" if exc.status_code == 404 else "Error", message)

    def unwritable_page(request: Request, exc: StoreUnwritable) -> Response:
        # Not str(exc): it names files of the server, which are none of a visitor's business.
        cause = "disk is full" if exc.full else "disk failed to write"
        if request.url.path.startswith(("/rpc", "/api/")):  # a peer's program, not a person: JSON
            return JSONResponse({"error": f"this node's {cause}: nothing was stored; try again later"},
                                status_code=507)
        return error_page(request, 507, "Not saved", f"This node's {cause}, so nothing was saved. Pages can still "
                          "be read; try again once its operator has made room.")

    @app.exception_handler(StoreUnwritable)
    async def unwritable(request: Request, exc: StoreUnwritable) -> Response:
        return unwritable_page(request, exc)

    @app.exception_handler(ServiceGone)
    async def service_gone(request: Request, exc: ServiceGone) -> Response:
        # A store whose PostgreSQL server or bucket cannot be reached: the next request may well find it back.
        if request.url.path.startswith(("/rpc", "/api/")):
            return JSONResponse({"error": "this node's store cannot be reached: try again later"}, status_code=503)
        return error_page(request, 503, "Try again", "This node cannot reach its store just now; try again in a "
                          "moment.")

    @app.exception_handler(engine_errors.OperationalError)
    async def store_error(request: Request, exc: engine_errors.OperationalError) -> Response:
        # Writes outside the store's transactions (accounts, sessions) meet a full disk too.
        problem = disk_problem(exc, site.node.dir)
        if problem is not None:
            return unwritable_page(request, problem)
        if engine_errors.is_busy(exc):
            return error_page(request, 503, "Try again", "The node's store is busy; try again in a moment.")
        raise exc  # anything else is a bug: the server's 500

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, 400, "Bad request", "; ".join(str(e.get("msg")) for e in exc.errors()))
