"""Extension tags: ``<nowiki>``, ``<pre>``, ``<ref>``, ``<poem>``, ``<gallery>``...

Each becomes either finished HTML behind a strip marker (the later passes do
not touch it) or wikitext for the later passes (``<poem>``, ``<gallery>``).
Tags for things a node cannot do offline (maps, graphs, timelines, Lua
styles) render as nothing, as they have no text of their own.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from wikipeer.render import files
from wikipeer.render.file_options import parse_options
from wikipeer.render.names import NS_FILE, NS_MEDIA, namespace_of
from wikipeer.render.preprocess import ExtTag, include_filter, preprocess
from wikipeer.render.tags import escape_attr, escape_text, fix_attributes

# <pre>'s compatibility hack (CoreTagHooks::pre): a <nowiki>...</nowiki> pair inside gives its text; an
# unpaired one stays, as text
_NOWIKI_PAIR = re.compile(r"<nowiki>(.*?)</nowiki>", re.I | re.S)
_ATTR = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+)))?""")
_GALLERY_LINE = re.compile(r"^\s*([^|\n]+?)\s*(?:\|(.*))?$")


def attributes(raw: str) -> dict[str, str]:
    """The attributes of an extension tag, names lower-cased."""
    return {m.group(1).lower(): next((g for g in m.group(2, 3, 4) if g is not None), "")
            for m in _ATTR.finditer(raw)}  # a name alone (``<tag square>``) has the value "", as in MediaWiki


def render(exp, tag: ExtTag, frame, expanded: bool = False) -> str:
    """The replacement of ``tag`` in the expanded wikitext."""
    handler = _HANDLERS.get(tag.name)
    if handler is None and tag.name in exp.ctx.extension_tags:
        html = exp.ctx.extension_tags[tag.name](tag.body, attributes(tag.attrs))
        return exp.state.strip.add(html, block=True)
    return (handler or _nothing)(exp, tag, frame, expanded)


def _expand_body(exp, body: str, frame, expanded: bool) -> str:
    if expanded:
        return body
    return exp.expand(preprocess(include_filter(body, transcluded=False), exp.extra_tags), frame)


def _nowiki(exp, tag, frame, expanded):
    return exp.state.strip.add(escape_text(tag.body or ""), name="nowiki")


def _pre(exp, tag, frame, expanded):
    attrs = fix_attributes(tag.attrs, "pre")
    if attributes(tag.attrs).get("format", "").strip().lower() == "wikitext":
        # <pre format="wikitext"> (as {{#tag:pre|...|format="wikitext"}} writes it): its text is wikitext,
        # links, bold, tables and headings inside the box; the later passes see it as an author's <pre>
        return f"<pre{attrs}>{_expand_body(exp, tag.body or '', frame, expanded)}</pre>"
    body = _NOWIKI_PAIR.sub(r"\1", tag.body or "")
    body = body[1:] if body.startswith("\n") else body
    return exp.state.strip.add(f"<pre{attrs}>{escape_text(body)}</pre>", block=True, name="pre")


def _code(exp, tag, frame, expanded):
    body = (tag.body or "").strip("\n")
    if "inline" in tag.attrs.lower():
        return exp.state.strip.add(f'<code class="mw-highlight">{escape_text(body)}</code>', name=tag.name.lower())
    return exp.state.strip.add(f'<div class="mw-highlight"><pre>{escape_text(body)}</pre></div>', block=True,
                               name=tag.name.lower())


def _math(exp, tag, frame, expanded):
    body = (tag.body or "").strip()
    return exp.state.strip.add(f'<span class="texhtml mwe-math-fallback-source-inline">{escape_text(body)}</span>',
                               name=tag.name.lower())


def _hiero(exp, tag, frame, expanded):
    return exp.state.strip.add(f'<span class="hiero">{escape_text(tag.body or "")}</span>')


def _unframed(exp, frame):
    """The frame a note's text is expanded in: no template's arguments, as Cite parses it apart.

    MediaWiki gives ``<ref>`` and ``<references>`` their text unexpanded and
    parses it later on its own, so ``{{{1}}}`` in a template's ``<ref>``
    stays ``{{{1}}}`` (templates pass texts in with ``{{#tag:ref|...}}``).
    The calling frame stays the parent, so template loops are still seen.
    """
    from wikipeer.render.expand import Frame  # the expander runs extension tags: imported late

    return Frame(exp.ctx.title, frame, depth=frame.depth)


