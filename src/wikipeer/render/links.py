"""Internal links: ``[[Page|label]]trail``, categories, language links, files.

MediaWiki's ``handleInternalLinks``: the text is cut at each ``[[``; what
follows is a link when it has a valid target and a closing ``]]``, else it
stays text. Links to this wiki get ``ctx.href`` and a placeholder for the
red-link class, filled once all targets are known (one ``exists`` call per
page). Categories and language links leave the text and are returned with
the page.
"""

from __future__ import annotations

import html
import re

from wikipeer.render import files, interwiki, subpages
from wikipeer.render.context import FileMeta
from wikipeer.render.names import NS_CATEGORY, NS_FILE, NS_MEDIA, namespace_of
from wikipeer.render.state import LinkTarget, RenderState
from wikipeer.render.tags import escape_attr

_LINK = re.compile(r"([^\[\]|\n]+)(?:\|(.*?))?\]\](.*)\Z", re.S)
_BRACKETS = re.compile(r"\[\[|\]\]")
_URL_START = re.compile(r"(?:https?:|ftps?:|sftp:|irc:|ircs:|news:|nntp:|mailto:|//)", re.I)
LINK_CLASS = "\x1e"  # \x1eN\x1e in an <a>: the red-link class of link N, filled at the end
_TRAILS = {
    "en": r"[a-z]+", "vi": r"[a-zàáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]+",
    "uk": r"[a-zабвгґдеєжзиіїйклмнопрстуфхцчшщьюя’'“»]+", "ru": r"[a-zа-яё]+", "de": r"[a-zäöüß]+",
    "fr": r"[a-zàâçéèêîôûäëïöüùÇÉÂÊÎÔÛÄËÏÖÜÀÈÙ]+", "es": r"[a-záéíóúñ]+", "ja": r"(?!)", "mr": r"[\u0900-\u097F]+",
}
_MAX_JOIN = 8  # segments a file link's caption may span (nested links); bounds the rescans


def internal_links(text: str, state: RenderState) -> str:
    """``text`` with ``[[...]]`` links turned into HTML (or left as text)."""
    if "[[" not in text:
        return text
    segments = text.split("[[")
    out = [segments[0]]
    trail_re = re.compile(_TRAILS.get(state.ctx.config.lang, _TRAILS["en"]))
    i = 1
    while i < len(segments):
        segment = segments[i]
        i += 1
        if _is_file(segment, state):
            found = _balanced(segment, segments, i)
            if found is not None:
                inner, rest, i = found
                target, bar, label = inner.partition("|")
                _link(out, target, label if bar else None, "", rest, state)
                continue
        m = _LINK.match(segment)
        if m is None:
            out.append("[[" + segment)
            continue
        target, label, rest = m.group(1), m.group(2), m.group(3)
        if label is not None and label == "":
            out.append("[[" + segment)
            continue
        trail = ""
        tm = trail_re.match(rest) if rest else None
        if tm:
            trail, rest = tm.group(0), rest[tm.end():]
        _link(out, target, label, trail, rest, state)
    return "".join(out)


def _is_file(segment: str, state: RenderState) -> bool:
    head, sep, _ = segment.partition(":")
    # only File: links take links in their caption; a Media: link is an ordinary link (MediaWiki's)
    return bool(sep) and len(head) < 40 and namespace_of(state.ctx.config, head) == NS_FILE


def _balanced(segment: str, segments: list[str], i: int) -> tuple[str, str, int] | None:
    """(inside, after, next index) of a file link whose caption may hold ``[[links]]``."""
    joined, depth, end = segment, 1, i
    scanned = 0
    while True:
        for m in _BRACKETS.finditer(joined, scanned):
            depth += 1 if m.group(0) == "[[" else -1
            if depth == 0:
                return joined[: m.start()], joined[m.end():], end
        if end >= len(segments) or end - i >= _MAX_JOIN:
            return None
        scanned = len(joined)
        joined += "[[" + segments[end]  # the "[[" is counted by the next scan
        end += 1


def _rstrip(out: list[str]) -> None:
    while out and not out[-1].strip():
        out.pop()
    if out:
        out[-1] = out[-1].rstrip()


