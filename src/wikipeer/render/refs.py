"""Footnotes: ``<ref>`` marks and ``<references/>`` lists, as the Cite extension makes them.

Notes are numbered per group in the order their first mark is expanded; a
named note used again keeps its number. A list takes the notes of its group
so far; notes left with no list are appended at the end of the page, as
MediaWiki does. Note texts are rendered (links, bold...) when the lists are
put in, after the page's own passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from wikipeer.render import language_data, messages
from wikipeer.render.langtags import direction
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
    direction: str = ""  # dir="ltr|rtl|auto" of the note's text, from its first definition that has one
    problem: str = ""  # the key of a Cite error shown after the note's text (a second text, a numeric name)


@dataclass(slots=True)
class Refs:
    """The notes of one page and the lists that show them."""

    strip: StripState
    lang: str = "en"
    inline: Callable[[str], str] = lambda text: escape_text(text)
    defining: bool = False
    notes: dict[str, list[Note]] = field(default_factory=dict)  # group -> notes not yet listed
    named: dict[tuple[str, str], Note] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    ids: int = 0

    def ref(self, attrs: dict[str, str], content: str | None) -> str:
        """The mark for one ``<ref>`` (nothing when it only defines a note's text)."""
        group, name = attrs.get("group", ""), attrs.get("name", "").strip()
        numeric = name.isdigit()
        if numeric:  # a plain number is no name (it would clash with the notes' numbers): a note of its own
            name = ""
        if not name and not self.defining:
            if content is None:  # <ref />: nothing to show and no name to find it by
                return self.strip.add(_error(self.lang, "no_key"))
            if not content.strip():
                return self.strip.add(_error(self.lang, "no_input"))
        content = (content.strip() or None) if content is not None else None  # blank defines nothing
        note = self.named.get((group, name)) if name else None
        if note is not None and note.content is None and content:
            note.content = content
        elif note is not None and content and content != note.content and not note.problem:
            note.problem = "duplicate"  # Cite keeps the first text and says so in the list
        direction = attrs.get("dir", "").strip().lower()
        direction = direction if direction in ("ltr", "rtl", "auto") else ""
        if self.defining:
            if note is None and name:
                self.named[(group, name)] = self._new(group, name, content)
            return ""
        if note is None:
            note = self._new(group, name, content)
            if name:
                self.named[(group, name)] = note
            if numeric:
                note.problem = "numeric"
        if direction and (not note.direction or content):
            note.direction = direction  # the full definition's dir wins over a reuse's
        note.uses += 1
        number = local_digits(str(note.number), self.lang)
        label = f"{group} {number}" if group else number
        mark = _mark_id(note, note.uses - 1)
        return self.strip.add(
            f'<sup id="{mark}" class="reference"><a href="#cite_note-{note.key}">{_BRACKET_OPEN}{escape_text(label)}'
            f'{_BRACKET_CLOSE}</a></sup>'
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
        return self.strip.add(lambda: self.render_list(notes, group), block=True)

    def leftovers(self) -> str:
        """The list of plain notes no ``<references/>`` took, for the end of the page.

        As Cite does, only the unnamed group is listed on its own; a named
        group without its list is an error.
        """
        out = []
        for group in list(self.notes):
            if not self.notes[group]:
                continue
            if group:
                self.notes.pop(group)
                out.append(self.strip.add(_error(self.lang, "group", group=escape_text(group)), block=True))
            else:
                out.append(self.references(group))
        return "".join("\n" + item for item in out)

    def render_list(self, notes: list[Note], group: str = "") -> str:
        if not notes:
            return ""
        items = [self._item(note) for note in sorted(notes, key=lambda n: n.number)]
        named = f' data-mw-group="{escape_attr(group)}"' if group else ""
        return f'<div class="mw-references-wrap"><ol class="references"{named}>\n' + "\n".join(items) + "\n</ol></div>"

    def _item(self, note: Note) -> str:
        if note.uses <= 1:
            back = f'<a href="#{_mark_id(note, 0)}">↑</a>'
        else:
            # Cite's default labels: the note's number, a decimal point, the use (2.0, 2.1...).
            point = _DECIMAL_COMMA.get(self.lang, ".")
            back = "↑ " + " ".join(
                f'<sup><a href="#{_mark_id(note, k)}">{local_digits(f"{note.number}{point}{k}", self.lang)}</a></sup>'
                for k in range(min(note.uses, 200))
            )
        if note.content is None:
            text = _error(self.lang, "no_text", name=escape_text(note.name))
        else:
            text = self.inline(note.content)
            if note.problem:
                text += " " + _error(self.lang, note.problem, name=escape_text(note.name))
        direction = f' class="mw-cite-dir-{note.direction}"' if note.direction else ""
        return (
            f'<li id="cite_note-{escape_attr(note.key)}"{direction}><span class="mw-cite-backlink">{back}</span> '
            f'<span class="reference-text">{text}</span>\n</li>'
        )


# Cite wraps a mark's brackets so a skin can hide them (cite_reference_link's markup).
_BRACKET_OPEN = '<span class="cite-bracket">[</span>'
_BRACKET_CLOSE = '<span class="cite-bracket">]</span>'
_DECIMAL_COMMA = {"vi": ",", "uk": ",", "ru": ",", "de": ",", "fr": ",", "es": ","}
_REF = "<code>&lt;ref&gt;</code>"
# Cite's error messages, in the languages of our samples (visible text, so fidelity counts them).
_MESSAGES = {
    "en": {"no_text": f"Cite error: Invalid {_REF} tag; no text was provided for refs named <code>{{name}}</code>",
           "group": f"Cite error: {_REF} tags exist for a group named \"{{group}}\", but no corresponding "
                    "<code>&lt;references group=\"{group}\"/&gt;</code> tag was found",
           "no_key": f"Cite error: The opening {_REF} tag is malformed or has a bad name.",
           "no_input": f"Cite error: Invalid {_REF} tag; refs with no name must have content.",
           "duplicate": f"Cite error: Invalid {_REF} tag; name \"{{name}}\" defined multiple times with different content.",
           "numeric": f"Cite error: Invalid {_REF} tag; name cannot be a simple integer. Use a descriptive title."},
    "vi": {"no_text": f"Lỗi chú thích: Thẻ {_REF} sai; không có nội dung trong thẻ ref có tên <code>{{name}}</code>"},
    "uk": {"no_text": f"Помилка цитування: Неправильний виклик тегу {_REF}: для виносок під назвою "
                      "<code>{name}</code> не вказано текст"},
    "ja": {"no_text": f"引用エラー: 無効な {_REF} タグです。「<code>{{name}}</code>」という名前の注釈に対するテキストが指定されていません",
           "group": f"引用エラー: 「{{group}}」という名前のグループの {_REF} タグがありますが、対応する "
                    "<code>&lt;references group=\"{group}\"/&gt;</code> タグが見つかりません"},
    "mr": {"no_text": f"चुका उधृत करा: {_REF} चुकीचा कोड; <code>{{name}}</code> नावाने दिलेल्या संदर्भांमध्ये काहीही माहिती नाही"},
}


# MediaWiki's message keys of the errors above, for the languages the table lacks (render/messages.py).
_CITE_KEYS = {"no_text": "cite_error_references_no_text", "group": "cite_error_group_refs_without_references",
              "no_key": "cite_error_ref_no_key", "no_input": "cite_error_ref_no_input",
              "duplicate": "cite_error_references_duplicate_key", "numeric": "cite_error_ref_numeric_key"}


def _from_language_data(lang: str, key: str) -> str | None:
    """Cite's error in ``lang`` from MediaWiki's messages (a format string like the table's), or None."""
    wrapper, body = messages.message("cite_error", lang), messages.message(_CITE_KEYS[key], lang)
    if lang == "en" or wrapper is None or body is None:
        return None
    text = wrapper.replace("$1", body).replace("{", "{{").replace("}", "}}")
    return text.replace("$1", "{group}" if key == "group" else "{name}")


def _message(lang: str, key: str) -> str:
    return _MESSAGES.get(lang, {}).get(key) or _from_language_data(lang, key) or _MESSAGES["en"][key]


def _error(lang: str, key: str, **values: str) -> str:
    """A Cite error in place, marked with the language it is written in (English when ours lacks it)."""
    local = key in _MESSAGES.get(lang, {}) or _from_language_data(lang, key) is not None
    shown = lang if local else "en"
    message = _message(lang, key).format(**values)
    return f'<span class="error mw-ext-cite-error" dir="{direction(shown)}" lang="{shown}">{message}</span>'


def local_digits(text: str, lang: str) -> str:
    """Digits as the wiki's language writes them (MediaWiki's digit table: ১ on bnwiki, ० on mrwiki)."""
    return language_data.language(lang).local_digits(text)


def _id_part(name: str) -> str:
    return re.sub(r"\s+", "_", name)


def _mark_id(note: Note, use: int) -> str:
    # Cite's ids: note cite_note-NAME-N, its marks cite_ref-NAME_N-USE (an underscore, not a hyphen)
    return escape_attr(f"cite_ref-{_id_part(note.name)}_{note.key.rsplit('-', 1)[1]}-{use}" if note.name
                       else f"cite_ref-{note.key}")
