"""A deliberately small wikitext renderer for the read-only page.

It escapes everything first and then recognises only headings, bold, italic,
internal links, lists and paragraphs. The full renderer is a later issue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import quote

_LINK = re.compile(r"\[\[([^\[\]|]+)(?:\|([^\[\]]*))?\]\]")
_HEADING = re.compile(r"^(={2,6})\s*(.+?)\s*\1\s*$")


def _inline(text: str, href: Callable[[str], str]) -> str:
    def link(m: re.Match) -> str:
        target, label = html.unescape(m.group(1).strip()), m.group(2)
        if target.lower().startswith("category:"):
            return ""
        return f'<a href="{html.escape(href(target), quote=True)}">{label or html.escape(target)}</a>'

    text = _LINK.sub(link, text)
    text = re.sub(r"'''(.+?)'''", r"<b>\1</b>", text)
    return re.sub(r"''(.+?)''", r"<i>\1</i>", text)


def render(source: str, href: Callable[[str], str]) -> str:
    """HTML for ``source``; ``href`` turns a link target into a URL."""
    out: list[str] = []
    para: list[str] = []
    in_list = False

    def flush() -> None:
        nonlocal in_list
        if para:
            out.append("<p>" + " ".join(para) + "</p>")
            para.clear()
        if in_list:
            out.append("</ul>")
            in_list = False

    for raw in html.escape(source, quote=False).splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2), href)}</h{level}>")
        elif line.startswith(("*", "#")):
            if para:
                out.append("<p>" + " ".join(para) + "</p>")
                para.clear()
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append("<li>" + _inline(line.lstrip("*#: "), href) + "</li>")
        elif not line.strip():
            flush()
        else:
            if in_list:
                out.append("</ul>")
                in_list = False
            para.append(_inline(line, href))
    flush()
    return "\n".join(out)


def page_href(wiki: str) -> Callable[[str], str]:
    return lambda target: f"/wiki/{quote(wiki)}/{quote(target.replace(' ', '_'))}"
