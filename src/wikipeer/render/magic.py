"""Magic words: page variables (``{{PAGENAME}}``) and behaviour switches (``__NOTOC__``).

Words whose value the page, its revision and its wiki determine are
supported. ``CURRENT*``/``LOCAL*`` read the rendered revision's time (UTC, and
the wiki's own time zone for ``LOCAL*``),
never the clock: a rendering is cached per revision and must not differ from
one moment to the next. Words that read the database (``NUMBEROFARTICLES``)
are left as template calls. Page names come escaped as MediaWiki escapes them
(wfEscapeWikiText), so a title such as ``*Foo`` stays text.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

from wikipeer.render import magic_words
from wikipeer.render.context import RenderContext
from wikipeer.render.names import page_name
from wikipeer.render.timefmt import at, format_time, in_zone

SWITCHES = frozenset({
    "NOTOC", "FORCETOC", "TOC", "NOEDITSECTION", "NEWSECTIONLINK", "NONEWSECTIONLINK",
    "NOGALLERY", "HIDDENCAT", "NOCONTENTCONVERT", "NOCC", "NOTITLECONVERT", "NOTC", "INDEX",
    "NOINDEX", "STATICREDIRECT", "DISAMBIG", "EXPECTUNUSEDCATEGORY", "EXPECTUNUSEDTEMPLATE",
    "ARCHIVEDTALK", "NOGLOBAL",
})
_SWITCH = re.compile(r"__([A-Za-z]+)__")


def take_switches(text: str, found: set[str], lang: str = "en") -> str:
    """``text`` without its behaviour switches (English or ``lang``'s names), which are added to ``found``."""
    if "__" not in text:
        return text
    local = magic_words.local_names(lang) if lang != "en" else None
    if local is not None and local.switch_pattern is not None:
        text = local.switch_pattern.sub(lambda m: f"__{local.switches[m.group(1).upper()]}__", text)

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


def wiki_encode(text: str) -> str:
    """A title as MediaWiki puts it in a URL: underscores for spaces, percent-encoded (wfUrlencode)."""
    return _wiki_encode(text)


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


def _article_path(ctx: RenderContext) -> str:
    """Where this wiki's pages are, with $1 for the page: the node's own path."""
    sample = ctx.href("X")
    return sample[:-1] + "$1" if sample.endswith("X") else ""


def _namespace_name(ctx: RenderContext, full: str) -> str:
    name = page_name(ctx.config, full)
    return full[: len(full) - len(name.text)].rstrip(":") if name is not None and name.text else ""


# wfEscapeWikiText: what would start markup in a page name becomes a character reference
_ESCAPES = {
    '"': "&#34;", "&": "&#38;", "'": "&#39;", "<": "&#60;", "=": "&#61;", ">": "&#62;", "[": "&#91;",
    "]": "&#93;", "{": "&#123;", "|": "&#124;", "}": "&#125;", ";": "&#59;", "!!": "&#33;!",
    "\n!": "\n&#33;", "\n#": "\n&#35;", "\n*": "\n&#42;", "\n:": "\n&#58;", "\n ": "\n&#32;",
    "\n\n": "\n&#10;", "\n\t": "\n&#9;", "\n----": "\n&#45;---", "__": "_&#95;", "://": "&#58;//",
    "~~~": "~~&#126;", "ISBN ": "ISBN&#32;", "PMID ": "PMID&#32;", "RFC ": "RFC&#32;",
}
_ESCAPE = re.compile("|".join(re.escape(k) for k in sorted(_ESCAPES, key=len, reverse=True)))


def escape_wikitext(text: str) -> str:
    """``text`` with what would start wikitext markup written as character references (wfEscapeWikiText)."""
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], "\n" + text)[1:]


def _escaped(function):
    return lambda ctx, a: escape_wikitext(function(ctx, a))


def _revision_of(ctx: RenderContext, arg: str | None):
    """The rendered revision, when ``arg`` names no other page (other pages' revisions are not known here)."""
    if arg:
        name = page_name(ctx.config, arg)
        own = page_name(ctx.config, ctx.title)
        if name is None or own is None or name.full != own.full:
            return None
    return ctx.revision


def _revision_time(fmt: str):
    def value(ctx: RenderContext, arg: str | None) -> str:
        revision = _revision_of(ctx, arg)
        return format_time(fmt, at(revision.timestamp), ctx.config.lang) if revision is not None else ""
    return value


def _revision_field(read):
    def value(ctx: RenderContext, arg: str | None) -> str:
        revision = _revision_of(ctx, arg)
        return read(revision) if revision is not None else ""
    return value


def _server_name(ctx: RenderContext) -> str:
    return urlsplit(ctx.server).hostname or ""


# the clock words, as #time formats of the revision's time (LOCAL* on the wiki's clock: WikiConfig.timezone)
_TIME_WORDS = {
    "YEAR": "Y", "MONTH": "m", "MONTH1": "n", "MONTH2": "m", "MONTHNAME": "F", "MONTHNAMEGEN": "xg",
    "MONTHABBREV": "M", "DAY": "j", "DAY2": "d", "DAYNAME": "l", "DOW": "w", "TIME": "H:i", "HOUR": "H",
    "WEEK": "W", "TIMESTAMP": "YmdHis",
}

def _clock(fmt: str, ctx: RenderContext, local: bool = False) -> str:
    when = at(ctx.revision.timestamp)
    text = format_time(fmt, in_zone(when, ctx.config.timezone) if local else when, ctx.config.lang)
    return str(int(text)) if fmt == "W" else text  # the week number comes without its zero


