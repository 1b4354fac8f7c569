"""One page's Lua engine: ``{{#invoke:}}`` calls, frames, and what modules read of the wiki.

Made on the page's first ``#invoke`` and kept for the page (Scribunto keeps
one engine per parse): modules are compiled once, ``mw.loadData`` tables
loaded once. Frames are the expander's own :class:`~wikipeer.render.expand.Frame`
objects, so ``frame.args`` expands lazily in the caller's frame as
``{{{1}}}`` does. Every module and page a module reads is recorded in the
rendering's ``templates``, so a cached page is rendered again when one changes.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from wikipeer.model.title import DEFAULT_NAMESPACES
from wikipeer.render import messages
from wikipeer.render.langtags import bcp47
from wikipeer.render.lua import language, text
from wikipeer.render.lua.sandbox import (
    MEMORY, TIMEOUT, Clock, LuaError, LuaMemoryError, Sandbox, ScriptError, decode, error_text, exposed)
from wikipeer.render.lua.strings import Strings
from wikipeer.render.messages import message
from wikipeer.render.names import CANONICAL, NS_TEMPLATE, PageName
from wikipeer.render.preprocess import Part, include_filter, preprocess
from wikipeer.render.redirect import redirect_target
from wikipeer.render.strip import MARKER
from wikipeer.render.tags import escape_attr, escape_text

NS_MODULE = 828
_HASHES = frozenset(a for a in hashlib.algorithms_available if not a.startswith("shake"))  # shake needs a length
MAX_EXPENSIVE = 500
_POSITION = re.compile(r"(?s)\A(?P<where>[^\n]+?):(?P<line>\d+): (?P<message>.*)\Z")
_SUBPAGES = frozenset({1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 15, 828, 829})


class Engine:
    """The Lua side of one rendering; ``exp`` is the page's expander."""

    def __init__(self, exp: Any) -> None:
        self.exp = exp
        self.state = exp.state
        self.ctx = exp.ctx
        limits = exp.ctx.limits
        self.clock = Clock(limits.lua_seconds, limits.lua_call_seconds)
        self.sandbox = Sandbox(self.clock, limits.lua_memory, outbound=self.state.strip.to_mediawiki,
                               inbound=self.state.strip.from_mediawiki)
        self.frames: list[Any] = []
        self.frame_ids: dict[int, int] = {}
        self.expensive = 0
        self.errors = 0
        self.failed: str | None = None
        self.started = False
        self.sent: set[str] = set()  # modules whose text Lua has had

    def start(self) -> None:
        """Make the runtime, once: only when a module is really run."""
        if self.started:
            return
        self.started = True
        try:
            self.sandbox.start(self._functions())
        except (LuaError, LuaMemoryError) as exc:  # never expected: our libraries failed to load
            self.failed = error_text(exc)

    # -- #invoke -----------------------------------------------------------------

    def invoke(self, name: str, parts: list[Part], frame: Any) -> str:
        """The text ``{{#invoke:name|function|args...}}`` gives, or the error in place."""
        if not name:
            return self.script_error(self.message("scribunto-common-nosuchmodule", name))
        title = self.module_title(name)
        if title is None:
            return self.script_error(self.message("scribunto-common-nosuchmodule", name))
        self.state.templates[title.full] = None
        if self.exp.body(title.full) is None:
            # As for a template the node lacks: a discreet placeholder naming it, not a red error.
            return self.state.strip.add(f'<span class="tpl-missing" title="{escape_attr(title.full)}"></span>')
        self.start()
        if self.failed is not None:
            return self.lua_error(self.failed)
        if not parts:  # an empty name is a name (Module:Unsubst exports p[''])
            return self.script_error(self.message("scribunto-common-nofunction"))
        function = self.exp.text(parts[0], frame)
        if self.clock.expired():
            return self.lua_error(TIMEOUT)
        child = type(frame)(title.full, frame, self.exp.arguments(parts[1:], frame), frame.depth + 1)
        self.clock.enter()
        try:
            status, detail = self.sandbox.api.invoke(
                title.full.encode(), function.encode(), self.frame_id(child), self.frame_id(frame))
        except (LuaError, LuaMemoryError) as exc:
            return self.lua_error(error_text(exc))
        finally:
            self.clock.leave()
        if status == b"ok" and self.exp.produced + len(detail) > self.exp.limits.max_expansion:
            # Lua's memory allows far more text than the later passes should be given.
            return self.exp.size_error(title.full)
        detail = self.state.strip.from_mediawiki(decode(detail))
        if status == b"ok":
            return detail.replace("\x00", "\ufffd")  # as MediaWiki shows a NUL
        if status == b"nomodule":
            return self.script_error(self.message("scribunto-common-nosuchmodule", name))
        if status == b"nofunction":
            return self.script_error(self.message("scribunto-common-nosuchfunction", detail))
        return self.lua_error(f"The module returned a {detail} value, it is supposed to return an export table")

    def module_title(self, name: str) -> PageName | None:
        """The Module: page ``{{#invoke:name}}`` names, or None when the name is no title."""
        prefix = self.ctx.config.namespaces.get(NS_MODULE) or "Module"
        found = self.state.page_name(f"{prefix}:{name}", NS_MODULE)
        if found is None or found.ns != NS_MODULE:
            return None
        return found

    def lua_error(self, message: str) -> str:
        """A Lua error message as Scribunto shows it (with the module and line when the message has them)."""
        if message.endswith(TIMEOUT):
            # Scribunto's own message, in the wiki's language (the English ends in a full stop already)
            return self.script_error(self.message("scribunto-lua-error", "", self.message("scribunto-common-timeout"))
                                     .replace("..", "."))
        m = _POSITION.match(message) if message != MEMORY else None
        if m is not None:
            where = self.message("scribunto-module-line", m["where"], m["line"])
            return self.script_error(self.message("scribunto-lua-error-location", where, m["message"]))
        return self.script_error(self.message("scribunto-lua-error", "", message))

    def message(self, key: str, *params: str) -> str:
        """Scribunto's message ``key`` in the wiki's language; Scribunto's ``$1`` is the code location."""
        args = params if key.startswith(("scribunto-lua-error", "scribunto-module-line")) else ("", *params)
        return messages.formatted(key, *args, lang=self.ctx.config.lang)

    def script_error(self, message: str) -> str:
        """Scribunto's error in place; the message also goes to ``Rendered.errors``."""
        self.state.error(message)
        html = (f'<strong class="error"><span class="scribunto-error" id="mw-scribunto-error-{self.errors}">'
                f"{escape_text(message)}</span></strong>")
        self.errors += 1
        marker = self.state.strip.add(html)
        self.exp.error_markers.add(marker)
        return marker

    def frame_id(self, frame: Any) -> int:
        """The number Lua knows ``frame`` by (frames are registered once)."""
        key = id(frame)
        found = self.frame_ids.get(key)
        if found is None or self.frames[found] is not frame:
            found = self.frame_ids[key] = len(self.frames)
            self.frames.append(frame)
        return found

    # -- what Lua may call ---------------------------------------------------------

    def _functions(self) -> dict[str, Callable]:
        sandbox = self.sandbox
        plain: dict[str, Callable] = {
            "module_source": self.module_source, "json_page": self.json_page,
            "frame_arg": self.frame_arg, "frame_arg_names": self.frame_arg_names,
            "frame_title": lambda i: self.frames[int(i)].title, "page_frame": self.page_frame,
            "preprocess": self.preprocess, "expand_template": self.expand_template,
            "parser_function": self.parser_function, "new_child": self.new_child,
            "title_info": self.title_info, "title_make": self.title_make, "title_current": self.title_current,
            "title_exists": self.title_exists, "title_file": self.title_file, "title_content": self.title_content,
            "title_redirect": self.title_redirect, "site_info": self.site_info, "page_url": self.page_url,
            "site_host": self.site_host, "uri_encode": uri_encode, "uri_decode": uri_decode,
            "anchor_encode": anchor_encode, "hash_algorithms": lambda: sorted(_HASHES),
            "text_trim": text.trim, "text_encode": text.encode, "text_decode": text.decode_entities,
            "text_nowiki": text.nowiki, "kill_markers": text.kill_markers, "unstrip_nowiki": self.unstrip_nowiki,
            "json_encode": text.json_encode, "json_decode": text.json_decode,
            "content_lang": lambda: self.ctx.config.lang or "en", "lang_valid": language.valid_code,
            "lang_name": language.language_name, "lang_names": language.language_names,
            "lang_rtl": language.is_rtl, "format_num": language.format_num,
            "lang_fallbacks": language.fallbacks, "parse_formatted": language.parse_formatted,
            "bcp47": bcp47,
            "format_date": language.format_date, "format_duration": language.format_duration,
            "plural_index": language.plural_index, "grammar": language.grammar,
            "message_text": lambda key, lang=None: message(key, lang or self.ctx.config.lang or "en"),
            "expensive": self.count_expensive,
        }
        functions = {name: exposed(sandbox, fn) for name, fn in plain.items()}
        functions["hash_value"] = exposed(sandbox, hash_value, raw=True)
        for name, (fn, raw) in Strings(sandbox, self.clock).functions().items():
            functions[name] = exposed(sandbox, fn, raw=raw, markers=False)
        return functions

    def module_source(self, name: str, again: bool) -> tuple[str, str | None] | None:
        """(title, text) of a Module: page for ``require`` and ``#invoke``; None when absent or not a
        module. The text is sent once per page (Lua keeps the compiled module) unless asked ``again``."""
        found = self.state.page_name(name, 0)
        if found is None or found.ns != NS_MODULE:
            return None
        self.state.templates[found.full] = None
        body = self.exp.body(found.full)
        if body is None:
            return None
        if found.full in self.sent and not again:
            return found.full, None
        self.sent.add(found.full)
        return found.full, body

    def json_page(self, name: str) -> str:
        """The text of a page for ``mw.loadJsonData``: one whose content is JSON, which (with no content
        models here) is one whose name ends in ``.json``, as MediaWiki gives such pages the JSON model."""
        found = self.state.page_name(name, 0)
        is_json = found is not None and found.full.lower().endswith(".json")
        body = self.exp.body(found.full) if is_json else None
        if found is not None and found.full:
            self.state.templates[found.full] = None
        if body is None:
            raise ScriptError(f"bad argument #1 to 'mw.loadJsonData' ('{name}' is not a valid JSON page)")
        return body

    def frame_arg(self, index: int, name: str) -> str | None:
        """Argument ``name`` of a frame, expanded once, or None."""
        return self.exp.argument_value(self.frames[int(index)], name)

    def frame_arg_names(self, index: int) -> list[str]:
        """The names of a frame's arguments, in the order given (for ``pairs``)."""
        frame = self.frames[int(index)]
        return list(dict.fromkeys([*frame.args, *frame.values]))

    def page_frame(self) -> int:
        """The page's own frame (the root of every frame chain)."""
        frame = self.frames[0] if self.frames else None
        while frame is not None and frame.parent is not None:
            frame = frame.parent
        if frame is None:
            frame = self.exp.page_frame()
        return self.frame_id(frame)

    def preprocess(self, index: int, source: str) -> str:
        """``frame:preprocess``: wikitext expanded in the frame."""
        frame = self.frames[int(index)]
        # Text preprocessed in the page's own frame is read as the page, elsewhere as transcluded.
        source = include_filter(source, transcluded=frame.parent is not None)
        return self.exp.expand(preprocess(source), frame)

    def expand_template(self, index: int, name: str, flat: Any) -> str:
        """``frame:expandTemplate``: a template expanded with string arguments, under the template limits."""
        frame = self.frames[int(index)]
        target = self.state.page_name(name, NS_TEMPLATE)
        if target is None or not target.full:
            raise ScriptError(f'frame:expandTemplate: invalid title "{name}"')
        title = target.full
        self.state.templates[title] = None
        stop = self.exp.over_limits(title, frame)
        if stop is not None:
            return stop
        if frame.has_loop(title):
            return self.exp.error(self.exp.loop_message(title))
        body = self.exp.body(title)
        if body is None:
            raise ScriptError(f'frame:expandTemplate: template "{title}" does not exist')
        tree = self.exp.trees.get(title)
        if tree is None:
            tree = self.exp.trees[title] = preprocess(include_filter(body, transcluded=True))
        child = type(frame)(title, frame, {}, frame.depth + 1, values=_pairs(flat))
        result = self.exp.expand(tree, child)
        self.exp.produced += len(result)
        return result

    def parser_function(self, index: int, name: str, flat: Any) -> str:
        """``frame:callParserFunction``: a parser function of ``parserfuncs`` called with string arguments."""
        frame = self.frames[int(index)]
        head = name.strip()
        first_inline = ""
        if ":" in head and not head.startswith("#"):
            head, _, first_inline = head.partition(":")
        elif head.startswith("#") and ":" in head:
            head, _, first_inline = head.partition(":")
        function = self.exp.function_named(head.strip())
        if function is None:
            raise ScriptError(f'frame:callParserFunction: function "{name}" was not found')
        values = _pairs(flat)
        positional = [v for k, v in sorted(((int(k), v) for k, v in values.items() if k.isdigit()))]
        named = [(k, v) for k, v in values.items() if not k.isdigit()]
        if first_inline:
            positional.insert(0, first_inline)
        first = positional[0].strip() if positional else ""
        parts = [Part([v]) for v in positional[1:]] + [Part([k, "=", v], 2) for k, v in named]
        return self.exp.call_function(function, head.strip(), first, _Call(parts), frame)

    def new_child(self, index: int, title: str | None, flat: Any) -> int:
        """``frame:newChild``: a new frame under frame ``index`` with string arguments."""
        parent = self.frames[int(index)]
        child = type(parent)(title or parent.title, parent, {}, parent.depth + 1, values=_pairs(flat))
        return self.frame_id(child)

    def _title_tuple(self, name: PageName | None) -> list | None:
        if name is None or not name.full:
            return None
        return [name.ns, name.text, name.fragment, ""]  # a list: one Lua table, not four values

    def title_info(self, raw: str, default_ns: Any) -> list | None:
        """[ns, text, fragment, interwiki] of a title as written, or None when it is no title."""
        return self._title_tuple(self.state.page_name(raw, int(default_ns or 0)))

    def title_make(self, ns: Any, raw: str) -> list | None:
        """[ns, text, fragment, interwiki] of ``raw`` in namespace ``ns``, or None."""
        prefix = self.ctx.config.namespaces.get(int(ns))
        if prefix is None and int(ns) != 0:
            return None
        return self.title_info(f"{prefix}:{raw}" if prefix else f":{raw}", 0)

    def title_current(self) -> list | None:
        """The page being rendered, as ``title_info`` gives it."""
        return self.title_info(self.ctx.title, 0)

    def title_exists(self, full: str) -> bool:
        """Whether the node holds the page (asked through the context, so the cache sees it)."""
        try:
            return full in self.ctx.exists([full])
        except Exception:
            return False

    def title_file(self, name: str) -> dict | None:
        """The file ``name`` (no namespace) as ``title.file`` gives it, from what the node holds; None if not held."""
        try:
            meta = self.ctx.file(name)
        except Exception:
            return None
        if meta is None:
            return None
        return {"width": meta.width or 0, "height": meta.height or 0, "mimeType": meta.mime}

    def title_content(self, full: str) -> str | None:
        """A page's text, recorded as a dependency of the rendering."""
        self.state.templates[full] = None
        return self.exp.body(full)

    def title_redirect(self, full: str) -> str | None:
        """The target of a redirect page, or None; recorded as a dependency."""
        self.state.templates[full] = None
        body = self.exp.body(full)
        target = redirect_target(self.ctx.config, body) if body else None
        return target.full if target is not None else None

    def site_info(self) -> dict:
        """``mw.site``'s data: names, server and namespaces."""
        config = self.ctx.config
        names = {number: name for number, name in CANONICAL.items()}
        namespaces = []
        # A MediaWiki has every core namespace and each one's talk or subject pair, whatever a dump declared
        # (a partial dump may name Template but not Template talk): Module:Navbar asks for a template's talk page.
        declared = {**{n: name for n, name in DEFAULT_NAMESPACES.items() if n < 100}, **config.namespaces}
        for number, name in sorted(declared.items()):
            if number >= 0 and number ^ 1 not in declared and number ^ 1 in DEFAULT_NAMESPACES:
                declared[number ^ 1] = DEFAULT_NAMESPACES[number ^ 1]
        for number, name in sorted(declared.items()):
            canonical = next((n[0].upper() + n[1:] for n, k in names.items() if k == number), name)
            if number == NS_MODULE:
                canonical = "Module"
            namespaces.append({
                "id": number, "name": name, "canonicalName": canonical if number else "",
                "displayName": name, "hasSubpages": number in _SUBPAGES, "hasGenderDistinction": number in (2, 3),
                "isCapitalized": config.case_rule(number) == "first-letter", "isContent": number == 0,
                "isIncludable": True, "isMovable": number >= 0, "isSubject": number >= 0 and number % 2 == 0,
                "isTalk": number > 0 and number % 2 == 1,
                "defaultContentModel": "Scribunto" if number == NS_MODULE else "wikitext",
                "aliases": [],
            })
        return {
            "wikiId": config.name, "siteName": config.sitename or config.name, "server": "//" + self.site_host(),
            "scriptPath": "", "stylePath": "/static", "currentVersion": "1.39.0 (wikipeer)",
            "namespaces": namespaces,
        }

    def site_host(self) -> str:
        """The host of the wiki's base URL (``localhost`` when unknown)."""
        base = getattr(self.ctx.config, "base", "") or ""
        return urlsplit(base).netloc or "localhost"

    def page_url(self, title: str) -> str | None:
        """The node's URL of a page."""
        found = self.state.page_name(title, 0)
        return self.ctx.href(found.full) if found is not None and found.full else None

    def unstrip_nowiki(self, s: str) -> str:
        """``mw.text.unstripNoWiki``: the source of nowiki markers back in the text."""
        def one(m: re.Match) -> str:
            item = self.state.strip.items[int(m.group(2))]
            # nowiki output is escaped text, no tags inside: its source comes back; other
            # markers stay for the page
            if isinstance(item, str) and "<" not in item:
                return html.unescape(item)
            return m.group(0)

        return MARKER.sub(one, s)

    def count_expensive(self) -> None:
        """Count one expensive call; past the limit, an error."""
        self.expensive += 1
        if self.expensive > MAX_EXPENSIVE:
            raise ScriptError(f"too many expensive function calls (more than {MAX_EXPENSIVE})")


