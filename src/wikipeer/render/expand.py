"""Template expansion: transclusion, arguments, parser functions, limits.

The page's tree (from :mod:`preprocess`) is expanded to plain wikitext, as
MediaWiki's ``PPFrame::expand`` does. Arguments are expanded lazily, in the
caller's frame, so the branch an ``#if`` does not take costs nothing. Every
template title consulted is noted for the cache. Loops, depth, the number of
calls and the characters produced are bounded by ``ctx.limits``; past a
bound the call shows a visible error instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wikipeer.render import extensions, magic, messages, parserfuncs, subpages
from wikipeer.render.names import NS_SPECIAL, NS_TEMPLATE
from wikipeer.render.redirect import redirect_target
from wikipeer.render.preprocess import Argument, ExtTag, Part, Template, include_filter, preprocess
from wikipeer.render.state import RenderState
from wikipeer.render.tags import escape_attr, escape_text

_BLOCK_START = ("{|", ":", ";", "#", "*")
NS_MEDIAWIKI = 8
_REDIRECT_HOPS = 2


@dataclass(slots=True)
class Frame:
    """One template call: its title, its arguments (unexpanded) and its caller."""

    title: str
    parent: Frame | None
    args: dict[str, tuple[list, bool, Frame]] = field(default_factory=dict)  # nodes, named, caller
    depth: int = 0
    values: dict[str, str] = field(default_factory=dict)

    def has_loop(self, title: str) -> bool:
        frame: Frame | None = self
        while frame is not None:
            if frame.title == title:
                return True
            frame = frame.parent
        return False


class Expander:
    """Expands trees against one page's context, keeping count of the limits."""

    def __init__(self, state: RenderState) -> None:
        self.state = state
        self.ctx = state.ctx
        self.extra_tags = frozenset(state.ctx.extension_tags)
        self.limits = state.ctx.limits
        self.bodies: dict[str, str | None] = {}
        self.trees: dict[str, list] = {}
        self.plain_calls: dict[str, str] = {}  # templates called without arguments, as MediaWiki caches them
        self.produced = 0
        self.calls = 0
        self.depth = 0
        self.refs = None  # set by the pipeline: refs.Refs
        self.error_markers: set[str] = set()  # for #iferror
        self.in_note = 0  # inside <ref>: citation templates are not boxes
        self.lua = None  # render.lua.engine.Engine, made at the page's first #invoke

    # -- walking -------------------------------------------------------------

    def expand_page(self, text: str) -> str:
        """The page's own wikitext, expanded."""
        return self.expand(preprocess(include_filter(text, transcluded=False), self.extra_tags), Frame(self.ctx.title, None))

    def expand(self, nodes: list, frame: Frame) -> str:
        """Wikitext of ``nodes`` with every template, argument and tag expanded."""
        out: list[str] = []
        for node in nodes:
            if type(node) is str:
                out.append(node)
            elif type(node) is Template:
                text = self.template(node, frame)
                if text.startswith(_BLOCK_START) and not (out and out[-1].endswith("\n")):
                    text = "\n" + text  # MediaWiki's T2529: a block-starting template begins a line
                out.append(text)
            elif type(node) is Argument:
                out.append(self.argument(node, frame))
            elif type(node) is ExtTag:
                out.append(extensions.render(self, node, frame))
        return "".join(out)

    def text(self, part: Part, frame: Frame) -> str:
        """A parser-function argument: the whole part, expanded and trimmed."""
        return self.expand(part.nodes, frame).strip()

    def literal(self, node: Template, frame: Frame) -> str:
        """A call that is neither template nor function, as its own text."""
        return "{{" + "|".join(self.expand(p.nodes, frame) for p in node.parts) + "}}"

    # -- errors and bounds -----------------------------------------------------

    def error(self, message: str) -> str:
        """A visible error in place, and the message in ``Rendered.errors``."""
        self.state.error(message)
        marker = self.state.strip.add(f'<span class="error">{escape_text(message)}</span>')
        self.error_markers.add(marker)
        return marker

    def loop_error(self, title: str) -> str:
        """MediaWiki's parser-template-loop-warning: wikitext, so the template's name is a link to it.

        A normalised title holds none of ``[]{}|<>``, so the link cannot turn into other markup."""
        self.state.error(self.loop_message(title))
        return f'<span class="error">{self.message("parser-template-loop-warning", title)}</span>'

    def message(self, key: str, *params: str) -> str:
        """Interface message ``key`` in the wiki's language."""
        return messages.formatted(key, *params, lang=self.ctx.config.lang)

    def loop_message(self, title: str) -> str:
        """The template-loop error as plain text (the title not made a link)."""
        return self.message("parser-template-loop-warning", title).replace(f"[[{title}]]", title)

    def limit_message(self, key: str, what: str, *params: str) -> str:
        """A limit's message in the wiki's language (tags and line breaks dropped), then what hit it."""
        text = " ".join(re.sub(r"<[^<>]*>", "", self.message(key, *params)).split())
        return text + self.message("colon-separator") + what

    def size_error(self, what: str) -> str:
        """The error in place of output past the expansion size limit."""
        return self.error(self.limit_message("post-expand-template-inclusion-warning", what))

    def over_limits(self, what: str, frame: Frame) -> str | None:
        self.calls += 1
        if self.calls > self.limits.max_calls:
            return self.error(self.limit_message("node-count-exceeded-warning", what))
        if frame.depth + self.depth >= self.limits.max_depth:
            return self.error(self.limit_message("parser-template-recursion-depth-warning", what,
                                                 str(self.limits.max_depth)))
        if self.produced > self.limits.max_expansion:
            return self.size_error(what)
        return None

    # -- templates -------------------------------------------------------------

    def template(self, node: Template, frame: Frame) -> str:
        raw_name = self.expand(node.parts[0].nodes, frame)
        name = raw_name.strip()
        lowered = name.lower()
        no_wiki = False
        for prefix in ("subst:", "safesubst:", "msgnw:", "msg:", "raw:"):
            if lowered.startswith(prefix):
                name = name[len(prefix):].strip()
                lowered = name.lower()
                no_wiki = no_wiki or prefix == "msgnw:"
        if no_wiki:
            return self.source_of(name)
        head, colon, rest = name.partition(":")
        if colon:
            function = parserfuncs.lookup(head.strip(), self.ctx.config.lang)
            if function is not None:
                return self.call_function(function, head.strip(), rest.strip(), node, frame)
        elif name.lower() in parserfuncs.WITHOUT_ARGUMENTS:  # {{#contentmodel}}: a function with nothing after it
            return self.call_function(parserfuncs.lookup(name), name, "", node, frame)
        if len(node.parts) == 1 or not colon:
            variable = magic.variable(self.ctx, name)
            if variable is not None:
                return variable
        return self.transclude(name, node, frame)

    def source_of(self, name: str) -> str:
        """``{{msgnw:X}}``: the template's wikitext shown as text (wfEscapeWikiText), not parsed."""
        target = self.state.page_name(name, NS_TEMPLATE)
        if target is None or not target.full:
            return magic.escape_wikitext("{{msgnw:" + name + "}}")
        self.state.templates[target.full] = None
        body = self.body(target.full)
        return magic.escape_wikitext(body if body is not None else f"[[:{target.full}]]")

    def function_named(self, head: str):
        """The parser function ``{{head:...}}`` calls, or None (for Lua's ``callParserFunction``)."""
        return parserfuncs.lookup(head, self.ctx.config.lang)

    def page_frame(self) -> Frame:
        """A frame for the page itself, as ``expand_page`` makes it."""
        return Frame(self.ctx.title, None)

    def call_function(self, function, head: str, first: str, node: Template, frame: Frame) -> str:
        stop = self.over_limits(head, frame)
        if stop is not None:
            return stop
        self.depth += 1
        try:
            text = function(self, frame, first, node.parts[1:])
        finally:
            self.depth -= 1
        self.produced += len(text)
        return text

    def transclude(self, name: str, node: Template, frame: Frame) -> str:
        namespace = NS_TEMPLATE
        if subpages.is_relative(name):  # {{/Child}}: a subpage of this page, not a template
            own = self.state.page_name(self.ctx.title)
            if own is not None and own.ns in self.ctx.subpage_namespaces:
                resolved, _ = subpages.resolve(self.ctx.title, name)
                if resolved != name:
                    name, namespace = resolved, 0
        target = self.state.page_name(name, namespace) if name else None
        if target is None or not target.full:
            return self.literal(node, frame)
        title = target.full
        if target.ns == NS_SPECIAL:  # {{Special:Search}}: a node runs no special page, so a link to it
            return f"[[:{title}]]"
        self.state.templates[title] = None
        stop = self.over_limits(title, frame)
        if stop is not None:
            return stop
        if frame.has_loop(title):
            return self.loop_error(title)
        body = self.body(title)
        for _ in range(_REDIRECT_HOPS):
            # A template that is a redirect transcludes its target, as in MediaWiki.
            hop = redirect_target(self.ctx.config, body) if body and body.lstrip().startswith("#") else None
            if hop is None:
                break
            title = hop.full
            self.state.templates[title] = None
            if frame.has_loop(title):
                return self.loop_error(title)
            body = self.body(title)
        if body is None and target.ns == NS_MEDIAWIKI:
            body = messages.message(target.text, self.ctx.config.lang)  # {{MediaWiki:Edit}}: MediaWiki's message
        if body is None:
            return self.missing(title, target.text, node, frame)
        plain = len(node.parts) == 1
        if plain and title in self.plain_calls:
            return self.plain_calls[title]
        tree = self.trees.get(title)
        if tree is None:
            tree = self.trees[title] = preprocess(include_filter(body, transcluded=True), self.extra_tags)
        child = Frame(title, frame, self.arguments(node.parts[1:], frame), frame.depth + 1)
        text = self.expand(tree, child)
        self.produced += len(text)
        if plain:
            self.plain_calls[title] = text
        return text

    def body(self, title: str) -> str | None:
        if title not in self.bodies:
            try:
                self.bodies[title] = self.ctx.template(title)
            except Exception as exc:  # a failing store shows as a missing template, not a broken page
                self.state.error(f"Could not read {title}: {exc}")
                self.bodies[title] = None
        return self.bodies[title]

    def arguments(self, parts: list[Part], frame: Frame) -> dict[str, tuple[list, bool, Frame]]:
        # Values are expanded later in the caller's frame, so it travels with them.
        args: dict[str, tuple[list, bool, Frame]] = {}
        index = 0
        for part in parts:
            if part.eq >= 0:
                args[self.expand(part.name_nodes(), frame).strip()] = (part.value_nodes(), True, frame)
            else:
                index += 1
                args[str(index)] = (part.nodes, False, frame)
        return args

    def argument(self, node: Argument, frame: Frame) -> str:
        name = self.expand(node.parts[0].nodes, frame).strip()
        value = self.argument_value(frame, name)
        if value is not None:
            return value
        if len(node.parts) > 1:
            return self.expand(node.parts[1].nodes, frame)
        return "{{{" + name + "}}}"

    def argument_value(self, frame: Frame, name: str) -> str | None:
        """Argument ``name`` of ``frame``'s call, expanded once, or None when not given."""
        if name in frame.values:
            return frame.values[name]
        given = frame.args.get(name)
        if given is None:
            return None
        nodes, named, caller = given
        value = self.expand(nodes, caller)
        frame.values[name] = value = value.strip() if named else value
        return value

    def missing(self, title: str, text: str, node: Template, frame: Frame) -> str:
        named = [p for p in node.parts[1:] if p.eq >= 0]
        if text.lower().startswith("infobox") or (len(named) >= 3 and not self.in_note):
            return self.infobox(text, named, frame)
        return self.state.strip.add(f'<span class="tpl-missing" title="{escape_attr(title)}"></span>')

    def infobox(self, name: str, named: list[Part], frame: Frame) -> str:
        """A generic key/value box for an infobox-like template the store lacks."""
        rows = [f'\n{{| class="infobox tpl-absent"\n|+ {escape_text(name)}\n']
        for part in named:
            key = self.expand(part.name_nodes(), frame).strip()
            value = self.expand(part.value_nodes(), frame).strip()
            if value.startswith(_BLOCK_START):
                value = "\n" + value  # a nested table or list must begin its own line
            if key and value:
                rows.append(f"|-\n! {escape_text(key)}\n| {value}\n")
        rows.append("|}\n")
        return "".join(rows)
