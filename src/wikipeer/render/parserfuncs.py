"""Parser functions: ``{{#if:}}``, ``{{#switch:}}``, ``{{lc:}}`` and friends.

Each takes the expander, the caller's frame, the first argument (the text
after the colon, expanded and trimmed) and the other parts unexpanded, so a
function expands only the arguments it needs, as ParserFunctions does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import quote

from wikipeer.render import expr, langtags, magic, messages, timefmt
from wikipeer.render.names import page_name
from wikipeer.render.preprocess import ExtTag, Part, preprocess
from wikipeer.render.strip import MARK, MARKER
from wikipeer.render.tags import escape_text

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


def _expr(exp, frame, first, parts):
    try:
        return expr.format_number(expr.evaluate(first)) if first else ""
    except expr.ExprError as exc:
        return exp.error(f"Expression error: {exc}")


def _ifexpr(exp, frame, first, parts):
    try:
        chosen = 0 if first and expr.evaluate(first) else 1
    except expr.ExprError as exc:
        return exp.error(f"Expression error: {exc}")
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
    forms = [exp.text(p, frame) for p in parts]
    if not forms:
        return ""
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


def _url(exp, frame, first, parts):
    name = page_name(exp.ctx.config, first)
    return exp.ctx.href(name.full) if name is not None and name.full else ""


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


def _time(exp, frame, first, parts):
    """``{{#time:format|date}}``: the date (the revision's time when none) in MediaWiki's format codes."""
    text = exp.text(parts[0], frame) if parts else ""
    try:
        when = timefmt.parse_date(text, timefmt.at(exp.ctx.revision.timestamp))
    except timefmt.BadDate:
        return '<strong class="error">Error: Invalid time.</strong>'
    return timefmt.format_time(first, when)


def _formatdate(exp, frame, first, parts):
    preference = exp.text(parts[0], frame) if parts else ""
    formatted = timefmt.format_date(first, preference)
    return exp.state.strip.add(formatted) if formatted is not None else first


_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _formatnum(exp, frame, first, parts):
    """``{{formatnum:}}``: digits grouped in threes; ``R`` reads a formatted number back; ``NOSEP`` does not group."""
    options = {exp.text(part, frame).strip() for part in parts}
    if "R" in options:
        return first.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(first.strip()):
        return first
    number = first.strip()
    if len(number.lstrip("-").split(".")[0]) > 15:
        if "LOSSLESS" in options:
            return number  # grouping it would go through a double and change its digits
        number = f"{float(number):.0f}"  # beyond a double's precision, as MediaWiki's float conversion gives
    whole, _, fraction = number.lstrip("-").partition(".")
    grouped = whole if "NOSEP" in options else f"{int(whole):,}"
    return ("−" if number.startswith("-") else "") + grouped + ("." + fraction if fraction else "")


def _language(exp, frame, first, parts):
    """``{{#language:code|in}}``: a language's name, in its own language unless another is named."""
    from wikipeer.render.lua.language import language_name
    target = exp.text(parts[0], frame).strip() if parts else ""
    code = first.strip().lower()
    return language_name(code, target or None) or code


def _int(exp, frame, first, parts):
    """``{{int:name|$1|...}}``: the wiki's message page MediaWiki:Name, else ⧼name⧽."""
    name = first.strip()
    body = exp.body(f"MediaWiki:{name[:1].upper()}{name[1:]}") if name else None
    if body is None:
        body = messages.message(name)
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
                return exp.error(f'Error: Invalid depth in path: "{full}" '
                                 "(tried to access a node above the root node).")
            stack.pop()
        else:
            stack.append(piece)
    return "/".join(stack)


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
    "#statements": _nothing, "#time": _time, "#timel": _time, "#rel2abs": _rel2abs,
    "#formatdate": _formatdate, "#dateformat": _formatdate, "#dir": _first(langtags.direction),
    "#bcp47": _first(langtags.bcp47),
    "#len": _first(lambda s: str(len(s))), "#urldecode": _first(lambda s: s),
    "lc": _around_markers(str.lower), "uc": _around_markers(str.upper),
    "lcfirst": _first(lambda s: s[:1].lower() + s[1:]), "ucfirst": _first(lambda s: s[:1].upper() + s[1:]),
    "urlencode": _urlencode,
    "anchorencode": _anchorencode, "formatnum": _formatnum, "padleft": _pad(True),
    "padright": _pad(False), "plural": _plural, "ns": _ns, "nse": _ns, "localurl": _url,
    "fullurl": _url, "canonicalurl": _url, "filepath": _nothing, "int": _int,
    "defaultsort": _nothing, "defaultsortkey": _nothing, "defaultcategorysort": _nothing,
    "displaytitle": _nothing, "gender": lambda exp, frame, first, parts: exp.text(parts[0], frame) if parts else "",
    "grammar": lambda exp, frame, first, parts: exp.text(parts[0], frame) if parts else "",
    "noexternallanglinks": _nothing, "#babel": _nothing, "#target": _nothing,
}


def lookup(head: str) -> Function | None:
    """The function ``{{head:...}}`` calls, or None when it is a template."""
    function = _FUNCTIONS.get(head.lower())
    if function is not None:
        return function
    if magic.has_variable(head):
        return lambda exp, frame, first, parts: magic.variable(exp.ctx, head, first) or ""
    return None
