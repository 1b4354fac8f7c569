"""Magic words: page variables (``{{PAGENAME}}``) and behaviour switches (``__NOTOC__``).

Only words whose value the page and its wiki determine are supported; words
that read the clock or the database (``CURRENTYEAR``, ``NUMBEROFARTICLES``)
would make a rendering differ from one moment to the next, which a cached,
content-addressed page should not, so they are left as template calls.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from wikipeer.render.context import RenderContext
from wikipeer.render.names import page_name

SWITCHES = frozenset({
    "NOTOC", "FORCETOC", "TOC", "NOEDITSECTION", "NEWSECTIONLINK", "NONEWSECTIONLINK",
    "NOGALLERY", "HIDDENCAT", "NOCONTENTCONVERT", "NOCC", "NOTITLECONVERT", "NOTC", "INDEX",
    "NOINDEX", "STATICREDIRECT", "DISAMBIG", "EXPECTUNUSEDCATEGORY", "EXPECTUNUSEDTEMPLATE",
    "ARCHIVEDTALK", "NOGLOBAL",
})
_SWITCH = re.compile(r"__([A-Za-z]+)__")


def take_switches(text: str, found: set[str]) -> str:
    """``text`` without its behaviour switches, which are added to ``found``."""
    if "__" not in text:
        return text

    def one(m: re.Match) -> str:
        word = m.group(1).upper()
        if word not in SWITCHES:
            return m.group(0)
        found.add(word)
        return "" if word != "TOC" else "\x7fTOC\x7f"

    return _SWITCH.sub(one, text)


def _parts(ctx: RenderContext, arg: str | None) -> tuple[str, str]:
    """(namespace prefix, title text) of the page or of ``arg``."""
    name = page_name(ctx.config, arg) if arg else page_name(ctx.config, ctx.title)
    if name is None:
        return "", arg or ctx.title
    prefix = name.full[: len(name.full) - len(name.text)].rstrip(":")
    return prefix, name.text


def _wiki_encode(text: str) -> str:
    return quote(text.replace(" ", "_"), safe="/:;@$!*(),~'")


def _talk(ctx: RenderContext, arg: str | None) -> str:
    name = page_name(ctx.config, arg or ctx.title)
    if name is None:
        return ""
    talk_ns = name.ns if name.ns % 2 else name.ns + 1
    return ctx.config.full_title(talk_ns, name.text)


def _subject(ctx: RenderContext, arg: str | None) -> str:
    name = page_name(ctx.config, arg or ctx.title)
    if name is None:
        return ""
    return ctx.config.full_title(name.ns - 1 if name.ns % 2 else name.ns, name.text)


_VARIABLES = {
    "PAGENAME": lambda ctx, a: _parts(ctx, a)[1],
    "FULLPAGENAME": lambda ctx, a: ":".join(p for p in _parts(ctx, a) if p),
    "NAMESPACE": lambda ctx, a: _parts(ctx, a)[0],
    "BASEPAGENAME": lambda ctx, a: _parts(ctx, a)[1].rsplit("/", 1)[0],
    "ROOTPAGENAME": lambda ctx, a: _parts(ctx, a)[1].split("/", 1)[0],
    "SUBPAGENAME": lambda ctx, a: _parts(ctx, a)[1].rsplit("/", 1)[-1],
    "TALKPAGENAME": _talk,
    "SUBJECTPAGENAME": _subject,
    "ARTICLEPAGENAME": _subject,
    "SITENAME": lambda ctx, a: ctx.config.sitename or ctx.config.name,
    "CONTENTLANGUAGE": lambda ctx, a: ctx.config.lang,
    "CONTENTLANG": lambda ctx, a: ctx.config.lang,
    "NAMESPACENUMBER": lambda ctx, a: str(page_name(ctx.config, a or ctx.title).ns) if page_name(ctx.config, a or ctx.title) else "",
    "!": lambda ctx, a: "|",
    "=": lambda ctx, a: "=",
}


def variable(ctx: RenderContext, name: str, arg: str | None = None) -> str | None:
    """The value of ``{{NAME}}`` (or ``{{NAME:arg}}``), or None for no such variable."""
    encoded = name.endswith("E") and name[:-1] in _VARIABLES and name not in _VARIABLES
    key = name[:-1] if encoded else name
    function = _VARIABLES.get(key)
    if function is None:
        return None
    value = function(ctx, arg)
    return _wiki_encode(value) if encoded else value


def has_variable(name: str) -> bool:
    """Whether ``name`` is a variable that may take an argument after a colon."""
    key = name[:-1] if name.endswith("E") and name not in _VARIABLES else name
    return key in _VARIABLES and key not in ("!", "=", "SITENAME", "CONTENTLANGUAGE", "CONTENTLANG")
