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
from urllib.parse import unquote

from wikipeer.render import files, interwiki, specialpages, subpages
from wikipeer.render.context import FileMeta
from wikipeer.render.headings import escape_id
from wikipeer.render.names import NS_CATEGORY, NS_FILE, NS_MEDIA, NS_SPECIAL, namespace_of
from wikipeer.render.state import LinkTarget, RenderState
from wikipeer.render.tags import escape_attr

_LINK = re.compile(r"([^\[\]|\n]+)(?:\|(.*?))?\]\](.*)\Z", re.S)
_BRACKETS = re.compile(r"\[\[|\]\]")
_RELATIVE = re.compile(r"\A\.\.?(?:/|\Z)|/\.\.?(?:/|\Z)")  # a relative path, which no title may be
_REFERENCE = re.compile(r"&(?:[A-Za-z0-9\x80-\U0010ffff]+|#\d+|#[xX][0-9a-fA-F]+);")
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
        if label and rest.startswith("]") and "[" in label:  # [[A|[b]]]: the first "]" belongs to the label
            label, rest = label + "]", rest[1:]
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


def _rstrip_before_line_end(out: list[str], after: str) -> None:
    """Take the blanks before a category or language link away when only blanks follow it on its line or
    they hold a line break (T2087); within a line of text they stay (T359886)."""
    before = "".join(out[-3:])
    # nothing after at all: another link follows at once, which decides for both
    line_rest_blank = bool(after) and not after.split("\n", 1)[0].strip()
    if line_rest_blank or "\n" in before[len(before.rstrip()):]:
        _rstrip(out)


def _rstrip(out: list[str]) -> None:
    while out and not out[-1].strip():
        out.pop()
    if out:
        out[-1] = out[-1].rstrip()


def _link(out: list[str], target: str, label: str | None, trail: str, rest: str, state: RenderState) -> None:
    ctx = state.ctx
    raw = html.unescape(target).strip()
    if _REFERENCE.search(raw):  # [[Foo &amp;amp; bar]]: a reference left after one decoding makes no title
        out.append("[[" + target + ("|" + label if label is not None else "") + "]]" + trail + rest)
        return
    if "%" in raw:  # MediaWiki decodes percent-escapes in a link's target ([[Guip%C3%BAzcoa]])
        raw = unquote(raw, errors="strict") if _decodes(raw) else raw
    as_typed = "[[" + target + ("|" + label if label is not None else "") + "]]" + trail + rest
    if subpages.is_relative(raw) and _has_subpages(state):
        resolved, shown = subpages.resolve(ctx.title, raw)
        if resolved != raw:
            if state.page_name(resolved) is None:  # [[../..]]: no title, so the text as typed
                out.append(as_typed)
                return
            label = label if label is not None else (shown if shown is not None else resolved)
            raw = target = resolved
    if _URL_START.match(raw):
        out.append("[[" + target + ("|" + label if label is not None else "") + "]]" + trail + rest)
        return
    colon = raw.startswith(":")
    name = raw[1:].strip() if colon else raw
    if colon and name.startswith(":"):  # [[::x]]: MediaWiki takes one colon off, and a title cannot start with one
        out.append("[[" + target + ("|" + label if label is not None else "") + "]]" + trail + rest)
        return
    # shown as written when no label: the target left-trimmed, less a leading colon (a local interwiki
    # prefix taken off, [[local:Foo]], still shows)
    written = target.lstrip(" ")[1:] if colon and target.lstrip(" ").startswith(":") else target.lstrip(" ")
    name, other = interwiki.split_target(ctx.config, name, lambda p: namespace_of(ctx.config, p) is not None)
    if other is not None and _RELATIVE.search(other.page):  # [[meatball:../x]]: no title MediaWiki takes
        out.append(as_typed)
        return
    if other is not None:
        inline = colon or other.via_local or not other.language or _is_talk(state)
        if not inline:
            state.language_links[f"{other.prefix}:{other.page}"] = None
            _rstrip_before_line_end(out, trail + rest)
            out.append("" if not (trail + rest).strip("\n") else trail + rest)
            return
        as_written = target.lstrip(" ")  # MediaWiki's text: the target left-trimmed, less its colon
        shown = label if label is not None else (as_written[1:] if colon else as_written)
        out.append(_external(other.url, shown + trail, other.title) + rest)
        return
    page = state.page_name(name)
    if page is None:
        out.append("[[" + target + ("|" + label if label is not None else "") + "]]" + trail + rest)
        return
    if page.ns == NS_CATEGORY and not colon:
        state.categories[page.text] = None
        _rstrip_before_line_end(out, trail + rest)
        out.append(trail + rest)
        return
    if page.ns == NS_MEDIA:  # with a leading colon too, as in MediaWiki
        out.append(_media_link(page.text, label if label is not None else name.strip(), state) + trail + rest)
        return
    if page.ns == NS_FILE and not colon:
        _file(out, page.text, label, state)
        out.append(trail + rest)
        return
    text = (label if label is not None else written) + trail
    out.append(_internal(page.full, page.fragment, text, state) + rest)


def _decodes(raw: str) -> bool:
    try:
        unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def _is_talk(state: RenderState) -> bool:
    """Whether the page is a talk page, where language prefixes make inline links (MediaWiki's $nottalk)."""
    own = state.page_name(state.ctx.title)
    return own is not None and own.ns > 0 and own.ns % 2 == 1


def _has_subpages(state: RenderState) -> bool:
    own = state.page_name(state.ctx.title)
    return own is not None and own.ns in state.ctx.subpage_namespaces


def _external(url: str, text: str, title: str) -> str:
    return f'<a href="{escape_attr(url)}" class="extiw" title="{escape_attr(title)}">{text}</a>'


def _internal(full: str, fragment: str, text: str, state: RenderState) -> str:
    """An ``<a>`` to a page of this wiki, or to a section of this page."""
    anchor = "#" + escape_attr(escape_id(fragment, state.ctx.fragment_mode)) if fragment else ""
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
                               ctx.href, ctx.thumb_width, state.strip.add, ctx.config.lang,
                               lambda other: _file_meta(other, state))
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
    """Fill the red-link placeholders: one ``exists`` call with every target.

    A special page exists when MediaWiki has it (the store holds none). A red
    link leads to the page to create, so it drops the section it named."""
    if not state.links:
        return text
    titles = list(dict.fromkeys(link.title for link in state.links))
    special = {t for t in titles if _is_special_page(t, state)}
    try:
        present = set(state.ctx.exists([t for t in titles if t not in special])) | special
    except Exception as exc:  # a failing store must not break the page: no red links then
        state.error(f"Could not check which pages exist: {exc}")
        present = set(titles)

    def fill(m: re.Match) -> str:
        link = state.links[int(m.group(3))]
        if link.title in present:
            return m.group(0)[: -len(link.placeholder)]
        href = m.group(1).split("#", 1)[0]
        return f'href="{href}" title="{m.group(2)}" class="new"'

    text = re.sub(f'href="([^"]*)" title="([^"]*)"{LINK_CLASS}(\\d+){LINK_CLASS}', fill, text)
    # a placeholder whose <a> a later pass wrote otherwise: the class alone
    return re.sub(f"{LINK_CLASS}(\\d+){LINK_CLASS}",
                  lambda m: "" if state.links[int(m.group(1))].title in present else ' class="new"', text)


def _is_special_page(title: str, state: RenderState) -> bool:
    name = state.page_name(title)
    return name is not None and name.ns == NS_SPECIAL and specialpages.canonical(name.text.split("/", 1)[0]) is not None
