"""Parser functions: ``{{#if:}}``, ``{{#switch:}}``, ``{{lc:}}`` and friends.

Each takes the expander, the caller's frame, the first argument (the text
after the colon, expanded and trimmed) and the other parts unexpanded, so a
function expands only the arguments it needs, as ParserFunctions does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import quote, unquote_plus

from wikipeer.model.title import WikiConfig
from wikipeer.render import (
    expr, interwiki, langtags, language_data, magic, magic_words, messages, plurals, specialpages, timefmt)
from wikipeer.render.names import page_name
from wikipeer.render.preprocess import ExtTag, Part, preprocess
from wikipeer.render.strip import MARK, MARKER
from wikipeer.render.tags import escape_attr, escape_text

Function = Callable[..., str]
_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*\Z")


_CHAR_REF = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _decoded(text: str) -> str:
    """Character references decoded once, as ParserFunctions decodes what it compares."""
    return _CHAR_REF.sub(lambda m: html.unescape(m.group(0)), text) if "&" in text else text


def _equal(a: str, b: str) -> bool:
    """PHP's loose ``==`` on two strings (character references decoded): numeric when both are numbers."""
    a, b = _decoded(a), _decoded(b)
    if _NUMBER.match(a) and _NUMBER.match(b):
        return float(a) == float(b)
    return a == b


def _if(exp, frame, first, parts):
    chosen = 0 if first.strip() else 1
    return exp.text(parts[chosen], frame) if len(parts) > chosen else ""


def _ifeq(exp, frame, first, parts):
    if not parts:
        return ""
    chosen = 1 if _equal(first, exp.text(parts[0], frame)) else 2
    return exp.text(parts[chosen], frame) if len(parts) > chosen else ""


def _iferror(exp, frame, first, parts):
    failed = 'class="error"' in first or any(marker in first for marker in exp.error_markers)
    if failed:
        return exp.text(parts[0], frame) if parts else ""
    return exp.text(parts[1], frame) if len(parts) > 1 else first


def _ifexist(exp, frame, first, parts):
    name = page_name(exp.ctx.config, first) if first else None
    found = False
    if name is not None and name.full:
        try:
            if name.ns == -2:  # Media: asks whether the file is held, not its description page
                found = exp.ctx.file(name.text) is not None
            else:
                found = name.full in exp.ctx.exists([name.full])
        except Exception:
            found = False
    chosen = 0 if found else 1
    return exp.text(parts[chosen], frame) if len(parts) > chosen else ""


def _switch(exp, frame, first, parts):
    found = False
    default: Part | None = None
    default_next = False
    last_plain: Part | None = None
    for part in parts:
        if part.eq >= 0:
            last_plain = None
            if found or default_next:
                if found:
                    return exp.expand(part.value_nodes(), frame).strip()
                default, default_next = part, False
                continue
            key = exp.expand(part.name_nodes(), frame).strip()
            if _equal(key, first):
                return exp.expand(part.value_nodes(), frame).strip()
            if key == "#default":
                default = part
        else:
            last_plain = part
            value = exp.text(part, frame)
            if _equal(value, first):
                found = True
            elif value == "#default":
                default_next = True
    if last_plain is not None:
        return exp.text(last_plain, frame)
    return exp.expand(default.value_nodes(), frame).strip() if default is not None else ""


def _tag(exp, frame, first, parts):
    name = first.lower()
    body: str | None = exp.text(parts[0], frame) if parts else None
    attrs = []
    for part in parts[1:]:
        if part.eq >= 0:
            key = exp.expand(part.name_nodes(), frame).strip()
            value = exp.expand(part.value_nodes(), frame).strip().strip("\"'")
            attrs.append(f' {key}="{value}"')
    from wikipeer.render import extensions
    from wikipeer.render.preprocess import EXT_TAGS
    if name in EXT_TAGS or name in exp.extra_tags:
        return extensions.render(exp, ExtTag(name, "".join(attrs), body, ""), frame, expanded=True)
    if body is None:
        return f"<{name}{''.join(attrs)} />"
    return f"<{name}{''.join(attrs)}>{body}</{name}>"