def _ref(exp, tag, frame, expanded):
    attrs = attributes(tag.attrs)
    nested = exp.in_note > 0
    exp.in_note += 1
    try:
        body = None if tag.body is None else _expand_body(exp, tag.body, _unframed(exp, frame), expanded)
    finally:
        exp.in_note -= 1
    if nested:  # Cite meets a ref inside a ref only when it lists the outer one: it is run then
        return exp.refs.nested(attrs, body)
    return exp.refs.ref(attrs, body)


def _references(exp, tag, frame, expanded):
    attrs = attributes(tag.attrs)
    refs = exp.refs
    error = refs.invalid_list_parameter(attrs)
    if error is not None:
        return error
    group = html.unescape(attrs.get("group", "")).strip()
    outer = refs.start_list(group)
    try:
        if expanded:  # {{#tag:references|...}}: its refs ran already, as marks; Cite runs them again
            refs.replay(tag.body or "")
        elif tag.body:  # list-defined references: the <ref name=...> inside give texts, not marks
            _expand_body(exp, tag.body, _unframed(exp, frame), expanded)
    finally:
        refs.end_list(outer)
    if outer is not None:  # a list inside a list's body only adds its definitions
        return ""
    if expanded:
        error = refs.holds_list(tag.body or "")
        if error is not None:
            return error
    return refs.references(group, attrs.get("responsive"))


def _poem(exp, tag, frame, expanded):
    body = _expand_body(exp, (tag.body or "").strip("\n"), frame, expanded)
    lines = body.split("\n")
    # Leading spaces keep their width instead of starting preformatted text.
    lines = [re.sub(r"^ +", lambda m: "&nbsp;" * len(m.group(0)), line) for line in lines]
    attrs = fix_attributes(tag.attrs, "div")
    return f'<div class="poem"{attrs}>\n<p>' + "<br />\n".join(lines) + "</p>\n</div>"


def _gallery(exp, tag, frame, expanded):
    """A gallery (traditional, nolines or packed), as MediaWiki marks it up: finished HTML, captions inline."""
    from wikipeer.render.pipeline import note_passes  # the pipeline runs extension tags: imported late

    attrs = attributes(tag.attrs)
    box = (_gallery_size(attrs.get("widths")), _gallery_size(attrs.get("heights")))
    # "nolines" draws no frame around each image, "packed" rows of one height; a slideshow is drawn traditionally
    mode = attrs.get("mode", "").strip().lower()
    mode = mode if mode in ("nolines", "packed", "packed-overlay", "packed-hover") else "traditional"
    nolines = mode == "nolines"
    ctx = exp.ctx
    items = []
    for line in (tag.body or "").split("\n"):
        m = _GALLERY_LINE.match(line)
        if not m or not m.group(1).strip():
            continue
        caption = _expand_body(exp, m.group(2) or "", frame, expanded)
        parts = split_outside_links(caption) if caption else []
        opts = parse_options(parts, ctx.config.lang, named_only=True)
        # "file &amp; file.jpg" and "file %26 file.jpg" name "File & file.jpg", as in MediaWiki
        name = unquote(html.unescape(m.group(1))).strip()
        head, colon, rest = name.partition(":")
        if colon and namespace_of(ctx.config, head) == NS_MEDIA:
            name = "File:" + rest.strip()
        page = exp.state.page_name(name, NS_FILE)  # one prefix read: "File:File:X" names "File:X" in File
        if page is None:
            continue
        meta = None
        if page.ns == NS_FILE:
            try:
                meta = ctx.file(page.text)
            except Exception as exc:  # a failing store must not break the page
                exp.state.error(f"Could not look up {page.full}: {exc}")
        # a redirect's target; a line outside the File namespace is a missing file of that name (MediaWiki's)
        shown_name = meta.name if meta is not None and meta.name else page.text
        full = ctx.config.full_title(NS_FILE, shown_name) if page.ns == NS_FILE else page.full
        text = note_passes(opts.caption, exp.state) if opts.caption else ""
        plain = files.plain_text(exp.state.strip.unstrip(text)) if text else ""
        if "showfilename" in attrs:  # the file's name above the caption, linking to its page
            text = (f'<a href="{escape_attr(ctx.href(full))}" class="galleryfilename galleryfilename-truncate" '
                    f'title="{escape_attr(full)}">{escape_text(shown_name)}</a>\n') + text
        packed = None
        if mode.startswith("packed") and meta is not None:
            packed = files.packed_gallery_image(full, meta, ctx.href(full), box[1], opts, plain, ctx.href)
        if packed is not None:
            image, div_width, shown = packed
            style, width = f"width: {files.php_float(div_width)}px;", files.php_float(div_width + 2)
            caption_div = f'<div class="gallerytext">{text}</div>'
            if mode != "packed":  # the overlay modes lay the caption over the image
                caption_div = (f'<div class="gallerytextwrapper" style="width: {shown - 20}px">{caption_div}\n'
                               "\t\t\t</div>")
        else:
            image, style = files.gallery_image(full, meta, ctx.href(full), ctx.upload_url(
                                               page.text if page.ns == NS_FILE else page.full), box, opts,
                                               plain, ctx.href, padding=0 if nolines else files.GALLERY_PADDING)
            width = str(box[0] + (5 if nolines else files.GALLERY_PADDING + 5))
            caption_div = f'<div class="gallerytext">{text}</div>'
        items.append(f'\t\t<li class="gallerybox" style="width: {width}px">\n'
                     f'\t\t\t<div class="thumb" style="{style}">{image}</div>\n'
                     f'\t\t\t{caption_div}\n\t\t</li>')
    caption = _expand_body(exp, attrs["caption"], frame, expanded) if attrs.get("caption") else ""
    caption = f'\t<li class="gallerycaption">{note_passes(caption, exp.state)}</li>\n' if caption else ""
    opening = _gallery_opening(tag.attrs, attrs, box[0], mode)
    gallery = opening + "\n" + caption + "".join(i + "\n" for i in items) + "</ul>"
    return exp.state.strip.add(gallery, block=True)


