"""What every page of the web interface shares: the node, templates, the visitor.

A ``Site`` is made once per app; a ``Visitor`` once per request (who is logged
in, and the CSRF token their forms carry).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from fastapi import Request
from starlette.datastructures import FormData
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from wikipeer.errors import UserError
from wikipeer.net.fetch import Finder, fetch_titles
from wikipeer.node import Node
from wikipeer.policy.view import View
from wikipeer.reading import WikiReader
from wikipeer.render.langtags import direction
from wikipeer.render.messages import formatted
from wikipeer.store.accounts import Account, Accounts, Session
from wikipeer.store.peers import PeerBook
from wikipeer.store.people import People, Shown, UserNames
from wikipeer.store.records import RevInfo
from wikipeer.urls import page_url
from wikipeer.web.badges import Badge, badges
from wikipeer.web.cookies import SESSION_COOKIE, VIEW_COOKIE, VISITOR_COOKIE
from wikipeer.web.errors import HttpError
from wikipeer.web.forms import field, read_form
from wikipeer.web.rendering import RenderCache


def text_direction(lang: str) -> str:
    """The wiki language's writing direction, as the renderer knows it (MediaWiki's language data)."""
    return direction(lang)


@pass_context
def message(context: Context, name: str, *params: str) -> str:
    """MediaWiki's message ``name`` in the page's language (``lang``: the wiki's), for templates' ``msg()``."""
    return formatted(name, *params, lang=context.get("lang") or "en")


def format_ts(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")


def safe_returnto(value: str | None) -> str:
    """A path on this site to go back to after a form, or "/"."""
    # Only paths on this site: never an open redirect to another host. Browsers read
    # "/\\host" as "//host", and ignore tabs and newlines in URLs, so those are refused too.
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return "/"
    return value


@dataclass(slots=True)
class Visitor:
    """Who is asking: an account or nobody, the cookie their CSRF token is bound to,
    and the view they read with (their own key always trusted, for themselves)."""

    account: Account | None
    cookie: str
    new_cookie: bool
    csrf: str
    view_name: str | None = None
    view: View | None = None
    session: Session | None = None  # the account's session: its bot password, if it was opened with one

    @property
    def may_edit(self) -> bool:
        """Logged in with the account's own password, or with a bot password granted editpage."""
        return self.session is not None and self.session.may("editpage")


class Site:
    """The shared state of one web app."""

    def __init__(self, node: Node, accounts: Accounts, default_wiki: str | None = None) -> None:
        self.node, self.accounts, self.default_wiki = node, accounts, default_wiki
        self.cache = RenderCache(node.dir / "cache.sqlite")
        self.people = People(node.keyring, node.store, node.dir)
        self.env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                               autoescape=select_autoescape(), trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(page_url=page_url, format_ts=format_ts, author=self.author)
        self.env.globals["msg"] = message  # interface messages by MediaWiki's key, in the page's language
        self.finder: Finder | None = None  # who else may hold a page (the DHT, under `serve --dht`)

    def has_peers(self) -> bool:
        return any(not p.banned for p in PeerBook(self.node.store).list())

    def fetch_page(self, wiki: str, title: str) -> bool:
        """Fetch a page a reader asked for from the node's peers, else from nodes the finder names; True if it came."""
        if not self.has_peers() and self.finder is None:
            return False
        try:
            return bool(fetch_titles(self.node, wiki, [title], finder=self.finder).pages)
        except UserError:
            return False

    def reader(self, wiki: str, request: Request | None = None) -> WikiReader:
        """The wiki as the renderer reads it; ``request`` tells the node's URL as this reader reached it ({{SERVER}})."""
        server = f"{request.url.scheme}://{request.url.netloc}" if request is not None else ""
        return WikiReader(self.node, self.node.wiki_or_default(wiki), server=server)

    def badges(self, rev: RevInfo, view: View | None = None) -> list[Badge]:
        return badges(rev, view or self.node.view(), self.people)

    def author(self, rev: RevInfo, view: View | None = None) -> Shown:
        """Who made a revision, as a reader with ``view`` sees it (store/people.py says how names are chosen)."""
        return self.people.author(rev, (view or self.node.view()).trusted)

    def key_name(self, key: str, view: View | None = None) -> str:
        """A key as readers know it: an account's or the key's local name, its profile's claim, else its fingerprint."""
        return self.people.label(key, key in (view or self.node.view()).trusted)

    def user_names(self, view: View | None = None) -> UserNames:
        """MediaWiki user names for keys (api.php answers): one per key, unique, valid."""
        return UserNames(self.people, (view or self.node.view()).trusted)

    def visitor(self, request: Request) -> Visitor:
        """Who is asking; worked out once per request."""
        cached = getattr(request.state, "visitor", None)
        if cached is not None:
            return cached
        request.state.visitor = visitor = self._visitor(request)
        self.people.refresh()  # names are looked up again once per request (every page asks who the visitor is)
        return visitor

    def _visitor(self, request: Request) -> Visitor:
        session = request.cookies.get(SESSION_COOKIE)
        opened = self.accounts.session_of(session)
        account = opened.account if opened else None
        if opened is not None:
            visitor = Visitor(account, session, False, self.accounts.csrf_token(session), session=opened)
        else:
            cookie = request.cookies.get(VISITOR_COOKIE)
            new = not cookie
            cookie = cookie or secrets.token_urlsafe(24)
            visitor = Visitor(None, cookie, new, self.accounts.csrf_token(cookie))
        visitor.view_name, visitor.view = self.view_for(request, account)
        return visitor


    async def posted(self, request: Request, max_part_size: int = 1024 * 1024,
                     account: bool = False, max_files: int = 0) -> tuple[FormData, Visitor]:
        """A posted form and who posted it, once its CSRF token is checked (403 otherwise).

        A form from a session that has since expired is told so (401), so the user knows to log in again.
        The checks that need no body come first, so a post that must fail is never read: a visitor
        with no cookie has no token that could match, and ``account`` forms need a logged-in user.
        """
        visitor = self.visitor(request)
        if visitor.new_cookie:
            self._refuse_form(request, visitor)
        if account and visitor.account is None:
            if request.cookies.get(SESSION_COOKIE):
                self._refuse_form(request, visitor)
            raise HttpError(401, "Log in to send this form: it acts with your account's key.", "Not logged in")
        form = await read_form(request, max_part_size, max_files)
        if not self.accounts.csrf_ok(visitor.cookie, field(form, "csrf")):
            self._refuse_form(request, visitor)
        return form, visitor

    def _refuse_form(self, request: Request, visitor: Visitor) -> NoReturn:
        if visitor.account is None and request.cookies.get(SESSION_COOKIE):
            raise HttpError(401, "Your session has expired. Log in again, then send the form again.",
                            "Session expired")
        raise HttpError(403, "The form's security token is missing or wrong. Reload the page and try again.",
                        "Form not accepted")

    def view_for(self, request: Request, account: Account | None) -> tuple[str | None, View]:
        """The view a reader chose (``?view=`` or the view cookie), else the node's default."""
        name = request.query_params.get("view") or request.cookies.get(VIEW_COOKIE) or None
        if name not in self.node.config.views:
            name = None
        view = self.node.view(name)
        if account is not None:  # a user's own edits are always authoritative for that user
            view = View(view.trusted | {self.node.keyring.get(account.key).public})
        return name or self.node.config.default_view, view

    def page(self, request: Request, template: str, status: int = 200, wiki: str | None = None,
             form: bool = False, **context) -> HTMLResponse:
        """An HTML page from ``template``, in the wiki's language and direction.

        ``form``: the page holds a form an anonymous visitor may post (log in),
        so a visitor cookie is set for its CSRF token. Other pages set none,
        which keeps them the same for every reader and so cacheable.
        """
        visitor = context.pop("visitor", None) or self.visitor(request)
        context.setdefault("author", lambda rev: self.author(rev, visitor.view))
        config = self.node.wiki_or_default(wiki) if wiki else None
        lang = config.lang if config else "en"
        html = self.env.get_template(template).render(
            request=request, visitor=visitor, wiki=wiki, config=config, lang=lang, dir=text_direction(lang),
            wikis=self.node.store.wikis(), views=sorted(self.node.config.views), **context)
        response = HTMLResponse(html, status_code=status)
        if form and visitor.new_cookie:
            response.set_cookie(VISITOR_COOKIE, visitor.cookie, httponly=True, samesite="lax")
        return response
