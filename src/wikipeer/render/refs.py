"""Footnotes: ``<ref>`` marks and ``<references/>`` lists, as the Cite extension makes them.

Notes are numbered per group in the order their first mark is expanded; a
named note used again keeps its number. A list takes the notes of its group
so far; notes left with no list are appended at the end of the page, as
MediaWiki does. Note texts are rendered (links, bold...) when the lists are
put in, after the page's own passes.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from wikipeer.render.strip import StripState
from wikipeer.render.tags import escape_attr, escape_text


@dataclass(slots=True)
class Note:
    """One footnote; a named note may have several marks (uses)."""

    key: str
    number: int
    group: str
    content: str | None
    name: str = ""
    uses: int = 0


@dataclass(slots=True)
class Refs:
    """The notes of one page and the lists that show them."""

    strip: StripState
    inline: Callable[[str], str] = lambda text: escape_text(text)
    defining: bool = False
    notes: dict[str, list[Note]] = field(default_factory=dict)  # group -> notes not yet listed
    named: dict[tuple[str, str], Note] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    ids: int = 0

    def ref(self, attrs: dict[str, str], content: str | None) -> str:
        """The mark for one ``<ref>`` (nothing when it only defines a note's text)."""
        group, name = attrs.get("group", ""), attrs.get("name", "").strip()
        content = content.strip() if content is not None else None
        note = self.named.get((group, name)) if name else None
        if note is not None and note.content is None and content:
            note.content = content
        if self.defining:
            if note is None and name:
                self.named[(group, name)] = self._new(group, name, content)
            return ""
        if note is None:
            note = self._new(group, name, content)
            if name:
                self.named[(group, name)] = note
        note.uses += 1
        label = f"{group} {note.number}" if group else str(note.number)
        mark = _mark_id(note, note.uses - 1)
        return self.strip.add(
            f'<sup id="{mark}" class="reference"><a href="#cite_note-{note.key}">[{escape_text(label)}]</a></sup>'
        )

    def _new(self, group: str, name: str, content: str | None) -> Note:
        self.ids += 1
        self.counters[group] = self.counters.get(group, 0) + 1
        key = f"{_id_part(name)}-{self.ids}" if name else str(self.ids)
        note = Note(key, self.counters[group], group, content, name)
        self.notes.setdefault(group, []).append(note)
        return note

    def references(self, group: str) -> str:
        """The marker of a list of the group's notes so far."""
        notes = self.notes.pop(group, [])
        for note in notes:
            self.named.pop((group, note.name), None)
        return self.strip.add(lambda: self.render_list(notes), block=True)

    def leftovers(self) -> str:
        """Lists for notes no ``<references/>`` took, for the end of the page."""
        return "".join("\n" + self.references(group) for group in list(self.notes) if self.notes[group])

    def render_list(self, notes: list[Note]) -> str:
        if not notes:
            return ""
        items = [self._item(note) for note in sorted(notes, key=lambda n: n.number)]
        return '<div class="mw-references-wrap"><ol class="references">\n' + "\n".join(items) + "\n</ol></div>"

    def _item(self, note: Note) -> str:
        if note.uses <= 1:
            back = f'<a href="#{_mark_id(note, 0)}">↑</a>'
        else:
            letters = string.ascii_lowercase
            back = "↑ " + " ".join(
                f'<sup><a href="#{_mark_id(note, k)}">{letters[k % 26] * (k // 26 + 1)}</a></sup>'
                for k in range(min(note.uses, 200))
            )
        if note.content is None:
            text = '<span class="error">Cite error: no text was given for this note</span>'
        else:
            text = self.inline(note.content)
        return (
            f'<li id="cite_note-{escape_attr(note.key)}"><span class="mw-cite-backlink">{back}</span> '
            f'<span class="reference-text">{text}</span>\n</li>'
        )


def _id_part(name: str) -> str:
    return re.sub(r"\s+", "_", name)


def _mark_id(note: Note, use: int) -> str:
    return escape_attr(f"cite_ref-{note.key}-{use}" if note.name else f"cite_ref-{note.key}")