_CLASS_OR_STYLE = re.compile(r"""(?i)\b(?:class|style)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>/]+)""")


def _gallery_opening(raw: str, attrs: dict[str, str], width: int, mode: str) -> str:
    """The gallery's ``<ul>``: MediaWiki's classes after the author's, ``perrow`` as a maximum width
    before the author's style, and the author's other allowed attributes."""
    classes = " ".join(filter(None, [attrs.get("class", "").strip(), f"gallery mw-gallery-{mode}"]))
    styles = []
    perrow = re.match(r"^\s*(\d+)\s*$", attrs.get("perrow", ""))
    if perrow and int(perrow.group(1)) > 0:
        styles.append(f"max-width: {int(perrow.group(1)) * (width + files.GALLERY_PADDING + 13)}px;")
    author_style = fix_attributes(f'style="{html.escape(attrs.get("style", ""))}"', "div") if attrs.get("style") else ""
    if author_style:
        styles.append(html.unescape(author_style[len(' style="'):-1]))
    style = f' style="{escape_attr("".join(styles))}"' if styles else ""
    return f'<ul class="{escape_attr(classes)}"{style}{fix_attributes(_CLASS_OR_STYLE.sub("", raw), "ul")}>'


def _gallery_size(value: str | None) -> int:
    """A gallery's ``widths``/``heights`` in pixels (MediaWiki's 120 when absent or unreadable)."""
    m = re.match(r"^\s*(\d+)\s*(?:px)?\s*$", value or "")
    return min(max(int(m.group(1)), 10), 1000) if m else files.GALLERY_BOX


_WIKILINK = re.compile(r"\[\[|\]\]|\|")


def split_outside_links(text: str) -> list[str]:
    """``text`` cut at each ``|`` that is not inside ``[[...]]``."""
    return files.split_at_pipes(text, _WIKILINK, ("[[",))


def _imagemap(exp, tag, frame, expanded):
    for line in (tag.body or "").split("\n"):
        if line.strip():
            return "[[" + line.strip() + "]]"
    return ""


def _nothing(exp, tag, frame, expanded):
    return ""


_HANDLERS = {
    "nowiki": _nowiki, "pre": _pre, "source": _code, "syntaxhighlight": _code, "math": _math,
    "chem": _math, "ce": _math, "hiero": _hiero, "ref": _ref, "references": _references,
    "poem": _poem, "gallery": _gallery, "imagemap": _imagemap,
}