def _expr_error(exp, exc: expr.ExprError) -> str:
    """ParserFunctions' message for the error, in the wiki's language (our English words when it has none)."""
    text = messages.message(exc.key, exp.ctx.config.lang) if exc.key else None
    return exp.error(text.replace("$1", exc.arg) if text is not None else f"Expression error: {exc}")


def _expr(exp, frame, first, parts):
    try:
        return expr.format_number(expr.evaluate(first)) if first else ""
    except expr.ExprError as exc:
        return _expr_error(exp, exc)


def _ifexpr(exp, frame, first, parts):
    try:
        chosen = 0 if first and expr.evaluate(first) else 1
    except expr.ExprError as exc:
        return _expr_error(exp, exc)
    return exp.text(parts[chosen], frame) if len(parts) > chosen else ""


def _pad(left: bool):
    def pad(exp, frame, first, parts):
        try:
            width = min(int(exp.text(parts[0], frame)), 500) if parts else 0
        except ValueError:
            return first
        filler = MARKER.sub("", exp.text(parts[1], frame) if len(parts) > 1 else "") or "0"
        missing = width - len(first)
        if missing <= 0:
            return first
        fill = (filler * (missing // len(filler) + 1))[:missing]
        return fill + first if left else first + fill
    return pad


def _plural(exp, frame, first, parts):
    """``{{PLURAL:n|forms}}`` by the wiki language's plural rules (English's one/other without the data)."""
    forms = [exp.text(p, frame) for p in parts]
    if not forms:
        return ""
    language = language_data.language(exp.ctx.config.lang)
    if language.plural_rules is not None:
        return plurals.choose(language.plural_rules, language.parse_formatted(first), forms)
    try:
        one = float(first.replace(",", "")) == 1
    except ValueError:
        one = False
    return forms[0] if one or len(forms) == 1 else forms[1]


def _ns(exp, frame, first, parts):
    config = exp.ctx.config
    if first.lstrip("-").isdigit():
        return config.namespaces.get(int(first), "")
    from wikipeer.render.names import namespace_of
    number = namespace_of(config, first)
    return config.namespaces.get(number, "") if number is not None else ""


def _page_url(full: bool, escaped: bool = False) -> Function:
    """``{{localurl:page|query}}`` (``fullurl``, ``canonicalurl`` with the node's URL before it): the page's
    address on this node, the query after ``?``; the ``E`` forms HTML-escaped."""
    def function(exp, frame, first, parts):
        name = page_name(exp.ctx.config, first)
        if name is None or not name.full:
            return ""
        query = _arg(exp, frame, parts, 0)
        url = exp.ctx.href(name.full) + (("&" if "?" in exp.ctx.href(name.full) else "?") + query if query else "")
        if full and url.startswith("/") and not url.startswith("//"):
            url = exp.ctx.server + url
        return html.escape(url, quote=False) if escaped else url
    return function


def _filepath(exp, frame, first, parts):
    """``{{filepath:Name|width}}``: the full URL of a file this node holds (a thumbnail's with a width), else
    nothing, as MediaWiki for a missing file; ``nowiki`` as an argument is accepted and changes nothing here."""
    name = page_name(exp.ctx.config, first, 6)
    if name is None or not name.full or name.ns not in (6, -2):
        return ""
    meta = exp.ctx.file(name.text)
    if meta is None:
        return ""
    args = [_arg(exp, frame, parts, i).strip() for i in range(len(parts))]
    width = next((a.removesuffix("px") for a in args if a.removesuffix("px").isdigit()), None)
    url = meta.thumb.format(width=width) if width and meta.width and int(width) < meta.width else meta.url
    return exp.ctx.server + url if url.startswith("/") and not url.startswith("//") else url


def _titleparts(exp, frame, first, parts):
    pieces = first.split("/", 24)  # MediaWiki splits at most 25 parts
    try:
        count = int(exp.text(parts[0], frame)) if parts and exp.text(parts[0], frame) else 0
        start = int(exp.text(parts[1], frame)) if len(parts) > 1 and exp.text(parts[1], frame) else 1
    except ValueError:
        return first
    begin = start - 1 if start > 0 else max(len(pieces) + start, 0)
    chosen = pieces[begin:]
    if count > 0:
        chosen = chosen[:count]
    elif count < 0:
        chosen = chosen[:count]
    return "/".join(chosen)


def _invoke(exp, frame, first, parts):
    if exp.lua is None:
        from wikipeer.render.lua.engine import Engine  # the Lua runtime is made only for pages that use it
        exp.lua = Engine(exp)
    return exp.lua.invoke(first, parts, frame)


def _anchorencode(exp, frame, first, parts):
    return re.sub(r"\s+", "_", re.sub(r"<[^>]*>", "", first))


def _time(exp, frame, first, parts, local: bool = False):
    """``{{#time:format|date|language|local}}``: the date (the revision's time when none) in MediaWiki's
    format codes, in the named language (a code MediaWiki knows) or the wiki's; ``#timel`` (or a fourth
    argument) writes it in the wiki's time zone (WikiConfig.timezone; UTC when it has none)."""
    text = exp.text(parts[0], frame).strip() if parts else ""
    lang = exp.text(parts[1], frame).strip().lower() if len(parts) > 1 else ""
    local = local or (len(parts) > 2 and bool(exp.text(parts[2], frame).strip()))
    if re.fullmatch(r"\d{4}", text):  # ParserFunctions reads four digits as a year, not as HHMM
        text = "00:00 " + text
    when = _time_read(exp, text, local)
    if isinstance(when, str):
        return when
    return timefmt.format_time(first, when, _time_language(exp, lang))


def _timel(exp, frame, first, parts):
    return _time(exp, frame, first, parts, local=True)


def _time_read(exp, text: str, local: bool):
    """The moment ``text`` names, in the wiki's zone when ``local``, or the error #time writes (as a str)."""
    lang = exp.ctx.config.lang
    try:
        when = timefmt.parse_date(text, timefmt.at(exp.ctx.revision.timestamp))
    except timefmt.BadDate:
        return f'<strong class="error">{html.escape(messages.formatted("pfunc_time_error", lang=lang))}</strong>'
    return timefmt.in_zone(when, exp.ctx.config.timezone) if local else when


def _time_language(exp, lang: str) -> str:
    """The language named (a code MediaWiki knows), else the wiki's."""
    return lang if lang and language_data.language(lang).autonym else exp.ctx.config.lang


def _timef(exp, frame, first, parts, local: bool = False):
    """``{{#timef:date|both/date/time/pretty|language}}``: the date in the language's own date format
    (its ``dateFormats``, the default preference; ``pretty`` falls back to ``date``, as Language does)."""
    kind = _arg(exp, frame, parts, 0).lower() or "both"
    kind = kind if kind in ("both", "date", "time", "pretty") else "both"
    lang = _time_language(exp, _arg(exp, frame, parts, 1).lower())
    when = _time_read(exp, first.strip(), local)
    if isinstance(when, str):
        return when
    language = language_data.language(lang)
    fmt = language.date_format("default", kind) or (language.date_format("default", "date") if kind == "pretty"
                                                      else None) or _TIMEF_FORMATS[kind]
    return timefmt.format_time(fmt, when, lang)


def _timefl(exp, frame, first, parts):
    return _timef(exp, frame, first, parts, local=True)


# English's date formats (MessagesEn.php, its default "dmy"), for when the language data is not built
_TIMEF_FORMATS = {"both": "H:i, j F Y", "date": "j F Y", "time": "H:i", "pretty": "j F"}


def _formatdate(exp, frame, first, parts):
    preference = exp.text(parts[0], frame) if parts else ""
    formatted = timefmt.format_date(first, preference, exp.ctx.config.lang)
    return exp.state.strip.add(formatted) if formatted is not None else first


_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _formatnum(exp, frame, first, parts):
    """``{{formatnum:}}`` in the wiki's language: grouped, its separators and digits; ``R`` reads one back; ``NOSEP``."""
    options = {exp.text(part, frame).strip() for part in parts}
    language = language_data.language(exp.ctx.config.lang)
    if "R" in options:
        return language.parse_formatted(first)
    if not _PLAIN_NUMBER.fullmatch(first.strip()):
        return first
    number = first.strip()
    if len(number.lstrip("-").split(".")[0]) > 15:
        if "LOSSLESS" in options:
            return number  # grouping it would go through a double and change its digits
        number = f"{float(number):.0f}"  # beyond a double's precision, as MediaWiki's float conversion gives
    return language.format_num(number, separators="NOSEP" not in options)


def _language(exp, frame, first, parts):
    """``{{#language:code|in}}``: a language's name, in its own language unless another is named."""
    from wikipeer.render.lua.language import language_name
    target = exp.text(parts[0], frame).strip() if parts else ""
    code = first.strip().lower()
    return language_name(code, target or None) or code


def _grammar(exp, frame, first: str, parts: list[Part]) -> str:
    """``{{GRAMMAR:case|word}}``: the word in that case by the wiki's language's rules (unchanged without one)."""
    word = exp.text(parts[0], frame) if parts else ""
    return language_data.language(exp.ctx.config.lang).grammar(first.strip(), word)


def _int(exp, frame, first, parts):
    """``{{int:name|$1|...}}``: the wiki's message page MediaWiki:Name, else ⧼name⧽."""
    name = first.strip()
    body = exp.body(f"MediaWiki:{name[:1].upper()}{name[1:]}") if name else None
    if body is None:
        body = messages.message(name, exp.ctx.config.lang)
    if body is None:
        return f"⧼{escape_text(name)}⧽"
    for k, part in enumerate(parts, 1):
        body = body.replace(f"${k}", exp.text(part, frame))
    return exp.expand(preprocess(body, exp.extra_tags), frame)


def _rel2abs(exp, frame, first, parts):
    """``{{#rel2abs:path|base}}``: a relative page path resolved against the page (or ``base``)."""
    base = (exp.text(parts[0], frame).strip() if parts else "") or exp.ctx.title
    path = first.strip().rstrip(" /")
    if path in ("", "."):
        return base
    if not path.startswith(("/", "./", "../")) and path != "..":
        base = ""
    full = re.sub(r"/{2,}", "/", re.sub(r"/(?:\./)+", "/", f"/{base}/{path}/")).strip("/")
    stack: list[str] = []
    for piece in full.split("/"):
        if piece == "..":
            if not stack:
                return exp.error(messages.formatted("pfunc_rel2abs_invalid_depth", full, lang=exp.ctx.config.lang))
            stack.pop()
        else:
            stack.append(piece)
    return "/".join(stack)


# ---- ParserFunctions' string functions (ExtParserFunctions::runLen ... runExplode) ----

STRING_LIMIT = 1000  # $wgPFStringLengthLimit: longer strings give an error, as there
_INTEGER = re.compile(r"\s*-?\d+\s*\Z")


def _plain(text: str) -> str:
    """A string function's input: strip markers dropped (killMarkers), references left as written, as there."""
    return MARKER.sub("", text)


def _arg(exp, frame, parts, k: int) -> str:
    return exp.text(parts[k], frame).strip() if len(parts) > k else ""


def _too_long(text: str) -> str | None:
    if len(text) > STRING_LIMIT:
        return f'<strong class="error">String exceeds {STRING_LIMIT} character limit.</strong>'
    return None


def _int_arg(text: str, default: int = 0) -> int | None:
    """An integer argument, the default when empty, None when it is no integer."""
    if not text.strip():
        return default
    return int(text) if _INTEGER.match(text) else None


def _needle(text: str) -> str:
    return _plain(text) or " "  # an empty needle or delimiter is a space, as there


def _pos(exp, frame, first, parts):
    """``{{#pos:string|needle|offset}}``: where needle first occurs from offset, "" when nowhere."""
    text, needle = _plain(first), _needle(_arg(exp, frame, parts, 0))
    offset = _int_arg(_arg(exp, frame, parts, 1))
    if (error := _too_long(text)) is not None:
        return error
    if offset is None or offset > len(text):
        return ""
    found = text.find(needle, offset if offset >= 0 else max(len(text) + offset, 0))
    return str(found) if found >= 0 else ""


def _rpos(exp, frame, first, parts):
    """``{{#rpos:string|needle}}``: where needle last occurs, -1 when nowhere."""
    text, needle = _plain(first), _needle(_arg(exp, frame, parts, 0))
    if (error := _too_long(text)) is not None:
        return error
    return str(text.rfind(needle))


def _sub(exp, frame, first, parts):
    """``{{#sub:string|start|length}}``: PHP's mb_substr (negative start and length count from the end)."""
    text = _plain(first)
    start, length = _int_arg(_arg(exp, frame, parts, 0)), _int_arg(_arg(exp, frame, parts, 1), 0)
    if (error := _too_long(text)) is not None:
        return error
    if start is None or length is None:
        return ""
    begin = start if start >= 0 else max(len(text) + start, 0)
    if length == 0:
        return text[begin:]
    return text[begin:begin + length] if length > 0 else text[begin:length]


def _count(exp, frame, first, parts):
    """``{{#count:string|needle}}``: how often needle occurs."""
    text, needle = _plain(first), _needle(_arg(exp, frame, parts, 0))
    if (error := _too_long(text)) is not None:
        return error
    return str(text.count(needle))


def _replace(exp, frame, first, parts):
    """``{{#replace:string|search|replacement}}``: every occurrence replaced."""
    text, search = _plain(first), _needle(_arg(exp, frame, parts, 0))
    replacement = _plain(_arg(exp, frame, parts, 1))
    if (error := _too_long(text)) is not None:
        return error
    return text.replace(search, replacement)


def _explode(exp, frame, first, parts):
    """``{{#explode:string|delimiter|position|limit}}``: one piece (negative positions count from the end)."""
    text, delimiter = _plain(first), _needle(_arg(exp, frame, parts, 0))
    position, limit = _int_arg(_arg(exp, frame, parts, 1)), _int_arg(_arg(exp, frame, parts, 2), -1)
    if (error := _too_long(text)) is not None:
        return error
    if position is None or limit is None:
        return ""
    pieces = text.split(delimiter, limit - 1) if limit > 0 else text.split(delimiter)
    if limit < -1:
        pieces = pieces[:limit + 1]
    if position < 0:
        position += len(pieces)
    return pieces[position] if 0 <= position < len(pieces) else ""


def _urldecode(exp, frame, first, parts):
    """``{{#urldecode:}}``: PHP's urldecode (``+`` is a space)."""
    return unquote_plus(first)


# content model -> its English name (content-model-* messages)
_MODEL_NAMES = {"wikitext": "wikitext", "css": "CSS", "javascript": "JavaScript", "json": "JSON",
                "Scribunto": "Scribunto module"}


def content_model(config: WikiConfig, title: str) -> str:
    """The content model MediaWiki gives a page by its title (no page says otherwise here)."""
    name = page_name(config, title)
    if name is None:
        return "wikitext"
    if name.ns == 828 and not name.text.endswith("/doc"):
        return "Scribunto"
    if name.ns in (2, 8):  # user and site scripts and styles
        for suffix, model in ((".css", "css"), (".js", "javascript"), (".json", "json")):
            if name.text.endswith(suffix):
                return model
    return "wikitext"


def _contentmodel(exp, frame, first, parts):
    """``{{#contentmodel:local|canonical|title}}``: the page's content model, named or as its id."""
    title = _arg(exp, frame, parts, 0) or exp.ctx.title
    model = content_model(exp.ctx.config, title)
    return model if first.strip().lower() == "canonical" else _MODEL_NAMES.get(model, model)


def _special(exp, frame, first, parts):
    """``{{#special:RandomPage}}``: a special page's canonical title (Special:Random)."""
    name, _, sub = first.partition("/")
    canonical = specialpages.canonical(name) or (name.strip()[:1].upper() + name.strip()[1:])
    prefix = exp.ctx.config.namespaces.get(-1) or "Special"
    return f"{prefix}:{canonical}" + (f"/{sub}" if sub else "")


# the first strongly directional character: Hebrew, Arabic and their neighbours are right-to-left
_STRONG = re.compile(r"([A-Za-z\u00c0-\u02b8\u0370-\u058f\u0900-\u1fff\u2c00-\ufb1c])|([\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff])")


def _bidi(exp, frame, first, parts):
    """``{{bidi:text}}``: the text embedded in its own direction (Language::embedBidi)."""
    strong = _STRONG.search(first)
    if strong is None:
        return first
    return ("\u202a" if strong.group(1) else "\u202b") + first + "\u202c"


def _pagesize(exp, frame, first, parts):
    """``{{PAGESIZE:page|R}}``: the bytes of the page's wikitext as the node holds it, 0 when it has none."""
    name = page_name(exp.ctx.config, first)
    text = exp.body(name.full) if name is not None and name.full else None
    size = str(len(text.encode("utf-8"))) if text is not None else "0"
    raw = _arg(exp, frame, parts, 0).upper() == "R"
    return size if raw else f"{int(size):,}"


_ISBN = re.compile(r"(?:97[89][- ]?)?(?:[0-9][- ]?){9}[0-9Xx]\Z")


def _isbn(exp, frame, first, parts):
    """``{{#isbn:0-306-40615-2}}``: the ISBN magic link, written as a function (T413375); text when no ISBN."""
    number = first.strip()
    return f"ISBN {number}" if _ISBN.match(number) else escape_text(number)


def _clean_page(page: str) -> bool:
    """Whether a page name is one as written in a link: no blank or underscore at its ends, one line."""
    return "\n" not in page and page == page.strip(" _")


def _as_written(head: str, first: str, args: list[str]) -> str:
    """The call left as its text, as MediaWiki leaves a function that refuses its arguments."""
    return "{{" + "|".join([f"{head}:{first}", *args]) + "}}"


def _interwikilink(exp, frame, first, parts):
    """``{{#interwikilink:prefix|page|text}}``: a link to the other wiki even where a namespace has the
    prefix's name (MediaWiki 1.43)."""
    page, text = _arg(exp, frame, parts, 0), _arg(exp, frame, parts, 1)
    pattern = interwiki.pattern_for(exp.ctx.config, first)
    if pattern is None or not page:
        return ""
    if not _clean_page(page):
        return _as_written("#interwikilink", first, [exp.text(p, frame) for p in parts])
    name, _, fragment = page.partition("#")
    url = interwiki.interwiki_url(pattern, name.strip(), fragment.strip())
    title = f"{first}:{name.strip()}"
    shown = text or f"{first}:{page}"
    return exp.state.strip.add(f'<a href="{escape_attr(url)}" class="extiw" title="{escape_attr(title)}">'
                               f"{escape_text(shown)}</a>")


def _interlanguagelink(exp, frame, first, parts):
    """``{{#interlanguagelink:prefix|page}}``: a language link of the page, whatever the prefix (1.43)."""
    page = _arg(exp, frame, parts, 0)
    if not _clean_page(page):
        return _as_written("#interlanguagelink", first, [exp.text(p, frame) for p in parts])
    if page and interwiki.pattern_for(exp.ctx.config, first) is not None:
        exp.state.language_links[f"{first.strip().lower()}:{page}"] = None
    return ""


def _nothing(exp, frame, first, parts):
    return ""


def _first(transform: Callable[[str], str]) -> Function:
    return lambda exp, frame, first, parts: transform(first)


def _around_markers(transform: Callable[[str], str]) -> Function:
    """``transform`` applied to the text between strip markers, the markers kept (markerSkipCallback)."""
    def function(exp, frame, first, parts):
        pieces = MARKER.split(first)
        # split() gives text, kind, number, text...: markers are rebuilt from their kind and number
        out = [transform(pieces[0])]
        for k in range(1, len(pieces), 3):
            out.append(f"{MARK}UNIQ{pieces[k]}{pieces[k + 1]}QINU{MARK}")
            out.append(transform(pieces[k + 2]))
        return "".join(out)
    return function


def _urlencode(exp, frame, first, parts):
    """As PHP's urlencode (QUERY), wfUrlencode (WIKI) or rawurlencode (PATH); what strip markers hold is dropped."""
    text = MARKER.sub("", first)
    kind = exp.text(parts[0], frame).strip().upper() if parts else "QUERY"
    if kind == "WIKI":
        return quote(text.replace(" ", "_"), safe=";:@$!*(),/~")
    if kind == "PATH":
        return quote(text, safe="-_.~")
    return quote(text, safe="-_.").replace("%20", "+")


_FUNCTIONS: dict[str, Function] = {
    "#if": _if, "#ifeq": _ifeq, "#iferror": _iferror, "#ifexist": _ifexist, "#switch": _switch,
    "#tag": _tag, "#expr": _expr, "#ifexpr": _ifexpr, "#invoke": _invoke,
    "#titleparts": _titleparts, "#language": _language, "#property": _nothing,
    "#statements": _nothing, "#time": _time, "#timel": _timel, "#timef": _timef, "#timefl": _timefl, "#rel2abs": _rel2abs,
    "#formatdate": _formatdate, "#dateformat": _formatdate, "#dir": _first(langtags.direction),
    "#bcp47": _first(langtags.bcp47),
    "#len": _first(lambda s: str(len(_plain(s)))), "#urldecode": _urldecode, "#pos": _pos, "#rpos": _rpos,
    "#sub": _sub, "#count": _count, "#replace": _replace, "#explode": _explode,
    "lc": _around_markers(str.lower), "uc": _around_markers(str.upper),
    "lcfirst": _first(lambda s: s[:1].lower() + s[1:]), "ucfirst": _first(lambda s: s[:1].upper() + s[1:]),
    "urlencode": _urlencode,
    "anchorencode": _anchorencode, "formatnum": _formatnum, "padleft": _pad(True),
    "padright": _pad(False), "plural": _plural, "ns": _ns, "nse": _ns, "localurl": _page_url(False),
    "localurle": _page_url(False, True), "fullurl": _page_url(True), "fullurle": _page_url(True, True),
    "canonicalurl": _page_url(True), "canonicalurle": _page_url(True, True), "filepath": _filepath, "int": _int,
    "defaultsort": _nothing, "defaultsortkey": _nothing, "defaultcategorysort": _nothing,
    "displaytitle": _nothing, "gender": lambda exp, frame, first, parts: exp.text(parts[0], frame) if parts else "",
    "grammar": _grammar,
    "noexternallanglinks": _nothing, "#interwikilink": _interwikilink,
    "#interlanguagelink": _interlanguagelink,
    "#contentmodel": _contentmodel, "#special": _special, "#isbn": _isbn,
    "#speciale": lambda exp, frame, first, parts: magic.wiki_encode(_special(exp, frame, first, parts)),
    "bidi": _bidi, "pagesize": _pagesize,
    # a node has no page protection: MediaWiki's answer for an unprotected page
    "protectionlevel": _nothing, "protectionexpiry": lambda exp, frame, first, parts:
        "infinity" if first.strip().lower() in ("edit", "move", "upload", "create") else "",
    "cascadingsources": _nothing, "#babel": _nothing, "#target": _nothing,
}


WITHOUT_ARGUMENTS = frozenset({"#contentmodel"})  # functions that may be called with no colon at all


def lookup(head: str, lang: str = "en") -> Function | None:
    """The function ``{{head:...}}`` calls (``head`` in English or the wiki's ``lang``), or None when it is a template."""
    function = _FUNCTIONS.get(head.lower())
    if function is not None:
        return function
    if lang != "en":
        english = magic_words.english_function(lang, head) or magic_words.english_variable(lang, head)
        if english is not None:
            return lookup(english) or lookup("#" + english.lstrip("#"))
    if magic.has_variable(head):
        return lambda exp, frame, first, parts: magic.variable(exp.ctx, head, first) or ""
    return None
