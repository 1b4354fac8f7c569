"""Wikitext to safe HTML (pure: the wiki around the page comes in a RenderContext).

``render(text, ctx)`` never raises: what it cannot render shows as text, and
whatever it produces passes the allow-list sanitizer last.
"""

from __future__ import annotations

from wikipeer.render.context import Limits, RenderContext, Rendered
from wikipeer.render.remex import mark_fostered, p_wrap
from wikipeer.render.pipeline import clean_input, render_page, render_redirect
from wikipeer.render.sanitize import clean
from wikipeer.render.state import RenderState
from wikipeer.render.tags import escape_text

__all__ = ["Limits", "RenderContext", "Rendered", "render"]


def render(text: str, ctx: RenderContext) -> Rendered:
    """Render a page's wikitext to sanitised HTML with what the page declares."""
    state = RenderState(ctx)
    redirect = None
    page = False  # a page's body, wrapped in mw-parser-output once tidied
    try:
        text = clean_input(text)
        found = render_redirect(text, state)
        if found is not None:
            html, redirect = found
        else:
            html = render_page(text, state)
            page = True
    except Exception as exc:  # the contract: any input renders; a bug shows the text, not a 500
        state.error(f"The renderer failed on this page ({type(exc).__name__}: {exc}); it is shown as text")
        html = f'<pre class="render-failed">{escape_text(text)}</pre>'
    try:
        # after the sanitizer (its HTML5 parse gives the tree Remex would), and before the wrapper goes
        # round, as in MediaWiki: an author's stray </div> cannot close the wrapper
        html = p_wrap(clean(mark_fostered(html)))
        if page:
            html = f'<div class="mw-parser-output">{html}</div>'
    except Exception as exc:
        state.error(f"Sanitizer failed ({type(exc).__name__}); the page is shown as text")
        html = clean(f"<pre>{escape_text(text)}</pre>")
    return Rendered(
        html=html,
        categories=list(state.categories),
        templates=list(state.templates),
        redirect=redirect,
        errors=list(state.errors),
        language_links=list(state.language_links),
    )
