"""The order of the passes, MediaWiki's: expand, then tables, headings,
links, quotes, external links, TOC, paragraphs; then markers back, red
links filled, and the sanitizer last."""

from __future__ import annotations

import re

from wikipeer.render import magic, messages, variants
from wikipeer.render.blocks import block_levels
from wikipeer.render.expand import Expander
from wikipeer.render.extlinks import bare_urls, external_links
from wikipeer.render.headings import format_headings, headings
from wikipeer.render.links import internal_links, resolve_link_classes
from wikipeer.render.quotes import all_quotes
from wikipeer.render.redirect import redirect_target
from wikipeer.render.refs import Refs
from wikipeer.render.state import RenderState
from wikipeer.render.strip import BLOCK_PREFIX
from wikipeer.render.tables import tables
from wikipeer.render.tags import escape_attr, escape_text, sanitize_tags

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HR = re.compile(r"(^|\n)-{4,}")
# text after a rule on its line (``---- Foo``) is a paragraph, as MediaWiki's HTML tidying makes it
_TEXT_AFTER_HR = re.compile(r"(<hr />)([^\n]*\S[^\n]*)(?=\n|\Z)")
_BLOCK_TAG = re.compile(r"<(?:/?(?:p|div|table|ul|ol|dl|pre|h[1-6]|blockquote|center|tr|td|th|li|dd|dt)\b|hr)|"
                        + re.escape(BLOCK_PREFIX), re.I)


def _paragraph_after_rule(m: re.Match) -> str:
    rest = m.group(2)
    return m.group(0) if _BLOCK_TAG.search(rest) else f"{m.group(1)}<p>{rest}</p>"
# an empty list item (not dd or dt) is marked, as MediaWiki marks it, so skins can hide it
_EMPTY_ITEM = re.compile(r"<(li)>(\s*)</li>")


def clean_input(text: str) -> str:
    """Line ends as ``\\n`` and no control characters (they could fake our markers)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def render_page(text: str, state: RenderState) -> str:
    """HTML (not yet sanitised) of a page's wikitext; may set ``state.redirect``."""
    expander = Expander(state)
    refs = Refs(state.strip, state.ctx.config.lang)
    expander.refs = refs
    # a message's page: MediaWiki:Cite link label group-lower-alpha for cite_link_label_group-lower-alpha
    refs.wiki_message = lambda key: expander.body(f"MediaWiki:{key[:1].upper()}{key[1:]}".replace("_", " "))
    expanded = expander.expand_page(text)
    body = page_passes(expanded, state) + refs.leftovers()
    refs.inline = lambda note: note_passes(note, state)
    html = state.strip.unstrip(body)
    return resolve_link_classes(html, state)  # render() wraps it, once tidied, in mw-parser-output


def page_passes(text: str, state: RenderState) -> str:
    """Expanded wikitext to HTML with strip markers still in."""
    text = variants.unconvert(text, state.ctx.config.lang)
    text = magic.take_switches(text, state.switches, state.ctx.config.lang)
    text = sanitize_tags(text, state.strip.unstrip_finished)
    text = tables(text, state.strip.unstrip_finished)
    text = _HR.sub(r"\1<hr />", text) if "----" in text else text
    text = headings(text)
    text = inline_passes(text, state, sanitized=True)
    text = format_headings(text, state.switches, state.ctx.config.lang, state.ctx.fragment_mode,
                           state.ctx.max_toc_level, state.ctx.allow_toc)
    html = block_levels(text)
    if "<hr" in html:
        html = _TEXT_AFTER_HR.sub(_paragraph_after_rule, html)
    return _EMPTY_ITEM.sub(r'<\1 class="mw-empty-elt">\2</\1>', html)


def note_passes(text: str, state: RenderState) -> str:
    """A footnote's text: tables and inline markup, no paragraphs (MediaWiki's recursiveTagParse)."""
    unstrip = state.strip.unstrip_finished
    return inline_passes(tables(sanitize_tags(text, unstrip), unstrip), state, sanitized=True)


def inline_passes(text: str, state: RenderState, sanitized: bool = False) -> str:
    """Links, bold and italic, external links: what a footnote's text needs too."""
    if not sanitized:
        text = sanitize_tags(text)
    text = internal_links(text, state)
    text = all_quotes(text)
    text = external_links(text)
    return bare_urls(text, state.ctx.href)


def render_redirect(text: str, state: RenderState) -> tuple[str, str] | None:
    """(HTML, target) when the page is a redirect, else None."""
    target = redirect_target(state.ctx.config, text)
    if target is None:
        return None
    href = escape_attr(state.ctx.href(target.full))
    if target.fragment:
        href += "#" + escape_attr(target.fragment.replace(" ", "_"))
    html = (
        f'<div class="redirectMsg"><p>{escape_text(messages.message("redirectto", state.ctx.config.lang) or "")}</p>'
        '<ul class="redirectText"><li>'
        f'<a href="{href}" title="{escape_attr(target.full)}">{escape_text(target.full)}</a></li></ul></div>'
    )
    return html, target.full
