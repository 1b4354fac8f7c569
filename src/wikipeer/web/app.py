"""The web application: a read-only page per wiki page, for now."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from wikipeer.errors import WikipeerError
from wikipeer.node import Node, find_page
from wikipeer.web.wikitext import page_href, render

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())


def create_app(node: Node) -> FastAPI:
    """An app that reads ``node``'s store."""
    app = FastAPI(title="wikipeer", docs_url="/api/docs")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        wikis = [(w, len(node.store.pages(w))) for w in node.store.wikis()]
        return _templates.get_template("index.html").render(wikis=wikis)

    @app.get("/wiki/{wiki}")
    def main_page(wiki: str) -> RedirectResponse:
        return RedirectResponse(f"/wiki/{wiki}/Main_Page")

    @app.get("/wiki/{wiki}/{title:path}", response_class=HTMLResponse)
    def article(wiki: str, title: str) -> str:
        try:
            page = find_page(node, wiki, title)
        except WikipeerError as exc:
            raise HTTPException(404, str(exc)) from None
        heads = node.store.heads(page.id)
        head = node.view().choose(heads)
        config = node.wiki_or_default(wiki)
        body = render(node.store.revision_text(head), page_href(wiki)) if head else ""
        return _templates.get_template("page.html").render(
            wiki=wiki, title=config.full_title(page.ns, page.title), lang=config.lang,
            rev=head, trusted=bool(head and node.view().is_trusted(head)), heads=len(heads), body=body)

    return app