_VARIABLES = {
    "PAGENAME": _escaped(lambda ctx, a: _parts(ctx, a)[1]),
    "FULLPAGENAME": _escaped(lambda ctx, a: ":".join(p for p in _parts(ctx, a) if p)),
    "NAMESPACE": lambda ctx, a: _parts(ctx, a)[0],
    "BASEPAGENAME": _escaped(lambda ctx, a: _parts(ctx, a)[1].rsplit("/", 1)[0]),
    "ROOTPAGENAME": _escaped(lambda ctx, a: _parts(ctx, a)[1].split("/", 1)[0]),
    "SUBPAGENAME": _escaped(lambda ctx, a: _parts(ctx, a)[1].rsplit("/", 1)[-1]),
    "TALKPAGENAME": _escaped(_talk),
    "SUBJECTPAGENAME": _escaped(_subject),
    "ARTICLEPAGENAME": _escaped(_subject),
    "TALKSPACE": lambda ctx, a: _namespace_name(ctx, _talk(ctx, a)),
    "SUBJECTSPACE": lambda ctx, a: _namespace_name(ctx, _subject(ctx, a)),
    "ARTICLESPACE": lambda ctx, a: _namespace_name(ctx, _subject(ctx, a)),
    "REVISIONID": _revision_field(lambda r: r.id),
    "REVISIONUSER": _revision_field(lambda r: r.user),
    "REVISIONSIZE": _revision_field(lambda r: str(r.size)),
    "REVISIONDAY": _revision_time("j"), "REVISIONDAY2": _revision_time("d"),
    "REVISIONMONTH": _revision_time("m"), "REVISIONMONTH1": _revision_time("n"),
    "REVISIONYEAR": _revision_time("Y"), "REVISIONTIMESTAMP": _revision_time("YmdHis"),
    "SERVER": lambda ctx, a: ctx.server,
    "SERVERNAME": lambda ctx, a: _server_name(ctx),
    "PAGELANGUAGE": lambda ctx, a: ctx.config.lang,
    "USERLANGUAGE": lambda ctx, a: ctx.config.lang,
    "DIRECTIONMARK": lambda ctx, a: "\u200e", "DIRMARK": lambda ctx, a: "\u200e",
    **{f"{clock}{word}": (lambda fmt, local: lambda ctx, a: _clock(fmt, ctx, local))(fmt, clock == "LOCAL")
       for clock in ("CURRENT", "LOCAL") for word, fmt in _TIME_WORDS.items()},
    "SITENAME": lambda ctx, a: ctx.config.sitename or ctx.config.name,
    "CONTENTLANGUAGE": lambda ctx, a: ctx.config.lang,
    "CONTENTLANG": lambda ctx, a: ctx.config.lang,
    "NAMESPACENUMBER": lambda ctx, a: str(page_name(ctx.config, a or ctx.title).ns) if page_name(ctx.config, a or ctx.title) else "",
    "ARTICLEPATH": lambda ctx, a: _article_path(ctx),
    # a variable in 1.39 as well as a function: no page cascades its protection on a node
    "CASCADINGSOURCES": lambda ctx, a: "",
    "!": lambda ctx, a: "|",
    "=": lambda ctx, a: "=",
}


def variable(ctx: RenderContext, name: str, arg: str | None = None) -> str | None:
    """The value of ``{{NAME}}`` (or ``{{NAME:arg}}``), or None for no such variable."""
    if name.upper() in _ANY_CASE:
        name = name.upper()
    elif name not in _VARIABLES and ctx.config.lang != "en":
        name = magic_words.english_variable(ctx.config.lang, name) or name
    encoded = name.endswith("E") and name[:-1] in _VARIABLES and name not in _VARIABLES
    key = name[:-1] if encoded else name
    function = _VARIABLES.get(key)
    if function is None:
        return None
    if encoded:
        # the E forms: URL-encoded (from the name unescaped), then escaped as the plain forms are
        value = html.unescape(function(ctx, arg)) if key in _ESCAPED else function(ctx, arg)
        return escape_wikitext(_wiki_encode(value)) if key in _ESCAPED else _wiki_encode(value)
    return function(ctx, arg)


_ANY_CASE = frozenset({"SERVER", "SERVERNAME"})  # the variables MediaWiki reads in any case
_ESCAPED = frozenset({"PAGENAME", "FULLPAGENAME", "BASEPAGENAME", "ROOTPAGENAME", "SUBPAGENAME", "TALKPAGENAME",
                      "SUBJECTPAGENAME", "ARTICLEPAGENAME"})
# words that take no argument after a colon ({{CURRENTYEAR:x}} is a template call)
_NO_ARGUMENT = frozenset({"!", "=", "ARTICLEPATH", "SITENAME", "CONTENTLANGUAGE", "CONTENTLANG", "SERVER", "SERVERNAME",
                          "DIRECTIONMARK", "DIRMARK", "USERLANGUAGE", "REVISIONSIZE"}
                         | {f"{clock}{word}" for clock in ("CURRENT", "LOCAL") for word in _TIME_WORDS})


def has_variable(name: str) -> bool:
    """Whether ``name`` is a variable that may take an argument after a colon."""
    key = name[:-1] if name.endswith("E") and name not in _VARIABLES else name
    return key in _VARIABLES and key not in _NO_ARGUMENT
