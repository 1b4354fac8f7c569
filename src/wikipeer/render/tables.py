"""Wikitext tables (``{| |- | || ! !! |+ |}``) to HTML table tags.

A line-by-line port of MediaWiki's ``Parser::handleTables``: cells may span
lines, tables nest, and what the table syntax leaves open is closed at the
end, so the output is always balanced.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from wikipeer.render.tags import fix_attributes

_TABLE_START = re.compile(r"^(:*)\s*\{\|(.*)$")
MAX_NESTING = 30  # tables open at once; a deeper "{|" is text (HTML parsers slow down with depth)


def tables(text: str, attribute_text: Callable[[str], str] = str) -> str:
    """``text`` with its wikitext tables turned into HTML (``attribute_text``: as for ``sanitize_tags``)."""
    if "{|" not in text:
        return text
    return _Tables(attribute_text).run(text)


_MARKUP = re.compile(r"<[^<>]*>")


def _outside_tags(line: str, change) -> str:
    """``line`` with ``change`` applied to the text between tags only."""
    out, pos = [], 0
    for m in _MARKUP.finditer(line):
        out.append(change(line[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(change(line[pos:]))
    return "".join(out)


def _split_cells(line: str) -> list[str]:
    """``line`` split at ``||`` outside tags (MediaWiki's explodeMarkup): ``<div title="a||b">`` is one cell."""
    if "<" not in line:
        return line.split("||")
    return _outside_tags(line, lambda part: part.replace("||", "\x00")).split("\x00")


class _Tables:
    def __init__(self, attribute_text: Callable[[str], str]) -> None:
        self.attribute_text = attribute_text
        self.td: list[bool] = []
        self.tr: list[bool] = []
        self.last_tag: list[str] = []
        self.tr_attrs: list[str] = []
        self.opened_tr: list[bool] = []
        self.indents: list[int] = []

    def run(self, text: str) -> str:
        out: list[str] = []
        for raw in text.split("\n"):
            line = raw.strip()
            if not line:
                out.append(raw)
                continue
            start = _TABLE_START.match(line) if "{|" in line[:40] else None
            if start and len(self.td) < MAX_NESTING:
                out.append(self.open(start))
            elif not self.td:
                out.append(raw)
            elif line.startswith("|}"):
                out.append(self.close(line[2:]))
            elif line.startswith("|-"):
                out.append(self.row(line))
            elif line[0] in "|!":
                out.append(self.cells(line))
            else:
                out.append(raw)
        unclosed = bool(self.td)
        while self.td:
            out.append(self.close("").rstrip())
        result = "\n".join(out)
        # MediaWiki's special case: a text that is only an unclosed, empty table ("{||}") gives nothing
        return "" if unclosed and result == "<table>\n<tr><td></td></tr></table>" else result

    def open(self, m: re.Match) -> str:
        indent = len(m.group(1))
        self.indents.append(indent)
        self.td.append(False)
        self.last_tag.append("")
        self.tr.append(False)
        self.tr_attrs.append("")
        self.opened_tr.append(False)
        return "<dl><dd>" * indent + f"<table{fix_attributes(self.attribute_text(m.group(2)), 'table')}>"

    def close(self, rest: str) -> str:
        line = "</table>" + rest
        last = self.last_tag.pop()
        if not self.opened_tr.pop():
            line = "<tr><td></td></tr>" + line
        if self.tr.pop():
            line = "</tr>" + line
        if self.td.pop():
            line = f"</{last}>" + line
        self.tr_attrs.pop()
        indent = self.indents.pop()
        return line.rstrip() + "</dd></dl>" * indent if indent else line

    def row(self, line: str) -> str:
        attrs = fix_attributes(self.attribute_text(line.lstrip("|").lstrip("-")), "tr")
        self.tr_attrs[-1] = attrs
        self.opened_tr[-1] = True
        out = ""
        last = self.last_tag.pop()
        if self.tr.pop():
            out = "</tr>"
        if self.td.pop():
            out = f"</{last}>" + out
        self.tr.append(False)
        self.td.append(False)
        self.last_tag.append("")
        return out

    def cells(self, line: str) -> str:
        kind = line[0]
        if line.startswith("|+"):
            kind, line = "+", line[2:]
        else:
            line = line[1:]
        if kind == "!":
            line = _outside_tags(line, lambda part: part.replace("!!", "||"))  # MediaWiki's replaceMarkup
        tag = {"|": "td", "!": "th", "+": "caption"}[kind]
        out: list[str] = []
        for cell in _split_cells(line):
            previous = ""
            if kind != "+":
                attrs = self.tr_attrs.pop()
                if not self.tr.pop():
                    previous = f"<tr{attrs}>\n"
                self.tr.append(True)
                self.tr_attrs.append("")
                self.opened_tr[-1] = True
            last = self.last_tag.pop()
            if self.td.pop():
                previous = f"</{last}>\n" + previous
            self.last_tag.append(tag)
            head, bar, data = cell.partition("|")
            if not bar or "[[" in head or "-{" in head:
                out.append(f"{previous}<{tag}>{cell.strip()}")
            else:
                out.append(f"{previous}<{tag}{fix_attributes(self.attribute_text(head), tag)}>{data.strip()}")
            self.td.append(True)
        return "".join(out)