class _Call:
    """What ``call_function`` needs of a template node: the parts after the name."""

    def __init__(self, parts: list[Part]) -> None:
        self.parts = [Part(), *parts]


def _pairs(flat: Any) -> dict[str, str]:
    """A Lua list k1, v1, k2, v2... as a dict."""
    values = [decode(v) for _, v in sorted(flat.items())] if flat is not None else []
    return {values[i]: values[i + 1] for i in range(0, len(values) - 1, 2)}


def uri_encode(s: str, kind: str) -> str:
    """``mw.uri.encode`` in its QUERY, PATH and WIKI forms."""
    if kind == "PATH":
        return quote(s, safe="")
    if kind == "WIKI":
        return quote(s.replace(" ", "_"), safe=";@$!*(),/~:")
    return quote(s, safe="").replace("%20", "+")


def uri_decode(s: str, kind: str) -> str:
    """``mw.uri.decode`` in its QUERY, PATH and WIKI forms."""
    if kind == "PATH":
        return unquote(s)
    if kind == "WIKI":
        return unquote(s).replace("_", " ")
    return unquote_plus(s)


def anchor_encode(s: str) -> str:
    """``mw.uri.anchorEncode``: a section anchor as MediaWiki makes it (HTML5 form)."""
    s = re.sub(r"<[^>]*>", "", s)
    s = text.decode_entities(s, True)
    return re.sub(r"[ \t\n]+", "_", s.strip())


def hash_value(algo: bytes, value: bytes) -> str:
    """``mw.hash.hashValue``: a hex digest."""
    name = algo.decode("utf-8", "replace")
    if name.lower() not in _HASHES:
        raise ScriptError(f"Unknown hashing algorithm: {name}")
    return hashlib.new(name.lower(), value).hexdigest()