def _link(out: list[str], target: str, label: str | None, trail: str, rest: str, state: RenderState) -> None:
    ctx = state.ctx
    raw = html.unescape(target).strip()
    if subpages.is_relative(raw) and _has_subpages(state):
        resolved, shown = subpages.resolve(ctx.title, raw)
        if resolved != raw:
            label = label if label is not None else (shown if shown is not None else resolved)
            raw = target = resolved
    if _URL_START.match(raw):
        out.append("[[" + target + ("|" + label if label is not None else "") + "]]" + trail + rest)
        return
    colon = raw.startswith(":")
    name = raw[1:].strip() if colon else raw
    head, sep, tail = name.partition(":")
    prefix = head.strip().lower()
    if sep and namespace_of(ctx.config, prefix) is None:
        if prefix in interwiki.LANGUAGES:
            if not colon:
                state.language_links[f"{prefix}:{tail.strip()}"] = None
                _rstrip(out)
                out.append("" if not (trail + rest).strip("\n") else trail + rest)
                return
            url = interwiki.language_url(prefix, tail)
            out.append(_external(url, label or name, name) + trail + rest)
            return
        url = interwiki.project_url(prefix, tail, ctx.config.lang)
        if url is not None:
            out.append(_external(url, label or name, name) + trail + rest)
            return
    page = state.page_name(name)
    if page is None:
        out.append("[[" + target + ("|" + label if label is not None else "") + "]]" + trail + rest)
        return
    if page.ns == NS_CATEGORY and not colon:
        state.categories[page.text] = None
        _rstrip(out)
        out.append(trail + rest)
        return
    if page.ns == NS_MEDIA:  # with a leading colon too, as in MediaWiki
        out.append(_media_link(page.text, label if label is not None else name.strip(), state) + trail + rest)
        return
    if page.ns == NS_FILE and not colon:
        _file(out, page.text, label, state)
        out.append(trail + rest)
        return
    text = (label if label is not None else name) + trail
    out.append(_internal(page.full, page.fragment, text, state) + rest)


def _has_subpages(state: RenderState) -> bool:
    own = state.page_name(state.ctx.title)
    return own is not None and own.ns in state.ctx.subpage_namespaces


def _external(url: str, text: str, title: str) -> str:
    return f'<a href="{escape_attr(url)}" class="extiw" title="{escape_attr(title)}">{text}</a>'


def _internal(full: str, fragment: str, text: str, state: RenderState) -> str:
    """An ``<a>`` to a page of this wiki, or to a section of this page."""
    anchor = "#" + escape_attr(fragment.replace(" ", "_")) if fragment else ""
    if not full:
        return f'<a href="{anchor}">{text}</a>'
    if full == state.ctx.title:
        if fragment:  # a section of this page: a plain in-page link (MediaWiki's mw-selflink-fragment)
            return f'<a class="mw-selflink-fragment" href="{anchor}">{text}</a>'
        return f'<a class="mw-selflink selflink">{text}</a>'
    return _open_link(full, anchor, state) + text + "</a>"


def _open_link(full: str, anchor: str, state: RenderState) -> str:
    index = len(state.links)
    placeholder = f"{LINK_CLASS}{index}{LINK_CLASS}"
    state.links.append(LinkTarget(full, placeholder))
    href = escape_attr(state.ctx.href(full)) + anchor
    return f'<a href="{href}" title="{escape_attr(full)}"{placeholder}>'


def _file(out: list[str], name: str, label: str | None, state: RenderState) -> None:
    """An image: finished HTML behind a strip marker, the caption left for the later passes."""
    ctx = state.ctx
    options = split_outside_links(internal_links(label, state)) if label else []
    full = ctx.config.full_title(NS_FILE, name)
    meta = _file_meta(name, state)
    page = ctx.config.full_title(NS_FILE, meta.name) if meta and meta.name else full  # a redirect's target
    html_, _ = files.file_link(full, options, meta, ctx.href(page), ctx.upload_url(name),
                               ctx.href, ctx.thumb_width, state.strip.add, lambda other: _file_meta(other, state))
    out.append(html_)


def _file_meta(name: str, state: RenderState) -> FileMeta | None:
    """The file as the node holds it, or None; a failing lookup shows the file as missing."""
    try:
        return state.ctx.file(name)
    except Exception as exc:  # a failing store must not break the page
        state.error(f"Could not look up File:{name}: {exc}")
        return None


def _media_link(name: str, text: str, state: RenderState) -> str:
    """``[[Media:X.jpg]]``: a link straight to the file's bytes (or to upload it); ``text`` is the label,
    or the target as written (``Media:No_such file.jpg`` stays so, as in MediaWiki)."""
    meta = _file_meta(name, state)
    if meta is None:
        href = state.ctx.upload_url(name)
        return f'<a href="{escape_attr(href)}" class="new" title="{escape_attr(name)}">{text}</a>'
    return f'<a href="{escape_attr(meta.url)}" class="internal" title="{escape_attr(meta.name or name)}">{text}</a>'


_LINK_OR_BRACKET = re.compile(r"<a\b|</a>|\[|\]|\|")


def split_outside_links(text: str) -> list[str]:
    """``text`` cut at each ``|`` that is not inside an ``<a>`` made of a link or an external link's
    brackets (MediaWiki's delimiterExplode in makeImage)."""
    return files.split_at_pipes(text, _LINK_OR_BRACKET, ("<a", "["))


def resolve_link_classes(text: str, state: RenderState) -> str:
    """Fill the red-link placeholders: one ``exists`` call with every target."""
    if not state.links:
        return text
    titles = list(dict.fromkeys(link.title for link in state.links))
    try:
        present = set(state.ctx.exists(titles))
    except Exception as exc:  # a failing store must not break the page: no red links then
        state.error(f"Could not check which pages exist: {exc}")
        present = set(titles)

    def fill(m: re.Match) -> str:
        link = state.links[int(m.group(1))]
        return "" if link.title in present else ' class="new"'

    return re.sub(f"{LINK_CLASS}(\\d+){LINK_CLASS}", fill, text)
