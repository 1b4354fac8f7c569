"""Paragraphs, lists and indented preformatted text, as MediaWiki's ``BlockLevelPass``.

Line prefixes ``* # : ;`` open and close nested lists (``;term : definition``
on one line too); a line starting with a space is preformatted; other runs
of lines become paragraphs, except lines holding block-level HTML, which
MediaWiki leaves unwrapped, and so do we (recognised by the same patterns).
"""

from __future__ import annotations

import re

from wikipeer.render.strip import BLOCK_PREFIX

# Today's BlockLevelPass: block elements suppress paragraphs inside them (open), table cells outside
# them, and tr, dt, dd and li (either tag) always; center, blockquote, div and hr never do (close).
# <figure> (our thumbnails) is a block like MediaWiki's, set-aside block HTML closes too.
_BLOCK_ELEMENTS = "table|h1|h2|h3|h4|h5|h6|pre|p|ul|ol|dl"
_OPEN = re.compile(r"<(?:(?:%s|figure)|/(?:td|th)|/?(?:tr|dt|dd|li))\b" % _BLOCK_ELEMENTS, re.I)
_CLOSE = re.compile(
    r"<(?:/(?:%s|figure)|(?:td|th)|/?(?:center|blockquote|div|hr|mw:))\b|" % _BLOCK_ELEMENTS
    + re.escape(BLOCK_PREFIX), re.I)
_BLOCKQUOTE = re.compile(r"<(/?)blockquote[\s>]", re.I)
MAX_LIST_DEPTH = 16  # list levels; further prefix characters are text (HTML parsers slow down with depth)
_PREFIX = re.compile(r"[*#:;]{0,%d}" % MAX_LIST_DEPTH)


class _Pass:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.last_paragraph = ""  # "p", "pre" or ""
        self.dt_open = False

    def close_paragraph(self) -> str:
        if self.last_paragraph:
            text = f"</{self.last_paragraph}>\n"
            self.last_paragraph = ""
            return text
        return ""

    def open_list(self, char: str) -> str:
        result = self.close_paragraph()
        if char == "*":
            return result + "<ul><li>"
        if char == "#":
            return result + "<ol><li>"
        if char == ":":
            return result + "<dl><dd>"
        self.dt_open = True
        return result + "<dl><dt>"

    def next_item(self, char: str) -> str:
        if char in "*#":
            return "</li>\n<li>"
        close = "</dt>\n" if self.dt_open else "</dd>\n"
        if char == ";":
            self.dt_open = True
            return close + "<dt>"
        self.dt_open = False
        return close + "<dd>"

    def close_list(self, char: str) -> str:
        if char == "*":
            return "</li></ul>"
        if char == "#":
            return "</li></ol>"
        if self.dt_open:
            self.dt_open = False
            return "</dt></dl>"
        return "</dd></dl>"


def _split_term(text: str) -> tuple[str, str] | None:
    """``term : definition`` on a ``;`` line: the first colon outside any element (MediaWiki's findColonNoLinks).

    Links are HTML by now, so the colon of ``[[Help:FAQ]]`` or ``http://`` is inside an
    ``<a>`` and does not count; neither does one inside ``<b>...</b>`` or a comment.
    """
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == ":" and depth == 0:
            return text[:i], text[i + 1:]
        if ch != "<":
            i += 1
            continue
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            i = n if end < 0 else end + 3
            continue
        end = text.find(">", i + 1)
        if end < 0:
            return None  # an unfinished tag: MediaWiki finds no colon after it either
        tag = text[i + 1:end]
        if tag.startswith("/"):
            depth = max(depth - 1, 0)
        elif tag and not tag.endswith("/"):
            depth += 1
        i = end + 1
    return None


def block_levels(text: str) -> str:
    """``text`` with paragraphs, lists and preformatted blocks in HTML."""
    state = _Pass()
    out = state.out
    last_prefix = ""
    in_pre = in_block = in_blockquote = False
    pending_p: str | None = None
    lines = text.split("\n")
    prefix = ""
    for number, line in enumerate(lines):
        last_line = number == len(lines) - 1
        lowered = line.lower() if "<" in line else ""
        pre_open = "<pre" in lowered
        pre_close = "</pre" in lowered
        if not in_pre:
            prefix = _PREFIX.match(line).group(0) if line[:1] in "*#:;" and line else ""
            prefix2 = prefix.replace(";", ":")
            t = line[len(prefix):]
            in_pre = pre_open
        else:
            prefix = prefix2 = ""
            t = line
        if prefix and last_prefix == prefix2:
            out.append(state.next_item(prefix[-1]))
            pending_p = None
            if prefix[-1] == ";":
                split = _split_term(t)
                if split:
                    out.append(split[0] + state.next_item(":"))
                    t = split[1]
        elif prefix or last_prefix:
            common = 0
            # the raw prefix against the last one (";" as ":"), as MediaWiki's getCommon: ":;" and "::" share one
            while common < min(len(prefix), len(last_prefix)) and prefix[common] == last_prefix[common]:
                common += 1
            pending_p = None
            for k in range(len(last_prefix) - 1, common - 1, -1):
                out.append(state.close_list(last_prefix[k]))
            if len(prefix) <= common and common > 0:
                out.append(state.next_item(prefix[common - 1]))
            if state.dt_open and common > 0 and prefix[common - 1] == ":":
                out.append(state.next_item(":"))
            if last_prefix and len(prefix) > common:
                out.append("\n")
            while len(prefix) > common:
                char = prefix[common]
                out.append(state.open_list(char))
                if char == ";":
                    split = _split_term(t)
                    if split:
                        out.append(split[0] + state.next_item(":"))
                        t = split[1]
                common += 1
            if not prefix and last_prefix:
                out.append("\n")
            last_prefix = prefix2
        if not prefix:
            open_match = "<" in t and _OPEN.search(t)
            close_match = ("<" in t or "\x7f" in t) and _CLOSE.search(t)
            if open_match or close_match:
                pending_p = None
                out.append(state.close_paragraph())
                if pre_open and not pre_close:
                    in_pre = True
                if "lockquote" in t or "LOCKQUOTE" in t:
                    for m in _BLOCKQUOTE.finditer(t):
                        in_blockquote = not m.group(1)
                in_block = not close_match
            elif not in_block and not in_pre:
                if t[:1] == " " and (state.last_paragraph == "pre" or t.strip()) and not in_blockquote:
                    if state.last_paragraph != "pre":
                        pending_p = None
                        out.append(state.close_paragraph() + "<pre>")
                        state.last_paragraph = "pre"
                    t = t[1:]
                elif not t.strip():
                    if pending_p is not None:
                        out.append(pending_p + "<br />")
                        pending_p = None
                        state.last_paragraph = "p"
                    elif state.last_paragraph != "p":
                        out.append(state.close_paragraph())
                        pending_p = "<p>"
                    else:
                        pending_p = "</p><p>"
                elif pending_p is not None:
                    out.append(pending_p)
                    pending_p = None
                    state.last_paragraph = "p"
                elif state.last_paragraph != "p":
                    out.append(state.close_paragraph() + "<p>")
                    state.last_paragraph = "p"
        if pre_close and in_pre:
            in_pre = False
        if pending_p is None:
            out.append(t)
            if not prefix and (not last_line or state.last_paragraph):  # MediaWiki: or a paragraph is open
                out.append("\n")
    for k in range(len(last_prefix) - 1, -1, -1):
        out.append(state.close_list(last_prefix[k]))
        if k == 0:
            out.append("\n")
    if state.last_paragraph:
        out.append(f"</{state.last_paragraph}>")
    return "".join(out)
